#ifndef DISPATCH_CHAN_H
#define DISPATCH_CHAN_H

#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

/*
 * A channel: the socket, an event that always watches EV_READ and adds
 * EV_WRITE only while messages are queued, and the queue.
 */
struct qmsg {
	TAILQ_ENTRY(qmsg)	 entry;
	size_t			 len;
	uint8_t			 data[];
};

struct chan;
typedef void (*chan_msg_cb)(struct chan *, struct ipc_reader *, void *);
/* Called once when the peer is gone or broke the protocol. */
typedef void (*chan_closed_cb)(struct chan *, const char *, void *);

struct chan {
	int			 fd;
	struct event		 ev;
	TAILQ_HEAD(, qmsg)	 queue;
	size_t			 queued;
	uint8_t			*rbuf;
	chan_msg_cb	 on_msg;
	chan_closed_cb		 closed;
	void			*arg;
	struct event_base	*base;
	short			 events;
	int			 dead;
};

void	chan_init(struct chan *, struct event_base *, int, chan_msg_cb,
	    chan_closed_cb, void *);
/* Queue (or send at once) a built message; the message is freed. */
void	chan_send(struct chan *, struct ipc_msg *);
/* Blocking flush of the queue, for shutdown paths. */
void	chan_flush(struct chan *);
void	chan_close(struct chan *);

#endif
