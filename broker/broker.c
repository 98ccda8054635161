/*
 * The broker: policy, audit and lane tracking.  It owns the allowlist,
 * the audit log, the lanes and their records, and cannot exec: the
 * spawner starts lanes for it.  It trusts nothing the frontend sends:
 * each message is checked against the request table and decoded there,
 * and every argument is validated again before anything is decided.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/allowlist.h"
#include "broker/audit.h"
#include "broker/cgroup.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/history.h"
#include "broker/kmsg.h"
#include "common/chan.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/util.h"
#include "common/validate.h"

#define HASH_BUCKETS	4096

static const struct broker_start *start;
static struct event_base *base;
static struct chan	 chan;
static pid_t		 frontend_pid;
static int		 frontend_status = -1;	/* wait status once reaped */
static int		 shutting_down;
static int		 failed;		/* exit non-zero */
static int		 bye_sent;
static struct event	 ev_shutdown_grace;

static struct dispatch	**records;	/* in request order */
static size_t		  nrecords, caprecords;
static struct dispatch	 *buckets[HASH_BUCKETS];
static unsigned		  nrunning;
static unsigned		  nwaiters;

/* A request as its row's decoder left it. */
union request {
	struct req_dispatch	dispatch;
	struct req_reject	reject;
	char			handle[HANDLE_BYTES + 1];
	struct {
		char		handle[HANDLE_BYTES + 1];
		uint32_t	wait_ms;
	}			result;
	uint32_t		offset;
	struct {
		struct client_info	client;
		char			handle[HANDLE_BYTES + 1];
	}			stop;
};

static int	dec_dispatch(struct ipc_reader *, union request *);
static int	dec_reject(struct ipc_reader *, union request *);
static int	dec_handle(struct ipc_reader *, union request *);
static int	dec_result(struct ipc_reader *, union request *);
static int	dec_list(struct ipc_reader *, union request *);
static int	dec_stop(struct ipc_reader *, union request *);
static int	dec_empty(struct ipc_reader *, union request *);
static void	b_dispatch(uint32_t, union request *);
static void	b_reject(uint32_t, union request *);
static void	b_status(uint32_t, union request *);
static void	b_result(uint32_t, union request *);
static void	b_list(uint32_t, union request *);
static void	b_list_log(uint32_t, union request *);
static void	b_shutdown(uint32_t, union request *);
static void	b_cancel(uint32_t, union request *);
static void	b_stop(uint32_t, union request *);

/*
 * What the frontend may send, and when.  Every request is answered
 * while the broker winds down (a dispatch is then refused and audited),
 * but nothing may follow SHUTDOWN: the frontend sends it once, after the
 * last line it will ever read.  A type not here, a message its row's
 * decoder refuses, or one its flags do not permit is a violation.
 */
#define REQ_ONCE	0x1	/* at most once per session */
#define REQ_LAST	0x2	/* nothing may come after it */
static const struct request_row {
	uint32_t	 type;
	int		 flags;
	const char	*name;
	int		(*decode)(struct ipc_reader *, union request *);
	void		(*handler)(uint32_t, union request *);
} requests[] = {
	{ IPC_DISPATCH,	0, "DISPATCH",	dec_dispatch,	b_dispatch },
	{ IPC_REJECT,	0, "REJECT",	dec_reject,	b_reject },
	{ IPC_STATUS,	0, "STATUS",	dec_handle,	b_status },
	{ IPC_RESULT,	0, "RESULT",	dec_result,	b_result },
	{ IPC_LIST,	0, "LIST",	dec_list,	b_list },
	{ IPC_LIST_LOG,	0, "LIST_LOG",	dec_list,	b_list_log },
	{ IPC_CANCEL,	0, "CANCEL",	dec_handle,	b_cancel },
	{ IPC_STOP,	0, "STOP",	dec_stop,	b_stop },
	{ IPC_SHUTDOWN,	REQ_ONCE | REQ_LAST, "SHUTDOWN", dec_empty,
	    b_shutdown },
};
#define NREQUESTS	(sizeof requests / sizeof requests[0])
static unsigned	 seen[NREQUESTS];	/* how often each row came */
static int	 closed_by_frontend;	/* a REQ_LAST request came */

