/*
 * The five tools.  Each is one table entry with its schemas beside its
 * handler.  A handler checks the arguments (a failure is a tool error the
 * caller can act on, SEP-1303), then sends one typed request to the
 * broker; tools_reply() renders the broker's answer.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bounds.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"

#define HANDLE_PATTERN	"^dsp-[0-9a-f]{32}$"

#define VIEW_PROPS \
	"\"handle\":{\"type\":\"string\",\"pattern\":\"" HANDLE_PATTERN \
	"\"}," \
	"\"orguser\":{\"type\":\"string\"}," \
	"\"repo\":{\"type\":\"string\"}," \
	"\"github\":{\"type\":\"string\"}," \
	"\"status\":{\"type\":\"string\",\"enum\":[\"running\"," \
	"\"succeeded\",\"failed\",\"timed_out\",\"cancelled\",\"lost\"]}," \
	"\"requested_at\":{\"type\":\"string\"}"
#define VIEW_REQUIRED \
	"\"handle\",\"orguser\",\"repo\",\"github\",\"status\",\"requested_at\""
#define VIEW_SCHEMA \
	"{\"type\":\"object\",\"properties\":{" VIEW_PROPS "}," \
	"\"required\":[" VIEW_REQUIRED "]}"
#define HANDLE_ARG \
	"\"handle\":{\"type\":\"string\",\"pattern\":\"" HANDLE_PATTERN "\"," \
	"\"description\":\"The handle dispatch_unit returned.\"}"

static void	t_dispatch_unit(const struct rpc_ctx *, struct json_object *);
static void	t_dispatch_status(const struct rpc_ctx *, struct json_object *);
static void	t_dispatch_result(const struct rpc_ctx *, struct json_object *);
static void	t_dispatch_list(const struct rpc_ctx *, struct json_object *);
static void	t_dispatch_cancel(const struct rpc_ctx *, struct json_object *);

/* The annotations: what a tool does to the world beyond this session. */
#define HINT_READ_ONLY	0x1
#define HINT_DESTRUCTIVE	0x2
#define HINT_IDEMPOTENT	0x4
#define HINT_OPEN_WORLD	0x8
#define HINTS_QUERY	(HINT_READ_ONLY | HINT_IDEMPOTENT)

