/*
 * Dispatches as MCP tasks.  A task is a dispatch and its id is the
 * handle; its state is the broker's, asked for with the same STATUS,
 * RESULT and LIST requests as the tools use, so the tasks methods and
 * the tools never disagree.  Two forms are served:
 *
 * - 2025-11-25 sessions: task-augmented tools/call (params.task),
 *   tasks/get, a tasks/result that waits until the dispatch is final,
 *   tasks/list, tasks/cancel (the STOP of dispatch_cancel, answered
 *   once the task is cancelled), and notifications/tasks/status when a
 *   task made in this session ends.
 * - 2026-07-28 requests that declare the io.modelcontextprotocol/tasks
 *   extension: a flat task result from tools/call, tasks/get with the
 *   final result inlined, tasks/cancel as an empty acknowledgement;
 *   tasks/update is refused (a dispatch never asks for input).
 *
 * The frontend keeps one small record per dispatch of this session, for
 * the time a task last changed and whether the client made it as a task.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bounds.h"
#include "common/log.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"

#define RELATED_TASK	"io.modelcontextprotocol/related-task"
#define IMMEDIATE	"io.modelcontextprotocol/model-immediate-response"
/* What a client should wait between two tasks/get. */
#define POLL_INTERVAL_MS	1000
#define TASK_BUCKETS		1024

/*
 * Every dispatch status, and the task status it is in each era.  A
 * 2026-07-28 task ends "completed" with the dispatch_result answer
 * inlined whatever the lane did: "failed" is for protocol errors there,
 * and the lane's own failure is in that answer.
 */
static const struct {
	const char	*dstatus;
	const char	*status;	/* 2025-11-25 */
	const char	*modern;	/* 2026-07-28 */
	const char	*message;
} task_states[] = {
	{ "running", "working", "working", "The lane is running." },
	{ "succeeded", "completed", "completed",
	    "The lane exited with status 0." },
	{ "failed", "failed", "completed",
	    "The lane failed; the result's detail says why." },
	{ "timed_out", "failed", "completed",
	    "The lane ran past its timeout and was stopped." },
	{ "lost", "failed", "completed",
	    "The server ended while the lane ran; no exit was recorded." },
	{ "cancelled", "cancelled", "cancelled",
	    "The dispatch was cancelled by request." },
};
#define NSTATES	(sizeof task_states / sizeof task_states[0])

struct task_rec {
	struct task_rec	*next;
	char		 handle[HANDLE_BYTES + 1];
	uint64_t	 created_ms;
	uint64_t	 finished_ms;	/* 0 until FINAL */
	uint32_t	 status;
	int		 notify;	/* made as a 2025-11-25 task */
};

static struct task_rec	*buckets[TASK_BUCKETS];
static unsigned		 nrecs;

/* Handles are random lowercase hex: their first digits spread them. */
static unsigned
bucket_of(const char *handle)
{
	const char	*p = handle + sizeof HANDLE_PREFIX - 1;
	unsigned	 h = 0;
	int		 i;

	for (i = 0; i < 3; i++)
		h = h * 16 + (unsigned)(p[i] <= '9' ? p[i] - '0' :
		    p[i] - 'a' + 10);
	return (h % TASK_BUCKETS);
}

static struct task_rec *
rec_find(const char *handle)
{
	struct task_rec	*t;

	for (t = buckets[bucket_of(handle)]; t != NULL; t = t->next)
		if (strcmp(t->handle, handle) == 0)
			return (t);
	return (NULL);
}

static struct task_rec *
rec_add(const struct dview *v)
{
	struct task_rec	*t;
	unsigned	 b;

	if ((t = rec_find(v->handle)) != NULL)
		return (t);
	/* No session holds more dispatches than the broker keeps. */
	if (nrecs >= MAX_RECORDS)
		return (NULL);
	t = xcalloc(1, sizeof *t);
	strlcpy(t->handle, v->handle, sizeof t->handle);
	t->created_ms = v->requested_ms;
	t->status = v->status;
	b = bucket_of(t->handle);
	t->next = buckets[b];
	buckets[b] = t;
	nrecs++;
	return (t);
}

static size_t
state_of(uint32_t status)
{
	const char	*name = dstatus_name(status);
	size_t		 i;

	for (i = 0; i < NSTATES; i++)
		if (strcmp(task_states[i].dstatus, name) == 0)
			return (i);
	fatalx("state_of: no task status for dispatch status %s", name);
}

