/*
 * A running lane: its pidfd, its pipes, its timers, and the end of its
 * life.  The lane's leader is reaped through its pidfd; while a group kill
 * is pending the zombie is kept, so the process group id it pins cannot be
 * recycled under our killpg().
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/spawn.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"

#ifndef P_PIDFD
#define P_PIDFD	3
#endif

static void	lane_try_final(struct dispatch *);

static void
tv_ms(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

void
tail_append(struct tailbuf *t, const char *p, size_t len)
{
	size_t	n;

	t->total += len;
	if (len == 0)
		return;
	if (t->buf == NULL)
		t->buf = xmalloc(MAX_CAPTURE_BYTES);
	/* Only the last MAX_CAPTURE_BYTES can survive; skip the rest. */
	if (len > MAX_CAPTURE_BYTES) {
		p += len - MAX_CAPTURE_BYTES;
		len = MAX_CAPTURE_BYTES;
	}
	while (len > 0) {
		n = MAX_CAPTURE_BYTES - t->head;
		if (n > len)
			n = len;
		memcpy(t->buf + t->head, p, n);
		t->head = (t->head + n) % MAX_CAPTURE_BYTES;
		t->used += n;
		if (t->used > MAX_CAPTURE_BYTES)
			t->used = MAX_CAPTURE_BYTES;
		p += n;
		len -= n;
	}
}

/*
 * The kept tail as valid UTF-8, stripped, at most MAX_DETAIL_BYTES.  A
 * wrapped ring may begin inside a character; those bytes are dropped
 * rather than turned into replacement characters.
 */
size_t
tail_detail(const struct tailbuf *t, char *out, size_t outlen)
{
	char		*lin, *san;
	const char	*s;
	size_t		 start, first, len, skip = 0, n;

	if (t->used == 0 || outlen == 0) {
		if (outlen > 0)
			out[0] = '\0';
		return (0);
	}
	lin = xmalloc(t->used);
	start = (t->head + MAX_CAPTURE_BYTES - t->used) % MAX_CAPTURE_BYTES;
	first = MAX_CAPTURE_BYTES - start;
	if (first > t->used)
		first = t->used;
	memcpy(lin, t->buf + start, first);
	memcpy(lin + first, t->buf, t->used - first);
	if (t->total > t->used) {
		while (skip < 3 && skip < t->used &&
		    ((unsigned char)lin[skip] & 0xc0) == 0x80)
			skip++;
	}
	san = xmalloc(t->used * 3 + 1);
	n = utf8_sanitize(san, t->used * 3 + 1, lin + skip, t->used - skip);
	free(lin);
	s = san;
	len = n;
	utf8_strip(&s, &len);
	/* Keep the end: the last lines say why a lane failed. */
	while (len > outlen - 1) {
		s++;
		len--;
		while (len > 0 && ((unsigned char)*s & 0xc0) == 0x80) {
			s++;
			len--;
		}
	}
	memcpy(out, s, len);
	out[len] = '\0';
	free(san);
	return (len);
}

static void
close_stream(struct dispatch *d, int *fdp, struct event *ev)
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
	struct dispatch	*d = arg;
	char		 buf[16384];
	ssize_t		 n;
	int		 i, is_out = (fd == d->out_fd);

	/* Bounded work per wakeup so one flooding lane cannot starve us. */
	for (i = 0; i < 8; i++) {
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (is_out)
				close_stream(d, &d->out_fd, &d->ev_out);
			else
				close_stream(d, &d->err_fd, &d->ev_err);
			lane_try_final(d);
			return;
		}
		tail_append(is_out ? &d->out : &d->err, buf, (size_t)n);
	}
}

