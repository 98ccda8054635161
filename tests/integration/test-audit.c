/*
 * The audit trail: a hash chain across records, files and servers, a
 * second copy of each head in syslog, rotation that keeps the chain, and
 * an offline verifier that names the first break of every kind.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/chain.h"
#include "common/util.h"
#include "tests/integration/harness.h"

static char	tmpdir[64];

/* Run "dispatch-mcp-audit ARGS"; return the exit status, keep stdout. */
static int
audit_cmd(char **out, const char *fmt, ...)
{
	char	 cmd[4096], args[3000], buf[65536];
	va_list	 ap;
	FILE	*f;
	size_t	 n;
	int	 st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", audit_bin_path(), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	st = pclose(f);
	if (out != NULL)
		*out = strdup(buf);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A log with some history: three dispatches, one refusal. */
static void
make_log(const char *path)
{
	char		 env0[600];
	const char	*env[] = { env0, NULL };
	struct srv	*s;
	struct json_object *r;
	int		 i;

	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	for (i = 0; i < 3; i++)
		json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes",
		    "nash", "t"), 10000));
	r = srv_call(s, "dispatch_unit", "{\"orguser\":\"reid-max\","
	    "\"repo\":\"nash\",\"task_description\":\"x\"}");
	json_object_put(r);
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
}

static char *
line_of(const char *path, int n)
{
	char	*buf = read_file(path, NULL), *p = buf, *nl, *out;
	int	 i;

	assert_non_null(buf);
	for (i = 1; i < n; i++)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	out = strndup(p, (size_t)(nl - p));
	free(buf);
	return (out);
}

static void
test_chain_links(void **state)
{
	char		 path[128], *a, *b, hash[CHAIN_HEX + 1], prev[CHAIN_HEX + 1];
	char		*out;
	uint64_t	 seq;
	int		 i;

	snprintf(path, sizeof path, "%s/chain.jsonl", tmpdir);
	make_log(path);
	/* Seven records: three dispatches, three exits, one refusal. */
	for (i = 1; i <= 7; i++) {
		a = line_of(path, i);
		assert_int_equal(chain_parse(a, strlen(a), &seq, prev), 0);
		assert_int_equal(seq, (uint64_t)i);
		if (i == 1)
			assert_string_equal(prev, CHAIN_GENESIS);
		else {
			b = line_of(path, i - 1);
			chain_hash(b, strlen(b), hash);
			assert_string_equal(prev, hash);
			free(b);
		}
		free(a);
	}
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "ok: 7 records in 1 file, seq 1 to 7"));
	free(out);
}

/* Rewrite a copy of the log with one change; verify must name it. */
static void
tampered(const char *how, int want_rc, const char *want_msg)
{
	char	src[128], dst[128], cmd[512], *out;

	snprintf(src, sizeof src, "%s/clean.jsonl", tmpdir);
	snprintf(dst, sizeof dst, "%s/tampered.jsonl", tmpdir);
	if (access(src, F_OK) != 0)
		make_log(src);
	snprintf(cmd, sizeof cmd, "%s < '%s' > '%s'", how, src, dst);
	assert_int_equal(system(cmd), 0);
	if (audit_cmd(&out, "verify '%s'", dst) != want_rc ||
	    strstr(out, want_msg) == NULL)
		fail_msg("%s: wanted %d and '%s', got: %s", how, want_rc,
		    want_msg, out);
	free(out);
}

static void
test_tamper_one_byte(void **state)
{
	/* A changed returncode still parses: only the chain shows it. */
	tampered("sed '3s/\"orguser\":\"nash-forbes\"/\"orguser\":\"nash-forbez\"/'",
	    1, "tampered.jsonl:4: prev is not the SHA-256 of the record "
	    "before it");
}

static void
test_tamper_delete_line(void **state)
{
	tampered("sed '3d'", 1, "tampered.jsonl:3: seq 4 where 3 was due");
}

static void
test_tamper_reorder(void **state)
{
	tampered("awk 'NR == 2 { l = $0; next } NR == 3 { print; print l; "
	    "next } { print }'", 1,
	    "tampered.jsonl:2: seq 3 where 2 was due");
}

static void
test_tamper_truncate(void **state)
{
	/* Cut mid-line: what a crash leaves, and said to be that. */
	tampered("head -c -20", 2, "torn last line");
}