/* 2025-11-25 is the one session revision with tasks. */
int
tasks_session(const struct rpc_ctx *ctx)
{
	return (!ctx->modern && strcmp(ctx->version, MCP_V20251125) == 0);
}

/*
 * The Task object.  The time it last changed is when it ended, from
 * the result or from FINAL; before that, when it was made.  ttl is null:
 * a task never expires; the audit log answers for it after its server.
 */
static struct json_object *
task_json(const struct rpc_ctx *ctx, const struct dview *v)
{
	struct json_object	*o = json_object_new_object();
	struct task_rec		*t;
	uint64_t		 updated = v->requested_ms;
	size_t			 st = state_of(v->status);
	char			 ts[TIME_STR_BYTES], msg[160];
	const char		*sig;

	if (v->with_result && v->finished_ms != 0)
		updated = v->finished_ms;
	else if (v->status != DS_RUNNING &&
	    (t = rec_find(v->handle)) != NULL && t->finished_ms != 0)
		updated = t->finished_ms;
	strlcpy(msg, task_states[st].message, sizeof msg);
	/* With the result, a failure with an exit or a signal says which. */
	if (v->with_result && strcmp(dstatus_name(v->status), "failed") == 0) {
		sig = v->signal != 0 ? signal_name((int)v->signal) : NULL;
		if (v->has_returncode)
			snprintf(msg, sizeof msg, "The lane failed: it exited "
			    "with status %d.", v->returncode);
		else if (sig != NULL)
			snprintf(msg, sizeof msg, "The lane failed: it was "
			    "killed by %s.", sig);
	}
	json_object_object_add(o, "taskId", json_object_new_string(v->handle));
	json_object_object_add(o, "status", json_object_new_string(
	    ctx->modern ? task_states[st].modern : task_states[st].status));
	json_object_object_add(o, "statusMessage", json_object_new_string(msg));
	fmt_time_ms(v->requested_ms, ts, sizeof ts);
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	fmt_time_ms(updated, ts, sizeof ts);
	json_object_object_add(o, "lastUpdatedAt", json_object_new_string(ts));
	json_object_object_add(o, ctx->modern ? "ttlMs" : "ttl", NULL);
	json_object_object_add(o, ctx->modern ? "pollIntervalMs" :
	    "pollInterval", json_object_new_int(POLL_INTERVAL_MS));
	return (o);
}

/* The answer to dispatch_unit: as a tool, or as the task it made. */
void
tasks_created(struct pending *p, const struct dview *v)
{
	struct json_object	*res, *meta;
	struct task_rec		*t;
	char			 msg[2 * MAX_NAME_BYTES + HANDLE_BYTES + 80];

	t = rec_add(v);
	if (!p->ctx.as_task) {
		rpc_result(&p->ctx, tool_view_result(&p->ctx, v));
		return;
	}
	if (p->ctx.modern) {
		res = task_json(&p->ctx, v);
		json_object_object_add(res, "resultType",
		    json_object_new_string("task"));
		rpc_result(&p->ctx, res);
		return;
	}
	/* A spawn failure is final already; FINAL follows this answer. */
	if (t != NULL)
		t->notify = 1;
	res = json_object_new_object();
	json_object_object_add(res, "task", task_json(&p->ctx, v));
	snprintf(msg, sizeof msg, "Dispatched to %s/%s as task %s; it runs "
	    "in the background.", v->orguser, v->repo, v->handle);
	meta = json_object_new_object();
	json_object_object_add(meta, IMMEDIATE, json_object_new_string(msg));
	json_object_object_add(res, "_meta", meta);
	rpc_result(&p->ctx, res);
}

/* A dispatch ended: a 2025-11-25 client hears of the tasks it made. */
void
tasks_final(struct ipc_reader *r)
{
	struct task_rec	*t;
	struct rpc_ctx	 ctx;
	struct dview	 v;
	char		 handle[HANDLE_BYTES + 1];
	uint32_t	 status;
	uint64_t	 finished;

	if (proto_get_final(r, handle, &status, &finished) == -1)
		fatalx("frontend: malformed FINAL");
	/* A dispatch whose answer was lost with its client: no record. */
	if ((t = rec_find(handle)) == NULL)
		return;
	if (t->status != DS_RUNNING && t->finished_ms != 0)
		fatalx("frontend: FINAL for %s twice", handle);
	t->status = status;
	t->finished_ms = finished;
	if (!t->notify)
		return;
	memset(&ctx, 0, sizeof ctx);
	strlcpy(ctx.version, MCP_V20251125, sizeof ctx.version);
	memset(&v, 0, sizeof v);
	strlcpy(v.handle, handle, sizeof v.handle);
	v.status = status;
	v.requested_ms = t->created_ms;
	rpc_notify("notifications/tasks/status", task_json(&ctx, &v));
}

