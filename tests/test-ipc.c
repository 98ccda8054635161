/* Unit tests for common/imsg.c and common/proto.c. */
#include "config.h"

#include <sys/socket.h>

#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/chan.h"
#include "common/bounds.h"
#include "common/proto.h"

#define HANDLE_A	"dsp-0123456789abcdef0123456789abcdef"

static void
fill_client(struct client_info *ci, const char *name, const char *version)
{
	memset(ci, 0, sizeof *ci);
	snprintf(ci->name, sizeof ci->name, "%s", name);
	snprintf(ci->version, sizeof ci->version, "%s", version);
}

static void
open_msg(struct ipc_reader *r, const struct ipc_msg *m, uint32_t type, uint32_t id)
{
	assert_int_equal(ipc_open(r, m->data, m->len), 0);
	assert_int_equal(r->type, type);
	assert_int_equal(r->id, id);
}

static void
test_primitives(void **state)
{
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	uint32_t	 u;
	uint64_t	 q;
	const char	*s;
	size_t		 len;
	char		 buf[8];

	ipc_init(&m, 7, 0xdeadbeef);
	assert_int_equal(m.len, 8);
	ipc_put_u32(&m, 0xffffffffU);
	ipc_put_u64(&m, 0x0123456789abcdefULL);
	ipc_put_str(&m, "abc", 3);
	ipc_put_cstr(&m, "");
	ipc_put_cstr(&m, "xyz");
	assert_int_equal(m.len, 8 + 4 + 8 + 7 + 4 + 7);

	open_msg(&r, &m, 7, 0xdeadbeef);
	assert_int_equal(ipc_get_u32(&r, &u), 0);
	assert_int_equal(u, 0xffffffffU);
	assert_int_equal(ipc_get_u64(&r, &q), 0);
	assert_true(q == 0x0123456789abcdefULL);
	assert_int_equal(ipc_get_str(&r, &s, &len, 3), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "abc", 3);
	assert_int_equal(ipc_get_str(&r, &s, &len, 0), 0);
	assert_int_equal(len, 0);
	/* A buffer of 4 holds "xyz" and its NUL exactly. */
	assert_int_equal(ipc_get_strbuf(&r, buf, 4), 0);
	assert_string_equal(buf, "xyz");
	assert_int_equal(ipc_end(&r), 0);
	/* Nothing left: every getter fails. */
	assert_int_equal(ipc_get_u32(&r, &u), -1);
	assert_int_equal(ipc_get_u64(&r, &q), -1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 100), -1);
	ipc_free(&m);
	assert_null(m.data);
}

static void
test_growth(void **state)
{
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	const char	*s;
	size_t		 len;
	char		*big;

	/* Past the initial 256 bytes, many times over. */
	big = malloc(100000);
	assert_non_null(big);
	memset(big, 'q', 100000);
	ipc_init(&m, 1, 2);
	ipc_put_str(&m, big, 100000);
	open_msg(&r, &m, 1, 2);
	assert_int_equal(ipc_get_str(&r, &s, &len, 100000), 0);
	assert_int_equal(len, 100000);
	assert_memory_equal(s, big, 100000);
	assert_int_equal(ipc_end(&r), 0);
	ipc_free(&m);
	free(big);
}

static void
test_truncated_header(void **state)
{
	struct ipc_reader	r;
	uint8_t		buf[8];
	size_t		i;

	memset(buf, 0, sizeof buf);
	for (i = 0; i < 8; i++)
		assert_int_equal(ipc_open(&r, buf, i), -1);
	assert_int_equal(ipc_open(&r, buf, 8), 0);
	assert_int_equal(ipc_end(&r), 0);
}

static void
test_truncated_fields(void **state)
{
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	uint32_t	 u;
	uint64_t	 q;

	ipc_init(&m, 1, 1);
	ipc_put_u32(&m, 5);
	/* Three of the four bytes of a u32, seven of the eight of a u64. */
	assert_int_equal(ipc_open(&r, m.data, m.len - 1), 0);
	assert_int_equal(ipc_get_u32(&r, &u), -1);
	ipc_free(&m);

	ipc_init(&m, 1, 1);
	ipc_put_u64(&m, 5);
	assert_int_equal(ipc_open(&r, m.data, m.len - 1), 0);
	assert_int_equal(ipc_get_u64(&r, &q), -1);
	ipc_free(&m);
}