static struct tool {
	const char	*name;
	const char	*title;
	const char	*description;
	const char	*input;		/* JSON Schema text */
	const char	*output;
	int		 hints;		/* HINT_* */
	void		(*fn)(const struct rpc_ctx *, struct json_object *);
	struct json_object *input_obj;
	struct json_object *output_obj;
} tools[] = {
	{
		"dispatch_unit",
		"Dispatch a unit of work",
		"Dispatch a unit of work to an allowlisted org-user/repo lane. "
		"Returns at once with a handle; the lane runs in the "
		"background. The task description is handed to the lane as "
		"data and is never interpreted by a shell.",
		"{\"type\":\"object\",\"properties\":{"
		"\"orguser\":{\"type\":\"string\",\"pattern\":\"" NAME_PATTERN
		"\",\"maxLength\":128,\"description\":\"The org-user that owns "
		"the lane.\"},"
		"\"repo\":{\"type\":\"string\",\"pattern\":\"" NAME_PATTERN
		"\",\"maxLength\":128,\"description\":\"The repo lane to "
		"dispatch to.\"},"
		"\"task_description\":{\"type\":\"string\",\"minLength\":1,"
		"\"maxLength\":8000,\"description\":\"What the lane should do, "
		"at most 8000 characters.\"}},"
		"\"required\":[\"orguser\",\"repo\",\"task_description\"],"
		"\"additionalProperties\":false}",
		VIEW_SCHEMA,
		HINT_OPEN_WORLD, t_dispatch_unit, NULL, NULL
	},
	{
		"dispatch_status",
		"Dispatch status",
		"The current state of a dispatch: running, succeeded, failed, "
		"The current state of a dispatch: running, succeeded, failed, "
		"timed_out, cancelled, or lost (the server that ran it ended "
		"without recording its end). Handles of earlier servers on the "
		"same audit log are answered from the log.",
		"{\"type\":\"object\",\"properties\":{" HANDLE_ARG "},"
		"\"required\":[\"handle\"],\"additionalProperties\":false}",
		VIEW_SCHEMA,
		HINTS_QUERY, t_dispatch_status, NULL, NULL
	},
	{
		"dispatch_result",
		"Dispatch result",
		"The outcome of a dispatch: exit code, signal and the last "
		"64 KiB of output. With wait_seconds, waits up to that long "
		"(at most 50, so that the answer comes well within a client's "
		"60-second request timeout) for a running dispatch to end.",
		"{\"type\":\"object\",\"properties\":{" HANDLE_ARG ","
		"\"wait_seconds\":{\"type\":\"number\",\"minimum\":0,"
		"\"maximum\":50,\"description\":\"Wait this long for the "
		"dispatch to end before answering.\"}},"
		"\"required\":[\"handle\"],\"additionalProperties\":false}",
		"{\"type\":\"object\",\"properties\":{" VIEW_PROPS ","
		"\"returncode\":{\"type\":[\"integer\",\"null\"]},"
		"\"signal\":{\"type\":[\"string\",\"null\"]},"
		"\"detail\":{\"type\":\"string\"},"
		"\"finished_at\":{\"type\":[\"string\",\"null\"]},"
		"\"duration_ms\":{\"type\":\"integer\",\"minimum\":0},"
		"\"cpu_usec\":{\"type\":\"integer\",\"minimum\":0},"
		"\"memory_peak\":{\"type\":\"integer\",\"minimum\":0},"
		"\"pids_peak\":{\"type\":\"integer\",\"minimum\":0},"
		"\"reason\":{\"type\":\"string\",\"enum\":[\"oom\"]}},"
		"\"required\":[" VIEW_REQUIRED ",\"returncode\",\"signal\","
		"\"detail\",\"finished_at\",\"duration_ms\"]}",
		HINTS_QUERY, t_dispatch_result, NULL, NULL
	},
	{
		"dispatch_list",
		"List dispatches",
		"Every dispatch of this session, oldest first, 100 per page. "
		"With scope \"log\": every dispatch in the audit log, of this "
		"server and of earlier ones, newest first. Pass next_cursor "
		"back as cursor, with the same scope, for the next page.",
		"{\"type\":\"object\",\"properties\":{"
		"\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor "
		"from the previous page.\"},"
		"\"scope\":{\"type\":\"string\",\"enum\":[\"session\",\"log\"],"
		"\"default\":\"session\",\"description\":\"session: this "
		"server's dispatches, oldest first; log: the audit log's, newest "
		"first.\"}},\"additionalProperties\":false}",
		"{\"type\":\"object\",\"properties\":{"
		"\"count\":{\"type\":\"integer\",\"minimum\":0},"
		"\"total\":{\"type\":\"integer\",\"minimum\":0},"
		"\"dispatches\":{\"type\":\"array\",\"items\":" VIEW_SCHEMA "},"
		"\"next_cursor\":{\"type\":\"string\"}},"
		"\"required\":[\"count\",\"dispatches\"]}",
		HINTS_QUERY, t_dispatch_list, NULL, NULL
	},
	{
		"dispatch_cancel",
		"Cancel a dispatch",
		"End a running dispatch as its timeout would: its lane's "
		"process group is terminated, and killed if it has not gone "
		"within 2 seconds. Answers at once with the dispatch, still "
		"running while the lane ends; its status then becomes "
		"cancelled (dispatch_result with wait_seconds waits for it). "
		"Cancelling a dispatch that is already final is an error.",
		"{\"type\":\"object\",\"properties\":{" HANDLE_ARG "},"
		"\"required\":[\"handle\"],\"additionalProperties\":false}",
		VIEW_SCHEMA,
		HINT_DESTRUCTIVE | HINT_IDEMPOTENT, t_dispatch_cancel, NULL,
		NULL
	},
};
#define NTOOLS	(sizeof tools / sizeof tools[0])

/* The one tool a client may run as a task. */
static int
makes_tasks(size_t i)
{
	return (strcmp(tools[i].name, "dispatch_unit") == 0);
}

void
tools_init(void)
{
	size_t	i;

	for (i = 0; i < NTOOLS; i++) {
		tools[i].input_obj = json_tokener_parse(tools[i].input);
		tools[i].output_obj = json_tokener_parse(tools[i].output);
		if (tools[i].input_obj == NULL || tools[i].output_obj == NULL)
			fatalx("tools_init: bad schema for %s", tools[i].name);
	}
}