static void	broker_begin_shutdown(const char *);
static void	broker_maybe_done(void);
static void	broker_violation(const char *, const char *);

static int
dec_dispatch(struct ipc_reader *r, union request *q)
{
	memset(&q->dispatch, 0, sizeof q->dispatch);
	return (proto_get_dispatch(r, &q->dispatch));
}

static int
dec_reject(struct ipc_reader *r, union request *q)
{
	memset(&q->reject, 0, sizeof q->reject);
	return (proto_get_reject(r, &q->reject));
}

static int
dec_handle(struct ipc_reader *r, union request *q)
{
	return (proto_get_handle(r, q->handle));
}

static int
dec_result(struct ipc_reader *r, union request *q)
{
	return (proto_get_result(r, q->result.handle, &q->result.wait_ms));
}

static int
dec_list(struct ipc_reader *r, union request *q)
{
	return (proto_get_list(r, &q->offset));
}

static int
dec_stop(struct ipc_reader *r, union request *q)
{
	memset(&q->stop, 0, sizeof q->stop);
	return (proto_get_stop(r, &q->stop.client, q->stop.handle));
}

static int
dec_empty(struct ipc_reader *r, union request *q)
{
	return (proto_get_empty(r));
}

static unsigned
handle_hash(const char *h)
{
	unsigned	v = 0;
	int		i;

	/* Handles are random hex: their first digits are a fine hash. */
	for (i = 4; i < 7; i++)
		v = (v << 4) | (unsigned)(h[i] <= '9' ? h[i] - '0' :
		    h[i] - 'a' + 10);
	return (v % HASH_BUCKETS);
}

static struct dispatch *
find_dispatch(const char *handle)
{
	struct dispatch	*d;

	for (d = buckets[handle_hash(handle)]; d != NULL; d = d->hnext) {
		if (strcmp(d->handle, handle) == 0)
			return (d);
	}
	return (NULL);
}

static void
send_tool_error(uint32_t id, const char *msg)
{
	struct ipc_msg	m;

	proto_tool_error(&m, id, msg);
	chan_send(&chan, &m);
}

static void
dispatch_view(const struct dispatch *d, struct dview *v, int with_result)
{
	const struct lane	*l = &d->lane;
	int			 final = d->status != DS_RUNNING;

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
	v->has_returncode = final && l->has_rc;
	v->returncode = l->rc;
	v->signal = final ? (uint32_t)l->sig : 0;
	v->finished_ms = final ? d->finished_ms : 0;
	v->duration_ms = final ? l->duration_ms :
	    mono_ms() - l->started_mono;
	v->detail = d->detail != NULL ? d->detail : "";
	v->detail_len = d->detail != NULL ? d->detail_len : 0;
	if (!final)
		return;
	v->usage = (l->usage.has_cpu ? VIEW_CPU : 0) |
	    (l->usage.has_mem ? VIEW_MEM : 0) |
	    (l->usage.has_pids ? VIEW_PIDS : 0) |
	    (l->why == END_OOM ? VIEW_OOM : 0);
	v->cpu_usec = l->usage.cpu_usec;
	v->mem_peak = l->usage.mem_peak;
	v->pids_peak = l->usage.pids_peak;
}

static void
send_view(uint32_t id, const struct dispatch *d, int with_result)
{
	struct ipc_msg	m;
	struct dview	v;

	dispatch_view(d, &v, with_result);
	proto_view(&m, id, &v);
	chan_send(&chan, &m);
}

/* A refused dispatch: audited, then answered with the reason. */
static void
refuse(uint32_t id, const struct req_dispatch *req, const char *reason)
{
	if (audit_rejected(&req->client, reason, req, NULL, 0) == -1)
		log_warn("audit: cannot record a rejected dispatch");
	send_tool_error(id, reason);
}