static void
test_str_refusals(void **state)
{
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	const char	*s;
	size_t		 len;
	char		 buf[4];

	/* An embedded NUL. */
	ipc_init(&m, 1, 1);
	ipc_put_str(&m, "a\0b", 3);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 10), -1);
	ipc_free(&m);

	/* A trailing NUL counted in the length. */
	ipc_init(&m, 1, 1);
	ipc_put_str(&m, "ab\0", 3);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 10), -1);
	ipc_free(&m);

	/* A length larger than what is left. */
	ipc_init(&m, 1, 1);
	ipc_put_u32(&m, 10);
	ipc_put_u32(&m, 0x41414141);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 100), -1);
	ipc_free(&m);

	/* A huge length: no overflow in the bounds check. */
	ipc_init(&m, 1, 1);
	ipc_put_u32(&m, UINT32_MAX);
	ipc_put_u32(&m, 0x41414141);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, SIZE_MAX), -1);
	ipc_free(&m);

	/* A length over the caller's maximum. */
	ipc_init(&m, 1, 1);
	ipc_put_cstr(&m, "abcd");
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 3), -1);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_str(&r, &s, &len, 4), 0);
	/* And for strbuf: "abcd" needs 5 bytes. */
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_strbuf(&r, buf, sizeof buf), -1);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_strbuf(&r, buf, 0), -1);
	ipc_free(&m);
}

static void
test_end_trailing(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	u;

	ipc_init(&m, 1, 1);
	ipc_put_u32(&m, 1);
	ipc_put_u32(&m, 2);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(ipc_get_u32(&r, &u), 0);
	assert_int_equal(ipc_end(&r), -1);
	assert_int_equal(ipc_get_u32(&r, &u), 0);
	assert_int_equal(ipc_end(&r), 0);
	ipc_free(&m);
}

static void
test_dispatch_roundtrip(void **state)
{
	struct client_info	ci;
	struct req_dispatch	d;
	struct ipc_msg		m;
	struct ipc_reader		r;
	const char		task[] = "fix it;\nrm -rf / \xf0\x9f\x98\x80";

	fill_client(&ci, "claude-code", "2.0.1");
	proto_dispatch(&m, 42, &ci, "nash-forbes", 11, "nash", 4, task,
	    sizeof task - 1);
	open_msg(&r, &m, IPC_DISPATCH, 42);
	memset(&d, 0, sizeof d);
	assert_int_equal(proto_get_dispatch(&r, &d), 0);
	assert_string_equal(d.client.name, "claude-code");
	assert_string_equal(d.client.version, "2.0.1");
	assert_int_equal(d.orguser_len, 11);
	assert_memory_equal(d.orguser, "nash-forbes", 11);
	assert_int_equal(d.repo_len, 4);
	assert_memory_equal(d.repo, "nash", 4);
	assert_int_equal(d.task_len, sizeof task - 1);
	assert_memory_equal(d.task, task, sizeof task - 1);
	ipc_free(&m);
}

static void
test_dispatch_trailing(void **state)
{
	struct client_info	ci;
	struct req_dispatch	d;
	struct ipc_msg		m;
	struct ipc_reader		r;

	fill_client(&ci, "c", "1");
	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "t", 1);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);

	/* Truncated by one byte. */
	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "t", 1);
	assert_int_equal(ipc_open(&r, m.data, m.len - 1), 0);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);
}