struct json_object *
tools_list(const char *version)
{
	struct json_object	*arr = json_object_new_array(), *t, *ann;
	size_t			 i;
	int			 v0618 = mcp_version_at_least(version,
				    MCP_V20250618);

	for (i = 0; i < NTOOLS; i++) {
		t = json_object_new_object();
		json_object_object_add(t, "name",
		    json_object_new_string(tools[i].name));
		if (v0618)
			json_object_object_add(t, "title",
			    json_object_new_string(tools[i].title));
		json_object_object_add(t, "description",
		    json_object_new_string(tools[i].description));
		json_object_object_add(t, "inputSchema",
		    json_object_get(tools[i].input_obj));
		if (v0618)
			json_object_object_add(t, "outputSchema",
			    json_object_get(tools[i].output_obj));
		if (mcp_version_at_least(version, MCP_V20250326)) {
			ann = json_object_new_object();
			if (v0618)
				json_object_object_add(ann, "title",
				    json_object_new_string(tools[i].title));
			json_object_object_add(ann, "readOnlyHint",
			    json_object_new_boolean((tools[i].hints &
			    HINT_READ_ONLY) != 0));
			json_object_object_add(ann, "destructiveHint",
			    json_object_new_boolean((tools[i].hints &
			    HINT_DESTRUCTIVE) != 0));
			json_object_object_add(ann, "idempotentHint",
			    json_object_new_boolean((tools[i].hints &
			    HINT_IDEMPOTENT) != 0));
			json_object_object_add(ann, "openWorldHint",
			    json_object_new_boolean((tools[i].hints &
			    HINT_OPEN_WORLD) != 0));
			json_object_object_add(t, "annotations", ann);
		}
		/* 2025-11-25 only: the 2026-07-28 Tool has no execution. */
		if (strcmp(version, MCP_V20251125) == 0) {
			ann = json_object_new_object();
			json_object_object_add(ann, "taskSupport",
			    json_object_new_string(makes_tasks(i) ?
			    "optional" : "forbidden"));
			json_object_object_add(t, "execution", ann);
		}
		json_object_array_add(arr, t);
	}
	return (arr);
}

static struct json_object *
text_content(const char *text, size_t len)
{
	struct json_object	*arr = json_object_new_array(), *c;

	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("text"));
	json_object_object_add(c, "text",
	    json_object_new_string_len(text, (int)len));
	json_object_array_add(arr, c);
	return (arr);
}

void
tool_error(const struct rpc_ctx *ctx, const char *msg)
{
	struct json_object	*res = json_object_new_object();

	json_object_object_add(res, "content", text_content(msg, strlen(msg)));
	json_object_object_add(res, "isError", json_object_new_boolean(1));
	rpc_result(ctx, res);
}

/* structuredContent, and the same JSON as text for older clients. */
static struct json_object *
tool_ok_result(const struct rpc_ctx *ctx, struct json_object *data)
{
	struct json_object	*res = json_object_new_object();
	const char		*s;

	s = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_object_add(res, "content", text_content(s, strlen(s)));
	if (mcp_version_at_least(ctx->version, MCP_V20250618))
		json_object_object_add(res, "structuredContent", data);
	else
		json_object_put(data);
	json_object_object_add(res, "isError", json_object_new_boolean(0));
	return (res);
}

static void
tool_ok(const struct rpc_ctx *ctx, struct json_object *data)
{
	rpc_result(ctx, tool_ok_result(ctx, data));
}

static struct json_object	*view_json(const struct dview *);

/* What dispatch_result answers for this view. */
struct json_object *
tool_view_result(const struct rpc_ctx *ctx, const struct dview *v)
{
	return (tool_ok_result(ctx, view_json(v)));
}

/*
 * A task-augmented call (2025-11-25) or one whose client declared the
 * tasks extension (2026-07-28): only dispatch_unit makes tasks.  A
 * params.task in any other era, or in a stateless request, is ignored,
 * as the specifications say.
 */
