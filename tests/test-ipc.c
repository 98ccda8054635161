/* Unit tests for common/ipc.c, common/chan.c and common/proto.c. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
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
#include "common/names.h"
#include "common/proto.h"

#define HANDLE_A	"dsp-0123456789abcdef0123456789abcdef"
#define HANDLE_B	"dsp-fedcba9876543210fedcba9876543210"

static void
fill_client(struct client_info *ci, const char *name, const char *version)
{
	memset(ci, 0, sizeof *ci);
	snprintf(ci->name, sizeof ci->name, "%s", name);
	snprintf(ci->version, sizeof ci->version, "%s", version);
}

static void
open_msg(struct ipc_reader *r, const struct ipc_msg *m, uint32_t type,
    uint32_t id)
{
	assert_int_equal(ipc_open(r, m->data, m->len), 0);
	assert_int_equal(r->type, type);
	assert_int_equal(r->id, id);
}

/*
 * Each layout's decoder, followed by its encoder on what was decoded: a
 * message that decodes must re-encode to the very same bytes.  On failure
 * nothing is built.
 */
typedef int	(*reencode_fn)(struct ipc_reader *, struct ipc_msg *);

static struct dview	page[LIST_PAGE_RECORDS];

static int
re_empty(struct ipc_reader *r, struct ipc_msg *out)
{
	if (proto_get_empty(r) == -1)
		return (-1);
	proto_empty(out, r->type, r->id);
	return (0);
}

static int
re_dispatch(struct ipc_reader *r, struct ipc_msg *out)
{
	struct req_dispatch	d;

	if (proto_get_dispatch(r, &d) == -1)
		return (-1);
	proto_dispatch(out, r->id, &d.client, d.orguser, d.orguser_len,
	    d.repo, d.repo_len, d.task, d.task_len);
	return (0);
}

static int
re_reject(struct ipc_reader *r, struct ipc_msg *out)
{
	struct req_reject	j;
	char			reason[MAX_REASON_BYTES + 1];

	if (proto_get_reject(r, &j) == -1)
		return (-1);
	/* The encoder takes the reason as a C string. */
	memcpy(reason, j.reason, j.reason_len);
	reason[j.reason_len] = '\0';
	proto_reject(out, r->id, &j.client, reason, j.args, j.args_len);
	return (0);
}

static int
re_handle(struct ipc_reader *r, struct ipc_msg *out)
{
	char	handle[HANDLE_BYTES + 1];

	if (proto_get_handle(r, handle) == -1)
		return (-1);
	proto_handle(out, r->type, r->id, handle);
	return (0);
}

static int
re_final(struct ipc_reader *r, struct ipc_msg *out)
{
	char		handle[HANDLE_BYTES + 1];
	uint32_t	status;
	uint64_t	finished;

	if (proto_get_final(r, handle, &status, &finished) == -1)
		return (-1);
	proto_final(out, handle, status, finished);
	return (0);
}

static int
re_stop(struct ipc_reader *r, struct ipc_msg *out)
{
	struct client_info	ci;
	char			handle[HANDLE_BYTES + 1];

	if (proto_get_stop(r, &ci, handle) == -1)
		return (-1);
	proto_stop(out, r->id, &ci, handle);
	return (0);
}

static int
re_result(struct ipc_reader *r, struct ipc_msg *out)
{
	char		handle[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	if (proto_get_result(r, handle, &wait_ms) == -1)
		return (-1);
	proto_result(out, r->id, handle, wait_ms);
	return (0);
}

static int
re_list(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	offset;

	if (proto_get_list(r, &offset) == -1)
		return (-1);
	proto_list(out, r->id, offset);
	return (0);
}

static int
re_view(struct ipc_reader *r, struct ipc_msg *out)
{
	struct dview	v;

	if (proto_get_view(r, &v) == -1)
		return (-1);
	proto_view(out, r->id, &v);
	return (0);
}

static int
re_list_log(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	offset;

	if (proto_get_list(r, &offset) == -1)
		return (-1);
	proto_list_log(out, r->id, offset);
	return (0);
}

static int
re_list_page(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	total, n;

	if (proto_get_list_page(r, &total, page, &n) == -1)
		return (-1);
	proto_list_page(out, r->id, total, page, n);
	return (0);
}

static int
re_tool_error(struct ipc_reader *r, struct ipc_msg *out)
{
	const char	*msg;
	size_t		 len;
	char		 buf[MAX_REASON_BYTES + 1];

	if (proto_get_tool_error(r, &msg, &len) == -1)
		return (-1);
	memcpy(buf, msg, len);
	buf[len] = '\0';
	proto_tool_error(out, r->id, buf);
	return (0);
}

static int
re_spawn(struct ipc_reader *r, struct ipc_msg *out)
{
	struct spawn_order	o;

	if (proto_get_spawn(r, &o) == -1)
		return (-1);
	proto_spawn(out, r->id, &o);
	return (0);
}

static int
re_spawned(struct ipc_reader *r, struct ipc_msg *out)
{
	uint32_t	pid, err;

	if (proto_get_spawned(r, &pid, &err) == -1)
		return (-1);
	proto_spawned(out, r->id, pid, err);
	return (0);
}

/* Decode len bytes from a heap copy, so ASan sees any read past them. */
static int
decode_bytes(const uint8_t *p, size_t len, reencode_fn fn,
    struct ipc_msg *out)
{
	struct ipc_reader	 r;
	uint8_t			*buf;
	int			 rv;

	memset(out, 0, sizeof *out);
	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	if (len > 0)
		memcpy(buf, p, len);
	rv = -1;
	if (ipc_open(&r, buf, len) == 0)
		rv = fn(&r, out);
	free(buf);
	if (rv == -1)
		assert_null(out->data);
	return (rv);
}

/* The message decodes as itself; no strict prefix and no extension does. */
static void
check_exact(const struct ipc_msg *m, reencode_fn fn)
{
	static const uint8_t	 extra[] = { 0x00, 0x01, 'a', 0xff };
	struct ipc_msg		 out;
	uint8_t			*buf;
	size_t			 i;

	assert_int_equal(decode_bytes(m->data, m->len, fn, &out), 0);
	assert_int_equal(out.len, m->len);
	assert_memory_equal(out.data, m->data, m->len);
	ipc_free(&out);

	for (i = 0; i < m->len; i++)
		assert_int_equal(decode_bytes(m->data, i, fn, &out), -1);

	buf = malloc(m->len + 4);
	assert_non_null(buf);
	memcpy(buf, m->data, m->len);
	for (i = 0; i < sizeof extra; i++) {
		buf[m->len] = extra[i];
		assert_int_equal(decode_bytes(buf, m->len + 1, fn, &out), -1);
	}
	/* A whole u32 more, as an older or newer layout would carry. */
	memset(buf + m->len, 0, 4);
	assert_int_equal(decode_bytes(buf, m->len + 4, fn, &out), -1);
	free(buf);
}

/* Decode the message whole with fn, without keeping the re-encoding. */
static int
msg_decodes(const struct ipc_msg *m, reencode_fn fn)
{
	struct ipc_msg	out;
	int		rv;

	rv = decode_bytes(m->data, m->len, fn, &out);
	if (rv == 0) {
		assert_int_equal(out.len, m->len);
		assert_memory_equal(out.data, m->data, m->len);
		ipc_free(&out);
	}
	return (rv);
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
test_empty_messages(void **state)
{
	static const uint32_t types[] = { IPC_SHUTDOWN, IPC_ACK, IPC_BYE };
	struct ipc_msg	m;
	struct ipc_reader	r;
	size_t		i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		proto_empty(&m, types[i], (uint32_t)i);
		assert_int_equal(m.len, 8);
		open_msg(&r, &m, types[i], (uint32_t)i);
		assert_int_equal(proto_get_empty(&r), 0);
		check_exact(&m, re_empty);
		ipc_free(&m);

		/* Anything after the header is refused. */
		proto_empty(&m, types[i], 0);
		ipc_put_u32(&m, 0);
		open_msg(&r, &m, types[i], 0);
		assert_int_equal(proto_get_empty(&r), -1);
		ipc_free(&m);
		proto_empty(&m, types[i], 0);
		ipc_put_cstr(&m, "");
		open_msg(&r, &m, types[i], 0);
		assert_int_equal(proto_get_empty(&r), -1);
		ipc_free(&m);
	}
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
	check_exact(&m, re_dispatch);
	ipc_free(&m);

	/* Names arrive unstripped and unchecked: the broker checks them. */
	fill_client(&ci, "", "");
	proto_dispatch(&m, 43, &ci, " ../x ", 6, "", 0, "", 0);
	open_msg(&r, &m, IPC_DISPATCH, 43);
	assert_int_equal(proto_get_dispatch(&r, &d), 0);
	assert_string_equal(d.client.name, "");
	assert_int_equal(d.orguser_len, 6);
	assert_memory_equal(d.orguser, " ../x ", 6);
	assert_int_equal(d.repo_len, 0);
	assert_int_equal(d.task_len, 0);
	check_exact(&m, re_dispatch);
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

	/* A NUL inside the task, the orguser or the repo. */
	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "a\0b", 3);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);
	proto_dispatch(&m, 1, &ci, "o\0", 2, "r", 1, "t", 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);
	proto_dispatch(&m, 1, &ci, "o", 1, "\0r", 2, "t", 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), -1);
	ipc_free(&m);
	free(big);
}