static void
test_tamper_splice(void **state)
{
	char	a[128], b[128], cmd[512], *out;

	snprintf(a, sizeof a, "%s/splice-a.jsonl", tmpdir);
	snprintf(b, sizeof b, "%s/splice-b.jsonl", tmpdir);
	make_log(a);
	make_log(b);
	/* Two logs run together: the join does not link. */
	snprintf(cmd, sizeof cmd, "head -n 4 '%s' > '%s/spliced.jsonl'; "
	    "tail -n 3 '%s' >> '%s/spliced.jsonl'", a, tmpdir, b, tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(&out, "verify '%s/spliced.jsonl'", tmpdir),
	    1);
	/* Line 5 is b's record 5, whose prev is b's record 4. */
	assert_non_null(strstr(out, "spliced.jsonl:5: prev is not the SHA-256"));
	free(out);
}

static void
test_torn_tail_repaired(void **state)
{
	char		 path[128], cmd[512], env0[600], *out;
	const char	*env[] = { env0, NULL };
	struct srv	*s;

	snprintf(path, sizeof path, "%s/torn.jsonl", tmpdir);
	make_log(path);
	/* A crash mid-write... */
	snprintf(cmd, sizeof cmd, "printf '{\"seq\":8,\"pre' >> '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(NULL, "verify '%s'", path), 2);
	/* ...and the next server removes it and carries on. */
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(srv_close(s, 10000), 0);
	assert_non_null(strstr(srv_stderr(s), "removing a torn record"));
	srv_free(s);
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "seq 1 to 9"));
	free(out);
}

static void
test_concurrent_servers(void **state)
{
	char		 path[128], env0[600], *out;
	const char	*env[] = { env0, NULL };
	struct srv	*s[8];
	char		 line[512];
	int		 i, j, got;
	struct json_object *r;

	snprintf(path, sizeof path, "%s/shared.jsonl", tmpdir);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	for (i = 0; i < 8; i++)
		s[i] = srv_start_init(env);
	/* Eight servers, ten dispatches each, all at once. */
	for (j = 0; j < 10; j++) {
		for (i = 0; i < 8; i++) {
			snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\","
			    "\"id\":%d,\"method\":\"tools/call\",\"params\":"
			    "{\"name\":\"dispatch_unit\",\"arguments\":{"
			    "\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
			    "\"task_description\":\"from %d\"}}}", j, i);
			srv_send(s[i], line);
		}
	}
	for (i = 0; i < 8; i++) {
		for (got = 0; got < 10; got++) {
			r = srv_recv(s[i], 20000);
			assert_non_null(r);
			assert_false(result_is_error(r));
			json_object_put(r);
		}
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(srv_close(s[i], 20000), 0);
		srv_free(s[i]);
	}
	/* 80 dispatches and 80 exits in one linear chain. */
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "ok: 160 records in 1 file, seq 1 to "
	    "160, chain intact"));
	free(out);
}

static void
test_syslog_mirror_and_truncation(void **state)
{
	struct sockaddr_un	 sun;
	char			 path[128], sock[128], export[128], env0[600];
	char			 env1[600], buf[1024], *out, cmd[512];
	const char		*env[] = { env0, env1, NULL };
	struct srv		*s;
	FILE			*f;
	ssize_t			 n;
	int			 fd, heads = 0;

	snprintf(path, sizeof path, "%s/mirrored.jsonl", tmpdir);
	snprintf(sock, sizeof sock, "%s/log.sock", tmpdir);
	snprintf(export, sizeof export, "%s/syslog.txt", tmpdir);
	/* Our own syslog: a datagram socket we read. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sock, sizeof sun.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	snprintf(env1, sizeof env1, "DISPATCH_SYSLOG_SOCKET=%s", sock);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
	/* Sent from inside the sandbox, one per record, as LOG_AUTHPRIV. */
	f = fopen(export, "w");
	while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		assert_memory_equal(buf, "<86>dispatch-mcp[", 17);
		assert_non_null(strstr(buf, "audit head seq="));
		fprintf(f, "Nov 25 00:00:00 host %s\n", buf + 4);
		heads++;
	}
	fclose(f);
	close(fd);
	assert_int_equal(heads, 4);
	assert_int_equal(audit_cmd(&out, "verify --syslog '%s' '%s'", export,
	    path), 0);
	assert_non_null(strstr(out, "matches syslog"));
	free(out);
	/* Cut the last whole record: only the second copy shows it. */
	snprintf(cmd, sizeof cmd, "sed -i '$d' '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(NULL, "verify '%s'", path), 0);
	assert_int_equal(audit_cmd(&out, "verify --syslog '%s' '%s'", export,
	    path), 1);
	assert_non_null(strstr(out, "the log was cut short"));
	free(out);
	/* Cut the first record: alone it looks like a continued log... */
	snprintf(cmd, sizeof cmd, "sed -i '1d' '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "continuing a log not given here"));
	free(out);
	/* ...but syslog remembers seq 1. */
	assert_int_equal(audit_cmd(&out, "verify --syslog '%s' '%s'", export,
	    path), 1);
	assert_non_null(strstr(out, "cut from the start"));
	free(out);
}

static void
rotation(int with_signal)
{
	char		 path[128], old[160], env0[600], *out, *a, *b;
	char		 hash[CHAIN_HEX + 1], prev[CHAIN_HEX + 1];
	const char	*env[] = { env0, NULL };
	struct srv	*s;
	uint64_t	 seq;

	snprintf(path, sizeof path, "%s/rot%d.jsonl", tmpdir, with_signal);
	snprintf(old, sizeof old, "%s.1", path);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	/* logrotate: rename, then (perhaps) SIGHUP. */
	assert_int_equal(rename(path, old), 0);
	if (with_signal)
		kill(s->pid, SIGHUP);
	sleep_ms(100);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
	/* The new file's first record links to the old file's head. */
	a = line_of(old, 2);
	b = line_of(path, 1);
	chain_hash(a, strlen(a), hash);
	assert_int_equal(chain_parse(b, strlen(b), &seq, prev), 0);
	assert_int_equal(seq, 3);
	assert_string_equal(prev, hash);
	free(a);
	free(b);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 0);
	assert_non_null(strstr(out, "ok: 4 records in 2 files"));
	free(out);
	/* Alone, the new file says it continues another. */
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "continuing a log not given here"));
	free(out);
}

