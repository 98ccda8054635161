/*
 * Unit tests for frontend/mcp.c and frontend/tools.c through
 * mcp_handle_line().  The functions of frontend/frontend.c they call are
 * defined here instead, so the link does not pull in frontend.o (it would
 * fail on the duplicate symbols if it did): every message for the client
 * and every message for the broker is captured and decoded.
 */
#include "config.h"

#include <sys/wait.h>

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/chan.h"
#include "common/bounds.h"
#include "common/proto.h"
#include "common/validate.h"
#include "frontend/frontend.h"

#define HANDLE_A	"dsp-0123456789abcdef0123456789abcdef"
#define NAME_RULE	"must match " NAME_PATTERN " (letters, digits, " \
	"dot, dash, underscore)"
#define MAX_CAPTURE	64

/* frontend.c's I/O and pending table, replaced by recorders. */
/* Messages for the client, as the JSON text that would be written. */
static char		*outs[MAX_CAPTURE];
static size_t		 nouts;

/* Messages for the broker, decoded. */
struct bmsg {
	uint32_t		 type;
	uint32_t		 id;
	struct client_info	 client;
	char			*a;	/* orguser, reason or handle */
	char			*b;	/* repo or raw arguments */
	char			*c;	/* task */
	uint32_t		 u;	/* wait_ms or offset */
};
static struct bmsg	 bmsgs[MAX_CAPTURE];
static size_t		 nbmsgs;

static struct pending	*pends[MAX_CAPTURE];
static size_t		 npends;
static uint32_t		 next_reqid = 1;

void
out_send(struct json_object *o)
{
	const char	*s;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_true(nouts < MAX_CAPTURE);
	outs[nouts] = strdup(s);
	assert_non_null(outs[nouts]);
	nouts++;
	json_object_put(o);
}

/* A long-poll's progress timer lives in frontend.c; record the call. */
static uint32_t		 progress_wait_ms;

void
pending_progress(struct pending *p, uint32_t wait_ms, const char *handle)
{
	progress_wait_ms = wait_ms;
}

struct pending *
pending_new(enum pend_kind kind, const struct rpc_ctx *ctx)
{
	struct pending	*p = calloc(1, sizeof *p);

	assert_non_null(p);
	assert_true(npends < MAX_CAPTURE);
	p->reqid = next_reqid++;
	p->kind = kind;
	p->ctx = *ctx;
	json_object_get(p->ctx.id);
	json_object_get(p->ctx.progress);
	pends[npends++] = p;
	return (p);
}

static char *
dup_len(const char *s, size_t len)
{
	char	*d = malloc(len + 1);

	assert_non_null(d);
	memcpy(d, s, len);
	d[len] = '\0';
	return (d);
}

void
send_to_broker(struct ipc_msg *m)
{
	struct ipc_reader		 r;
	struct req_dispatch	 d;
	struct req_reject	 j;
	struct bmsg		*b;
	char			 handle[HANDLE_BYTES + 1];

	assert_true(nbmsgs < MAX_CAPTURE);
	b = &bmsgs[nbmsgs++];
	memset(b, 0, sizeof *b);
	assert_int_equal(ipc_open(&r, m->data, m->len), 0);
	b->type = r.type;
	b->id = r.id;
	switch (r.type) {
	case IPC_DISPATCH:
		assert_int_equal(proto_get_dispatch(&r, &d), 0);
		b->client = d.client;
		b->a = dup_len(d.orguser, d.orguser_len);
		b->b = dup_len(d.repo, d.repo_len);
		b->c = dup_len(d.task, d.task_len);
		break;
	case IPC_REJECT:
		assert_int_equal(proto_get_reject(&r, &j), 0);
		b->client = j.client;
		b->a = dup_len(j.reason, j.reason_len);
		b->b = dup_len(j.args, j.args_len);
		break;
	case IPC_STATUS:
	case IPC_CANCEL:
		assert_int_equal(proto_get_handle(&r, handle), 0);
		b->a = strdup(handle);
		break;
	case IPC_RESULT:
		assert_int_equal(proto_get_result(&r, handle, &b->u), 0);
		b->a = strdup(handle);
		break;
	case IPC_STOP:
		assert_int_equal(proto_get_stop(&r, &b->client, handle), 0);
		b->a = strdup(handle);
		break;
	case IPC_LIST:
	case IPC_LIST_LOG:
		assert_int_equal(proto_get_list(&r, &b->u), 0);
		break;
	default:
		fail_msg("unexpected message type %u for the broker", r.type);
	}
	ipc_free(m);
}

static int
same_id(struct json_object *a, struct json_object *b)
{
	if (json_object_get_type(a) != json_object_get_type(b))
		return (0);
	if (json_object_is_type(a, json_type_string))
		return (strcmp(json_object_get_string(a),
		    json_object_get_string(b)) == 0);
	return (json_object_get_int64(a) == json_object_get_int64(b));
}

/* A tasks/result asked again: a new id, as frontend.c gives it. */
void
pending_renew(struct pending *p)
{
	p->reqid = next_reqid++;
}

