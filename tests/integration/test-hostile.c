/*
 * A hostile-input corpus against the real binary.  Every case is one
 * input line (or raw bytes) and the class of answer it must get: a
 * JSON-RPC error code, a tool error, a plain result, a dispatch, or
 * silence.  For every case we also check that nothing was spawned unless
 * a dispatch was expected, that a refused dispatch_unit left exactly one
 * "rejected" audit record, and that the very next ping is still served.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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

enum kind {
	K_RESULT,	/* a result that is not a tool error */
	K_DISPATCH,	/* dispatch_unit succeeded: one lane ran */
	K_TOOL_ERROR,	/* result.isError true */
	K_RPC_ERROR,	/* a JSON-RPC error with this code */
	K_SILENT	/* no answer at all (notification, blank line) */
};

struct hcase {
	const char	*name;
	const char	*line;		/* without the trailing newline */
	size_t		 len;		/* 0: strlen(line) */
	enum kind	 kind;
	int		 code;		/* K_RPC_ERROR */
	const char	*id;		/* the echoed id as JSON; NULL: none */
	const char	*msg;		/* substring of the message or text */
	int		 rejected;	/* growth of the "rejected" records */
	const char	*stdin_want;	/* K_DISPATCH: what the lane read */
	size_t		 stdin_len;	/* 0: strlen(stdin_want) */
	int		 trickle;	/* written one byte at a time */
};

/* Building blocks for request lines. */
#define RQ(id, rest)	"{\"jsonrpc\":\"2.0\",\"id\":" id "," rest "}"
#define METHOD(m)	"\"method\":\"" m "\""
#define PING(id)	RQ(id, METHOD("ping"))
#define CALL(id, tool, args) \
	RQ(id, METHOD("tools/call") ",\"params\":{\"name\":\"" tool \
	    "\",\"arguments\":" args "}")
#define UARGS(org, repo, task) \
	"{\"orguser\":\"" org "\",\"repo\":\"" repo \
	"\",\"task_description\":\"" task "\"}"
#define UNIT(id, org, repo, task) \
	CALL(id, "dispatch_unit", UARGS(org, repo, task))

/* Case constructors. */
#define ERR(nm, ln, cd, idj, m) \
	{ .name = nm, .line = ln, .kind = K_RPC_ERROR, .code = cd, \
	  .id = idj, .msg = m }
#define PARSE(nm, ln)	ERR(nm, ln, -32700, NULL, "Parse error")
/* Raw bytes that may hold a NUL: the length comes from the literal. */
#define RAWPARSE(nm, ln) \
	{ .name = nm, .line = ln, .len = sizeof(ln) - 1, \
	  .kind = K_RPC_ERROR, .code = -32700, .id = NULL, \
	  .msg = "Parse error" }
#define TOOLERR(nm, ln, idj, m, rej) \
	{ .name = nm, .line = ln, .kind = K_TOOL_ERROR, .id = idj, \
	  .msg = m, .rejected = rej }
#define OK(nm, ln, idj) \
	{ .name = nm, .line = ln, .kind = K_RESULT, .id = idj }
#define DISPATCH(nm, ln, idj, in) \
	{ .name = nm, .line = ln, .kind = K_DISPATCH, .id = idj, \
	  .stdin_want = in }
#define SILENT(nm, ln)	{ .name = nm, .line = ln, .kind = K_SILENT }

#define NCASES(a)	(sizeof (a) / sizeof (a)[0])

#define ZERO_HANDLE	"dsp-00000000000000000000000000000000"
#define NAME_ERR	"must match"

static int	 alive_seq;
static int	 cases_run;
/* The server of the running test, freed by teardown even on failure. */
static struct srv *cur;

static struct srv *
start(int init)
{
	cur = init ? srv_start_init(NULL) : srv_start(NULL);
	return (cur);
}

static int
teardown(void **state)
{
	(void)state;
	if (cur != NULL)
		srv_free(cur);
	cur = NULL;
	return (0);
}

