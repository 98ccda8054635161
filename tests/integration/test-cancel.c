/*
 * dispatch_cancel against the real server: a running lane ends as a
 * timeout would, with status cancelled, and who asked is audited before
 * the first signal.  Final and unknown dispatches are refused, and
 * notifications/cancelled still only drops an answer.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bounds.h"
#include "tests/integration/harness.h"

static int64_t
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct json_object *
cancel(struct srv *s, const char *handle)
{
	char	args[640];

	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", handle);
	return (srv_call(s, "dispatch_cancel", args));
}

/* The index in the log of the one record of this event and handle. */
static int
record_index(struct json_object *arr, const char *event, const char *h,
    int *count)
{
	struct json_object	*o;
	size_t			 i;
	int			 at = -1;
	const char		*e, *rh;

	*count = 0;
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		e = jget_str(o, "event");
		rh = jget_str(o, "handle");
		if (e != NULL && rh != NULL && strcmp(e, event) == 0 &&
		    strcmp(rh, h) == 0) {
			(*count)++;
			at = (int)i;
		}
	}
	return (at);
}

/* One cancel, before the one exit, which says cancelled; verify passes. */
static void
check_audit(struct srv *s, const char *h, const char *sig)
{
	struct json_object	*arr = audit_records(s), *c, *x, *d;
	char			 cmd[1024];
	int			 ic, ix, id, n, st;

	id = record_index(arr, "dispatch", h, &n);
	assert_int_equal(n, 1);
	ic = record_index(arr, "cancel", h, &n);
	assert_int_equal(n, 1);
	ix = record_index(arr, "exit", h, &n);
	assert_int_equal(n, 1);
	assert_true(id < ic);
	assert_true(ic < ix);
	d = json_object_array_get_idx(arr, (size_t)id);
	c = json_object_array_get_idx(arr, (size_t)ic);
	x = json_object_array_get_idx(arr, (size_t)ix);
	/* Who asked: this session, this client. */
	assert_string_equal(jget_str(c, "session"), jget_str(d, "session"));
	assert_string_equal(jget_str(jget(c, "client"), "name"), "harness");
	assert_string_equal(jget_str(c, "orguser"), "nash-forbes");
	assert_string_equal(jget_str(c, "repo"), "nash");
	assert_true(jget_int(c, "pid") > 0);
	assert_int_equal(jget_int(c, "pid"), jget_int(x, "pid"));
	assert_string_equal(jget_str(x, "status"), "cancelled");
	assert_string_equal(jget_str(x, "reason"), "cancel");
	assert_string_equal(jget_str(x, "signal"), sig);
	json_object_put(arr);

	snprintf(cmd, sizeof cmd, "'%s' verify '%s' >/dev/null 2>&1",
	    audit_bin_path(), s->audit);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_cancel_running(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v;
	char			 h[64], args[128];
	pid_t			 lane, gc;
	int64_t			 t0, took;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "grandchild"));
	lane = srv_file_pid(s, h, "pid");
	gc = srv_file_pid(s, h, "grandchild");
	assert_true(pid_alive(gc));

	t0 = mono_now();
	r = cancel(s, h);
	assert_false(result_is_error(r));
	v = result_struct(r);
	assert_string_equal(jget_str(v, "handle"), h);
	/* Answered at once; the lane is still ending. */
	assert_string_equal(jget_str(v, "status"), "running");
	json_object_put(r);

	r = wait_final(s, h, 15000);
	took = mono_now() - t0;
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "cancelled");
	assert_string_equal(jget_str(v, "signal"), "SIGTERM");
	assert_non_null(strstr(jget_str(v, "detail"), "cancelled"));
	json_object_put(r);
	print_message("cancelled in %lld ms\n", (long long)took);
	/* The group's SIGKILL sweep ends the grace; then it is final. */
	assert_true(took < KILL_GRACE_MS + 1000);
	assert_false(pid_alive(lane));
	assert_false(pid_alive(gc));

	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", h);
	r = srv_call(s, "dispatch_status", args);
	assert_string_equal(jget_str(result_struct(r), "status"), "cancelled");
	json_object_put(r);

	/* Once final, a cancel is an error that says so, and not audited. */
	r = cancel(s, h);
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "already final"));
	assert_non_null(strstr(result_text(r), "cancelled"));
	json_object_put(r);
	assert_int_equal(srv_close(s, 10000), 0);
	check_audit(s, h, "SIGTERM");
	srv_free(s);
}