/* Asked again later: these tests answer every RESULT with its wait. */
void
pending_retry(struct pending *p, void (*cb)(struct pending *))
{
	cb(p);
}

int
frontend_stopping(void)
{
	return (0);
}

int
frontend_busy(void)
{
	return (npends >= MAX_INFLIGHT);
}

int
pending_id_in_use(struct json_object *id)
{
	size_t	i;

	for (i = 0; i < npends; i++) {
		if (!pends[i]->cancelled && same_id(pends[i]->ctx.id, id))
			return (1);
	}
	return (0);
}

void
pending_cancel(struct json_object *id)
{
	size_t	i;

	for (i = 0; i < npends; i++) {
		if (same_id(pends[i]->ctx.id, id))
			pends[i]->cancelled = 1;
	}
}

static void
clear(void)
{
	size_t	i;

	for (i = 0; i < nouts; i++)
		free(outs[i]);
	nouts = 0;
	for (i = 0; i < nbmsgs; i++) {
		free(bmsgs[i].a);
		free(bmsgs[i].b);
		free(bmsgs[i].c);
	}
	nbmsgs = 0;
	for (i = 0; i < npends; i++) {
		json_object_put(pends[i]->ctx.id);
		free(pends[i]->error);
		free(pends[i]);
	}
	npends = 0;
}

static void
send_line(const char *line)
{
	clear();
	mcp_handle_line(line, strlen(line));
}

/* The one output, parsed; the caller puts it. */
static struct json_object *
only_output(void)
{
	struct json_object	*o;

	if (nouts != 1)
		fail_msg("%zu outputs, expected 1", nouts);
	o = json_tokener_parse(outs[0]);
	assert_non_null(o);
	return (o);
}

static struct json_object *
get(struct json_object *o, const char *path)
{
	struct json_object	*v = o;
	char			 key[128], *dot;
	const char		*p = path;

	/* "a.b.0.c": object keys and array indexes. */
	while (v != NULL && *p != '\0') {
		snprintf(key, sizeof key, "%s", p);
		if ((dot = strchr(key, '.')) != NULL)
			*dot = '\0';
		p += strlen(key);
		if (*p == '.')
			p++;
		if (json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, (size_t)atoi(key));
		else if (!json_object_object_get_ex(v, key, &v))
			return (NULL);
	}
	return (v);
}

static const char *
get_str(struct json_object *o, const char *path)
{
	struct json_object	*v = get(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		fail_msg("%s is not a string", path);
	return (json_object_get_string(v));
}

/*
 * One error response: its code, its id as JSON text (NULL: no "id" at
 * all), and its message when msg is not NULL.
 */
static void
expect_error(const char *line, int code, const char *id, const char *msg)
{
	struct json_object	*o, *v;

	send_line(line);
	o = only_output();
	assert_string_equal(get_str(o, "jsonrpc"), "2.0");
	assert_null(get(o, "result"));
	v = get(o, "error.code");
	assert_non_null(v);
	if (json_object_get_int(v) != code)
		fail_msg("%s: code %d, expected %d (%s)", line,
		    json_object_get_int(v), code, outs[0]);
	if (id == NULL) {
		if (json_object_object_get_ex(o, "id", NULL))
			fail_msg("%s: has an id: %s", line, outs[0]);
	} else {
		v = get(o, "id");
		if (v == NULL)
			fail_msg("%s: no id: %s", line, outs[0]);
		assert_string_equal(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN), id);
	}
	if (msg != NULL)
		assert_string_equal(get_str(o, "error.message"), msg);
	assert_int_equal(nbmsgs, 0);
	json_object_put(o);
}

static void
expect_silence(const char *line)
{
	send_line(line);
	if (nouts != 0)
		fail_msg("%s: answered %s", line, outs[0]);
	assert_int_equal(nbmsgs, 0);
}

/* A successful result for id; the caller puts it. */
static struct json_object *
expect_result(const char *line, const char *id)
{
	struct json_object	*o;

	send_line(line);
	o = only_output();
	if (get(o, "result") == NULL)
		fail_msg("%s: no result: %s", line, outs[0]);
	assert_null(get(o, "error"));
	assert_string_equal(json_object_to_json_string_ext(get(o, "id"),
	    JSON_C_TO_STRING_PLAIN), id);
	return (o);
}

#define INIT_LINE(v) \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"," \
	"\"params\":{\"protocolVersion\":\"" v "\",\"capabilities\":{}," \
	"\"clientInfo\":{\"name\":\"test-client\",\"version\":\"9.9\"}}}"
#define TOOLS_LIST \
	"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"

static int
group_setup(void **state)
{
	mcp_init();
	tools_init();
	return (0);
}

static int
group_teardown(void **state)
{
	clear();
	return (0);
}

/*
 * The session state is static: a fresh session needs a fresh process.
 * Run lines in a child and bring back what it would have written.
 */
