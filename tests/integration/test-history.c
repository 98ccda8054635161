/*
 * Handles that outlive their server: a second server on the same audit
 * log answers dispatch_status, dispatch_result and dispatch_list for the
 * dispatches of the first, after a clean exit and after SIGKILL, says
 * lost for one whose server died before its end, running for one whose
 * server still runs, and gives a clear error for records someone edited.
 */
#include "config.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define LOST_TEXT "the server that ran it ended without recording its end"

/* A second server on the first one's log. */
static struct srv *
srv_on_log(struct srv *first)
{
	char		 env0[400];
	/* Without cgroups a dead server's running lane stays "lost"; with
	 * them the next server closes it as orphaned (test-cgroup). */
	const char	*env[] = { env0, "DISPATCH_CGROUP=none", NULL };

	snprintf(env0, sizeof env0, "DISPATCH_AUDIT_LOG=%s", first->audit);
	return (srv_start_init(env));
}

static struct json_object *
call_handle(struct srv *s, const char *tool, const char *h)
{
	char	args[128];

	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", h);
	return (srv_call(s, tool, args));
}

/* The structured answer as text, to compare two servers' answers whole. */
static char *
answer(struct srv *s, const char *tool, const char *h)
{
	struct json_object	*r = call_handle(s, tool, h);
	char			*text;

	assert_non_null(r);
	if (result_is_error(r))
		fail_msg("%s %s: %s", tool, h, result_text(r));
	text = strdup(json_object_to_json_string_ext(result_struct(r),
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	return (text);
}

static void
kill_server(struct srv *s, int broker_only)
{
	char	 path[64], *buf, *p, *end;
	long	 pid;

	if (!broker_only) {
		snprintf(path, sizeof path, "/proc/%ld/task/%ld/children",
		    (long)s->pid, (long)s->pid);
		buf = read_file(path, NULL);
		for (p = buf; p != NULL && *p != '\0'; p = end) {
			pid = strtol(p, &end, 10);
			if (end == p)
				break;
			kill((pid_t)pid, SIGKILL);
		}
		free(buf);
	}
	kill(s->pid, SIGKILL);
	assert_int_not_equal(srv_wait(s, 5000), -1);
	assert_true(WIFSIGNALED(s->status));
}

static void
restart_after(int how)
{
	const char	*none[] = { "DISPATCH_CGROUP=none", NULL };
	struct srv	*s1 = srv_start_init(none), *s2;
	char		 ok[64], bad[64], run[64], *a1[4], *a2[4];
	struct json_object *r;
	int		 i;

	snprintf(ok, sizeof ok, "%s", dispatch_ok(s1, "nash-forbes", "nash",
	    "hello"));
	snprintf(bad, sizeof bad, "%s", dispatch_ok(s1, "reid-max", "reid",
	    "fail"));
	json_object_put(wait_final(s1, ok, 10000));
	json_object_put(wait_final(s1, bad, 10000));
	a1[0] = answer(s1, "dispatch_result", ok);
	a1[1] = answer(s1, "dispatch_result", bad);
	a1[2] = answer(s1, "dispatch_status", ok);
	a1[3] = answer(s1, "dispatch_status", bad);
	assert_non_null(strstr(a1[0], "\"detail\":\"ok dsp-"));
	assert_non_null(strstr(a1[1], "stale token"));
	snprintf(run, sizeof run, "%s", dispatch_ok(s1, "nash-forbes", "nash",
	    "sleep 30"));
	if (how == 0) {
		/* A clean end: the running lane is wound down and audited. */
		assert_int_equal(srv_close(s1, 10000), 0);
	} else
		kill_server(s1, how == 2);

	s2 = srv_on_log(s1);
	a2[0] = answer(s2, "dispatch_result", ok);
	a2[1] = answer(s2, "dispatch_result", bad);
	a2[2] = answer(s2, "dispatch_status", ok);
	a2[3] = answer(s2, "dispatch_status", bad);
	for (i = 0; i < 4; i++) {
		assert_string_equal(a1[i], a2[i]);
		free(a1[i]);
		free(a2[i]);
	}
	r = call_handle(s2, "dispatch_result", run);
	if (how == 0) {
		assert_string_equal(jget_str(result_struct(r), "status"),
		    "failed");
		assert_non_null(strstr(jget_str(result_struct(r), "detail"),
		    "shutting down"));
	} else {
		assert_string_equal(jget_str(result_struct(r), "status"),
		    "lost");
		assert_string_equal(jget_str(result_struct(r), "detail"),
		    LOST_TEXT);
		assert_true(json_object_is_type(jget(result_struct(r),
		    "returncode"), json_type_null));
		assert_true(json_object_is_type(jget(result_struct(r),
		    "finished_at"), json_type_null));
	}
	json_object_put(r);
	r = call_handle(s2, "dispatch_status", run);
	assert_string_equal(jget_str(result_struct(r), "status"),
	    how == 0 ? "failed" : "lost");
	json_object_put(r);
	/* An earlier server's dispatch is final: nothing to cancel. */
	{
		char	want[256];

		r = call_handle(s2, "dispatch_cancel", run);
		assert_true(result_is_error(r));
		snprintf(want, sizeof want, "dispatch %s was already final "
		    "(%s); there is nothing to cancel", run,
		    how == 0 ? "failed" : "lost");
		assert_string_equal(result_text(r), want);
		json_object_put(r);
	}
	/* Unknown to both the session and the log: as before. */
	r = call_handle(s2, "dispatch_status",
	    "dsp-00000000000000000000000000000000");
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "unknown dispatch handle "
	    "'dsp-00000000000000000000000000000000'");
	json_object_put(r);
	/* The log s2 appends to still verifies as one chain. */
	dispatch_ok(s2, "nash-forbes", "nash", "hello");
	srv_free(s2);
	{
		char	cmd[700];

		snprintf(cmd, sizeof cmd, "%s verify '%s' > /dev/null",
		    audit_bin_path(), s1->audit);
		assert_int_equal(system(cmd), 0);
	}
	srv_free(s1);
}

static void
test_restart_clean(void **state)
{
	restart_after(0);
}

static void
test_restart_after_sigkill(void **state)
{
	restart_after(1);
}

static void
test_restart_after_broker_sigkill(void **state)
{
	restart_after(2);
}

/* A dispatch of a server still running is running, not lost. */
static void
test_other_server_running(void **state)
{
	struct srv		*s1 = srv_start_init(NULL), *s2;
	struct json_object	*r;
	char			 h[64], *a1, *a2;

	snprintf(h, sizeof h, "%s", dispatch_ok(s1, "nash-forbes", "nash",
	    "sleep 2"));
	s2 = srv_on_log(s1);
	r = call_handle(s2, "dispatch_result", h);
	assert_false(result_is_error(r));
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	assert_string_equal(jget_str(result_struct(r), "detail"), "");
	json_object_put(r);
	/* Only the server that runs a lane can end it. */
	r = call_handle(s2, "dispatch_cancel", h);
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "runs under another server"));
	json_object_put(r);
	json_object_put(wait_final(s1, h, 15000));
	a1 = answer(s1, "dispatch_result", h);
	a2 = answer(s2, "dispatch_result", h);
	assert_string_equal(a1, a2);
	assert_non_null(strstr(a2, "\"status\":\"succeeded\""));
	free(a1);
	free(a2);
	srv_free(s2);
	srv_free(s1);
}

