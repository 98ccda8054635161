/*
 * The MCP/JSON-RPC surface of the real binary: framing, ids, errors,
 * limits, and the command line.  After every bad input the very next
 * request must still be served.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bounds.h"
#include "tests/integration/harness.h"

/* The next message must be an error with this code and no id at all. */
static void
expect_error(struct srv *s, int code, const char *id_json)
{
	struct json_object	*r = srv_recv(s, 10000), *e;

	assert_non_null(r);
	e = jget(r, "error");
	assert_non_null(e);
	assert_int_equal(jget_int(e, "code"), code);
	assert_non_null(jget_str(e, "message"));
	if (id_json == NULL)
		assert_null(jget(r, "id"));
	else
		assert_string_equal(json_object_to_json_string_ext(jget(r,
		    "id"), JSON_C_TO_STRING_PLAIN), id_json);
	json_object_put(r);
}

static void
expect_alive(struct srv *s)
{
	struct json_object	*r = srv_request(s, "ping", NULL);

	assert_non_null(r);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
}

static void
test_ids_echoed_exactly(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r;

	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":"
	    "{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_string_equal(json_object_to_json_string(jget(r, "id")), "0");
	assert_string_equal(jget_str(jget(r, "result"), "protocolVersion"),
	    "2025-06-18");
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":\"abc-\\u00e9\",\"method\":"
	    "\"ping\"}");
	r = srv_recv(s, 10000);
	assert_string_equal(jget_str(r, "id"), "abc-\xc3\xa9");
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":-9007199254740991,"
	    "\"method\":\"ping\"}");
	r = srv_recv(s, 10000);
	assert_string_equal(json_object_to_json_string(jget(r, "id")),
	    "-9007199254740991");
	json_object_put(r);
	srv_free(s);
}

static void
test_versions(void **state)
{
	const char *vers[] = { "2024-11-05", "2025-03-26", "2025-06-18",
	    "2025-11-25", "1999-01-01" };
	const char *want[] = { "2024-11-05", "2025-03-26", "2025-06-18",
	    "2025-11-25", "2025-11-25" };
	struct srv		*s;
	struct json_object	*r;
	char			 params[256];
	size_t			 i;

	for (i = 0; i < sizeof vers / sizeof vers[0]; i++) {
		s = srv_start(NULL);
		snprintf(params, sizeof params, "{\"protocolVersion\":\"%s\","
		    "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
		    "\"version\":\"1\"}}", vers[i]);
		r = srv_request(s, "initialize", params);
		assert_string_equal(jget_str(jget(r, "result"),
		    "protocolVersion"), want[i]);
		assert_non_null(jget_str(jget(r, "result"), "instructions"));
		json_object_put(r);
		r = srv_request(s, "tools/list", NULL);
		assert_int_equal(json_object_array_length(jget(jget(r,
		    "result"), "tools")), 5);
		/* outputSchema only where the revision defines it. */
		assert_true((jget(json_object_array_get_idx(jget(jget(r,
		    "result"), "tools"), 0), "outputSchema") != NULL) ==
		    (strcmp(want[i], "2025-06-18") >= 0));
		json_object_put(r);
		srv_free(s);
	}
}

static void
test_ping_before_initialize(void **state)
{
	struct srv		*s = srv_start(NULL);
	struct json_object	*r;

	expect_alive(s);
	/* Neither a session nor a stateless envelope: invalid params. */
	r = srv_request(s, "tools/list", NULL);
	assert_int_equal(jget_int(jget(r, "error"), "code"), -32602);
	json_object_put(r);
	srv_free(s);
}