/* The same checks, in the same order, as the frontend made. */
static int
check_request(const struct req_dispatch *req, struct spawn_order *o,
    const char **task, size_t *tlen, char *err, size_t errlen)
{
	const char	*org = req->orguser, *repo = req->repo;
	size_t		 olen = req->orguser_len, rlen = req->repo_len;

	*task = req->task;
	*tlen = req->task_len;
	if (check_task(task, tlen, err, errlen) == -1 ||
	    check_name("orguser", &org, &olen, err, errlen) == -1 ||
	    check_name("repo", &repo, &rlen, err, errlen) == -1)
		return (-1);
	if (start->policy->task_arg && (*task)[0] == '-') {
		snprintf(err, errlen, "task_description may not start with "
		    "'-' when the task is passed as an argument "
		    "(DISPATCH_TASK_ARG=1)");
		return (-1);
	}
	memset(o, 0, sizeof *o);
	memcpy(o->orguser, org, olen);
	memcpy(o->repo, repo, rlen);
	return (0);
}

/* The lane program file checked at start, the only one the sandbox runs. */
static dev_t	prog_dev;
static ino_t	prog_ino;

/*
 * A lane program replaced by rename (a package upgrade, an editor) is
 * another file, which Landlock does not let any lane execute: say so,
 * and what to do, instead of a lane that fails with EACCES.
 */
static int
program_pinned(char *err, size_t errlen)
{
	struct stat	st;
	char		echo[ECHO_PATH_BYTES];

	/* A program gone altogether fails its lane, as before: ENOENT. */
	if (stat(start->conf->command, &st) == -1 || (st.st_dev == prog_dev &&
	    st.st_ino == prog_ino))
		return (0);
	echo_path(echo, sizeof echo, start->conf->command);
	snprintf(err, errlen, "the lane program %s was replaced after the "
	    "server started, and only the file checked at start may run; "
	    "restart the server to run the new one", echo);
	return (-1);
}

/* Whether policy lets this target run now; the allowlist says where. */
static int
decide(struct spawn_order *o, char *err, size_t errlen)
{
	const struct allowlist	*al;
	const struct target	*t;

	if (shutting_down) {
		snprintf(err, errlen, "the server is shutting down; dispatch "
		    "refused");
		return (-1);
	}
	/* Checked at call time, so an edit applies to the next dispatch. */
	if ((al = allowlist_current(start->conf->repos_path, err,
	    errlen)) == NULL) {
		/* Landlock: the directories read are those of the start. */
		if (errno == EACCES && start->conf->sandbox) {
			size_t	n = strlen(err);

			snprintf(err + n, errlen - n, "; the broker may read "
			    "only beneath the directories the allowlist and "
			    "its symbolic link were in at start: if it now "
			    "leads elsewhere, restart the server");
		}
		return (-1);
	}
	if ((t = allowlist_resolve(al, o->orguser, o->repo, err,
	    errlen)) == NULL)
		return (-1);
	if (program_pinned(err, errlen) == -1)
		return (-1);
	strlcpy(o->github, t->github, sizeof o->github);
	strlcpy(o->host, t->host, sizeof o->host);
	if (nrunning >= start->conf->max_running) {
		snprintf(err, errlen, "busy: %u dispatches are running, the "
		    "limit set by DISPATCH_MAX_RUNNING; try again when one "
		    "has finished", nrunning);
		return (-1);
	}
	if (nrecords >= MAX_RECORDS) {
		snprintf(err, errlen, "this session already holds %d "
		    "dispatches, the most it keeps; restart the server to "
		    "start a new session", MAX_RECORDS);
		return (-1);
	}
	return (0);
}

static struct dispatch *
dispatch_new(const struct req_dispatch *req, struct spawn_order *o)
{
	struct dispatch	*d = xcalloc(1, sizeof *d);

	do {
		memcpy(d->handle, HANDLE_PREFIX, sizeof HANDLE_PREFIX - 1);
		random_hex(d->handle + sizeof HANDLE_PREFIX - 1,
		    HANDLE_HEX_DIGITS / 2);
	} while (find_dispatch(d->handle) != NULL);
	strlcpy(o->handle, d->handle, sizeof o->handle);
	strlcpy(d->orguser, o->orguser, sizeof d->orguser);
	strlcpy(d->repo, o->repo, sizeof d->repo);
	strlcpy(d->github, o->github, sizeof d->github);
	d->client = req->client;
	d->status = DS_RUNNING;
	d->requested_ms = now_ms();
	d->lane.pid = -1;
	TAILQ_INIT(&d->waiters);
	return (d);
}