static size_t
run_fresh(const char *const *lines, size_t n, char **got, size_t max)
{
	char	 buf[1 << 17], *p, *nl;
	size_t	 len = 0, i, ngot = 0;
	ssize_t	 r;
	pid_t	 pid;
	int	 fds[2], status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(fds[0]);
		nouts = 0;
		for (i = 0; i < n; i++)
			mcp_handle_line(lines[i], strlen(lines[i]));
		for (i = 0; i < nouts; i++) {
			if (write(fds[1], outs[i], strlen(outs[i])) < 0 ||
			    write(fds[1], "\n", 1) < 0)
				_exit(2);
		}
		_exit(0);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (p = buf; (nl = strchr(p, '\n')) != NULL && ngot < max;
	    p = nl + 1) {
		*nl = '\0';
		got[ngot++] = strdup(p);
	}
	return (ngot);
}

static void
check_tools(struct json_object *tools, const char *version)
{
	static const char *const names[] = {
		"dispatch_unit", "dispatch_status", "dispatch_result",
		"dispatch_list", "dispatch_cancel"
	};
	/* readOnly, destructive, idempotent, openWorld */
	static const int hints[][4] = {
		{ 0, 0, 0, 1 }, { 1, 0, 1, 0 }, { 1, 0, 1, 0 }, { 1, 0, 1, 0 },
		{ 0, 1, 1, 0 }
	};
	struct json_object	*t, *ann;
	size_t			 i;
	int			 v0618 = strcmp(version, "2025-06-18") >= 0;
	int			 v0326 = strcmp(version, "2025-03-26") >= 0;

	assert_non_null(tools);
	assert_int_equal(json_object_array_length(tools), 5);
	for (i = 0; i < 5; i++) {
		t = json_object_array_get_idx(tools, i);
		assert_string_equal(get_str(t, "name"), names[i]);
		assert_non_null(get(t, "description"));
		assert_string_equal(get_str(t, "inputSchema.type"), "object");
		assert_int_equal(get(t, "title") != NULL, v0618);
		assert_int_equal(get(t, "outputSchema") != NULL, v0618);
		ann = get(t, "annotations");
		assert_int_equal(ann != NULL, v0326);
		if (ann == NULL)
			continue;
		assert_int_equal(get(ann, "title") != NULL, v0618);
		assert_int_equal(json_object_get_boolean(get(ann,
		    "readOnlyHint")), hints[i][0]);
		assert_int_equal(json_object_get_boolean(get(ann,
		    "destructiveHint")), hints[i][1]);
		assert_int_equal(json_object_get_boolean(get(ann,
		    "idempotentHint")), hints[i][2]);
		assert_int_equal(json_object_get_boolean(get(ann,
		    "openWorldHint")), hints[i][3]);
	}
	t = json_object_array_get_idx(tools, 0);
	assert_string_equal(json_object_to_json_string_ext(get(t,
	    "inputSchema.required"), JSON_C_TO_STRING_PLAIN),
	    "[\"orguser\",\"repo\",\"task_description\"]");
	assert_false(json_object_get_boolean(get(t,
	    "inputSchema.additionalProperties")));
}

static void
test_versions(void **state)
{
	static const struct {
		const char	*line;
		const char	*want;
	} v[] = {
		{ INIT_LINE("2024-11-05"), "2024-11-05" },
		{ INIT_LINE("2025-03-26"), "2025-03-26" },
		{ INIT_LINE("2025-06-18"), "2025-06-18" },
		{ INIT_LINE("2025-11-25"), "2025-11-25" },
		{ INIT_LINE("1999-01-01"), "2025-11-25" },
		{ INIT_LINE("2099-12-31"), "2025-11-25" },
	};
	const char		*lines[2];
	char			*got[4];
	struct json_object	*o;
	size_t			 i, n, k;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		lines[0] = v[i].line;
		lines[1] = TOOLS_LIST;
		n = run_fresh(lines, 2, got, 4);
		assert_int_equal(n, 2);
		o = json_tokener_parse(got[0]);
		assert_non_null(o);
		assert_string_equal(get_str(o, "result.protocolVersion"),
		    v[i].want);
		assert_string_equal(get_str(o, "result.serverInfo.name"),
		    PACKAGE_NAME);
		assert_string_equal(get_str(o, "result.serverInfo.version"),
		    PACKAGE_VERSION);
		assert_int_equal(get(o, "result.serverInfo.title") != NULL,
		    strcmp(v[i].want, "2025-06-18") >= 0);
		assert_false(json_object_get_boolean(get(o,
		    "result.capabilities.tools.listChanged")));
		assert_non_null(get(o, "result.instructions"));
		assert_string_equal(json_object_to_json_string(get(o, "id")),
		    "1");
		json_object_put(o);
		o = json_tokener_parse(got[1]);
		assert_non_null(o);
		check_tools(get(o, "result.tools"), v[i].want);
		json_object_put(o);
		for (k = 0; k < n; k++)
			free(got[k]);
	}
}