/* A cancelled dispatch reads back as cancelled, with its detail. */
static void
test_cancelled_reads_back(void **state)
{
	struct srv		*s1 = srv_start_init(NULL), *s2;
	struct json_object	*r;
	char			 h[64], *a1, *a2;

	snprintf(h, sizeof h, "%s", dispatch_ok(s1, "nash-forbes", "nash",
	    "sleep 30"));
	r = call_handle(s1, "dispatch_cancel", h);
	assert_false(result_is_error(r));
	json_object_put(r);
	json_object_put(wait_final(s1, h, 15000));
	a1 = answer(s1, "dispatch_result", h);
	assert_non_null(strstr(a1, "\"status\":\"cancelled\""));
	assert_int_equal(srv_close(s1, 5000), 0);
	s2 = srv_on_log(s1);
	a2 = answer(s2, "dispatch_result", h);
	assert_string_equal(a1, a2);
	free(a1);
	free(a2);
	srv_free(s2);
	srv_free(s1);
}

/* dispatch_result's wait is at most 50 s, below the clients' 60. */
static void
test_wait_bound(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *t, *tools, *ws;
	char			 args[128];
	const char		*h;
	size_t			 i;

	h = dispatch_ok(s, "nash-forbes", "nash", "hello");
	snprintf(args, sizeof args, "{\"handle\":\"%s\",\"wait_seconds\":"
	    "50.5}", h);
	r = srv_call(s, "dispatch_result", args);
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "wait_seconds must be a number "
	    "from 0 to 50");
	json_object_put(r);
	snprintf(args, sizeof args, "{\"handle\":\"%s\",\"wait_seconds\":50}",
	    h);
	r = srv_call(s, "dispatch_result", args);
	assert_false(result_is_error(r));
	json_object_put(r);
	r = srv_request(s, "tools/list", "{}");
	tools = jget(jget(r, "result"), "tools");
	for (i = 0; i < json_object_array_length(tools); i++) {
		t = json_object_array_get_idx(tools, i);
		if (strcmp(jget_str(t, "name"), "dispatch_result") != 0)
			continue;
		ws = jget(jget(jget(t, "inputSchema"), "properties"),
		    "wait_seconds");
		assert_int_equal(jget_int(ws, "maximum"), 50);
		assert_non_null(strstr(jget_str(t, "description"),
		    "at most 50"));
	}
	json_object_put(r);
	srv_free(s);
}