/* A DISPATCH whose client fields are built by hand. */
static int
raw_client_decodes(const char *name, size_t nlen, const char *version,
    size_t vlen)
{
	struct req_dispatch	d;
	struct ipc_msg		m;
	struct ipc_reader	r;
	int			rv;

	ipc_init(&m, IPC_DISPATCH, 1);
	ipc_put_str(&m, name, nlen);
	ipc_put_str(&m, version, vlen);
	ipc_put_cstr(&m, "o");
	ipc_put_cstr(&m, "r");
	ipc_put_cstr(&m, "t");
	open_msg(&r, &m, IPC_DISPATCH, 1);
	rv = proto_get_dispatch(&r, &d);
	ipc_free(&m);
	return (rv);
}

static void
test_client_max(void **state)
{
	struct client_info	 ci;
	struct req_dispatch	 d;
	struct req_reject	 j;
	struct ipc_msg		 m;
	struct ipc_reader		 r;

	/* Both fields at 256 bytes, through both messages that carry them. */
	memset(&ci, 'n', sizeof ci);
	ci.name[MAX_CLIENT_FIELD_BYTES] = '\0';
	memset(ci.version, 'v', sizeof ci.version);
	ci.version[MAX_CLIENT_FIELD_BYTES] = '\0';

	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "t", 1);
	open_msg(&r, &m, IPC_DISPATCH, 1);
	assert_int_equal(proto_get_dispatch(&r, &d), 0);
	assert_int_equal(strlen(d.client.name), MAX_CLIENT_FIELD_BYTES);
	assert_string_equal(d.client.name, ci.name);
	assert_int_equal(strlen(d.client.version), MAX_CLIENT_FIELD_BYTES);
	assert_string_equal(d.client.version, ci.version);
	ipc_free(&m);

	proto_reject(&m, 2, &ci, "why", "{}", 2);
	open_msg(&r, &m, IPC_REJECT, 2);
	assert_int_equal(proto_get_reject(&r, &j), 0);
	assert_string_equal(j.client.name, ci.name);
	assert_string_equal(j.client.version, ci.version);
	check_exact(&m, re_reject);
	ipc_free(&m);
}

static void
test_client_refusals(void **state)
{
	char	big[MAX_CLIENT_FIELD_BYTES + 1];

	memset(big, 'c', sizeof big);
	assert_int_equal(raw_client_decodes(big, MAX_CLIENT_FIELD_BYTES,
	    big, MAX_CLIENT_FIELD_BYTES), 0);
	assert_int_equal(raw_client_decodes(big, MAX_CLIENT_FIELD_BYTES + 1,
	    "1", 1), -1);
	assert_int_equal(raw_client_decodes("c", 1, big,
	    MAX_CLIENT_FIELD_BYTES + 1), -1);
	assert_int_equal(raw_client_decodes("c\0d", 3, "1", 1), -1);
	assert_int_equal(raw_client_decodes("c", 1, "1\0", 2), -1);
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
	check_exact(&m, re_reject);
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
	assert_int_equal(msg_decodes(&m, re_reject), 0);
	ipc_free(&m);

	/* Hand-built ones past the limits are refused. */
	ipc_init(&m, IPC_REJECT, 11);
	ipc_put_cstr(&m, ci.name);
	ipc_put_cstr(&m, ci.version);
	ipc_put_str(&m, "why", 3);
	ipc_put_str(&m, big, MAX_RAW_ARGS_BYTES + 1);
	open_msg(&r, &m, IPC_REJECT, 11);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);

	ipc_init(&m, IPC_REJECT, 11);
	ipc_put_cstr(&m, ci.name);
	ipc_put_cstr(&m, ci.version);
	ipc_put_str(&m, big, MAX_REASON_BYTES + 1);
	ipc_put_str(&m, "{}", 2);
	open_msg(&r, &m, IPC_REJECT, 11);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);

	/* A NUL in the raw arguments. */
	proto_reject(&m, 12, &ci, "why", "{\0}", 3);
	open_msg(&r, &m, IPC_REJECT, 12);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);

	proto_reject(&m, 12, &ci, "why", "{}", 2);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_REJECT, 12);
	assert_int_equal(proto_get_reject(&r, &j), -1);
	ipc_free(&m);
	free(big);
}

static int
handle_decodes(uint32_t type, const char *handle)
{
	struct ipc_msg	m;
	int		rv;

	proto_handle(&m, type, 4, handle);
	rv = msg_decodes(&m, re_handle);
	ipc_free(&m);
	return (rv);
}

static void
test_handle_roundtrip(void **state)
{
	static const uint32_t types[] = { IPC_STATUS, IPC_CANCEL };
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	size_t		i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		proto_handle(&m, types[i], 3, HANDLE_A);
		/* Header, length, the handle: no wait field any more. */
		assert_int_equal(m.len, 8 + 4 + HANDLE_BYTES);
		open_msg(&r, &m, types[i], 3);
		assert_int_equal(proto_get_handle(&r, handle), 0);
		assert_string_equal(handle, HANDLE_A);
		check_exact(&m, re_handle);
		ipc_free(&m);
	}
}

