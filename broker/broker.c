/*
 * The broker: the only process that may exec.  It owns the allowlist, the
 * audit log, the lanes and their records.  It trusts nothing the frontend
 * sends: every message is decoded with bounds-checked getters, checked
 * against the request table, and every argument is validated again.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/allowlist.h"
#include "broker/audit.h"
#include "broker/broker.h"
#include "broker/kmsg.h"
#include "broker/spawn.h"
#include "common/chan.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"

#define HASH_BUCKETS	4096

struct event_base	*broker_base;
const struct config	*broker_conf;

static struct chan	 chan;
static pid_t		 frontend_pid;
static int		 frontend_status = -1;	/* wait status once reaped */
static int		 shutting_down;
static int		 failed;		/* exit non-zero */
static int		 bye_sent;
static struct event	 ev_shutdown_grace;
static struct event	*ev_sigterm, *ev_sigint, *ev_sigchld, *ev_sighup;

static struct dispatch	**records;	/* in request order */
static size_t		  nrecords, caprecords;
static struct dispatch	 *buckets[HASH_BUCKETS];
static unsigned		  nrunning;
static unsigned		  nwaiters;

static void	b_dispatch(struct ipc_reader *);
static void	b_reject(struct ipc_reader *);
static void	b_status(struct ipc_reader *);
static void	b_result(struct ipc_reader *);
static void	b_list(struct ipc_reader *);
static void	b_shutdown(struct ipc_reader *);
static void	b_cancel(struct ipc_reader *);

/*
 * What the frontend may ask, and when.  Anything else, or a message that
 * fails to decode, means the frontend is not behaving as ours would: we
 * stop listening to it.  REQ_SHUTDOWN_OK marks requests still answered
 * while winding down (a dispatch is then refused and audited); SHUTDOWN
 * may come only once, though a signal may have begun the shutdown.
 */
#define REQ_SHUTDOWN_OK	0x1
static const struct {
	uint32_t	 type;
	int		 flags;
	void		(*handler)(struct ipc_reader *);
} requests[] = {
	{ IPC_DISPATCH, REQ_SHUTDOWN_OK, b_dispatch },
	{ IPC_REJECT, REQ_SHUTDOWN_OK, b_reject },
	{ IPC_STATUS, REQ_SHUTDOWN_OK, b_status },
	{ IPC_RESULT, REQ_SHUTDOWN_OK, b_result },
	{ IPC_LIST, REQ_SHUTDOWN_OK, b_list },
	{ IPC_SHUTDOWN, REQ_SHUTDOWN_OK, b_shutdown },
	{ IPC_CANCEL, REQ_SHUTDOWN_OK, b_cancel },
};

static void	broker_begin_shutdown(const char *);
static void	broker_maybe_done(void);
static void	broker_violation(const char *);

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
send_view(uint32_t id, const struct dispatch *d, int with_result)
{
	struct ipc_msg	m;
	struct dview	v;

	lane_view(d, &v, with_result);
	ipc_init(&m, IPC_VIEW, id);
	proto_put_view(&m, &v);
	chan_send(&chan, &m);
}

static struct json_object *
jstr(const char *s, size_t len)
{
	char	*buf = xmalloc(len * 3 + 1);
	size_t	 n;
	struct json_object *o;

	/* Audit strings are valid UTF-8 whatever the peer sent. */
	n = utf8_sanitize(buf, len * 3 + 1, s, len);
	o = json_object_new_string_len(buf, (int)n);
	free(buf);
	return (o);
}

