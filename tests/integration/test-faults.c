/*
 * Faults: either process killed mid-burst, the client going away in the
 * middle of things, an audit log that stops taking writes, lanes that
 * misbehave at scale, and a server killed outright while dispatching.
 * Nothing accepted may be lost or left unaudited, and nothing may hang.
 */
#include "config.h"

#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
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

#include "common/util.h"
#include "tests/integration/harness.h"

/* ASan's shadow memory and quarantine are not ours to count. */
#ifdef DISPATCH_NO_SANDBOX
#define RSS_SLACK	8
#else
#define RSS_SLACK	1
#endif

static void
burst(struct srv *s, int n, int first_id)
{
	char	line[128];
	int	i;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"method\":\"ping\"}", first_id + i);
		srv_send(s, line);
	}
}

/* Read until EOF: every line must be JSON (srv_recv dies otherwise). */
static int
drain_all(struct srv *s, int *errors)
{
	struct json_object	*r;
	int			 n = 0;

	while ((r = srv_recv(s, 10000)) != NULL) {
		if (jget(r, "error") != NULL)
			(*errors)++;
		n++;
		json_object_put(r);
	}
	return (n);
}

static void
test_broker_killed_mid_burst(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	char		 h[64], *pidtxt, line[512];
	pid_t		 lane;
	int		 st, errors = 0, i;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 30"));
	for (i = 0; i < 200 && srv_count_files(s, ".started") < 1; i++)
		sleep_ms(50);
	/* A long-poll in flight, and a burst behind it. */
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":9000,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":"
	    "\"dispatch_result\",\"arguments\":{\"handle\":\"%s\","
	    "\"wait_seconds\":30}}}", h);
	srv_send(s, line);
	burst(s, 2000, 1);
	sleep_ms(200);
	kill(s->pid, SIGKILL);
	drain_all(s, &errors);
	/* The frontend noticed, said so, and went; nothing hangs. */
	st = srv_wait(s, 10000);
	assert_true(WIFSIGNALED(st));
	/* The long-poll, which waited on the broker, got an error. */
	assert_true(errors >= 1);
	assert_non_null(strstr(srv_stderr(s), "peer closed the channel"));
	/* The lane ran with its record already on disk. */
	assert_int_equal(audit_count(s, "dispatch"), 1);
	/* And its leader did not outlive the broker. */
	pidtxt = srv_file(s, h, "pid", NULL);
	assert_non_null(pidtxt);
	lane = (pid_t)atol(pidtxt);
	free(pidtxt);
	for (i = 0; i < 100 && pid_alive(lane); i++)
		sleep_ms(50);
	assert_false(pid_alive(lane));
	srv_free(s);
}

static void
test_frontend_killed_mid_burst(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	pid_t		 fe = srv_frontend_pid(s);
	char		 h[64];
	int		 st;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 30"));
	burst(s, 2000, 1);
	kill(fe, SIGKILL);
	st = srv_wait(s, 15000);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(srv_stderr(s), "frontend killed by SIGKILL"));
	/* Its lane was ended and audited, not orphaned. */
	assert_int_equal(audit_count(s, "exit"), 1);
	srv_free(s);
}

static void
test_stdin_closed_mid_message(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	int		 st;

	srv_send_raw(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"meth", 27);
	st = srv_close(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(srv_stderr(s), "stdin closed inside a message"));
	srv_free(s);
}

static void
test_stdout_closed_by_client(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	int		 st;

	/* The client stops reading for good; the server must not spin. */
	close(s->out);
	s->out = open("/dev/null", 0);
	burst(s, 100, 1);
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	srv_free(s);
}

