/*
 * What each process reads off its sockets: a compromised frontend writes
 * the broker's input, a compromised broker the frontend's and the
 * spawner's.  Every input goes to every decoder, whatever its type says.
 * A decoder must reject what it cannot read exactly; what it accepts must
 * pass the checks its reader relies on, re-encode to the very same bytes,
 * and stop decoding once a byte is taken off its end.  Nothing may read
 * out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/bounds.h"
#include "common/names.h"
#include "common/proto.h"
#include "common/validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define TYPE_BYTES	4	/* the type, first in the header */

/* Decode, check, and on success build the same message into out. */
typedef int	(*layout_fn)(struct ipc_reader *, struct ipc_msg *);

static struct dview	page[LIST_PAGE_RECORDS];
static char		reason[MAX_REASON_BYTES + 1];

static void
check_str(const char *s, size_t len, size_t max)
{
	if (len > max || memchr(s, '\0', len) != NULL)
		abort();
}

static void
check_view(const struct dview *v)
{
	if (check_handle(v->handle, strlen(v->handle)) == -1 ||
	    !is_valid_name(v->orguser, strlen(v->orguser)) ||
	    !is_valid_name(v->repo, strlen(v->repo)) ||
	    check_github(v->github, strlen(v->github)) == -1 ||
	    v->status >= DS_MAX ||
	    (v->with_result != 0 && v->with_result != 1))
		abort();
	if (!v->with_result)
		return;
	if ((v->has_returncode != 0 && v->has_returncode != 1) ||
	    v->signal > 64)
		abort();
	check_str(v->detail, v->detail_len, MAX_DETAIL_BYTES);
}

static int
do_empty(struct ipc_reader *r, struct ipc_msg *out)
{
	if (proto_get_empty(r) == -1)
		return (-1);
	proto_empty(out, r->type, r->id);
	return (0);
}

static int
do_dispatch(struct ipc_reader *r, struct ipc_msg *out)
{
	struct req_dispatch	 d;
	const char		*p;
	size_t			 n;
	char			 err[MAX_REASON_BYTES];

	if (proto_get_dispatch(r, &d) == -1)
		return (-1);
	check_str(d.orguser, d.orguser_len, MAX_NAME_BYTES);
	check_str(d.repo, d.repo_len, MAX_NAME_BYTES);
	check_str(d.task, d.task_len, MAX_TASK_BYTES);
	/* The names are unchecked here: run the broker's checks on them. */
	p = d.task;
	n = d.task_len;
	(void)check_task(&p, &n, err, sizeof err);
	p = d.orguser;
	n = d.orguser_len;
	if (check_name("orguser", &p, &n, err, sizeof err) == 0 &&
	    !is_valid_name(p, n))
		abort();
	p = d.repo;
	n = d.repo_len;
	if (check_name("repo", &p, &n, err, sizeof err) == 0 &&
	    !is_valid_name(p, n))
		abort();
	proto_dispatch(out, r->id, &d.client, d.orguser, d.orguser_len,
	    d.repo, d.repo_len, d.task, d.task_len);
	return (0);
}

static int
do_reject(struct ipc_reader *r, struct ipc_msg *out)
{
	struct req_reject	j;

	if (proto_get_reject(r, &j) == -1)
		return (-1);
	check_str(j.reason, j.reason_len, MAX_REASON_BYTES);
	check_str(j.args, j.args_len, MAX_RAW_ARGS_BYTES);
	/* The encoder takes the reason as a C string. */
	memcpy(reason, j.reason, j.reason_len);
	reason[j.reason_len] = '\0';
	proto_reject(out, r->id, &j.client, reason, j.args, j.args_len);
	return (0);
}

static int
do_handle(struct ipc_reader *r, struct ipc_msg *out)
{
	char	h[HANDLE_BYTES + 1];

	if (proto_get_handle(r, h) == -1)
		return (-1);
	if (check_handle(h, strlen(h)) == -1)
		abort();	/* the decoder let a bad handle by */
	proto_handle(out, r->type, r->id, h);
	return (0);
}