static void
test_dispatch_limits(void **state)
{
	struct client_info	 ci;
	struct req_dispatch	 d;
	struct ipc_msg		 m;
	struct ipc_reader		 r;
	char			*big;

	big = malloc(MAX_TASK_BYTES + 1);
	assert_non_null(big);
	memset(big, 'x', MAX_TASK_BYTES + 1);
	fill_client(&ci, "c", "1");

	proto_dispatch(&m, 1, &ci, big, MAX_NAME_BYTES, "r", 1, big,
	    MAX_TASK_BYTES);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), 0);
	assert_int_equal(d.task_len, MAX_TASK_BYTES);
	ipc_free(&m);

	proto_dispatch(&m, 1, &ci, big, MAX_NAME_BYTES + 1, "r", 1, "t", 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);

	proto_dispatch(&m, 1, &ci, "o", 1, big, MAX_NAME_BYTES + 1, "t", 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);

	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, big, MAX_TASK_BYTES + 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);

	/* A client field over 256 bytes does not fit its buffer. */
	ipc_init(&m, IPC_DISPATCH, 1);
	ipc_put_str(&m, big, MAX_CLIENT_FIELD_BYTES + 1);
	ipc_put_cstr(&m, "1");
	ipc_put_cstr(&m, "o");
	ipc_put_cstr(&m, "r");
	ipc_put_cstr(&m, "t");
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);

	/* A NUL inside the task. */
	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "a\0b", 3);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);
	free(big);
}

static void
test_client_max(void **state)
{
	struct client_info	 ci, out;
	struct ipc_msg		 m;
	struct ipc_reader		 r;

	memset(&ci, 'n', sizeof ci);
	ci.name[MAX_CLIENT_FIELD_BYTES] = '\0';
	ci.version[MAX_CLIENT_FIELD_BYTES] = '\0';
	ipc_init(&m, 1, 1);
	proto_put_client(&m, &ci);
	open_msg(&r, &m, 1, 1);
	assert_int_equal(proto_get_client(&r, &out), 0);
	assert_int_equal(strlen(out.name), MAX_CLIENT_FIELD_BYTES);
	assert_string_equal(out.version, ci.version);
	assert_int_equal(ipc_end(&r), 0);
	ipc_free(&m);
}

static void
test_reject_roundtrip(void **state)
{
	struct client_info	 ci;
	struct req_reject	 j;
	struct ipc_msg		 m;
	struct ipc_reader		 r;
	const char		 args[] = "{\"repo\":\"../etc\"}";
	char			*big;

	fill_client(&ci, "cli", "0.1");
	proto_reject(&m, 9, &ci, "invalid repo '../etc'", args,
	    sizeof args - 1);
	open_msg(&r, &m, IPC_REJECT, 9);
	assert_int_equal(proto_get_reject(&r, &j), 0);
	assert_string_equal(j.client.name, "cli");
	assert_string_equal(j.client.version, "0.1");
	assert_int_equal(j.reason_len, strlen("invalid repo '../etc'"));
	assert_memory_equal(j.reason, "invalid repo '../etc'", j.reason_len);
	assert_int_equal(j.args_len, sizeof args - 1);
	assert_memory_equal(j.args, args, j.args_len);
	ipc_free(&m);

	/* Raw arguments are cut at 4096 bytes, the reason at 8192. */
	big = malloc(MAX_REASON_BYTES * 2);
	assert_non_null(big);
	memset(big, 'r', MAX_REASON_BYTES * 2 - 1);
	big[MAX_REASON_BYTES * 2 - 1] = '\0';
	proto_reject(&m, 10, &ci, big, big, MAX_RAW_ARGS_BYTES * 2);
	open_msg(&r, &m, IPC_REJECT, 10);
	assert_int_equal(proto_get_reject(&r, &j), 0);
	assert_int_equal(j.reason_len, MAX_REASON_BYTES);
	assert_int_equal(j.args_len, MAX_RAW_ARGS_BYTES);
	ipc_free(&m);

	/* A hand-built one past the limits is refused. */
	ipc_init(&m, IPC_REJECT, 11);
	proto_put_client(&m, &ci);
	ipc_put_str(&m, "why", 3);
	ipc_put_str(&m, big, MAX_RAW_ARGS_BYTES + 1);
	open_msg(&r, &m, IPC_REJECT, 11);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);

	proto_reject(&m, 12, &ci, "why", "{}", 2);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_REJECT, 12);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);
	free(big);
}

static void
test_handle_roundtrip(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	proto_handle(&m, IPC_STATUS, 3, HANDLE_A, 0);
	open_msg(&r, &m, IPC_STATUS, 3);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), 0);
	assert_string_equal(handle, HANDLE_A);
	assert_int_equal(wait_ms, 0);
	ipc_free(&m);

	proto_handle(&m, IPC_RESULT, 4, HANDLE_A, 60000);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), 0);
	assert_int_equal(wait_ms, 60000);
	ipc_free(&m);
}