static void
test_cancel_refusals(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64];

	r = cancel(s, "dsp-0123456789abcdef0123456789abcdef");
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "unknown dispatch handle "
	    "'dsp-0123456789abcdef0123456789abcdef'");
	json_object_put(r);
	r = cancel(s, "dsp-nope");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "unknown dispatch handle "
	    "'dsp-nope': a handle is dsp- and 32 lowercase hex digits"));
	json_object_put(r);
	r = srv_call(s, "dispatch_cancel", "{}");
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "missing required argument "
	    "'handle'");
	json_object_put(r);
	r = srv_call(s, "dispatch_cancel", "{\"handle\":7}");
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "handle must be a string");
	json_object_put(r);

	/* A dispatch that ended by itself is final too. */
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "hello"));
	r = wait_final(s, h, 10000);
	assert_string_equal(jget_str(result_struct(r), "status"), "succeeded");
	json_object_put(r);
	r = cancel(s, h);
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "already final "
	    "(succeeded)"));
	json_object_put(r);

	assert_int_equal(srv_close(s, 10000), 0);
	assert_int_equal(audit_count(s, "cancel"), 0);
	assert_int_equal(audit_count(s, "exit"), 1);
	srv_free(s);
}

/*
 * A lane that ignores SIGTERM is killed after the grace, as on a timeout.
 * A second cancel while it ends is no error and writes nothing more.
 */
static void
test_cancel_term_ignored(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v;
	char			 h[64];
	pid_t			 lane, gc;
	int64_t			 t0, took;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "ignore-term"));
	lane = srv_file_pid(s, h, "pid");
	gc = srv_file_pid(s, h, "grandchild");
	t0 = mono_now();
	r = cancel(s, h);
	assert_false(result_is_error(r));
	json_object_put(r);
	r = cancel(s, h);
	assert_false(result_is_error(r));
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	json_object_put(r);

	r = wait_final(s, h, 15000);
	took = mono_now() - t0;
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "cancelled");
	assert_string_equal(jget_str(v, "signal"), "SIGKILL");
	json_object_put(r);
	print_message("killed after %lld ms\n", (long long)took);
	assert_true(took >= KILL_GRACE_MS - 100);
	assert_true(took < KILL_GRACE_MS + 1000);
	assert_false(pid_alive(lane));
	assert_false(pid_alive(gc));
	assert_int_equal(srv_close(s, 10000), 0);
	check_audit(s, h, "SIGKILL");
	srv_free(s);
}

/* notifications/cancelled drops an answer; the lane runs on. */
static void
test_notification_keeps_lane(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64], line[512];
	pid_t			 lane;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "grandchild"));
	lane = srv_file_pid(s, h, "pid");
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":70,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_result\","
	    "\"arguments\":{\"handle\":\"%s\",\"wait_seconds\":20}}}", h);
	srv_send(s, line);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":70,\"reason\":\"user\"}}");
	while ((r = srv_recv(s, 1000)) != NULL) {
		assert_int_not_equal(jget_int(r, "id"), 70);
		json_object_put(r);
	}
	assert_true(pid_alive(lane));
	snprintf(line, sizeof line, "{\"handle\":\"%s\"}", h);
	r = srv_call(s, "dispatch_status", line);
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	json_object_put(r);
	assert_int_equal(audit_count(s, "cancel"), 0);

	/* One for a dispatch_cancel already sent: the lane still ends. */
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":71,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_cancel\","
	    "\"arguments\":{\"handle\":\"%s\"}}}", h);
	srv_send(s, line);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":71}}");
	r = wait_final(s, h, 10000);
	assert_string_equal(jget_str(result_struct(r), "status"), "cancelled");
	json_object_put(r);
	assert_false(pid_alive(lane));
	assert_int_equal(srv_close(s, 10000), 0);
	check_audit(s, h, "SIGTERM");
	srv_free(s);
}

/* Shutdown while a cancel is under way: one exit, and it says cancelled. */
static void
test_shutdown_while_cancelling(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64];
	pid_t			 lane;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "ignore-term"));
	lane = srv_file_pid(s, h, "pid");
	/* Written once its trap is set. */
	(void)srv_file_pid(s, h, "grandchild");
	r = cancel(s, h);
	assert_false(result_is_error(r));
	json_object_put(r);
	assert_int_equal(srv_close(s, 15000), 0);
	assert_false(pid_alive(lane));
	check_audit(s, h, "SIGKILL");
	srv_free(s);
}

