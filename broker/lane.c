/*
 * A lane's life in the broker: the order to the spawner, the pidfd, the
 * pipes, the timers, and one callback when the outcome is complete.
 *
 *   RUNNING --exit--> REAPED --pipes closed--> DONE
 *      |
 *      +--terminate--> STOPPING --exit--> STOPPING_EXITED
 *                         |                   |
 *                    grace: SIGKILL      grace: SIGKILL, reap
 *                         v                   v
 *                       KILLED --exit-->   REAPED
 *
 * With a cgroup, the terminate signals every process of it, the grace's
 * kill is cgroup.kill, and no zombie is kept (no group id to pin); a
 * leader that exits by itself has the rest of its cgroup killed at once;
 * and DONE also waits for cgroup.events to read "populated 0".
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/lane.h"
#include "broker/spawnreq.h"
#include "common/log.h"
#include "common/util.h"

#ifndef P_PIDFD
#define P_PIDFD	3
#endif

static void	lane_try_done(struct lane *);

static void
tv_ms(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

static void
close_stream(int *fdp, struct event *ev)
{
	if (*fdp == -1)
		return;
	event_del(ev);
	close(*fdp);
	*fdp = -1;
}

static void
lane_read(int fd, short what, void *arg)
{
	struct lane	*l = arg;
	char		 buf[16384];
	ssize_t		 n;
	int		 i, is_out = (fd == l->out_fd);

	/* Bounded work per wakeup so one flooding lane cannot starve us. */
	for (i = 0; i < 8; i++) {
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (is_out)
				close_stream(&l->out_fd, &l->ev_out);
			else
				close_stream(&l->err_fd, &l->ev_err);
			lane_try_done(l);
			return;
		}
		tail_append(is_out ? &l->out : &l->err, buf, (size_t)n);
	}
}