static void
test_rotation_sighup(void **state)
{
	rotation(1);
}

static void
test_rotation_new_inode(void **state)
{
	rotation(0);
}

/* A server started after logrotate continues the rotated file's chain. */
static void
test_rotation_new_server(void **state)
{
	char		 path[128], old[160], *out;

	snprintf(path, sizeof path, "%s/rot-new.jsonl", tmpdir);
	snprintf(old, sizeof old, "%s.1", path);
	make_log(path);
	assert_int_equal(rename(path, old), 0);
	make_log(path);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 0);
	assert_non_null(strstr(out, "ok: 14 records in 2 files, seq 1 to 14"));
	free(out);
}

/*
 * Two servers share a log that is rotated under them: the new file links
 * to the old file's real head, whichever server wrote it, and a lane
 * still running across the rotation has its exit in the new file.
 */
static void
test_rotation_two_servers(void **state)
{
	char			 path[128], old[160], env0[600], *out, *a, *b;
	char			 hash[CHAIN_HEX + 1], prev[CHAIN_HEX + 1];
	char			 slow[64];
	const char		*env[] = { env0, NULL };
	struct srv		*s[2];
	uint64_t		 seq;
	int			 i;

	snprintf(path, sizeof path, "%s/rot-two.jsonl", tmpdir);
	snprintf(old, sizeof old, "%s.1", path);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	for (i = 0; i < 2; i++)
		s[i] = srv_start_init(env);
	/* Seq 1-4, two by each server; then a lane that outlives the file. */
	for (i = 0; i < 2; i++)
		json_object_put(wait_final(s[i], dispatch_ok(s[i],
		    "nash-forbes", "nash", "t"), 10000));
	strlcpy(slow, dispatch_ok(s[1], "nash-forbes", "nash", "sleep 1"),
	    sizeof slow);
	assert_int_equal(rename(path, old), 0);
	/* Server 0 writes the new file first; server 1 has seq 5 there. */
	json_object_put(wait_final(s[0], dispatch_ok(s[0], "nash-forbes",
	    "nash", "t"), 10000));
	json_object_put(wait_final(s[1], slow, 10000));
	for (i = 0; i < 2; i++) {
		assert_int_equal(srv_close(s[i], 10000), 0);
		srv_free(s[i]);
	}
	a = line_of(old, 5);
	b = line_of(path, 1);
	chain_hash(a, strlen(a), hash);
	assert_int_equal(chain_parse(b, strlen(b), &seq, prev), 0);
	assert_int_equal(seq, 6);
	assert_string_equal(prev, hash);
	free(a);
	free(b);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 0);
	assert_non_null(strstr(out, "ok: 8 records in 2 files, seq 1 to 8"));
	free(out);
	/* The new file alone: the slow lane's exit is a note, not a break. */
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "dispatched before the first record"));
	free(out);
}

