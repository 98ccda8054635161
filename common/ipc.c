/* The IPC codec: typed fields in one SOCK_SEQPACKET datagram. */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "bounds.h"
#include "log.h"
#include "util.h"

#define HDR_BYTES	8

void
ipc_init(struct ipc_msg *m, uint32_t type, uint32_t id)
{
	m->cap = 256;
	m->data = xmalloc(m->cap);
	m->len = 0;
	ipc_put_u32(m, type);
	ipc_put_u32(m, id);
}

void
ipc_free(struct ipc_msg *m)
{
	free(m->data);
	m->data = NULL;
	m->len = m->cap = 0;
}

static void
ipc_reserve(struct ipc_msg *m, size_t n)
{
	/* Our own messages are bounded by construction; this is a bug. */
	if (n > MAX_IPC_BYTES - m->len)
		fatalx("ipc_reserve: message would exceed %u bytes",
		    MAX_IPC_BYTES);
	while (m->len + n > m->cap) {
		m->cap *= 2;
		m->data = xreallocarray(m->data, m->cap, 1);
	}
}

void
ipc_put_u32(struct ipc_msg *m, uint32_t v)
{
	ipc_reserve(m, sizeof v);
	memcpy(m->data + m->len, &v, sizeof v);
	m->len += sizeof v;
}

void
ipc_put_u64(struct ipc_msg *m, uint64_t v)
{
	ipc_reserve(m, sizeof v);
	memcpy(m->data + m->len, &v, sizeof v);
	m->len += sizeof v;
}

void
ipc_put_str(struct ipc_msg *m, const char *s, size_t len)
{
	if (len > UINT32_MAX)
		fatalx("ipc_put_str: string of %zu bytes", len);
	ipc_put_u32(m, (uint32_t)len);
	ipc_reserve(m, len);
	if (len > 0)
		memcpy(m->data + m->len, s, len);
	m->len += len;
}

void
ipc_put_cstr(struct ipc_msg *m, const char *s)
{
	ipc_put_str(m, s, strlen(s));
}

int
ipc_open(struct ipc_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	if (ipc_get_u32(r, &r->type) == -1 || ipc_get_u32(r, &r->id) == -1)
		return (-1);
	return (0);
}

/* A fixed-width integer, if that many bytes are left. */
static int
get_fixed(struct ipc_reader *r, void *v, size_t n)
{
	if (r->len - r->off < n)
		return (-1);
	memcpy(v, r->p + r->off, n);
	r->off += n;
	return (0);
}

int
ipc_get_u32(struct ipc_reader *r, uint32_t *v)
{
	return (get_fixed(r, v, sizeof *v));
}

int
ipc_get_u64(struct ipc_reader *r, uint64_t *v)
{
	return (get_fixed(r, v, sizeof *v));
}

int
ipc_get_str(struct ipc_reader *r, const char **s, size_t *len, size_t max)
{
	uint32_t	n;

	if (ipc_get_u32(r, &n) == -1)
		return (-1);
	/* Check the length against what is left before using it. */
	if (n > max || n > r->len - r->off)
		return (-1);
	if (memchr(r->p + r->off, '\0', n) != NULL)
		return (-1);
	*s = (const char *)(r->p + r->off);
	*len = n;
	r->off += n;
	return (0);
}

int
ipc_get_strbuf(struct ipc_reader *r, char *buf, size_t size)
{
	const char	*s;
	size_t		 len;

	if (size == 0 || ipc_get_str(r, &s, &len, size - 1) == -1)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (0);
}

int
ipc_end(struct ipc_reader *r)
{
	return (r->off == r->len ? 0 : -1);
}

/* Socket buffers that hold two datagrams of the largest size. */
void
ipc_setbuf(int fd)
{
	int	size = (int)(MAX_IPC_BYTES * 2);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
		fatal("ipc_setbuf: setsockopt");
}