static void
dispatch_keep(struct dispatch *d)
{
	unsigned	b;

	if (nrecords == caprecords) {
		caprecords = caprecords == 0 ? 64 : caprecords * 2;
		records = xreallocarray(records, caprecords,
		    sizeof(struct dispatch *));
	}
	records[nrecords++] = d;
	b = handle_hash(d->handle);
	d->hnext = buckets[b];
	buckets[b] = d;
	nrunning++;
}

static void	dispatch_final(struct dispatch *);
static void	lane_done(struct lane *, void *);

/* A lane that never started is final at once, and still audited. */
static void
spawn_failed(struct dispatch *d, int saved)
{
	char	msg[PATH_MAX + 128];

	snprintf(msg, sizeof msg, "failed to start lane %s: %s",
	    start->policy->program, strerror(saved));
	log_warnx("lane %s: %s", d->handle, msg);
	d->lane.why = END_SPAWN;
	d->detail = xstrdup(msg);
	d->detail_len = strlen(msg);
	d->status = DS_FAILED;
}

/* The policy: decide, record, start.  Nothing runs unrecorded. */
static void
b_dispatch(uint32_t id, union request *q)
{
	const struct req_dispatch	*req = &q->dispatch;
	static struct lane_cmd		 cmd;
	struct spawn_order		 o;
	struct dispatch			*d;
	const char			*task;
	size_t				 tlen;
	char				 err[MAX_REASON_BYTES];
	int				 argv_task = start->policy->task_arg;

	if (check_request(req, &o, &task, &tlen, err, sizeof err) == -1 ||
	    decide(&o, err, sizeof err) == -1) {
		refuse(id, req, err);
		return;
	}
	d = dispatch_new(req, &o);
	o.task = argv_task ? task : "";
	o.task_len = argv_task ? tlen : 0;
	lane_cmd_build(&cmd, start->policy, &o);
	if (audit_dispatch(d, &cmd, task, tlen, argv_task) == -1) {
		snprintf(err, sizeof err, "dispatch refused: the audit log "
		    "cannot be written (%s)", audit_strerror(errno));
		log_warnx("%s", err);
		free(d);
		send_tool_error(id, err);
		return;
	}
	dispatch_keep(d);
	if (lane_start(&d->lane, base, start->spawner_fd, &o,
	    argv_task ? NULL : task, tlen, start->conf->timeout_ms, lane_done,
	    d) == -1) {
		spawn_failed(d, errno);
		send_view(id, d, 0);
		dispatch_final(d);
		return;
	}
	log_info("dispatched %s to %s/%s (pid %ld)", d->handle, d->orguser,
	    d->repo, (long)d->lane.pid);
	send_view(id, d, 0);
}

static void
b_reject(uint32_t id, union request *q)
{
	const struct req_reject	*j = &q->reject;
	struct ipc_msg		 m;
	char			 reason[MAX_REASON_BYTES + 1];

	memcpy(reason, j->reason, j->reason_len);
	reason[j->reason_len] = '\0';
	if (audit_rejected(&j->client, reason, NULL, j->args,
	    j->args_len) == -1)
		log_warn("audit: cannot record a rejected dispatch");
	proto_empty(&m, IPC_ACK, id);
	chan_send(&chan, &m);
}

static void
unknown_handle(uint32_t id, const char *handle)
{
	char	msg[128];

	snprintf(msg, sizeof msg, "unknown dispatch handle '%s'", handle);
	send_tool_error(id, msg);
}

/*
 * A handle this broker holds no record of: the audit log may, from an
 * earlier server or another one sharing it.  What the log says is the
 * answer; a dispatch of another server is not waited for.
 */
