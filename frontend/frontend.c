/*
 * The frontend: MCP on stdin/stdout, JSON parsing and validation, and
 * nothing else.  It holds no file it did not inherit and asks the broker
 * for everything that touches the system.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/util.h"
#include "frontend/frontend.h"

static struct event_base	*base;
static struct chan		 chan;
static struct event		 ev_in;
static struct event		 ev_out;
static struct evbuffer		*outq;
static int			 out_dead;	/* stdout gone: discard */

/* Input: bytes read but not yet handled, and the scan position. */
static char			*inbuf;
static size_t			 inlen;
static size_t			 inscan;
static int			 discarding;	/* inside an oversize line */
static int			 in_eof;
static int			 in_reading;
static int			 shutdown_sent;

static TAILQ_HEAD(, pending)	 pendings = TAILQ_HEAD_INITIALIZER(pendings);
static unsigned			 npending;
static uint32_t			 next_reqid = 1;

static void	input_pump(void);
static void	client_gone(void);
static void	frontend_exit(int) __attribute__((noreturn));

void
out_send(struct json_object *o)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	if (len > MAX_OUT_MSG_BYTES) {
		/* Unreachable by construction; never send what kills clients. */
		struct json_object	*id = NULL;

		log_warnx("dropping a %zu-byte message", len);
		if (json_object_is_type(o, json_type_object))
			json_object_object_get_ex(o, "id", &id);
		json_object_get(id);
		json_object_put(o);
		if (id != NULL)
			rpc_error(id, RPC_INTERNAL_ERROR, "response too large");
		json_object_put(id);
		return;
	}
	if (!out_dead) {
		evbuffer_add(outq, s, len);
		evbuffer_add(outq, "\n", 1);
		event_add(&ev_out, NULL);
		/* Answers to requests already taken can pile up past the
		 * soft limit; a client this far behind is treated as gone. */
		if (evbuffer_get_length(outq) > MAX_OUT_HARD_BYTES) {
			log_warnx("the client has not read %zu bytes of "
			    "answers; closing", evbuffer_get_length(outq));
			client_gone();
		}
	}
	json_object_put(o);
}

/* As many requests wait on the broker as it will hold: no more now. */
int
frontend_busy(void)
{
	return (npending >= MAX_INFLIGHT);
}

struct pending *
pending_new(enum pend_kind kind, const struct rpc_ctx *ctx)
{
	struct pending	*p = xcalloc(1, sizeof *p);

	p->reqid = next_reqid++;
	if (next_reqid == 0)
		next_reqid = 1;
	p->kind = kind;
	p->ctx = *ctx;
	json_object_get(p->ctx.id);
	json_object_get(p->ctx.progress);
	TAILQ_INSERT_TAIL(&pendings, p, entry);
	npending++;
	return (p);
}

static void
pending_free(struct pending *p)
{
	TAILQ_REMOVE(&pendings, p, entry);
	npending--;
	if (p->progress_on)
		evtimer_del(&p->progress_ev);
	if (p->retry_on)
		evtimer_del(&p->retry_ev);
	json_object_put(p->ctx.id);
	json_object_put(p->ctx.progress);
	free(p->error);
	free(p);
}

/* At most one progress notification a second, each a little further. */
static void
progress_tick(int fd, short what, void *arg)
{
	struct pending		*p = arg;
	struct json_object	*o;
	struct timeval		 tv = { 1, 0 };
	uint64_t		 ms = mono_ms() - p->started_ms;
	char			 msg[128];

	if (p->cancelled)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "progressToken",
	    json_object_get(p->ctx.progress));
	json_object_object_add(o, "progress",
	    json_object_new_double((double)ms / 1000.0));
	json_object_object_add(o, "total",
	    json_object_new_double((double)p->wait_ms / 1000.0));
	if (mcp_version_at_least(p->ctx.version, MCP_V20250326)) {
		snprintf(msg, sizeof msg, "waiting for %s to finish: %llu of "
		    "%u s", p->handle, (unsigned long long)(ms / 1000),
		    p->wait_ms / 1000);
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
	}
	rpc_notify("notifications/progress", o);
	evtimer_add(&p->progress_ev, &tv);
}