static void
test_handle_refusals(void **state)
{
	static const uint32_t types[] = { IPC_STATUS, IPC_CANCEL };
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	size_t		i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		assert_int_equal(handle_decodes(types[i], HANDLE_B), 0);
		assert_int_equal(handle_decodes(types[i],
		    "dsp-0123456789ABCDEF0123456789abcdef"), -1);
		assert_int_equal(handle_decodes(types[i],
		    "DSP-0123456789abcdef0123456789abcdef"), -1);
		assert_int_equal(handle_decodes(types[i],
		    "dsx-0123456789abcdef0123456789abcdef"), -1);
		assert_int_equal(handle_decodes(types[i],
		    "dsp-0123456789abcdef0123456789abcdeg"), -1);
		assert_int_equal(handle_decodes(types[i], "dsp-123"), -1);
		assert_int_equal(handle_decodes(types[i], ""), -1);
		/* One byte too long for the handle buffer. */
		assert_int_equal(handle_decodes(types[i], HANDLE_A "0"), -1);

		/* The old layout, with a wait after the handle. */
		proto_handle(&m, types[i], 4, HANDLE_A);
		ipc_put_u32(&m, 0);
		open_msg(&r, &m, types[i], 4);
		assert_int_equal(proto_get_handle(&r, handle), -1);
		ipc_free(&m);

		/* No handle at all. */
		proto_empty(&m, types[i], 4);
		open_msg(&r, &m, types[i], 4);
		assert_int_equal(proto_get_handle(&r, handle), -1);
		ipc_free(&m);

		/* A NUL inside a handle of the right length. */
		ipc_init(&m, types[i], 4);
		ipc_put_str(&m, "dsp-0123456789abcdef\0"
		    "123456789abcdef", HANDLE_BYTES);
		open_msg(&r, &m, types[i], 4);
		assert_int_equal(proto_get_handle(&r, handle), -1);
		ipc_free(&m);
	}
}

static int
stop_decodes(const struct client_info *ci, const char *handle)
{
	struct ipc_msg	m;
	int		rv;

	proto_stop(&m, 6, ci, handle);
	rv = msg_decodes(&m, re_stop);
	ipc_free(&m);
	return (rv);
}

static void
test_stop_roundtrip(void **state)
{
	struct client_info	ci, got;
	struct ipc_msg		m;
	struct ipc_reader	r;
	char			handle[HANDLE_BYTES + 1];

	fill_client(&ci, "claude-code", "2.0.1");
	proto_stop(&m, 9, &ci, HANDLE_B);
	/* Header, then three length-prefixed strings. */
	assert_int_equal(m.len, 8 + 4 + 11 + 4 + 5 + 4 + HANDLE_BYTES);
	open_msg(&r, &m, IPC_STOP, 9);
	assert_int_equal(proto_get_stop(&r, &got, handle), 0);
	assert_string_equal(got.name, "claude-code");
	assert_string_equal(got.version, "2.0.1");
	assert_string_equal(handle, HANDLE_B);
	check_exact(&m, re_stop);
	ipc_free(&m);

	/* A client that gave no clientInfo asks as well. */
	fill_client(&ci, "", "");
	assert_int_equal(stop_decodes(&ci, HANDLE_A), 0);
}

static void
test_stop_refusals(void **state)
{
	struct client_info	ci, got;
	struct ipc_msg		m;
	struct ipc_reader	r;
	char			handle[HANDLE_BYTES + 1];
	char			big[MAX_CLIENT_FIELD_BYTES + 2];

	fill_client(&ci, "c", "1");
	assert_int_equal(stop_decodes(&ci,
	    "dsp-0123456789ABCDEF0123456789abcdef"), -1);
	assert_int_equal(stop_decodes(&ci, "dsp-123"), -1);
	assert_int_equal(stop_decodes(&ci, ""), -1);
	assert_int_equal(stop_decodes(&ci, HANDLE_A "0"), -1);

	/* STATUS's layout, a bare handle, is not a STOP. */
	proto_handle(&m, IPC_STOP, 4, HANDLE_A);
	open_msg(&r, &m, IPC_STOP, 4);
	assert_int_equal(proto_get_stop(&r, &got, handle), -1);
	ipc_free(&m);

	/* A client name one byte over its bound. */
	memset(big, 'n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ipc_init(&m, IPC_STOP, 4);
	ipc_put_cstr(&m, big);
	ipc_put_cstr(&m, "1");
	ipc_put_cstr(&m, HANDLE_A);
	open_msg(&r, &m, IPC_STOP, 4);
	assert_int_equal(proto_get_stop(&r, &got, handle), -1);
	ipc_free(&m);

	/* A NUL inside the handle. */
	ipc_init(&m, IPC_STOP, 4);
	ipc_put_cstr(&m, "c");
	ipc_put_cstr(&m, "1");
	ipc_put_str(&m, "dsp-0123456789abcdef\0"
	    "123456789abcdef", HANDLE_BYTES);
	open_msg(&r, &m, IPC_STOP, 4);
	assert_int_equal(proto_get_stop(&r, &got, handle), -1);
	ipc_free(&m);
}

static int
result_decodes(const char *handle, uint32_t wait_ms)
{
	struct ipc_msg	m;
	int		rv;

	proto_result(&m, 5, handle, wait_ms);
	rv = msg_decodes(&m, re_result);
	ipc_free(&m);
	return (rv);
}

static void
test_result_roundtrip(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	proto_result(&m, 4, HANDLE_A, 0);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_result(&r, handle, &wait_ms), 0);
	assert_string_equal(handle, HANDLE_A);
	assert_int_equal(wait_ms, 0);
	check_exact(&m, re_result);
	ipc_free(&m);

	proto_result(&m, 5, HANDLE_B, MAX_WAIT_SECONDS * 1000U);
	open_msg(&r, &m, IPC_RESULT, 5);
	assert_int_equal(proto_get_result(&r, handle, &wait_ms), 0);
	assert_string_equal(handle, HANDLE_B);
	assert_int_equal(wait_ms, 50000);
	check_exact(&m, re_result);
	ipc_free(&m);
}

static void
test_final_roundtrip(void **state)
{
	struct ipc_msg		m;
	struct ipc_reader	r;
	char			handle[HANDLE_BYTES + 1];
	uint32_t		st, status;
	uint64_t		finished;

	for (st = DS_RUNNING + 1; st < DS_MAX; st++) {
		proto_final(&m, HANDLE_B, st, 1764633600123ULL + st);
		/* Header, the handle, status and time: nothing else. */
		assert_int_equal(m.len, 8 + 4 + HANDLE_BYTES + 4 + 8);
		open_msg(&r, &m, IPC_FINAL, 0);
		assert_int_equal(proto_get_final(&r, handle, &status,
		    &finished), 0);
		assert_string_equal(handle, HANDLE_B);
		assert_int_equal(status, st);
		assert_true(finished == 1764633600123ULL + st);
		check_exact(&m, re_final);
		ipc_free(&m);
	}
}