static void
logged_view(uint32_t id, const char *handle, int with_result)
{
	struct ipc_msg	 m;
	struct dview	 v;
	char		*detail, err[256];

	switch (history_view(handle, with_result, &v, &detail, err,
	    sizeof err)) {
	case 0:
		unknown_handle(id, handle);
		break;
	case 1:
		proto_view(&m, id, &v);
		chan_send(&chan, &m);
		free(detail);
		break;
	default:
		log_warnx("history: %s", err);
		send_tool_error(id, err);
		break;
	}
}

static void
b_status(uint32_t id, union request *q)
{
	struct dispatch	*d;

	if ((d = find_dispatch(q->handle)) == NULL)
		logged_view(id, q->handle, 0);
	else
		send_view(id, d, 0);
}

static void
waiter_done(struct waiter *w)
{
	nwaiters--;
	evtimer_del(&w->timer);
	TAILQ_REMOVE(&w->d->waiters, w, entry);
	send_view(w->id, w->d, 1);
	free(w);
}

static void
waiter_timeout(int fd, short what, void *arg)
{
	waiter_done(arg);
}

/* Answer every long-poll on d now; waiter_done() unlinks each first. */
static void
waiters_flush(struct dispatch *d)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(&d->waiters)) != NULL)
		waiter_done(w);	/* NOLINT(clang-analyzer-unix.Malloc) */
}

/*
 * The client cancelled a long-poll: answer it now, as if its wait ran
 * out.  One that already ended is gone, and that is no error.
 */
static void
b_cancel(uint32_t id, union request *q)
{
	struct dispatch	*d;
	struct waiter	*w;

	if ((d = find_dispatch(q->handle)) == NULL)
		return;
	TAILQ_FOREACH(w, &d->waiters, entry) {
		if (w->id == id) {
			waiter_done(w);
			return;
		}
	}
}

/*
 * dispatch_cancel: end a running lane as its timeout would.  Who asked
 * is on disk before the first signal; a cancel the log cannot hold is
 * refused and the lane runs on.  A lane already ending (cancelled, timed
 * out, shut down, or exited and draining) is left to end: a repeat is
 * no error and writes nothing.  The answer is the record as it is now.
 */
/*
 * A cancel of a handle this broker holds no record of: only the server
 * that runs a lane can end it, so say what the log knows of it.
 */
static void
stop_logged(uint32_t id, const char *handle)
{
	struct dview	 v;
	char		*detail = NULL, msg[MAX_REASON_BYTES];

	switch (history_view(handle, 0, &v, &detail, msg, sizeof msg)) {
	case 0:
		unknown_handle(id, handle);
		return;
	case 1:
		free(detail);
		if (v.status != DS_RUNNING)
			snprintf(msg, sizeof msg, "dispatch %s was already "
			    "final (%s); there is nothing to cancel", handle,
			    dstatus_name(v.status));
		else
			snprintf(msg, sizeof msg, "dispatch %s runs under "
			    "another server; only that server can cancel it",
			    handle);
		break;
	default:
		log_warnx("history: %s", msg);
		break;
	}
	send_tool_error(id, msg);
}

static void
b_stop(uint32_t id, union request *q)
{
	struct dispatch	*d;
	char		 msg[MAX_REASON_BYTES];

	if ((d = find_dispatch(q->stop.handle)) == NULL) {
		stop_logged(id, q->stop.handle);
		return;
	}
	if (d->status != DS_RUNNING) {
		snprintf(msg, sizeof msg, "dispatch %s was already final "
		    "(%s); there is nothing to cancel", d->handle,
		    dstatus_name(d->status));
		send_tool_error(id, msg);
		return;
	}
	if (d->lane.state == LANE_RUNNING) {
		if (audit_cancel(d, &q->stop.client) == -1) {
			snprintf(msg, sizeof msg, "cancel refused: the audit "
			    "log cannot be written (%s); the lane runs on",
			    audit_strerror(errno));
			log_warnx("lane %s: %s", d->handle, msg);
			send_tool_error(id, msg);
			return;
		}
		log_info("lane %s cancelled by the client; terminating its "
		    "process group", d->handle);
		lane_terminate(&d->lane, END_CANCEL);
	}
	send_view(id, d, 0);
}