static void
test_audit_log_fills_up(void **state)
{
	struct srv		*s;
	struct json_object	*r, *args;
	char			 args_txt[256];
	int			 refused = 0, i;

	/* The log may grow to 3000 bytes and no further. */
	harness_fsize = 3000;
	s = srv_start_init(NULL);
	for (i = 0; i < 10; i++) {
		args = json_object_new_object();
		json_object_object_add(args, "orguser",
		    json_object_new_string("nash-forbes"));
		json_object_object_add(args, "repo",
		    json_object_new_string("nash"));
		json_object_object_add(args, "task_description",
		    json_object_new_string("a task long enough to fill the "
		    "audit log before long, one record at a time"));
		r = srv_call(s, "dispatch_unit",
		    json_object_to_json_string(args));
		json_object_put(args);
		if (result_is_error(r)) {
			assert_non_null(strstr(result_text(r),
			    "audit log cannot be written"));
			refused++;
		}
		json_object_put(r);
	}
	assert_true(refused > 0);
	/* Whatever ran has its record; whatever was refused never ran. */
	for (i = 0; i < 100 && srv_count_files(s, ".started") <
	    audit_count(s, "dispatch"); i++)
		sleep_ms(50);
	assert_int_equal(srv_count_files(s, ".started"),
	    audit_count(s, "dispatch"));
	r = srv_call(s, "dispatch_list", "{}");
	assert_int_equal(jget_int(result_struct(r), "count"), 10 - refused);
	/* An accepted dispatch still answers status and result. */
	snprintf(args_txt, sizeof args_txt, "{\"handle\":\"%s\","
	    "\"wait_seconds\":10}", jget_str(json_object_array_get_idx(
	    jget(result_struct(r), "dispatches"), 0), "handle"));
	json_object_put(r);
	r = srv_call(s, "dispatch_result", args_txt);
	assert_false(result_is_error(r));
	assert_string_not_equal(jget_str(result_struct(r), "status"),
	    "running");
	json_object_put(r);
	r = srv_request(s, "ping", NULL);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	srv_free(s);
}

static void
test_gigabyte_of_output(void **state)
{
	const char		*env[] = { "DISPATCH_TIMEOUT=120", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r;
	const char		*d;
	char			 h[64];

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "big 1000000000"));
	r = wait_final(s, h, 110000);
	assert_string_equal(jget_str(result_struct(r), "status"), "succeeded");
	d = jget_str(result_struct(r), "detail");
	assert_true(strlen(d) <= 65536);
	assert_non_null(strstr(d, "yyyyEND"));
	json_object_put(r);
	assert_true(rss_kib(s->pid) < 32 * 1024 * RSS_SLACK);
	srv_free(s);
}

static int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return (n);
}

static void
test_fork_bomb_is_bounded(void **state)
{
	const char		*env[] = { "DISPATCH_LANE_NPROC=40",
				    "DISPATCH_TIMEOUT=3", NULL };
	struct srv		*s;
	struct json_object	*r;
	char			 h[64], dir[600];
	int			 forks;

	/* The kernel does not hold root to RLIMIT_NPROC: run as nobody. */
	if (geteuid() != 0)
		skip();
	harness_uid = 65534;
	s = srv_start_init(env);
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "forkbomb"));
	r = wait_final(s, h, 20000);
	/* The shell gives up when fork fails, or the timeout ends it. */
	assert_string_not_equal(jget_str(result_struct(r), "status"),
	    "running");
	json_object_put(r);
	snprintf(dir, sizeof dir, "%s/lanes/%s.forks", s->dir, h);
	forks = count_entries(dir);
	/* Some started, and far fewer than asked for. */
	assert_true(forks > 0 && forks < 40);
	srv_free(s);
}