void
pending_progress(struct pending *p, uint32_t wait_ms, const char *handle)
{
	struct timeval	tv = { 1, 0 };

	/* Kept for a cancel as well. */
	p->wait_ms = wait_ms;
	strlcpy(p->handle, handle, sizeof p->handle);
	if (p->ctx.progress == NULL || wait_ms < 1000)
		return;
	p->started_ms = mono_ms();
	evtimer_assign(&p->progress_ev, base, progress_tick, p);
	evtimer_add(&p->progress_ev, &tv);
	p->progress_on = 1;
}

/* The same request asks again: a new id, the same place. */
void
pending_renew(struct pending *p)
{
	p->reqid = next_reqid++;
	if (next_reqid == 0)
		next_reqid = 1;
}

static void
retry_tick(int fd, short what, void *arg)
{
	struct pending	*p = arg;

	p->retry_on = 0;
	p->retry(p);
}

/* Ask again in a second; until then the broker holds nothing of it. */
void
pending_retry(struct pending *p, void (*cb)(struct pending *))
{
	struct timeval	tv = { 1, 0 };

	p->retry = cb;
	evtimer_assign(&p->retry_ev, base, retry_tick, p);
	evtimer_add(&p->retry_ev, &tv);
	p->retry_on = 1;
}

/* SHUTDOWN is sent: nothing more may go to the broker. */
int
frontend_stopping(void)
{
	return (shutdown_sent);
}

void
send_to_broker(struct ipc_msg *m)
{
	chan_send(&chan, m);
}

/* Flush stdout with blocking writes before exiting. */
static void
out_drain(void)
{
	struct pollfd	pfd;
	int		n;

	while (!out_dead && evbuffer_get_length(outq) > 0) {
		n = evbuffer_write(outq, STDOUT_FILENO);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return;
		if (n == -1) {
			pfd.fd = STDOUT_FILENO;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 2000) <= 0)
				return;
		}
	}
}

static void
frontend_exit(int rc)
{
	out_drain();
	exit(rc);
}

static void
send_shutdown(void)
{
	struct ipc_msg	m;

	if (shutdown_sent)
		return;
	shutdown_sent = 1;
	proto_empty(&m, IPC_SHUTDOWN, 0);
	chan_send(&chan, &m);
}

/* Stop reading and writing; tell the broker to wind down. */
static void
client_gone(void)
{
	out_dead = 1;
	evbuffer_drain(outq, evbuffer_get_length(outq));
	event_del(&ev_in);
	in_reading = 0;
	in_eof = 1;
	send_shutdown();
}

static void
out_event(int fd, short what, void *arg)
{
	int	n;

	n = evbuffer_write(outq, STDOUT_FILENO);
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		/* The client stopped reading for good: wind down. */
		log_debug("stdout: %s; shutting down", strerror(errno));
		client_gone();
		return;
	}
	if (evbuffer_get_length(outq) > 0)
		event_add(&ev_out, NULL);
	input_pump();
}

static void
on_broker_msg(struct chan *c, struct ipc_reader *r, void *arg)
{
	struct pending	*p;

	if (r->type == IPC_BYE) {
		if (ipc_end(r) == -1)
			fatalx("frontend: malformed BYE");
		while ((p = TAILQ_FIRST(&pendings)) != NULL) {
			if (!p->cancelled)
				rpc_fail(&p->ctx, RPC_INTERNAL_ERROR,
				    "the server is shutting down", NULL);
			else
				batch_skip(p->ctx.batch);
			pending_free(p);
		}
		frontend_exit(0);
	}
	if (r->type == IPC_FINAL) {
		tasks_final(r);
		return;
	}
	TAILQ_FOREACH(p, &pendings, entry) {
		if (p->reqid == r->id)
			break;
	}
	if (p == NULL)
		fatalx("frontend: broker answered unknown request %u", r->id);
	if (p->cancelled)
		batch_skip(p->ctx.batch);	/* no answer after a cancel */
	else if (p->kind >= PEND_TASK_GET) {
		/* A tasks/result still waiting keeps its place. */
		if (tasks_reply(p, r))
			return;
	} else
		tools_reply(p, r);
	pending_free(p);
	input_pump();
}