static void
lane_write(int fd, short what, void *arg)
{
	struct lane	*l = arg;
	ssize_t		 n;

	while (l->task_off < l->task_len) {
		n = write(fd, l->task + l->task_off, l->task_len - l->task_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			break;		/* EPIPE: the lane did not want it */
		l->task_off += (size_t)n;
	}
	close_stream(&l->in_fd, &l->ev_in);
	free(l->task);
	l->task = NULL;
}

/* Take the leader's status; with WNOWAIT its zombie stays. */
static int
lane_wait(struct lane *l, int flags)
{
	siginfo_t	si;

	memset(&si, 0, sizeof si);
	if (waitid((idtype_t)P_PIDFD, (id_t)l->pidfd, &si,
	    WEXITED | WNOHANG | flags) == -1 || si.si_pid == 0)
		return (-1);
	l->duration_ms = mono_ms() - l->started_mono;
	l->has_rc = si.si_code == CLD_EXITED;
	l->rc = l->has_rc ? si.si_status : 0;
	l->sig = l->has_rc ? 0 : si.si_status;
	return (0);
}

/* Reap a zombie whose status lane_wait() took already. */
static void
reap(struct lane *l)
{
	siginfo_t	si;

	if (waitid((idtype_t)P_PIDFD, (id_t)l->pidfd, &si, WEXITED |
	    WNOHANG) == -1)
		log_warn("lane %s: waitid", l->name);
}

/* The leader is gone for good: its group id is no longer ours. */
static void
lane_reaped(struct lane *l)
{
	struct timeval	tv;

	event_del(&l->ev_pid);
	close(l->pidfd);
	l->pidfd = -1;
	l->state = LANE_REAPED;
	/* What the leader leaves behind ends with it (a terminate's
	 * grace still runs, and its kill comes when the grace ends). */
	if (l->cg_dir != -1 && !evtimer_pending(&l->ev_kill, NULL) &&
	    cg_populated(l->cg_ev) == 1 && cg_lane_kill(l->cg_dir) == -1)
		log_warn("lane %s: cgroup.kill", l->name);
	/* A grandchild may hold the pipes open forever; stop waiting. */
	if (l->out_fd != -1 || l->err_fd != -1) {
		tv_ms(&tv, DRAIN_GRACE_MS);
		evtimer_add(&l->ev_drain, &tv);
	}
	lane_try_done(l);
}

static void
lane_exited(int fd, short what, void *arg)
{
	struct lane	*l = arg;

	switch (l->state) {
	case LANE_RUNNING:
	case LANE_KILLED:
		if (lane_wait(l, 0) == 0)
			lane_reaped(l);
		break;
	case LANE_STOPPING:
		if (l->cg_dir != -1) {
			if (lane_wait(l, 0) == 0)
				lane_reaped(l);
			break;
		}
		/* Keep the zombie: it pins the pgid until the SIGKILL. */
		if (lane_wait(l, WNOWAIT) == 0) {
			event_del(&l->ev_pid);
			l->state = LANE_STOPPING_EXITED;
		}
		break;
	default:
		fatalx("lane_exited: lane %s in state %d", l->name, l->state);
	}
}

static void
lane_drained(int fd, short what, void *arg)
{
	struct lane	*l = arg;

	close_stream(&l->out_fd, &l->ev_out);
	close_stream(&l->err_fd, &l->ev_err);
	lane_try_done(l);
}

static void
lane_kill(int fd, short what, void *arg)
{
	struct lane	*l = arg;
	int		 exited = l->state == LANE_STOPPING_EXITED;

	if (l->cg_dir != -1) {
		if (cg_lane_kill(l->cg_dir) == -1)
			log_warn("lane %s: cgroup.kill", l->name);
		if (l->state == LANE_STOPPING)
			l->state = LANE_KILLED;
		return;
	}
	if (killpg(l->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("lane %s: killpg SIGKILL", l->name);
	l->state = LANE_KILLED;
	/* A zombie kept for the kill is reaped now; else its exit is. */
	if (exited) {
		reap(l);
		lane_reaped(l);
	}
}

void
lane_terminate(struct lane *l, enum lane_end why)
{
	struct timeval	tv;

	/* Once reaped, the group id is no longer ours to signal. */
	if (l->state != LANE_RUNNING)
		return;
	l->why = why;
	l->state = LANE_STOPPING;
	evtimer_del(&l->ev_timeout);
	if (l->cg_dir != -1)
		cg_lane_signal(l->cg_dir, SIGTERM);
	else if (killpg(l->pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("lane %s: killpg SIGTERM", l->name);
	tv_ms(&tv, KILL_GRACE_MS);
	evtimer_add(&l->ev_kill, &tv);
}

static void
lane_timeout(int fd, short what, void *arg)
{
	struct lane	*l = arg;

	log_info("lane %s timed out after %llu ms; terminating its %s",
	    l->name, (unsigned long long)l->timeout_ms, l->cg_dir != -1 ?
	    "cgroup" : "process group");
	lane_terminate(l, END_TIMEOUT);
}

/* cgroup.events changed (edge-triggered: it always reads as ready). */
static void
lane_cg_event(int fd, short what, void *arg)
{
	lane_try_done(arg);
}

static void
lane_try_done(struct lane *l)
{
	if (l->state != LANE_REAPED || l->out_fd != -1 || l->err_fd != -1)
		return;
	/* Nothing of the lane may be left when its exit is recorded. */
	if (l->cg_dir != -1) {
		if (cg_populated(l->cg_ev) == 1)
			return;
		event_del(&l->ev_cg);
		cg_lane_measure(l->cg_dir, &l->usage);
		if (l->usage.oom && l->why == END_EXIT)
			l->why = END_OOM;
	}
	evtimer_del(&l->ev_timeout);
	evtimer_del(&l->ev_kill);
	evtimer_del(&l->ev_drain);
	close_stream(&l->in_fd, &l->ev_in);
	free(l->task);
	l->task = NULL;
	l->state = LANE_DONE;
	l->done(l, l->arg);
}

static int
pidfd_open_compat(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* Make the pipes, hand the lane's ends over with the order, keep ours. */
static int
lane_spawn(struct lane *l, int spawner_fd, const struct spawn_order *o,
    int with_stdin)
{
	int	in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int	fds[4], saved, nfds = 3;

	fds[3] = -1;
	if (cg_active()) {
		if (cg_lane_create(l->name, &l->cg_dir, &l->cg_ev) == -1) {
			log_warn("lane %s: cannot create its cgroup", l->name);
			return (-1);
		}
		fds[3] = l->cg_dir;
		nfds = 4;
	}
	if ((with_stdin && pipe2(in, O_CLOEXEC) == -1) ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1) {
		saved = errno;
		goto fail;
	}
	fds[0] = with_stdin ? in[0] : STDIN_FILENO;
	fds[1] = out[1];
	fds[2] = err[1];
	l->pid = spawnreq_send(spawner_fd, o, fds, (size_t)nfds);
	saved = errno;
	if (l->pid == -1)
		goto fail;
	close(out[1]);
	close(err[1]);
	if (in[0] != -1)
		close(in[0]);
	l->in_fd = in[1];
	l->out_fd = out[0];
	l->err_fd = err[0];
	return (0);
fail:
	close_pair(in);
	close_pair(out);
	close_pair(err);
	lane_release(l);
	errno = saved;
	return (-1);
}

static void
lane_watch(struct lane *l, struct event *ev, int fd, short what,
    event_callback_fn cb)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	event_assign(ev, l->base, fd, (short)(what | EV_PERSIST), cb, l);
	event_add(ev, NULL);
}

int
lane_start(struct lane *l, struct event_base *base, int spawner_fd,
    const struct spawn_order *o, const char *task, size_t task_len,
    uint64_t timeout_ms, lane_done_cb done, void *arg)
{
	struct timeval	tv;
	int		saved;

	memset(l, 0, sizeof *l);
	l->state = LANE_RUNNING;
	strlcpy(l->name, o->handle, sizeof l->name);
	l->pid = -1;
	l->pidfd = l->in_fd = l->out_fd = l->err_fd = -1;
	l->cg_dir = l->cg_ev = -1;
	l->base = base;
	l->timeout_ms = timeout_ms;
	l->done = done;
	l->arg = arg;
	evtimer_assign(&l->ev_timeout, base, lane_timeout, l);
	evtimer_assign(&l->ev_kill, base, lane_kill, l);
	evtimer_assign(&l->ev_drain, base, lane_drained, l);
	l->started_mono = mono_ms();
	if (lane_spawn(l, spawner_fd, o, task != NULL) == -1)
		return (-1);
	/* Our own unreaped child: the pid cannot have been reused. */
	if ((l->pidfd = pidfd_open_compat(l->pid)) == -1) {
		/* Out of descriptors, say: do not leave it running untracked. */
		saved = errno;
		if (l->cg_dir != -1)
			cg_lane_kill(l->cg_dir);
		killpg(l->pid, SIGKILL);
		waitpid(l->pid, NULL, 0);
		lane_release(l);
		close(l->out_fd);
		close(l->err_fd);
		if (l->in_fd != -1)
			close(l->in_fd);
		l->pid = -1;
		errno = saved;
		return (-1);
	}
	event_assign(&l->ev_pid, base, l->pidfd, EV_READ | EV_PERSIST,
	    lane_exited, l);
	event_add(&l->ev_pid, NULL);
	if (l->cg_ev != -1) {
		event_assign(&l->ev_cg, base, l->cg_ev, EV_READ | EV_ET |
		    EV_PERSIST, lane_cg_event, l);
		event_add(&l->ev_cg, NULL);
	}
	lane_watch(l, &l->ev_out, l->out_fd, EV_READ, lane_read);
	lane_watch(l, &l->ev_err, l->err_fd, EV_READ, lane_read);
	tv_ms(&tv, timeout_ms);
	evtimer_add(&l->ev_timeout, &tv);
	if (task != NULL && l->in_fd != -1) {
		l->task = xmalloc(task_len > 0 ? task_len : 1);
		memcpy(l->task, task, task_len);
		l->task_len = task_len;
		lane_watch(l, &l->ev_in, l->in_fd, EV_WRITE, lane_write);
		lane_write(l->in_fd, EV_WRITE, l);
	}
	return (0);
}

/*
 * The detail: stdout on success; on failure stderr, or stdout when
 * stderr is empty.  A timeout or shutdown says so first, and the output
 * that follows keeps its end, where the reason usually is.
 */
char *
lane_detail(struct lane *l, int succeeded, size_t *lenp)
{
	const struct tailbuf	*t;
	const char		*prefix = NULL;
	char			*buf;
	size_t			 n, plen = 0;

	buf = xmalloc(MAX_DETAIL_BYTES + 1);
	if (l->why == END_TIMEOUT)
		prefix = l->cg_dir != -1 ? "lane timed out; its cgroup was "
		    "terminated" : "lane timed out; its process group was "
		    "terminated";
	else if (l->why == END_OOM)
		prefix = "lane killed: over its memory limit "
		    "(DISPATCH_LANE_MEMORY_MAX)";
	else if (l->why == END_SHUTDOWN)
		prefix = "lane terminated: the server is shutting down";
	else if (l->why == END_CANCEL)
		prefix = l->cg_dir != -1 ? "lane cancelled; its cgroup was "
		    "terminated" : "lane cancelled; its process group was "
		    "terminated";
	t = &l->out;
	if (!succeeded && tail_detail(&l->err, buf, MAX_DETAIL_BYTES + 1) > 0)
		t = &l->err;
	if (prefix != NULL) {
		plen = strlen(prefix);
		memcpy(buf, prefix, plen);
		n = tail_detail(t, buf + plen + 16, MAX_DETAIL_BYTES + 1 -
		    plen - 16);
		if (n > 0) {
			memcpy(buf + plen, "; last output:\n", 15);
			memmove(buf + plen + 15, buf + plen + 16, n + 1);
			n += plen + 15;
		} else {
			buf[plen] = '\0';
			n = plen;
		}
	} else
		n = tail_detail(t, buf, MAX_DETAIL_BYTES + 1);
	free(l->out.buf);
	free(l->err.buf);
	l->out.buf = l->err.buf = NULL;
	/* Records are kept for the session: keep only what is used. */
	*lenp = n;
	return (xreallocarray(buf, n + 1, 1));
}

/* After the exit record: the lane's cgroup, empty, goes. */
void
lane_release(struct lane *l)
{
	if (l->cg_dir == -1)
		return;
	if (l->cg_ev != -1)
		close(l->cg_ev);
	close(l->cg_dir);
	l->cg_dir = l->cg_ev = -1;
	if (cg_lane_remove(l->name) == -1)
		log_warn("lane %s: cannot remove its cgroup", l->name);
}