static void
test_handle_refusals(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	proto_handle(&m, IPC_RESULT, 4, HANDLE_A, 60001);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	proto_handle(&m, IPC_RESULT, 4, HANDLE_A, UINT32_MAX);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	proto_handle(&m, IPC_STATUS, 4,
	    "dsp-0123456789ABCDEF0123456789abcdef", 0);
	open_msg(&r, &m, IPC_STATUS, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	proto_handle(&m, IPC_STATUS, 4, "dsp-123", 0);
	open_msg(&r, &m, IPC_STATUS, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	/* One byte too long for the handle buffer. */
	proto_handle(&m, IPC_STATUS, 4, HANDLE_A "0", 0);
	open_msg(&r, &m, IPC_STATUS, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	/* Trailing data, and a missing wait. */
	proto_handle(&m, IPC_STATUS, 4, HANDLE_A, 0);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_STATUS, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	ipc_init(&m, IPC_STATUS, 4);
	ipc_put_cstr(&m, HANDLE_A);
	open_msg(&r, &m, IPC_STATUS, 4);
	assert_int_equal(proto_get_handle(&r, handle, &wait_ms), -1);
	ipc_free(&m);
}

static void
sample_view(struct dview *v)
{
	memset(v, 0, sizeof *v);
	snprintf(v->handle, sizeof v->handle, "%s", HANDLE_A);
	snprintf(v->orguser, sizeof v->orguser, "nash-forbes");
	snprintf(v->repo, sizeof v->repo, "nash");
	snprintf(v->github, sizeof v->github, "selamy-labs/nash");
	v->status = DS_RUNNING;
	v->requested_ms = 1764091993123ULL;
}

static void
test_view_roundtrip(void **state)
{
	struct dview	v, out;
	struct ipc_msg	m;
	struct ipc_reader	r;
	const char	detail[] = "error: \xe2\x9c\x97 build failed";

	sample_view(&v);
	ipc_init(&m, IPC_VIEW, 5);
	proto_put_view(&m, &v);
	open_msg(&r, &m, IPC_VIEW, 5);
	assert_int_equal(proto_get_view(&r, &out), 0);
	assert_int_equal(ipc_end(&r), 0);
	assert_string_equal(out.handle, HANDLE_A);
	assert_string_equal(out.orguser, "nash-forbes");
	assert_string_equal(out.repo, "nash");
	assert_string_equal(out.github, "selamy-labs/nash");
	assert_int_equal(out.status, DS_RUNNING);
	assert_true(out.requested_ms == 1764091993123ULL);
	assert_int_equal(out.with_result, 0);
	ipc_free(&m);

	v.status = DS_FAILED;
	v.with_result = 1;
	v.has_returncode = 1;
	v.returncode = -2;
	v.signal = 15;
	v.finished_ms = 1764091999000ULL;
	v.duration_ms = 5877;
	v.detail = detail;
	v.detail_len = sizeof detail - 1;
	ipc_init(&m, IPC_VIEW, 6);
	proto_put_view(&m, &v);
	open_msg(&r, &m, IPC_VIEW, 6);
	assert_int_equal(proto_get_view(&r, &out), 0);
	assert_int_equal(ipc_end(&r), 0);
	assert_int_equal(out.status, DS_FAILED);
	assert_int_equal(out.with_result, 1);
	assert_int_equal(out.has_returncode, 1);
	assert_int_equal(out.returncode, -2);
	assert_int_equal(out.signal, 15);
	assert_true(out.finished_ms == 1764091999000ULL);
	assert_true(out.duration_ms == 5877);
	assert_int_equal(out.detail_len, sizeof detail - 1);
	assert_memory_equal(out.detail, detail, out.detail_len);
	ipc_free(&m);
}

static int
view_decodes(const struct dview *v)
{
	struct dview	out;
	struct ipc_msg	m;
	struct ipc_reader	r;
	int		rv;

	ipc_init(&m, IPC_VIEW, 1);
	proto_put_view(&m, v);
	assert_int_equal(ipc_open(&r, m.data, m.len), 0);
	rv = proto_get_view(&r, &out);
	ipc_free(&m);
	return (rv);
}

static void
test_view_refusals(void **state)
{
	struct dview	v;
	uint32_t	s;

	for (s = 0; s < DS_MAX; s++) {
		sample_view(&v);
		v.status = s;
		assert_int_equal(view_decodes(&v), 0);
	}
	sample_view(&v);
	v.status = DS_MAX;
	assert_int_equal(view_decodes(&v), -1);
	v.status = UINT32_MAX;
	assert_int_equal(view_decodes(&v), -1);

	sample_view(&v);
	snprintf(v.handle, sizeof v.handle, "%s",
	    "dsp-0123456789abcdef0123456789abcdeF");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.handle, sizeof v.handle, "nope");
	assert_int_equal(view_decodes(&v), -1);

	sample_view(&v);
	snprintf(v.orguser, sizeof v.orguser, "nash;rm");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.orguser, sizeof v.orguser, "%s", "");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.repo, sizeof v.repo, "../etc");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.github, sizeof v.github, "a/b/c");
	assert_int_equal(view_decodes(&v), -1);

	/* Flags are 0 or 1, a signal at most 64. */
	sample_view(&v);
	v.with_result = 2;
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	v.with_result = 1;
	v.detail = "";
	v.has_returncode = 2;
	assert_int_equal(view_decodes(&v), -1);
	v.has_returncode = 0;
	v.signal = 65;
	assert_int_equal(view_decodes(&v), -1);
	v.signal = 64;
	assert_int_equal(view_decodes(&v), 0);
	v.detail = "a\0b";
	v.detail_len = 3;
	assert_int_equal(view_decodes(&v), -1);
}