static void
test_final_refusals(void **state)
{
	struct ipc_msg		m;
	struct ipc_reader	r;
	char			handle[HANDLE_BYTES + 1];
	uint32_t		status;
	uint64_t		finished;

	/* Never "running": a FINAL says the dispatch ended. */
	proto_final(&m, HANDLE_A, DS_RUNNING, 1);
	assert_int_equal(msg_decodes(&m, re_final), -1);
	ipc_free(&m);
	proto_final(&m, HANDLE_A, DS_MAX, 1);
	assert_int_equal(msg_decodes(&m, re_final), -1);
	ipc_free(&m);
	proto_final(&m, HANDLE_A, UINT32_MAX, 1);
	assert_int_equal(msg_decodes(&m, re_final), -1);
	ipc_free(&m);
	proto_final(&m, "dsp-0123456789ABCDEF0123456789abcdef", DS_FAILED, 1);
	assert_int_equal(msg_decodes(&m, re_final), -1);
	ipc_free(&m);

	/* Unasked, so it carries no request id. */
	proto_handle(&m, IPC_FINAL, 7, HANDLE_A);
	ipc_put_u32(&m, DS_FAILED);
	ipc_put_u64(&m, 1);
	open_msg(&r, &m, IPC_FINAL, 7);
	assert_int_equal(proto_get_final(&r, handle, &status, &finished), -1);
	ipc_free(&m);

	/* A time cut short: a u32 where the u64 goes. */
	proto_handle(&m, IPC_FINAL, 0, HANDLE_A);
	ipc_put_u32(&m, DS_FAILED);
	ipc_put_u32(&m, 1);
	assert_int_equal(msg_decodes(&m, re_final), -1);
	ipc_free(&m);
}

static void
test_result_refusals(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	char		handle[HANDLE_BYTES + 1];
	uint32_t	wait_ms;

	/* The wait is at most 50 seconds. */
	assert_int_equal(result_decodes(HANDLE_A, 50000), 0);
	assert_int_equal(result_decodes(HANDLE_A, 50001), -1);
	assert_int_equal(result_decodes(HANDLE_A, 60000), -1);
	assert_int_equal(result_decodes(HANDLE_A, UINT32_MAX), -1);
	assert_int_equal(result_decodes(HANDLE_A, 0x80000000U), -1);

	assert_int_equal(result_decodes(
	    "dsp-0123456789ABCDEF0123456789abcdef", 0), -1);
	assert_int_equal(result_decodes("dsp-123", 0), -1);
	assert_int_equal(result_decodes("", 0), -1);
	assert_int_equal(result_decodes(HANDLE_A "0", 0), -1);

	/* A missing wait: a STATUS sent as a RESULT. */
	proto_handle(&m, IPC_RESULT, 4, HANDLE_A);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_result(&r, handle, &wait_ms), -1);
	ipc_free(&m);

	/* A wait and then more. */
	proto_result(&m, 4, HANDLE_A, 10);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_RESULT, 4);
	assert_int_equal(proto_get_result(&r, handle, &wait_ms), -1);
	ipc_free(&m);
}

static void
test_list(void **state)
{
	static const uint32_t offsets[] = { 0, 1, 100, MAX_RECORDS,
	    UINT32_MAX };
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	offset;
	size_t		i;

	for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		proto_list(&m, 8, offsets[i]);
		open_msg(&r, &m, IPC_LIST, 8);
		assert_int_equal(proto_get_list(&r, &offset), 0);
		assert_int_equal(offset, offsets[i]);
		check_exact(&m, re_list);
		ipc_free(&m);
	}

	proto_list(&m, 8, 0);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_LIST, 8);
	assert_int_equal(proto_get_list(&r, &offset), -1);
	ipc_free(&m);

	proto_empty(&m, IPC_LIST, 8);
	open_msg(&r, &m, IPC_LIST, 8);
	assert_int_equal(proto_get_list(&r, &offset), -1);
	ipc_free(&m);

	/* LIST_LOG: LIST's layout under a type of its own. */
	for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		proto_list_log(&m, 9, offsets[i]);
		open_msg(&r, &m, IPC_LIST_LOG, 9);
		assert_int_equal(proto_get_list(&r, &offset), 0);
		assert_int_equal(offset, offsets[i]);
		check_exact(&m, re_list_log);
		ipc_free(&m);
	}
	proto_list_log(&m, 9, 5);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_LIST_LOG, 9);
	assert_int_equal(proto_get_list(&r, &offset), -1);
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
sample_result(struct dview *v, const char *detail)
{
	sample_view(v);
	v->status = DS_FAILED;
	v->with_result = 1;
	v->has_returncode = 1;
	v->returncode = -2;
	v->signal = 15;
	v->finished_ms = 1764091999000ULL;
	v->duration_ms = 5877;
	v->detail = detail;
	v->detail_len = strlen(detail);
	v->usage = VIEW_CPU | VIEW_MEM | VIEW_OOM;
	v->cpu_usec = 123456;
	v->mem_peak = 67108864;
	v->pids_peak = 0;
}

static void
test_view_roundtrip(void **state)
{
	struct dview	v, out;
	struct ipc_msg	m;
	struct ipc_reader	r;
	const char	detail[] = "error: \xe2\x9c\x97 build failed";

	sample_view(&v);
	proto_view(&m, 5, &v);
	open_msg(&r, &m, IPC_VIEW, 5);
	assert_int_equal(proto_get_view(&r, &out), 0);
	assert_string_equal(out.handle, HANDLE_A);
	assert_string_equal(out.orguser, "nash-forbes");
	assert_string_equal(out.repo, "nash");
	assert_string_equal(out.github, "selamy-labs/nash");
	assert_int_equal(out.status, DS_RUNNING);
	assert_true(out.requested_ms == 1764091993123ULL);
	assert_int_equal(out.with_result, 0);
	assert_int_equal(out.detail_len, 0);
	check_exact(&m, re_view);
	ipc_free(&m);

	sample_result(&v, detail);
	proto_view(&m, 6, &v);
	open_msg(&r, &m, IPC_VIEW, 6);
	assert_int_equal(proto_get_view(&r, &out), 0);
	assert_int_equal(out.status, DS_FAILED);
	assert_int_equal(out.with_result, 1);
	assert_int_equal(out.has_returncode, 1);
	assert_int_equal(out.returncode, -2);
	assert_int_equal(out.signal, 15);
	assert_true(out.finished_ms == 1764091999000ULL);
	assert_true(out.duration_ms == 5877);
	assert_int_equal(out.detail_len, sizeof detail - 1);
	assert_memory_equal(out.detail, detail, out.detail_len);
	assert_int_equal(out.usage, VIEW_CPU | VIEW_MEM | VIEW_OOM);
	assert_true(out.cpu_usec == 123456);
	assert_true(out.mem_peak == 67108864);
	check_exact(&m, re_view);
	ipc_free(&m);

	/* Usage flags the layout does not know are refused. */
	v.usage = VIEW_USAGE_ALL + 1;
	proto_view(&m, 6, &v);
	open_msg(&r, &m, IPC_VIEW, 6);
	assert_int_equal(proto_get_view(&r, &out), -1);
	ipc_free(&m);

	/* Extremes: a github without owner, a running result, INT32_MIN. */
	sample_result(&v, "");
	snprintf(v.github, sizeof v.github, "nash");
	v.status = DS_RUNNING;
	v.has_returncode = 0;
	v.returncode = INT32_MIN;
	v.signal = 0;
	v.finished_ms = 0;
	v.duration_ms = UINT64_MAX;
	v.requested_ms = UINT64_MAX;
	proto_view(&m, 7, &v);
	open_msg(&r, &m, IPC_VIEW, 7);
	assert_int_equal(proto_get_view(&r, &out), 0);
	assert_string_equal(out.github, "nash");
	assert_int_equal(out.has_returncode, 0);
	assert_int_equal(out.returncode, INT32_MIN);
	assert_true(out.duration_ms == UINT64_MAX);
	assert_int_equal(out.detail_len, 0);
	check_exact(&m, re_view);
	ipc_free(&m);

	/* A view is the whole message: a result part it did not ask for. */
	sample_view(&v);
	proto_view(&m, 8, &v);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_VIEW, 8);
	assert_int_equal(proto_get_view(&r, &out), -1);
	ipc_free(&m);
}

