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
proto_put_client(struct mbuf *m, const struct client_info *ci)
{
	m_put_cstr(m, ci->name);
	m_put_cstr(m, ci->version);
}

int
proto_get_client(struct mreader *r, struct client_info *ci)
{
	if (m_get_strbuf(r, ci->name, sizeof ci->name) == -1 ||
	    m_get_strbuf(r, ci->version, sizeof ci->version) == -1)
		return (-1);
	return (0);
}

void
proto_dispatch(struct mbuf *m, uint32_t id, const struct client_info *ci,
    const char *orguser, size_t olen, const char *repo, size_t rlen,
    const char *task, size_t tlen)
{
	m_init(m, IMSG_DISPATCH, id);
	proto_put_client(m, ci);
	m_put_str(m, orguser, olen);
	m_put_str(m, repo, rlen);
	m_put_str(m, task, tlen);
}

int
proto_get_dispatch(struct mreader *r, struct req_dispatch *d)
{
	if (proto_get_client(r, &d->client) == -1 ||
	    m_get_str(r, &d->orguser, &d->orguser_len, MAX_NAME_BYTES) == -1 ||
	    m_get_str(r, &d->repo, &d->repo_len, MAX_NAME_BYTES) == -1 ||
	    m_get_str(r, &d->task, &d->task_len, MAX_TASK_BYTES) == -1)
		return (-1);
	return (m_end(r));
}

void
proto_reject(struct mbuf *m, uint32_t id, const struct client_info *ci,
    const char *reason, const char *args, size_t alen)
{
	m_init(m, IMSG_REJECT, id);
	proto_put_client(m, ci);
	m_put_str(m, reason, strnlen(reason, MAX_REASON_BYTES));
	m_put_str(m, args, alen > MAX_RAW_ARGS_BYTES ? MAX_RAW_ARGS_BYTES :
	    alen);
}

int
proto_get_reject(struct mreader *r, struct req_reject *j)
{
	if (proto_get_client(r, &j->client) == -1 ||
	    m_get_str(r, &j->reason, &j->reason_len, MAX_REASON_BYTES) == -1 ||
	    m_get_str(r, &j->args, &j->args_len, MAX_RAW_ARGS_BYTES) == -1)
		return (-1);
	return (m_end(r));
}

void
proto_handle(struct mbuf *m, uint32_t type, uint32_t id, const char *handle,
    uint32_t wait_ms)
{
	m_init(m, type, id);
	m_put_cstr(m, handle);
	m_put_u32(m, wait_ms);
}

int
proto_get_handle(struct mreader *r, char *handle, uint32_t *wait_ms)
{
	if (m_get_strbuf(r, handle, HANDLE_BYTES + 1) == -1 ||
	    m_get_u32(r, wait_ms) == -1 || m_end(r) == -1)
		return (-1);
	if (check_handle(handle, strlen(handle)) == -1 ||
	    *wait_ms > MAX_WAIT_SECONDS * 1000U)
		return (-1);
	return (0);
}

void
proto_put_view(struct mbuf *m, const struct dview *v)
{
	m_put_cstr(m, v->handle);
	m_put_cstr(m, v->orguser);
	m_put_cstr(m, v->repo);
	m_put_cstr(m, v->github);
	m_put_u32(m, v->status);
	m_put_u64(m, v->requested_ms);
	m_put_u32(m, (uint32_t)v->with_result);
	if (!v->with_result)
		return;
	m_put_u32(m, (uint32_t)v->has_returncode);
	m_put_u32(m, (uint32_t)v->returncode);
	m_put_u32(m, v->signal);
	m_put_u64(m, v->finished_ms);
	m_put_u64(m, v->duration_ms);
	m_put_str(m, v->detail, v->detail_len);
}

int
proto_get_view(struct mreader *r, struct dview *v)
{
	uint32_t	u;

	memset(v, 0, sizeof *v);
	if (m_get_strbuf(r, v->handle, sizeof v->handle) == -1 ||
	    m_get_strbuf(r, v->orguser, sizeof v->orguser) == -1 ||
	    m_get_strbuf(r, v->repo, sizeof v->repo) == -1 ||
	    m_get_strbuf(r, v->github, sizeof v->github) == -1 ||
	    m_get_u32(r, &v->status) == -1 ||
	    m_get_u64(r, &v->requested_ms) == -1 ||
	    m_get_u32(r, &u) == -1)
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
	if (m_get_u32(r, &u) == -1 || u > 1)
		return (-1);
	v->has_returncode = (int)u;
	if (m_get_u32(r, &u) == -1)
		return (-1);
	v->returncode = (int32_t)u;
	if (m_get_u32(r, &v->signal) == -1 || v->signal > 64 ||
	    m_get_u64(r, &v->finished_ms) == -1 ||
	    m_get_u64(r, &v->duration_ms) == -1 ||
	    m_get_str(r, &v->detail, &v->detail_len, MAX_DETAIL_BYTES) == -1)
		return (-1);
	return (0);
}

void
proto_tool_error(struct mbuf *m, uint32_t id, const char *msg)
{
	m_init(m, IMSG_TOOL_ERROR, id);
	m_put_str(m, msg, strnlen(msg, MAX_REASON_BYTES));
}

int
proto_get_tool_error(struct mreader *r, const char **msg, size_t *len)
{
	if (m_get_str(r, msg, len, MAX_REASON_BYTES) == -1)
		return (-1);
	return (m_end(r));
}