static void
b_result(uint32_t id, union request *q)
{
	struct dispatch	*d;
	struct waiter	*w;
	struct timeval	 tv;
	uint32_t	 wait_ms = q->result.wait_ms;

	if ((d = find_dispatch(q->result.handle)) == NULL) {
		logged_view(id, q->result.handle, 1);
		return;
	}
	if (d->status != DS_RUNNING || wait_ms == 0 || shutting_down) {
		send_view(id, d, 1);
		return;
	}
	/* Ours never has more in flight; more is a frontend gone bad. */
	if (nwaiters >= MAX_INFLIGHT + MAX_BATCH_ENTRIES) {
		broker_violation("RESULT", "too many waiting requests");
		return;
	}
	nwaiters++;
	/* The long-poll: answered when the lane ends or the wait runs out. */
	w = xcalloc(1, sizeof *w);
	w->id = id;
	w->d = d;
	TAILQ_INSERT_TAIL(&d->waiters, w, entry);
	evtimer_assign(&w->timer, base, waiter_timeout, w);
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	evtimer_add(&w->timer, &tv);
}

static void
b_list(uint32_t id, union request *q)
{
	static struct dview	v[LIST_PAGE_RECORDS];
	struct ipc_msg		m;
	uint32_t		n = 0, i;

	if (q->offset < nrecords) {
		n = (uint32_t)(nrecords - q->offset);
		if (n > LIST_PAGE_RECORDS)
			n = LIST_PAGE_RECORDS;
	}
	for (i = 0; i < n; i++)
		dispatch_view(records[q->offset + i], &v[i], 0);
	proto_list_page(&m, id, (uint32_t)nrecords, v, n);
	chan_send(&chan, &m);
}

/* The log's dispatches, newest first; ours as this broker knows them. */
static void
b_list_log(uint32_t id, union request *q)
{
	static char		h[LIST_PAGE_RECORDS][HANDLE_BYTES + 1];
	static struct dview	v[LIST_PAGE_RECORDS];
	struct dispatch		*d;
	struct ipc_msg		 m;
	char			*detail, err[256];
	uint32_t		 total, i;
	int			 n;

	if ((n = history_list(q->offset, h, LIST_PAGE_RECORDS, &total, err,
	    sizeof err)) == -1) {
		send_tool_error(id, err);
		return;
	}
	for (i = 0; i < (uint32_t)n; i++) {
		if ((d = find_dispatch(h[i])) != NULL) {
			dispatch_view(d, &v[i], 0);
			continue;
		}
		snprintf(err, sizeof err, "the audit log changed while it "
		    "was listed; list again");
		if (history_view(h[i], 0, &v[i], &detail, err,
		    sizeof err) != 1) {
			/* Listed, but its record no longer reads back. */
			send_tool_error(id, err);
			return;
		}
	}
	proto_list_page(&m, id, total, v, (uint32_t)n);
	chan_send(&chan, &m);
}

/* The log's index, built a step per turn of the loop from the start. */
static struct event	 ev_index;

static void
index_step(int fd, short what, void *arg)
{
	struct timeval	tv = { 0, 0 };

	if (!shutting_down && history_prepare() == 0)
		evtimer_add(&ev_index, &tv);
}

static void
b_shutdown(uint32_t id, union request *q)
{
	broker_begin_shutdown(NULL);
}

/* Only a final record leaves "running": its result is complete. */
static void
lane_done(struct lane *l, void *arg)
{
	struct dispatch	*d = arg;

	if (l->why == END_TIMEOUT)
		d->status = DS_TIMED_OUT;
	else if (l->why == END_CANCEL)
		d->status = DS_CANCELLED;
	else if (l->why == END_EXIT && l->has_rc && l->rc == 0)
		d->status = DS_SUCCEEDED;
	else
		d->status = DS_FAILED;
	d->detail = lane_detail(l, d->status == DS_SUCCEEDED, &d->detail_len);
	dispatch_final(d);
}