static int
view_decodes(const struct dview *v)
{
	struct ipc_msg	m;
	int		rv;

	proto_view(&m, 1, v);
	rv = msg_decodes(&m, re_view);
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
		sample_result(&v, "x");
		v.status = s;
		assert_int_equal(view_decodes(&v), 0);
	}
	sample_view(&v);
	v.status = DS_MAX;
	assert_int_equal(view_decodes(&v), -1);
	v.status = UINT32_MAX;
	assert_int_equal(view_decodes(&v), -1);
	sample_result(&v, "x");
	v.status = DS_MAX;
	assert_int_equal(view_decodes(&v), -1);

	sample_view(&v);
	snprintf(v.handle, sizeof v.handle, "%s",
	    "dsp-0123456789abcdef0123456789abcdeF");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.handle, sizeof v.handle, "nope");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.handle, sizeof v.handle, "%s", "");
	assert_int_equal(view_decodes(&v), -1);

	sample_view(&v);
	snprintf(v.orguser, sizeof v.orguser, "nash;rm");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.orguser, sizeof v.orguser, "%s", "");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.orguser, sizeof v.orguser, ".x");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.repo, sizeof v.repo, "../etc");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.repo, sizeof v.repo, "%s", "");
	assert_int_equal(view_decodes(&v), -1);
	sample_view(&v);
	snprintf(v.github, sizeof v.github, "a/b/c");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.github, sizeof v.github, "%s", "");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.github, sizeof v.github, "a/");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.github, sizeof v.github, "/b");
	assert_int_equal(view_decodes(&v), -1);
	snprintf(v.github, sizeof v.github, "../b");
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
	v.has_returncode = -1;
	assert_int_equal(view_decodes(&v), -1);
	v.has_returncode = 0;
	v.signal = 65;
	assert_int_equal(view_decodes(&v), -1);
	v.signal = UINT32_MAX;
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

/* Views that differ from one another in every field. */
static void
sample_page(struct dview *v, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++) {
		sample_view(&v[i]);
		snprintf(v[i].handle, sizeof v[i].handle,
		    "dsp-%032x", i);
		snprintf(v[i].orguser, sizeof v[i].orguser, "user%u", i);
		snprintf(v[i].repo, sizeof v[i].repo, "repo-%u", i);
		snprintf(v[i].github, sizeof v[i].github, "org%u/repo.%u",
		    i, i);
		v[i].status = i % DS_MAX;
		v[i].requested_ms = 1764091993123ULL + i;
	}
}

static int
page_decodes(uint32_t total, const struct dview *v, uint32_t n)
{
	struct ipc_msg	m;
	int		rv;

	proto_list_page(&m, 1, total, v, n);
	rv = msg_decodes(&m, re_list_page);
	ipc_free(&m);
	return (rv);
}

static void
test_list_page(void **state)
{
	struct dview	v[3], out[LIST_PAGE_RECORDS];
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	total, n, i;

	sample_page(v, 3);
	proto_list_page(&m, 8, 10, v, 3);
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), 0);
	assert_int_equal(total, 10);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_string_equal(out[i].handle, v[i].handle);
		assert_string_equal(out[i].orguser, v[i].orguser);
		assert_string_equal(out[i].repo, v[i].repo);
		assert_string_equal(out[i].github, v[i].github);
		assert_int_equal(out[i].status, i);
		assert_true(out[i].requested_ms == v[i].requested_ms);
		assert_int_equal(out[i].with_result, 0);
	}
	check_exact(&m, re_list_page);
	ipc_free(&m);

	/* An empty page, and one past the end of the records. */
	proto_list_page(&m, 9, 0, v, 0);
	open_msg(&r, &m, IPC_LIST_PAGE, 9);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), 0);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
	check_exact(&m, re_list_page);
	ipc_free(&m);
	assert_int_equal(page_decodes(5, v, 0), 0);
	assert_int_equal(page_decodes(3, v, 3), 0);
}

static void
test_list_page_full(void **state)
{
	static struct dview	v[LIST_PAGE_RECORDS + 1];
	static struct dview	out[LIST_PAGE_RECORDS];
	struct ipc_msg		m;
	struct ipc_reader	r;
	uint32_t		total, n, i;

	sample_page(v, LIST_PAGE_RECORDS + 1);
	proto_list_page(&m, 10, MAX_RECORDS, v, LIST_PAGE_RECORDS);
	assert_true(m.len <= MAX_IPC_BYTES);
	open_msg(&r, &m, IPC_LIST_PAGE, 10);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), 0);
	assert_int_equal(total, MAX_RECORDS);
	assert_int_equal(n, LIST_PAGE_RECORDS);
	for (i = 0; i < n; i++) {
		assert_string_equal(out[i].handle, v[i].handle);
		assert_string_equal(out[i].github, v[i].github);
		assert_int_equal(out[i].status, i % DS_MAX);
	}
	assert_int_equal(msg_decodes(&m, re_list_page), 0);
	assert_int_equal(ipc_open(&r, m.data, m.len - 1), 0);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), -1);
	ipc_free(&m);
	assert_int_equal(page_decodes(LIST_PAGE_RECORDS, v,
	    LIST_PAGE_RECORDS), 0);

	/* The largest possible views, a hundred of them, still fit. */
	for (i = 0; i < LIST_PAGE_RECORDS; i++) {
		memset(v[i].orguser, 'o', MAX_NAME_BYTES);
		v[i].orguser[MAX_NAME_BYTES] = '\0';
		memset(v[i].repo, 'r', MAX_NAME_BYTES);
		v[i].repo[MAX_NAME_BYTES] = '\0';
		memset(v[i].github, 'g', MAX_GITHUB_BYTES);
		v[i].github[MAX_NAME_BYTES] = '/';
		v[i].github[MAX_GITHUB_BYTES] = '\0';
	}
	proto_list_page(&m, 11, LIST_PAGE_RECORDS, v, LIST_PAGE_RECORDS);
	assert_true(m.len <= MAX_IPC_BYTES);
	assert_int_equal(msg_decodes(&m, re_list_page), 0);
	ipc_free(&m);

	/* A hundred and one views are too many, whatever the total. */
	sample_page(v, LIST_PAGE_RECORDS + 1);
	assert_int_equal(page_decodes(MAX_RECORDS, v, LIST_PAGE_RECORDS + 1),
	    -1);
	assert_int_equal(page_decodes(UINT32_MAX, v, LIST_PAGE_RECORDS + 1),
	    -1);
}