/*
 * Checks common to the methods on one task.  Returns the handle, or
 * answers the request and returns NULL.
 */
static const char *
task_request(const struct rpc_ctx *ctx, struct json_object *params,
    const char *method)
{
	struct json_object	*v, *data, *o;
	char			 msg[96];

	if (!ctx->modern && !tasks_session(ctx)) {
		snprintf(msg, sizeof msg, "Method not found: %s (tasks are "
		    "part of protocol revision 2025-11-25)", method);
		rpc_fail(ctx, RPC_METHOD_NOT_FOUND, msg, NULL);
		return (NULL);
	}
	if (ctx->modern && !ctx->tasks_ext) {
		o = json_object_new_object();
		json_object_object_add(o, TASKS_EXT, json_object_new_object());
		v = json_object_new_object();
		json_object_object_add(v, "extensions", o);
		data = json_object_new_object();
		json_object_object_add(data, "requiredCapabilities", v);
		rpc_fail(ctx, MCP_MISSING_CAPABILITY, "Missing required client "
		    "capability: declare the extension \"" TASKS_EXT "\" in "
		    "this request's _meta client capabilities", data);
		return (NULL);
	}
	if (params == NULL || !json_object_object_get_ex(params, "taskId",
	    &v) || !json_object_is_type(v, json_type_string)) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Invalid params: taskId must be a string", NULL);
		return (NULL);
	}
	if (check_handle(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) == -1) {
		rpc_fail(ctx, RPC_INVALID_PARAMS,
		    "Failed to retrieve task: Task not found", NULL);
		return (NULL);
	}
	if (frontend_busy()) {
		rpc_fail(ctx, RPC_SERVER_BUSY, "Server busy: 1024 requests are "
		    "waiting on the broker; retry when some are answered",
		    NULL);
		return (NULL);
	}
	return (json_object_get_string(v));
}

static void
send_result(struct pending *p)
{
	struct ipc_msg	m;

	proto_result(&m, p->reqid, p->handle, p->wait_ms);
	send_to_broker(&m);
}

void
method_tasks_get(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct pending	*p;
	const char	*handle;

	if ((handle = task_request(ctx, params, "tasks/get")) == NULL)
		return;
	/* A RESULT without a wait: the state, and the outcome if final. */
	p = pending_new(PEND_TASK_GET, ctx);
	strlcpy(p->handle, handle, sizeof p->handle);
	send_result(p);
}

void
method_tasks_result(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct pending	*p;
	const char	*handle;

	if ((handle = task_request(ctx, params, "tasks/result")) == NULL)
		return;
	/*
	 * However long the lane runs: waits as long as the broker allows
	 * one, asked again until final.  One request, one place.
	 */
	p = pending_new(PEND_TASK_RESULT, ctx);
	strlcpy(p->handle, handle, sizeof p->handle);
	p->wait_ms = MAX_WAIT_SECONDS * 1000U;
	p->started_ms = mono_ms();
	send_result(p);
}

void
method_tasks_list(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct json_object	*v;
	struct pending		*p;
	struct ipc_msg		 m;
	const char		*cur;
	char			*end;
	unsigned long		 off = 0;
	size_t			 len;

	if (!tasks_session(ctx)) {
		rpc_fail(ctx, RPC_METHOD_NOT_FOUND, "Method not found: "
		    "tasks/list (tasks are part of protocol revision "
		    "2025-11-25)", NULL);
		return;
	}
	if (params != NULL && json_object_object_get_ex(params, "cursor",
	    &v)) {
		cur = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		/* Ours are "o" and a decimal offset, as dispatch_list's. */
		if (!json_object_is_type(v, json_type_string) || len < 2 ||
		    len > 7 || strlen(cur) != len || cur[0] != 'o' ||
		    cur[1] < '0' || cur[1] > '9' ||
		    (off = strtoul(cur + 1, &end, 10), *end != '\0') ||
		    off > MAX_RECORDS) {
			rpc_fail(ctx, RPC_INVALID_PARAMS,
			    "Invalid params: invalid cursor", NULL);
			return;
		}
	}
	if (frontend_busy()) {
		rpc_fail(ctx, RPC_SERVER_BUSY, "Server busy: 1024 requests are "
		    "waiting on the broker; retry when some are answered",
		    NULL);
		return;
	}
	p = pending_new(PEND_TASK_LIST, ctx);
	p->offset = (uint32_t)off;
	proto_list(&m, p->reqid, (uint32_t)off);
	send_to_broker(&m);
}