static void
test_thousand_in_flight(void **state)
{
	const char		*env[] = { "DISPATCH_MAX_RUNNING=1000", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r, *recs, *rec;
	char			 line[512], cursor[32];
	const char		*next;
	int			 i, got = 0, finals, exits = 0, pages, listed, n;
	size_t			 k;
	long			 rss;

	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":"
		    "\"dispatch_unit\",\"arguments\":{\"orguser\":"
		    "\"nash-forbes\",\"repo\":\"nash\",\"task_description\":"
		    "\"sleep 3\"}}}", 10000 + i);
		srv_send(s, line);
	}
	while (got < 1000 && (r = srv_recv(s, 60000)) != NULL) {
		assert_false(result_is_error(r));
		got++;
		json_object_put(r);
	}
	assert_int_equal(got, 1000);
	/* With a thousand lanes running, ping still answers. */
	r = srv_request(s, "ping", NULL);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	rss = rss_kib(s->pid);
	assert_true(rss > 0 && rss < 64 * 1024 * RSS_SLACK);
	/* Every one ends, with its exit record. */
	for (i = 0; i < 600; i++) {
		r = srv_call(s, "dispatch_list", "{\"cursor\":\"o0\"}");
		json_object_put(r);
		if (audit_count(s, "exit") == 1000)
			break;
		sleep_ms(100);
	}
	recs = audit_records(s);
	for (k = 0; k < json_object_array_length(recs); k++) {
		rec = json_object_array_get_idx(recs, k);
		if (strcmp(jget_str(rec, "event"), "exit") == 0) {
			exits++;
			assert_string_equal(jget_str(rec, "status"),
			    "succeeded");
		}
	}
	json_object_put(recs);
	finals = exits;
	assert_int_equal(finals, 1000);
	/* dispatch_list pages through all of them, 100 at a time. */
	snprintf(cursor, sizeof cursor, "o0");
	for (pages = 0, listed = 0; pages < 20; pages++) {
		snprintf(line, sizeof line, "{\"cursor\":\"%s\"}", cursor);
		r = srv_call(s, "dispatch_list", line);
		rec = result_struct(r);
		n = (int)json_object_array_length(jget(rec, "dispatches"));
		assert_int_equal(jget_int(rec, "count"), n);
		assert_int_equal(jget_int(rec, "total"), 1000);
		listed += n;
		next = jget_str(rec, "next_cursor");
		if (next == NULL) {
			json_object_put(r);
			break;
		}
		assert_int_equal(n, 100);
		snprintf(cursor, sizeof cursor, "%s", next);
		json_object_put(r);
	}
	assert_int_equal(pages, 9);
	assert_int_equal(listed, 1000);
	srv_free(s);
}

/*
 * ping is answered at any time: past the limit of requests waiting on
 * the broker, new tool calls are refused at once, not left unread.
 * And two string ids that differ only after a NUL are two requests.
 */
static void
test_ping_past_the_inflight_limit(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *e, *id;
	char			 h[64], line[512];
	int			 i, busy = 0, got_ping = 0, ok = 0;
	uint64_t		 t0;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 20"));
	for (i = 0; i < 2; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":"
		    "\"a\\u0000%c\",\"method\":\"tools/call\",\"params\":{"
		    "\"name\":\"dispatch_result\",\"arguments\":{\"handle\":"
		    "\"%s\",\"wait_seconds\":1}}}", 'b' + i, h);
		srv_send(s, line);
	}
	for (i = 0; i < 2; i++) {
		r = srv_recv(s, 10000);
		assert_non_null(r);
		assert_null(jget(r, "error"));
		assert_false(result_is_error(r));
		id = jget(r, "id");
		assert_int_equal(json_object_get_string_len(id), 3);
		ok |= 1 << (json_object_get_string(id)[2] - 'b');
		json_object_put(r);
	}
	assert_int_equal(ok, 3);
	/* 1030 long-polls: 1024 wait on the broker, 6 are refused. */
	for (i = 0; i < 1030; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":"
		    "\"dispatch_result\",\"arguments\":{\"handle\":\"%s\","
		    "\"wait_seconds\":30}}}", 20000 + i, h);
		srv_send(s, line);
	}
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	t0 = now_ms();
	while (!got_ping && (r = srv_recv(s, 5000)) != NULL) {
		if ((e = jget(r, "error")) != NULL) {
			assert_int_equal(jget_int(e, "code"), -32000);
			assert_non_null(strstr(jget_str(e, "message"),
			    "busy"));
			busy++;
		} else if (json_object_is_type(jget(r, "id"),
		    json_type_string))
			got_ping = 1;
		json_object_put(r);
	}
	assert_true(got_ping);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(busy, 6);
	/* Cancelled long-polls give their places back at once. */
	for (i = 0; i < 1030; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"method\":"
		    "\"notifications/cancelled\",\"params\":{\"requestId\":"
		    "%d}}", 20000 + i);
		srv_send(s, line);
	}
	snprintf(line, sizeof line, "{\"handle\":\"%s\"}", h);
	t0 = now_ms();
	while ((r = srv_call(s, "dispatch_status", line)) != NULL &&
	    jget(r, "error") != NULL && now_ms() - t0 < 5000) {
		json_object_put(r);
		sleep_ms(50);
	}
	assert_non_null(r);
	assert_null(jget(r, "error"));
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	json_object_put(r);
	assert_true(now_ms() - t0 < 5000);
	srv_free(s);
}

