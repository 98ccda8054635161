#ifndef DISPATCH_LANE_H
#define DISPATCH_LANE_H

#include <sys/types.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/cgroup.h"
#include "common/proto.h"

/*
 * A running lane: its pidfd, its pipes, its timers and the end of its
 * life, as tmux's job_run() keeps a job.  The owner gets one callback
 * when the lane is done: exited, reaped, both pipes closed, and no kill
 * pending.  The leader is reaped through its pidfd; while a group kill
 * is pending its zombie is kept, so the process group id it pins cannot
 * be recycled under our killpg().
 */

/* The kept tail of one output stream; the rest is only counted. */
struct tailbuf {
	char		*buf;		/* MAX_CAPTURE_BYTES ring */
	size_t		 head;		/* next write position */
	size_t		 used;
	uint64_t	 total;
};

enum lane_state {
	LANE_RUNNING,		/* the leader has not exited */
	LANE_STOPPING,		/* SIGTERM sent to the group, SIGKILL due */
	LANE_STOPPING_EXITED,	/* ... and the leader is a zombie we keep */
	LANE_KILLED,		/* SIGKILL sent; the leader has not exited */
	LANE_REAPED,		/* leader reaped; waiting for the pipes */
	LANE_DONE,		/* the outcome is complete */
};

enum lane_end {
	END_EXIT = 0,		/* the lane ended by itself */
	END_TIMEOUT,		/* its timeout passed */
	END_SHUTDOWN,		/* the server was shutting down */
	END_SPAWN,		/* it never started */
	END_CANCEL,		/* dispatch_cancel asked for its end */
	END_OOM,		/* its cgroup's memory limit killed it */
	END_ORPHANED,		/* its server died; closed at the next start */
};

struct lane;
typedef void (*lane_done_cb)(struct lane *, void *);

struct lane {
	enum lane_state		 state;
	enum lane_end		 why;
	char			 name[HANDLE_BYTES + 1];	/* for logs */
	pid_t			 pid;
	int			 pidfd;
	int			 in_fd;
	int			 out_fd;
	int			 err_fd;
	char			*task;		/* still to write to stdin */
	size_t			 task_len;
	size_t			 task_off;
	struct event_base	*base;
	struct event		 ev_pid;
	struct event		 ev_in;
	struct event		 ev_out;
	struct event		 ev_err;
	struct event		 ev_timeout;
	struct event		 ev_kill;	/* SIGKILL after the grace */
	struct event		 ev_drain;	/* pipes after the exit */
	/* Its cgroup, when lanes have one (else -1): dir, cgroup.events. */
	int			 cg_dir;
	int			 cg_ev;
	int			 cg_empty;	/* cgroup.events: populated 0 */
	struct event		 ev_cg;
	struct cg_usage		 usage;
	struct tailbuf		 out;
	struct tailbuf		 err;
	uint64_t		 timeout_ms;
	uint64_t		 started_mono;
	uint64_t		 duration_ms;
	/* The leader's end: an exit status, or a signal. */
	int			 has_rc;
	int			 rc;
	int			 sig;
	lane_done_cb		 done;
	void			*arg;
};

/*
 * Have the spawner on the given socket run the order.  A non-NULL task
 * is written to the lane's stdin; otherwise stdin is our own /dev/null.
 * Returns -1 with errno when nothing runs.
 */
int	lane_start(struct lane *, struct event_base *, int,
	    const struct spawn_order *, const char *, size_t, uint64_t,
	    lane_done_cb, void *);
void	lane_terminate(struct lane *, enum lane_end);
/* Once its exit is recorded: the lane's cgroup is removed. */
void	lane_release(struct lane *);
/* The detail a result shows, built from the tails; they are freed. */
char	*lane_detail(struct lane *, int, size_t *);

void	tail_append(struct tailbuf *, const char *, size_t);
size_t	tail_detail(const struct tailbuf *, char *, size_t);

#endif