static void
test_initialize_bad_params(void **state)
{
	const char	*lines[3];
	char		*got[4];
	size_t		 n, k;

	/* Refused initializes leave the session uninitialized. */
	lines[0] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}";
	lines[1] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":20250618}}";
	lines[2] = TOOLS_LIST;
	n = run_fresh(lines, 3, got, 4);
	assert_int_equal(n, 3);
	assert_non_null(strstr(got[0], "\"code\":-32602"));
	assert_non_null(strstr(got[0], "protocolVersion must be a string"));
	assert_non_null(strstr(got[1], "\"code\":-32602"));
	assert_non_null(strstr(got[2], "\"code\":-32602"));
	assert_non_null(strstr(got[2], "send initialize first"));
	for (k = 0; k < n; k++)
		free(got[k]);
}

static void
test_initialize_twice(void **state)
{
	const char	*lines[2];
	char		*got[4];
	size_t		 n, k;

	lines[0] = INIT_LINE("2025-06-18");
	lines[1] = "{\"jsonrpc\":\"2.0\",\"id\":\"again\",\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"2024-11-05\"}}";
	n = run_fresh(lines, 2, got, 4);
	assert_int_equal(n, 2);
	assert_non_null(strstr(got[0], "\"protocolVersion\":\"2025-06-18\""));
	assert_string_equal(got[1], "{\"jsonrpc\":\"2.0\",\"id\":\"again\","
	    "\"error\":{\"code\":-32600,\"message\":\"Invalid Request: the "
	    "session is already initialized\"}}");
	for (k = 0; k < n; k++)
		free(got[k]);
}

static void
test_parse_error(void **state)
{
	expect_error("{", -32700, NULL, "Parse error: expected a string key "
	    "at byte 1");
	expect_error("[1,", -32700, NULL, "Parse error: unexpected end of "
	    "input at byte 3");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,", -32700, NULL, NULL);
	expect_error("not json", -32700, NULL, NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x",
	    -32700, NULL, "Parse error: trailing data after the value at "
	    "byte 41");
	expect_error("{'jsonrpc':'2.0'}", -32700, NULL, NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":NaN,\"method\":\"ping\"}",
	    -32700, NULL, NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\ud800\"}",
	    -32700, NULL, NULL);
	expect_error("\xef\xbb\xbf{}", -32700, NULL, NULL);
	expect_error("{\"a\":\"\xff\"}", -32700, NULL, NULL);
	/* A number json-c turns into infinity. */
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"x\":1e999}}", -32700, NULL,
	    "Parse error: number out of range");
}

static void
test_duplicate_keys(void **state)
{
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":"
	    "\"ping\"}", -32700, NULL, "Parse error: duplicate key in an "
	    "object");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_unit\",\"arguments\":{\"repo\":"
	    "\"nash\",\"repo\":\"reid\"}}}", -32700, NULL,
	    "Parse error: duplicate key in an object");
}

static void
test_blank_lines(void **state)
{
	expect_silence("");
	expect_silence("   ");
	expect_silence("\t \t");
}

static void
test_not_object(void **state)
{
	expect_error("\"x\"", -32600, NULL,
	    "Invalid Request: a message must be a JSON object");
	expect_error("1 ", -32600, NULL,
	    "Invalid Request: a message must be a JSON object");
	expect_error("[1]", -32600, NULL, "Invalid Request: batches are "
	    "only part of protocol revision 2025-03-26");
	expect_error("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
	    -32600, NULL, NULL);
	expect_error("[]", -32600, NULL, NULL);
}

static void
test_not_object_bare_scalars(void **state)
{
	expect_error("1", -32600, NULL,
	    "Invalid Request: a message must be a JSON object");
	expect_error("true", -32600, NULL, NULL);
	expect_error("false", -32600, NULL, NULL);
	expect_error("-1.5e3", -32600, NULL, NULL);
}

static void
test_not_object_null(void **state)
{
	expect_error("null", -32600, NULL,
	    "Invalid Request: a message must be a JSON object");
	expect_error("null ", -32600, NULL, NULL);
}

static void
test_invalid_request(void **state)
{
	expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
	    -32600, "1", "Invalid Request: jsonrpc must be \"2.0\"");
	expect_error("{\"id\":1,\"method\":\"ping\"}", -32600, "1",
	    "Invalid Request: jsonrpc must be \"2.0\"");
	expect_error("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}",
	    -32600, "1", NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1}", -32600, "1",
	    "Invalid Request: method is missing");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", -32600,
	    "1", "Invalid Request: method must be a string");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", -32600,
	    "1", "Invalid Request: method must be a string");
	expect_error("{\"jsonrpc\":\"2.0\",\"method\":[\"ping\"]}", -32600,
	    NULL, "Invalid Request: method must be a string");
}

static void
test_bad_ids(void **state)
{
	static const char *const ids[] = {
		"null", "1.5", "1.0", "{}", "[]", "[1]", "true", "false",
		"1152921504606846976", "9007199254740992",
		"-9007199254740992", "1e3",
	};
	char	line[1024];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"ping\"}", ids[i]);
		expect_error(line, -32600, NULL, "Invalid Request: id must be "
		    "a string of at most 256 bytes or an integer");
	}
}

