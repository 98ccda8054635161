/* Encoders and decoders for every message of the three processes. */
#include "config.h"

#include <string.h>

#include "names.h"
#include "proto.h"

/*
 * A reason's length, at most MAX_REASON_BYTES.  Not strnlen(): once LTO
 * inlines a caller's short buffer into it, GCC 12 takes the larger bound
 * for an overread (-Wstringop-overread), though strnlen stops at the NUL.
 * Every reason is a C string.
 */
static size_t
reason_len(const char *s)
{
	size_t	n = strlen(s);

	return (n < MAX_REASON_BYTES ? n : MAX_REASON_BYTES);
}

const char *
dstatus_name(uint32_t s)
{
	static const char *names[DS_MAX] = {
		"running", "succeeded", "failed", "timed_out", "cancelled",
		"lost"
	};

	return (s < DS_MAX ? names[s] : "unknown");
}

void
proto_empty(struct ipc_msg *m, uint32_t type, uint32_t id)
{
	ipc_init(m, type, id);
}

int
proto_get_empty(struct ipc_reader *r)
{
	return (ipc_end(r));
}

static void
put_client(struct ipc_msg *m, const struct client_info *ci)
{
	ipc_put_cstr(m, ci->name);
	ipc_put_cstr(m, ci->version);
}

static int
get_client(struct ipc_reader *r, struct client_info *ci)
{
	if (ipc_get_strbuf(r, ci->name, sizeof ci->name) == -1 ||
	    ipc_get_strbuf(r, ci->version, sizeof ci->version) == -1)
		return (-1);
	return (0);
}

void
proto_dispatch(struct ipc_msg *m, uint32_t id, const struct client_info *ci,
    const char *orguser, size_t olen, const char *repo, size_t rlen,
    const char *task, size_t tlen)
{
	ipc_init(m, IPC_DISPATCH, id);
	put_client(m, ci);
	ipc_put_str(m, orguser, olen);
	ipc_put_str(m, repo, rlen);
	ipc_put_str(m, task, tlen);
}