static char *
log_line_of(const char *path, const char *event, const char *h)
{
	char	*buf = read_file(path, NULL), *line, *save = NULL, *out = NULL;
	char	 ev[64], hk[80];

	snprintf(ev, sizeof ev, "\"event\":\"%s\"", event);
	snprintf(hk, sizeof hk, "\"handle\":\"%s\"", h);
	for (line = strtok_r(buf, "\n", &save); line != NULL && out == NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, ev) != NULL && strstr(line, hk) != NULL)
			out = strdup(line);
	free(buf);
	assert_non_null(out);
	return (out);
}

static void
append(const char *path, const char *text, size_t len)
{
	int	fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Swap the handle in a record line for another (same length). */
static char *
with_handle(const char *line, const char *from, const char *to)
{
	char	*out = strdup(line), *p;

	p = strstr(out, from);
	assert_non_null(p);
	memcpy(p, to, strlen(to));
	return (out);
}

#define H_BADEXIT	"dsp-bad0000000000000000000000000000e"
#define H_BIGDETAIL	"dsp-b190000000000000000000000000000d"
#define H_LOST	"dsp-105700000000000000000000000000aa"
#define H_BADNAME	"dsp-ba0e00000000000000000000000000aa"
#define H_AFTER	"dsp-af7e000000000000000000000000000f"

/*
 * Records someone edited or forged: an error naming the record, or lost;
 * never a crash, a hang or a guess.  A line too long to be ours is
 * skipped, and a torn last line waits to be completed or cut.
 */
static void
test_hostile_log(void **state)
{
	struct srv		*s1 = srv_start_init(NULL), *s2;
	struct json_object	*r;
	char			 h[64], *d, *e, *line, *big, *a1, *a2, *p;
	size_t			 n;

	snprintf(h, sizeof h, "%s", dispatch_ok(s1, "nash-forbes", "nash",
	    "hello"));
	json_object_put(wait_final(s1, h, 10000));
	a1 = answer(s1, "dispatch_result", h);
	assert_int_equal(srv_close(s1, 5000), 0);
	d = log_line_of(s1->audit, "dispatch", h);
	e = log_line_of(s1->audit, "exit", h);

	/* An exit whose status is no status of ours. */
	line = with_handle(d, h, H_BADEXIT);
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\n", 1);
	free(line);
	line = with_handle(e, h, H_BADEXIT);
	memcpy(strstr(line, "\"status\":\"") + 10, "xxxxxxxxx", 9);
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\n", 1);
	free(line);
	/* An exit whose detail passes the 64 KiB a lane's can have. */
	line = with_handle(d, h, H_BIGDETAIL);
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\n", 1);
	free(line);
	line = with_handle(e, h, H_BIGDETAIL);
	*strstr(line, "\"detail\":\"") = '\0';
	n = 70000;
	big = malloc(n + 1);
	memset(big, 'z', n);
	big[n] = '\0';
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\"detail\":\"", 10);
	append(s1->audit, big, n);
	append(s1->audit, "\"}\n", 3);
	free(big);
	free(line);
	/* A dispatch with no exit, of a server that is gone (pid 1 is
	 * alive, but holds no lock on the log). */
	line = with_handle(d, h, H_LOST);
	p = strstr(line, "\"server_pid\":") + 13;
	append(s1->audit, line, (size_t)(p - line));
	append(s1->audit, "1", 1);
	p = strchr(p, ',');
	append(s1->audit, p, strlen(p));
	append(s1->audit, "\n", 1);
	free(line);
	/* A dispatch whose names are no names: the frontend would refuse
	 * a view of it, so the broker must not send one. */
	line = with_handle(d, h, H_BADNAME);
	p = strstr(line, "\"orguser\":\"") + 11;
	append(s1->audit, line, (size_t)(p - line));
	append(s1->audit, "bad name!", 9);
	p = strchr(p, '"');
	append(s1->audit, p, strlen(p));
	append(s1->audit, "\n", 1);
	free(line);
	/* 2 MiB on one line: no record of ours. */
	n = 2 * 1024 * 1024;
	big = malloc(n);
	memset(big, 'q', n);
	append(s1->audit, big, n);
	append(s1->audit, "\n", 1);
	free(big);
	/* A good record after it, then a torn one. */
	line = with_handle(d, h, H_AFTER);
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\n", 1);
	free(line);
	line = with_handle(e, h, H_AFTER);
	append(s1->audit, line, strlen(line));
	append(s1->audit, "\n", 1);
	append(s1->audit, line, strlen(line) / 2);	/* torn, no newline */
	free(line);
	free(d);
	free(e);

	s2 = srv_on_log(s1);
	a2 = answer(s2, "dispatch_result", h);
	assert_string_equal(a1, a2);
	free(a1);
	free(a2);
	r = call_handle(s2, "dispatch_result", H_BADEXIT);
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "the audit log's exit record of "
	    H_BADEXIT " cannot be read: it is not a record this server "
	    "writes");
	json_object_put(r);
	r = call_handle(s2, "dispatch_status", H_BIGDETAIL);
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "exit record of "
	    H_BIGDETAIL));
	json_object_put(r);
	r = call_handle(s2, "dispatch_status", H_BADNAME);
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "the audit log's dispatch record "
	    "of " H_BADNAME " cannot be read: it is not a record this server "
	    "writes");
	json_object_put(r);
	r = call_handle(s2, "dispatch_result", H_LOST);
	assert_string_equal(jget_str(result_struct(r), "status"), "lost");
	json_object_put(r);
	r = call_handle(s2, "dispatch_result", H_AFTER);
	assert_string_equal(jget_str(result_struct(r), "status"),
	    "succeeded");
	json_object_put(r);
	/* Still serving, and its own record cuts the torn line off. */
	dispatch_ok(s2, "nash-forbes", "nash", "hello");
	r = srv_request(s2, "ping", "{}");
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	srv_free(s2);
	srv_free(s1);
}