static void
test_view_detail_limit(void **state)
{
	struct dview	 v;
	char		*big;

	big = malloc(MAX_DETAIL_BYTES + 1);
	assert_non_null(big);
	memset(big, 'd', MAX_DETAIL_BYTES + 1);
	sample_view(&v);
	v.with_result = 1;
	v.detail = big;
	v.detail_len = MAX_DETAIL_BYTES;
	assert_int_equal(view_decodes(&v), 0);
	v.detail_len = MAX_DETAIL_BYTES + 1;
	assert_int_equal(view_decodes(&v), -1);
	free(big);
}

static void
test_list_page(void **state)
{
	struct dview	v, out;
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	total, n, i;

	ipc_init(&m, IPC_LIST, 8);
	ipc_put_u32(&m, 100);
	open_msg(&r, &m, IPC_LIST, 8);
	assert_int_equal(ipc_get_u32(&r, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(ipc_end(&r), 0);
	ipc_free(&m);

	ipc_init(&m, IPC_LIST_PAGE, 8);
	ipc_put_u32(&m, 3);
	ipc_put_u32(&m, 3);
	for (i = 0; i < 3; i++) {
		sample_view(&v);
		v.status = i;
		proto_put_view(&m, &v);
	}
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(ipc_get_u32(&r, &total), 0);
	assert_int_equal(ipc_get_u32(&r, &n), 0);
	assert_int_equal(total, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(proto_get_view(&r, &out), 0);
		assert_int_equal(out.status, i);
	}
	assert_int_equal(ipc_end(&r), 0);
	assert_int_equal(proto_get_view(&r, &out), -1);
	ipc_free(&m);
}

static void
test_tool_error_roundtrip(void **state)
{
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	const char	*msg;
	size_t		 len;
	char		*big;

	proto_tool_error(&m, 77, "unknown dispatch handle");
	open_msg(&r, &m, IPC_TOOL_ERROR, 77);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), 0);
	assert_int_equal(len, strlen("unknown dispatch handle"));
	assert_memory_equal(msg, "unknown dispatch handle", len);
	ipc_free(&m);

	big = malloc(MAX_REASON_BYTES + 100);
	assert_non_null(big);
	memset(big, 'e', MAX_REASON_BYTES + 99);
	big[MAX_REASON_BYTES + 99] = '\0';
	proto_tool_error(&m, 78, big);
	open_msg(&r, &m, IPC_TOOL_ERROR, 78);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), 0);
	assert_int_equal(len, MAX_REASON_BYTES);
	ipc_free(&m);
	free(big);

	proto_tool_error(&m, 79, "x");
	ipc_put_u32(&m, 1);
	open_msg(&r, &m, IPC_TOOL_ERROR, 79);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), -1);
	ipc_free(&m);
}

