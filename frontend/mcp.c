/*
 * MCP over JSON-RPC 2.0: one message per line in, one per line out.  A
 * line is checked by the strict syntax pass, parsed by json-c, checked
 * for duplicate keys and non-finite numbers, and routed through the
 * method table below.  Nothing here touches the system.
 *
 * Two eras are served on one process.  A request whose params._meta
 * names io.modelcontextprotocol/protocolVersion is stateless (2026-07-28)
 * and carries everything it needs; any other request belongs to the
 * session that initialize opened (2024-11-05 to 2025-11-25).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonv.h"
#include "common/bounds.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"

#define META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define META_CAPS	"io.modelcontextprotocol/clientCapabilities"
#define META_CLIENT	"io.modelcontextprotocol/clientInfo"
#define META_LOGLEVEL	"io.modelcontextprotocol/logLevel"
/* How long a client may cache tools/list and server/discover. */
#define CACHE_TTL_MS	3600000

static struct json_tokener	*tok;
static int			 initialized;
static char			 session_version[16] = MCP_LATEST;
static struct client_info	 session_client;
static enum log_level		 session_loglevel = LOG_NONE_L;

/* Revisions with the initialize handshake, newest first. */
static const char *legacy_versions[] = {
	MCP_V20251125, MCP_V20250618, MCP_V20250326, MCP_V20241105
};
/* Revisions served per request; the same list in discover and -32022. */
static const char *modern_versions[] = { MCP_V20260728 };

static const char *level_names[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency"
};

#define INSTRUCTIONS \
	"Security-constrained work dispatch. The only capability is " \
	"handing a unit of work to an allowlisted org-user/repo lane; " \
	"nothing here runs a command of your choosing. Call " \
	"dispatch_unit(orguser, repo, task_description) to start one: it " \
	"returns at once with a handle while the lane runs. Then poll " \
	"dispatch_status(handle) for its state (running, succeeded, failed, " \
	"timed_out, cancelled, lost), or call dispatch_result(handle, " \
	"wait_seconds) to wait up to 50 seconds for the end and read the " \
	"exit code and output; while it waits the server keeps answering, " \
	"and it sends progress if you pass a progressToken. " \
	"dispatch_cancel(handle) ends a running dispatch. dispatch_list() " \
	"shows every dispatch of this session, and with scope \"log\" " \
	"those of earlier servers too; their handles still answer. " \
	"A client with MCP tasks may call dispatch_unit as a task " \
	"instead: the task id is the handle, and tasks/result (2025-11-25) " \
	"waits as long as the lane runs. " \
	"Org-users and repos outside the allowlist are refused; the task " \
	"description is passed to the lane as data, never run."

static void	method_initialize(const struct rpc_ctx *, struct json_object *);
static void	method_ping(const struct rpc_ctx *, struct json_object *);
static void	method_discover(const struct rpc_ctx *, struct json_object *);
static void	method_set_level(const struct rpc_ctx *, struct json_object *);
static void	method_tools_list(const struct rpc_ctx *, struct json_object *);
static void	method_tools_call(const struct rpc_ctx *, struct json_object *);
static void	n_cancelled(struct json_object *);
static void	n_initialized(struct json_object *);

/*
 * Requests, and the eras that have them.  M_ANYTIME: allowed before a
 * legacy session is initialized.
 */
#define M_LEGACY	0x1
#define M_MODERN	0x2
#define M_ANYTIME	0x4
static const struct {
	const char	*name;
	int		 flags;
	void		(*fn)(const struct rpc_ctx *, struct json_object *);
} methods[] = {
	{ "initialize", M_LEGACY | M_ANYTIME, method_initialize },
	{ "ping", M_LEGACY | M_ANYTIME, method_ping },
	{ "logging/setLevel", M_LEGACY, method_set_level },
	{ "server/discover", M_MODERN, method_discover },
	{ "tools/list", M_LEGACY | M_MODERN, method_tools_list },
	{ "tools/call", M_LEGACY | M_MODERN, method_tools_call },
	{ "tasks/get", M_LEGACY | M_MODERN, method_tasks_get },
	{ "tasks/result", M_LEGACY, method_tasks_result },
	{ "tasks/list", M_LEGACY, method_tasks_list },
	{ "tasks/update", M_MODERN, method_tasks_update },
	{ "tasks/cancel", M_LEGACY | M_MODERN, method_tasks_cancel },
};