static void
test_id_string_length(void **state)
{
	struct json_object	*o;
	char			 line[1024], id[300];

	memset(id, 'i', 257);
	id[257] = '\0';
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id);
	expect_error(line, -32600, NULL, NULL);
	/* 256 bytes is fine, and ping works before initialize. */
	id[256] = '\0';
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"method\":\"ping\"}", id);
	send_line(line);
	o = only_output();
	assert_string_equal(get_str(o, "id"), id);
	assert_string_equal(json_object_to_json_string(get(o, "result")),
	    "{ }");
	json_object_put(o);
}

static void
test_id_extremes(void **state)
{
	struct json_object	*o;

	o = expect_result("{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,"
	    "\"method\":\"ping\"}", "9007199254740991");
	json_object_put(o);
	o = expect_result("{\"jsonrpc\":\"2.0\",\"id\":-9007199254740991,"
	    "\"method\":\"ping\"}", "-9007199254740991");
	json_object_put(o);
	o = expect_result("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":"
	    "\"ping\"}", "\"\"");
	json_object_put(o);
}

static void
test_params_not_object(void **state)
{
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\","
	    "\"params\":[]}", -32602, "3",
	    "Invalid params: params must be an object");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\","
	    "\"params\":\"x\"}", -32602, "3", NULL);
	/* As a notification: no answer at all. */
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":\"ping\","
	    "\"params\":[]}");
}

static void
test_unknown_method(void **state)
{
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"foo/bar\"}",
	    -32601, "0", "Method not found: foo/bar");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"x\"}",
	    -32601, "\"abc\"", "Method not found: x");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"x\"}",
	    -32601, "-5", NULL);
	/* The echoed name is cut at 64 characters. */
	{
		char	line[256], want[256], name[81];

		memset(name, 'a', 80);
		name[80] = '\0';
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"%s\"}", name);
		snprintf(want, sizeof want, "Method not found: %.64s"
		    "\xe2\x80\xa6", name);
		expect_error(line, -32601, "1", want);
	}
	/* Case matters. */
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"PING\"}",
	    -32601, "1", NULL);
}

static void
test_before_initialize(void **state)
{
	static const char *const methods[] = { "tools/list", "tools/call" };
	char			 line[256];
	struct json_object	*o;
	size_t			 i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":7,"
		    "\"method\":\"%s\",\"params\":"
		    "{\"name\":\"dispatch_list\"}}", methods[i]);
		expect_error(line, -32602, "7", "Invalid params: no session: "
		    "send initialize first, or give this request _meta with "
		    "\"io.modelcontextprotocol/protocolVersion\"");
	}
	o = expect_result("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}",
	    "8");
	json_object_put(o);
}

static void
test_notifications(void **state)
{
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\"}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":99}}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":null}}");
}

static void
test_client_responses_ignored(void **state)
{
	expect_silence("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	expect_silence("{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"error\":"
	    "{\"code\":-1,\"message\":\"no\"}}");
	/* Without an id it is not a response: a request missing its method. */
	expect_error("{\"jsonrpc\":\"2.0\",\"result\":{}}", -32600, NULL,
	    "Invalid Request: method is missing");
}

/* From here on the session in this process is initialized. */
static void
test_initialize(void **state)
{
	struct json_object	*o;

	o = expect_result(INIT_LINE("2025-11-25"), "1");
	assert_string_equal(get_str(o, "result.protocolVersion"), "2025-11-25");
	json_object_put(o);
	expect_error(INIT_LINE("2025-11-25"), -32600, "1", "Invalid Request: "
	    "the session is already initialized");
	expect_silence("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
}

static void
test_tools_list(void **state)
{
	struct json_object	*o;

	o = expect_result(TOOLS_LIST, "2");
	check_tools(get(o, "result.tools"), "2025-11-25");
	assert_null(get(o, "result.nextCursor"));
	json_object_put(o);
	o = expect_result("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/list\",\"params\":{}}", "2");
	json_object_put(o);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":\"abc\"}}", -32602, "2",
	    "Invalid params: unknown cursor");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":\"\"}}", -32602, "2", NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":null}}", -32602, "2", NULL);
}

static void
test_tools_call_errors(void **state)
{
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\"}",
	    -32602, "4", "Invalid params: tools/call needs params");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"nope\"}}", -32602, "4",
	    "Unknown tool: nope");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"Dispatch_Unit\"}}", -32602, "4", NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{}}", -32602, "4",
	    "Invalid params: name must be a string");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":7}}", -32602, "4", NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_unit\",\"arguments\":[]}}",
	    -32602, "4", "Invalid params: arguments must be an object");
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_status\",\"arguments\":\"x\"}}",
	    -32602, "4", "Invalid params: arguments must be an object");
}

#define CALL(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"dispatch_unit\",\"arguments\":" args "}}"