static void
test_malformed_messages(void **state)
{
	static const struct {
		const char	*line;
		int		 code;
		const char	*id;
	} cases[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"", -32700,
		    NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x",
		    -32700, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}",
		    -32700, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\ud800\"}",
		    -32700, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":NaN,\"method\":\"ping\"}",
		    -32700, NULL },
		{ "{'jsonrpc':\"2.0\",\"id\":1,\"method\":\"ping\"}", -32700,
		    NULL },
		{ "\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"ping\"}", -32700, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xc0\xafng\"}",
		    -32700, NULL },
		{ "42", -32600, NULL },
		{ "[]", -32600, NULL },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		    -32600, NULL },
		{ "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}", -32600,
		    "7" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
		    -32600, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
		    -32600, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
		    -32600, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,"
		    "\"method\":\"ping\"}", -32600, NULL },
		{ "{\"jsonrpc\":\"2.0\",\"id\":8}", -32600, "8" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":5}", -32600, "9" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\","
		    "\"params\":[1]}", -32602, "10" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"no/such\"}",
		    -32601, "11" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"initialize\","
		    "\"params\":{\"protocolVersion\":\"2025-11-25\"}}", -32600,
		    "12" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\","
		    "\"params\":{\"name\":\"exec\",\"arguments\":{}}}", -32602,
		    "13" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\","
		    "\"params\":{\"name\":\"dispatch_list\",\"arguments\":[]}}",
		    -32602, "14" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"tools/list\","
		    "\"params\":{\"cursor\":\"x\"}}", -32602, "15" },
	};
	struct srv	*s = srv_start_init(NULL);
	size_t		 i;
	char		 bad[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\0g\"}";

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		srv_send(s, cases[i].line);
		expect_error(s, cases[i].code, cases[i].id);
		expect_alive(s);
	}
	/* A raw NUL byte inside the line. */
	srv_send_raw(s, bad, sizeof bad - 1);
	srv_send_raw(s, "\n", 1);
	expect_error(s, -32700, NULL);
	expect_alive(s);
	srv_free(s);
}

static void
test_size_limits(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	const char	*head = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":"
			    "\"ping\",\"params\":{\"pad\":\"";
	const char	*tail = "\"}}";
	char		*big;
	size_t		 n = MAX_LINE_BYTES, i;
	struct json_object *r;

	/* Exactly the limit: served. */
	big = malloc(n + 2);
	assert_non_null(big);
	memcpy(big, head, strlen(head));
	memset(big + strlen(head), 'a', n - strlen(head) - strlen(tail));
	memcpy(big + n - strlen(tail), tail, strlen(tail));
	big[n] = '\n';
	srv_send_raw(s, big, n + 1);
	r = srv_recv(s, 20000);
	assert_non_null(r);
	assert_int_equal(jget_int(r, "id"), 77);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	/* One byte over: refused, and the server keeps serving. */
	memmove(big + strlen(head) + 1, big + strlen(head), n -
	    strlen(head));
	big[n + 1] = '\n';
	srv_send_raw(s, big, n + 2);
	expect_error(s, -32600, NULL);
	expect_alive(s);
	/* Ten times the limit, no newline for a long while. */
	for (i = 0; i < 10; i++)
		srv_send_raw(s, big, n);
	srv_send_raw(s, "\n", 1);
	expect_error(s, -32600, NULL);
	expect_alive(s);
	free(big);

	/* A million nested arrays. */
	big = malloc(1000001);
	memset(big, '[', 1000000);
	big[1000000] = '\n';
	srv_send_raw(s, big, 1000001);
	expect_error(s, -32700, NULL);
	expect_alive(s);
	free(big);
	srv_free(s);
}

static void
test_split_reads_and_crlf(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	const char		*msg = "{\"jsonrpc\":\"2.0\",\"id\":5,"
				    "\"method\":\"ping\"}\r\n";
	struct json_object	*r;
	size_t			 i;

	for (i = 0; i < strlen(msg); i++) {
		srv_send_raw(s, msg + i, 1);
		usleep(200);
	}
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(r, "id"), 5);
	json_object_put(r);
	srv_free(s);
}

static void
test_notifications_silent(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;

	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}");
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}");
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"id\":44,\"method\":\"ping\"}");
	r = srv_recv(s, 10000);
	assert_int_equal(jget_int(r, "id"), 44);
	json_object_put(r);
	srv_free(s);
}