static void
on_broker_gone(struct chan *c, const char *why, void *arg)
{
	struct pending	*p;

	log_warnx("broker: %s; exiting", why);
	while ((p = TAILQ_FIRST(&pendings)) != NULL) {
		if (!p->cancelled)
			rpc_fail(&p->ctx, RPC_INTERNAL_ERROR,
			    "internal error: the broker process is gone", NULL);
		else
			batch_skip(p->ctx.batch);
		pending_free(p);
	}
	frontend_exit(shutdown_sent ? 0 : 1);
}

/* Handle complete lines while there is room for their answers. */
static void
input_pump(void)
{
	char	*nl;
	size_t	 linelen, used = 0;

	/*
	 * The client is gone and SHUTDOWN sent: nothing read may reach the
	 * broker after it, so what is left unread is dropped.
	 */
	if (out_dead) {
		inlen = inscan = 0;
		return;
	}
	/*
	 * Not bounded by the requests in flight: a request over that limit
	 * is answered at once (frontend_busy), and ping always gets through.
	 */
	while (evbuffer_get_length(outq) < MAX_OUT_QUEUE_BYTES) {
		nl = memchr(inbuf + used + inscan, '\n',
		    inlen - used - inscan);
		if (nl == NULL) {
			inscan = inlen - used;
			break;
		}
		linelen = (size_t)(nl - (inbuf + used));
		inscan = 0;
		if (discarding)
			discarding = 0;
		else {
			size_t	n = linelen;

			if (n > 0 && inbuf[used + n - 1] == '\r')
				n--;
			if (n > MAX_LINE_BYTES)
				rpc_error(NULL, RPC_INVALID_REQUEST, "message "
				    "too large: the limit is 4194304 bytes per "
				    "line");
			else
				mcp_handle_line(inbuf + used, n);
		}
		used += linelen + 1;
	}
	if (used > 0) {
		memmove(inbuf, inbuf + used, inlen - used);
		inlen -= used;
	}

	if (in_eof) {
		/* No complete line is left: a partial one is discarded. */
		if (memchr(inbuf, '\n', inlen) == NULL) {
			if (inlen > 0 && !discarding)
				log_warnx("stdin closed inside a message; "
				    "discarding %zu bytes", inlen);
			inlen = 0;
			send_shutdown();
		}
		return;
	}
	/* Back-pressure: stop reading while answers pile up. */
	if (evbuffer_get_length(outq) >= MAX_OUT_QUEUE_BYTES ||
	    inlen == MAX_LINE_BYTES + 2) {
		if (in_reading) {
			event_del(&ev_in);
			in_reading = 0;
		}
	} else if (!in_reading) {
		event_add(&ev_in, NULL);
		in_reading = 1;
	}
}

static void
in_event(int fd, short what, void *arg)
{
	ssize_t	n;
	size_t	room = MAX_LINE_BYTES + 2 - inlen;

	n = read(STDIN_FILENO, inbuf + inlen, room > 65536 ? 65536 : room);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("stdin");
		n = 0;
	}
	if (n == 0) {
		event_del(&ev_in);
		in_reading = 0;
		in_eof = 1;
		input_pump();
		return;
	}
	inlen += (size_t)n;
	/* A line longer than the limit: answer once, then skip to '\n'. */
	if (inlen == MAX_LINE_BYTES + 2 && memchr(inbuf + inscan, '\n',
	    inlen - inscan) == NULL) {
		if (!discarding)
			rpc_error(NULL, RPC_INVALID_REQUEST, "message too "
			    "large: the limit is 4194304 bytes per line");
		discarding = 1;
		inlen = inscan = 0;
	}
	input_pump();
}