/* Wait until some lane has written its audited mark, or ms pass. */
static void
wait_audited(struct srv *s, int ms)
{
	char		 dir[600];
	DIR		*d;
	struct dirent	*e;
	uint64_t	 t0 = now_ms();
	size_t		 n;

	snprintf(dir, sizeof dir, "%s/lanes", s->dir);
	while (now_ms() - t0 < (uint64_t)ms) {
		if ((d = opendir(dir)) != NULL) {
			while ((e = readdir(d)) != NULL) {
				n = strlen(e->d_name);
				if (n > 8 && strcmp(e->d_name + n - 8,
				    ".audited") == 0) {
					closedir(d);
					return;
				}
			}
			closedir(d);
		}
		sleep_ms(2);
	}
}

static void
test_nothing_lost_on_kill(void **state)
{
	const char	*env[] = { "DISPATCH_MAX_RUNNING=200", NULL };
	struct srv	*s = srv_start_init(env);
	char		 line[1400], *a, *buf, *p, out[4096];
	pid_t		 fe = srv_frontend_pid(s);
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	char		 dir[600];
	size_t		 len;
	int		 i, st, started = 0, lines = 0;

	for (i = 0; i < 200; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":"
		    "\"dispatch_unit\",\"arguments\":{\"orguser\":"
		    "\"nash-forbes\",\"repo\":\"nash\",\"task_description\":"
		    "\"sleep 20\"}}}", i);
		srv_send(s, line);
		if (i == 60) {
			/* Mid-burst, once a first lane has got going. */
			wait_audited(s, 5000);
			/* The whole server, at once. */
			kill(s->pid, SIGKILL);
			kill(fe, SIGKILL);
			break;
		}
	}
	srv_wait(s, 10000);
	sleep_ms(500);	/* lanes already spawned get to their first line */
	snprintf(dir, sizeof dir, "%s/lanes", s->dir);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n < 8 || strcmp(e->d_name + n - 8, ".audited") != 0)
			continue;
		started++;
		snprintf(line, sizeof line, "%s/%s", dir, e->d_name);
		a = read_file(line, NULL);
		/* Its record was on disk before its first instruction. */
		assert_string_equal(a, "1\n");
		free(a);
	}
	closedir(d);
	assert_true(started > 0);
	/* The log is JSON Lines; at most a torn last line. */
	buf = read_file(s->audit, &len);
	assert_non_null(buf);
	assert_true(len == 0 || buf[len - 1] == '\n');
	for (p = strtok(buf, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		struct json_object *o = json_tokener_parse(p);

		assert_non_null(o);
		json_object_put(o);
		lines++;
	}
	assert_true(lines >= started);
	free(buf);
	/* And the verifier finds the chain whole, or whole but torn. */
	snprintf(line, sizeof line, "'%s' verify '%s' 2>&1", audit_bin_path(),
	    s->audit);
	assert_non_null(f = popen(line, "r"));
	len = fread(out, 1, sizeof out - 1, f);
	out[len] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 2)
		fail_msg("audit verify: %s", out);
	assert_true(strstr(out, "ok: ") != NULL || strstr(out, "torn: ") !=
	    NULL);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broker_killed_mid_burst),
		cmocka_unit_test(test_frontend_killed_mid_burst),
		cmocka_unit_test(test_stdin_closed_mid_message),
		cmocka_unit_test(test_stdout_closed_by_client),
		cmocka_unit_test(test_audit_log_fills_up),
		cmocka_unit_test(test_gigabyte_of_output),
		cmocka_unit_test(test_fork_bomb_is_bounded),
		cmocka_unit_test(test_thousand_in_flight),
		cmocka_unit_test(test_ping_past_the_inflight_limit),
		cmocka_unit_test(test_nothing_lost_on_kill),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