static void
test_eof_exits_zero(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	int		 st;

	expect_alive(s);
	st = srv_close(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	srv_free(s);
}

static int
run(const char *cmd, char **out)
{
	FILE	*f;
	char	 buf[4096];
	size_t	 n;
	int	 st;

	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	st = pclose(f);
	if (out != NULL)
		*out = strdup(buf);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void
test_command_line(void **state)
{
	char	cmd[2048], *out;

	snprintf(cmd, sizeof cmd, "'%s' --version", bin_path());
	assert_int_equal(run(cmd, &out), 0);
	assert_non_null(strstr(out, "dispatch-mcp "));
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' --help", bin_path());
	assert_int_equal(run(cmd, &out), 0);
	assert_non_null(strstr(out, "--check-config"));
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' --bogus 2>&1", bin_path());
	assert_int_not_equal(run(cmd, NULL), 0);
	/* epoll cannot watch /dev/null; the frontend must not use it. */
	snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND='%s' DISPATCH_AUDIT_LOG="
	    "/tmp/dispatch-proto-%ld.jsonl '%s' < /dev/null",
	    lane_path("record-lane"), (long)getpid(), bin_path());
	assert_int_equal(run(cmd, &out), 0);
	assert_string_equal(out, "");
	free(out);
	snprintf(cmd, sizeof cmd, "/tmp/dispatch-proto-%ld.jsonl",
	    (long)getpid());
	unlink(cmd);
	/* /dev/null as the audit log would keep nothing: refused. */
	snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND='%s' DISPATCH_AUDIT_LOG="
	    "/dev/null '%s' < /dev/null 2>&1", lane_path("record-lane"),
	    bin_path());
	assert_int_equal(run(cmd, &out), 1);
	assert_non_null(strstr(out, "not a regular file"));
	free(out);
}

static void
test_bad_config_fails_fast(void **state)
{
	static const struct {
		const char	*env;
		const char	*name;
	} cases[] = {
		{ "DISPATCH_SSH_HOST='-oProxyCommand=sh'", "DISPATCH_SSH_HOST" },
		{ "DISPATCH_SSH_HOST='a b'", "DISPATCH_SSH_HOST" },
		{ "DISPATCH_MAX_ITERATIONS=0", "DISPATCH_MAX_ITERATIONS" },
		{ "DISPATCH_MAX_ITERATIONS=100001", "DISPATCH_MAX_ITERATIONS" },
		{ "DISPATCH_MAX_ITERATIONS=ten", "DISPATCH_MAX_ITERATIONS" },
		{ "DISPATCH_TIMEOUT=0", "DISPATCH_TIMEOUT" },
		{ "DISPATCH_TIMEOUT=86401", "DISPATCH_TIMEOUT" },
		{ "DISPATCH_TIMEOUT=nan", "DISPATCH_TIMEOUT" },
		{ "DISPATCH_COMMAND=/nonexistent/lane", "DISPATCH_COMMAND" },
		{ "DISPATCH_COMMAND=no-such-lane-program", "DISPATCH_COMMAND" },
		{ "DISPATCH_COMMAND=/etc/passwd", "DISPATCH_COMMAND" },
		{ "DISPATCH_TASK_ARG=yes", "DISPATCH_TASK_ARG" },
		{ "DISPATCH_MAX_RUNNING=0", "DISPATCH_MAX_RUNNING" },
		{ "DISPATCH_ENV_PASS=LD_PRELOAD", "DISPATCH_ENV_PASS" },
		{ "DISPATCH_AUDIT_LOG=/proc/version/x", "DISPATCH_AUDIT_LOG" },
	};
	char	cmd[2048], *out;
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND='%s' "
		    "DISPATCH_AUDIT_LOG=/dev/null %s '%s' </dev/null 2>&1",
		    lane_path("record-lane"), cases[i].env, bin_path());
		if (run(cmd, &out) == 0)
			fail_msg("started with %s", cases[i].env);
		/* One line, naming the variable. */
		if (strstr(out, cases[i].name) == NULL ||
		    strchr(out, '\n') != out + strlen(out) - 1)
			fail_msg("%s: unclear error '%s'", cases[i].env, out);
		free(out);
	}
}

/*
 * Runs cmd under a hard RLIMIT_NPROC of limit, in a child so that this
 * process keeps its own; 0 if the output holds want.  A limit that
 * cannot be had (above an inherited lower one) counts as success.
 */