static const char *
jtext(struct json_object *o)
{
	if (o == NULL)
		return ("(none)");
	return (json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The last few hundred bytes of the server's stderr, for a failure. */
static const char *
stderr_tail(struct srv *s)
{
	const char	*e = srv_stderr(s);
	size_t		 n = strlen(e);

	return (n > 600 ? e + n - 600 : e);
}

/* The next answer, skipping notifications the server may send. */
static struct json_object *
next_answer(struct srv *s, int timeout_ms)
{
	struct json_object	*r;

	while ((r = srv_recv(s, timeout_ms)) != NULL) {
		if (jget(r, "method") == NULL)
			return (r);
		json_object_put(r);
	}
	return (NULL);
}

static void
send_line(struct srv *s, const char *line, size_t len, int trickle)
{
	size_t	i;

	if (!trickle) {
		srv_send_raw(s, line, len);
		srv_send_raw(s, "\n", 1);
		return;
	}
	for (i = 0; i < len; i++) {
		srv_send_raw(s, line + i, 1);
		usleep(200);
	}
	srv_send_raw(s, "\n", 1);
}

/* A ping with a fresh string id must be the very next answer. */
static void
expect_alive(struct srv *s, const char *after)
{
	struct json_object	*r;
	char			 line[128], id[32];

	snprintf(id, sizeof id, "alive-%d", ++alive_seq);
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id);
	srv_send(s, line);
	r = next_answer(s, 20000);
	if (r == NULL)
		fail_msg("after '%s': ping not served; stderr: %s", after,
		    stderr_tail(s));
	if (jget_str(r, "id") == NULL || strcmp(jget_str(r, "id"), id) != 0 ||
	    jget(r, "result") == NULL)
		fail_msg("after '%s': expected the answer to ping %s, got %.300s",
		    after, id, jtext(r));
	json_object_put(r);
}

static void
check_id(const struct hcase *c, struct json_object *r)
{
	struct json_object	*id;

	if (c->id == NULL) {
		if (json_object_object_get_ex(r, "id", &id))
			fail_msg("case '%s': expected no id, got %.300s",
			    c->name, jtext(r));
		return;
	}
	if (!json_object_object_get_ex(r, "id", &id) ||
	    strcmp(jtext(id), c->id) != 0)
		fail_msg("case '%s': expected id %s, got %.300s", c->name,
		    c->id, jtext(r));
}

/* Checks one answer; for a dispatch, copies out the handle. */
static void
check_answer(const struct hcase *c, struct json_object *r, char *handle,
    size_t hlen)
{
	struct json_object	*e, *res;
	const char		*m, *h;

	check_id(c, r);
	e = jget(r, "error");
	res = jget(r, "result");
	switch (c->kind) {
	case K_RPC_ERROR:
		if (e == NULL || jget_int(e, "code") != c->code)
			fail_msg("case '%s': expected error %d, got %.300s",
			    c->name, c->code, jtext(r));
		m = jget_str(e, "message");
		if (m == NULL || (c->msg != NULL && strstr(m, c->msg) == NULL))
			fail_msg("case '%s': expected a message with '%s', "
			    "got %.300s", c->name, c->msg, jtext(r));
		break;
	case K_TOOL_ERROR:
		if (res == NULL || !result_is_error(r))
			fail_msg("case '%s': expected a tool error, got %.300s",
			    c->name, jtext(r));
		m = result_text(r);
		if (m == NULL || (c->msg != NULL && strstr(m, c->msg) == NULL))
			fail_msg("case '%s': expected a tool error with '%s', "
			    "got %.300s", c->name, c->msg, jtext(r));
		break;
	case K_RESULT:
		if (res == NULL || e != NULL || result_is_error(r))
			fail_msg("case '%s': expected a result, got %.300s",
			    c->name, jtext(r));
		break;
	case K_DISPATCH:
		h = jget_str(result_struct(r), "handle");
		if (res == NULL || result_is_error(r) || h == NULL)
			fail_msg("case '%s': expected a dispatch, got %.300s",
			    c->name, jtext(r));
		snprintf(handle, hlen, "%s", h);
		break;
	case K_SILENT:
		break;
	}
}

static void
check_lane_stdin(struct srv *s, const struct hcase *c, const char *handle)
{
	struct json_object	*r;
	const char		*st;
	char			*in;
	size_t			 len, want;

	r = wait_final(s, handle, 15000);
	st = jget_str(result_struct(r), "status");
	if (st == NULL || strcmp(st, "succeeded") != 0)
		fail_msg("case '%s': lane %s ended %.300s", c->name, handle,
		    jtext(r));
	json_object_put(r);
	if (c->stdin_want == NULL)
		return;
	want = c->stdin_len != 0 ? c->stdin_len : strlen(c->stdin_want);
	if ((in = srv_file(s, handle, "stdin", &len)) == NULL)
		fail_msg("case '%s': the lane recorded no stdin", c->name);
	if (len != want || memcmp(in, c->stdin_want, len) != 0)
		fail_msg("case '%s': the lane read %zu bytes '%.200s', "
		    "expected %zu bytes '%.200s'", c->name, len, in, want,
		    c->stdin_want);
	free(in);
}

static void
run_case(struct srv *s, const struct hcase *c)
{
	struct json_object	*r;
	int			 started, dispatched, rejected, n;
	size_t			 len = c->len != 0 ? c->len : strlen(c->line);
	char			 handle[64] = "";

	started = srv_count_files(s, ".started");
	dispatched = audit_count(s, "dispatch");
	rejected = audit_count(s, "rejected");

	send_line(s, c->line, len, c->trickle);
	if (c->kind != K_SILENT) {
		if ((r = next_answer(s, 30000)) == NULL)
			fail_msg("case '%s': no answer; stderr: %s", c->name,
			    stderr_tail(s));
		check_answer(c, r, handle, sizeof handle);
		json_object_put(r);
	}
	if (c->kind == K_DISPATCH)
		check_lane_stdin(s, c, handle);
	/* Silence is checked here too: the ping must be the next answer. */
	expect_alive(s, c->name);

	n = c->kind == K_DISPATCH ? 1 : 0;
	if (srv_count_files(s, ".started") != started + n)
		fail_msg("case '%s': %d lanes started, expected %d", c->name,
		    srv_count_files(s, ".started") - started, n);
	if (audit_count(s, "dispatch") != dispatched + n)
		fail_msg("case '%s': %d dispatch records, expected %d",
		    c->name, audit_count(s, "dispatch") - dispatched, n);
	if (audit_count(s, "rejected") != rejected + c->rejected)
		fail_msg("case '%s': %d rejected records, expected %d",
		    c->name, audit_count(s, "rejected") - rejected,
		    c->rejected);
	cases_run++;
}

static void
run_cases(struct srv *s, const struct hcase *cases, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		run_case(s, &cases[i]);
}

/* The last audit record of a kind, as JSON text (caller frees). */
static char *
last_record(struct srv *s, const char *event)
{
	struct json_object	*arr = audit_records(s), *rec;
	char			*out = NULL;
	size_t			 i;

	for (i = json_object_array_length(arr); i > 0; i--) {
		rec = json_object_array_get_idx(arr, i - 1);
		if (jget_str(rec, "event") != NULL &&
		    strcmp(jget_str(rec, "event"), event) == 0) {
			out = strdup(json_object_to_json_string_ext(rec,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
			break;
		}
	}
	json_object_put(arr);
	return (out);
}

/* ------------------------------------------------------------------ */

static void
test_malformed_json(void **state)
{
	static const struct hcase cases[] = {
		PARSE("truncated object", "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"ping\""),
		PARSE("truncated in a string", "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"pi"),
		PARSE("truncated in an escape", "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"ping\\u00"),
		PARSE("truncated after a key", "{\"jsonrpc\""),
		PARSE("lone brace", "{"),
		PARSE("trailing garbage", PING("1") " x"),
		PARSE("trailing brace", PING("1") "}"),
		PARSE("two objects on a line", PING("1") PING("2")),
		ERR("bare number", "42", -32600, NULL, "JSON object"),
		ERR("bare negative float", "-1.5e3", -32600, NULL, NULL),
		ERR("bare string", "\"ping\"", -32600, NULL, NULL),
		ERR("bare true", "true", -32600, NULL, NULL),
		ERR("bare false", "false", -32600, NULL, NULL),
		ERR("bare null", "null", -32600, NULL, NULL),
		ERR("empty object", "{}", -32600, NULL, "jsonrpc"),
		ERR("empty array", "[]", -32600, NULL, "batch"),
		PARSE("duplicate key at top", "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"ping\",\"method\":\"tools/list\"}"),
		PARSE("duplicate key in params", RQ("1", METHOD("ping")
		    ",\"params\":{\"a\":1,\"a\":2}")),
		PARSE("duplicate key in arguments", UNIT("1", "nash-forbes",
		    "nash\",\"repo\":\"reid", "t")),
		PARSE("lone high surrogate", RQ("1", METHOD("\\ud800"))),
		PARSE("lone low surrogate", RQ("1", METHOD("\\udc00"))),
		PARSE("high surrogate then a letter",
		    RQ("1", METHOD("\\ud800\\u0041"))),
		PARSE("reversed surrogate pair",
		    RQ("1", METHOD("\\udc00\\ud800"))),
		PARSE("NaN id", "{\"jsonrpc\":\"2.0\",\"id\":NaN,"
		    "\"method\":\"ping\"}"),
		PARSE("Infinity in params", RQ("1", METHOD("ping")
		    ",\"params\":{\"x\":Infinity}")),
		PARSE("-Infinity in params", RQ("1", METHOD("ping")
		    ",\"params\":{\"x\":-Infinity}")),
		PARSE("1e400 overflows to infinity", RQ("1", METHOD("ping")
		    ",\"params\":{\"x\":1e400}")),
		PARSE("leading plus", RQ("+1", METHOD("ping"))),
		PARSE("leading zero", RQ("01", METHOD("ping"))),
		PARSE("hex number", RQ("0x10", METHOD("ping"))),
		PARSE("bare fraction", RQ(".5", METHOD("ping"))),
		PARSE("dangling exponent", RQ("1e", METHOD("ping"))),
		PARSE("single-quoted key", "{'jsonrpc':\"2.0\",\"id\":1,"
		    "\"method\":\"ping\"}"),
		PARSE("single-quoted value", "{\"jsonrpc\":'2.0',\"id\":1,"
		    "\"method\":\"ping\"}"),
		PARSE("unquoted key", "{jsonrpc:\"2.0\",\"id\":1,"
		    "\"method\":\"ping\"}"),
		PARSE("block comment", "/* hi */" PING("1")),
		PARSE("line comment", PING("1") " // hi"),
		PARSE("hash comment", PING("1") " # hi"),
		PARSE("trailing comma in object", "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"method\":\"ping\",}"),
		PARSE("trailing comma in array", RQ("1", METHOD("ping")
		    ",\"params\":{\"a\":[1,2,]}")),
		PARSE("raw tab in a string", RQ("1", METHOD("pi\tng"))),
		PARSE("bad escape \\x", RQ("1", METHOD("\\x41"))),
		PARSE("bad escape \\U", RQ("1", METHOD("\\U0041"))),
		PARSE("bad escape \\'", RQ("1", METHOD("\\'"))),
		PARSE("capitalised True", RQ("1", METHOD("ping")
		    ",\"params\":{\"a\":True}")),
		PARSE("vertical tab as whitespace", "\v" PING("1")),
		PARSE("form feed as whitespace", PING("1") "\f"),
		SILENT("blank line", "   \t  "),
		/* A valid pair is valid JSON: just an unknown method. */
		ERR("valid surrogate pair", RQ("2", METHOD("\\udbff\\udfff")),
		    -32601, "2", "Method not found"),
	};

	struct srv	*s = start(1);

	(void)state;
	run_cases(s, cases, NCASES(cases));
}

static void
test_encoding(void **state)
{
	static const struct hcase cases[] = {
		RAWPARSE("0xff in a string", RQ("1", METHOD("pi\xffng"))),
		RAWPARSE("0xfe in a string", RQ("1", METHOD("\xfe"))),
		RAWPARSE("overlong C0 AF", RQ("1", METHOD("p\xc0\xaf" "ng"))),
		RAWPARSE("overlong E0 80 AF", RQ("1", METHOD("\xe0\x80\xaf"))),
		RAWPARSE("overlong F0 80 80 AF",
		    RQ("1", METHOD("\xf0\x80\x80\xaf"))),
		RAWPARSE("UTF-8 encoded surrogate ED A0 80",
		    RQ("1", METHOD("\xed\xa0\x80"))),
		RAWPARSE("beyond U+10FFFF", RQ("1", METHOD("\xf4\x90\x80\x80"))),
		RAWPARSE("five-byte form", RQ("1", METHOD("\xf8\x88\x80\x80\x80"))),
		RAWPARSE("truncated sequence", RQ("1", METHOD("ping\xe2\x82"))),
		RAWPARSE("lone continuation byte", RQ("1", METHOD("\x80" "ping"))),
		RAWPARSE("lead byte then ASCII", RQ("1", METHOD("\xc3" "A"))),
		RAWPARSE("bad UTF-8 in a key",
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"me\xffthod\":\"ping\"}"),
		RAWPARSE("bad UTF-8 in the task", UNIT("1", "nash-forbes",
		    "nash", "do \xc0\xaf it")),
		RAWPARSE("non-ASCII between tokens",
		    "{\"jsonrpc\":\"2.0\",\xc2\xa0\"id\":1,\"method\":\"ping\"}"),
		RAWPARSE("raw NUL in the method",
		    RQ("1", METHOD("p\0ng"))),
		RAWPARSE("raw NUL between tokens",
		    "{\"jsonrpc\":\"2.0\",\0\"id\":1,\"method\":\"ping\"}"),
		RAWPARSE("raw NUL in the task", UNIT("1", "nash-forbes",
		    "nash", "a\0b")),
		RAWPARSE("raw NUL after the value", PING("1") "\0"),
		RAWPARSE("UTF-8 byte order mark", "\xef\xbb\xbf" PING("1")),
		RAWPARSE("UTF-16 byte order mark", "\xfe\xff" PING("1")),
		TOOLERR("escaped NUL inside the task", UNIT("2", "nash-forbes",
		    "nash", "before\\u0000after"), "2",
		    "task_description must be valid UTF-8 without NUL "
		    "characters", 1),
		TOOLERR("escaped NUL at the end of the task",
		    UNIT("3", "nash-forbes", "nash", "task\\u0000"), "3",
		    "without NUL characters", 1),
		TOOLERR("escaped NUL inside orguser", UNIT("4",
		    "nash\\u0000-forbes", "nash", "t"), "4",
		    "invalid orguser", 1),
		TOOLERR("escaped NUL inside repo", UNIT("5", "nash-forbes",
		    "nash\\u0000", "t"), "5", "invalid repo", 1),
		/* An escaped NUL in an id is data, echoed exactly. */
		OK("escaped NUL in a string id", RQ("\"a\\u0000b\"",
		    METHOD("ping")), "\"a\\u0000b\""),
		ERR("valid UTF-8 method is just unknown",
		    RQ("6", METHOD("p\xc3\xafng")), -32601, "6",
		    "Method not found"),
	};
	struct srv	*s = start(1);

	(void)state;
	run_cases(s, cases, NCASES(cases));
}

static void
test_rpc_structure(void **state)
{
	char		 id300[400], id257[400], id256[400];
	char		 l300[700], l257[700], l256[700], j256[410];
	const struct hcase cases[] = {
		ERR("jsonrpc 1.0", "{\"jsonrpc\":\"1.0\",\"id\":7,"
		    "\"method\":\"ping\"}", -32600, "7", "jsonrpc"),
		ERR("jsonrpc missing", "{\"id\":8,\"method\":\"ping\"}",
		    -32600, "8", "jsonrpc"),
		ERR("jsonrpc as a number", "{\"jsonrpc\":2.0,\"id\":9,"
		    "\"method\":\"ping\"}", -32600, "9", "jsonrpc"),
		ERR("jsonrpc with a space", "{\"jsonrpc\":\"2.0 \",\"id\":10,"
		    "\"method\":\"ping\"}", -32600, "10", "jsonrpc"),
		ERR("jsonrpc 2", "{\"jsonrpc\":\"2\",\"id\":11,"
		    "\"method\":\"ping\"}", -32600, "11", "jsonrpc"),
		ERR("id null", RQ("null", METHOD("ping")), -32600, NULL, "id"),
		ERR("id float", RQ("1.5", METHOD("ping")), -32600, NULL, "id"),
		ERR("id float 1.0", RQ("1.0", METHOD("ping")), -32600, NULL,
		    "id"),
		ERR("id exponent", RQ("1e2", METHOD("ping")), -32600, NULL,
		    "id"),
		ERR("id object", RQ("{}", METHOD("ping")), -32600, NULL, "id"),
		ERR("id array", RQ("[1]", METHOD("ping")), -32600, NULL, "id"),
		ERR("id true", RQ("true", METHOD("ping")), -32600, NULL, "id"),
		ERR("id false", RQ("false", METHOD("ping")), -32600, NULL,
		    "id"),
		ERR("id 2^63", RQ("9223372036854775808", METHOD("ping")),
		    -32600, NULL, "id"),
		ERR("id 2^63-1", RQ("9223372036854775807", METHOD("ping")),
		    -32600, NULL, "id"),
		ERR("id 2^53", RQ("9007199254740992", METHOD("ping")),
		    -32600, NULL, "id"),
		ERR("id -2^53", RQ("-9007199254740992", METHOD("ping")),
		    -32600, NULL, "id"),
		OK("id 2^53-1", RQ("9007199254740991", METHOD("ping")),
		    "9007199254740991"),
		ERR("id of 300 bytes", l300, -32600, NULL, "id"),
		ERR("id of 257 bytes", l257, -32600, NULL, "id"),
		OK("id of 256 bytes", l256, j256),
		ERR("method missing", "{\"jsonrpc\":\"2.0\",\"id\":12}",
		    -32600, "12", "method"),
		ERR("method a number", RQ("13", "\"method\":5"), -32600, "13",
		    "method"),
		ERR("method null", RQ("14", "\"method\":null"), -32600, "14",
		    "method"),
		ERR("method an array", RQ("15", "\"method\":[\"ping\"]"),
		    -32600, "15", "method"),
		ERR("method an object", RQ("16", "\"method\":{}"), -32600,
		    "16", "method"),
		ERR("method true", RQ("17", "\"method\":true"), -32600, "17",
		    "method"),
		ERR("method empty", RQ("18", METHOD("")), -32601, "18",
		    "Method not found"),
		ERR("method in capitals", RQ("19", METHOD("PING")), -32601,
		    "19", NULL),
		ERR("method with a space", RQ("20", METHOD("ping ")), -32601,
		    "20", NULL),
		ERR("method path traversal", RQ("21", METHOD("tools/../ping")),
		    -32601, "21", NULL),
		ERR("method rpc.discover", RQ("22", METHOD("rpc.discover")),
		    -32601, "22", NULL),
		ERR("method a format string", RQ("23", METHOD("%n%s%x")),
		    -32601, "23", "Method not found: %n%s%x"),
		ERR("params an array", RQ("24", METHOD("ping")
		    ",\"params\":[]"), -32602, "24", "params"),
		ERR("params a string", RQ("25", METHOD("ping")
		    ",\"params\":\"{}\""), -32602, "25", "params"),
		ERR("params a number", RQ("26", METHOD("tools/list")
		    ",\"params\":1"), -32602, "26", "params"),
		ERR("params null", RQ("27", METHOD("ping")
		    ",\"params\":null"), -32602, "27", "params"),
		ERR("params true", RQ("28", METHOD("ping")
		    ",\"params\":true"), -32602, "28", "params"),
		ERR("_meta a string", RQ("29", METHOD("ping")
		    ",\"params\":{\"_meta\":\"x\"}"), -32602, "29", "_meta"),
		ERR("progressToken an object", RQ("30", METHOD("ping")
		    ",\"params\":{\"_meta\":{\"progressToken\":{}}}"), -32602,
		    "30", "progressToken"),
		ERR("unsupported stateless version", RQ("31",
		    METHOD("tools/list") ",\"params\":{\"_meta\":{"
		    "\"io.modelcontextprotocol/protocolVersion\":\"1999-01-01\","
		    "\"io.modelcontextprotocol/clientCapabilities\":{}}}"),
		    -32022, "31", "Unsupported protocol version"),
		ERR("stateless version not a string", RQ("32",
		    METHOD("tools/list") ",\"params\":{\"_meta\":{"
		    "\"io.modelcontextprotocol/protocolVersion\":20260728}}"),
		    -32602, "32", NULL),
		ERR("stateless without capabilities", RQ("33",
		    METHOD("tools/list") ",\"params\":{\"_meta\":{"
		    "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\""
		    "}}"), -32602, "33", "clientCapabilities"),
		ERR("discover without an envelope",
		    RQ("34", METHOD("server/discover")), -32602, "34", NULL),
		ERR("setLevel to a bogus level", RQ("35",
		    METHOD("logging/setLevel") ",\"params\":{\"level\":"
		    "\"%s\"}"), -32602, "35", "level"),
		ERR("tools/list with a cursor", RQ("36", METHOD("tools/list")
		    ",\"params\":{\"cursor\":\"../..\"}"), -32602, "36",
		    "cursor"),
		ERR("second initialize", RQ("37", METHOD("initialize")
		    ",\"params\":{\"protocolVersion\":\"2025-11-25\","
		    "\"capabilities\":{},\"clientInfo\":{\"name\":\"again\","
		    "\"version\":\"1\"}}"), -32600, "37", "already initialized"),
		ERR("a batch outside 2025-03-26", "[" PING("38") "]", -32600,
		    NULL, "batch"),
		SILENT("notification ping", "{\"jsonrpc\":\"2.0\","
		    "\"method\":\"ping\"}"),
		SILENT("unknown notification", "{\"jsonrpc\":\"2.0\","
		    "\"method\":\"notifications/%n%s\"}"),
		SILENT("cancel of a bogus id", "{\"jsonrpc\":\"2.0\","
		    "\"method\":\"notifications/cancelled\",\"params\":"
		    "{\"requestId\":{\"x\":1}}}"),
		SILENT("a response we never asked for",
		    "{\"jsonrpc\":\"2.0\",\"id\":39,\"result\":{}}"),
	};
	struct srv	*s;

	(void)state;
	memset(id300, 'x', 300);
	id300[300] = '\0';
	memset(id257, 'y', 257);
	id257[257] = '\0';
	memset(id256, 'z', 256);
	id256[256] = '\0';
	snprintf(l300, sizeof l300, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id300);
	snprintf(l257, sizeof l257, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id257);
	snprintf(l256, sizeof l256, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id256);
	snprintf(j256, sizeof j256, "\"%s\"", id256);

	s = start(1);
	run_cases(s, cases, NCASES(cases));
}

/*
 * Before initialize only ping and initialize itself are served; the
 * handshake's clientInfo is hostile and must arrive in the audit log
 * and on stderr as literal text.
 */
#define FMT_NAME	"%n%s%x%p%99999999d"
#define FMT_VERSION	"%s%s%s%s%n\\u001b[31m"

static void
test_before_initialize(void **state)
{
	static const struct hcase cases[] = {
		OK("ping before initialize", PING("1"), "1"),
		ERR("tools/list before initialize", RQ("2",
		    METHOD("tools/list")), -32602, "2", "initialize"),
		ERR("tools/call before initialize", CALL("3", "dispatch_unit",
		    UARGS("nash-forbes", "nash", "t")), -32602, "3",
		    "initialize"),
		ERR("setLevel before initialize", RQ("4",
		    METHOD("logging/setLevel") ",\"params\":{\"level\":"
		    "\"debug\"}"), -32602, "4", "initialize"),
		ERR("unknown method before initialize", RQ("5",
		    METHOD("no/such")), -32601, "5", NULL),
		SILENT("initialized before initialize",
		    "{\"jsonrpc\":\"2.0\",\"method\":"
		    "\"notifications/initialized\"}"),
		ERR("initialize without protocolVersion", RQ("6",
		    METHOD("initialize") ",\"params\":{}"), -32602, "6",
		    "protocolVersion"),
		ERR("initialize with a numeric protocolVersion", RQ("7",
		    METHOD("initialize") ",\"params\":{\"protocolVersion\":"
		    "20251125}"), -32602, "7", "protocolVersion"),
		ERR("initialize with params an array", RQ("8",
		    METHOD("initialize") ",\"params\":[]"), -32602, "8",
		    "params"),
		OK("initialize with format strings in clientInfo", RQ("9",
		    METHOD("initialize") ",\"params\":{\"protocolVersion\":"
		    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
		    "\"name\":\"" FMT_NAME "\",\"version\":\"" FMT_VERSION
		    "\"}}"), "9"),
		ERR("initialize again", RQ("10", METHOD("initialize")
		    ",\"params\":{\"protocolVersion\":\"2025-11-25\"}"), -32600,
		    "10", "already initialized"),
		OK("tools/list after initialize", RQ("11",
		    METHOD("tools/list")), "11"),
		DISPATCH("dispatch under the hostile client",
		    UNIT("12", "nash-forbes", "nash", "fmt %n%s%x task"), "12",
		    "fmt %n%s%x task"),
		TOOLERR("refusal under the hostile client",
		    UNIT("13", "%n%s%x", "nash", "t"), "13",
		    "invalid orguser '%n%s%x'", 1),
	};
	struct srv		*s = start(0);
	struct json_object	*rec;
	char			*txt;
	const char		*err;

	(void)state;
	run_cases(s, cases, NCASES(cases));

	/* The audit records keep the literal text. */
	txt = last_record(s, "dispatch");
	assert_non_null(txt);
	rec = json_tokener_parse(txt);
	assert_string_equal(jget_str(jget(rec, "client"), "name"), FMT_NAME);
	assert_string_equal(jget_str(jget(rec, "client"), "version"),
	    "%s%s%s%s%n\x1b[31m");
	assert_string_equal(jget_str(rec, "task"), "fmt %n%s%x task");
	json_object_put(rec);
	free(txt);
	txt = last_record(s, "rejected");
	assert_non_null(txt);
	rec = json_tokener_parse(txt);
	assert_string_equal(jget_str(jget(rec, "client"), "name"), FMT_NAME);
	assert_non_null(strstr(jget_str(rec, "reason"),
	    "invalid orguser '%n%s%x'"));
	assert_non_null(strstr(jget_str(rec, "arguments"),
	    "\"orguser\":\"%n%s%x\""));
	json_object_put(rec);
	free(txt);
	/* stderr: the literal, with the escape byte made visible. */
	err = srv_stderr(s);
	assert_non_null(strstr(err, "client \"" FMT_NAME
	    "\" %s%s%s%s%n\\x1b[31m initialized"));
	assert_null(strchr(err, '\x1b'));
}

static void
test_tool_arguments(void **state)
{
	static const struct hcase cases[] = {
		TOOLERR("orguser a number", CALL("1", "dispatch_unit",
		    "{\"orguser\":5,\"repo\":\"nash\",\"task_description\":"
		    "\"t\"}"), "1", "orguser must be a string", 1),
		TOOLERR("orguser an array", CALL("2", "dispatch_unit",
		    "{\"orguser\":[\"nash-forbes\"],\"repo\":\"nash\","
		    "\"task_description\":\"t\"}"), "2",
		    "orguser must be a string", 1),
		TOOLERR("orguser an object", CALL("3", "dispatch_unit",
		    "{\"orguser\":{\"n\":\"nash-forbes\"},\"repo\":\"nash\","
		    "\"task_description\":\"t\"}"), "3",
		    "orguser must be a string", 1),
		TOOLERR("orguser null", CALL("4", "dispatch_unit",
		    "{\"orguser\":null,\"repo\":\"nash\","
		    "\"task_description\":\"t\"}"), "4",
		    "orguser must be a string", 1),
		TOOLERR("orguser true", CALL("5", "dispatch_unit",
		    "{\"orguser\":true,\"repo\":\"nash\","
		    "\"task_description\":\"t\"}"), "5",
		    "orguser must be a string", 1),
		TOOLERR("repo a float", CALL("6", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":1.5,"
		    "\"task_description\":\"t\"}"), "6",
		    "repo must be a string", 1),
		TOOLERR("repo null", CALL("7", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":null,"
		    "\"task_description\":\"t\"}"), "7",
		    "repo must be a string", 1),
		TOOLERR("task a number", CALL("8", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":42}"), "8",
		    "task_description must be a string", 1),
		TOOLERR("task an array of strings", CALL("9", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":[\"rm\",\"-rf\"]}"), "9",
		    "task_description must be a string", 1),
		TOOLERR("task an object", CALL("10", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":{}}"), "10",
		    "task_description must be a string", 1),
		TOOLERR("task false", CALL("11", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":false}"), "11",
		    "task_description must be a string", 1),
		TOOLERR("extra key", CALL("12", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":\"t\",\"shell\":\"/bin/sh\"}"), "12",
		    "unexpected argument 'shell'", 1),
		TOOLERR("extra __proto__ key", CALL("13", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":\"t\",\"__proto__\":{}}"), "13",
		    "unexpected argument '__proto__'", 1),
		TOOLERR("extra key that is a format string",
		    CALL("14", "dispatch_unit", "{\"orguser\":\"nash-forbes\","
		    "\"repo\":\"nash\",\"task_description\":\"t\","
		    "\"%n%s\":1}"), "14", "unexpected argument '%n%s'", 1),
		TOOLERR("orguser missing", CALL("15", "dispatch_unit",
		    "{\"repo\":\"nash\",\"task_description\":\"t\"}"), "15",
		    "missing required argument 'orguser'", 1),
		TOOLERR("task missing", CALL("16", "dispatch_unit",
		    "{\"orguser\":\"nash-forbes\",\"repo\":\"nash\"}"), "16",
		    "missing required argument 'task_description'", 1),
		TOOLERR("arguments empty", CALL("17", "dispatch_unit", "{}"),
		    "17", "missing required argument", 1),
		TOOLERR("arguments absent", RQ("18", METHOD("tools/call")
		    ",\"params\":{\"name\":\"dispatch_unit\"}"), "18",
		    "missing required argument", 1),
		TOOLERR("task empty", UNIT("19", "nash-forbes", "nash", ""),
		    "19", "task_description must not be empty", 1),
		TOOLERR("task only Unicode spaces", UNIT("20", "nash-forbes",
		    "nash", "\\u3000 \\t\\u2028\\n"), "20",
		    "task_description must not be empty", 1),
		ERR("arguments an array", CALL("21", "dispatch_unit",
		    "[\"nash-forbes\",\"nash\",\"t\"]"), -32602, "21",
		    "arguments must be an object"),
		ERR("arguments a string", CALL("22", "dispatch_unit",
		    "\"{\\\"orguser\\\":\\\"nash-forbes\\\"}\""), -32602, "22",
		    "arguments must be an object"),
		ERR("arguments null", CALL("23", "dispatch_unit", "null"),
		    -32602, "23", "arguments must be an object"),
		ERR("arguments a number", CALL("24", "dispatch_unit", "0"),
		    -32602, "24", "arguments must be an object"),
		ERR("name missing", RQ("25", METHOD("tools/call")
		    ",\"params\":{\"arguments\":{}}"), -32602, "25",
		    "name must be a string"),
		ERR("name a number", RQ("26", METHOD("tools/call")
		    ",\"params\":{\"name\":1,\"arguments\":{}}"), -32602, "26",
		    "name must be a string"),
		ERR("name an array", RQ("27", METHOD("tools/call")
		    ",\"params\":{\"name\":[\"dispatch_unit\"]}"), -32602, "27",
		    "name must be a string"),
		ERR("unknown tool", CALL("28", "exec", "{\"cmd\":\"id\"}"),
		    -32602, "28", "Unknown tool: exec"),
		ERR("tool name in capitals", CALL("29", "DISPATCH_UNIT",
		    UARGS("nash-forbes", "nash", "t")), -32602, "29",
		    "Unknown tool"),
		ERR("tool name with a trailing space", CALL("30",
		    "dispatch_unit ", UARGS("nash-forbes", "nash", "t")),
		    -32602, "30", "Unknown tool"),
		ERR("tool name a format string", CALL("31", "%n%s%x", "{}"),
		    -32602, "31", "Unknown tool: %n%s%x"),
		ERR("tools/call without params", RQ("32",
		    METHOD("tools/call")), -32602, "32", "params"),
		TOOLERR("status handle a number", CALL("33", "dispatch_status",
		    "{\"handle\":5}"), "33", "handle must be a string", 0),
		TOOLERR("status handle missing", CALL("34", "dispatch_status",
		    "{}"), "34", "missing required argument 'handle'", 0),
		TOOLERR("status extra key", CALL("35", "dispatch_status",
		    "{\"handle\":\"" ZERO_HANDLE "\",\"verbose\":true}"), "35",
		    "unexpected argument 'verbose'", 0),
		TOOLERR("result wait_seconds a string", CALL("36",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":\"5\"}"), "36",
		    "wait_seconds must be a number", 0),
		TOOLERR("result wait_seconds true", CALL("37",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":true}"), "37",
		    "wait_seconds must be a number", 0),
		TOOLERR("result wait_seconds negative", CALL("38",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":-1}"), "38", "from 0 to 50", 0),
		TOOLERR("result wait_seconds 51", CALL("39",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":51}"), "39", "from 0 to 50", 0),
		TOOLERR("result wait_seconds 1e300", CALL("40",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":1e300}"), "40", "from 0 to 50", 0),
		PARSE("result wait_seconds 1e400", CALL("41",
		    "dispatch_result", "{\"handle\":\"" ZERO_HANDLE "\","
		    "\"wait_seconds\":1e400}")),
		TOOLERR("list cursor a number", CALL("42", "dispatch_list",
		    "{\"cursor\":5}"), "42", "cursor must be a string", 0),
		TOOLERR("list cursor negative", CALL("43", "dispatch_list",
		    "{\"cursor\":\"o-1\"}"), "43", "invalid cursor", 0),
		TOOLERR("list cursor huge", CALL("44", "dispatch_list",
		    "{\"cursor\":\"o9999999\"}"), "44", "invalid cursor", 0),
		TOOLERR("list cursor a format string", CALL("45",
		    "dispatch_list", "{\"cursor\":\"%n%s\"}"), "45",
		    "invalid cursor", 0),
		TOOLERR("list extra key", CALL("46", "dispatch_list",
		    "{\"all\":true}"), "46", "unexpected argument 'all'", 0),
		OK("list with no arguments", RQ("47", METHOD("tools/call")
		    ",\"params\":{\"name\":\"dispatch_list\"}"), "47"),
	};
	struct srv	*s = start(1);

	(void)state;
	run_cases(s, cases, NCASES(cases));
}

static void
test_names_and_tasks(void **state)
{
	static const struct hcase cases[] = {
		TOOLERR("Cyrillic a in orguser", UNIT("1",
		    "n\xd0\xb0sh-forbes", "nash", "t"), "1",
		    "invalid orguser 'n\xd0\xb0sh-forbes'", 1),
		TOOLERR("Cyrillic a in repo", UNIT("2", "nash-forbes",
		    "n\xd0\xb0sh", "t"), "2", "invalid repo", 1),
		TOOLERR("fullwidth orguser", UNIT("3",
		    "\xef\xbd\x8e\xef\xbd\x81\xef\xbd\x93\xef\xbd\x88", "nash",
		    "t"), "3", "invalid orguser", 1),
		TOOLERR("fullwidth repo", UNIT("4", "nash-forbes",
		    "\\uff4e\\uff41\\uff53\\uff48", "t"), "4", "invalid repo",
		    1),
		TOOLERR("RTL override in orguser", UNIT("5",
		    "nash\\u202e-forbes", "nash", "t"), "5", "invalid orguser",
		    1),
		TOOLERR("RTL override in repo", UNIT("6", "nash-forbes",
		    "\\u202ehsan", "t"), "6", "invalid repo", 1),
		TOOLERR("zero-width joiner in orguser", UNIT("7",
		    "nash\\u200d-forbes", "nash", "t"), "7",
		    "invalid orguser", 1),
		TOOLERR("zero-width joiner at the end of repo", UNIT("8",
		    "nash-forbes", "nash\\u200d", "t"), "8", "invalid repo",
		    1),
		TOOLERR("path traversal in orguser", UNIT("9", "../nash-forbes",
		    "nash", "t"), "9", "invalid orguser '../nash-forbes'", 1),
		TOOLERR("path traversal in repo", UNIT("10", "nash-forbes",
		    "../../etc/passwd", "t"), "10", "invalid repo", 1),
		TOOLERR("dot-dot repo", UNIT("11", "nash-forbes", "..", "t"),
		    "11", "invalid repo '..'", 1),
		TOOLERR("absolute orguser", UNIT("12", "/etc", "nash", "t"),
		    "12", "invalid orguser '/etc'", 1),
		TOOLERR("absolute repo", UNIT("13", "nash-forbes",
		    "/etc/shadow", "t"), "13", "invalid repo", 1),
		TOOLERR("semicolon", UNIT("14", "nash-forbes;id", "nash", "t"),
		    "14", "invalid orguser", 1),
		TOOLERR("pipe", UNIT("15", "nash-forbes", "nash|sh", "t"), "15",
		    "invalid repo", 1),
		TOOLERR("ampersand", UNIT("16", "nash-forbes&", "nash", "t"),
		    "16", "invalid orguser", 1),
		TOOLERR("command substitution", UNIT("17", "$(id)", "nash",
		    "t"), "17", "invalid orguser '$(id)'", 1),
		TOOLERR("backticks", UNIT("18", "nash-forbes", "`id`", "t"),
		    "18", "invalid repo '`id`'", 1),
		TOOLERR("option-like orguser", UNIT("19", "-oProxyCommand=sh",
		    "nash", "t"), "19", "invalid orguser", 1),
		TOOLERR("newline inside orguser", UNIT("20", "nash\\nforbes",
		    "nash", "t"), "20", "invalid orguser", 1),
		TOOLERR("CR inside orguser", UNIT("21", "nash\\r-forbes",
		    "nash", "t"), "21", "invalid orguser", 1),
		TOOLERR("newline inside repo", UNIT("22", "nash-forbes",
		    "na\\nsh", "t"), "22", "invalid repo", 1),
		TOOLERR("CR inside repo", UNIT("23", "nash-forbes", "na\\rsh",
		    "t"), "23", "invalid repo", 1),
		TOOLERR("format string in orguser", UNIT("24", "%n%s%x",
		    "nash", "t"), "24", "invalid orguser '%n%s%x'", 1),
		TOOLERR("format string in repo", UNIT("25", "nash-forbes",
		    "%n%s%x", "t"), "25", "invalid repo '%n%s%x'", 1),
		TOOLERR("glob orguser", UNIT("26", "*", "nash", "t"), "26",
		    "invalid orguser '*'", 1),
		TOOLERR("valid name, not allowlisted", UNIT("27",
		    "nash-forbes", "nash.git", "t"), "27", "unknown repo", 1),
		TOOLERR("repo owned by another orguser", UNIT("28",
		    "reid-max", "nash", "t"), "28", "does not own", 1),
		DISPATCH("newline inside the task", UNIT("40", "nash-forbes",
		    "nash", "line one\\nline two"), "40",
		    "line one\nline two"),
		DISPATCH("CR inside the task", UNIT("41", "nash-forbes",
		    "nash", "one\\rtwo\\r\\nthree"), "41",
		    "one\rtwo\r\nthree"),
		DISPATCH("an option-like task", UNIT("42", "nash-forbes",
		    "nash", "--rm -rf"), "42", "--rm -rf"),
		DISPATCH("format strings in the task", UNIT("43",
		    "nash-forbes", "nash", "%n%s%x%p%9999999d"), "43",
		    "%n%s%x%p%9999999d"),
		DISPATCH("shell metacharacters in the task", UNIT("44",
		    "nash-forbes", "nash", "; id | sh & $(id) `id` > /x"),
		    "44", "; id | sh & $(id) `id` > /x"),
		DISPATCH("path traversal in the task", UNIT("45",
		    "nash-forbes", "nash", "../../etc/passwd"), "45",
		    "../../etc/passwd"),
		DISPATCH("RTL override and ZWJ in the task", UNIT("46",
		    "nash-forbes", "nash", "a\\u202eb\\u200dc"), "46",
		    "a\xe2\x80\xae" "b\xe2\x80\x8d" "c"),
		DISPATCH("Cyrillic and fullwidth in the task", UNIT("47",
		    "nash-forbes", "nash", "\xd0\xb0\xef\xbd\x8e"), "47",
		    "\xd0\xb0\xef\xbd\x8e"),
		DISPATCH("padding is stripped from the task", UNIT("48",
		    "nash-forbes", "nash", "\\n\\t  padded \\u3000\\n"), "48",
		    "padded"),
	};
	struct srv	*s = start(1);
	char		*txt;

	(void)state;
	run_cases(s, cases, NCASES(cases));
	/* The audit keeps the task as the lane got it. */
	txt = last_record(s, "dispatch");
	assert_non_null(txt);
	assert_non_null(strstr(txt, "\"task\":\"padded\""));
	free(txt);
}

static void
test_handles(void **state)
{
	static const char *tools[] = { "dispatch_status", "dispatch_result" };
	static char	 huge[10001];
	const char	*handles[] = {
		"xyz",
		"dsq-00000000000000000000000000000000",
		"DSP-00000000000000000000000000000000",
		"dsp-ABCDEF00000000000000000000000000",
		"dsp-000000000000000000000000000000a",		/* 31 */
		"dsp-000000000000000000000000000000abc",	/* 33 */
		huge,
		"",
		" " ZERO_HANDLE,
		"dsp-0000000000000000000000000000000g",
		"../../etc/passwd",
		"dsp-%n%s%x00000000000000000000000000",
		ZERO_HANDLE,				/* well formed */
	};
	struct srv	*s = start(1);
	struct hcase	 c;
	char		*line, id[16], name[96];
	size_t		 i, j, len;

	(void)state;
	memcpy(huge, "dsp-", 4);
	memset(huge + 4, 'a', sizeof huge - 5);
	huge[sizeof huge - 1] = '\0';
	for (i = 0; i < NCASES(tools); i++) {
		for (j = 0; j < NCASES(handles); j++) {
			len = strlen(handles[j]) + 200;
			line = malloc(len);
			assert_non_null(line);
			snprintf(id, sizeof id, "%zu", i * 100 + j);
			snprintf(line, len, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
			    "\"method\":\"tools/call\",\"params\":{\"name\":"
			    "\"%s\",\"arguments\":{\"handle\":\"%s\"}}}", id,
			    tools[i], handles[j]);
			memset(&c, 0, sizeof c);
			snprintf(name, sizeof name, "%s with handle '%.40s'%s",
			    tools[i], handles[j], handles[j] == huge ?
			    " (10000 characters)" : "");
			c.name = name;
			c.line = line;
			c.kind = K_TOOL_ERROR;
			c.id = id;
			c.msg = "unknown dispatch handle";
			run_case(s, &c);
			free(line);
		}
	}
}

/* A line of exactly len bytes: a ping whose params pad it out. */
static char *
padded_ping(size_t len, int id)
{
	char	*buf, head[128];
	size_t	 hl, tl = 3;

	hl = (size_t)snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\","
	    "\"id\":%d,\"method\":\"ping\",\"params\":{\"pad\":\"", id);
	if ((buf = malloc(len + 1)) == NULL)
		return (NULL);
	memcpy(buf, head, hl);
	memset(buf + hl, 'a', len - hl - tl);
	memcpy(buf + len - tl, "\"}}", tl);
	buf[len] = '\0';
	return (buf);
}

static char *
repeat(const char *unit, size_t n, const char *pre, const char *post)
{
	size_t	ul = strlen(unit), pl = strlen(pre), ql = strlen(post), i;
	char	*buf, *p;

	if ((buf = malloc(pl + ul * n + ql + 1)) == NULL)
		return (NULL);
	memcpy(buf, pre, pl);
	p = buf + pl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, post, ql + 1);
	return (buf);
}

/* A ping whose params hold 10^5 keys; dup: the last repeats the first. */
static char *
keys_line(int id, int dup)
{
	size_t	 len = 100000 * 20 + 128, i;
	char	*line, *p;

	if ((line = malloc(len)) == NULL)
		return (NULL);
	p = line + snprintf(line, len, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
	    "\"method\":\"ping\",\"params\":{", id);
	for (i = 0; i < 100000; i++)
		p += snprintf(p, len - (size_t)(p - line), "%s\"k%zu\":%zu",
		    i > 0 ? "," : "", dup && i == 99999 ? (size_t)0 : i, i);
	snprintf(p, len - (size_t)(p - line), "}}");
	return (line);
}

static void
test_sizes(void **state)
{
	struct srv		*s = start(1);
	struct hcase		 c;
	struct json_object	*r;
	char			*line, *task, *p;

	(void)state;
	/* Exactly the limit: answered. */
	line = padded_ping(MAX_LINE_BYTES, 77);
	assert_non_null(line);
	memset(&c, 0, sizeof c);
	c.name = "line of exactly 4194304 bytes";
	c.line = line;
	c.len = MAX_LINE_BYTES;
	c.kind = K_RESULT;
	c.id = "77";
	run_case(s, &c);
	free(line);

	/* One byte over: refused without an id. */
	line = padded_ping(MAX_LINE_BYTES + 1, 78);
	assert_non_null(line);
	memset(&c, 0, sizeof c);
	c.name = "line of 4194305 bytes";
	c.line = line;
	c.len = MAX_LINE_BYTES + 1;
	c.kind = K_RPC_ERROR;
	c.code = -32600;
	c.msg = "too large";
	run_case(s, &c);
	/* The same with \r\n: the \r is not counted, so it is served. */
	line[MAX_LINE_BYTES - 3] = '"';
	line[MAX_LINE_BYTES - 2] = '}';
	line[MAX_LINE_BYTES - 1] = '}';
	line[MAX_LINE_BYTES] = '\r';
	c.name = "4194304 bytes and a CR";
	c.kind = K_RESULT;
	c.code = 0;
	c.msg = NULL;
	c.id = "78";
	run_case(s, &c);
	free(line);

	/* A million nested arrays. */
	line = malloc(1000001);
	assert_non_null(line);
	memset(line, '[', 1000000);
	line[1000000] = '\0';
	memset(&c, 0, sizeof c);
	c.name = "10^6 nested arrays";
	c.line = line;
	c.kind = K_RPC_ERROR;
	c.code = -32700;
	c.msg = "nested too deeply";
	run_case(s, &c);
	free(line);

	/* Balanced nesting past the depth limit inside params. */
	line = repeat("[", 1000, "{\"jsonrpc\":\"2.0\",\"id\":79,"
	    "\"method\":\"ping\",\"params\":{\"a\":", "");
	assert_non_null(line);
	p = repeat("]", 1000, line, "}}");
	free(line);
	assert_non_null(p);
	memset(&c, 0, sizeof c);
	c.name = "1000 balanced nested arrays in params";
	c.line = p;
	c.kind = K_RPC_ERROR;
	c.code = -32700;
	run_case(s, &c);
	free(p);

	/* 10^5 keys in the params of a ping: answered. */
	line = keys_line(80, 0);
	assert_non_null(line);
	memset(&c, 0, sizeof c);
	c.name = "10^5 keys in params";
	c.line = line;
	c.kind = K_RESULT;
	c.id = "80";
	run_case(s, &c);
	free(line);
	/* ... and the same with the last key a twin of the first. */
	line = keys_line(81, 1);
	assert_non_null(line);
	c.name = "10^5 keys, one of them twice";
	c.line = line;
	c.kind = K_RPC_ERROR;
	c.code = -32700;
	c.id = NULL;
	c.msg = "duplicate key";
	run_case(s, &c);
	free(line);

	/* A 300-byte progressToken: refused, as every notification would
	 * carry it. */
	line = repeat("a", 300, "{\"jsonrpc\":\"2.0\",\"id\":82,\"method\":"
	    "\"ping\",\"params\":{\"_meta\":{\"progressToken\":\"", "\"}}}");
	assert_non_null(line);
	memset(&c, 0, sizeof c);
	c.name = "progressToken of 300 bytes";
	c.line = line;
	c.kind = K_RPC_ERROR;
	c.code = -32602;
	c.id = "82";
	c.msg = "progressToken";
	run_case(s, &c);
	free(line);
	/* A 2 MiB protocol version: -32022, with 64 bytes of it echoed. */
	line = repeat("x", 2 * 1024 * 1024, "{\"jsonrpc\":\"2.0\",\"id\":83,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/clientCapabilities\":{},"
	    "\"io.modelcontextprotocol/protocolVersion\":\"", "\"}}}");
	assert_non_null(line);
	srv_send(s, line);
	free(line);
	r = srv_recv(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(jget(r, "error"), "code"), -32022);
	assert_int_equal(strlen(jget_str(jget(jget(r, "error"), "data"),
	    "requested")), 64);
	json_object_put(r);

	/* 8000 four-byte characters: accepted, delivered byte for byte. */
	task = repeat("\xf0\x9f\x98\x80", 8000, "", "");
	assert_non_null(task);
	line = malloc(strlen(task) + 256);
	assert_non_null(line);
	snprintf(line, strlen(task) + 256, "{\"jsonrpc\":\"2.0\",\"id\":81,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"dispatch_unit\","
	    "\"arguments\":{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
	    "\"task_description\":\"%s\"}}}", task);
	memset(&c, 0, sizeof c);
	c.name = "task of 8000 four-byte characters";
	c.line = line;
	c.kind = K_DISPATCH;
	c.id = "81";
	c.stdin_want = task;
	c.stdin_len = 32000;
	run_case(s, &c);
	free(line);
	free(task);

	/* 8001: refused with the exact count. */
	task = repeat("\xf0\x9f\x98\x80", 8001, "", "");
	assert_non_null(task);
	line = malloc(strlen(task) + 256);
	assert_non_null(line);
	snprintf(line, strlen(task) + 256, "{\"jsonrpc\":\"2.0\",\"id\":82,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"dispatch_unit\","
	    "\"arguments\":{\"orguser\":\"nash-forbes\",\"repo\":\"nash\","
	    "\"task_description\":\"%s\"}}}", task);
	memset(&c, 0, sizeof c);
	c.name = "task of 8001 four-byte characters";
	c.line = line;
	c.kind = K_TOOL_ERROR;
	c.id = "82";
	c.msg = "task_description too long: 8001 > 8000 characters";
	c.rejected = 1;
	run_case(s, &c);
	free(line);
	free(task);

	/* A 129-byte name is past the pattern's {0,127}. */
	task = repeat("a", 129, "", "");
	line = malloc(512);
	snprintf(line, 512, "{\"jsonrpc\":\"2.0\",\"id\":83,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"dispatch_unit\","
	    "\"arguments\":{\"orguser\":\"%s\",\"repo\":\"nash\","
	    "\"task_description\":\"t\"}}}", task);
	memset(&c, 0, sizeof c);
	c.name = "orguser of 129 bytes";
	c.line = line;
	c.kind = K_TOOL_ERROR;
	c.id = "83";
	c.msg = "invalid orguser";
	c.rejected = 1;
	run_case(s, &c);
	free(line);
	free(task);
}

static void
test_framing(void **state)
{
	static const struct hcase cases[] = {
		{ .name = "one byte at a time", .line = PING("1"),
		  .kind = K_RESULT, .id = "1", .trickle = 1 },
		{ .name = "a dispatch one byte at a time",
		  .line = UNIT("2", "nash-forbes", "nash", "slow"),
		  .kind = K_DISPATCH, .id = "2", .stdin_want = "slow",
		  .trickle = 1 },
		OK("CRLF line ending", PING("3") "\r", "3"),
		TOOLERR("CRLF after a tool error", UNIT("4", "..", "nash", "t")
		    "\r", "4", "invalid orguser", 1),
		/* One CR is framing; the other is JSON whitespace. */
		OK("two CRs", PING("5") "\r\r", "5"),
		PARSE("a bare CR inside the line", PING("6") "\r" PING("7")),
		SILENT("a lone CR", "\r"),
		OK("leading whitespace", " \t " PING("8"), "8"),
	};
	struct srv	*s = start(1);

	(void)state;
	run_cases(s, cases, NCASES(cases));
}

/* ------------------------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * 10,000 pipelined pings from a forked writer while we do not read: the
 * server must keep reading its stdin (buffering answers) instead of
 * deadlocking on a full stdout, and answer every id exactly once.
 */
#define BURST	10000

static void
test_burst_pipelined(void **state)
{
	struct srv		*s = start(1);
	struct json_object	*r;
	static unsigned char	 seen[BURST + 1];
	pid_t			 pid;
	int			 st = 0, done = 0, n = 0, id;
	int64_t			 deadline;

	(void)state;
	memset(seen, 0, sizeof seen);
	switch (pid = fork()) {
	case -1:
		fail_msg("fork: %s", strerror(errno));
		break;
	case 0: {
		char	*buf = malloc((size_t)BURST * 64), *p = buf;
		int	 i;

		if (buf == NULL)
			_exit(1);
		for (i = 1; i <= BURST; i++)
			p += sprintf(p, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
			    "\"method\":\"ping\"}\n", i);
		srv_send_raw(s, buf, (size_t)(p - buf));
		_exit(0);
	}
	default:
		break;
	}
	/* Do not read; the writer must still get everything through. */
	deadline = now_ms() + 15000;
	while (now_ms() < deadline) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			done = 1;
			break;
		}
		sleep_ms(20);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("the server stopped reading stdin while its stdout "
		    "was not read (deadlock)");
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Stay away a little longer, then read every answer. */
	sleep_ms(500);
	while (n < BURST && (r = srv_recv(s, 20000)) != NULL) {
		if (jget(r, "method") != NULL) {
			json_object_put(r);
			continue;
		}
		if (jget(r, "result") == NULL ||
		    !json_object_is_type(jget(r, "id"), json_type_int))
			fail_msg("burst: unexpected answer %.300s", jtext(r));
		id = (int)jget_int(r, "id");
		if (id < 1 || id > BURST)
			fail_msg("burst: id %d out of range", id);
		if (seen[id]++)
			fail_msg("burst: id %d answered twice", id);
		n++;
		json_object_put(r);
	}
	assert_int_equal(n, BURST);
	expect_alive(s, "10000 pipelined pings");
	/* Nothing beyond the answers: the next read times out. */
	r = srv_recv(s, 200);
	assert_null(r);
	assert_int_equal(srv_count_files(s, ".started"), 0);
	cases_run++;
}

/* A long-poll keeps an id in flight; reusing it is refused. */
static void
test_reused_id_in_flight(void **state)
{
	struct srv		*s = start(1);
	struct json_object	*r;
	char			 h[64], line[512];

	(void)state;
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 1.5"));
	snprintf(line, sizeof line, CALL("4242", "dispatch_result",
	    "{\"handle\":\"%s\",\"wait_seconds\":20}"), h);
	srv_send(s, line);
	snprintf(line, sizeof line, CALL("\"dup\"", "dispatch_result",
	    "{\"handle\":\"%s\",\"wait_seconds\":20}"), h);
	srv_send(s, line);

	/* The same ids again, as other requests. */
	srv_send(s, PING("4242"));
	r = next_answer(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(jget(r, "error"), "code"), -32600);
	assert_non_null(strstr(jget_str(jget(r, "error"), "message"),
	    "still in progress"));
	json_object_put(r);
	srv_send(s, UNIT("\"dup\"", "nash-forbes", "nash", "must not run"));
	r = next_answer(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(jget(r, "error"), "code"), -32600);
	json_object_put(r);
	/* Other requests are served meanwhile. */
	expect_alive(s, "a reused id");

	/* Each long-poll answers once, after the lane ends. */
	r = next_answer(s, 20000);
	assert_non_null(r);
	assert_string_equal(jget_str(result_struct(r), "status"),
	    "succeeded");
	json_object_put(r);
	r = next_answer(s, 20000);
	assert_non_null(r);
	assert_string_equal(jget_str(result_struct(r), "status"),
	    "succeeded");
	json_object_put(r);
	/* Once answered, an id may be used again. */
	srv_send(s, PING("4242"));
	r = next_answer(s, 10000);
	assert_non_null(r);
	assert_int_equal(jget_int(r, "id"), 4242);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	/* The refused dispatch never ran. */
	assert_int_equal(srv_count_files(s, ".started"), 1);
	assert_int_equal(audit_count(s, "dispatch"), 1);
	cases_run += 3;
}

/*
 * An allowlist whose keys are format strings and control characters:
 * skipped and logged as escaped literal text, and the server keeps
 * working.
 */
static void
test_allowlist_format_strings(void **state)
{
	struct srv		*s = start(1);
	struct json_object	*r;
	const char		*err = "";
	int			 i;

	(void)state;
	write_file(s->repos, "{\"orgs\":{\"nash-forbes\":{},\"a%x\":{},"
	    "\"esc\\u001b[31mred\":{}},\"repos\":{"
	    "\"nash\":{\"org\":\"nash-forbes\",\"github\":\"selamy-labs/nash\"},"
	    "\"fmt%n%s\":{\"org\":\"nash-forbes\"},"
	    "\"good\":{\"org\":\"a%x\"},"
	    "\"gh\":{\"org\":\"nash-forbes\",\"github\":\"%s/%n\"}}}");
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "after a hostile allowlist"), 10000));
	for (i = 0; i < 100; i++) {
		err = srv_stderr(s);
		if (strstr(err, "skipping 'fmt%n%s'") != NULL &&
		    strstr(err, "skipping 'a%x'") != NULL)
			break;
		sleep_ms(20);
	}
	assert_non_null(strstr(err, "skipping 'fmt%n%s': not a valid repo "
	    "name"));
	assert_non_null(strstr(err, "skipping 'a%x': not a valid org name"));
	assert_non_null(strstr(err, "skipping 'esc\\x1b[31mred'"));
	assert_non_null(strstr(err, "skipping 'good'"));
	assert_non_null(strstr(err, "skipping 'gh'"));
	assert_null(strchr(err, '\x1b'));
	assert_null(strstr(err, "(null)"));

	/* Skipped entries are not targets. */
	r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "good", "t"));
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "unknown repo 'good'"));
	json_object_put(r);
	r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "fmt%n%s", "t"));
	assert_true(result_is_error(r));
	json_object_put(r);
	r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "gh", "t"));
	assert_true(result_is_error(r));
	json_object_put(r);
	assert_int_equal(audit_count(s, "rejected"), 3);
	assert_int_equal(srv_count_files(s, ".started"), 1);
	assert_true(pid_alive(s->pid));
	expect_alive(s, "a hostile allowlist");
	cases_run += 4;
}

