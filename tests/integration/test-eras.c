/*
 * Every protocol revision the server speaks, against the real binary:
 * stateless 2026-07-28 requests, server/discover, batches (2025-03-26
 * only), logging, progress and cancellation of a long-poll.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define META \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":" \
	"\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}," \
	"\"io.modelcontextprotocol/clientInfo\":{\"name\":\"modern\"," \
	"\"version\":\"2\"}}"

static struct json_object *
expect_code(struct srv *s, const char *line, int code)
{
	struct json_object	*r;

	srv_send(s, line);
	r = srv_recv(s, 10000);
	assert_non_null(r);
	if (jget_int(jget(r, "error"), "code") != code)
		fail_msg("wanted %d for %s, got %s", code, line,
		    json_object_to_json_string(r));
	return (r);
}

static void
test_discover(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r, *res, *v;

	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":\"server-discover-probe-1\","
	    "\"method\":\"server/discover\",\"params\":{" META "}}");
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_string_equal(jget_str(r, "id"), "server-discover-probe-1");
	res = jget(r, "result");
	assert_string_equal(jget_str(res, "resultType"), "complete");
	v = jget(res, "supportedVersions");
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(
	    json_object_array_get_idx(v, 0)), "2026-07-28");
	assert_non_null(jget(jget(res, "capabilities"), "tools"));
	assert_true(jget_int(res, "ttlMs") >= 0);
	assert_string_equal(jget_str(res, "cacheScope"), "public");
	assert_non_null(jget_str(res, "instructions"));
	assert_string_equal(jget_str(jget(jget(res, "_meta"),
	    "io.modelcontextprotocol/serverInfo"), "name"), "dispatch-mcp");
	json_object_put(r);
	srv_free(s);
}

static void
test_envelope_errors(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r, *d;

	/* No _meta, no protocolVersion, no clientCapabilities: -32602. */
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"server/discover\",\"params\":{}}", -32602));
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"server/discover\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}", -32602));
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":3,"
	    "\"method\":\"server/discover\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
	    -32602));
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":4,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{},"
	    "\"io.modelcontextprotocol/logLevel\":\"loud\"}}}", -32602));
	/* An unknown version: -32022 naming what is supported. */
	r = expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"tools/list\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"v999.0.0\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}", -32022);
	d = jget(jget(r, "error"), "data");
	assert_string_equal(jget_str(d, "requested"), "v999.0.0");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
	    jget(d, "supported"), 0)), "2026-07-28");
	json_object_put(r);
	/* Methods the stateless revision removed. */
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":6,"
	    "\"method\":\"ping\",\"params\":{" META "}}", -32601));
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"method\":\"initialize\",\"params\":{" META "}}", -32601));
	srv_free(s);
}

static void
test_stateless_tools(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r, *res, *recs;
	const char		*h;
	char			 line[1024];

	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tools/list\","
	    "\"params\":{" META "}}");
	r = srv_recv(s, 10000);
	res = jget(r, "result");
	assert_string_equal(jget_str(res, "resultType"), "complete");
	assert_int_equal(json_object_array_length(jget(res, "tools")), 5);
	assert_true(jget_int(res, "ttlMs") >= 0);
	assert_string_equal(jget_str(res, "cacheScope"), "public");
	assert_non_null(jget(json_object_array_get_idx(jget(res, "tools"), 0),
	    "outputSchema"));
	json_object_put(r);

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_unit\","
	    "\"arguments\":{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
	    "\"task_description\":\"stateless\"}," META "}}");
	srv_send(s, line);
	r = srv_recv(s, 10000);
	res = jget(r, "result");
	assert_string_equal(jget_str(res, "resultType"), "complete");
	h = jget_str(jget(res, "structuredContent"), "handle");
	assert_non_null(h);
	json_object_put(r);
	/* The per-request clientInfo is what the audit record names. */
	recs = audit_records(s);
	assert_string_equal(jget_str(jget(json_object_array_get_idx(recs, 0),
	    "client"), "name"), "modern");
	json_object_put(recs);
	srv_free(s);
}