/* Write these lines again as a chain from its start, bodies unchanged. */
static void
rechain(const char *path, char *const *lines, const int *order, int n)
{
	char		 hash[CHAIN_HEX + 1] = CHAIN_GENESIS, *out;
	const char	*body;
	FILE		*f;
	int		 i;

	assert_non_null(f = fopen(path, "w"));
	for (i = 0; i < n; i++) {
		body = strstr(lines[order[i]], "\"prev\":\"");
		assert_non_null(body);
		body += strlen("\"prev\":\"") + CHAIN_HEX + 2;
		assert_true(asprintf(&out, "{\"seq\":%d,\"prev\":\"%s\",%s",
		    i + 1, hash, body) > 0);
		fprintf(f, "%s\n", out);
		chain_hash(out, strlen(out), hash);
		free(out);
	}
	assert_int_equal(fclose(f), 0);
}

/* A cancel follows its dispatch and comes before its exit. */
static void
test_cancel_pairing(void **state)
{
	char			 path[128], bad[160], env0[600], args[128];
	char			*out, *lines[3], h[64];
	const char		*env[] = { env0, NULL };
	static const int	 after_exit[] = { 0, 2, 1 }, orphan[] = { 1, 2 };
	struct json_object	*r;
	struct srv		*s;
	int			 i;

	snprintf(path, sizeof path, "%s/cancel.jsonl", tmpdir);
	snprintf(bad, sizeof bad, "%s/cancel-bad.jsonl", tmpdir);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	strlcpy(h, dispatch_ok(s, "nash-forbes", "nash", "sleep 30"),
	    sizeof h);
	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", h);
	r = srv_call(s, "dispatch_cancel", args);
	assert_false(result_is_error(r));
	json_object_put(r);
	r = wait_final(s, h, 10000);
	assert_string_equal(jget_str(result_struct(r), "status"), "cancelled");
	json_object_put(r);
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "ok: 3 records in 1 file"));
	free(out);

	for (i = 0; i < 3; i++)
		lines[i] = line_of(path, i + 1);
	assert_non_null(strstr(lines[1], "\"event\":\"cancel\""));
	rechain(bad, lines, after_exit, 3);
	assert_int_equal(audit_cmd(&out, "verify '%s'", bad), 1);
	assert_non_null(strstr(out, "cancel-bad.jsonl:3: cancel of"));
	assert_non_null(strstr(out, "after its exit"));
	free(out);
	rechain(bad, lines, orphan, 2);
	assert_int_equal(audit_cmd(&out, "verify '%s'", bad), 1);
	assert_non_null(strstr(out, "cancel-bad.jsonl:1: cancel of"));
	assert_non_null(strstr(out, "which has no dispatch record"));
	free(out);
	for (i = 0; i < 3; i++)
		free(lines[i]);
}

/*
 * A log emptied under a running server (copytruncate, or by hand): the
 * next record follows the server's last one, so the loss is a gap.
 */
static void
test_emptied_in_place(void **state)
{
	char		 path[128], env0[600], *a, prev[CHAIN_HEX + 1];
	const char	*env[] = { env0, NULL };
	struct srv	*s;
	uint64_t	 seq;

	snprintf(path, sizeof path, "%s/emptied.jsonl", tmpdir);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(truncate(path, 0), 0);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(srv_close(s, 10000), 0);
	assert_non_null(strstr(srv_stderr(s), "emptied in place"));
	srv_free(s);
	a = line_of(path, 1);
	assert_int_equal(chain_parse(a, strlen(a), &seq, prev), 0);
	assert_int_equal(seq, 3);
	assert_string_not_equal(prev, CHAIN_GENESIS);
	free(a);
}

/*
 * After a rename, a path that cannot be opened refuses dispatches: no
 * record goes to the old file behind the new one's back.
 */
static void
test_unopenable_after_rotation(void **state)
{
	char		 path[128], old[160], env0[600], *out;
	const char	*env[] = { env0, NULL };
	struct srv	*s;
	struct json_object *r;

	snprintf(path, sizeof path, "%s/unopenable.jsonl", tmpdir);
	snprintf(old, sizeof old, "%s.1", path);
	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", path);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	r = srv_call(s, "dispatch_unit", "{\"orguser\":\"nash-forbes\","
	    "\"repo\":\"nash\",\"task_description\":\"t\"}");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "audit log cannot be written"));
	json_object_put(r);
	/* Once the path can be opened again, the chain goes on. */
	assert_int_equal(rmdir(path), 0);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 0);
	assert_non_null(strstr(out, "ok: 4 records in 2 files, seq 1 to 4"));
	free(out);
}

