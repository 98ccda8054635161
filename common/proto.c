/* Encoders and decoders for each frontend <-> broker message. */
#include "config.h"

#include <string.h>

#include "proto.h"
#include "validate.h"

const char *
dstatus_name(uint32_t s)
{
	static const char *names[DS_MAX] = {
		"running", "succeeded", "failed", "timed_out"
	};

	return (s < DS_MAX ? names[s] : "unknown");
}

void
proto_put_client(struct ipc_msg *m, const struct client_info *ci)
{
	ipc_put_cstr(m, ci->name);
	ipc_put_cstr(m, ci->version);
}

int
proto_get_client(struct ipc_reader *r, struct client_info *ci)
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
	proto_put_client(m, ci);
	ipc_put_str(m, orguser, olen);
	ipc_put_str(m, repo, rlen);
	ipc_put_str(m, task, tlen);
}

int
proto_get_dispatch(struct ipc_reader *r, struct req_dispatch *d)
{
	if (proto_get_client(r, &d->client) == -1 ||
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
	proto_put_client(m, ci);
	ipc_put_str(m, reason, strnlen(reason, MAX_REASON_BYTES));
	ipc_put_str(m, args, alen > MAX_RAW_ARGS_BYTES ? MAX_RAW_ARGS_BYTES :
	    alen);
}

int
proto_get_reject(struct ipc_reader *r, struct req_reject *j)
{
	if (proto_get_client(r, &j->client) == -1 ||
	    ipc_get_str(r, &j->reason, &j->reason_len, MAX_REASON_BYTES) == -1 ||
	    ipc_get_str(r, &j->args, &j->args_len, MAX_RAW_ARGS_BYTES) == -1)
		return (-1);
	return (ipc_end(r));
}

void
proto_handle(struct ipc_msg *m, uint32_t type, uint32_t id, const char *handle,
    uint32_t wait_ms)
{
	ipc_init(m, type, id);
	ipc_put_cstr(m, handle);
	ipc_put_u32(m, wait_ms);
}

int
proto_get_handle(struct ipc_reader *r, char *handle, uint32_t *wait_ms)
{
	if (ipc_get_strbuf(r, handle, HANDLE_BYTES + 1) == -1 ||
	    ipc_get_u32(r, wait_ms) == -1 || ipc_end(r) == -1)
		return (-1);
	if (check_handle(handle, strlen(handle)) == -1 ||
	    *wait_ms > MAX_WAIT_SECONDS * 1000U)
		return (-1);
	return (0);
}

void
proto_put_view(struct ipc_msg *m, const struct dview *v)
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
}

int
proto_get_view(struct ipc_reader *r, struct dview *v)
{
	uint32_t	u;

	memset(v, 0, sizeof *v);
	if (ipc_get_strbuf(r, v->handle, sizeof v->handle) == -1 ||
	    ipc_get_strbuf(r, v->orguser, sizeof v->orguser) == -1 ||
	    ipc_get_strbuf(r, v->repo, sizeof v->repo) == -1 ||
	    ipc_get_strbuf(r, v->github, sizeof v->github) == -1 ||
	    ipc_get_u32(r, &v->status) == -1 ||
	    ipc_get_u64(r, &v->requested_ms) == -1 ||
	    ipc_get_u32(r, &u) == -1)
		return (-1);
	if (check_handle(v->handle, strlen(v->handle)) == -1 ||
	    !is_valid_name(v->orguser, strlen(v->orguser)) ||
	    !is_valid_name(v->repo, strlen(v->repo)) ||
	    check_github(v->github, strlen(v->github)) == -1 ||
	    v->status >= DS_MAX || u > 1)
		return (-1);
	v->with_result = (int)u;
	if (!v->with_result)
		return (0);
	if (ipc_get_u32(r, &u) == -1 || u > 1)
		return (-1);
	v->has_returncode = (int)u;
	if (ipc_get_u32(r, &u) == -1)
		return (-1);
	v->returncode = (int32_t)u;
	if (ipc_get_u32(r, &v->signal) == -1 || v->signal > 64 ||
	    ipc_get_u64(r, &v->finished_ms) == -1 ||
	    ipc_get_u64(r, &v->duration_ms) == -1 ||
	    ipc_get_str(r, &v->detail, &v->detail_len, MAX_DETAIL_BYTES) == -1)
		return (-1);
	return (0);
}

void
proto_tool_error(struct ipc_msg *m, uint32_t id, const char *msg)
{
	ipc_init(m, IPC_TOOL_ERROR, id);
	ipc_put_str(m, msg, strnlen(msg, MAX_REASON_BYTES));
}

int
proto_get_tool_error(struct ipc_reader *r, const char **msg, size_t *len)
{
	if (ipc_get_str(r, msg, len, MAX_REASON_BYTES) == -1)
		return (-1);
	return (ipc_end(r));
}
