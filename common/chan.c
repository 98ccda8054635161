/*
 * A channel: one socketpair end, its event and its output queue, as the
 * frontend and the broker use it.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "chan.h"
#include "log.h"
#include "util.h"

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
	struct ipc_reader	 r;
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
		n = recv(fd, c->rbuf, MAX_IPC_BYTES + 1,
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
		if ((size_t)n > MAX_IPC_BYTES || ipc_open(&r, c->rbuf,
		    (size_t)n) == -1) {
			chan_fail(c, "peer sent a malformed message");
			return;
		}
		c->on_msg(c, &r, c->arg);
	}
	chan_update(c);
}

void
chan_init(struct chan *c, struct event_base *base, int fd,
    chan_msg_cb on_msg, chan_closed_cb closed, void *arg)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->on_msg = on_msg;
	c->closed = closed;
	c->arg = arg;
	c->rbuf = xmalloc(MAX_IPC_BYTES + 1);
	c->base = base;
	c->events = EV_READ | EV_PERSIST;
	TAILQ_INIT(&c->queue);
	event_assign(&c->ev, base, fd, EV_READ | EV_PERSIST, chan_event, c);
	if (event_add(&c->ev, NULL) == -1)
		fatal("chan_init: event_add");
}

void
chan_send(struct chan *c, struct ipc_msg *m)
{
	struct qmsg	*q;

	if (c->dead) {
		ipc_free(m);
		return;
	}
	q = xmalloc(sizeof *q + m->len);
	q->len = m->len;
	memcpy(q->data, m->data, m->len);
	ipc_free(m);
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