/*
 * Escaped NULs: json-c keeps them inside string values, so protocol
 * words are compared with their length ("ping\u0000" is no method), and
 * it cuts object keys at them, so a key holding one is a parse error
 * (what json-c would hand on is not what was sent).
 */
static void
test_embedded_nul(void **state)
{
	static const struct hcase cases[] = {
		ERR("escaped NUL in the method name",
		    RQ("1", METHOD("ping\\u0000")), -32601, "1",
		    "Method not found"),
		ERR("escaped NUL after tools/call", RQ("2",
		    METHOD("tools/call\\u0000") ",\"params\":{\"name\":"
		    "\"dispatch_list\",\"arguments\":{}}"), -32601, "2",
		    "Method not found"),
		ERR("escaped NUL in jsonrpc",
		    "{\"jsonrpc\":\"2.0\\u0000x\",\"id\":3,\"method\":\"ping\"}",
		    -32600, "3", "jsonrpc"),
		ERR("escaped NUL in the tool name", CALL("4",
		    "dispatch_list\\u0000evil", "{}"), -32602, "4",
		    "Unknown tool"),
		ERR("escaped NUL in an argument key",
		    CALL("5", "dispatch_unit", "{\"orguser\\u0000zz\":"
		    "\"nash-forbes\",\"repo\":\"nash\","
		    "\"task_description\":\"t\"}"), -32700, NULL,
		    "key holds a NUL"),
		ERR("escaped NUL in a list argument key",
		    CALL("6", "dispatch_list", "{\"cursor\\u0000x\":\"o0\"}"),
		    -32700, NULL, "key holds a NUL"),
	};
	struct srv	*s;

	(void)state;
	s = start(1);
	run_cases(s, cases, NCASES(cases));
}