/* A refused dispatch_unit: audited via the broker, no answer yet. */
static void
expect_reject(const char *line, const char *reason)
{
	struct json_object	*o;
	struct ipc_msg		 m;
	struct ipc_reader		 r;
	size_t			 i;

	send_line(line);
	if (nouts != 0)
		fail_msg("%s: answered before the ACK: %s", line, outs[0]);
	assert_int_equal(nbmsgs, 1);
	for (i = 0; i < nbmsgs; i++)
		assert_int_not_equal(bmsgs[i].type, IPC_DISPATCH);
	assert_int_equal(bmsgs[0].type, IPC_REJECT);
	assert_string_equal(bmsgs[0].a, reason);
	assert_string_equal(bmsgs[0].client.name, "test-client");
	assert_string_equal(bmsgs[0].client.version, "9.9");
	assert_int_equal(npends, 1);
	assert_int_equal(pends[0]->kind, PEND_REJECT);
	assert_int_equal(pends[0]->reqid, bmsgs[0].id);
	assert_string_equal(pends[0]->error, reason);

	/* The broker's ACK: now the caller gets the tool error. */
	proto_empty(&m, IPC_ACK, pends[0]->reqid);
	assert_int_equal(ipc_open(&r, m.data, m.len), 0);
	tools_reply(pends[0], &r);
	ipc_free(&m);
	o = only_output();
	assert_string_equal(json_object_to_json_string(get(o, "id")), "5");
	assert_true(json_object_get_boolean(get(o, "result.isError")));
	assert_string_equal(get_str(o, "result.content.0.type"), "text");
	assert_string_equal(get_str(o, "result.content.0.text"), reason);
	json_object_put(o);
}

static void
test_dispatch_unit_rejects(void **state)
{
	char	*line, *task;
	size_t	 i;

	expect_reject(CALL("{}"),
	    "missing required argument 'task_description'");
	expect_reject("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_unit\"}}",
	    "missing required argument 'task_description'");
	assert_string_equal(bmsgs[0].b, "{}");
	expect_reject(CALL("{\"task_description\":\"t\",\"repo\":\"nash\"}"),
	    "missing required argument 'orguser'");
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":1,"
	    "\"repo\":\"nash\"}"), "orguser must be a string");
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":\"o\","
	    "\"repo\":\"nash\",\"extra\":1}"), "unexpected argument 'extra'");
	expect_reject(CALL("{\"task_description\":\"  \",\"orguser\":\"o\","
	    "\"repo\":\"nash\"}"), "task_description must not be empty");
	expect_reject(CALL("{\"task_description\":\"t\\u0000x\",\"orguser\":"
	    "\"o\",\"repo\":\"nash\"}"), "task_description must be valid "
	    "UTF-8 without NUL characters");
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":"
	    "\"nash;rm -rf /\",\"repo\":\"nash\"}"),
	    "invalid orguser 'nash;rm -rf /': " NAME_RULE);
	/* The raw arguments go to the audit record as sent. */
	assert_string_equal(bmsgs[0].b, "{\"task_description\":\"t\","
	    "\"orguser\":\"nash;rm -rf /\",\"repo\":\"nash\"}");
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":\"o\","
	    "\"repo\":\"../etc\"}"), "invalid repo '../etc': " NAME_RULE);
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":\"o\","
	    "\"repo\":\"selamy-labs/nash\"}"),
	    "invalid repo 'selamy-labs/nash': " NAME_RULE);
	expect_reject(CALL("{\"task_description\":\"t\",\"orguser\":\"o\","
	    "\"repo\":\"\"}"), "repo must not be empty");

	/* 8001 characters. */
	task = malloc(8002);
	assert_non_null(task);
	for (i = 0; i < 8001; i++)
		task[i] = 'x';
	task[8001] = '\0';
	line = malloc(8200);
	assert_non_null(line);
	snprintf(line, 8200, CALL("{\"task_description\":\"%s\",\"orguser\":"
	    "\"o\",\"repo\":\"r\"}"), task);
	expect_reject(line, "task_description too long: 8001 > 8000 "
	    "characters");
	free(line);
	free(task);
}

static void
test_dispatch_unit_ok(void **state)
{
	struct json_object	*o;
	struct dview		 v;
	struct ipc_msg		 m;
	struct ipc_reader		 r;

	send_line(CALL("{\"orguser\":\"  nash-forbes \",\"repo\":\" nash\\n\","
	    "\"task_description\":\"\\u3000 fix the build; rm -rf /\\n\\n\"}"));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_DISPATCH);
	assert_string_equal(bmsgs[0].a, "nash-forbes");
	assert_string_equal(bmsgs[0].b, "nash");
	assert_string_equal(bmsgs[0].c, "fix the build; rm -rf /");
	assert_string_equal(bmsgs[0].client.name, "test-client");
	assert_int_equal(npends, 1);
	assert_int_equal(pends[0]->kind, PEND_DISPATCH);
	assert_int_equal(pends[0]->reqid, bmsgs[0].id);

	/* The same id cannot be reused while this one is in flight. */
	mcp_handle_line(CALL("{}"), strlen(CALL("{}")));
	assert_int_equal(nouts, 1);
	assert_non_null(strstr(outs[0], "a request with this id is still in "
	    "progress"));
	assert_int_equal(nbmsgs, 1);

	/* The broker's VIEW becomes structured content. */
	memset(&v, 0, sizeof v);
	snprintf(v.handle, sizeof v.handle, "%s", HANDLE_A);
	snprintf(v.orguser, sizeof v.orguser, "nash-forbes");
	snprintf(v.repo, sizeof v.repo, "nash");
	snprintf(v.github, sizeof v.github, "selamy-labs/nash");
	v.status = DS_RUNNING;
	v.requested_ms = 1764091993123ULL;
	proto_view(&m, pends[0]->reqid, &v);
	assert_int_equal(ipc_open(&r, m.data, m.len), 0);
	free(outs[0]);
	nouts = 0;
	tools_reply(pends[0], &r);
	ipc_free(&m);
	o = only_output();
	assert_string_equal(json_object_to_json_string(get(o, "id")), "5");
	assert_false(json_object_get_boolean(get(o, "result.isError")));
	assert_string_equal(get_str(o, "result.structuredContent.handle"),
	    HANDLE_A);
	assert_string_equal(get_str(o, "result.structuredContent.status"),
	    "running");
	assert_string_equal(get_str(o, "result.structuredContent.github"),
	    "selamy-labs/nash");
	assert_string_equal(get_str(o,
	    "result.structuredContent.requested_at"),
	    "2025-11-25T17:33:13.123Z");
	assert_non_null(strstr(get_str(o, "result.content.0.text"), HANDLE_A));
	json_object_put(o);
}

