/*
 * JSON-RPC answers: results, errors and notifications, and batches that
 * are answered as one array once every element has its answer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

static void
batch_flush(struct batch *b)
{
	if (!b->sealed || b->outstanding > 0)
		return;
	/* All notifications: JSON-RPC says send nothing at all. */
	if (json_object_array_length(b->responses) > 0)
		out_send(b->responses);
	else
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