/* ------------------------------------------------------------------ */
/* Issue 14: special files, answers too large, echoed text, signals,   */
/* files replaced under the sandbox.                                   */

static char *
mktmp(void)
{
	static char	dir[64];

	snprintf(dir, sizeof dir, "/tmp/dispatch-h14.XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	chmod(dir, 0755);
	return (dir);
}

/* A bound AF_UNIX socket at path (left for the test to unlink). */
static int
make_socket(const char *path, int type)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, type, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fail_msg("socket %s: %s", path, strerror(errno));
	return (fd);
}

/* A tool error for this dispatch, holding want; one more rejected record. */
static void
expect_refused(struct srv *s, const char *args, const char *want)
{
	struct json_object	*r;
	int			 rej = audit_count(s, "rejected");

	r = srv_call(s, "dispatch_unit", args);
	if (r == NULL || !result_is_error(r) || result_text(r) == NULL ||
	    strstr(result_text(r), want) == NULL)
		fail_msg("expected a tool error with '%s', got %.400s", want,
		    jtext(r));
	if (strchr(result_text(r), '\n') != NULL)
		fail_msg("a tool error of more than one line: %.400s",
		    result_text(r));
	json_object_put(r);
	assert_int_equal(audit_count(s, "rejected"), rej + 1);
	expect_alive(s, want);
	cases_run++;
}