static void
test_cancelled_frees_id(void **state)
{
	send_line(CALL("{\"orguser\":\"o\",\"repo\":\"r\","
	    "\"task_description\":\"t\"}"));
	assert_int_equal(nbmsgs, 1);
	/* Cancelled: the id is free again, and the cancel is silent. */
	mcp_handle_line("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":5}}",
	    strlen("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":5}}"));
	assert_int_equal(nouts, 0);
	assert_true(pends[0]->cancelled);
	mcp_handle_line(CALL("{\"orguser\":\"o\",\"repo\":\"r\","
	    "\"task_description\":\"t\"}"), strlen(CALL("{\"orguser\":\"o\","
	    "\"repo\":\"r\",\"task_description\":\"t\"}")));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 2);
	assert_int_equal(bmsgs[1].type, IPC_DISPATCH);
}

#define STATUS(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"dispatch_status\",\"arguments\":" args "}}"
#define RESULT(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"dispatch_result\",\"arguments\":" args "}}"
#define CANCEL(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"dispatch_cancel\",\"arguments\":" args "}}"
#define LIST(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"dispatch_list\",\"arguments\":" args "}}"

/* A tool error answered at once, with nothing sent to the broker. */
static void
expect_tool_error(const char *line, const char *text)
{
	struct json_object	*o;

	send_line(line);
	o = only_output();
	assert_null(get(o, "error"));
	assert_string_equal(json_object_to_json_string(get(o, "id")), "6");
	assert_true(json_object_get_boolean(get(o, "result.isError")));
	assert_string_equal(get_str(o, "result.content.0.text"), text);
	assert_int_equal(nbmsgs, 0);
	assert_int_equal(npends, 0);
	json_object_put(o);
}

static void
test_dispatch_status(void **state)
{
	expect_tool_error(STATUS("{\"handle\":\"dsp-XYZ\"}"),
	    "unknown dispatch handle 'dsp-XYZ': a handle is dsp- and 32 "
	    "lowercase hex digits");
	expect_tool_error(STATUS("{\"handle\":\"dsp-0123456789ABCDEF0123456789"
	    "abcdef\"}"), "unknown dispatch handle 'dsp-0123456789ABCDEF012345"
	    "6789abcdef': a handle is dsp- and 32 lowercase hex digits");
	expect_tool_error(STATUS("{\"handle\":\" " HANDLE_A "\"}"),
	    "unknown dispatch handle ' " HANDLE_A "': a handle is dsp- and 32 "
	    "lowercase hex digits");
	expect_tool_error(STATUS("{}"), "missing required argument 'handle'");
	expect_tool_error(STATUS("{\"handle\":1}"), "handle must be a string");
	expect_tool_error(STATUS("{\"handle\":\"" HANDLE_A "\",\"x\":1}"),
	    "unexpected argument 'x'");

	send_line(STATUS("{\"handle\":\"" HANDLE_A "\"}"));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_STATUS);
	assert_string_equal(bmsgs[0].a, HANDLE_A);
	assert_int_equal(bmsgs[0].u, 0);
	assert_int_equal(pends[0]->kind, PEND_STATUS);
}

static void
test_dispatch_cancel(void **state)
{
	expect_tool_error(CANCEL("{\"handle\":\"dsp-XYZ\"}"),
	    "unknown dispatch handle 'dsp-XYZ': a handle is dsp- and 32 "
	    "lowercase hex digits");
	expect_tool_error(CANCEL("{}"), "missing required argument 'handle'");
	expect_tool_error(CANCEL("{\"handle\":true}"),
	    "handle must be a string");
	expect_tool_error(CANCEL("{\"handle\":\"" HANDLE_A "\",\"x\":1}"),
	    "unexpected argument 'x'");
	assert_int_equal(nbmsgs, 0);

	/* Who asks goes with the handle: the broker audits it. */
	send_line(CANCEL("{\"handle\":\"" HANDLE_A "\"}"));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_STOP);
	assert_string_equal(bmsgs[0].a, HANDLE_A);
	assert_string_equal(bmsgs[0].client.name, "test-client");
	assert_string_equal(bmsgs[0].client.version, "9.9");
	assert_int_equal(pends[0]->kind, PEND_STOP);
}