/*
 * tasks/cancel, in steps: the state (an unknown or final task is
 * refused, or acknowledged in 2026-07-28, before anything is asked of
 * the lane), then STOP, which the broker audits before the first
 * signal, then, in 2025-11-25, the wait until the task is final, so the
 * answer is the cancelled task.
 */
enum {
	CANCEL_PROBE,		/* RESULT without a wait */
	CANCEL_STOP,
	CANCEL_WAIT,		/* RESULT waits until final */
	CANCEL_REPROBE,		/* STOP refused: final meanwhile, or not */
};

void
method_tasks_cancel(const struct rpc_ctx *ctx, struct json_object *params)
{
	struct pending	*p;
	const char	*handle;

	if ((handle = task_request(ctx, params, "tasks/cancel")) == NULL)
		return;
	p = pending_new(PEND_TASK_CANCEL, ctx);
	strlcpy(p->handle, handle, sizeof p->handle);
	p->step = CANCEL_PROBE;
	send_result(p);
}

/* No dispatch asks for input, so there is never anything to update. */
void
method_tasks_update(const struct rpc_ctx *ctx, struct json_object *params)
{
	if (task_request(ctx, params, "tasks/update") == NULL)
		return;
	rpc_fail(ctx, RPC_INVALID_PARAMS, "Invalid params: this task does "
	    "not take input (a dispatch is never input_required)", NULL);
}

#define BAD_REPLY(p) \
	fatalx("frontend: malformed reply %u to task request %u", r->type, \
	    (p)->reqid)

static void
reply_list(struct pending *p, struct ipc_reader *r)
{
	static struct dview	 page[LIST_PAGE_RECORDS];
	struct json_object	*res, *arr;
	uint32_t		 total, n, i;
	char			 cur[16];

	if (r->type != IPC_LIST_PAGE ||
	    proto_get_list_page(r, &total, page, &n) == -1)
		BAD_REPLY(p);
	/* A cursor past the end was never one of ours. */
	if (p->offset > total) {
		rpc_fail(&p->ctx, RPC_INVALID_PARAMS,
		    "Invalid params: invalid cursor", NULL);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, task_json(&p->ctx, &page[i]));
	res = json_object_new_object();
	json_object_object_add(res, "tasks", arr);
	if (p->offset + n < total) {
		snprintf(cur, sizeof cur, "o%u", p->offset + n);
		json_object_object_add(res, "nextCursor",
		    json_object_new_string(cur));
	}
	rpc_result(&p->ctx, res);
}

static void
ask_again(struct pending *p)
{
	/* After SHUTDOWN nothing more may be sent: BYE answers this. */
	if (frontend_stopping()) {
		p->wait_ms = 0;
		return;
	}
	p->wait_ms = MAX_WAIT_SECONDS * 1000U;
	p->started_ms = mono_ms();
	send_result(p);
}

/*
 * Ask again for the end, as long as the broker takes one wait.  One
 * answered before its wait ran out and still running is a dispatch
 * another server runs on the same log (the broker reads it from the log
 * and cannot wait for it), or a broker winding down: ask again in a
 * second, as a poller would, until it is final or BYE answers it.
 */
static int
wait_again(struct pending *p)
{
	int	early = p->wait_ms > 0 &&
	    mono_ms() - p->started_ms + 1000 < p->wait_ms;

	pending_renew(p);
	if (frontend_stopping())
		p->wait_ms = 0;
	else if (early)
		pending_retry(p, ask_again);
	else
		ask_again(p);
	return (1);
}

static void
already_final(struct pending *p, const struct dview *v)
{
	char	msg[128];

	if (p->ctx.modern) {
		/* Cooperative there: a task that has ended is acknowledged. */
		rpc_result(&p->ctx, json_object_new_object());
		return;
	}
	snprintf(msg, sizeof msg, "Cannot cancel task: already in terminal "
	    "status '%s'", task_states[state_of(v->status)].status);
	rpc_fail(&p->ctx, RPC_INVALID_PARAMS, msg, NULL);
}