static void
lane_write(int fd, short what, void *arg)
{
	struct dispatch	*d = arg;
	ssize_t		 n;

	while (d->task_off < d->task_len) {
		n = write(fd, d->task + d->task_off, d->task_len - d->task_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			break;		/* EPIPE: the lane did not want it */
		d->task_off += (size_t)n;
	}
	close_stream(d, &d->in_fd, &d->ev_in);
	free(d->task);
	d->task = NULL;
}

static void
lane_reap(struct dispatch *d)
{
	siginfo_t	si;

	if (d->reaped || !d->exited)
		return;
	memset(&si, 0, sizeof si);
	if (waitid((idtype_t)P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG)
	    == -1)
		log_warn("lane %s: waitid", d->handle);
	d->reaped = 1;
	event_del(&d->ev_pid);
	close(d->pidfd);
	d->pidfd = -1;
}

static void
lane_exited(int fd, short what, void *arg)
{
	struct dispatch	*d = arg;
	struct timeval	 tv;
	siginfo_t	 si;

	memset(&si, 0, sizeof si);
	/* WNOWAIT: the zombie keeps the pgid ours until we reap it. */
	if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si,
	    WEXITED | WNOHANG | WNOWAIT) == -1 || si.si_pid == 0)
		return;
	d->exited = 1;
	event_del(&d->ev_pid);
	if (si.si_code == CLD_EXITED) {
		d->has_rc = 1;
		d->rc = si.si_status;
	} else
		d->sig = si.si_status;
	d->duration_ms = mono_ms() - d->started_mono;
	if (!d->kill_pending)
		lane_reap(d);
	/* A grandchild may hold the pipes open forever; stop waiting. */
	if (d->out_fd != -1 || d->err_fd != -1) {
		tv_ms(&tv, DRAIN_GRACE_MS);
		evtimer_add(&d->ev_drain, &tv);
	}
	lane_try_final(d);
}

static void
lane_drained(int fd, short what, void *arg)
{
	struct dispatch	*d = arg;

	close_stream(d, &d->out_fd, &d->ev_out);
	close_stream(d, &d->err_fd, &d->ev_err);
	lane_try_final(d);
}

