/*
 * MCP over JSON-RPC 2.0: one message per line in, one per line out.  A
 * line is checked by the strict syntax pass, parsed by json-c, checked
 * for duplicate keys and non-finite numbers, and then routed through the
 * method table below.  Nothing here touches the system.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"
#include "common/jsonv.h"

int	pending_id_in_use(struct json_object *);
void	pending_cancel(struct json_object *);

static struct json_tokener	*tok;
static int			 initialized;
static char			 session_version[16] = MCP_LATEST;

static const char *versions[] = {
	MCP_V20251125, MCP_V20250618, MCP_V20250326, MCP_V20241105
};

#define INSTRUCTIONS \
	"Security-constrained work dispatch. The only capability is " \
	"handing a unit of work to an allowlisted org-user/repo lane; " \
	"nothing here runs a command of your choosing. Call " \
	"dispatch_unit(orguser, repo, task_description) to start one: it " \
	"returns at once with a handle while the lane runs. Then poll " \
	"dispatch_status(handle) for its state (running, succeeded, failed, " \
	"timed_out), or call dispatch_result(handle, wait_seconds) to wait " \
	"up to 60 seconds for the end and read the exit code and output. " \
	"dispatch_list() shows every dispatch of this session. Org-users and " \
	"repos outside the allowlist are refused; the task description is " \
	"passed to the lane as data, never run."

static void	m_initialize(const struct rpc_ctx *, struct json_object *);
static void	m_ping(const struct rpc_ctx *, struct json_object *);
static void	m_tools_list(const struct rpc_ctx *, struct json_object *);
static void	m_tools_call(const struct rpc_ctx *, struct json_object *);
static void	n_initialized(struct json_object *);
static void	n_cancelled(struct json_object *);

/*
 * Requests we answer.  M_ANYTIME marks those allowed before initialize.
 */
#define M_ANYTIME	0x1
static const struct {
	const char	*name;
	int		 flags;
	void		(*fn)(const struct rpc_ctx *, struct json_object *);
} methods[] = {
	{ "initialize", M_ANYTIME, m_initialize },
	{ "ping", M_ANYTIME, m_ping },
	{ "tools/list", 0, m_tools_list },
	{ "tools/call", 0, m_tools_call },
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

/* Count object members and refuse numbers json-c made infinite. */
static int
tree_check(struct json_object *o, size_t *members, int depth)
{
	size_t	i, n;

	if (depth > MAX_JSON_DEPTH)
		return (-1);
	switch (json_object_get_type(o)) {
	case json_type_object:
		*members += (size_t)json_object_object_length(o);
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (tree_check(v, members, depth + 1) == -1)
				return (-1);
		}
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (tree_check(json_object_array_get_idx(o, i),
			    members, depth + 1) == -1)
				return (-1);
		}
		break;
	case json_type_double:
		if (!isfinite(json_object_get_double(o)))
			return (-1);
		break;
	default:
		break;
	}
	return (0);
}

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

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (-1);
	*s = json_object_get_string(v);
	return (0);
}

static void
handle_message(struct json_object *msg)
{
	struct json_object	*id = NULL, *params = NULL, *v;
	struct rpc_ctx		 ctx;
	const char		*method, *jv;
	char			 err[ECHO_BYTES + 64], echo[ECHO_BYTES];
	size_t			 i;
	int			 has_id;

	if (!json_object_is_type(msg, json_type_object)) {
		rpc_error(NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: a message must be a JSON object");
		return;
	}
	has_id = json_object_object_get_ex(msg, "id", &id);
	if (has_id && !id_valid(id)) {
		rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: id must "
		    "be a string of at most 256 bytes or an integer");
		return;
	}
	if (get_string(msg, "jsonrpc", &jv) == -1 || strcmp(jv, "2.0") != 0) {
		rpc_error(has_id ? id : NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: jsonrpc must be \"2.0\"");
		return;
	}
	if (!json_object_object_get_ex(msg, "method", &v)) {
		/* A response to a request we never send: ignore it. */
		if (has_id && (json_object_object_get_ex(msg, "result", NULL) ||
		    json_object_object_get_ex(msg, "error", NULL)))
			return;
		rpc_error(has_id ? id : NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: method is missing");
		return;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rpc_error(has_id ? id : NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: method must be a string");
		return;
	}
	method = json_object_get_string(v);
	if (json_object_object_get_ex(msg, "params", &params) &&
	    !json_object_is_type(params, json_type_object)) {
		if (has_id)
			rpc_error(id, RPC_INVALID_PARAMS,
			    "Invalid params: params must be an object");
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
		return;
	}
	if (pending_id_in_use(id)) {
		rpc_error(id, RPC_INVALID_REQUEST, "Invalid Request: a request "
		    "with this id is still in progress");
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.id = id;
	strlcpy(ctx.version, session_version, sizeof ctx.version);
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strcmp(method, methods[i].name) != 0)
			continue;
		if (!initialized && !(methods[i].flags & M_ANYTIME)) {
			rpc_error(id, RPC_INVALID_REQUEST, "Invalid Request: "
			    "the session is not initialized; send initialize "
			    "first");
			return;
		}
		methods[i].fn(&ctx, params);
		return;
	}
	echo_value(echo, sizeof echo, method, strlen(method));
	snprintf(err, sizeof err, "Method not found: %s", echo);
	rpc_error(id, RPC_METHOD_NOT_FOUND, err);
}

void
mcp_handle_line(const char *line, size_t len)
{
	struct json_object	*msg;
	struct jsonv		 jv;
	size_t			 members = 0, i;
	char			 err[160];

	for (i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t')
			break;
	}
	if (i == len)
		return;		/* blank lines are not messages */
	if (jsonv_check(line, len, MAX_JSON_DEPTH, &jv) == -1) {
		snprintf(err, sizeof err, "Parse error: %s at byte %zu",
		    jv.err, jv.errpos);
		rpc_error(NULL, RPC_PARSE_ERROR, err);
		return;
	}
	json_tokener_reset(tok);
	msg = json_tokener_parse_ex(tok, line, (int)len);
	/* A bare number is only known to end at the terminating NUL. */
	if (msg == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		msg = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(msg);
		rpc_error(NULL, RPC_PARSE_ERROR, "Parse error");
		return;
	}
	/* json-c's null is a NULL object: valid JSON, not a request. */
	if (msg == NULL) {
		rpc_error(NULL, RPC_INVALID_REQUEST,
		    "Invalid Request: a message must be a JSON object");
		return;
	}
	if (tree_check(msg, &members, 0) == -1) {
		json_object_put(msg);
		rpc_error(NULL, RPC_PARSE_ERROR,
		    "Parse error: number out of range");
		return;
	}
	if (members != jv.members) {
		json_object_put(msg);
		rpc_error(NULL, RPC_PARSE_ERROR,
		    "Parse error: duplicate key in an object");
		return;
	}
	if (json_object_is_type(msg, json_type_array)) {
		rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: batches "
		    "are not supported in this protocol version");
		json_object_put(msg);
		return;
	}
	handle_message(msg);
	json_object_put(msg);
}