/* A refused dispatch: audited, then answered with the reason. */
static void
refuse(uint32_t id, const struct client_info *ci, const char *reason,
    const struct req_dispatch *req, const char *rawargs, size_t rawlen)
{
	struct json_object	*rec, *args;
	const char		*s;

	rec = json_object_new_object();
	json_object_object_add(rec, "reason", jstr(reason, strlen(reason)));
	if (req != NULL) {
		args = json_object_new_object();
		json_object_object_add(args, "orguser",
		    jstr(req->orguser, req->orguser_len));
		json_object_object_add(args, "repo",
		    jstr(req->repo, req->repo_len));
		json_object_object_add(args, "task_description",
		    jstr(req->task, utf8_cut(req->task, req->task_len,
		    MAX_RAW_ARGS_BYTES)));
		s = json_object_to_json_string_ext(args,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		json_object_object_add(rec, "arguments", jstr(s, strlen(s)));
		json_object_put(args);
	} else
		json_object_object_add(rec, "arguments", jstr(rawargs, rawlen));
	if (audit_write("rejected", ci, rec) == -1)
		log_warn("audit: cannot record a rejected dispatch");
	json_object_put(rec);
	if (id != 0)
		send_tool_error(id, reason);
}

static struct json_object *
argv_json(const struct lane_args *la)
{
	struct json_object	*a = json_object_new_array();
	int			 i;

	for (i = 0; i < la->argc; i++)
		json_object_array_add(a, jstr(la->argv[i],
		    strlen(la->argv[i])));
	return (a);
}

static void
b_dispatch(struct ipc_reader *r)
{
	struct req_dispatch	 req;
	struct allowlist	 al;
	const struct target	*t;
	struct dispatch		*d;
	struct lane_args	 la;
	struct json_object	*rec;
	const char		*task, *org, *repo;
	size_t			 tlen, olen, rlen;
	char			 err[MAX_REASON_BYTES], obuf[MAX_NAME_BYTES + 1];
	char			 rbuf[MAX_NAME_BYTES + 1];
	unsigned		 b;

	memset(&req, 0, sizeof req);
	if (proto_get_dispatch(r, &req) == -1) {
		broker_violation("frontend sent a malformed DISPATCH");
		return;
	}
	/* The same checks, in the same order, as the frontend made. */
	task = req.task;
	tlen = req.task_len;
	org = req.orguser;
	olen = req.orguser_len;
	repo = req.repo;
	rlen = req.repo_len;
	if (check_task(&task, &tlen, err, sizeof err) == -1 ||
	    check_name("orguser", &org, &olen, err, sizeof err) == -1 ||
	    check_name("repo", &repo, &rlen, err, sizeof err) == -1) {
		refuse(r->id, &req.client, err, &req, NULL, 0);
		return;
	}
	if (broker_conf->task_arg && task[0] == '-') {
		refuse(r->id, &req.client, "task_description may not start "
		    "with '-' when the task is passed as an argument "
		    "(DISPATCH_TASK_ARG=1)", &req, NULL, 0);
		return;
	}
	if (shutting_down) {
		refuse(r->id, &req.client, "the server is shutting down; "
		    "dispatch refused", &req, NULL, 0);
		return;
	}
	memcpy(obuf, org, olen);
	obuf[olen] = '\0';
	memcpy(rbuf, repo, rlen);
	rbuf[rlen] = '\0';

	/* Read at call time, so an edit applies to the next dispatch. */
	if (allowlist_load(broker_conf->repos_path, &al, err,
	    sizeof err) == -1) {
		refuse(r->id, &req.client, err, &req, NULL, 0);
		return;
	}
	if ((t = allowlist_resolve(&al, obuf, rbuf, err, sizeof err)) ==
	    NULL) {
		allowlist_free(&al);
		refuse(r->id, &req.client, err, &req, NULL, 0);
		return;
	}
	if (nrunning >= broker_conf->max_running) {
		allowlist_free(&al);
		snprintf(err, sizeof err, "busy: %u dispatches are running, "
		    "the limit set by DISPATCH_MAX_RUNNING; try again when "
		    "one has finished", nrunning);
		refuse(r->id, &req.client, err, &req, NULL, 0);
		return;
	}
	if (nrecords >= MAX_RECORDS) {
		allowlist_free(&al);
		snprintf(err, sizeof err, "this session already holds %d "
		    "dispatches, the most it keeps; restart the server to "
		    "start a new session", MAX_RECORDS);
		refuse(r->id, &req.client, err, &req, NULL, 0);
		return;
	}

	d = xcalloc(1, sizeof *d);
	do {
		memcpy(d->handle, HANDLE_PREFIX, sizeof HANDLE_PREFIX - 1);
		random_hex(d->handle + sizeof HANDLE_PREFIX - 1,
		    HANDLE_HEX_DIGITS / 2);
	} while (find_dispatch(d->handle) != NULL);
	strlcpy(d->orguser, obuf, sizeof d->orguser);
	strlcpy(d->repo, rbuf, sizeof d->repo);
	strlcpy(d->github, t->github, sizeof d->github);
	allowlist_free(&al);
	d->client = req.client;
	d->status = DS_RUNNING;
	d->requested_ms = now_ms();
	d->pid = -1;
	TAILQ_INIT(&d->waiters);
	d->task = xstrndup(task, tlen);
	d->task_len = tlen;

	/* The record is on disk before anything runs, or nothing runs. */
	lane_args_build(&la, broker_conf, d->handle, d->orguser, d->repo,
	    d->github, d->task);
	rec = json_object_new_object();
	json_object_object_add(rec, "handle", json_object_new_string(d->handle));
	json_object_object_add(rec, "orguser",
	    json_object_new_string(d->orguser));
	json_object_object_add(rec, "repo", json_object_new_string(d->repo));
	json_object_object_add(rec, "github",
	    json_object_new_string(d->github));
	json_object_object_add(rec, "argv", argv_json(&la));
	json_object_object_add(rec, "task", jstr(d->task, d->task_len));
	json_object_object_add(rec, "delivery", json_object_new_string(
	    broker_conf->task_arg ? "argv" : "stdin"));
	if (audit_write("dispatch", &req.client, rec) == -1) {
		snprintf(err, sizeof err, "dispatch refused: the audit log "
		    "cannot be written (%s)", strerror(errno));
		log_warnx("%s", err);
		json_object_put(rec);
		lane_args_free(&la);
		free(d->task);
		free(d);
		send_tool_error(r->id, err);
		return;
	}
	json_object_put(rec);

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
	lane_args_free(&la);
	if (lane_start(d, r->id) == -1) {
		int	 saved = errno;
		char	 msg[PATH_MAX + 128];

		snprintf(msg, sizeof msg, "failed to start lane %s: %s",
		    broker_conf->command, strerror(saved));
		log_warnx("lane %s: %s", d->handle, msg);
		d->why = END_SPAWN;
		d->status = DS_FAILED;
		d->final = 1;
		d->finished_ms = now_ms();
		d->detail = xstrdup(msg);
		d->detail_len = strlen(msg);
		free(d->task);
		d->task = NULL;
		send_view(r->id, d, 0);
		broker_lane_final(d);
		return;
	}
	log_info("dispatched %s to %s/%s (pid %ld)", d->handle, d->orguser,
	    d->repo, (long)d->pid);
	send_view(r->id, d, 0);
}

static void
b_reject(struct ipc_reader *r)
{
	struct req_reject	req;
	struct ipc_msg		m;
	char			reason[MAX_REASON_BYTES + 1];

	if (proto_get_reject(r, &req) == -1) {
		broker_violation("frontend sent a malformed REJECT");
		return;
	}
	memcpy(reason, req.reason, req.reason_len);
	reason[req.reason_len] = '\0';
	refuse(0, &req.client, reason, NULL, req.args, req.args_len);
	ipc_init(&m, IPC_ACK, r->id);
	chan_send(&chan, &m);
}

static void
unknown_handle(uint32_t id, const char *handle)
{
	char	msg[128];

	snprintf(msg, sizeof msg, "unknown dispatch handle '%s'", handle);
	send_tool_error(id, msg);
}

static void
b_status(struct ipc_reader *r)
{
	struct dispatch	*d;
	char		 handle[HANDLE_BYTES + 1];
	uint32_t	 wait_ms;

	if (proto_get_handle(r, handle, &wait_ms) == -1 || wait_ms != 0) {
		broker_violation("frontend sent a malformed STATUS");
		return;
	}
	if ((d = find_dispatch(handle)) == NULL)
		unknown_handle(r->id, handle);
	else
		send_view(r->id, d, 0);
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

/*
 * The client cancelled a long-poll: answer it now, as if its wait ran
 * out.  One that already ended is gone, and that is no error.
 */
static void
b_cancel(struct ipc_reader *r)
{
	struct dispatch	*d;
	struct waiter	*w;
	char		 handle[HANDLE_BYTES + 1];
	uint32_t	 zero;

	if (proto_get_handle(r, handle, &zero) == -1 || zero != 0) {
		broker_violation("frontend sent a malformed CANCEL");
		return;
	}
	if ((d = find_dispatch(handle)) == NULL)
		return;
	TAILQ_FOREACH(w, &d->waiters, entry) {
		if (w->id == r->id) {
			waiter_done(w);
			return;
		}
	}
}

static void
b_result(struct ipc_reader *r)
{
	struct dispatch	*d;
	struct waiter	*w;
	struct timeval	 tv;
	char		 handle[HANDLE_BYTES + 1];
	uint32_t	 wait_ms;

	if (proto_get_handle(r, handle, &wait_ms) == -1) {
		broker_violation("frontend sent a malformed RESULT");
		return;
	}
	if ((d = find_dispatch(handle)) == NULL) {
		unknown_handle(r->id, handle);
		return;
	}
	if (d->final || wait_ms == 0 || shutting_down) {
		send_view(r->id, d, 1);
		return;
	}
	/* Ours never has more in flight; more is a frontend gone bad. */
	if (nwaiters >= MAX_INFLIGHT + MAX_BATCH_ENTRIES) {
		broker_violation("too many waiting requests");
		return;
	}
	nwaiters++;
	/* The long-poll: answered when the lane ends or the wait runs out. */
	w = xcalloc(1, sizeof *w);
	w->id = r->id;
	w->d = d;
	TAILQ_INSERT_TAIL(&d->waiters, w, entry);
	evtimer_assign(&w->timer, broker_base, waiter_timeout, w);
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	evtimer_add(&w->timer, &tv);
}

static void
b_list(struct ipc_reader *r)
{
	struct ipc_msg	m;
	struct dview	v;
	uint32_t	offset, n, i;

	if (ipc_get_u32(r, &offset) == -1 || ipc_end(r) == -1) {
		broker_violation("frontend sent a malformed LIST");
		return;
	}
	n = 0;
	if (offset < nrecords) {
		n = (uint32_t)(nrecords - offset);
		if (n > LIST_PAGE_RECORDS)
			n = LIST_PAGE_RECORDS;
	}
	ipc_init(&m, IPC_LIST_PAGE, r->id);
	ipc_put_u32(&m, (uint32_t)nrecords);
	ipc_put_u32(&m, n);
	for (i = 0; i < n; i++) {
		lane_view(records[offset + i], &v, 0);
		proto_put_view(&m, &v);
	}
	chan_send(&chan, &m);
}

static void
b_shutdown(struct ipc_reader *r)
{
	static int	seen;

	/* Once only; a signal may have started the shutdown already. */
	if (ipc_end(r) == -1 || seen++) {
		broker_violation("frontend sent a malformed SHUTDOWN");
		return;
	}
	broker_begin_shutdown(NULL);
}

void
broker_lane_final(struct dispatch *d)
{
	struct json_object	*rec;
	const char		*sig;
	struct waiter		*w;

	rec = json_object_new_object();
	json_object_object_add(rec, "handle", json_object_new_string(d->handle));
	json_object_object_add(rec, "status",
	    json_object_new_string(dstatus_name(d->status)));
	json_object_object_add(rec, "returncode", d->has_rc ?
	    json_object_new_int(d->rc) : NULL);
	sig = d->sig != 0 ? signal_name(d->sig) : NULL;
	json_object_object_add(rec, "signal", sig != NULL ?
	    json_object_new_string(sig) : NULL);
	json_object_object_add(rec, "pid", d->pid > 0 ?
	    json_object_new_int64(d->pid) : NULL);
	json_object_object_add(rec, "duration_ms",
	    json_object_new_int64((int64_t)d->duration_ms));
	json_object_object_add(rec, "stdout_bytes",
	    json_object_new_int64((int64_t)d->out.total));
	json_object_object_add(rec, "stderr_bytes",
	    json_object_new_int64((int64_t)d->err.total));
	json_object_object_add(rec, "reason", json_object_new_string(
	    d->why == END_TIMEOUT ? "timeout" : d->why == END_SHUTDOWN ?
	    "shutdown" : d->why == END_SPAWN ? "spawn_failed" : "exit"));
	if (audit_write("exit", &d->client, rec) == -1)
		log_warn("audit: cannot record the exit of %s", d->handle);
	json_object_put(rec);
	log_info("lane %s %s (%s%d)", d->handle, dstatus_name(d->status),
	    d->has_rc ? "exit " : "signal ", d->has_rc ? d->rc : d->sig);

	while ((w = TAILQ_FIRST(&d->waiters)) != NULL)
		waiter_done(w);	/* NOLINT(clang-analyzer-unix.Malloc) */
	nrunning--;
	broker_maybe_done();
}

static void
broker_route(struct chan *c, struct ipc_reader *r, void *arg)
{
	size_t	i;

	for (i = 0; i < sizeof requests / sizeof requests[0]; i++) {
		if (requests[i].type != r->type)
			continue;
		if (shutting_down && !(requests[i].flags & REQ_SHUTDOWN_OK)) {
			broker_violation("request out of order");
			return;
		}
		requests[i].handler(r);
		return;
	}
	log_warnx("unexpected message type %u from the frontend", r->type);
	broker_violation("frontend protocol violation");
}

static void
reap_spawner(void)
{
	pid_t	pid = spawner_get_pid();
	int	status;

	if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
		if (WIFSIGNALED(status))
			log_warnx("the spawner was killed by %s; no lane can "
			    "start", signal_name(WTERMSIG(status)) != NULL ?
			    signal_name(WTERMSIG(status)) : "a signal");
		else
			log_warnx("the spawner exited with status %d; no lane "
			    "can start", WEXITSTATUS(status));
		broker_begin_shutdown("the spawner is gone");
	}
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
	} else if (WIFSIGNALED(status)) {
		const char *name = signal_name(WTERMSIG(status));

		log_warnx("frontend killed by %s", name != NULL ? name :
		    "a signal");
	} else if (WEXITSTATUS(status) != 0)
		log_warnx("frontend exited with status %d",
		    WEXITSTATUS(status));
}