static int
task_params(struct rpc_ctx *ctx, struct json_object *params, size_t tool)
{
	struct json_object	*t;
	char			 msg[ECHO_BYTES + 96], echo[ECHO_BYTES];

	if (ctx->modern) {
		ctx->as_task = ctx->tasks_ext && makes_tasks(tool);
		return (0);
	}
	if (!tasks_session(ctx) ||
	    !json_object_object_get_ex(params, "task", &t))
		return (0);
	if (!json_object_is_type(t, json_type_object)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: task must be an object", NULL);
		return (-1);
	}
	if (!makes_tasks(tool)) {
		echo_value(echo, sizeof echo, tools[tool].name,
		    strlen(tools[tool].name));
		snprintf(msg, sizeof msg, "Method not found: %s cannot run "
		    "as a task (execution.taskSupport is \"forbidden\")", echo);
		rpc_fail(ctx, RPC_METHOD_NOT_FOUND, msg, NULL);
		return (-1);
	}
	ctx->as_task = 1;
	return (0);
}

void
tools_call(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*name, *args = NULL;
	char			 msg[ECHO_BYTES + 64], echo[ECHO_BYTES];
	size_t			 i;

	if (!json_object_object_get_ex(params, "name", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: name must be a string", NULL);
		return;
	}
	if (json_object_object_get_ex(params, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: arguments must be an object", NULL);
		return;
	}
	/* Every tool waits on the broker: refused, not queued, when full. */
	if (frontend_busy()) {
		rpc_fail(ctx, RPC_SERVER_BUSY, "Server busy: 1024 requests are "
		    "waiting on the broker; retry when some are answered",
		    NULL);
		return;
	}
	for (i = 0; i < NTOOLS; i++) {
		/* Compared with its length: "x\u0000y" is no tool's name. */
		if ((size_t)json_object_get_string_len(name) ==
		    strlen(tools[i].name) &&
		    strcmp(json_object_get_string(name), tools[i].name) == 0) {
			struct rpc_ctx	c = *ctx;

			if (task_params(&c, params, i) == -1)
				return;
			tools[i].fn(&c, args);
			return;
		}
	}
	echo_value(echo, sizeof echo, json_object_get_string(name),
	    (size_t)json_object_get_string_len(name));
	snprintf(msg, sizeof msg, "Unknown tool: %s", echo);
	rpc_fail(ctx, RPC_INVALID_PARAMS, msg, NULL);
}

/*
 * Check that args holds exactly the allowed keys, with string values for
 * those listed as strings.  Returns 0 or writes a message.
 */
static int
check_shape(struct json_object *args, const char *const *keys, size_t nkeys,
    size_t nrequired, const char *numeric, char *err, size_t errlen)
{
	struct json_object	*v;
	char			 echo[ECHO_BYTES];
	size_t			 i;
	int			 known;

	for (i = 0; i < nkeys; i++) {
		if (args == NULL || !json_object_object_get_ex(args, keys[i],
		    &v)) {
			if (i < nrequired) {
				snprintf(err, errlen, "missing required "
				    "argument '%s'", keys[i]);
				return (-1);
			}
			continue;
		}
		if (numeric != NULL && strcmp(keys[i], numeric) == 0) {
			if (!json_object_is_type(v, json_type_int) &&
			    !json_object_is_type(v, json_type_double)) {
				snprintf(err, errlen, "%s must be a number",
				    keys[i]);
				return (-1);
			}
		} else if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "%s must be a string", keys[i]);
			return (-1);
		}
	}
	if (args == NULL)
		return (0);
	json_object_object_foreach(args, k, val) {
		(void)val;
		known = 0;
		for (i = 0; i < nkeys; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known) {
			echo_value(echo, sizeof echo, k, strlen(k));
			snprintf(err, errlen, "unexpected argument '%s'", echo);
			return (-1);
		}
	}
	return (0);
}