/* Notifications we act on; any other is ignored, as JSON-RPC says. */
static const struct {
	const char	*name;
	void		(*fn)(struct json_object *);
} notifications[] = {
	{ "notifications/initialized", n_initialized },
	{ "notifications/cancelled", n_cancelled },
};

int
mcp_version_at_least(const char *have, const char *want)
{
	/* Revisions are ISO dates: string order is time order. */
	return (strcmp(have, want) >= 0);
}

struct json_object *
mcp_server_info(int with_title)
{
	struct json_object	*info = json_object_new_object();

	json_object_object_add(info, "name",
	    json_object_new_string(PACKAGE_NAME));
	if (with_title)
		json_object_object_add(info, "title",
		    json_object_new_string("Dispatch MCP"));
	json_object_object_add(info, "version",
	    json_object_new_string(PACKAGE_VERSION));
	return (info);
}

void
mcp_log(const struct rpc_ctx *ctx, enum log_level level, const char *fmt,
    ...)
{
	struct json_object	*o;
	va_list			 ap;
	char			 msg[512], clean[512 * 3];

	if (ctx->loglevel == LOG_NONE_L || level < ctx->loglevel)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_sanitize(clean, sizeof clean, msg, strlen(msg));
	o = json_object_new_object();
	json_object_object_add(o, "level",
	    json_object_new_string(level_names[level]));
	json_object_object_add(o, "logger",
	    json_object_new_string(PACKAGE_NAME));
	json_object_object_add(o, "data", json_object_new_string(clean));
	rpc_notify("notifications/message", o);
}

void
mcp_init(void)
{
	struct json_object	*o;

	if ((tok = json_tokener_new_ex(MAX_JSON_DEPTH + 1)) == NULL)
		fatalx("mcp_init: json_tokener_new_ex");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* json-c seeds its hash with getrandom on first use: do it now. */
	o = json_tokener_parse("{\"seed\":1}");
	json_object_put(o);
}

#ifdef DISPATCH_FUZZING
/* Each fuzz input starts a new session. */
void
mcp_fuzz_reset(void)
{
	initialized = 0;
	strlcpy(session_version, MCP_LATEST, sizeof session_version);
	memset(&session_client, 0, sizeof session_client);
	session_loglevel = LOG_NONE_L;
}
#endif

/*
 * An id we can echo exactly: a string of bounded length, or an integer
 * a JavaScript client can represent.  null, floats, objects and arrays
 * are refused; MCP forbids null ids.
 */
static int
id_valid(struct json_object *id)
{
	int64_t	v;

	switch (json_object_get_type(id)) {
	case json_type_string:
		return (json_object_get_string_len(id) <= MAX_ID_BYTES);
	case json_type_int:
		v = json_object_get_int64(id);
		return (v >= -9007199254740991LL && v <= 9007199254740991LL);
	default:
		return (0);
	}
}

static int
get_string(struct json_object *o, const char *key, const char **s)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (-1);
	*s = json_object_get_string(v);
	/* "2.0\u0000x" is not "2.0": protocol words hold no NUL. */
	if (strlen(*s) != (size_t)json_object_get_string_len(v))
		return (-1);
	return (0);
}