/*
 * The frontend broke the protocol: it is not ours any more.  Stop
 * listening to it at once, wind down the lanes, and exit non-zero.
 */
static void
broker_violation(const char *why)
{
	chan_close(&chan);
	if (frontend_pid > 0)
		kill(frontend_pid, SIGKILL);
	broker_begin_shutdown(why);
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
	ipc_init(&m, IPC_BYE, 0);
	chan_send(&chan, &m);
	chan_flush(&chan);
	broker_finish();
}

static void
shutdown_grace_done(int fd, short what, void *arg)
{
	size_t	i;

	for (i = 0; i < nrecords; i++) {
		if (!records[i]->final)
			lane_terminate(records[i], END_SHUTDOWN);
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
	struct timeval	 tv;
	struct waiter	*w;
	size_t		 i;

	if (failure != NULL) {
		log_warnx("shutting down: %s", failure);
		failed = 1;
	}
	if (shutting_down)
		return;
	shutting_down = 1;
	log_debug("shutting down with %u lanes running", nrunning);
	for (i = 0; i < nrecords; i++) {
		/* waiter_done() unlinks w before it frees it. */
		while ((w = TAILQ_FIRST(&records[i]->waiters)) != NULL)
			waiter_done(w);	/* NOLINT(clang-analyzer-unix.Malloc) */
	}
	if (nrunning > 0) {
		evtimer_assign(&ev_shutdown_grace, broker_base,
		    shutdown_grace_done, NULL);
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

void
broker_main(const struct config *conf, int fd, pid_t fpid)
{
	struct event_config	*cfg;

	struct sandbox_paths	 sp;
	struct rlimit		 rl;

	broker_conf = conf;
	frontend_pid = fpid;
	log_init("broker", log_verbose());
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* An audit log past RLIMIT_FSIZE must fail the write, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	spawn_init(conf);
	/* A thousand lanes hold three descriptors each. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/*
	 * The lane layer first: the spawner, forked next, keeps only it,
	 * and so does every lane.  Then the broker's own, stricter layer.
	 */
	memset(&sp, 0, sizeof sp);
	sp.lane_program = conf->command;
	sp.allowlist = conf->repos_path;
	sp.audit = conf->audit_path;
	if (conf->sandbox)
		sandbox_lane_layer(&sp);
	spawner_start(conf);

	if ((cfg = event_config_new()) == NULL)
		fatalx("broker_main: event_config_new");
	/* EVENT_* variables must not choose our backend. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
	if ((broker_base = event_base_new_with_config(cfg)) == NULL)
		fatalx("broker_main: event_base_new_with_config");
	event_config_free(cfg);

	ev_sigterm = evsignal_new(broker_base, SIGTERM, broker_signal, NULL);
	ev_sigint = evsignal_new(broker_base, SIGINT, broker_signal, NULL);
	ev_sighup = evsignal_new(broker_base, SIGHUP, broker_signal, NULL);
	ev_sigchld = evsignal_new(broker_base, SIGCHLD, broker_signal, NULL);
	if (ev_sigterm == NULL || ev_sigint == NULL || ev_sighup == NULL ||
	    ev_sigchld == NULL || evsignal_add(ev_sigterm, NULL) == -1 ||
	    evsignal_add(ev_sigint, NULL) == -1 ||
	    evsignal_add(ev_sighup, NULL) == -1 ||
	    evsignal_add(ev_sigchld, NULL) == -1)
		fatalx("broker_main: cannot install signal events");

	chan_init(&chan, broker_base, fd, broker_route,
	    broker_chan_closed, NULL);
	if (conf->sandbox)
		sandbox_broker(&sp);
	/* The frontend may have died before the SIGCHLD event existed. */
	reap_frontend();
	if (frontend_pid == -1)
		broker_begin_shutdown("the frontend exited at start");

	event_base_dispatch(broker_base);
	fatalx("broker_main: event loop ended");
}