/*
 * An allowlist that is a FIFO, a directory, a device, a socket, a
 * symbolic link to one, or a /proc file: a tool error at once, and the
 * next request is served; then a good allowlist works again.
 */
static void
test_allowlist_special_files(void **state)
{
	struct srv	*s = start(1);
	char		 path[600];
	int		 fd;

	(void)state;
	unlink(s->repos);
	if (mkfifo(s->repos, 0600) == -1)
		fail_msg("mkfifo: %s", strerror(errno));
	expect_refused(s, UARGS("nash-forbes", "nash", "t"),
	    "is not a regular file but a FIFO");
	/* A writer that never writes: the open must not wait for it. */
	fd = open(s->repos, O_RDWR | O_NONBLOCK);
	expect_refused(s, UARGS("nash-forbes", "nash", "t"),
	    "is not a regular file but a FIFO");
	close(fd);
	unlink(s->repos);
	mkdir(s->repos, 0700);
	/* Landlock lets the broker read files only: EACCES, or the type. */
	expect_refused(s, UARGS("nash-forbes", "nash", "t"), "repos.json");
	rmdir(s->repos);
	fd = make_socket(s->repos, SOCK_STREAM);
	expect_refused(s, UARGS("nash-forbes", "nash", "t"), "cannot be read");
	close(fd);
	unlink(s->repos);
	snprintf(path, sizeof path, "%s/fifo", s->dir);
	mkfifo(path, 0600);
	if (symlink(path, s->repos) == -1)
		fail_msg("symlink: %s", strerror(errno));
	expect_refused(s, UARGS("nash-forbes", "nash", "t"),
	    "is not a regular file but a FIFO");
	unlink(s->repos);
	write_file(s->repos, TEST_REPOS_JSON);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "after special files"), 10000));
	expect_alive(s, "allowlist special files");
}