static void
lane_kill(int fd, short what, void *arg)
{
	struct dispatch	*d = arg;

	if (killpg(d->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("lane %s: killpg SIGKILL", d->handle);
	d->kill_pending = 0;
	lane_reap(d);
	lane_try_final(d);
}

void
lane_terminate(struct dispatch *d, enum end_reason why)
{
	struct timeval	tv;

	/* Once reaped, the group id is no longer ours to signal. */
	if (d->final || d->kill_pending || d->pid <= 0 || d->reaped)
		return;
	d->why = why;
	evtimer_del(&d->ev_timeout);
	d->kill_pending = 1;
	if (killpg(d->pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("lane %s: killpg SIGTERM", d->handle);
	tv_ms(&tv, KILL_GRACE_MS);
	evtimer_add(&d->ev_kill, &tv);
}

static void
lane_timeout(int fd, short what, void *arg)
{
	struct dispatch	*d = arg;

	log_info("lane %s timed out after %llu ms; terminating its process "
	    "group", d->handle, (unsigned long long)broker_conf->timeout_ms);
	lane_terminate(d, END_TIMEOUT);
}

/*
 * The detail: stdout on success; on failure stderr, or stdout when
 * stderr is empty.  A timeout or shutdown says so first, and the output
 * that follows keeps its end, where the reason usually is.
 */
static void
lane_set_detail(struct dispatch *d)
{
	const struct tailbuf	*t;
	const char		*prefix = NULL;
	char			*buf;
	size_t			 n, plen = 0;

	buf = xmalloc(MAX_DETAIL_BYTES + 1);
	if (d->why == END_TIMEOUT)
		prefix = "lane timed out; its process group was terminated";
	else if (d->why == END_SHUTDOWN)
		prefix = "lane terminated: the server is shutting down";
	t = &d->out;
	if (d->status != DS_SUCCEEDED &&
	    tail_detail(&d->err, buf, MAX_DETAIL_BYTES + 1) > 0)
		t = &d->err;
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
	/* Records are kept for the session: keep only what is used. */
	d->detail = xreallocarray(buf, n + 1, 1);
	d->detail_len = n;
}

static void
lane_try_final(struct dispatch *d)
{
	if (d->final || !d->exited || d->out_fd != -1 || d->err_fd != -1 ||
	    d->kill_pending)
		return;
	lane_reap(d);
	evtimer_del(&d->ev_timeout);
	evtimer_del(&d->ev_drain);
	close_stream(d, &d->in_fd, &d->ev_in);
	free(d->task);
	d->task = NULL;
	/* Only a final record leaves "running": its result is complete. */
	if (d->why == END_TIMEOUT)
		d->status = DS_TIMED_OUT;
	else if (d->why == END_EXIT && d->has_rc && d->rc == 0)
		d->status = DS_SUCCEEDED;
	else
		d->status = DS_FAILED;
	d->finished_ms = now_ms();
	lane_set_detail(d);
	free(d->out.buf);
	free(d->err.buf);
	d->out.buf = d->err.buf = NULL;
	d->final = 1;
	broker_lane_final(d);
}

static int
pidfd_open_compat(pid_t pid)
{
	return ((int)syscall(SYS_pidfd_open, pid, 0));
}

/*
 * Make the lane's pipes, hand its ends to the spawner with the order,
 * and keep ours.  In argv mode its stdin is our /dev/null (fd 0).
 */
int
lane_start(struct dispatch *d, uint32_t id)
{
	struct timeval	 tv;
	int		 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int		 errp[2] = { -1, -1 }, fds[3], saved;

	d->pidfd = d->in_fd = d->out_fd = d->err_fd = -1;
	evtimer_assign(&d->ev_timeout, broker_base, lane_timeout, d);
	evtimer_assign(&d->ev_kill, broker_base, lane_kill, d);
	evtimer_assign(&d->ev_drain, broker_base, lane_drained, d);

	if ((!broker_conf->task_arg && pipe2(in, O_CLOEXEC) == -1) ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		saved = errno;
		goto fail;
	}
	fds[0] = broker_conf->task_arg ? STDIN_FILENO : in[0];
	fds[1] = out[1];
	fds[2] = errp[1];
	d->started_mono = mono_ms();
	d->pid = spawner_request(id, d->handle, d->orguser, d->repo,
	    d->github, broker_conf->task_arg ? d->task : "",
	    broker_conf->task_arg ? d->task_len : 0, fds);
	saved = errno;
	if (in[0] != -1)
		close(in[0]);
	close(out[1]);
	close(errp[1]);
	in[0] = out[1] = errp[1] = -1;
	if (d->pid == -1)
		goto fail;
	d->in_fd = in[1];
	d->out_fd = out[0];
	d->err_fd = errp[0];
	/* Our own unreaped child: the pid cannot have been reused. */
	if ((d->pidfd = pidfd_open_compat(d->pid)) == -1) {
		/* Out of descriptors, say: do not leave it running untracked. */
		saved = errno;
		killpg(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		goto fail;
	}
	if (d->in_fd != -1)
		fcntl(d->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(d->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(d->err_fd, F_SETFL, O_NONBLOCK);

	event_assign(&d->ev_pid, broker_base, d->pidfd, EV_READ | EV_PERSIST,
	    lane_exited, d);
	event_assign(&d->ev_out, broker_base, d->out_fd, EV_READ | EV_PERSIST,
	    lane_read, d);
	event_assign(&d->ev_err, broker_base, d->err_fd, EV_READ | EV_PERSIST,
	    lane_read, d);
	event_add(&d->ev_pid, NULL);
	event_add(&d->ev_out, NULL);
	event_add(&d->ev_err, NULL);
	tv_ms(&tv, broker_conf->timeout_ms);
	evtimer_add(&d->ev_timeout, &tv);
	if (d->in_fd != -1) {
		event_assign(&d->ev_in, broker_base, d->in_fd,
		    EV_WRITE | EV_PERSIST, lane_write, d);
		event_add(&d->ev_in, NULL);
		lane_write(d->in_fd, EV_WRITE, d);
	} else {
		free(d->task);
		d->task = NULL;
	}
	return (0);
fail:
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	d->pid = -1;
	d->in_fd = d->out_fd = d->err_fd = -1;
	errno = saved;
	return (-1);
}

void
lane_view(const struct dispatch *d, struct dview *v, int with_result)
{
	memset(v, 0, sizeof *v);
	strlcpy(v->handle, d->handle, sizeof v->handle);
	strlcpy(v->orguser, d->orguser, sizeof v->orguser);
	strlcpy(v->repo, d->repo, sizeof v->repo);
	strlcpy(v->github, d->github, sizeof v->github);
	v->status = d->status;
	v->requested_ms = d->requested_ms;
	v->with_result = with_result;
	if (!with_result)
		return;
	v->has_returncode = d->final && d->has_rc;
	v->returncode = d->rc;
	v->signal = d->final ? (uint32_t)d->sig : 0;
	v->finished_ms = d->final ? d->finished_ms : 0;
	v->duration_ms = d->final ? d->duration_ms :
	    mono_ms() - d->started_mono;
	v->detail = d->detail != NULL ? d->detail : "";
	v->detail_len = d->detail != NULL ? d->detail_len : 0;
}