/* A torn tail in an older file hides nothing in the newer ones. */
static void
test_torn_old_file_then_tamper(void **state)
{
	char	path[128], old[160], cmd[512], *out;

	snprintf(path, sizeof path, "%s/torn-rot.jsonl", tmpdir);
	snprintf(old, sizeof old, "%s.1", path);
	make_log(path);
	assert_int_equal(rename(path, old), 0);
	make_log(path);
	snprintf(cmd, sizeof cmd, "printf '{\"seq\":99' >> '%s' && "
	    "sed -i '1s/\"nash\"/\"nosh\"/' '%s'", old, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 1);
	assert_non_null(strstr(out, "torn last line"));
	assert_non_null(strstr(out, "torn-rot.jsonl:2: prev is not"));
	free(out);
	/* Torn alone, with the rest intact: status 2. */
	snprintf(cmd, sizeof cmd, "sed -i '1s/\"nosh\"/\"nash\"/' '%s'",
	    path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_cmd(&out, "verify '%s' '%s'", old, path), 2);
	assert_non_null(strstr(out, "chain intact but for torn lines"));
	free(out);
}

static void
test_show(void **state)
{
	char			 path[128], *out, *line, *save = NULL;
	struct json_object	*o;
	int			 n = 0;

	snprintf(path, sizeof path, "%s/show.jsonl", tmpdir);
	make_log(path);
	assert_int_equal(audit_cmd(&out, "show '%s'", path), 0);
	assert_non_null(strstr(out, "dispatch"));
	assert_non_null(strstr(out, "nash-forbes/nash"));
	assert_non_null(strstr(out, "rejected"));
	free(out);
	/* --json is jq-ready: one record per line. */
	assert_int_equal(audit_cmd(&out, "show --json '%s'", path), 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(o = json_tokener_parse(line));
		json_object_put(o);
		n++;
	}
	assert_int_equal(n, 7);
	free(out);
	assert_int_equal(audit_cmd(&out, "show --json --since 2999-01-01 '%s'",
	    path), 0);
	assert_string_equal(out, "");
	free(out);
}

/*
 * The server no longer reads logs: "dispatch-mcp audit" says where the
 * reader went, in one line, and runs nothing.
 */
static void
test_server_points_to_tool(void **state)
{
	char	 path[128], cmd[512], buf[4096];
	FILE	*f;
	size_t	 n;
	int	 st;

	snprintf(path, sizeof path, "%s/moved.jsonl", tmpdir);
	make_log(path);
	snprintf(cmd, sizeof cmd, "'%s' audit verify '%s' 2>&1", bin_path(),
	    path);
	assert_non_null(f = popen(cmd, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_non_null(strstr(buf, "dispatch-mcp-audit verify"));
	assert_null(strstr(buf, "ok: "));
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

/* dispatch-mcp-audit alone: the same checks, and its own usage. */
static void
test_tool_verify(void **state)
{
	char	path[128], *out;

	snprintf(path, sizeof path, "%s/tool.jsonl", tmpdir);
	make_log(path);
	assert_int_equal(audit_cmd(&out, "verify '%s'", path), 0);
	assert_non_null(strstr(out, "ok: 7 records in 1 file, seq 1 to 7, "
	    "chain intact"));
	free(out);
	assert_int_equal(audit_cmd(&out, "%s", ""), 3);
	assert_non_null(strstr(out, "usage: dispatch-mcp-audit verify"));
	free(out);
	assert_int_equal(audit_cmd(&out, "verify --bogus '%s'", path), 3);
	free(out);
}

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dispatch-audit.XXXXXX");
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return (system(cmd) == 0 ? 0 : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_links),
		cmocka_unit_test(test_tamper_one_byte),
		cmocka_unit_test(test_tamper_delete_line),
		cmocka_unit_test(test_tamper_reorder),
		cmocka_unit_test(test_tamper_truncate),
		cmocka_unit_test(test_tamper_splice),
		cmocka_unit_test(test_torn_tail_repaired),
		cmocka_unit_test(test_concurrent_servers),
		cmocka_unit_test(test_syslog_mirror_and_truncation),
		cmocka_unit_test(test_rotation_sighup),
		cmocka_unit_test(test_rotation_new_inode),
		cmocka_unit_test(test_rotation_new_server),
		cmocka_unit_test(test_rotation_two_servers),
		cmocka_unit_test(test_emptied_in_place),
		cmocka_unit_test(test_unopenable_after_rotation),
		cmocka_unit_test(test_torn_old_file_then_tamper),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_server_points_to_tool),
		cmocka_unit_test(test_tool_verify),
		cmocka_unit_test(test_cancel_pairing),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