/* The same through the environment, for files outside the sandbox's reach. */
static void
test_allowlist_devices(void **state)
{
	static const char *const paths[] = {
		"/dev/null", "/dev/zero", "/dev/urandom", "/proc/self/status",
		"/proc/self/fd/0",
	};
	const char	*env[2] = { NULL, NULL };
	char		 kv[128];
	struct srv	*s;
	size_t		 i;

	(void)state;
	for (i = 0; i < NCASES(paths); i++) {
		snprintf(kv, sizeof kv, "DISPATCH_REPOS_JSON=%s", paths[i]);
		env[0] = kv;
		s = cur = srv_start_init(env);
		/* /proc files are regular, of size 0: no JSON in them. */
		expect_refused(s, UARGS("nash-forbes", "nash", "t"),
		    i == 3 ? "is not valid JSON" : i == 4 ?
		    "is not a regular file but" :
		    "is not a regular file but a character device");
		assert_int_equal(srv_close(s, 10000), 0);
		srv_free(s);
		cur = NULL;
	}
}

/* Started with a bad audit log: exit 1 at once, one line on stderr. */
static void
expect_no_start(const char *const *env, const char *want)
{
	struct srv	*s;
	const char	*e;
	int		 st;

	s = cur = srv_start(env);
	st = srv_wait(s, 10000);
	e = srv_stderr(s);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
		fail_msg("expected exit 1 for '%s', got status %d; stderr: %s",
		    want, st, e);
	if (strstr(e, want) == NULL || strchr(e, '\n') != e + strlen(e) - 1 ||
	    strchr(e, '\x1b') != NULL || strchr(e, '\r') != NULL)
		fail_msg("expected one line with '%s', got '%s'", want, e);
	srv_free(s);
	cur = NULL;
	cases_run++;
}