static void
copy_client(struct json_object *ci, struct client_info *out)
{
	struct json_object	*v;

	memset(out, 0, sizeof *out);
	if (ci == NULL || !json_object_is_type(ci, json_type_object))
		return;
	/* NULs and bad bytes become U+FFFD: this is logged and audited. */
	if (json_object_object_get_ex(ci, "name", &v) &&
	    json_object_is_type(v, json_type_string))
		utf8_sanitize(out->name, sizeof out->name,
		    json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	if (json_object_object_get_ex(ci, "version", &v) &&
	    json_object_is_type(v, json_type_string))
		utf8_sanitize(out->version, sizeof out->version,
		    json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

static int
parse_level(struct json_object *v, enum log_level *out)
{
	size_t	i;

	if (v == NULL || !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return (-1);
	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(json_object_get_string(v), level_names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

static struct json_object *
version_list(void)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < sizeof modern_versions / sizeof modern_versions[0];
	    i++)
		json_object_array_add(a,
		    json_object_new_string(modern_versions[i]));
	return (a);
}

/*
 * A stateless request's envelope.  Returns 0, or answers the request
 * with the error and returns -1.
 */
static int
modern_envelope(struct rpc_ctx *ctx, struct json_object *meta)
{
	struct json_object	*v, *data;
	const char		*want;
	size_t			 i;

	if (get_string(meta, META_VERSION, &want) == -1) {
		rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: _meta "
		    "\"" META_VERSION "\" must be a string", NULL);
		return (-1);
	}
	if (!json_object_object_get_ex(meta, META_CAPS, &v) ||
	    !json_object_is_type(v, json_type_object)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: _meta "
		    "\"" META_CAPS "\" is required and must be an object", NULL);
		return (-1);
	}
	if (json_object_object_get_ex(meta, META_LOGLEVEL, &v)) {
		if (parse_level(v, &ctx->loglevel) == -1) {
			rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: "
			    "_meta \"" META_LOGLEVEL "\" is not a log level",
			    NULL);
			return (-1);
		}
	}
	for (i = 0; i < sizeof modern_versions / sizeof modern_versions[0];
	    i++) {
		if (strcmp(want, modern_versions[i]) == 0)
			break;
	}
	if (i == sizeof modern_versions / sizeof modern_versions[0]) {
		data = json_object_new_object();
		json_object_object_add(data, "supported", version_list());
		/* The client's word, cut: the answer must stay small. */
		json_object_object_add(data, "requested",
		    json_object_new_string_len(want, (int)utf8_cut(want,
		    strlen(want), MAX_ECHO_VERSION_BYTES)));
		rpc_fail(ctx, MCP_UNSUPPORTED_VERSION,
		    "Unsupported protocol version", data);
		return (-1);
	}
	ctx->modern = 1;
	strlcpy(ctx->version, modern_versions[i], sizeof ctx->version);
	/* Declared on this request or not at all: nothing is remembered. */
	json_object_object_get_ex(meta, META_CAPS, &v);
	if (json_object_object_get_ex(v, "extensions", &v) &&
	    json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, TASKS_EXT, &v) &&
	    json_object_is_type(v, json_type_object))
		ctx->tasks_ext = 1;
	json_object_object_get_ex(meta, META_CLIENT, &v);
	copy_client(v, &ctx->client);
	return (0);
}