#define PAGE_COUNT_OFF	(8 + 4)

static void
test_list_page_refusals(void **state)
{
	struct dview	v[3], out[LIST_PAGE_RECORDS];
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	total, n, count;

	/* More views than records. */
	sample_page(v, 3);
	assert_int_equal(page_decodes(2, v, 3), -1);
	assert_int_equal(page_decodes(0, v, 1), -1);

	/* A view with its result has no place in a page. */
	sample_page(v, 3);
	v[1].with_result = 1;
	v[1].detail = "";
	assert_int_equal(page_decodes(3, v, 3), -1);

	/* One bad view spoils the page. */
	sample_page(v, 3);
	v[2].status = DS_MAX;
	assert_int_equal(page_decodes(3, v, 3), -1);
	sample_page(v, 3);
	snprintf(v[0].repo, sizeof v[0].repo, "../etc");
	assert_int_equal(page_decodes(3, v, 3), -1);
	sample_page(v, 3);
	snprintf(v[2].handle, sizeof v[2].handle, "dsp-123");
	assert_int_equal(page_decodes(3, v, 3), -1);

	/*
	 * Fewer views than counted, and more: the count, after the 8-byte
	 * header and the total, is patched in place.
	 */
	sample_page(v, 3);
	proto_list_page(&m, 8, 3, v, 2);
	count = 3;
	memcpy(m.data + PAGE_COUNT_OFF, &count, sizeof count);
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), -1);
	ipc_free(&m);

	proto_list_page(&m, 8, 3, v, 3);
	count = 2;
	memcpy(m.data + PAGE_COUNT_OFF, &count, sizeof count);
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), -1);
	ipc_free(&m);

	/* Trailing bytes. */
	proto_list_page(&m, 8, 3, v, 3);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), -1);
	ipc_free(&m);

	/* No count. */
	proto_empty(&m, IPC_LIST_PAGE, 8);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_LIST_PAGE, 8);
	assert_int_equal(proto_get_list_page(&r, &total, out, &n), -1);
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
	check_exact(&m, re_tool_error);
	ipc_free(&m);

	proto_tool_error(&m, 80, "");
	open_msg(&r, &m, IPC_TOOL_ERROR, 80);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), 0);
	assert_int_equal(len, 0);
	check_exact(&m, re_tool_error);
	ipc_free(&m);

	/* The encoder cuts at 8192 bytes; the decoder refuses more. */
	big = malloc(MAX_REASON_BYTES + 100);
	assert_non_null(big);
	memset(big, 'e', MAX_REASON_BYTES + 99);
	big[MAX_REASON_BYTES + 99] = '\0';
	proto_tool_error(&m, 78, big);
	open_msg(&r, &m, IPC_TOOL_ERROR, 78);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), 0);
	assert_int_equal(len, MAX_REASON_BYTES);
	assert_int_equal(msg_decodes(&m, re_tool_error), 0);
	ipc_free(&m);

	ipc_init(&m, IPC_TOOL_ERROR, 78);
	ipc_put_str(&m, big, MAX_REASON_BYTES + 1);
	open_msg(&r, &m, IPC_TOOL_ERROR, 78);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), -1);
	ipc_free(&m);
	free(big);

	ipc_init(&m, IPC_TOOL_ERROR, 81);
	ipc_put_str(&m, "bad\0news", 8);
	open_msg(&r, &m, IPC_TOOL_ERROR, 81);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), -1);
	ipc_free(&m);

	proto_tool_error(&m, 79, "x");
	ipc_put_u32(&m, 1);
	open_msg(&r, &m, IPC_TOOL_ERROR, 79);
	assert_int_equal(proto_get_tool_error(&r, &msg, &len), -1);
	ipc_free(&m);
}

static void
sample_order(struct spawn_order *o, const char *task)
{
	memset(o, 0, sizeof *o);
	snprintf(o->handle, sizeof o->handle, "%s", HANDLE_A);
	snprintf(o->orguser, sizeof o->orguser, "nash-forbes");
	snprintf(o->repo, sizeof o->repo, "nash");
	snprintf(o->github, sizeof o->github, "selamy-labs/nash");
	o->task = task;
	o->task_len = strlen(task);
}

static int
spawn_decodes(const struct spawn_order *o)
{
	struct ipc_msg	m;
	int		rv;

	proto_spawn(&m, 1, o);
	rv = msg_decodes(&m, re_spawn);
	ipc_free(&m);
	return (rv);
}

static void
test_spawn_roundtrip(void **state)
{
	struct spawn_order	o, out;
	struct ipc_msg		m;
	struct ipc_reader	r;
	const char		task[] =
	    "fix it;\n$(rm -rf /) \xf0\x9f\x98\x80";

	sample_order(&o, task);
	proto_spawn(&m, 21, &o);
	open_msg(&r, &m, IPC_SPAWN, 21);
	memset(&out, 0, sizeof out);
	assert_int_equal(proto_get_spawn(&r, &out), 0);
	assert_string_equal(out.handle, HANDLE_A);
	assert_string_equal(out.orguser, "nash-forbes");
	assert_string_equal(out.repo, "nash");
	assert_string_equal(out.github, "selamy-labs/nash");
	assert_int_equal(out.task_len, sizeof task - 1);
	assert_memory_equal(out.task, task, out.task_len);
	check_exact(&m, re_spawn);
	ipc_free(&m);

	/* No task (stdin mode), a github without owner. */
	sample_order(&o, "");
	snprintf(o.github, sizeof o.github, "nash");
	proto_spawn(&m, 22, &o);
	open_msg(&r, &m, IPC_SPAWN, 22);
	assert_int_equal(proto_get_spawn(&r, &out), 0);
	assert_string_equal(out.github, "nash");
	assert_int_equal(out.task_len, 0);
	check_exact(&m, re_spawn);
	ipc_free(&m);

	/* Every name at its longest. */
	sample_order(&o, "t");
	memset(o.orguser, 'o', MAX_NAME_BYTES);
	o.orguser[MAX_NAME_BYTES] = '\0';
	memset(o.repo, 'r', MAX_NAME_BYTES);
	o.repo[MAX_NAME_BYTES] = '\0';
	memset(o.github, 'g', MAX_GITHUB_BYTES);
	o.github[MAX_NAME_BYTES] = '/';
	o.github[MAX_GITHUB_BYTES] = '\0';
	proto_spawn(&m, 23, &o);
	open_msg(&r, &m, IPC_SPAWN, 23);
	assert_int_equal(proto_get_spawn(&r, &out), 0);
	assert_string_equal(out.orguser, o.orguser);
	assert_string_equal(out.repo, o.repo);
	assert_string_equal(out.github, o.github);
	check_exact(&m, re_spawn);
	ipc_free(&m);
}