/* Names unstripped and unchecked: the broker checks them as the caller's. */
int
proto_get_dispatch(struct ipc_reader *r, struct req_dispatch *d)
{
	if (get_client(r, &d->client) == -1 ||
	    ipc_get_str(r, &d->orguser, &d->orguser_len, MAX_NAME_BYTES) == -1 ||
	    ipc_get_str(r, &d->repo, &d->repo_len, MAX_NAME_BYTES) == -1 ||
	    ipc_get_str(r, &d->task, &d->task_len, MAX_TASK_BYTES) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_reject(struct ipc_msg *m, uint32_t id, const struct client_info *ci,
    const char *reason, const char *args, size_t alen)
{
	ipc_init(m, IPC_REJECT, id);
	put_client(m, ci);
	ipc_put_str(m, reason, reason_len(reason));
	ipc_put_str(m, args, alen > MAX_RAW_ARGS_BYTES ? MAX_RAW_ARGS_BYTES :
	    alen);
}

int
proto_get_reject(struct ipc_reader *r, struct req_reject *j)
{
	if (get_client(r, &j->client) == -1 ||
	    ipc_get_str(r, &j->reason, &j->reason_len, MAX_REASON_BYTES) == -1 ||
	    ipc_get_str(r, &j->args, &j->args_len, MAX_RAW_ARGS_BYTES) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_handle(struct ipc_msg *m, uint32_t type, uint32_t id,
    const char *handle)
{
	ipc_init(m, type, id);
	ipc_put_cstr(m, handle);
}

static int
get_handle(struct ipc_reader *r, char *handle)
{
	if (ipc_get_strbuf(r, handle, HANDLE_BYTES + 1) == -1 ||
	    check_handle(handle, strlen(handle)) == -1)
		return (-1);
	return (0);
}

int
proto_get_handle(struct ipc_reader *r, char *handle)
{
	if (get_handle(r, handle) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_result(struct ipc_msg *m, uint32_t id, const char *handle,
    uint32_t wait_ms)
{
	proto_handle(m, IPC_RESULT, id, handle);
	ipc_put_u32(m, wait_ms);
}

int
proto_get_result(struct ipc_reader *r, char *handle, uint32_t *wait_ms)
{
	if (get_handle(r, handle) == -1 || ipc_get_u32(r, wait_ms) == -1 ||
	    *wait_ms > MAX_WAIT_SECONDS * 1000U)
		return (-1);
	return (ipc_end(r));
}

void
proto_list(struct ipc_msg *m, uint32_t id, uint32_t offset)
{
	ipc_init(m, IPC_LIST, id);
	ipc_put_u32(m, offset);
}

void
proto_list_log(struct ipc_msg *m, uint32_t id, uint32_t before)
{
	ipc_init(m, IPC_LIST_LOG, id);
	ipc_put_u32(m, before);
}

int
proto_get_list(struct ipc_reader *r, uint32_t *offset)
{
	if (ipc_get_u32(r, offset) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_stop(struct ipc_msg *m, uint32_t id, const struct client_info *ci,
    const char *handle)
{
	ipc_init(m, IPC_STOP, id);
	put_client(m, ci);
	ipc_put_cstr(m, handle);
}

int
proto_get_stop(struct ipc_reader *r, struct client_info *ci, char *handle)
{
	if (get_client(r, ci) == -1 || get_handle(r, handle) == -1)
		return (-1);
	return (ipc_end(r));
}

static void
put_view(struct ipc_msg *m, const struct dview *v)
{
	ipc_put_cstr(m, v->handle);
	ipc_put_cstr(m, v->orguser);
	ipc_put_cstr(m, v->repo);
	ipc_put_cstr(m, v->github);
	ipc_put_u32(m, v->status);
	ipc_put_u64(m, v->requested_ms);
	ipc_put_u32(m, (uint32_t)v->with_result);
	if (!v->with_result)
		return;
	ipc_put_u32(m, (uint32_t)v->has_returncode);
	ipc_put_u32(m, (uint32_t)v->returncode);
	ipc_put_u32(m, v->signal);
	ipc_put_u64(m, v->finished_ms);
	ipc_put_u64(m, v->duration_ms);
	ipc_put_str(m, v->detail, v->detail_len);
	ipc_put_u32(m, v->usage);
	ipc_put_u64(m, v->cpu_usec);
	ipc_put_u64(m, v->mem_peak);
	ipc_put_u64(m, v->pids_peak);
}

static int
get_result_part(struct ipc_reader *r, struct dview *v)
{
	uint32_t	hasrc, rc;

	if (ipc_get_u32(r, &hasrc) == -1 || hasrc > 1 ||
	    ipc_get_u32(r, &rc) == -1 ||
	    ipc_get_u32(r, &v->signal) == -1 || v->signal > 64 ||
	    ipc_get_u64(r, &v->finished_ms) == -1 ||
	    ipc_get_u64(r, &v->duration_ms) == -1 ||
	    ipc_get_str(r, &v->detail, &v->detail_len, MAX_DETAIL_BYTES) == -1 ||
	    ipc_get_u32(r, &v->usage) == -1 || (v->usage & ~VIEW_USAGE_ALL) ||
	    ipc_get_u64(r, &v->cpu_usec) == -1 ||
	    ipc_get_u64(r, &v->mem_peak) == -1 ||
	    ipc_get_u64(r, &v->pids_peak) == -1)
		return (-1);
	v->has_returncode = (int)hasrc;
	v->returncode = (int32_t)rc;
	return (0);
}

static int
get_view(struct ipc_reader *r, struct dview *v)
{
	uint32_t	with;

	memset(v, 0, sizeof *v);
	if (ipc_get_strbuf(r, v->handle, sizeof v->handle) == -1 ||
	    ipc_get_strbuf(r, v->orguser, sizeof v->orguser) == -1 ||
	    ipc_get_strbuf(r, v->repo, sizeof v->repo) == -1 ||
	    ipc_get_strbuf(r, v->github, sizeof v->github) == -1 ||
	    ipc_get_u32(r, &v->status) == -1 ||
	    ipc_get_u64(r, &v->requested_ms) == -1 ||
	    ipc_get_u32(r, &with) == -1)
		return (-1);
	if (check_handle(v->handle, strlen(v->handle)) == -1 ||
	    !is_valid_name(v->orguser, strlen(v->orguser)) ||
	    !is_valid_name(v->repo, strlen(v->repo)) ||
	    check_github(v->github, strlen(v->github)) == -1 ||
	    v->status >= DS_MAX || with > 1)
		return (-1);
	v->with_result = (int)with;
	return (with ? get_result_part(r, v) : 0);
}

void
proto_view(struct ipc_msg *m, uint32_t id, const struct dview *v)
{
	ipc_init(m, IPC_VIEW, id);
	put_view(m, v);
}

int
proto_get_view(struct ipc_reader *r, struct dview *v)
{
	if (get_view(r, v) == -1)
		return (-1);
	return (ipc_end(r));
}

/* A page of at most LIST_PAGE_RECORDS views, none with its result. */
void
proto_list_page(struct ipc_msg *m, uint32_t id, uint32_t total,
    const struct dview *v, uint32_t n)
{
	uint32_t	i;

	ipc_init(m, IPC_LIST_PAGE, id);
	ipc_put_u32(m, total);
	ipc_put_u32(m, n);
	for (i = 0; i < n; i++)
		put_view(m, &v[i]);
}

int
proto_get_list_page(struct ipc_reader *r, uint32_t *total, struct dview *v,
    uint32_t *n)
{
	uint32_t	i;

	if (ipc_get_u32(r, total) == -1 || ipc_get_u32(r, n) == -1 ||
	    *n > LIST_PAGE_RECORDS || *n > *total)
		return (-1);
	for (i = 0; i < *n; i++) {
		if (get_view(r, &v[i]) == -1 || v[i].with_result)
			return (-1);
	}
	return (ipc_end(r));
}

/* A dispatch became final: it never leaves that status again. */
void
proto_final(struct ipc_msg *m, const char *handle, uint32_t status,
    uint64_t finished_ms)
{
	proto_handle(m, IPC_FINAL, 0, handle);
	ipc_put_u32(m, status);
	ipc_put_u64(m, finished_ms);
}

int
proto_get_final(struct ipc_reader *r, char *handle, uint32_t *status,
    uint64_t *finished_ms)
{
	if (r->id != 0 || get_handle(r, handle) == -1 ||
	    ipc_get_u32(r, status) == -1 || *status == DS_RUNNING ||
	    *status >= DS_MAX || ipc_get_u64(r, finished_ms) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_tool_error(struct ipc_msg *m, uint32_t id, const char *msg)
{
	ipc_init(m, IPC_TOOL_ERROR, id);
	ipc_put_str(m, msg, reason_len(msg));
}

int
proto_get_tool_error(struct ipc_reader *r, const char **msg, size_t *len)
{
	if (ipc_get_str(r, msg, len, MAX_REASON_BYTES) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_spawn(struct ipc_msg *m, uint32_t id, const struct spawn_order *o)
{
	ipc_init(m, IPC_SPAWN, id);
	ipc_put_cstr(m, o->handle);
	ipc_put_cstr(m, o->orguser);
	ipc_put_cstr(m, o->repo);
	ipc_put_cstr(m, o->github);
	ipc_put_cstr(m, o->host);
	ipc_put_str(m, o->task, o->task_len);
}

/* The spawner's first check of an order; the task is its own to check. */
int
proto_get_spawn(struct ipc_reader *r, struct spawn_order *o)
{
	if (get_handle(r, o->handle) == -1 ||
	    ipc_get_strbuf(r, o->orguser, sizeof o->orguser) == -1 ||
	    ipc_get_strbuf(r, o->repo, sizeof o->repo) == -1 ||
	    ipc_get_strbuf(r, o->github, sizeof o->github) == -1 ||
	    ipc_get_strbuf(r, o->host, sizeof o->host) == -1 ||
	    ipc_get_str(r, &o->task, &o->task_len, MAX_TASK_BYTES) == -1)
		return (-1);
	if (!is_valid_name(o->orguser, strlen(o->orguser)) ||
	    !is_valid_name(o->repo, strlen(o->repo)) ||
	    check_github(o->github, strlen(o->github)) == -1 ||
	    (o->host[0] != '\0' && !is_valid_host(o->host, strlen(o->host))))
		return (-1);
	return (ipc_end(r));
}

void
proto_spawned(struct ipc_msg *m, uint32_t id, uint32_t pid, uint32_t err)
{
	ipc_init(m, IPC_SPAWNED, id);
	ipc_put_u32(m, pid);
	ipc_put_u32(m, err);
}

/* A pid with an errno is a lane whose exec failed; neither is none. */
int
proto_get_spawned(struct ipc_reader *r, uint32_t *pid, uint32_t *err)
{
	if (ipc_get_u32(r, pid) == -1 || ipc_get_u32(r, err) == -1 ||
	    *pid > INT32_MAX || (*pid == 0 && *err == 0))
		return (-1);
	return (ipc_end(r));
}