static int
do_result(struct ipc_reader *r, struct ipc_msg *out)
{
	char		h[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	if (proto_get_result(r, h, &wait_ms) == -1)
		return (-1);
	if (check_handle(h, strlen(h)) == -1 ||
	    wait_ms > MAX_WAIT_SECONDS * 1000U)
		abort();
	proto_result(out, r->id, h, wait_ms);
	return (0);
}

static int
do_list(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	offset;

	if (proto_get_list(r, &offset) == -1)
		return (-1);
	proto_list(out, r->id, offset);
	return (0);
}

static int
do_stop(struct ipc_reader *r, struct ipc_msg *out)
{
	struct client_info	ci;
	char			h[HANDLE_BYTES + 1];

	if (proto_get_stop(r, &ci, h) == -1)
		return (-1);
	if (check_handle(h, strlen(h)) == -1)
		abort();
	proto_stop(out, r->id, &ci, h);
	return (0);
}

static int
do_view(struct ipc_reader *r, struct ipc_msg *out)
{
	struct dview	v;

	if (proto_get_view(r, &v) == -1)
		return (-1);
	check_view(&v);
	proto_view(out, r->id, &v);
	return (0);
}

static int
do_list_page(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	total, n, i;

	if (proto_get_list_page(r, &total, page, &n) == -1)
		return (-1);
	if (n > LIST_PAGE_RECORDS || n > total)
		abort();
	for (i = 0; i < n; i++) {
		check_view(&page[i]);
		if (page[i].with_result)
			abort();
	}
	proto_list_page(out, r->id, total, page, n);
	return (0);
}

static int
do_tool_error(struct ipc_reader *r, struct ipc_msg *out)
{
	const char	*msg;
	size_t		 len;

	if (proto_get_tool_error(r, &msg, &len) == -1)
		return (-1);
	check_str(msg, len, MAX_REASON_BYTES);
	memcpy(reason, msg, len);
	reason[len] = '\0';
	proto_tool_error(out, r->id, reason);
	return (0);
}

static int
do_final(struct ipc_reader *r, struct ipc_msg *out)
{
	char		h[HANDLE_BYTES + 1];
	uint32_t	status;
	uint64_t	finished;

	if (proto_get_final(r, h, &status, &finished) == -1)
		return (-1);
	if (check_handle(h, strlen(h)) == -1 || r->id != 0 ||
	    status == DS_RUNNING || status >= DS_MAX)
		abort();
	proto_final(out, h, status, finished);
	return (0);
}

/* The spawner builds paths and an argv from these: they must be clean. */
static int
do_spawn(struct ipc_reader *r, struct ipc_msg *out)
{
	struct spawn_order	o;

	if (proto_get_spawn(r, &o) == -1)
		return (-1);
	if (check_handle(o.handle, strlen(o.handle)) == -1 ||
	    !is_valid_name(o.orguser, strlen(o.orguser)) ||
	    !is_valid_name(o.repo, strlen(o.repo)) ||
	    check_github(o.github, strlen(o.github)) == -1 ||
	    strchr(o.orguser, '/') != NULL || strchr(o.repo, '/') != NULL ||
	    o.orguser[0] == '.' || o.repo[0] == '.')
		abort();
	check_str(o.task, o.task_len, MAX_TASK_BYTES);
	proto_spawn(out, r->id, &o);
	return (0);
}

static int
do_spawned(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	pid, err;

	if (proto_get_spawned(r, &pid, &err) == -1)
		return (-1);
	if (pid > INT32_MAX || (pid == 0 && err == 0))
		abort();
	proto_spawned(out, r->id, pid, err);
	return (0);
}

static const layout_fn	layouts[] = {
	do_empty, do_dispatch, do_reject, do_handle, do_result, do_list,
	do_stop, do_view, do_list_page, do_tool_error, do_final, do_spawn,
	do_spawned
};

static void
run(const uint8_t *data, size_t size, layout_fn fn)
{
	struct ipc_reader	r;
	struct ipc_msg		out;

	if (ipc_open(&r, data, size) == -1)
		abort();
	memset(&out, 0, sizeof out);
	if (fn(&r, &out) == -1) {
		if (out.data != NULL)
			abort();
		return;
	}
	/*
	 * Every decoder sees every input, so the type may not be the one
	 * this encoder writes; the request id and the payload must match.
	 */
	if (out.len != size || memcmp(out.data + TYPE_BYTES,
	    data + TYPE_BYTES, size - TYPE_BYTES) != 0)
		abort();
	ipc_free(&out);
	/* One byte less is never a message of the same layout. */
	if (ipc_open(&r, data, size - 1) == 0 && fn(&r, &out) == 0)
		abort();
}

/* The codec's own primitives, on whatever follows the header. */
static void
run_primitives(const uint8_t *data, size_t size)
{
	struct ipc_reader	 r;
	const char		*p;
	size_t			 n;

	if (ipc_open(&r, data, size) == -1)
		abort();
	while (ipc_get_str(&r, &p, &n, MAX_TASK_BYTES) == 0) {
		if (memchr(p, '\0', n) != NULL || r.off > r.len)
			abort();
	}
	(void)ipc_end(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_reader	r;
	size_t			i;

	if (size > MAX_IPC_BYTES || ipc_open(&r, data, size) == -1)
		return (0);
	for (i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
		run(data, size, layouts[i]);
	run_primitives(data, size);
	return (0);
}