static void
test_spawn_refusals(void **state)
{
	static const char *bad_names[] = {
		"../x", ".x", "", "-x", "_x", "a/b", "a b", "a;b", "x\n",
		"\xc3\xa9"
	};
	static const char *bad_github[] = {
		"a/b/c", "", "/", "a/", "/b", "../b", "a/..", "a//b", ".a/b",
		"a b/c"
	};
	static const char *bad_handles[] = {
		"", "dsp-123", "dsp-0123456789ABCDEF0123456789abcdef",
		"DSP-0123456789abcdef0123456789abcdef",
		"dsp_0123456789abcdef0123456789abcdef",
		"dsp-0123456789abcdef0123456789abcdeg",
		"dsp-/../../../../../../../etc/passwd"
	};
	struct spawn_order	o;
	size_t			i;

	sample_order(&o, "t");
	assert_int_equal(spawn_decodes(&o), 0);
	for (i = 0; i < sizeof bad_handles / sizeof bad_handles[0]; i++) {
		sample_order(&o, "t");
		snprintf(o.handle, sizeof o.handle, "%s", bad_handles[i]);
		assert_int_equal(spawn_decodes(&o), -1);
	}
	for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		sample_order(&o, "t");
		snprintf(o.orguser, sizeof o.orguser, "%s", bad_names[i]);
		assert_int_equal(spawn_decodes(&o), -1);
		sample_order(&o, "t");
		snprintf(o.repo, sizeof o.repo, "%s", bad_names[i]);
		assert_int_equal(spawn_decodes(&o), -1);
	}
	for (i = 0; i < sizeof bad_github / sizeof bad_github[0]; i++) {
		sample_order(&o, "t");
		snprintf(o.github, sizeof o.github, "%s", bad_github[i]);
		assert_int_equal(spawn_decodes(&o), -1);
	}

	/* A NUL in the task. */
	sample_order(&o, "t");
	o.task = "rm\0-rf";
	o.task_len = 6;
	assert_int_equal(spawn_decodes(&o), -1);
}

/* A SPAWN built field by field, to send what proto_spawn cannot. */
static int
raw_spawn_decodes(const char *handle, size_t hlen, const char *orguser,
    size_t olen, const char *repo, size_t rlen, const char *github,
    size_t glen)
{
	struct spawn_order	o;
	struct ipc_msg		m;
	struct ipc_reader	r;
	int			rv;

	ipc_init(&m, IPC_SPAWN, 1);
	ipc_put_str(&m, handle, hlen);
	ipc_put_str(&m, orguser, olen);
	ipc_put_str(&m, repo, rlen);
	ipc_put_str(&m, github, glen);
	ipc_put_cstr(&m, "");
	ipc_put_cstr(&m, "t");
	open_msg(&r, &m, IPC_SPAWN, 1);
	rv = proto_get_spawn(&r, &o);
	ipc_free(&m);
	return (rv);
}

/* The target's host: empty (the default), or a host name or address. */
static void
test_spawn_host(void **state)
{
	static const char *const good[] = {
		"build.example.org", "10.0.0.7", "::1", "h", "a-b.c-d"
	};
	static const char *const bad[] = {
		"-oProxyCommand=sh", "a b", "x..y", "x.-y", "y-", ".x",
		"host;id", "h\xc3\xa9", "a/b"
	};
	struct spawn_order	o, out;
	struct ipc_msg		m;
	struct ipc_reader	r;
	char			long_host[MAX_HOST_BYTES + 2];
	size_t			i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		sample_order(&o, "");
		snprintf(o.host, sizeof o.host, "%s", good[i]);
		proto_spawn(&m, 1, &o);
		open_msg(&r, &m, IPC_SPAWN, 1);
		assert_int_equal(proto_get_spawn(&r, &out), 0);
		assert_string_equal(out.host, good[i]);
		ipc_free(&m);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sample_order(&o, "");
		snprintf(o.host, sizeof o.host, "%s", bad[i]);
		if (spawn_decodes(&o) != -1)
			fail_msg("host '%s' was accepted", bad[i]);
	}
	/* One byte past the longest host name. */
	memset(long_host, 'a', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	ipc_init(&m, IPC_SPAWN, 1);
	ipc_put_cstr(&m, HANDLE_A);
	ipc_put_cstr(&m, "o");
	ipc_put_cstr(&m, "r");
	ipc_put_cstr(&m, "a/b");
	ipc_put_cstr(&m, long_host);
	ipc_put_cstr(&m, "");
	open_msg(&r, &m, IPC_SPAWN, 1);
	assert_int_equal(proto_get_spawn(&r, &out), -1);
	ipc_free(&m);
}

static void
test_spawn_limits(void **state)
{
	struct spawn_order	 o;
	struct ipc_msg		 m;
	struct ipc_reader	 r;
	char			*big;

	big = malloc(MAX_TASK_BYTES + 1);
	assert_non_null(big);
	memset(big, 'x', MAX_TASK_BYTES + 1);

	sample_order(&o, "");
	o.task = big;
	o.task_len = MAX_TASK_BYTES;
	assert_int_equal(spawn_decodes(&o), 0);
	o.task_len = MAX_TASK_BYTES + 1;
	assert_int_equal(spawn_decodes(&o), -1);

	/* Names one byte past their buffers, and with NULs inside. */
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    big, MAX_NAME_BYTES, big, MAX_NAME_BYTES, "a/b", 3), 0);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    big, MAX_NAME_BYTES + 1, "r", 1, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    "o", 1, big, MAX_NAME_BYTES + 1, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    "o", 1, "r", 1, big, MAX_GITHUB_BYTES + 1), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    "o\0", 2, "r", 1, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    "o", 1, "r\0x", 3, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES,
	    "o", 1, "r", 1, "a\0/b", 4), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A "\0", HANDLE_BYTES + 1,
	    "o", 1, "r", 1, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A "0", HANDLE_BYTES + 1,
	    "o", 1, "r", 1, "a/b", 3), -1);
	assert_int_equal(raw_spawn_decodes(HANDLE_A, HANDLE_BYTES - 1,
	    "o", 1, "r", 1, "a/b", 3), -1);

	/* Trailing bytes, and a missing task. */
	sample_order(&o, "t");
	proto_spawn(&m, 1, &o);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_SPAWN, 1);
	assert_int_equal(proto_get_spawn(&r, &o), -1);
	ipc_free(&m);

	sample_order(&o, "t");
	proto_spawn(&m, 1, &o);
	ipc_put_cstr(&m, "more");
	open_msg(&r, &m, IPC_SPAWN, 1);
	assert_int_equal(proto_get_spawn(&r, &o), -1);
	ipc_free(&m);

	ipc_init(&m, IPC_SPAWN, 1);
	ipc_put_cstr(&m, HANDLE_A);
	ipc_put_cstr(&m, "o");
	ipc_put_cstr(&m, "r");
	ipc_put_cstr(&m, "a/b");
	open_msg(&r, &m, IPC_SPAWN, 1);
	assert_int_equal(proto_get_spawn(&r, &o), -1);
	ipc_free(&m);
	free(big);
}

static void
test_spawn_truncated(void **state)
{
	struct spawn_order	 o;
	struct ipc_msg		 m;
	struct ipc_reader	 r;
	size_t			 i;

	/* check_exact() too, but spelled out: every offset fails. */
	sample_order(&o, "a task of some length");
	proto_spawn(&m, 30, &o);
	for (i = 0; i < m.len; i++) {
		if (ipc_open(&r, m.data, i) == -1) {
			assert_true(i < 8);
			continue;
		}
		assert_int_equal(proto_get_spawn(&r, &o), -1);
	}
	check_exact(&m, re_spawn);
	ipc_free(&m);

	sample_order(&o, "");
	proto_spawn(&m, 31, &o);
	check_exact(&m, re_spawn);
	ipc_free(&m);
}