static void
test_batches(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r;
	size_t			 i;
	int			 seen = 0;

	r = srv_request(s, "initialize", "{\"protocolVersion\":\"2025-03-26\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"b\","
	    "\"version\":\"1\"}}");
	assert_string_equal(jget_str(jget(r, "result"), "protocolVersion"),
	    "2025-03-26");
	json_object_put(r);
	srv_send(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_list\",\"arguments\":{}}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-03-26\"}},"
	    "7]");
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_true(json_object_is_type(r, json_type_array));
	/* Five answers: the notification gets none. */
	assert_int_equal(json_object_array_length(r), 5);
	for (i = 0; i < 5; i++) {
		struct json_object *e = json_object_array_get_idx(r, i);

		switch (jget_int(e, "id")) {
		case 1:
			assert_non_null(jget(e, "result"));
			seen |= 1;
			break;
		case 2:
			/* 2025-03-26 has no structuredContent: text only. */
			assert_null(result_struct(e));
			assert_non_null(strstr(result_text(e),
			    "\"count\":0"));
			seen |= 2;
			break;
		case 3:
			assert_int_equal(jget_int(jget(e, "error"), "code"),
			    -32601);
			seen |= 4;
			break;
		case 4:
			assert_int_equal(jget_int(jget(e, "error"), "code"),
			    -32600);
			seen |= 8;
			break;
		default:
			assert_null(jget(e, "id"));
			assert_int_equal(jget_int(jget(e, "error"), "code"),
			    -32600);
			seen |= 16;
		}
	}
	assert_int_equal(seen, 31);
	json_object_put(r);
	/* Only notifications: no answer at all; the next ping proves it. */
	srv_send(s, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}]");
	r = srv_request(s, "ping", NULL);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	srv_free(s);
}

static void
test_no_batches_elsewhere(void **state)
{
	struct srv	*s = srv_start_init(NULL);

	json_object_put(expect_code(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"}]", -32600));
	srv_free(s);
}

static void
test_logging(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	int			 logs = 0;

	/* Nothing is logged to the client until it asks. */
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_unit\",\"arguments\":{"
	    "\"orguser\":\"reid-max\",\"repo\":\"nash\","
	    "\"task_description\":\"x\"}}}");
	r = srv_recv(s, 10000);
	assert_int_equal(jget_int(r, "id"), 1);
	json_object_put(r);
	json_object_put(expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}",
	    -32602));
	r = srv_request(s, "logging/setLevel", "{\"level\":\"info\"}");
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_unit\",\"arguments\":{"
	    "\"orguser\":\"reid-max\",\"repo\":\"nash\","
	    "\"task_description\":\"x\"}}}");
	while ((r = srv_recv(s, 10000)) != NULL) {
		if (jget(r, "id") != NULL) {
			json_object_put(r);
			break;
		}
		assert_string_equal(jget_str(r, "method"),
		    "notifications/message");
		assert_string_equal(jget_str(jget(r, "params"), "level"),
		    "warning");
		assert_non_null(strstr(jget_str(jget(r, "params"), "data"),
		    "does not own repo"));
		logs++;
		json_object_put(r);
	}
	assert_int_equal(logs, 1);
	srv_free(s);
}

static void
test_progress_and_cancel(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64], line[512];
	double			 last = -1;
	int			 ticks = 0;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 2.5"));
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":50,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_result\","
	    "\"arguments\":{\"handle\":\"%s\",\"wait_seconds\":20},"
	    "\"_meta\":{\"progressToken\":\"tok-1\"}}}", h);
	srv_send(s, line);
	while ((r = srv_recv(s, 15000)) != NULL) {
		if (jget(r, "id") != NULL) {
			assert_int_equal(jget_int(r, "id"), 50);
			assert_string_equal(jget_str(result_struct(r),
			    "status"), "succeeded");
			json_object_put(r);
			break;
		}
		assert_string_equal(jget_str(r, "method"),
		    "notifications/progress");
		assert_string_equal(jget_str(jget(r, "params"),
		    "progressToken"), "tok-1");
		assert_true(json_object_get_double(jget(jget(r, "params"),
		    "progress")) > last);
		last = json_object_get_double(jget(jget(r, "params"),
		    "progress"));
		assert_non_null(jget_str(jget(r, "params"), "message"));
		ticks++;
		json_object_put(r);
	}
	assert_true(ticks >= 1);

	/* A cancelled long-poll gets no answer, and its lane lives on. */
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 1.5"));
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":60,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_result\","
	    "\"arguments\":{\"handle\":\"%s\",\"wait_seconds\":20},"
	    "\"_meta\":{\"progressToken\":7}}}", h);
	srv_send(s, line);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":60,\"reason\":\"user\"}}");
	r = wait_final(s, h, 10000);
	assert_string_equal(jget_str(result_struct(r), "status"), "succeeded");
	json_object_put(r);
	/* Nothing more arrives for id 60. */
	while ((r = srv_recv(s, 1500)) != NULL) {
		assert_int_not_equal(jget_int(r, "id"), 60);
		json_object_put(r);
	}
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_envelope_errors),
		cmocka_unit_test(test_stateless_tools),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_no_batches_elsewhere),
		cmocka_unit_test(test_logging),
		cmocka_unit_test(test_progress_and_cancel),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
