/*
 * JSON-RPC answers: results, errors and notifications, and batches that
 * are answered as one array once every element has its answer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "frontend/frontend.h"

static struct json_object *
rpc_envelope(struct json_object *id)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	/* A parse error has no id to echo: omit it, never send null. */
	if (id != NULL)
		json_object_object_add(o, "id", json_object_get(id));
	return (o);
}

static struct json_object *
rpc_error_obj(struct json_object *id, int code, const char *msg)
{
	struct json_object	*o = rpc_envelope(id), *e;

	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return (o);
}

static size_t
out_len(struct json_object *o)
{
	return (strlen(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
}

/*
 * A batch's answer is one message, held to MAX_OUT_MSG_BYTES like any
 * other; dropped whole, it would leave every request in it unanswered,
 * the ping beside a large result included.  So the largest answers are
 * replaced, largest first, by error -32603 with their own id until the
 * array fits: each request still gets exactly one answer.  64 such
 * errors, with ids of at most 256 bytes, fit many times over.
 */
static void
batch_fit(struct json_object *arr)
{
	struct json_object	*el, *id;
	size_t			 sz[MAX_BATCH_ENTRIES], total = 1, i, big;
	size_t			 n = json_object_array_length(arr);

	for (i = 0; i < n && i < MAX_BATCH_ENTRIES; i++) {
		sz[i] = out_len(json_object_array_get_idx(arr, i));
		total += sz[i] + 1;
	}
	while (total > MAX_OUT_MSG_BYTES) {
		for (big = 0, i = 1; i < n && i < MAX_BATCH_ENTRIES; i++)
			if (sz[i] > sz[big])
				big = i;
		el = json_object_array_get_idx(arr, big);
		id = NULL;
		json_object_object_get_ex(el, "id", &id);
		log_warnx("a batch answer of %zu bytes is too large: answer "
		    "%zu of %zu (%zu bytes) becomes error -32603", total,
		    big + 1, n, sz[big]);
		el = rpc_error_obj(id, RPC_INTERNAL_ERROR, "response too "
		    "large");
		total -= sz[big];
		sz[big] = out_len(el);
		total += sz[big];
		json_object_array_put_idx(arr, big, el);
	}
}

static void
batch_flush(struct batch *b)
{
	if (!b->sealed || b->outstanding > 0)
		return;
	/* All notifications: JSON-RPC says send nothing at all. */
	if (json_object_array_length(b->responses) > 0) {
		batch_fit(b->responses);
		out_send(b->responses);
	} else
		json_object_put(b->responses);
	free(b);
}

void
batch_skip(struct batch *b)
{
	if (b == NULL)
		return;
	b->outstanding--;
	batch_flush(b);
}

static void
rpc_emit(const struct rpc_ctx *ctx, struct json_object *msg)
{
	struct batch	*b = ctx->batch;

	if (b == NULL) {
		out_send(msg);
		return;
	}
	json_object_array_add(b->responses, msg);
	b->outstanding--;
	batch_flush(b);
}

void
rpc_result(const struct rpc_ctx *ctx, struct json_object *result)
{
	struct json_object	*o = rpc_envelope(ctx->id), *meta;

	/* 2026-07-28: every result says it is complete, and who we are. */
	if (ctx->modern) {
		/* A task's own result says "task". */
		if (!json_object_object_get_ex(result, "resultType", NULL))
			json_object_object_add(result, "resultType",
			    json_object_new_string("complete"));
		meta = json_object_new_object();
		json_object_object_add(meta, "io.modelcontextprotocol/serverInfo",
		    mcp_server_info(1));
		json_object_object_add(result, "_meta", meta);
	}
	json_object_object_add(o, "result", result);
	rpc_emit(ctx, o);
}

void
rpc_fail(const struct rpc_ctx *ctx, int code, const char *msg,
    struct json_object *data)
{
	struct json_object	*o = rpc_envelope(ctx->id), *e;

	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (data != NULL)
		json_object_object_add(e, "data", data);
	json_object_object_add(o, "error", e);
	rpc_emit(ctx, o);
}

void
rpc_error(struct json_object *id, int code, const char *msg)
{
	struct rpc_ctx	ctx;

	memset(&ctx, 0, sizeof ctx);
	ctx.id = id;
	rpc_fail(&ctx, code, msg, NULL);
}

void
rpc_notify(const char *method, struct json_object *params)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "params", params);
	out_send(o);
}