static void
handle_message(struct json_object *msg, struct batch *batch)
{
	struct json_object	*id = NULL, *params = NULL, *meta = NULL, *v;
	struct rpc_ctx		 ctx;
	const char		*method, *jv;
	char			 err[ECHO_BYTES + 64], echo[ECHO_BYTES];
	size_t			 i;
	int			 has_id, flag;

	memset(&ctx, 0, sizeof ctx);
	ctx.batch = batch;
	ctx.loglevel = LOG_NONE_L;
	if (!json_object_is_type(msg, json_type_object)) {
		rpc_fail(&ctx, RPC_INVALID_REQUEST,
		    "Invalid Request: a message must be a JSON object", NULL);
		return;
	}
	has_id = json_object_object_get_ex(msg, "id", &id);
	if (has_id && !id_valid(id)) {
		rpc_fail(&ctx, RPC_INVALID_REQUEST, "Invalid Request: id must "
		    "be a string of at most 256 bytes or an integer", NULL);
		return;
	}
	if (has_id)
		ctx.id = id;
	if (get_string(msg, "jsonrpc", &jv) == -1 || strcmp(jv, "2.0") != 0) {
		rpc_fail(&ctx, RPC_INVALID_REQUEST,
		    "Invalid Request: jsonrpc must be \"2.0\"", NULL);
		return;
	}
	if (!json_object_object_get_ex(msg, "method", &v)) {
		/* A response to a request we never send: ignore it. */
		if (has_id && (json_object_object_get_ex(msg, "result", NULL) ||
		    json_object_object_get_ex(msg, "error", NULL))) {
			batch_skip(batch);
			return;
		}
		rpc_fail(&ctx, RPC_INVALID_REQUEST,
		    "Invalid Request: method is missing", NULL);
		return;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rpc_fail(&ctx, RPC_INVALID_REQUEST,
		    "Invalid Request: method must be a string", NULL);
		return;
	}
	method = json_object_get_string(v);
	/* A NUL would make "ping\u0000" match "ping" below. */
	if (strlen(method) != (size_t)json_object_get_string_len(v))
		method = "";
	if (json_object_object_get_ex(msg, "params", &params) &&
	    !json_object_is_type(params, json_type_object)) {
		if (has_id)
			rpc_fail(&ctx, RPC_INVALID_PARAMS,
			    "Invalid params: params must be an object", NULL);
		else
			batch_skip(batch);
		return;
	}

	if (!has_id) {
		for (i = 0; i < sizeof notifications /
		    sizeof notifications[0]; i++) {
			if (strcmp(method, notifications[i].name) == 0) {
				notifications[i].fn(params);
				break;
			}
		}
		batch_skip(batch);
		return;
	}
	if (pending_id_in_use(id)) {
		rpc_fail(&ctx, RPC_INVALID_REQUEST, "Invalid Request: a request "
		    "with this id is still in progress", NULL);
		return;
	}
	if (params != NULL && json_object_object_get_ex(params, "_meta",
	    &meta) && !json_object_is_type(meta, json_type_object)) {
		rpc_fail(&ctx, RPC_INVALID_PARAMS,
		    "Invalid params: _meta must be an object", NULL);
		return;
	}
	if (meta != NULL && json_object_object_get_ex(meta, "progressToken",
	    &v)) {
		if (!json_object_is_type(v, json_type_string) &&
		    !json_object_is_type(v, json_type_int)) {
			rpc_fail(&ctx, RPC_INVALID_PARAMS, "Invalid params: "
			    "progressToken must be a string or an integer",
			    NULL);
			return;
		}
		/* Echoed in every progress notification: kept short. */
		if (json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > MAX_PROGRESS_TOKEN_BYTES) {
			rpc_fail(&ctx, RPC_INVALID_PARAMS, "Invalid params: "
			    "progressToken is longer than 256 bytes", NULL);
			return;
		}
		ctx.progress = v;
	}

	if (meta != NULL && json_object_object_get_ex(meta, META_VERSION,
	    NULL)) {
		if (modern_envelope(&ctx, meta) == -1)
			return;
		flag = M_MODERN;
	} else {
		/* A discover probe must carry the envelope it asks about. */
		if (strcmp(method, "server/discover") == 0) {
			rpc_fail(&ctx, RPC_INVALID_PARAMS, "Invalid params: "
			    "server/discover needs _meta with \"" META_VERSION
			    "\" and \"" META_CAPS "\"", NULL);
			return;
		}
		flag = M_LEGACY;
		strlcpy(ctx.version, session_version, sizeof ctx.version);
		ctx.client = session_client;
		ctx.loglevel = session_loglevel;
	}

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strcmp(method, methods[i].name) != 0 ||
		    !(methods[i].flags & flag))
			continue;
		if (flag == M_LEGACY && !initialized &&
		    !(methods[i].flags & M_ANYTIME)) {
			rpc_fail(&ctx, RPC_INVALID_PARAMS, "Invalid params: no "
			    "session: send initialize first, or give this "
			    "request _meta with \"" META_VERSION "\"", NULL);
			return;
		}
		if (batch != NULL && strcmp(method, "initialize") == 0) {
			rpc_fail(&ctx, RPC_INVALID_REQUEST, "Invalid Request: "
			    "initialize may not be part of a batch", NULL);
			return;
		}
		methods[i].fn(&ctx, params);
		return;
	}
	echo_value(echo, sizeof echo, method, strlen(method));
	snprintf(err, sizeof err, "Method not found: %s", echo);
	rpc_fail(&ctx, RPC_METHOD_NOT_FOUND, err, NULL);
}

