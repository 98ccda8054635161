#ifndef DISPATCH_IMSG_H
#define DISPATCH_IMSG_H

#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Typed binary messages over a SOCK_SEQPACKET socketpair.  One datagram is
 * one message: an 8-byte header (type, request id, both u32 in host
 * order) and a payload of fields.  Integers are fixed width; a string is a
 * u32 length and that many bytes, no NUL inside and none after.  Readers
 * take fields in order and must end with m_end(), which fails if anything
 * is left over.  Every getter bounds-checks against what is left.
 */
struct mbuf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

struct mreader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	uint32_t	 type;
	uint32_t	 id;
};

void	m_init(struct mbuf *, uint32_t, uint32_t);
void	m_free(struct mbuf *);
void	m_put_u32(struct mbuf *, uint32_t);
void	m_put_u64(struct mbuf *, uint64_t);
void	m_put_str(struct mbuf *, const char *, size_t);
void	m_put_cstr(struct mbuf *, const char *);

int	m_open(struct mreader *, const void *, size_t);
int	m_get_u32(struct mreader *, uint32_t *);
int	m_get_u64(struct mreader *, uint64_t *);
/* Points into the message; fails if longer than max or holding a NUL. */
int	m_get_str(struct mreader *, const char **, size_t *, size_t);
/* Copies into a NUL-terminated buffer of the given size. */
int	m_get_strbuf(struct mreader *, char *, size_t);
int	m_end(struct mreader *);

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
typedef void (*chan_dispatch_cb)(struct chan *, struct mreader *, void *);
/* Called once when the peer is gone or broke the protocol. */
typedef void (*chan_closed_cb)(struct chan *, const char *, void *);

struct chan {
	int			 fd;
	struct event		 ev;
	TAILQ_HEAD(, qmsg)	 queue;
	size_t			 queued;
	uint8_t			*rbuf;
	chan_dispatch_cb	 dispatch;
	chan_closed_cb		 closed;
	void			*arg;
	struct event_base	*base;
	short			 events;
	int			 dead;
};

void	chan_init(struct chan *, struct event_base *, int, chan_dispatch_cb,
	    chan_closed_cb, void *);
/* Queue (or send at once) a built message; the mbuf is freed. */
void	chan_send(struct chan *, struct mbuf *);
/* Blocking flush of the queue, for shutdown paths. */
void	chan_flush(struct chan *);
void	chan_close(struct chan *);
/* Set the socket buffers so a MAX_IMSG_BYTES datagram fits. */
void	chan_setbuf(int);

#endif