static void
test_audit_special_files(void **state)
{
	const char	*env[3] = { NULL, NULL, NULL };
	char		*d = mktmp(), kv[256], path[200], link[200];
	int		 fd;

	(void)state;
	env[0] = kv;
	snprintf(path, sizeof path, "%s/fifo", d);
	mkfifo(path, 0600);
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", path);
	expect_no_start(env, "not a regular file but a FIFO");
	/* A FIFO with a reader that never reads: still refused. */
	fd = open(path, O_RDONLY | O_NONBLOCK);
	expect_no_start(env, "not a regular file but a FIFO");
	close(fd);
	snprintf(link, sizeof link, "%s/link", d);
	assert_int_equal(symlink(path, link), 0);
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", link);
	expect_no_start(env, "not a regular file but a FIFO");
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=/dev/null");
	expect_no_start(env, "not a regular file but a character device");
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=/dev/zero");
	expect_no_start(env, "not a regular file but a character device");
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", d);
	expect_no_start(env, "DISPATCH_AUDIT_LOG");
	snprintf(path, sizeof path, "%s/sock", d);
	fd = make_socket(path, SOCK_DGRAM);
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", path);
	expect_no_start(env, "DISPATCH_AUDIT_LOG");
	close(fd);
	/* The lane program: a FIFO, a directory, a device. */
	snprintf(kv, sizeof kv, "DISPATCH_COMMAND=%s/fifo", d);
	expect_no_start(env, "is not an executable file");
	snprintf(kv, sizeof kv, "DISPATCH_COMMAND=%s", d);
	expect_no_start(env, "is not an executable file");
	snprintf(kv, sizeof kv, "DISPATCH_COMMAND=/dev/null");
	expect_no_start(env, "is not an executable file");
	/* A syslog socket path that is a FIFO or a directory: a warning. */
	snprintf(kv, sizeof kv, "DISPATCH_SYSLOG_SOCKET=%s/fifo", d);
	cur = srv_start_init(env);
	expect_alive(cur, "a FIFO as the syslog socket");
	json_object_put(wait_final(cur, dispatch_ok(cur, "nash-forbes",
	    "nash", "no syslog copy"), 10000));
	assert_non_null(strstr(srv_stderr(cur), "are not mirrored"));
	srv_free(cur);
	cur = NULL;
	unlink(path);
	unlink(link);
	snprintf(path, sizeof path, "%s/fifo", d);
	unlink(path);
	rmdir(d);
}

/*
 * 2025-03-26 batch whose answers together pass 1 MiB: one array, one
 * answer per request, the pings among them, the largest results
 * replaced by -32603.
 */
static void
test_batch_too_large(void **state)
{
	struct srv		*s = cur = srv_start(NULL);
	struct json_object	*r, *el;
	char			 h[3][64], *line;
	size_t			 i, n, len, errors = 0, pings = 0;

	(void)state;
	r = srv_request(s, "initialize", "{\"protocolVersion\":\"2025-03-26\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"b\","
	    "\"version\":\"1\"}}");
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	for (i = 0; i < 3; i++) {
		struct json_object	*v;

		/* 2025-03-26: no structuredContent, the view is the text. */
		r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "nash",
		    "ctl"));
		v = json_tokener_parse(result_text(r));
		assert_non_null(jget_str(v, "handle"));
		snprintf(h[i], sizeof h[i], "%s", jget_str(v, "handle"));
		json_object_put(v);
		json_object_put(r);
		sleep_ms(300);
	}
	len = 4096;
	line = malloc(len);
#define RES(id)	"{\"jsonrpc\":\"2.0\",\"id\":\"" id "\",\"method\":" \
	"\"tools/call\",\"params\":{\"name\":\"dispatch_result\"," \
	"\"arguments\":{\"handle\":\"%s\",\"wait_seconds\":10}}}"
	snprintf(line, len, "[" PING("\"p1\"") "," RES("r1") "," RES("r2") ","
	    RES("r3") "," PING("\"p2\"") "]", h[0], h[1], h[2]);
#undef RES
	srv_send(s, line);
	free(line);
	r = srv_recv(s, 30000);
	if (r == NULL || !json_object_is_type(r, json_type_array))
		fail_msg("no batch answer; stderr: %s", stderr_tail(s));
	n = json_object_array_length(r);
	assert_int_equal(n, 5);
	assert_true(strlen(jtext(r)) <= MAX_OUT_MSG_BYTES);
	/* A batch's answers come in any order: find the pings by id. */
	for (i = 0; i < n; i++) {
		const char	*eid;

		el = json_object_array_get_idx(r, i);
		assert_non_null(jget(el, "id"));
		eid = json_object_get_string(jget(el, "id"));
		if (strcmp(eid, "p1") == 0 || strcmp(eid, "p2") == 0) {
			assert_non_null(jget(el, "result"));
			pings++;
		}
		if (jget(el, "error") != NULL) {
			assert_int_equal(jget_int(jget(el, "error"), "code"),
			    -32603);
			errors++;
		}
	}
	assert_int_equal(pings, 2);
	assert_true(errors >= 1 && errors <= 2);
	json_object_put(r);
	/* One alone still fits, and is answered whole. */
	r = srv_call(s, "dispatch_result", "{\"handle\":\"" "x" "\"}");
	json_object_put(r);
	expect_alive(s, "a batch too large");
	cases_run++;
}

/* Bad values with a newline, CR and ESC: one escaped line, exit 1. */
static void
test_echoed_env(void **state)
{
	static const char *const vars[] = {
		"DISPATCH_MAX_ITERATIONS=1\n\x1b[2Jx\r",
		"DISPATCH_SSH_HOST=h\nost\x1b[31m",
		"DISPATCH_TIMEOUT=\x1b]0;pwn\x07",
		"DISPATCH_ENV_PASS=A\nB",
		"DISPATCH_SANDBOX=\r\nlog",
		"DISPATCH_COMMAND=/nonexistent\n\x1b[1mlane",
		"DISPATCH_LANE_NPROC=\xc2\x9b" "2J",
	};
	const char	*env[2] = { NULL, NULL };
	size_t		 i;

	(void)state;
	for (i = 0; i < NCASES(vars); i++) {
		env[0] = vars[i];
		expect_no_start(env, "\\x");
	}
}