static void
copy_client_field(struct json_object *ci, const char *key, char *dst,
    size_t dstlen)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(ci, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	/* NULs and bad bytes become U+FFFD: this is logged and audited. */
	utf8_sanitize(dst, dstlen, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v));
}

static void
m_initialize(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*res, *caps, *tools, *info, *ci;
	const char		*want = NULL;
	size_t			 i;

	if (initialized) {
		rpc_error(ctx->id, RPC_INVALID_REQUEST, "Invalid Request: the "
		    "session is already initialized");
		return;
	}
	if (params == NULL || get_string(params, "protocolVersion", &want) ==
	    -1) {
		rpc_error(ctx->id, RPC_INVALID_PARAMS, "Invalid params: "
		    "protocolVersion must be a string");
		return;
	}
	/* Echo a revision we speak; otherwise offer our latest. */
	strlcpy(session_version, MCP_LATEST, sizeof session_version);
	for (i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		if (strcmp(want, versions[i]) == 0)
			strlcpy(session_version, versions[i],
			    sizeof session_version);
	}
	if (json_object_object_get_ex(params, "clientInfo", &ci) &&
	    json_object_is_type(ci, json_type_object)) {
		copy_client_field(ci, "name", client_info.name,
		    sizeof client_info.name);
		copy_client_field(ci, "version", client_info.version,
		    sizeof client_info.version);
	}
	initialized = 1;
	log_info("client \"%s\" %s initialized protocol %s", client_info.name,
	    client_info.version, session_version);

	res = json_object_new_object();
	json_object_object_add(res, "protocolVersion",
	    json_object_new_string(session_version));
	caps = json_object_new_object();
	tools = json_object_new_object();
	json_object_object_add(tools, "listChanged",
	    json_object_new_boolean(0));
	json_object_object_add(caps, "tools", tools);
	json_object_object_add(res, "capabilities", caps);
	info = json_object_new_object();
	json_object_object_add(info, "name",
	    json_object_new_string(PACKAGE_NAME));
	if (mcp_version_at_least(session_version, MCP_V20250618))
		json_object_object_add(info, "title",
		    json_object_new_string("Dispatch MCP"));
	json_object_object_add(info, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(res, "serverInfo", info);
	json_object_object_add(res, "instructions",
	    json_object_new_string(INSTRUCTIONS));
	{
		struct rpc_ctx	c = *ctx;

		strlcpy(c.version, session_version, sizeof c.version);
		rpc_result(&c, res);
	}
}

static void
m_ping(const struct rpc_ctx *ctx, struct json_object *params)
{
	rpc_result(ctx, json_object_new_object());
}

static void
m_tools_list(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*cursor, *res;

	/* Every tool fits on the first page: any cursor is stale. */
	if (params != NULL &&
	    json_object_object_get_ex(params, "cursor", &cursor)) {
		rpc_error(ctx->id, RPC_INVALID_PARAMS,
		    "Invalid params: unknown cursor");
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "tools", tools_list(ctx->version));
	rpc_result(ctx, res);
}

static void
m_tools_call(const struct rpc_ctx *ctx, struct json_object *params)
{
	if (params == NULL) {
		rpc_error(ctx->id, RPC_INVALID_PARAMS,
		    "Invalid params: tools/call needs params");
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