static int
reply_cancel(struct pending *p, struct ipc_reader *r)
{
	struct ipc_msg	 m;
	struct dview	 v;
	const char	*msg;
	size_t		 len;

	if (r->type == IPC_TOOL_ERROR) {
		if (proto_get_tool_error(r, &msg, &len) == -1 ||
		    p->step == CANCEL_WAIT)
			BAD_REPLY(p);
		if (p->step != CANCEL_STOP) {
			rpc_fail(&p->ctx, RPC_INVALID_PARAMS,
			    "Failed to retrieve task: Task not found", NULL);
			return (0);
		}
		/* Ended meanwhile, or the cancel could not be audited. */
		p->error = xstrndup(msg, len);
		p->step = CANCEL_REPROBE;
		pending_renew(p);
		send_result(p);
		return (1);
	}
	if (r->type != IPC_VIEW || proto_get_view(r, &v) == -1 ||
	    v.with_result != (p->step != CANCEL_STOP) ||
	    strcmp(v.handle, p->handle) != 0)
		BAD_REPLY(p);
	switch (p->step) {
	case CANCEL_PROBE:
		if (v.status != DS_RUNNING) {
			already_final(p, &v);
			return (0);
		}
		p->step = CANCEL_STOP;
		pending_renew(p);
		proto_stop(&m, p->reqid, &p->ctx.client, p->handle);
		send_to_broker(&m);
		return (1);
	case CANCEL_STOP:
		if (p->ctx.modern) {
			rpc_result(&p->ctx, json_object_new_object());
			return (0);
		}
		p->step = CANCEL_WAIT;
		p->wait_ms = 0;
		return (wait_again(p));
	case CANCEL_WAIT:
		if (v.status == DS_RUNNING)
			return (wait_again(p));
		/* Cancelled, or it ended otherwise first: the truth. */
		rpc_result(&p->ctx, task_json(&p->ctx, &v));
		return (0);
	case CANCEL_REPROBE:
		if (v.status != DS_RUNNING)
			already_final(p, &v);
		else
			rpc_fail(&p->ctx, RPC_INTERNAL_ERROR, p->error, NULL);
		return (0);
	}
	fatalx("reply_cancel: step %d", p->step);
}

/*
 * The broker's answer to a tasks request.  Returns 1 when the request
 * is still waiting (a tasks/result asked again), 0 when it is answered.
 */
int
tasks_reply(struct pending *p, struct ipc_reader *r)
{
	struct json_object	*res, *meta, *rel;
	struct dview		 v;
	const char		*msg;
	size_t			 len;

	if (p->kind == PEND_TASK_CANCEL)
		return (reply_cancel(p, r));
	if (r->type == IPC_TOOL_ERROR) {
		/* The only error STATUS, RESULT and LIST have. */
		if (p->kind == PEND_TASK_LIST ||
		    proto_get_tool_error(r, &msg, &len) == -1)
			BAD_REPLY(p);
		rpc_fail(&p->ctx, RPC_INVALID_PARAMS,
		    "Failed to retrieve task: Task not found", NULL);
		return (0);
	}
	if (p->kind == PEND_TASK_LIST) {
		reply_list(p, r);
		return (0);
	}
	if (r->type != IPC_VIEW || proto_get_view(r, &v) == -1 ||
	    !v.with_result || strcmp(v.handle, p->handle) != 0)
		BAD_REPLY(p);
	if (p->kind == PEND_TASK_GET) {
		res = task_json(&p->ctx, &v);
		/* The extension's cancelled task carries no result. */
		if (p->ctx.modern && strcmp(json_object_get_string(
		    json_object_object_get(res, "status")), "completed") == 0)
			json_object_object_add(res, "result",
			    tool_view_result(&p->ctx, &v));
		rpc_result(&p->ctx, res);
		return (0);
	}
	if (v.status == DS_RUNNING)
		return (wait_again(p));
	res = tool_view_result(&p->ctx, &v);
	rel = json_object_new_object();
	json_object_object_add(rel, "taskId", json_object_new_string(v.handle));
	meta = json_object_new_object();
	json_object_object_add(meta, RELATED_TASK, rel);
	json_object_object_add(res, "_meta", meta);
	rpc_result(&p->ctx, res);
	return (0);
}