/* Echoed client text in tool errors; DISPATCH_ENV_PASS with commas. */
static void
test_echoed_client(void **state)
{
	static const char *const env[] = {
		"DISPATCH_ENV_PASS=,LANE_DIR,,LANE_AUDIT,", NULL
	};
	struct srv		*s = cur = srv_start_init(env);
	struct json_object	*r;

	(void)state;
	r = srv_call(s, "dispatch_unit", UARGS("a\\nb\\u001b[2J\\r",
	    "nash", "t"));
	assert_true(result_is_error(r));
	/* The trailing CR is white space, stripped before the check. */
	assert_non_null(strstr(result_text(r), "'a\\x0ab\\x1b[2J'"));
	assert_null(strchr(result_text(r), '\n'));
	assert_null(strchr(result_text(r), '\x1b'));
	json_object_put(r);
	r = srv_call(s, "dispatch_status", "{\"handle\":\"\\u009b\\u0007\"}");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "'\\x9b\\x07'"));
	json_object_put(r);
	/* Empty names in the list name nothing: the lane ran. */
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "empty env names"), 10000));
	expect_alive(s, "echoed client text");
	cases_run += 3;
}

/* A lane killed by any signal: returncode null, the signal named. */
static void
test_signals_named(void **state)
{
	static const struct {
		const char	*task;
		const char	*name;
	} sigs[] = {
		{ "sig 15", "SIGTERM" }, { "sig 16", "SIGSTKFLT" },
		{ "sig 34", "SIGRTMIN" }, { "sig 35", "SIGRTMIN+1" },
		{ "sig 64", "SIGRTMIN+30" }, { "sig 32", "SIG32" },
	};
	struct srv		*s = start(1);
	struct json_object	*r, *v, *recs, *rec;
	const char		*h, *sig;
	char			 handle[64];
	size_t			 i, j;

	(void)state;
	for (i = 0; i < NCASES(sigs); i++) {
		h = dispatch_ok(s, "nash-forbes", "nash", sigs[i].task);
		snprintf(handle, sizeof handle, "%s", h);
		r = wait_final(s, handle, 15000);
		v = result_struct(r);
		sig = jget_str(v, "signal");
		if (sig == NULL || strcmp(sig, sigs[i].name) != 0)
			fail_msg("%s: expected %s, got %s", sigs[i].task,
			    sigs[i].name, jtext(v));
		assert_true(jget(v, "returncode") == NULL);
		json_object_put(r);
		recs = audit_records(s);
		for (j = 0; j < json_object_array_length(recs); j++) {
			rec = json_object_array_get_idx(recs, j);
			if (jget_str(rec, "handle") == NULL ||
			    strcmp(jget_str(rec, "handle"), handle) != 0 ||
			    strcmp(jget_str(rec, "event"), "exit") != 0)
				continue;
			assert_string_equal(jget_str(rec, "signal"),
			    sigs[i].name);
		}
		json_object_put(recs);
		cases_run++;
	}
	expect_alive(s, "lanes killed by signals");
}

static int
sandboxed(struct srv *s)
{
	return (strstr(srv_stderr(s), "applies no sandbox") == NULL);
}

/* The lane program replaced by rename: refused, saying to restart. */
static void
test_program_replaced(void **state)
{
	const char	*env[2] = { NULL, NULL };
	char		*d = mktmp(), kv[256], lane[200], tmp[200], *text;
	struct srv	*s;
	struct json_object *r;

	(void)state;
	snprintf(lane, sizeof lane, "%s/lane", d);
	snprintf(tmp, sizeof tmp, "%s/lane.new", d);
	text = read_file(lane_path("record-lane"), NULL);
	write_file(lane, text);
	chmod(lane, 0755);
	snprintf(kv, sizeof kv, "DISPATCH_COMMAND=%s", lane);
	env[0] = kv;
	s = cur = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "before"), 10000));
	write_file(tmp, text);
	chmod(tmp, 0755);
	rename(tmp, lane);
	expect_refused(s, UARGS("nash-forbes", "nash", "t"),
	    "restart the server");
	/* Removed: accepted, and the lane fails to start (ENOENT). */
	unlink(lane);
	r = wait_final(s, dispatch_ok(s, "nash-forbes", "nash", "gone"),
	    10000);
	assert_string_equal(jget_str(result_struct(r), "status"), "failed");
	json_object_put(r);
	expect_alive(s, "a removed lane program");
	free(text);
	rmdir(d);
}

/* The audit log's directory removed and made again; a symlinked log. */
static void
test_audit_dir_replaced(void **state)
{
	const char		*env[2] = { NULL, NULL };
	char			*d = mktmp(), kv[256], p[4][200];
	struct srv		*s;
	struct json_object	*r;
	size_t			 len;
	char			*txt;

	(void)state;
	snprintf(p[0], sizeof p[0], "%s/logs", d);
	snprintf(p[1], sizeof p[1], "%s/logs/audit.jsonl", d);
	snprintf(p[2], sizeof p[2], "%s/old", d);
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", p[1]);
	env[0] = kv;
	s = cur = srv_start_init(env);
	snprintf(s->audit, sizeof s->audit, "%s", p[1]);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "before"), 10000));
	rename(p[0], p[2]);
	mkdir(p[0], 0700);
	r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "nash", "t"));
	if (sandboxed(s)) {
		assert_true(result_is_error(r));
		assert_non_null(strstr(result_text(r), "restart the server"));
	} else
		assert_false(result_is_error(r));
	json_object_put(r);
	expect_alive(s, "audit directory replaced");
	srv_free(s);
	cur = NULL;

	/* A log that is a link into another directory, rotated there. */
	snprintf(p[0], sizeof p[0], "%s/real", d);
	mkdir(p[0], 0700);
	snprintf(p[1], sizeof p[1], "%s/real/audit.jsonl", d);
	snprintf(p[2], sizeof p[2], "%s/link.jsonl", d);
	snprintf(p[3], sizeof p[3], "%s/real/audit.jsonl.1", d);
	write_file(p[1], "");
	assert_int_equal(symlink(p[1], p[2]), 0);
	snprintf(kv, sizeof kv, "DISPATCH_AUDIT_LOG=%s", p[2]);
	s = cur = srv_start_init(env);
	snprintf(s->audit, sizeof s->audit, "%s", p[1]);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "before rotation"), 10000));
	rename(p[1], p[3]);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "after rotation"), 10000));
	txt = read_file(p[1], &len);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "\"seq\":3,"));
	free(txt);
	expect_alive(s, "a symlinked audit log rotated");
	cases_run += 2;
}

/* An allowlist link re-pointed into another directory. */
static void
test_allowlist_repointed(void **state)
{
	const char		*env[2] = { NULL, NULL };
	char			 d[64], e[64], kv[256], p[4][200];
	struct srv		*s;
	struct json_object	*r;

	(void)state;
	/* Two directories, neither beneath the other. */
	snprintf(d, sizeof d, "%s", mktmp());
	snprintf(e, sizeof e, "%s", mktmp());
	snprintf(p[0], sizeof p[0], "%s/a1", d);
	snprintf(p[1], sizeof p[1], "%s/a2", e);
	mkdir(p[0], 0700);
	mkdir(p[1], 0700);
	snprintf(p[2], sizeof p[2], "%s/a1/repos.json", d);
	write_file(p[2], TEST_REPOS_JSON);
	snprintf(p[3], sizeof p[3], "%s/a2/repos.json", e);
	write_file(p[3], TEST_REPOS_JSON);
	snprintf(p[0], sizeof p[0], "%s/link.json", d);
	assert_int_equal(symlink(p[2], p[0]), 0);
	snprintf(kv, sizeof kv, "DISPATCH_REPOS_JSON=%s", p[0]);
	env[0] = kv;
	s = cur = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "before"), 10000));
	unlink(p[0]);
	assert_int_equal(symlink(p[3], p[0]), 0);
	r = srv_call(s, "dispatch_unit", UARGS("nash-forbes", "nash", "t"));
	if (sandboxed(s)) {
		assert_true(result_is_error(r));
		assert_non_null(strstr(result_text(r), "restart the server"));
	} else
		assert_false(result_is_error(r));
	json_object_put(r);
	expect_alive(s, "allowlist re-pointed");
	cases_run++;
}

/* 30,000 orgs and 25,000 repos, under 1 MiB: it resolves. */
static void
test_allowlist_large(void **state)
{
	struct srv	*s = start(1);
	char		*buf, *p;
	size_t		 cap = MAX_ALLOWLIST_BYTES + 1, i;

	(void)state;
	buf = p = malloc(cap);
	p += sprintf(p, "{\"orgs\":{\"nash-forbes\":{}");
	for (i = 1; i < 30000; i++)
		p += sprintf(p, ",\"o%05zu\":{}", i);
	p += sprintf(p, "},\"repos\":{");
	for (i = 1; i < 25000; i++)
		p += sprintf(p, "\"r%05zu\":{\"org\":\"o%05zu\"},", i,
		    30000 - i);
	sprintf(p, "\"nash\":{\"org\":\"nash-forbes\"}}}");
	assert_true(strlen(buf) < MAX_ALLOWLIST_BYTES);
	write_file(s->repos, buf);
	free(buf);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "large allowlist"), 10000));
	json_object_put(wait_final(s, dispatch_ok(s, "o29999", "r00001",
	    "large allowlist"), 10000));
	expect_alive(s, "a large allowlist");
	cases_run++;
}

static int
report(void **state)
{
	(void)state;
	fprintf(stderr, "test-hostile: %d cases run\n", cases_run);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_malformed_json, teardown),
		cmocka_unit_test_teardown(test_encoding, teardown),
		cmocka_unit_test_teardown(test_rpc_structure, teardown),
		cmocka_unit_test_teardown(test_before_initialize, teardown),
		cmocka_unit_test_teardown(test_tool_arguments, teardown),
		cmocka_unit_test_teardown(test_names_and_tasks, teardown),
		cmocka_unit_test_teardown(test_handles, teardown),
		cmocka_unit_test_teardown(test_sizes, teardown),
		cmocka_unit_test_teardown(test_framing, teardown),
		cmocka_unit_test_teardown(test_burst_pipelined, teardown),
		cmocka_unit_test_teardown(test_reused_id_in_flight, teardown),
		cmocka_unit_test_teardown(test_allowlist_format_strings, teardown),
		cmocka_unit_test_teardown(test_embedded_nul, teardown),
		cmocka_unit_test_teardown(test_allowlist_special_files,
		    teardown),
		cmocka_unit_test_teardown(test_allowlist_devices, teardown),
		cmocka_unit_test_teardown(test_audit_special_files, teardown),
		cmocka_unit_test_teardown(test_batch_too_large, teardown),
		cmocka_unit_test_teardown(test_echoed_env, teardown),
		cmocka_unit_test_teardown(test_echoed_client, teardown),
		cmocka_unit_test_teardown(test_signals_named, teardown),
		cmocka_unit_test_teardown(test_program_replaced, teardown),
		cmocka_unit_test_teardown(test_audit_dir_replaced, teardown),
		cmocka_unit_test_teardown(test_allowlist_repointed, teardown),
		cmocka_unit_test_teardown(test_allowlist_large, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, report));
}
