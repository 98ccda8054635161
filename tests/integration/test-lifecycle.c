/*
 * Lanes that misbehave and servers that are stopped: timeouts, process
 * groups, floods, bad bytes, shutdown, and the death of either process.
 */
#include "config.h"

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

#include "common/utf8.h"
#include "tests/integration/harness.h"

/* ASan's shadow memory and quarantine are not ours to count. */
#ifdef DISPATCH_NO_SANDBOX
#define RSS_SLACK	8
#else
#define RSS_SLACK	1
#endif

static void
test_timeout_kills_group(void **state)
{
	const char		*env[] = { "DISPATCH_TIMEOUT=0.5", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r, *v;
	char			 h[64];
	pid_t			 gc;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "grandchild"));
	gc = srv_file_pid(s, h, "grandchild");
	assert_true(pid_alive(gc));
	r = wait_final(s, h, 15000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "timed_out");
	assert_string_equal(jget_str(v, "signal"), "SIGTERM");
	assert_non_null(strstr(jget_str(v, "detail"), "timed out"));
	json_object_put(r);
	assert_false(pid_alive(gc));
	assert_int_equal(audit_count(s, "exit"), 1);
	srv_free(s);
}

static void
test_term_ignored_then_killed(void **state)
{
	const char		*env[] = { "DISPATCH_TIMEOUT=0.3", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r, *v;
	char			 h[64];
	pid_t			 lane, gc;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "ignore-term"));
	lane = srv_file_pid(s, h, "pid");
	gc = srv_file_pid(s, h, "grandchild");
	r = wait_final(s, h, 15000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "timed_out");
	assert_string_equal(jget_str(v, "signal"), "SIGKILL");
	json_object_put(r);
	assert_false(pid_alive(lane));
	assert_false(pid_alive(gc));
	srv_free(s);
}

static void
test_daemon_does_not_hang(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v;
	char			 h[64];
	pid_t			 gc;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "daemon"));
	/* Its child holds the pipes; the lane's exit still ends it. */
	r = wait_final(s, h, 5000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "succeeded");
	assert_string_equal(jget_str(v, "detail"), "daemonized");
	json_object_put(r);
	gc = srv_file_pid(s, h, "grandchild");
	kill(gc, SIGKILL);
	srv_free(s);
}

static void
test_responsive_while_lane_runs(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64], args[128];
	int			 i;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 3"));
	for (i = 0; i < 20; i++) {
		r = srv_request(s, "ping", NULL);
		assert_non_null(jget(r, "result"));
		json_object_put(r);
	}
	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", h);
	r = srv_call(s, "dispatch_status", args);
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	json_object_put(r);
	srv_free(s);
}

static void
test_flood_is_bounded(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v, *recs, *rec;
	const char		*d;
	char			 h[64];
	size_t			 i;
	long			 rss;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "flood"));
	r = wait_final(s, h, 60000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "succeeded");
	d = jget_str(v, "detail");
	assert_true(strlen(d) <= 64 * 1024);
	assert_true(strlen(d) > 60 * 1024);
	assert_non_null(strstr(d, "END-OF-FLOOD"));
	json_object_put(r);
	/* 100 MB went through; the broker kept only a tail. */
	rss = rss_kib(s->pid);
	assert_true(rss > 0 && rss < 32 * 1024 * RSS_SLACK);
	recs = audit_records(s);
	for (i = 0; i < json_object_array_length(recs); i++) {
		rec = json_object_array_get_idx(recs, i);
		if (strcmp(jget_str(rec, "event"), "exit") == 0)
			assert_int_equal(jget_int(rec, "stdout_bytes"),
			    100000000 + 13);
	}
	json_object_put(recs);
	srv_free(s);
}

static void
test_invalid_utf8_output(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	const char		*d;
	char			 h[64];

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "badutf8"));
	r = wait_final(s, h, 10000);
	d = jget_str(result_struct(r), "detail");
	assert_non_null(d);
	assert_true(utf8_count(d, strlen(d)) > 0);
	assert_non_null(strstr(d, "bad \xef\xbf\xbd\xef\xbf\xbd bytes"));
	assert_non_null(strstr(d, " end"));
	json_object_put(r);
	srv_free(s);
}

static void
test_lane_killed_by_signal(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v;
	char			 h[64];

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "kill-self"));
	r = wait_final(s, h, 10000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "failed");
	assert_string_equal(jget_str(v, "signal"), "SIGKILL");
	assert_true(json_object_is_type(jget(v, "returncode"),
	    json_type_null));
	json_object_put(r);
	srv_free(s);
}

static void
shutdown_with_running_lane(int use_signal)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*recs, *rec;
	char			 h[64];
	pid_t			 lane;
	size_t			 i;
	int			 st, found = 0;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "grandchild"));
	lane = srv_file_pid(s, h, "pid");
	if (use_signal)
		kill(s->pid, SIGTERM);
	else
		close(s->in), s->in = -1;
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(pid_alive(lane));
	recs = audit_records(s);
	for (i = 0; i < json_object_array_length(recs); i++) {
		rec = json_object_array_get_idx(recs, i);
		if (strcmp(jget_str(rec, "event"), "exit") != 0)
			continue;
		found++;
		assert_string_equal(jget_str(rec, "reason"), "shutdown");
	}
	assert_int_equal(found, 1);
	json_object_put(recs);
	srv_free(s);
}

static void
test_eof_with_running_lane(void **state)
{
	shutdown_with_running_lane(0);
}

static void
test_sigterm_with_running_lane(void **state)
{
	shutdown_with_running_lane(1);
}

static void
test_broker_death(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	pid_t			 fe = srv_frontend_pid(s);
	char			 h[64], args[512];
	int			 st, i;

	assert_true(fe > 0);
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 5"));
	/* A long-poll is in flight when the broker dies. */
	snprintf(args, sizeof args, "{\"jsonrpc\":\"2.0\",\"id\":900,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":"
	    "\"dispatch_result\",\"arguments\":{\"handle\":\"%s\","
	    "\"wait_seconds\":30}}}", h);
	srv_send(s, args);
	sleep_ms(200);
	kill(s->pid, SIGKILL);
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(r, "id"), 900);
	assert_int_equal(jget_int(jget(r, "error"), "code"), -32603);
	json_object_put(r);
	for (i = 0; i < 200 && pid_alive(fe); i++)
		sleep_ms(25);
	assert_false(pid_alive(fe));
	assert_non_null(strstr(srv_stderr(s), "broker"));
	st = srv_wait(s, 1000);
	assert_true(WIFSIGNALED(st));
	srv_free(s);
}

static void
test_frontend_death(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	pid_t		 fe = srv_frontend_pid(s), lane;
	char		 h[64];
	int		 st;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "grandchild"));
	lane = srv_file_pid(s, h, "pid");
	kill(fe, SIGKILL);
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(srv_stderr(s), "frontend killed by SIGKILL"));
	/* The lane was not orphaned: ended and audited. */
	assert_false(pid_alive(lane));
	assert_int_equal(audit_count(s, "exit"), 1);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_term_ignored_then_killed),
		cmocka_unit_test(test_daemon_does_not_hang),
		cmocka_unit_test(test_responsive_while_lane_runs),
		cmocka_unit_test(test_flood_is_bounded),
		cmocka_unit_test(test_invalid_utf8_output),
		cmocka_unit_test(test_lane_killed_by_signal),
		cmocka_unit_test(test_eof_with_running_lane),
		cmocka_unit_test(test_sigterm_with_running_lane),
		cmocka_unit_test(test_broker_death),
		cmocka_unit_test(test_frontend_death),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