static void
reject_dispatch(const struct rpc_ctx *ctx, struct json_object *args,
    const char *reason)
{
	struct pending	*p;
	struct ipc_msg	 m;
	const char	*raw;

	/* Refused here, but still audited by the broker before we answer. */
	raw = args != NULL ? json_object_to_json_string_ext(args,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "{}";
	p = pending_new(PEND_REJECT, ctx);
	p->error = xstrdup(reason);
	proto_reject(&m, p->reqid, &ctx->client, reason, raw,
	    utf8_cut(raw, strlen(raw), MAX_RAW_ARGS_BYTES));
	send_to_broker(&m);
}

static const char *
arg_string(struct json_object *args, const char *key, size_t *len)
{
	struct json_object	*v;

	json_object_object_get_ex(args, key, &v);
	*len = (size_t)json_object_get_string_len(v);
	return (json_object_get_string(v));
}

static void
t_dispatch_unit(const struct rpc_ctx *ctx, struct json_object *args)
{
	static const char *const keys[] = {
		"task_description", "orguser", "repo"
	};
	struct pending	*p;
	struct ipc_msg	 m;
	const char	*task, *org, *repo;
	size_t		 tlen, olen, rlen;
	char		 err[MAX_REASON_BYTES];

	if (check_shape(args, keys, 3, 3, NULL, err, sizeof err) == -1) {
		reject_dispatch(ctx, args, err);
		return;
	}
	task = arg_string(args, "task_description", &tlen);
	org = arg_string(args, "orguser", &olen);
	repo = arg_string(args, "repo", &rlen);
	/* The task first, then orguser, then repo: the first error wins. */
	if (check_task(&task, &tlen, err, sizeof err) == -1 ||
	    check_name("orguser", &org, &olen, err, sizeof err) == -1 ||
	    check_name("repo", &repo, &rlen, err, sizeof err) == -1) {
		reject_dispatch(ctx, args, err);
		return;
	}
	p = pending_new(PEND_DISPATCH, ctx);
	proto_dispatch(&m, p->reqid, &ctx->client, org, olen, repo, rlen,
	    task, tlen);
	send_to_broker(&m);
}

static int
get_handle(const struct rpc_ctx *ctx, struct json_object *args,
    const char *const *keys, size_t nkeys, const char *numeric,
    const char **handle)
{
	char		 err[512], echo[ECHO_BYTES];
	size_t		 len;

	if (check_shape(args, keys, nkeys, 1, numeric, err, sizeof err) ==
	    -1) {
		tool_error(ctx, err);
		return (-1);
	}
	*handle = arg_string(args, "handle", &len);
	if (check_handle(*handle, len) == -1) {
		echo_value(echo, sizeof echo, *handle, len);
		snprintf(err, sizeof err, "unknown dispatch handle '%s': a "
		    "handle is dsp- and 32 lowercase hex digits", echo);
		tool_error(ctx, err);
		return (-1);
	}
	return (0);
}

static void
t_dispatch_status(const struct rpc_ctx *ctx, struct json_object *args)
{
	static const char *const keys[] = { "handle" };
	struct pending	*p;
	struct ipc_msg	 m;
	const char	*handle;

	if (get_handle(ctx, args, keys, 1, NULL, &handle) == -1)
		return;
	p = pending_new(PEND_STATUS, ctx);
	proto_handle(&m, IPC_STATUS, p->reqid, handle);
	send_to_broker(&m);
}

static void
t_dispatch_result(const struct rpc_ctx *ctx, struct json_object *args)
{
	static const char *const keys[] = { "handle", "wait_seconds" };
	struct json_object	*w;
	struct pending		*p;
	struct ipc_msg		 m;
	const char		*handle;
	double			 secs = 0;

	if (get_handle(ctx, args, keys, 2, "wait_seconds", &handle) == -1)
		return;
	if (json_object_object_get_ex(args, "wait_seconds", &w)) {
		secs = json_object_get_double(w);
		if (!isfinite(secs) || secs < 0 || secs > MAX_WAIT_SECONDS) {
			tool_error(ctx, "wait_seconds must be a number from 0 "
			    "to 50");
			return;
		}
	}
	p = pending_new(PEND_RESULT, ctx);
	pending_progress(p, (uint32_t)(secs * 1000.0), handle);
	proto_result(&m, p->reqid, handle, (uint32_t)(secs * 1000.0));
	send_to_broker(&m);
}

static void
t_dispatch_list(const struct rpc_ctx *ctx, struct json_object *args)
{
	static const char *const keys[] = { "cursor", "scope" };
	struct pending	*p;
	struct ipc_msg	 m;
	const char	*cur, *scope;
	char		 err[256], *end, kind = 'o';
	unsigned long	 off = 0, max = MAX_RECORDS;
	size_t		 len;
	int		 log_scope = 0;

	if (check_shape(args, keys, 2, 0, NULL, err, sizeof err) == -1) {
		tool_error(ctx, err);
		return;
	}
	if (args != NULL && json_object_object_get_ex(args, "scope", NULL)) {
		scope = arg_string(args, "scope", &len);
		if (len == 3 && strcmp(scope, "log") == 0)
			log_scope = 1;
		else if (len != 7 || strcmp(scope, "session") != 0) {
			tool_error(ctx, "scope must be \"session\" or \"log\"");
			return;
		}
	}
	if (log_scope) {
		kind = 'l';
		max = MAX_HISTORY_DISPATCHES;
	}
	if (args != NULL && json_object_object_get_ex(args, "cursor", NULL)) {
		cur = arg_string(args, "cursor", &len);
		/*
		 * Our cursors are "o" and a decimal offset into the session,
		 * or "l" and how many of the log's dispatches, oldest first,
		 * the next page is the newest of; nothing else.
		 */
		if (len < 2 || len > 8 || strlen(cur) != len || cur[0] != kind ||
		    cur[1] < '0' ||
		    cur[1] > '9' || (off = strtoul(cur + 1, &end, 10),
		    *end != '\0') || off > max || (log_scope && off == 0)) {
			tool_error(ctx, "invalid cursor: pass next_cursor "
			    "from the previous page, with the same scope");
			return;
		}
	}
	p = pending_new(PEND_LIST, ctx);
	p->offset = (uint32_t)off;
	p->log_scope = log_scope;
	if (log_scope)
		proto_list_log(&m, p->reqid, (uint32_t)off);
	else
		proto_list(&m, p->reqid, (uint32_t)off);
	send_to_broker(&m);
}

struct pending *
stop_lane(const struct rpc_ctx *ctx, enum pend_kind kind, const char *handle)
{
	struct pending	*p;
	struct ipc_msg	 m;

	p = pending_new(kind, ctx);
	proto_stop(&m, p->reqid, &ctx->client, handle);
	send_to_broker(&m);
	return (p);
}

static void
t_dispatch_cancel(const struct rpc_ctx *ctx, struct json_object *args)
{
	static const char *const keys[] = { "handle" };
	const char	*handle;

	if (get_handle(ctx, args, keys, 1, NULL, &handle) == -1)
		return;
	(void)stop_lane(ctx, PEND_STOP, handle);
}

static struct json_object *
view_json(const struct dview *v)
{
	struct json_object	*o = json_object_new_object();
	char			 ts[TIME_STR_BYTES];
	const char		*sig;

	json_object_object_add(o, "handle", json_object_new_string(v->handle));
	json_object_object_add(o, "orguser",
	    json_object_new_string(v->orguser));
	json_object_object_add(o, "repo", json_object_new_string(v->repo));
	json_object_object_add(o, "github", json_object_new_string(v->github));
	json_object_object_add(o, "status",
	    json_object_new_string(dstatus_name(v->status)));
	fmt_time_ms(v->requested_ms, ts, sizeof ts);
	json_object_object_add(o, "requested_at", json_object_new_string(ts));
	if (!v->with_result)
		return (o);
	json_object_object_add(o, "returncode", v->has_returncode ?
	    json_object_new_int(v->returncode) : NULL);
	sig = v->signal != 0 ? signal_name((int)v->signal) : NULL;
	json_object_object_add(o, "signal", sig != NULL ?
	    json_object_new_string(sig) : NULL);
	json_object_object_add(o, "detail",
	    json_object_new_string_len(v->detail, (int)v->detail_len));
	if (v->finished_ms != 0) {
		fmt_time_ms(v->finished_ms, ts, sizeof ts);
		json_object_object_add(o, "finished_at",
		    json_object_new_string(ts));
	} else
		json_object_object_add(o, "finished_at", NULL);
	json_object_object_add(o, "duration_ms",
	    json_object_new_int64((int64_t)v->duration_ms));
	/* The lane's cgroup's measures, where it had one. */
	if (v->usage & VIEW_CPU)
		json_object_object_add(o, "cpu_usec",
		    json_object_new_int64((int64_t)v->cpu_usec));
	if (v->usage & VIEW_MEM)
		json_object_object_add(o, "memory_peak",
		    json_object_new_int64((int64_t)v->mem_peak));
	if (v->usage & VIEW_PIDS)
		json_object_object_add(o, "pids_peak",
		    json_object_new_int64((int64_t)v->pids_peak));
	if (v->usage & VIEW_OOM)
		json_object_object_add(o, "reason",
		    json_object_new_string("oom"));
	return (o);
}

/* A malformed answer means the broker is not ours: stop. */
#define BAD_REPLY(p) \
	fatalx("frontend: malformed reply %u to request %u", r->type, \
	    (p)->reqid)

void
tools_reply(struct pending *p, struct ipc_reader *r)
{
	struct json_object	*o, *arr;
	static struct dview	 page[LIST_PAGE_RECORDS];
	struct dview		 v;
	const char		*msg;
	size_t			 len;
	uint32_t		 total, n, i;
	char			 cur[16];

	if (r->type == IPC_TOOL_ERROR && p->kind != PEND_REJECT) {
		if (proto_get_tool_error(r, &msg, &len) == -1 ||
		    utf8_count(msg, len) < 0)
			BAD_REPLY(p);
		{
			char *s = xstrndup(msg, len);

			if (p->kind == PEND_DISPATCH)
				mcp_log(&p->ctx, LOG_WARNING_L, "dispatch "
				    "refused: %s", s);
			tool_error(&p->ctx, s);
			free(s);
		}
		return;
	}
	switch (p->kind) {
	case PEND_REJECT:
		if (r->type != IPC_ACK || proto_get_empty(r) == -1)
			BAD_REPLY(p);
		mcp_log(&p->ctx, LOG_WARNING_L, "dispatch refused: %s",
		    p->error);
		tool_error(&p->ctx, p->error);
		break;
	case PEND_DISPATCH:
	case PEND_STATUS:
	case PEND_RESULT:
	case PEND_STOP:
		if (r->type != IPC_VIEW || proto_get_view(r, &v) == -1 ||
		    v.with_result != (p->kind == PEND_RESULT) ||
		    utf8_count(v.detail, v.detail_len) < 0)
			BAD_REPLY(p);
		if (p->kind == PEND_DISPATCH)
			mcp_log(&p->ctx, LOG_INFO_L, "dispatched %s to %s/%s",
			    v.handle, v.orguser, v.repo);
		else if (p->kind == PEND_STOP)
			mcp_log(&p->ctx, LOG_INFO_L, "cancelling %s", v.handle);
		else if (p->kind == PEND_RESULT && v.status != DS_RUNNING)
			mcp_log(&p->ctx, LOG_INFO_L, "%s %s", v.handle,
			    dstatus_name(v.status));
		/* As a tool, or as the task it made. */
		if (p->kind == PEND_DISPATCH) {
			tasks_created(p, &v);
			break;
		}
		tool_ok(&p->ctx, view_json(&v));
		break;
	case PEND_LIST:
		if (r->type != IPC_LIST_PAGE ||
		    proto_get_list_page(r, &total, page, &n) == -1)
			BAD_REPLY(p);
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, view_json(&page[i]));
		o = json_object_new_object();
		/*
		 * count is the length of dispatches;
		 * total only when this page is not the whole list.
		 */
		json_object_object_add(o, "count", json_object_new_int64(n));
		if (total != n)
			json_object_object_add(o, "total",
			    json_object_new_int64(total));
		json_object_object_add(o, "dispatches", arr);
		if (p->log_scope) {
			/* Newest first: the next page is older. */
			if (p->offset == 0 || p->offset > total)
				p->offset = total;
			if (p->offset > n) {
				snprintf(cur, sizeof cur, "l%u",
				    p->offset - n);
				json_object_object_add(o, "next_cursor",
				    json_object_new_string(cur));
			}
		} else if (p->offset + n < total) {
			snprintf(cur, sizeof cur, "o%u", p->offset + n);
			json_object_object_add(o, "next_cursor",
			    json_object_new_string(cur));
		}
		tool_ok(&p->ctx, o);
		break;
	case PEND_TASK_GET:
	case PEND_TASK_RESULT:
	case PEND_TASK_LIST:
	case PEND_TASK_CANCEL:
		fatalx("tools_reply: a tasks request");
	}
}