/* 2025-03-26 is the one revision with batches; elsewhere -32600. */
static void
handle_batch(struct json_object *arr)
{
	struct batch	*b;
	size_t		 i, n = json_object_array_length(arr);

	if (!initialized || strcmp(session_version, MCP_V20250326) != 0) {
		rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: batches "
		    "are only part of protocol revision 2025-03-26");
		return;
	}
	if (n == 0 || n > MAX_BATCH_ENTRIES) {
		rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: a batch "
		    "holds 1 to 64 messages");
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->responses = json_object_new_array();
	b->outstanding = (int)n;
	for (i = 0; i < n; i++)
		handle_message(json_object_array_get_idx(arr, i), b);
	b->sealed = 1;
	/* Everything may already be answered; this flushes if so. */
	b->outstanding++;
	batch_skip(b);
}

void
mcp_handle_line(const char *line, size_t len)
{
	struct json_object	*msg;
	struct jsonv		 jv;
	size_t			 i;
	char			 err[160];

	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t')
			break;
	}
	if (i == len)
		return;		/* blank lines are not messages */
	switch (jsonv_parse(tok, line, len, MAX_JSON_DEPTH, 1, &jv, &msg)) {
	case JV_OK:
		break;
	case JV_SYNTAX:
		snprintf(err, sizeof err, "Parse error: %s at byte %zu",
		    jv.err, jv.errpos);
		rpc_error(NULL, RPC_PARSE_ERROR, err);
		return;
	case JV_PARSE:
		rpc_error(NULL, RPC_PARSE_ERROR, "Parse error");
		return;
	case JV_RANGE:
		rpc_error(NULL, RPC_PARSE_ERROR,
		    "Parse error: number out of range");
		return;
	case JV_DUPLICATE:
		rpc_error(NULL, RPC_PARSE_ERROR,
		    "Parse error: duplicate key in an object");
		return;
	case JV_KEY_NUL:
		/* json-c cuts keys at a NUL: what it would hand on is not
		 * what came. */
		rpc_error(NULL, RPC_PARSE_ERROR,
		    "Parse error: an object key holds a NUL character");
		return;
	}
	/* json-c's null is a NULL object: valid JSON, not a request. */
	if (msg == NULL) {
		rpc_error(NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: a message must be a JSON object");
		return;
	}
	if (json_object_is_type(msg, json_type_array))
		handle_batch(msg);
	else
		handle_message(msg, NULL);
	json_object_put(msg);
}

/*
 * Tasks, in the form of the era: a part of the capabilities in a
 * 2025-11-25 session, an extension in 2026-07-28, none before.
 */
static struct json_object *
capabilities(const char *version)
{
	struct json_object	*caps = json_object_new_object(), *tools, *o;

	tools = json_object_new_object();
	json_object_object_add(tools, "listChanged",
	    json_object_new_boolean(0));
	json_object_object_add(caps, "tools", tools);
	json_object_object_add(caps, "logging", json_object_new_object());
	if (strcmp(version, MCP_V20251125) == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "call", json_object_new_object());
		tools = json_object_new_object();
		json_object_object_add(tools, "tools", o);
		o = json_object_new_object();
		json_object_object_add(o, "list", json_object_new_object());
		json_object_object_add(o, "cancel", json_object_new_object());
		json_object_object_add(o, "requests", tools);
		json_object_object_add(caps, "tasks", o);
	} else if (mcp_version_at_least(version, MCP_V20260728)) {
		o = json_object_new_object();
		json_object_object_add(o, TASKS_EXT, json_object_new_object());
		json_object_object_add(caps, "extensions", o);
	}
	return (caps);
}