static struct json_object *
list_log(struct srv *s, const char *cursor)
{
	char	args[128];

	if (cursor != NULL)
		snprintf(args, sizeof args, "{\"scope\":\"log\",\"cursor\":"
		    "\"%s\"}", cursor);
	else
		snprintf(args, sizeof args, "{\"scope\":\"log\"}");
	return (srv_call(s, "dispatch_list", args));
}

#define EARLIER	103

/* Earlier sessions' dispatches, newest first, in pages of 100. */
static void
test_list_log(void **state)
{
	struct srv		*s1 = srv_start_init(NULL), *s2;
	struct json_object	*r, *arr;
	static char		 h1[EARLIER][64];
	char			 h2[2][64], cur[32];
	int			 i;

	for (i = 0; i < EARLIER; i++) {
		snprintf(h1[i], sizeof h1[i], "%s", dispatch_ok(s1,
		    "nash-forbes", "nash", "hello"));
		if (i % 8 == 7)
			json_object_put(wait_final(s1, h1[i], 10000));
	}
	json_object_put(wait_final(s1, h1[EARLIER - 1], 10000));
	assert_int_equal(srv_close(s1, 10000), 0);
	s2 = srv_on_log(s1);
	for (i = 0; i < 2; i++)
		snprintf(h2[i], sizeof h2[i], "%s", dispatch_ok(s2,
		    "reid-max", "reid", "hello"));

	/* The session list is the session's alone. */
	r = srv_call(s2, "dispatch_list", "{}");
	assert_int_equal(jget_int(result_struct(r), "count"), 2);
	json_object_put(r);

	r = list_log(s2, NULL);
	assert_false(result_is_error(r));
	assert_int_equal(jget_int(result_struct(r), "count"), 100);
	assert_int_equal(jget_int(result_struct(r), "total"), EARLIER + 2);
	arr = jget(result_struct(r), "dispatches");
	assert_string_equal(jget_str(json_object_array_get_idx(arr, 0),
	    "handle"), h2[1]);
	assert_string_equal(jget_str(json_object_array_get_idx(arr, 1),
	    "handle"), h2[0]);
	assert_string_equal(jget_str(json_object_array_get_idx(arr, 1),
	    "repo"), "reid");
	for (i = 2; i < 100; i++) {
		assert_string_equal(jget_str(json_object_array_get_idx(arr, i),
		    "handle"), h1[EARLIER + 1 - i]);
		assert_string_equal(jget_str(json_object_array_get_idx(arr, i),
		    "status"), "succeeded");
	}
	snprintf(cur, sizeof cur, "%s", jget_str(result_struct(r),
	    "next_cursor"));
	assert_string_equal(cur, "l5");
	json_object_put(r);

	/* A dispatch since does not move the next page. */
	dispatch_ok(s2, "reid-max", "reid", "hello");
	r = list_log(s2, cur);
	assert_int_equal(jget_int(result_struct(r), "count"), 5);
	arr = jget(result_struct(r), "dispatches");
	for (i = 0; i < 5; i++)
		assert_string_equal(jget_str(json_object_array_get_idx(arr, i),
		    "handle"), h1[4 - i]);
	assert_null(jget(result_struct(r), "next_cursor"));
	json_object_put(r);

	/* Cursors of the other scope, and other scopes, are refused. */
	r = list_log(s2, "o5");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "invalid cursor"));
	json_object_put(r);
	r = list_log(s2, "l0");
	assert_true(result_is_error(r));
	json_object_put(r);
	r = srv_call(s2, "dispatch_list", "{\"cursor\":\"l5\"}");
	assert_true(result_is_error(r));
	json_object_put(r);
	r = srv_call(s2, "dispatch_list", "{\"scope\":\"all\"}");
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "scope must be \"session\" or "
	    "\"log\"");
	json_object_put(r);
	srv_free(s2);
	srv_free(s1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_clean),
		cmocka_unit_test(test_restart_after_sigkill),
		cmocka_unit_test(test_restart_after_broker_sigkill),
		cmocka_unit_test(test_other_server_running),
		cmocka_unit_test(test_cancelled_reads_back),
		cmocka_unit_test(test_wait_bound),
		cmocka_unit_test(test_hostile_log),
		cmocka_unit_test(test_list_log),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