static void
test_dispatch_result(void **state)
{
	expect_tool_error(RESULT("{\"handle\":\"" HANDLE_A "\","
	    "\"wait_seconds\":51}"), "wait_seconds must be a number from 0 "
	    "to 50");
	expect_tool_error(RESULT("{\"handle\":\"" HANDLE_A "\","
	    "\"wait_seconds\":50.001}"), "wait_seconds must be a number "
	    "from 0 to 50");
	expect_tool_error(RESULT("{\"handle\":\"" HANDLE_A "\","
	    "\"wait_seconds\":-1}"), "wait_seconds must be a number from 0 "
	    "to 50");
	expect_tool_error(RESULT("{\"handle\":\"" HANDLE_A "\","
	    "\"wait_seconds\":\"5\"}"), "wait_seconds must be a number");
	expect_tool_error(RESULT("{\"handle\":\"nope\",\"wait_seconds\":1}"),
	    "unknown dispatch handle 'nope': a handle is dsp- and 32 "
	    "lowercase hex digits");

	send_line(RESULT("{\"handle\":\"" HANDLE_A "\",\"wait_seconds\":1.5}"));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_RESULT);
	assert_string_equal(bmsgs[0].a, HANDLE_A);
	assert_int_equal(bmsgs[0].u, 1500);

	send_line(RESULT("{\"handle\":\"" HANDLE_A "\",\"wait_seconds\":50}"));
	assert_int_equal(bmsgs[0].u, 50000);
	send_line(RESULT("{\"handle\":\"" HANDLE_A "\"}"));
	assert_int_equal(bmsgs[0].u, 0);
}

static void
test_dispatch_list(void **state)
{
	expect_tool_error(LIST("{\"cursor\":\"bad\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"cursor\":\"o\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"cursor\":\"o-1\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"cursor\":\"o65537\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"cursor\":5}"), "cursor must be a string");

	send_line(LIST("{\"cursor\":\"o100\"}"));
	assert_int_equal(nouts, 0);
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_LIST);
	assert_int_equal(bmsgs[0].u, 100);
	assert_int_equal(pends[0]->offset, 100);
	send_line(LIST("{}"));
	assert_int_equal(bmsgs[0].u, 0);
	send_line("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"dispatch_list\"}}");
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].u, 0);

	/* The log's list: its own cursors, and only its own. */
	expect_tool_error(LIST("{\"scope\":\"everything\"}"),
	    "scope must be \"session\" or \"log\"");
	expect_tool_error(LIST("{\"scope\":3}"), "scope must be a string");
	expect_tool_error(LIST("{\"scope\":\"log\",\"cursor\":\"o5\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"scope\":\"log\",\"cursor\":\"l0\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	expect_tool_error(LIST("{\"scope\":\"log\",\"cursor\":"
	    "\"l1048577\"}"), "invalid cursor: pass next_cursor from the "
	    "previous page, with the same scope");
	expect_tool_error(LIST("{\"cursor\":\"l5\"}"),
	    "invalid cursor: pass next_cursor from the previous page, with "
	    "the same scope");
	send_line(LIST("{\"scope\":\"log\",\"cursor\":\"l1048576\"}"));
	assert_int_equal(nbmsgs, 1);
	assert_int_equal(bmsgs[0].type, IPC_LIST_LOG);
	assert_int_equal(bmsgs[0].u, 1048576);
	send_line(LIST("{\"scope\":\"log\"}"));
	assert_int_equal(bmsgs[0].type, IPC_LIST_LOG);
	assert_int_equal(bmsgs[0].u, 0);
	send_line(LIST("{\"scope\":\"session\"}"));
	assert_int_equal(bmsgs[0].type, IPC_LIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* Fresh sessions in child processes: these come first. */
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_initialize_bad_params),
		cmocka_unit_test(test_initialize_twice),
		/* This process, before initialize. */
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_not_object_bare_scalars),
		cmocka_unit_test(test_not_object_null),
		cmocka_unit_test(test_invalid_request),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_id_string_length),
		cmocka_unit_test(test_id_extremes),
		cmocka_unit_test(test_params_not_object),
		cmocka_unit_test(test_unknown_method),
		cmocka_unit_test(test_before_initialize),
		cmocka_unit_test(test_notifications),
		cmocka_unit_test(test_client_responses_ignored),
		/* And after it. */
		cmocka_unit_test(test_initialize),
		cmocka_unit_test(test_tools_list),
		cmocka_unit_test(test_tools_call_errors),
		cmocka_unit_test(test_dispatch_unit_rejects),
		cmocka_unit_test(test_dispatch_unit_ok),
		cmocka_unit_test(test_cancelled_frees_id),
		cmocka_unit_test(test_dispatch_status),
		cmocka_unit_test(test_dispatch_result),
		cmocka_unit_test(test_dispatch_list),
		cmocka_unit_test(test_dispatch_cancel),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