static int
run_nproc(const char *cmd, rlim_t limit, const char *want)
{
	struct rlimit	 rl;
	char		*out;
	pid_t		 pid;
	int		 st;

	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < limit)
		return (0);
	if ((pid = fork()) == 0) {
		rl.rlim_max = limit;
		if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > limit)
			rl.rlim_cur = limit;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			_exit(2);
		if (run(cmd, &out) != 0 || strstr(out, want) == NULL) {
			fprintf(stderr, "no '%s' in:\n%s", want, out);
			_exit(1);
		}
		_exit(0);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid)
		return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void
test_check_config(void **state)
{
	char	 cmd[2048], *out, dir[] = "/tmp/dispatch-cc.XXXXXX", path[512];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/repos.json", dir);
	write_file(path, TEST_REPOS_JSON);
	snprintf(cmd, sizeof cmd, "DISPATCH_REPOS_JSON='%s' DISPATCH_COMMAND="
	    "'%s' DISPATCH_AUDIT_LOG=%s/audit.jsonl '%s' --check-config "
	    "2>/dev/null", path, lane_path("record-lane"), dir, bin_path());
	assert_int_equal(run(cmd, &out), 0);
	assert_non_null(strstr(out, "nash-forbes/nash -> selamy-labs/nash"));
	assert_non_null(strstr(out, "reid-max/reid -> selamy-labs/reid"));
	assert_null(strstr(out, "orphan"));
	assert_non_null(strstr(out, "record-lane ORGUSER REPO --host "
	    "localhost --max 50"));
	free(out);
	/* An audit log that is not a regular file: the server would not
	 * start, and --check-config says so. */
	snprintf(cmd, sizeof cmd, "DISPATCH_REPOS_JSON='%s' DISPATCH_COMMAND="
	    "'%s' DISPATCH_AUDIT_LOG=/dev/null '%s' --check-config 2>/dev/null",
	    path, lane_path("record-lane"), bin_path());
	assert_int_equal(run(cmd, &out), 1);
	assert_non_null(strstr(out, "not a regular file but a character "
	    "device; the server will not start"));
	free(out);
	/* A default above the inherited hard RLIMIT_NPROC is lowered, and
	 * so, for root, is a value set above it; both say so. */
	snprintf(cmd, sizeof cmd, "DISPATCH_REPOS_JSON='%s' DISPATCH_COMMAND="
	    "'%s' DISPATCH_AUDIT_LOG=%s/audit.jsonl '%s' --check-config "
	    "2>/dev/null", path, lane_path("record-lane"), dir, bin_path());
	assert_int_equal(run_nproc(cmd, 2000, "lane nproc:     2000 "
	    "(RLIMIT_NPROC"), 0);
	assert_int_equal(run_nproc(cmd, 2000, "; lowered to the inherited "
	    "hard limit)"), 0);
	if (geteuid() == 0) {
		snprintf(cmd, sizeof cmd, "DISPATCH_LANE_NPROC=3000 "
		    "DISPATCH_REPOS_JSON='%s' DISPATCH_COMMAND='%s' "
		    "DISPATCH_AUDIT_LOG=%s/audit.jsonl '%s' --check-config "
		    "2>/dev/null", path, lane_path("record-lane"), dir,
		    bin_path());
		assert_int_equal(run_nproc(cmd, 2000, "lane nproc:     2000 "
		    "(RLIMIT_NPROC; not enforced for root; lowered to the "
		    "inherited hard limit)"), 0);
	}
	snprintf(cmd, sizeof cmd, "DISPATCH_REPOS_JSON='%s' DISPATCH_COMMAND="
	    "'%s' DISPATCH_AUDIT_LOG=%s/audit.jsonl '%s' --check-config "
	    "2>/dev/null", path, lane_path("record-lane"), dir, bin_path());
	write_file(path, "[1,2]");
	assert_int_equal(run(cmd, NULL), 1);
	unlink(path);
	assert_int_equal(run(cmd, NULL), 1);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_echoed_exactly),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_ping_before_initialize),
		cmocka_unit_test(test_malformed_messages),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_split_reads_and_crlf),
		cmocka_unit_test(test_notifications_silent),
		cmocka_unit_test(test_eof_exits_zero),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_bad_config_fails_fast),
		cmocka_unit_test(test_check_config),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