/*
 * A cancel the log cannot hold is refused, and its lane runs on: no
 * signal goes out unaudited.
 */
static void
test_cancel_unaudited_refused(void **state)
{
	struct srv		*s;
	struct json_object	*r;
	char			 h[8][64], args[640];
	pid_t			 pid[8];
	int			 n = 0, refused = 0, i;

	/* Room for a few dispatch records and no more. */
	harness_fsize = 3000;
	s = srv_start_init(NULL);
	while (n < 8) {
		r = srv_call(s, "dispatch_unit", "{\"orguser\":\"nash-forbes\","
		    "\"repo\":\"nash\",\"task_description\":\"grandchild\"}");
		if (result_is_error(r)) {
			assert_non_null(strstr(result_text(r),
			    "audit log cannot be written"));
			json_object_put(r);
			break;
		}
		snprintf(h[n], sizeof h[n], "%s",
		    jget_str(result_struct(r), "handle"));
		json_object_put(r);
		pid[n] = srv_file_pid(s, h[n], "grandchild");
		n++;
	}
	assert_true(n >= 2 && n < 8);
	for (i = 0; i < n; i++) {
		r = cancel(s, h[i]);
		if (result_is_error(r)) {
			assert_non_null(strstr(result_text(r), "cancel refused: "
			    "the audit log cannot be written"));
			refused++;
			/* Still running, its processes untouched. */
			json_object_put(r);
			sleep_ms(300);
			assert_true(pid_alive(pid[i]));
			snprintf(args, sizeof args, "{\"handle\":\"%s\"}",
			    h[i]);
			r = srv_call(s, "dispatch_status", args);
			assert_string_equal(jget_str(result_struct(r),
			    "status"), "running");
		}
		json_object_put(r);
	}
	print_message("%d of %d cancels refused\n", refused, n);
	assert_true(refused > 0);
	assert_int_equal(audit_count(s, "cancel"), n - refused);
	(void)srv_close(s, 15000);
	for (i = 0; i < n; i++)
		assert_false(pid_alive(pid[i]));
	srv_free(s);
}

/* The fifth tool, with its schemas and what it does to the world. */
static void
test_tools_list(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r, *tools, *t = NULL, *ann;
	size_t			 i;

	r = srv_request(s, "initialize", "{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"x\","
	    "\"version\":\"1\"}}");
	assert_non_null(strstr(jget_str(jget(r, "result"), "instructions"),
	    "dispatch_cancel(handle) ends a running dispatch"));
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	r = srv_request(s, "tools/list", NULL);
	tools = jget(jget(r, "result"), "tools");
	assert_int_equal(json_object_array_length(tools), 5);
	for (i = 0; i < json_object_array_length(tools); i++) {
		if (strcmp(jget_str(json_object_array_get_idx(tools, i),
		    "name"), "dispatch_cancel") == 0)
			t = json_object_array_get_idx(tools, i);
	}
	assert_non_null(t);
	assert_string_equal(jget_str(jget(t, "inputSchema"), "type"),
	    "object");
	assert_non_null(jget(jget(jget(t, "inputSchema"), "properties"),
	    "handle"));
	assert_non_null(jget(jget(jget(t, "outputSchema"), "properties"),
	    "status"));
	assert_non_null(strstr(json_object_to_json_string(jget(t,
	    "outputSchema")), "\"cancelled\""));
	ann = jget(t, "annotations");
	assert_true(json_object_get_boolean(jget(ann, "destructiveHint")));
	assert_true(json_object_get_boolean(jget(ann, "idempotentHint")));
	assert_false(json_object_get_boolean(jget(ann, "readOnlyHint")));
	json_object_put(r);
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_running),
		cmocka_unit_test(test_cancel_refusals),
		cmocka_unit_test(test_cancel_term_ignored),
		cmocka_unit_test(test_notification_keeps_lane),
		cmocka_unit_test(test_shutdown_while_cancelling),
		cmocka_unit_test(test_cancel_unaudited_refused),
		cmocka_unit_test(test_tools_list),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