static void
dispatch_final(struct dispatch *d)
{
	const struct lane	*l = &d->lane;
	struct ipc_msg		 m;

	d->finished_ms = now_ms();
	if (audit_exit(d) == -1)
		log_warn("audit: cannot record the exit of %s", d->handle);
	lane_release(&d->lane);
	log_info("lane %s %s (%s%d)", d->handle, dstatus_name(d->status),
	    l->has_rc ? "exit " : "signal ", l->has_rc ? l->rc : l->sig);
	/* Unasked: the frontend tells a client of the tasks it made. */
	proto_final(&m, d->handle, d->status, d->finished_ms);
	chan_send(&chan, &m);
	waiters_flush(d);
	nrunning--;
	broker_maybe_done();
}

static void
broker_route(struct chan *c, struct ipc_reader *r, void *arg)
{
	union request	q;
	size_t		i;

	for (i = 0; i < NREQUESTS && requests[i].type != r->type; i++)
		;
	if (i == NREQUESTS) {
		broker_violation("frontend", "a message of unknown type");
		return;
	}
	if (closed_by_frontend) {
		broker_violation(requests[i].name, "a request after SHUTDOWN");
		return;
	}
	if ((requests[i].flags & REQ_ONCE) && seen[i] > 0) {
		broker_violation(requests[i].name, "sent twice");
		return;
	}
	if (requests[i].decode(r, &q) == -1) {
		broker_violation(requests[i].name, "malformed");
		return;
	}
	seen[i]++;
	if (requests[i].flags & REQ_LAST)
		closed_by_frontend = 1;
	requests[i].handler(r->id, &q);
}

static void
reap_spawner(void)
{
	int	status;

	if (start->spawner_pid <= 0 ||
	    waitpid(start->spawner_pid, &status, WNOHANG) != start->spawner_pid)
		return;
	if (WIFSIGNALED(status))
		log_warnx("the spawner was killed by %s; no lane can start",
		    signal_name(WTERMSIG(status)));
	else
		log_warnx("the spawner exited with status %d; no lane can "
		    "start", WEXITSTATUS(status));
	broker_begin_shutdown("the spawner is gone");
}