static void
set_nonblock(int fd)
{
	struct stat	st;
	int		fl;

	/* Only pipes and sockets: a tty or file is shared with others. */
	if (fstat(fd, &st) == -1 || !(S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		return;
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void
frontend_main(int fd, const struct config *conf)
{
	struct event_config	*cfg;

	log_init("frontend", log_verbose());
	signal(SIGPIPE, SIG_IGN);
	/* The broker decides when we stop; a terminal's ^C reaches it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	mcp_init();
	tools_init();

	if ((cfg = event_config_new()) == NULL)
		fatalx("frontend_main: event_config_new");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
	/* epoll refuses regular files and /dev/null on stdin. */
	event_config_avoid_method(cfg, "epoll");
	if ((base = event_base_new_with_config(cfg)) == NULL)
		fatalx("frontend_main: event_base_new_with_config");
	event_config_free(cfg);

	inbuf = xmalloc(MAX_LINE_BYTES + 2);
	if ((outq = evbuffer_new()) == NULL)
		fatalx("frontend_main: evbuffer_new");
	set_nonblock(STDOUT_FILENO);
	event_assign(&ev_in, base, STDIN_FILENO, EV_READ | EV_PERSIST,
	    in_event, NULL);
	event_assign(&ev_out, base, STDOUT_FILENO, EV_WRITE, out_event,
	    NULL);
	event_add(&ev_in, NULL);
	in_reading = 1;
	chan_init(&chan, base, fd, on_broker_msg, on_broker_gone, NULL);

	/* Everything is open and allocated: from here on, only stdio. */
	if (conf->sandbox) {
		if (conf->drop)
			sandbox_drop_privileges(conf->run_uid, conf->run_gid);
		sandbox_frontend();
	}

	event_base_dispatch(base);
	fatalx("frontend_main: event loop ended");
}


static int
same_id(struct json_object *a, struct json_object *b)
{
	if (json_object_get_type(a) != json_object_get_type(b))
		return (0);
	/* With the length: "a\u0000b" and "a\u0000c" are two ids. */
	if (json_object_is_type(a, json_type_string))
		return (json_object_get_string_len(a) ==
		    json_object_get_string_len(b) &&
		    memcmp(json_object_get_string(a), json_object_get_string(b),
		    (size_t)json_object_get_string_len(a)) == 0);
	return (json_object_get_int64(a) == json_object_get_int64(b));
}

int
pending_id_in_use(struct json_object *id)
{
	struct pending	*p;

	TAILQ_FOREACH(p, &pendings, entry) {
		if (!p->cancelled && same_id(p->ctx.id, id))
			return (1);
	}
	return (0);
}

void
pending_cancel(struct json_object *id)
{
	struct pending	*p;
	struct ipc_msg	 m;

	TAILQ_FOREACH(p, &pendings, entry) {
		if (same_id(p->ctx.id, id) && !p->cancelled && p->retry_on) {
			/*
			 * Between two asks: no answer is to come, so drop it.
			 * (This runs from input_pump(), which goes on.)
			 */
			batch_skip(p->ctx.batch);
			pending_free(p);
			return;
		}
		if (same_id(p->ctx.id, id) && !p->cancelled) {
			p->cancelled = 1;
			/*
			 * A long-poll holds a place at the broker: have it
			 * answer now (the answer is dropped), not when the
			 * wait runs out.
			 */
			if ((p->kind == PEND_RESULT ||
			    p->kind == PEND_TASK_RESULT ||
			    p->kind == PEND_TASK_CANCEL) && p->wait_ms > 0) {
				proto_handle(&m, IPC_CANCEL, p->reqid,
				    p->handle);
				send_to_broker(&m);
			}
			if (p->progress_on)
				evtimer_del(&p->progress_ev);
			p->progress_on = 0;
		}
	}
}