static void
test_spawned_roundtrip(void **state)
{
	static const uint32_t cases[][2] = {
		{ 1234, 0 },		/* a lane */
		{ 1234, ENOENT },	/* a lane whose exec failed */
		{ 0, EAGAIN },		/* no lane: fork failed */
		{ 1, 0 },
		{ INT32_MAX, 0 },
		{ INT32_MAX, UINT32_MAX }
	};
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	pid, err;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		proto_spawned(&m, 40 + (uint32_t)i, cases[i][0], cases[i][1]);
		open_msg(&r, &m, IPC_SPAWNED, 40 + (uint32_t)i);
		assert_int_equal(proto_get_spawned(&r, &pid, &err), 0);
		assert_int_equal(pid, cases[i][0]);
		assert_int_equal(err, cases[i][1]);
		check_exact(&m, re_spawned);
		ipc_free(&m);
	}
}

static int
spawned_decodes(uint32_t pid, uint32_t err)
{
	struct ipc_msg	m;
	int		rv;

	proto_spawned(&m, 1, pid, err);
	rv = msg_decodes(&m, re_spawned);
	ipc_free(&m);
	return (rv);
}

static void
test_spawned_refusals(void **state)
{
	struct ipc_msg	m;
	struct ipc_reader	r;
	uint32_t	pid, err;

	/* Neither a pid nor an errno says nothing. */
	assert_int_equal(spawned_decodes(0, 0), -1);
	/* A pid that does not fit a pid_t. */
	assert_int_equal(spawned_decodes((uint32_t)INT32_MAX + 1, 0), -1);
	assert_int_equal(spawned_decodes((uint32_t)INT32_MAX + 1, EIO), -1);
	assert_int_equal(spawned_decodes(UINT32_MAX, 0), -1);

	proto_spawned(&m, 1, 1234, 0);
	ipc_put_u32(&m, 0);
	open_msg(&r, &m, IPC_SPAWNED, 1);
	assert_int_equal(proto_get_spawned(&r, &pid, &err), -1);
	ipc_free(&m);

	/* A pid without its errno. */
	proto_list(&m, 1, 1234);
	open_msg(&r, &m, IPC_LIST, 1);
	assert_int_equal(proto_get_spawned(&r, &pid, &err), -1);
	ipc_free(&m);
}

/* One valid message of every layout, each checked for exactness. */
static void
test_every_layout_exact(void **state)
{
	static const uint32_t	 empties[] = {
		IPC_SHUTDOWN, IPC_ACK, IPC_BYE
	};
	struct client_info	 ci;
	struct dview		 v[4];
	struct spawn_order	 o;
	struct ipc_msg		 m;
	size_t			 i;

	for (i = 0; i < sizeof empties / sizeof empties[0]; i++) {
		proto_empty(&m, empties[i], 0);
		check_exact(&m, re_empty);
		ipc_free(&m);
	}

	fill_client(&ci, "claude-code", "2.0.1");
	proto_dispatch(&m, 1, &ci, "o", 1, "r", 1, "task", 4);
	check_exact(&m, re_dispatch);
	ipc_free(&m);
	proto_reject(&m, 2, &ci, "bad repo", "{\"repo\":1}", 10);
	check_exact(&m, re_reject);
	ipc_free(&m);
	proto_handle(&m, IPC_STATUS, 3, HANDLE_A);
	check_exact(&m, re_handle);
	ipc_free(&m);
	proto_handle(&m, IPC_CANCEL, 4, HANDLE_B);
	check_exact(&m, re_handle);
	ipc_free(&m);
	proto_stop(&m, 4, &ci, HANDLE_A);
	check_exact(&m, re_stop);
	ipc_free(&m);
	proto_result(&m, 5, HANDLE_A, 30000);
	check_exact(&m, re_result);
	ipc_free(&m);
	proto_list(&m, 6, 200);
	check_exact(&m, re_list);
	ipc_free(&m);

	sample_view(&v[0]);
	proto_view(&m, 7, &v[0]);
	check_exact(&m, re_view);
	ipc_free(&m);
	sample_result(&v[0], "exit 2");
	proto_view(&m, 8, &v[0]);
	check_exact(&m, re_view);
	ipc_free(&m);
	sample_page(v, 4);
	proto_list_page(&m, 9, 4, v, 4);
	check_exact(&m, re_list_page);
	ipc_free(&m);
	proto_tool_error(&m, 10, "unknown dispatch handle");
	check_exact(&m, re_tool_error);
	ipc_free(&m);
	proto_final(&m, HANDLE_A, DS_TIMED_OUT, 1764633600000ULL);
	check_exact(&m, re_final);
	ipc_free(&m);

	sample_order(&o, "do the thing");
	proto_spawn(&m, 11, &o);
	check_exact(&m, re_spawn);
	ipc_free(&m);
	proto_spawned(&m, 11, 4321, 0);
	check_exact(&m, re_spawned);
	ipc_free(&m);
}

static void
test_dstatus_name(void **state)
{
	assert_string_equal(dstatus_name(DS_RUNNING), "running");
	assert_string_equal(dstatus_name(DS_SUCCEEDED), "succeeded");
	assert_string_equal(dstatus_name(DS_FAILED), "failed");
	assert_string_equal(dstatus_name(DS_TIMED_OUT), "timed_out");
	assert_string_equal(dstatus_name(DS_CANCELLED), "cancelled");
	assert_string_equal(dstatus_name(DS_LOST), "lost");
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
	ipc_setbuf(fds[0]);
	ipc_setbuf(fds[1]);
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
		cmocka_unit_test(test_empty_messages),
		cmocka_unit_test(test_dispatch_roundtrip),
		cmocka_unit_test(test_dispatch_trailing),
		cmocka_unit_test(test_dispatch_limits),
		cmocka_unit_test(test_client_max),
		cmocka_unit_test(test_client_refusals),
		cmocka_unit_test(test_reject_roundtrip),
		cmocka_unit_test(test_handle_roundtrip),
		cmocka_unit_test(test_handle_refusals),
		cmocka_unit_test(test_stop_roundtrip),
		cmocka_unit_test(test_stop_refusals),
		cmocka_unit_test(test_result_roundtrip),
		cmocka_unit_test(test_result_refusals),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_view_roundtrip),
		cmocka_unit_test(test_view_refusals),
		cmocka_unit_test(test_view_detail_limit),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_list_page_full),
		cmocka_unit_test(test_list_page_refusals),
		cmocka_unit_test(test_tool_error_roundtrip),
		cmocka_unit_test(test_spawn_roundtrip),
		cmocka_unit_test(test_spawn_refusals),
		cmocka_unit_test(test_spawn_host),
		cmocka_unit_test(test_spawn_limits),
		cmocka_unit_test(test_spawn_truncated),
		cmocka_unit_test(test_spawned_roundtrip),
		cmocka_unit_test(test_spawned_refusals),
		cmocka_unit_test(test_final_roundtrip),
		cmocka_unit_test(test_final_refusals),
		cmocka_unit_test(test_every_layout_exact),
		cmocka_unit_test(test_dstatus_name),
		cmocka_unit_test(test_chan_both_ways),
		cmocka_unit_test(test_chan_malformed),
		cmocka_unit_test(test_chan_flush),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