static void
method_initialize(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*res, *ci = NULL;
	struct rpc_ctx		 c = *ctx;
	const char		*want = NULL;
	size_t			 i;

	if (initialized) {
		rpc_fail(ctx, RPC_INVALID_REQUEST, "Invalid Request: the "
		    "session is already initialized", NULL);
		return;
	}
	if (get_string(params, "protocolVersion", &want) == -1) {
		rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: "
		    "protocolVersion must be a string", NULL);
		return;
	}
	/* Echo a revision we speak; otherwise offer our latest. */
	strlcpy(session_version, MCP_LATEST, sizeof session_version);
	for (i = 0; i < sizeof legacy_versions / sizeof legacy_versions[0];
	    i++) {
		if (strcmp(want, legacy_versions[i]) == 0)
			strlcpy(session_version, legacy_versions[i],
			    sizeof session_version);
	}
	json_object_object_get_ex(params, "clientInfo", &ci);
	copy_client(ci, &session_client);
	initialized = 1;
	log_info("client \"%s\" %s initialized protocol %s",
	    session_client.name, session_client.version, session_version);

	res = json_object_new_object();
	json_object_object_add(res, "protocolVersion",
	    json_object_new_string(session_version));
	json_object_object_add(res, "capabilities",
	    capabilities(session_version));
	json_object_object_add(res, "serverInfo", mcp_server_info(
	    mcp_version_at_least(session_version, MCP_V20250618)));
	json_object_object_add(res, "instructions",
	    json_object_new_string(INSTRUCTIONS));
	strlcpy(c.version, session_version, sizeof c.version);
	rpc_result(&c, res);
}

static void
method_ping(const struct rpc_ctx *ctx, struct json_object *params)
{
	rpc_result(ctx, json_object_new_object());
}

static void
method_set_level(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*v = NULL;
	enum log_level		 level;

	if (params != NULL)
		json_object_object_get_ex(params, "level", &v);
	if (parse_level(v, &level) == -1) {
		rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: level must "
		    "be one of debug, info, notice, warning, error, critical, "
		    "alert, emergency", NULL);
		return;
	}
	session_loglevel = level;
	rpc_result(ctx, json_object_new_object());
}

static void
add_cache(struct json_object *res)
{
	json_object_object_add(res, "ttlMs",
	    json_object_new_int64(CACHE_TTL_MS));
	json_object_object_add(res, "cacheScope",
	    json_object_new_string("public"));
}

static void
method_discover(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*res = json_object_new_object();

	json_object_object_add(res, "supportedVersions", version_list());
	json_object_object_add(res, "capabilities",
	    capabilities(ctx->version));
	json_object_object_add(res, "instructions",
	    json_object_new_string(INSTRUCTIONS));
	add_cache(res);
	rpc_result(ctx, res);
}

static void
method_tools_list(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*res;

	/* Every tool fits on the first page: any cursor is stale. */
	if (params != NULL &&
	    json_object_object_get_ex(params, "cursor", NULL)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: unknown cursor", NULL);
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "tools", tools_list(ctx->version));
	if (ctx->modern)
		add_cache(res);
	rpc_result(ctx, res);
}

static void
method_tools_call(const struct rpc_ctx *ctx, struct json_object *params)
{
	if (params == NULL) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: tools/call needs params", NULL);
		return;
	}
	tools_call(ctx, params);
}

static void
n_initialized(struct json_object *params)
{
	log_debug("client sent notifications/initialized");
}

static void
n_cancelled(struct json_object *params)
{
	struct json_object	*rid;

	/* The answer is dropped; a lane is never killed by a cancel. */
	if (params != NULL &&
	    json_object_object_get_ex(params, "requestId", &rid) &&
	    id_valid(rid))
		pending_cancel(rid);
}