static void
test_empty_messages(void **state)
{
	static const uint32_t types[] = { IPC_ACK, IPC_BYE, IPC_SHUTDOWN };
	struct ipc_msg	m;
	struct ipc_reader	r;
	size_t		i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		ipc_init(&m, types[i], (uint32_t)i);
		open_msg(&r, &m, types[i], (uint32_t)i);
		assert_int_equal(ipc_end(&r), 0);
		ipc_free(&m);
	}
}

static void
test_dstatus_name(void **state)
{
	assert_string_equal(dstatus_name(DS_RUNNING), "running");
	assert_string_equal(dstatus_name(DS_SUCCEEDED), "succeeded");
	assert_string_equal(dstatus_name(DS_FAILED), "failed");
	assert_string_equal(dstatus_name(DS_TIMED_OUT), "timed_out");
	assert_string_equal(dstatus_name(DS_MAX), "unknown");
	assert_string_equal(dstatus_name(UINT32_MAX), "unknown");
}

/* The channel over a real socketpair. */
#define NMSGS		200
#define BIG_BYTES	(100U * 1024)

struct side {
	struct chan	 chan;
	uint32_t	 got;		/* messages received in order */
	int		 bad;		/* out of order or damaged */
	int		 closed;
	char		 why[128];
};

static void
side_dispatch(struct chan *c, struct ipc_reader *r, void *arg)
{
	struct side	*s = arg;
	const char	*str;
	size_t		 len, i;
	uint32_t	 seq;

	if (r->id != s->got || ipc_get_u32(r, &seq) == -1 || seq != r->id ||
	    ipc_get_str(r, &str, &len, BIG_BYTES) == -1 || ipc_end(r) == -1) {
		s->bad++;
		return;
	}
	/* Every third message is big; each byte encodes the sequence. */
	if (len != (seq % 3 == 0 ? BIG_BYTES : 5))
		s->bad++;
	for (i = 0; i < len; i++) {
		if (str[i] != (char)('a' + seq % 26)) {
			s->bad++;
			break;
		}
	}
	s->got++;
}

static void
side_closed(struct chan *c, const char *why, void *arg)
{
	struct side	*s = arg;

	s->closed++;
	snprintf(s->why, sizeof s->why, "%s", why);
}

static void
send_seq(struct chan *c, uint32_t type, uint32_t seq)
{
	struct ipc_msg	 m;
	size_t		 len = seq % 3 == 0 ? BIG_BYTES : 5;
	char		*p;

	p = malloc(len);
	assert_non_null(p);
	memset(p, 'a' + seq % 26, len);
	ipc_init(&m, type, seq);
	ipc_put_u32(&m, seq);
	ipc_put_str(&m, p, len);
	chan_send(c, &m);
	assert_null(m.data);
	free(p);
}

