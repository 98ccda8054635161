/* The IPC codec and channel shared by frontend and broker. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "limits.h"
#include "log.h"
#include "util.h"

#define HDR_BYTES	8

void
m_init(struct mbuf *m, uint32_t type, uint32_t id)
{
	m->cap = 256;
	m->data = xmalloc(m->cap);
	m->len = 0;
	m_put_u32(m, type);
	m_put_u32(m, id);
}

void
m_free(struct mbuf *m)
{
	free(m->data);
	m->data = NULL;
	m->len = m->cap = 0;
}

static void
m_reserve(struct mbuf *m, size_t n)
{
	/* Our own messages are bounded by construction; this is a bug. */
	if (n > MAX_IMSG_BYTES - m->len)
		fatalx("m_reserve: message would exceed %u bytes",
		    MAX_IMSG_BYTES);
	while (m->len + n > m->cap) {
		m->cap *= 2;
		m->data = xreallocarray(m->data, m->cap, 1);
	}
}

void
m_put_u32(struct mbuf *m, uint32_t v)
{
	m_reserve(m, sizeof v);
	memcpy(m->data + m->len, &v, sizeof v);
	m->len += sizeof v;
}

void
m_put_u64(struct mbuf *m, uint64_t v)
{
	m_reserve(m, sizeof v);
	memcpy(m->data + m->len, &v, sizeof v);
	m->len += sizeof v;
}

void
m_put_str(struct mbuf *m, const char *s, size_t len)
{
	if (len > UINT32_MAX)
		fatalx("m_put_str: string of %zu bytes", len);
	m_put_u32(m, (uint32_t)len);
	m_reserve(m, len);
	if (len > 0)
		memcpy(m->data + m->len, s, len);
	m->len += len;
}

void
m_put_cstr(struct mbuf *m, const char *s)
{
	m_put_str(m, s, strlen(s));
}

int
m_open(struct mreader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	if (m_get_u32(r, &r->type) == -1 || m_get_u32(r, &r->id) == -1)
		return (-1);
	return (0);
}

int
m_get_u32(struct mreader *r, uint32_t *v)
{
	if (r->len - r->off < sizeof *v)
		return (-1);
	memcpy(v, r->p + r->off, sizeof *v);
	r->off += sizeof *v;
	return (0);
}

int
m_get_u64(struct mreader *r, uint64_t *v)
{
	if (r->len - r->off < sizeof *v)
		return (-1);
	memcpy(v, r->p + r->off, sizeof *v);
	r->off += sizeof *v;
	return (0);
}

int
m_get_str(struct mreader *r, const char **s, size_t *len, size_t max)
{
	uint32_t	n;

	if (m_get_u32(r, &n) == -1)
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
m_get_strbuf(struct mreader *r, char *buf, size_t size)
{
	const char	*s;
	size_t		 len;

	if (size == 0 || m_get_str(r, &s, &len, size - 1) == -1)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (0);
}

int
m_end(struct mreader *r)
{
	return (r->off == r->len ? 0 : -1);
}

static void
chan_fail(struct chan *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	event_del(&c->ev);
	c->closed(c, why, c->arg);
}

static void	chan_event(int, short, void *);

static void
chan_update(struct chan *c)
{
	short	what = EV_READ | EV_PERSIST;

	if (c->dead)
		return;
	if (!TAILQ_EMPTY(&c->queue))
		what |= EV_WRITE;
	if (c->events == what)
		return;
	c->events = what;
	event_del(&c->ev);
	event_assign(&c->ev, c->base, c->fd, what, chan_event, c);
	if (event_add(&c->ev, NULL) == -1)
		fatal("chan_update: event_add");
}

static int
chan_write_queue(struct chan *c)
{
	struct qmsg	*q;
	ssize_t		 n;

	while ((q = TAILQ_FIRST(&c->queue)) != NULL) {
		/* Each sent message is unlinked before it is freed. */
		n = send(c->fd, q->data, q->len,	/* NOLINT */
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ENOBUFS)
				return (0);
			return (-1);
		}
		TAILQ_REMOVE(&c->queue, q, entry);
		c->queued -= q->len;
		free(q);
	}
	return (0);
}

static void
chan_event(int fd, short what, void *arg)
{
	struct chan	*c = arg;
	struct mreader	 r;
	ssize_t		 n;
	int		 i;

	if (what & EV_WRITE) {
		if (chan_write_queue(c) == -1) {
			chan_fail(c, "write to peer failed");
			return;
		}
	}
	/* A bounded number of messages per wakeup keeps the loop fair. */
	for (i = 0; (what & EV_READ) && i < 64 && !c->dead; i++) {
		n = recv(fd, c->rbuf, MAX_IMSG_BYTES + 1,
		    MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			chan_fail(c, "read from peer failed");
			return;
		}
		if (n == 0) {
			chan_fail(c, "peer closed the channel");
			return;
		}
		if ((size_t)n > MAX_IMSG_BYTES || m_open(&r, c->rbuf,
		    (size_t)n) == -1) {
			chan_fail(c, "peer sent a malformed message");
			return;
		}
		c->dispatch(c, &r, c->arg);
	}
	chan_update(c);
}

void
chan_setbuf(int fd)
{
	int	size = (int)(MAX_IMSG_BYTES * 2);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
		fatal("chan_setbuf: setsockopt");
}

void
chan_init(struct chan *c, struct event_base *base, int fd,
    chan_dispatch_cb dispatch, chan_closed_cb closed, void *arg)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->dispatch = dispatch;
	c->closed = closed;
	c->arg = arg;
	c->rbuf = xmalloc(MAX_IMSG_BYTES + 1);
	c->base = base;
	c->events = EV_READ | EV_PERSIST;
	TAILQ_INIT(&c->queue);
	event_assign(&c->ev, base, fd, EV_READ | EV_PERSIST, chan_event, c);
	if (event_add(&c->ev, NULL) == -1)
		fatal("chan_init: event_add");
}

void
chan_send(struct chan *c, struct mbuf *m)
{
	struct qmsg	*q;

	if (c->dead) {
		m_free(m);
		return;
	}
	q = xmalloc(sizeof *q + m->len);
	q->len = m->len;
	memcpy(q->data, m->data, m->len);
	m_free(m);
	TAILQ_INSERT_TAIL(&c->queue, q, entry);
	c->queued += q->len;
	/* A peer that asks and never reads must not make us grow. */
	if (c->queued > MAX_CHAN_QUEUE_BYTES) {
		chan_fail(c, "peer does not read its answers");
		return;
	}
	if (chan_write_queue(c) == -1) {
		chan_fail(c, "write to peer failed");
		return;
	}
	chan_update(c);
}

void
chan_flush(struct chan *c)
{
	struct pollfd	pfd;

	while (!c->dead && !TAILQ_EMPTY(&c->queue)) {
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0)
			return;
		if (chan_write_queue(c) == -1)
			return;
	}
}

void
chan_close(struct chan *c)
{
	struct qmsg	*q;

	if (!c->dead)
		event_del(&c->ev);
	c->dead = 1;
	while ((q = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, q, entry);
		free(q);
	}
	c->queued = 0;
	free(c->rbuf);
	c->rbuf = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
