/*
 * The frontend's whole input path: bytes -> lines -> strict JSON ->
 * JSON-RPC -> MCP -> tool argument checks, and the answers it produces.
 * Every answer must be one valid JSON value of at most 1 MiB; every
 * message for the broker must decode and pass the broker's own checks.
 * The I/O of frontend.c is replaced here; rpc.c, mcp.c and tools.c run
 * as in the server.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonv.h"
#include "common/bounds.h"
#include "common/proto.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"

static struct pending	*pends[MAX_INFLIGHT];
static size_t		 npends;
static uint32_t		 next_reqid = 1;

void
out_send(struct json_object *o)
{
	const char	*s;
	size_t		 len;
	struct jsonv	 jv;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	/* What we send is strict JSON, one line, within the limit. */
	if (len > MAX_OUT_MSG_BYTES || memchr(s, '\n', len) != NULL ||
	    jsonv_check(s, len, MAX_JSON_DEPTH + 8, &jv) == -1 ||
	    utf8_count(s, len) < 0)
		abort();
	json_object_put(o);
}

void
send_to_broker(struct ipc_msg *m)
{
	struct ipc_reader		 r;
	struct req_dispatch	 d;
	struct req_reject	 j;
	struct client_info	 ci;
	const char		*p;
	size_t			 n;
	char			 h[HANDLE_BYTES + 1], err[MAX_REASON_BYTES];
	uint32_t		 u;

	if (ipc_open(&r, m->data, m->len) == -1)
		abort();
	switch (r.type) {
	case IPC_DISPATCH:
		/* What the broker would accept, it accepts here. */
		if (proto_get_dispatch(&r, &d) == -1)
			abort();
		p = d.task;
		n = d.task_len;
		if (check_task(&p, &n, err, sizeof err) == -1 || n !=
		    d.task_len)
			abort();
		p = d.orguser;
		n = d.orguser_len;
		if (check_name("orguser", &p, &n, err, sizeof err) == -1)
			abort();
		p = d.repo;
		n = d.repo_len;
		if (check_name("repo", &p, &n, err, sizeof err) == -1)
			abort();
		break;
	case IPC_REJECT:
		if (proto_get_reject(&r, &j) == -1)
			abort();
		break;
	case IPC_STATUS:
	case IPC_CANCEL:
		if (proto_get_handle(&r, h) == -1)
			abort();
		break;
	case IPC_RESULT:
		if (proto_get_result(&r, h, &u) == -1)
			abort();
		break;
	case IPC_STOP:
		if (proto_get_stop(&r, &ci, h) == -1)
			abort();
		break;
	case IPC_LIST:
	case IPC_LIST_LOG:
		if (proto_get_list(&r, &u) == -1)
			abort();
		break;
	default:
		abort();
	}
	ipc_free(m);
}

struct pending *
pending_new(enum pend_kind kind, const struct rpc_ctx *ctx)
{
	struct pending	*p = calloc(1, sizeof *p);

	if (p == NULL || npends == MAX_INFLIGHT)
		abort();
	p->reqid = next_reqid++;
	p->kind = kind;
	p->ctx = *ctx;
	json_object_get(p->ctx.id);
	json_object_get(p->ctx.progress);
	pends[npends++] = p;
	return (p);
}

void
pending_progress(struct pending *p, uint32_t wait_ms, const char *handle)
{
}

int
pending_id_in_use(struct json_object *id)
{
	return (0);
}

void
pending_cancel(struct json_object *id)
{
}

/* A tasks/result asked again: a new id, as frontend.c gives it. */
void
pending_renew(struct pending *p)
{
	p->reqid = next_reqid++;
}

/* Asked again later: here, at once. */
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

/* The last input line: the lane's output in the answers below. */
static const char	*cur_line;
static size_t		 cur_len;

static void
fake_view(struct dview *v, uint32_t seed, int with_result)
{
	static char	detail[MAX_DETAIL_BYTES * 3 + 1];

	memset(v, 0, sizeof *v);
	memcpy(v->handle, "dsp-0123456789abcdef0123456789abcdef",
	    HANDLE_BYTES);
	strlcpy(v->orguser, "nash-forbes", sizeof v->orguser);
	strlcpy(v->repo, "nash", sizeof v->repo);
	strlcpy(v->github, "owner/nash", sizeof v->github);
	v->status = seed % 4;
	v->requested_ms = 1700000000000ULL + seed;
	if (!with_result)
		return;
	v->with_result = 1;
	v->has_returncode = seed % 2;
	v->returncode = (int32_t)(seed % 256) - 1;
	v->signal = seed % 3 == 0 ? 9 : 0;
	v->finished_ms = v->status == 0 ? 0 : v->requested_ms + seed % 1000;
	v->duration_ms = seed % 100000;
	/* What the broker sends is valid UTF-8 within the tail's bound. */
	v->detail_len = utf8_sanitize(detail, sizeof detail, cur_line,
	    cur_len > MAX_DETAIL_BYTES / 3 ? MAX_DETAIL_BYTES / 3 : cur_len);
	v->detail = detail;
}

/*
 * Answer every request as a broker might: refusals, and views and pages
 * built around the input, so the rendering of answers is fuzzed too.
 */
static void
drain(void)
{
	static struct dview	page[LIST_PAGE_RECORDS];
	struct ipc_msg		m;
	struct ipc_reader	r;
	struct dview		v;
	size_t			i;
	uint32_t		k, n;

	for (i = 0; i < npends; i++) {
		struct pending *p = pends[i];
		uint32_t seed = p->reqid * 2654435761U ^ (uint32_t)cur_len;

		int task = p->kind >= PEND_TASK_GET;

		if (p->kind == PEND_REJECT)
			proto_empty(&m, IPC_ACK, p->reqid);
		else if (seed % 4 == 0 && p->kind != PEND_TASK_LIST)
			proto_tool_error(&m, p->reqid, "unknown dispatch handle");
		else if (p->kind == PEND_LIST || p->kind == PEND_TASK_LIST) {
			n = seed % 5;
			for (k = 0; k < n; k++)
				fake_view(&page[k], seed + k, 0);
			proto_list_page(&m, p->reqid, n + seed % 300, page, n);
		} else {
			fake_view(&v, seed, p->kind == PEND_RESULT || task);
			/* A task's answer is about the task asked for. */
			if (task)
				memcpy(v.handle, p->handle, sizeof v.handle);
			proto_view(&m, p->reqid, &v);
		}
		if (ipc_open(&r, m.data, m.len) == -1)
			abort();
		/* A tasks/result asked again is dropped here. */
		if (task)
			(void)tasks_reply(p, &r);
		else
			tools_reply(p, &r);
		ipc_free(&m);
		json_object_put(p->ctx.id);
		json_object_put(p->ctx.progress);
		free(p->error);
		free(p);
	}
	npends = 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	const char	*p = (const char *)data, *nl;
	size_t		 left = size, n;

	if (!init) {
		mcp_init();
		tools_init();
		init = 1;
	}
	mcp_fuzz_reset();
	while (left > 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) : left;
		cur_line = p;
		cur_len = n;
		mcp_handle_line(p, n);
		drain();
		if (nl == NULL)
			break;
		left -= n + 1;
		p = nl + 1;
	}
	return (0);
}
