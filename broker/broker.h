#ifndef DISPATCH_BROKER_H
#define DISPATCH_BROKER_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/proto.h"

/* The kept tail of one output stream; the rest is only counted. */
struct tailbuf {
	char		*buf;		/* MAX_CAPTURE_BYTES ring */
	size_t		 head;		/* next write position */
	size_t		 used;
	uint64_t	 total;
};

/* A dispatch_result long-poll waiting for its lane to end. */
struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	uint32_t		 id;
	struct event		 timer;
	struct dispatch		*d;
};

enum end_reason {
	END_EXIT = 0,		/* the lane ended by itself */
	END_TIMEOUT,		/* DISPATCH_TIMEOUT passed */
	END_SHUTDOWN,		/* the server was shutting down */
	END_SPAWN,		/* it never started */
};

struct dispatch {
	struct dispatch		*hnext;
	char			 handle[HANDLE_BYTES + 1];
	char			 orguser[MAX_NAME_BYTES + 1];
	char			 repo[MAX_NAME_BYTES + 1];
	char			 github[MAX_GITHUB_BYTES + 1];
	struct client_info	 client;
	uint32_t		 status;
	enum end_reason		 why;
	uint64_t		 requested_ms;
	uint64_t		 started_mono;
	uint64_t		 finished_ms;
	uint64_t		 duration_ms;

	pid_t			 pid;
	int			 pidfd;
	int			 in_fd;
	int			 out_fd;
	int			 err_fd;
	char			*task;		/* still to write to stdin */
	size_t			 task_len;
	size_t			 task_off;
	struct event		 ev_pid;
	struct event		 ev_in;
	struct event		 ev_out;
	struct event		 ev_err;
	struct event		 ev_timeout;	/* DISPATCH_TIMEOUT */
	struct event		 ev_kill;	/* SIGKILL after the grace */
	struct event		 ev_drain;	/* pipes after the exit */
	struct tailbuf		 out;
	struct tailbuf		 err;

	int			 exited;
	int			 reaped;
	int			 kill_pending;
	int			 final;
	int			 has_rc;
	int			 rc;
	int			 sig;
	char			*detail;
	size_t			 detail_len;
	TAILQ_HEAD(, waiter)	 waiters;
};

/* broker.c */
extern struct event_base	*broker_base;
extern const struct config	*broker_conf;
void	broker_main(const struct config *, int, pid_t) __attribute__((noreturn));
void	broker_lane_final(struct dispatch *);

/* lane.c */
int	lane_start(struct dispatch *, uint32_t);
void	lane_terminate(struct dispatch *, enum end_reason);
void	lane_view(const struct dispatch *, struct dview *, int);
void	tail_append(struct tailbuf *, const char *, size_t);
size_t	tail_detail(const struct tailbuf *, char *, size_t);

#endif