static void
loop_until(struct event_base *base, int (*done)(void *), void *arg)
{
	int	i;

	/* At most ~5 seconds of 10 ms iterations. */
	for (i = 0; i < 500 && !done(arg); i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_true(done(arg));
}

static struct side	*sa, *sb;

static int
both_got_all(void *arg)
{
	return ((sa->got == NMSGS && sb->got == NMSGS) || sa->bad || sb->bad);
}

static int
b_closed(void *arg)
{
	return (sb->closed > 0);
}

static void
pair_open(struct event_base **basep, struct side *a, struct side *b)
{
	int	fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	chan_setbuf(fds[0]);
	chan_setbuf(fds[1]);
	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	*basep = event_base_new();
	assert_non_null(*basep);
	chan_init(&a->chan, *basep, fds[0], side_dispatch, side_closed, a);
	chan_init(&b->chan, *basep, fds[1], side_dispatch, side_closed, b);
	sa = a;
	sb = b;
}

static void
test_chan_both_ways(void **state)
{
	struct event_base	*base;
	struct side		 a, b;
	uint32_t		 i;

	pair_open(&base, &a, &b);
	/* More than the socket buffers hold: the queue must take the rest. */
	for (i = 0; i < NMSGS; i++) {
		send_seq(&a.chan, IPC_DISPATCH, i);
		send_seq(&b.chan, IPC_VIEW, i);
	}
	assert_true(a.chan.queued > 0 || b.chan.queued > 0 ||
	    NMSGS * BIG_BYTES / 3 < 2 * MAX_IPC_BYTES);
	loop_until(base, both_got_all, NULL);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
	assert_int_equal(a.got, NMSGS);
	assert_int_equal(b.got, NMSGS);
	assert_int_equal(a.chan.queued, 0);
	assert_int_equal(b.chan.queued, 0);
	assert_int_equal(a.closed, 0);
	assert_int_equal(b.closed, 0);

	/* Closing one end tells the other, once. */
	chan_close(&a.chan);
	loop_until(base, b_closed, NULL);
	assert_int_equal(b.closed, 1);
	assert_string_equal(b.why, "peer closed the channel");
	assert_int_equal(a.closed, 0);
	/* Sending on a dead channel is a quiet no-op. */
	send_seq(&b.chan, IPC_VIEW, 1);
	assert_int_equal(b.chan.queued, 0);
	chan_close(&b.chan);
	event_base_free(base);
}

static void
test_chan_malformed(void **state)
{
	struct event_base	*base;
	struct side		 a, b;
	uint8_t			 junk[4] = { 1, 2, 3, 4 };
	uint8_t			*big;

	/* A datagram shorter than a header. */
	pair_open(&base, &a, &b);
	assert_int_equal(send(a.chan.fd, junk, sizeof junk, 0), 4);
	loop_until(base, b_closed, NULL);
	assert_string_equal(b.why, "peer sent a malformed message");
	assert_int_equal(b.got, 0);
	chan_close(&a.chan);
	chan_close(&b.chan);
	event_base_free(base);

	/* A datagram one byte over the limit. */
	pair_open(&base, &a, &b);
	big = calloc(1, MAX_IPC_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(send(a.chan.fd, big, MAX_IPC_BYTES + 1, 0),
	    MAX_IPC_BYTES + 1);
	free(big);
	loop_until(base, b_closed, NULL);
	assert_string_equal(b.why, "peer sent a malformed message");
	assert_int_equal(b.got, 0);
	chan_close(&a.chan);
	chan_close(&b.chan);
	event_base_free(base);
}

static void
test_chan_flush(void **state)
{
	struct event_base	*base;
	struct side		 a, b;
	uint32_t		 i;

	pair_open(&base, &a, &b);
	for (i = 0; i < 3; i++)
		send_seq(&a.chan, IPC_DISPATCH, i);
	chan_flush(&a.chan);
	assert_int_equal(a.chan.queued, 0);
	/* Queued datagrams survive the sender's close. */
	chan_close(&a.chan);
	loop_until(base, b_closed, NULL);
	assert_int_equal(b.got, 3);
	assert_int_equal(b.bad, 0);
	chan_close(&b.chan);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primitives),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_truncated_fields),
		cmocka_unit_test(test_str_refusals),
		cmocka_unit_test(test_end_trailing),
		cmocka_unit_test(test_dispatch_roundtrip),
		cmocka_unit_test(test_dispatch_trailing),
		cmocka_unit_test(test_dispatch_limits),
		cmocka_unit_test(test_client_max),
		cmocka_unit_test(test_reject_roundtrip),
		cmocka_unit_test(test_handle_roundtrip),
		cmocka_unit_test(test_handle_refusals),
		cmocka_unit_test(test_view_roundtrip),
		cmocka_unit_test(test_view_refusals),
		cmocka_unit_test(test_view_detail_limit),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_tool_error_roundtrip),
		cmocka_unit_test(test_empty_messages),
		cmocka_unit_test(test_dstatus_name),
		cmocka_unit_test(test_chan_both_ways),
		cmocka_unit_test(test_chan_malformed),
		cmocka_unit_test(test_chan_flush),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