static void
reap_frontend(void)
{
	int	status;
	pid_t	pid;

	if (frontend_pid <= 0)
		return;
	pid = waitpid(frontend_pid, &status, WNOHANG);
	if (pid != frontend_pid)
		return;
	frontend_pid = -1;
	frontend_status = status;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		char	*call = kmsg_seccomp_culprit(pid);

		log_warnx("frontend killed by SIGSYS (a system call its "
		    "sandbox forbids%s%s; this is a bug or an attack)",
		    call != NULL ? ": " : ", which the kernel's audit record "
		    "type=1326 names", call != NULL ? call : "");
		free(call);
	} else if (WIFSIGNALED(status))
		log_warnx("frontend killed by %s",
		    signal_name(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		log_warnx("frontend exited with status %d",
		    WEXITSTATUS(status));
}

/*
 * The frontend broke the protocol: it is not ours any more.  Stop
 * listening to it at once, wind down the lanes, and exit non-zero.
 */
static void
broker_violation(const char *what, const char *why)
{
	char	msg[128];

	snprintf(msg, sizeof msg, "protocol violation: %s: %s", what, why);
	chan_close(&chan);
	if (frontend_pid > 0)
		kill(frontend_pid, SIGKILL);
	broker_begin_shutdown(msg);
}

static void
broker_chan_closed(struct chan *c, const char *why, void *arg)
{
	if (shutting_down && bye_sent)
		return;
	reap_frontend();
	broker_begin_shutdown(why);
}

static void
broker_finish(void)
{
	int	rc = 0, status, i;

	/* Give the frontend a moment to flush its answers and exit. */
	for (i = 0; i < 50 && frontend_pid > 0; i++) {
		reap_frontend();
		if (frontend_pid > 0)
			usleep(20000);
	}
	if (frontend_pid > 0) {
		kill(frontend_pid, SIGKILL);
		if (waitpid(frontend_pid, &status, 0) == frontend_pid)
			frontend_status = status;
		frontend_pid = -1;
		log_warnx("frontend did not exit; killed it");
		rc = 1;
	}
	if (failed)
		rc = 1;
	if (frontend_status != -1 && (!WIFEXITED(frontend_status) ||
	    WEXITSTATUS(frontend_status) != 0))
		rc = 1;
	audit_close();
	cg_finish();
	log_debug("broker exiting with status %d", rc);
	exit(rc);
}

static void
broker_maybe_done(void)
{
	struct ipc_msg	m;

	if (!shutting_down || nrunning > 0 || bye_sent)
		return;
	bye_sent = 1;
	proto_empty(&m, IPC_BYE, 0);
	chan_send(&chan, &m);
	chan_flush(&chan);
	broker_finish();
}

static void
shutdown_grace_done(int fd, short what, void *arg)
{
	size_t	i;

	for (i = 0; i < nrecords; i++) {
		if (records[i]->status == DS_RUNNING)
			lane_terminate(&records[i]->lane, END_SHUTDOWN);
	}
}

/*
 * Stop taking dispatches, answer every long-poll now, give running
 * lanes a grace period, then terminate their groups.  Each outcome is
 * audited as its lane ends; BYE goes out when none is left.
 */
static void
broker_begin_shutdown(const char *failure)
{
	struct timeval	tv;
	size_t		i;

	if (failure != NULL) {
		log_warnx("shutting down: %s", failure);
		failed = 1;
	}
	if (shutting_down)
		return;
	shutting_down = 1;
	log_debug("shutting down with %u lanes running", nrunning);
	for (i = 0; i < nrecords; i++)
		waiters_flush(records[i]);
	if (nrunning > 0) {
		evtimer_assign(&ev_shutdown_grace, base, shutdown_grace_done,
		    NULL);
		tv.tv_sec = SHUTDOWN_GRACE_MS / 1000;
		tv.tv_usec = (SHUTDOWN_GRACE_MS % 1000) * 1000;
		evtimer_add(&ev_shutdown_grace, &tv);
	}
	broker_maybe_done();
}

static void
broker_signal(int sig, short what, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		reap_spawner();
		reap_frontend();
		if (frontend_pid == -1 && !shutting_down)
			broker_begin_shutdown("the frontend exited");
		break;
	case SIGTERM:
	case SIGINT:
		if (shutting_down) {
			/* A second request: do not wait out the grace. */
			shutdown_grace_done(-1, 0, NULL);
			break;
		}
		log_info("received %s; shutting down", signal_name(sig));
		broker_begin_shutdown(NULL);
		break;
	case SIGHUP:
		/* logrotate: follow a renamed audit log. */
		audit_reopen();
		break;
	}
}

/* Held by the event base for the broker's life; never freed. */
static void
signal_event(int sig)
{
	struct event	*ev;

	if ((ev = evsignal_new(base, sig, broker_signal, NULL)) == NULL ||
	    evsignal_add(ev, NULL) == -1)
		fatalx("broker_main: cannot install the event for signal %d",
		    sig);
}

void
broker_main(const struct broker_start *bs)
{
	struct event_config	*cfg;
	struct stat		 st;

	start = bs;
	frontend_pid = bs->frontend_pid;
	log_init("broker", log_verbose());
	if (stat(bs->conf->command, &st) == 0) {
		prog_dev = st.st_dev;
		prog_ino = st.st_ino;
	}
	if ((cfg = event_config_new()) == NULL)
		fatalx("broker_main: event_config_new");
	/* EVENT_* variables must not choose our backend. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
	if ((base = event_base_new_with_config(cfg)) == NULL)
		fatalx("broker_main: event_base_new_with_config");
	event_config_free(cfg);
	signal_event(SIGTERM);
	signal_event(SIGINT);
	signal_event(SIGHUP);
	signal_event(SIGCHLD);
	chan_init(&chan, base, bs->frontend_fd, broker_route,
	    broker_chan_closed, NULL);
	if (bs->conf->sandbox)
		sandbox_broker(bs->paths);
	/* The frontend may have died before the SIGCHLD event existed. */
	reap_frontend();
	if (frontend_pid == -1)
		broker_begin_shutdown("the frontend exited at start");
	/* And the spawner too. */
	reap_spawner();
	evtimer_assign(&ev_index, base, index_step, NULL);
	index_step(-1, 0, NULL);
	event_base_dispatch(base);
	fatalx("broker_main: event loop ended");
}
