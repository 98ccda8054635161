/*
 * The benchmark driver: starts a stdio MCP server (the argv after "--"),
 * speaks JSON-RPC to it over pipes and measures with CLOCK_MONOTONIC.
 *
 * usage: driver cold     [-i] [-n runs] [-t tag] -- argv ...
 *        driver mem      [-s] [-n runs] [-R records] [-t tag] -- argv ...
 *        driver lat      [-s] [-n rounds] [-k seq] [-p pipelined] [-t tag]
 *                        -- argv ...
 *        driver overhead [-n runs] [-w warmups] [-t tag] -a appendfile
 *                        -- argv ...
 *        driver overhead -L name [-n runs] [-w warmups] -- argv ...
 *        driver scale    [-n rounds] [-c count] -k k1,k2,... -- argv ...
 *        driver busy     [-l lanes] [-n rounds] [-k seq] -- argv ...
 *        driver allow    [-n runs] [-t tag] -- argv ...
 *        driver history  [-N records] [-n rounds] [-k seq] -- argv ...
 *        driver report   [-s] results out.json
 *        driver port     [count]
 *
 * Every measuring command prints lines "key unit sample sample ...",
 * one sample per run or round; "report" reads a file of such lines (and
 * "meta key value" lines, and "cmd step command" lines naming the step
 * whose figures follow), prints the table and writes the JSON; with -s,
 * it fails when one of our figures is missing.
 *
 * The server inherits the environment; BENCH_ORG and BENCH_REPO name the
 * allowlisted target, BENCH_STAMP the file lane-stamp writes, and
 * BENCH_SERVER_LOG (if set) receives the server's stderr.  -T seconds
 * bounds every command (default 300): past it, the servers are killed.
 *
 * "overhead -L name" measures a real lane program (DISPATCH_COMMAND, such
 * as dispatch-lane-ssh) whose far end runs lane-stamp, and keys its
 * figures by name; its floor is that lane program started alone, as the
 * server starts it.  "port" prints free TCP ports on 127.0.0.1, for the
 * daemons of those lanes.
 *
 * "history" has the server make a few real dispatches and exit, extends
 * its audit log (DISPATCH_AUDIT_LOG) to -N records with copies of those
 * records under new handles, chained as the server chains them (seq and
 * the SHA-256 of the line before: dispatch-mcp-audit verify passes), and
 * then, per round, starts a new server on that log and times
 * dispatch_status for the first server's first handle (the first call
 * builds the broker's index of the log) next to a handle of its own.
 */
#define _GNU_SOURCE	/* pipe2 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIVE	4
#define MAX_TREE	8192
#define MAX_SAMPLES	256
#define MAX_FIGURES	256
#define MAX_META	32
#define MAX_KS		8
#define READ_TIMEOUT_MS	30000
#define REQ_BYTES	512

struct srv {
	pid_t	 pid;
	int	 in;
	int	 out;
	char	*buf;
	size_t	 off;
	size_t	 len;
	size_t	 cap;
	long	 next_id;
	int64_t	 t_start;
};

struct mem {
	double	 rss_kb;
	double	 hwm_kb;
	double	 pss_kb;
	int	 nproc;
};

struct writer {
	int		 fd;
	const char	*buf;
	size_t		 len;
	const size_t	*ends;		/* where each request ends */
	long		 n;
	long		 window;	/* most unanswered at once; 0: all */
	volatile long	*done;		/* answers read so far */
};

typedef size_t	(*mkreq_fn)(char *, size_t, long, void *);

static struct srv *volatile	 live[MAX_LIVE];
static const char		*org = "bench-org";
static const char		*repo = "bench-repo";
static const char		*tag = "ours";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;
	int	i;

	va_start(ap, fmt);
	fprintf(stderr, "driver: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] != NULL)
			kill(live[i]->pid, SIGKILL);
	exit(1);
}

/* SIGTERM, SIGINT, SIGHUP, SIGALRM: the servers go with us. */
static void
on_signal(int sig)
{
	static const char	msg[] = "driver: stopped by a signal or the "
				    "time limit; servers killed\n";
	ssize_t			n;
	int			i;

	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] != NULL)
			kill(live[i]->pid, SIGKILL);
	n = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)n;
	_exit(128 + sig);
}

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The q-th quantile (0..1) of v[0..n), which is sorted in place. */
static double
quantile(double *v, int n, double q)
{
	int	i;

	qsort(v, (size_t)n, sizeof *v, cmp_dbl);
	i = (int)(q * n);
	if (i >= n)
		i = n - 1;
	return (v[i]);
}

static void
emit(const char *key, const char *unit, const double *v, int n)
{
	int	i;

	printf("%s.%s %s", tag, key, unit);
	for (i = 0; i < n; i++)
		printf(" %.6g", v[i]);
	printf("\n");
	fflush(stdout);
}

static long
parse_num(const char *s, long lo, long hi, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		die("%s must be %ld to %ld, not '%s'", what, lo, hi, s);
	return (v);
}

/* A minimal scanner for the top level of one JSON object. */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return (p);
}

/* p is at the opening quote; returns just past the closing one. */
static const char *
skip_str(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\') {
			if (*++p == '\0')
				return (NULL);
		} else if (*p == '"')
			return (p + 1);
	}
	return (NULL);
}

static const char *
skip_val(const char *p)
{
	int	depth = 0;

	p = skip_ws(p);
	if (*p == '"')
		return (skip_str(p));
	if (*p != '{' && *p != '[') {
		while (*p != '\0' && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		return (p);
	}
	while (*p != '\0') {
		if (*p == '"') {
			if ((p = skip_str(p)) == NULL)
				return (NULL);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return (p + 1);
		p++;
	}
	return (NULL);
}

/* The value of the top-level member key, or NULL. */
static const char *
json_member(const char *p, const char *key)
{
	const char	*k, *e;
	size_t		 klen = strlen(key);

	p = skip_ws(p);
	if (*p++ != '{')
		return (NULL);
	for (;;) {
		p = skip_ws(p);
		if (*p != '"')
			return (NULL);
		k = p + 1;
		if ((e = skip_str(p)) == NULL)
			return (NULL);
		p = skip_ws(e);
		if (*p++ != ':')
			return (NULL);
		p = skip_ws(p);
		if ((size_t)(e - 1 - k) == klen && memcmp(k, key, klen) == 0)
			return (p);
		if ((p = skip_val(p)) == NULL)
			return (NULL);
		p = skip_ws(p);
		if (*p++ != ',')
			return (NULL);
	}
}

/* The integer id of a response, or -1 for anything else. */
static long
response_id(const char *line)
{
	const char	*v;

	if (json_member(line, "method") != NULL ||
	    (v = json_member(line, "id")) == NULL || !isdigit((unsigned char)*v))
		return (-1);
	return (strtol(v, NULL, 10));
}

static int
is_error(const char *line)
{
	return (json_member(line, "error") != NULL ||
	    strstr(line, "\"isError\":true") != NULL);
}

/* The first dispatch handle in line, copied to h (37 bytes). */
static int
find_handle(const char *line, char *h)
{
	const char	*p;
	int		 i;

	for (p = line; (p = strstr(p, "dsp-")) != NULL; p++) {
		for (i = 0; i < 32 && isxdigit((unsigned char)p[4 + i]); i++)
			;
		if (i == 32) {
			memcpy(h, p, 36);
			h[36] = '\0';
			return (0);
		}
	}
	return (-1);
}

/* Process trees, from /proc. */

static size_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	size_t	off = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	return (off);
}

/* root and all its descendants, breadth first; returns how many. */
static int
tree_pids(pid_t root, pid_t *out, int max)
{
	static char	 buf[65536];
	struct dirent	*de;
	DIR		*d;
	char		 path[320], *p, *end;
	long		 v;
	int		 n = 0, i;

	out[n++] = root;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%ld/task", (long)out[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, sizeof path, "/proc/%ld/task/%s/children",
			    (long)out[i], de->d_name);
			if (read_small(path, buf, sizeof buf) == 0)
				continue;
			for (p = buf; n < max; p = end) {
				v = strtol(p, &end, 10);
				if (end == p)
					break;
				out[n++] = (pid_t)v;
			}
		}
		closedir(d);
	}
	return (n);
}

static int
tree_count(pid_t root)
{
	static pid_t	pids[MAX_TREE];

	return (tree_pids(root, pids, MAX_TREE));
}

static double
status_kb(const char *buf, const char *field)
{
	const char	*p;

	if ((p = strstr(buf, field)) == NULL)
		return (0);
	return (strtod(p + strlen(field), NULL));
}

static void
mem_of(const pid_t *pids, int n, struct mem *m)
{
	char	buf[8192], path[64];
	int	i;

	memset(m, 0, sizeof *m);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%ld/status", (long)pids[i]);
		if (read_small(path, buf, sizeof buf) == 0)
			continue;
		m->rss_kb += status_kb(buf, "\nVmRSS:");
		m->hwm_kb += status_kb(buf, "\nVmHWM:");
		snprintf(path, sizeof path, "/proc/%ld/smaps_rollup",
		    (long)pids[i]);
		if (read_small(path, buf, sizeof buf) > 0)
			m->pss_kb += status_kb(buf, "\nPss:");
		m->nproc++;
	}
}

static void
tree_mem(pid_t root, struct mem *m)
{
	static pid_t	pids[MAX_TREE];

	mem_of(pids, tree_pids(root, pids, MAX_TREE), m);
}

/* Wait until the tree has at most want processes; 0, or -1 on timeout. */
static int
wait_tree(pid_t root, int want, int timeout_ms)
{
	int64_t	deadline = now_ns() + (int64_t)timeout_ms * 1000000;

	while (tree_count(root) > want) {
		if (now_ns() > deadline)
			return (-1);
		sleep_ms(2);
	}
	return (0);
}

/* Servers. */

static struct srv *
srv_start(char *const argv[])
{
	struct srv	*s;
	const char	*log = getenv("BENCH_SERVER_LOG");
	int		 in[2], out[2], errfd, i;

	if ((s = calloc(1, sizeof *s)) == NULL)
		die("calloc");
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		die("pipe2: %s", strerror(errno));
	if ((errfd = open(log != NULL ? log : "/dev/null", O_WRONLY |
	    O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		die("open %s: %s", log, strerror(errno));
	s->next_id = 1;
	s->t_start = now_ns();
	switch (s->pid = fork()) {
	case -1:
		die("fork: %s", strerror(errno));
	case 0:
		/* Killed with us, whatever way we go. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1 ||
		    dup2(errfd, 2) == -1)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(errfd);
	s->in = in[1];
	s->out = out[0];
	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] == NULL) {
			live[i] = s;
			break;
		}
	if (i == MAX_LIVE)
		die("too many servers");
	return (s);
}

static void
srv_write(struct srv *s, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(s->in, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write to the server: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* The next line from the server, valid until the next call. */
static char *
srv_line(struct srv *s, int timeout_ms)
{
	struct pollfd	 pfd;
	int64_t		 deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	char		*nl, *line;
	ssize_t		 n;
	int		 left;

	for (;;) {
		if ((nl = memchr(s->buf + s->off, '\n', s->len - s->off)) !=
		    NULL) {
			*nl = '\0';
			line = s->buf + s->off;
			s->off = (size_t)(nl + 1 - s->buf);
			return (line);
		}
		if (s->off > 0) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		if (s->cap - s->len < 65536) {
			s->cap = s->cap == 0 ? 262144 : s->cap * 2;
			if ((s->buf = realloc(s->buf, s->cap + 1)) == NULL)
				die("realloc");
		}
		left = (int)((deadline - now_ns()) / 1000000);
		pfd.fd = s->out;
		pfd.events = POLLIN;
		if (left <= 0)
			return (NULL);
		if ((n = poll(&pfd, 1, left)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (NULL);
		if ((n = read(s->out, s->buf + s->len, s->cap - s->len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return (NULL);
		s->len += (size_t)n;
	}
}

/* Read until the response to id; others are skipped. */
static char *
srv_wait_id(struct srv *s, long id)
{
	char	*line;

	for (;;) {
		if ((line = srv_line(s, READ_TIMEOUT_MS)) == NULL)
			die("no response to request %ld from pid %ld", id,
			    (long)s->pid);
		if (response_id(line) == id)
			return (line);
	}
}

static char *
srv_request(struct srv *s, const char *method, const char *params)
{
	char	buf[8192];
	long	id = s->next_id++;
	int	len;

	if (params != NULL)
		len = snprintf(buf, sizeof buf, "{\"jsonrpc\":\"2.0\",\"id\":"
		    "%ld,\"method\":\"%s\",\"params\":%s}\n", id, method,
		    params);
	else
		len = snprintf(buf, sizeof buf, "{\"jsonrpc\":\"2.0\",\"id\":"
		    "%ld,\"method\":\"%s\"}\n", id, method);
	if (len < 0 || (size_t)len >= sizeof buf)
		die("request too long");
	srv_write(s, buf, (size_t)len);
	return (srv_wait_id(s, id));
}

static const char init_line[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
    "\"clientInfo\":{\"name\":\"dispatch-mcp-bench\",\"version\":\"1\"}}}\n";
static const char initialized_line[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";

static void
srv_init(struct srv *s)
{
	char	*line;

	srv_write(s, init_line, sizeof init_line - 1);
	line = srv_wait_id(s, 0);
	if (json_member(line, "result") == NULL)
		die("initialize failed: %.200s", line);
	srv_write(s, initialized_line, sizeof initialized_line - 1);
}

static struct srv *
srv_start_init(char *const argv[])
{
	struct srv	*s = srv_start(argv);

	srv_init(s);
	return (s);
}

/*
 * Close stdin and wait up to timeout_ms for the exit; then kill the
 * whole tree.  Returns the ms it took, or -1 if it had to be killed.
 */
static double
srv_stop(struct srv *s, int timeout_ms)
{
	static pid_t	 pids[MAX_TREE];
	int64_t		 t0 = now_ns(), deadline;
	double		 ms = -1;
	int		 status, n, i;

	close(s->in);
	deadline = t0 + (int64_t)timeout_ms * 1000000;
	for (;;) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			ms = (double)(now_ns() - t0) / 1e6;
			break;
		}
		if (now_ns() > deadline) {
			n = tree_pids(s->pid, pids, MAX_TREE);
			for (i = n - 1; i >= 0; i--)
				kill(pids[i], SIGKILL);
			waitpid(s->pid, &status, 0);
			fprintf(stderr, "driver: pid %ld did not exit within "
			    "%d ms; killed its tree\n", (long)s->pid,
			    timeout_ms);
			break;
		}
		sleep_ms(2);
	}
	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] == s)
			live[i] = NULL;
	close(s->out);
	free(s->buf);
	free(s);
	return (ms);
}

/* Requests. */

static size_t
mk_ping(char *buf, size_t len, long id, void *ctx)
{
	(void)ctx;
	return ((size_t)snprintf(buf, len, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"ping\"}\n", id));
}

static size_t
mk_status(char *buf, size_t len, long id, void *ctx)
{
	return ((size_t)snprintf(buf, len, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":"
	    "\"dispatch_status\",\"arguments\":{\"handle\":\"%s\"}}}\n", id,
	    (const char *)ctx));
}

static size_t
mk_mixed(char *buf, size_t len, long id, void *ctx)
{
	return (id % 2 == 0 ? mk_ping(buf, len, id, NULL) :
	    mk_status(buf, len, id, ctx));
}

static size_t
mk_dispatch(char *buf, size_t len, long id, void *ctx)
{
	(void)ctx;
	return ((size_t)snprintf(buf, len, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"dispatch_unit\","
	    "\"arguments\":{\"orguser\":\"%s\",\"repo\":\"%s\","
	    "\"task_description\":\"benchmark unit %ld\"}}}\n", id, org, repo,
	    id));
}

/* One request, timed in µs; the response line is left in *linep. */
static double
timed(struct srv *s, mkreq_fn mk, void *ctx, char **linep)
{
	char	 buf[REQ_BYTES], *line;
	long	 id = s->next_id++;
	size_t	 len = mk(buf, sizeof buf, id, ctx);
	int64_t	 t0;

	t0 = now_ns();
	srv_write(s, buf, len);
	line = srv_wait_id(s, id);
	if (linep != NULL)
		*linep = line;
	return ((double)(now_ns() - t0) / 1000.0);
}

/*
 * total requests, at most window outstanding; returns how many were
 * errors.  Responses may come in any order.
 */
static long
run_window(struct srv *s, long total, long window, mkreq_fn mk, void *ctx)
{
	char	 buf[REQ_BYTES], *line;
	long	 sent = 0, done = 0, errors = 0, first = s->next_id;
	size_t	 len;

	while (done < total) {
		while (sent < total && sent - done < window) {
			len = mk(buf, sizeof buf, s->next_id++, ctx);
			srv_write(s, buf, len);
			sent++;
		}
		if ((line = srv_line(s, READ_TIMEOUT_MS)) == NULL)
			die("server stopped answering after %ld of %ld", done,
			    total);
		if (response_id(line) < first)
			continue;
		done++;
		if (is_error(line)) {
			if (errors == 0)
				fprintf(stderr, "driver: first error: %.300s\n",
				    line);
			errors++;
		}
	}
	return (errors);
}

/*
 * Write the requests; with a window, never more than that many ahead of
 * the answers read (a server may refuse what goes past its own limit of
 * requests in flight), in batches of up to 64.
 */
static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	size_t		 off = 0, end;
	ssize_t		 n;
	long		 sent = 0, upto;

	while (off < w->len) {
		end = w->len;
		if (w->window > 0) {
			while (sent - *w->done >= w->window)
				sched_yield();
			upto = *w->done + w->window;
			if (upto > sent + 64)
				upto = sent + 64;
			if (upto > w->n)
				upto = w->n;
			end = w->ends[upto - 1];
			sent = upto;
		}
		while (off < end) {
			if ((n = write(w->fd, w->buf + off, end - off)) == -1) {
				if (errno == EINTR)
					continue;
				return (NULL);
			}
			off += (size_t)n;
		}
	}
	return (NULL);
}

/*
 * n requests written by one thread while this one reads, at most window
 * unanswered (0: no limit); per second.
 */
static double
pipelined(struct srv *s, long n, long window, mkreq_fn mk, void *ctx)
{
	struct writer	 w;
	pthread_t	 th;
	char		*buf, *line;
	size_t		 len = 0, cap = (size_t)n * REQ_BYTES, *ends;
	long		 i, first = s->next_id, errors = 0;
	volatile long	 done = 0;
	int64_t		 t0, t1;

	if ((buf = malloc(cap)) == NULL ||
	    (ends = calloc((size_t)n, sizeof *ends)) == NULL)
		die("malloc");
	for (i = 0; i < n; i++) {
		len += mk(buf + len, cap - len, s->next_id++, ctx);
		ends[i] = len;
	}
	w.fd = s->in;
	w.buf = buf;
	w.len = len;
	w.ends = ends;
	w.n = n;
	w.window = window;
	w.done = &done;
	t0 = now_ns();
	if ((errno = pthread_create(&th, NULL, writer_main, &w)) != 0)
		die("pthread_create: %s", strerror(errno));
	while (done < n) {
		if ((line = srv_line(s, READ_TIMEOUT_MS)) == NULL)
			die("pipelined: %ld of %ld answered", done, n);
		if (response_id(line) < first)
			continue;
		if (is_error(line))
			errors++;
		__atomic_add_fetch(&done, 1, __ATOMIC_RELEASE);
	}
	t1 = now_ns();
	pthread_join(th, NULL);
	free(buf);
	free(ends);
	if (errors > 0)
		die("pipelined: %ld errors", errors);
	return ((double)n * 1e9 / (double)(t1 - t0));
}

/* Dispatch one lane and return its handle in h. */
static void
dispatch_one(struct srv *s, char *h)
{
	char	*line;

	timed(s, mk_dispatch, NULL, &line);
	if (is_error(line) || find_handle(line, h) == -1)
		die("dispatch_unit failed: %.300s", line);
}

/* Page through dispatch_list; returns the records seen. */
static long
list_all(struct srv *s)
{
	char		 params[256], cursor[64], *line;
	const char	*p;
	long		 seen = 0;
	int		 pages;

	cursor[0] = '\0';
	for (pages = 0; pages < 1000; pages++) {
		if (cursor[0] == '\0')
			snprintf(params, sizeof params, "{\"name\":"
			    "\"dispatch_list\",\"arguments\":{}}");
		else
			snprintf(params, sizeof params, "{\"name\":"
			    "\"dispatch_list\",\"arguments\":{\"cursor\":"
			    "\"%s\"}}", cursor);
		line = srv_request(s, "tools/call", params);
		if (is_error(line))
			die("dispatch_list: %.300s", line);
		for (p = line; (p = strstr(p, "\"handle\":")) != NULL; p++)
			seen++;
		if ((p = strstr(line, "\"next_cursor\":\"")) == NULL)
			break;
		p += strlen("\"next_cursor\":\"");
		snprintf(cursor, sizeof cursor, "%.*s",
		    (int)strcspn(p, "\""), p);
	}
	/* Counted in structuredContent; the text has them escaped. */
	return (seen);
}

/* The commands. */

static int
cmd_cold(int runs, int init_only, char *const argv[])
{
	struct srv	*s;
	double		 init[MAX_SAMPLES], list[MAX_SAMPLES];
	static const char list_line[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n";
	int		 r;

	/* Run -1 warms the page cache and is not counted. */
	for (r = -1; r < runs; r++) {
		s = srv_start(argv);
		srv_write(s, init_line, sizeof init_line - 1);
		srv_wait_id(s, 0);
		if (r >= 0)
			init[r] = (double)(now_ns() - s->t_start) / 1e6;
		if (!init_only) {
			srv_write(s, initialized_line,
			    sizeof initialized_line - 1);
			srv_write(s, list_line, sizeof list_line - 1);
			srv_wait_id(s, 1);
			if (r >= 0)
				list[r] = (double)(now_ns() - s->t_start) /
				    1e6;
		}
		srv_stop(s, 5000);
	}
	emit("cold_init", "ms", init, runs);
	if (!init_only)
		emit("cold_list", "ms", list, runs);
	return (0);
}

static int
cmd_mem(int runs, int with_status, int records, char *const argv[])
{
	struct srv	*s;
	struct mem	 m;
	double		 rss_idle[MAX_SAMPLES], hwm_idle[MAX_SAMPLES];
	double		 pss_idle[MAX_SAMPLES], rss_10k[MAX_SAMPLES];
	double		 hwm_10k[MAX_SAMPLES], rss_rec[MAX_SAMPLES];
	double		 hwm_rec[MAX_SAMPLES], slope[MAX_SAMPLES];
	double		 x[5], y[5], mx, my, sxy, sxx;
	char		 handle[40];
	long		 done, held, errors;
	int		 r, base, q, i;

	for (r = 0; r < runs; r++) {
		s = srv_start_init(argv);
		sleep_ms(300);
		base = tree_count(s->pid);
		tree_mem(s->pid, &m);
		rss_idle[r] = m.rss_kb / 1024;
		hwm_idle[r] = m.hwm_kb / 1024;
		pss_idle[r] = m.pss_kb / 1024;

		/* 10,000 requests, 64 at a time. */
		if (with_status) {
			dispatch_one(s, handle);
			if (wait_tree(s->pid, base, 10000) == -1)
				die("the lane did not exit");
			errors = run_window(s, 10000, 64, mk_mixed, handle);
		} else
			errors = run_window(s, 10000, 64, mk_ping, NULL);
		if (errors > 0)
			die("%ld of 10,000 requests failed", errors);
		sleep_ms(100);
		tree_mem(s->pid, &m);
		rss_10k[r] = m.rss_kb / 1024;
		hwm_10k[r] = m.hwm_kb / 1024;

		if (records > 0) {
			held = with_status ? 1 : 0;
			for (q = 0, done = 0; q < 5; q++) {
				if (q > 0) {
					errors = run_window(s, records / 4,
					    16, mk_dispatch, NULL);
					if (errors > 0)
						die("%ld dispatches failed",
						    errors);
					done += records / 4;
				}
				if (wait_tree(s->pid, base, 30000) == -1)
					die("lanes did not exit");
				sleep_ms(50);
				tree_mem(s->pid, &m);
				x[q] = (double)done;
				y[q] = m.rss_kb * 1024;
			}
			if (list_all(s) != done + held)
				die("dispatch_list did not show every record");
			sleep_ms(50);
			tree_mem(s->pid, &m);
			rss_rec[r] = m.rss_kb / 1024;
			hwm_rec[r] = m.hwm_kb / 1024;
			/* Least squares: bytes of RSS per record. */
			for (i = 0, mx = my = 0; i < 5; i++) {
				mx += x[i] / 5;
				my += y[i] / 5;
			}
			for (i = 0, sxy = sxx = 0; i < 5; i++) {
				sxy += (x[i] - mx) * (y[i] - my);
				sxx += (x[i] - mx) * (x[i] - mx);
			}
			slope[r] = sxy / sxx;
		}
		srv_stop(s, 10000);
	}
	emit("rss_idle", "MiB", rss_idle, runs);
	emit("hwm_idle", "MiB", hwm_idle, runs);
	emit("pss_idle", "MiB", pss_idle, runs);
	emit("rss_10k", "MiB", rss_10k, runs);
	emit("hwm_10k", "MiB", hwm_10k, runs);
	if (records > 0) {
		emit("rss_rec", "MiB", rss_rec, runs);
		emit("hwm_rec", "MiB", hwm_rec, runs);
		emit("rec_slope", "bytes", slope, runs);
	}
	return (0);
}

/* rounds of seq one-at-a-time requests: p50 and p99 of each round. */
static void
seq_rounds(struct srv *s, int rounds, int seq, mkreq_fn mk, void *ctx,
    double *p50, double *p99)
{
	double	*lat;
	char	*line;
	int	 r, i;

	if ((lat = calloc((size_t)seq, sizeof *lat)) == NULL)
		die("calloc");
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < seq; i++) {
			lat[i] = timed(s, mk, ctx, &line);
			if (is_error(line))
				die("request failed: %.300s", line);
		}
		p50[r] = quantile(lat, seq, 0.50);
		p99[r] = quantile(lat, seq, 0.99);
	}
	free(lat);
}

static int
cmd_lat(int rounds, int seq, long npipe, int with_status,
    char *const argv[])
{
	struct srv	*s;
	double		 p50[MAX_SAMPLES], p99[MAX_SAMPLES];
	double		 rate[MAX_SAMPLES], warm[1];
	char		 handle[40];
	int		 r, base;

	s = srv_start_init(argv);
	sleep_ms(100);
	base = tree_count(s->pid);
	seq_rounds(s, 1, 1000, mk_ping, NULL, warm, warm);
	seq_rounds(s, rounds, seq, mk_ping, NULL, p50, p99);
	for (r = 0; r < rounds; r++)
		rate[r] = pipelined(s, npipe, 0, mk_ping, NULL);
	emit("ping_p50", "us", p50, rounds);
	emit("ping_p99", "us", p99, rounds);
	emit("ping_rate", "per_s", rate, rounds);
	if (with_status) {
		dispatch_one(s, handle);
		if (wait_tree(s->pid, base, 10000) == -1)
			die("the lane did not exit");
		seq_rounds(s, 1, 1000, mk_status, handle, warm, warm);
		seq_rounds(s, rounds, seq, mk_status, handle, p50, p99);
		for (r = 0; r < rounds; r++)
			/* Within the 1024 requests a server holds in flight. */
			rate[r] = pipelined(s, npipe, 512, mk_status,
			    handle);
		emit("status_p50", "us", p50, rounds);
		emit("status_p99", "us", p99, rounds);
		emit("status_rate", "per_s", rate, rounds);
	}
	srv_stop(s, 10000);
	return (0);
}

/* The lane's stamp: CLOCK_MONOTONIC ns, waiting up to wait_ms for it. */
static int64_t
read_stamp(const char *path, int wait_ms)
{
	char	buf[64];
	size_t	n;
	int64_t	deadline = now_ns() + (int64_t)wait_ms * 1000000;

	do {
		n = read_small(path, buf, sizeof buf);
		if (n > 0 && buf[n - 1] == '\n')
			return (strtoll(buf, NULL, 10));
		usleep(200);
	} while (now_ns() < deadline);
	die("no stamp in %s after %d ms", path, wait_ms);
}

static const char *
stamp_path(void)
{
	const char	*p = getenv("BENCH_STAMP");

	if (p == NULL || *p != '/')
		die("BENCH_STAMP must be an absolute path");
	return (p);
}

/*
 * The floor of a dispatch, one sample: posix_spawn of the lane to its
 * first instruction, then a 1 KiB append and fsync on fd.
 */
static void
spawn_floor(const char *lane, const char *stamp, int fd, double *sp,
    double *fs)
{
	char		 env_stamp[1100], block[1024];
	char		*envp[] = { env_stamp, "PATH=/usr/bin:/bin", "HOME=/",
			    NULL };
	char		*largv[] = { (char *)lane, (char *)org, (char *)repo,
			    "--host", "localhost", "--max", "50", NULL };
	int64_t		 t0, ts;
	pid_t		 pid;
	int		 status;

	snprintf(env_stamp, sizeof env_stamp, "BENCH_STAMP=%s", stamp);
	memset(block, 'a', sizeof block);
	block[sizeof block - 1] = '\n';
	unlink(stamp);
	t0 = now_ns();
	if ((errno = posix_spawn(&pid, lane, NULL, NULL, largv, envp)) != 0)
		die("posix_spawn %s: %s", lane, strerror(errno));
	if (waitpid(pid, &status, 0) == -1 || status != 0)
		die("the lane failed");
	ts = read_stamp(stamp, 5000);
	*sp = (double)(ts - t0) / 1e6;

	t0 = now_ns();
	if (write(fd, block, sizeof block) != (ssize_t)sizeof block ||
	    fsync(fd) == -1)
		die("append: %s", strerror(errno));
	*fs = (double)(now_ns() - t0) / 1e6;
}

/*
 * The stamp of a lane dispatched over ssh or Slurm, which can take
 * seconds: past 2 s without one, the dispatch's status is asked every
 * half second, so that a lane that ended without a stamp is reported at
 * once, with the answer.
 */
static int64_t
lane_stamp(struct srv *s, const char *stamp, const char *handle,
    int wait_ms)
{
	char	 buf[64], *line = NULL;
	size_t	 n;
	int64_t	 t0 = now_ns(), next = t0 + 2000000000LL;
	int	 ended = 0;

	for (;;) {
		n = read_small(stamp, buf, sizeof buf);
		if (n > 0 && buf[n - 1] == '\n')
			return (strtoll(buf, NULL, 10));
		if (ended)
			die("the lane ended without a stamp: %.800s", line);
		if (now_ns() - t0 > (int64_t)wait_ms * 1000000)
			die("no stamp in %s after %d ms", stamp, wait_ms);
		if (now_ns() >= next) {
			timed(s, mk_status, (void *)handle, &line);
			/* One more look at the stamp first. */
			ended = strstr(line, "\"status\":\"running\"") == NULL;
			next = now_ns() + 500000000LL;
			continue;
		}
		usleep(200);
	}
}

/* The value of NAME in our environment, as "NAME=value", or NULL. */
static char *
env_pair(const char *name, size_t len)
{
	extern char	**environ;
	char		**e;

	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return (*e);
	return (NULL);
}

/*
 * The floor of a dispatch through a real lane program, one sample: the
 * program started alone, as the server starts it, to the first
 * instruction of lane-stamp at its far end.  It gets the server's
 * argument vector and environment (PATH, HOME, USER, LOGNAME, LANG,
 * SSH_AUTH_SOCK, the names in DISPATCH_ENV_PASS, a fresh DISPATCH_HANDLE
 * and the target), the task on stdin and its output thrown away; it must
 * exit 0.  It dies with us.
 */
static double
lane_alone(const char *lane, const char *stamp, long run, int wait_ms)
{
	static const char *const fixed[] = { "HOME", "USER", "LOGNAME",
			    "LANG", "SSH_AUTH_SOCK" };
	static char	 handle[64], ouser[300], orepo[300], ogh[300];
	char		 task[64], buf[64];
	char		*envp[64], *largv[8], *e;
	const char	*host = getenv("DISPATCH_SSH_HOST"), *p;
	size_t		 i, n, len;
	int64_t		 t0, ts, deadline;
	pid_t		 pid;
	int		 in[2], null, status;

	n = 0;
	envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if ((e = env_pair(fixed[i], strlen(fixed[i]))) != NULL)
			envp[n++] = e;
	/* DISPATCH_ENV_PASS: names separated by commas. */
	for (p = getenv("DISPATCH_ENV_PASS"); p != NULL && *p != '\0';) {
		len = strcspn(p, ",");
		if (len > 0 && n < 56 && (e = env_pair(p, len)) != NULL)
			envp[n++] = e;
		p += len;
		if (*p == ',')
			p++;
	}
	snprintf(handle, sizeof handle, "DISPATCH_HANDLE=dsp-%08lx%08lx%016llx",
	    (unsigned long)getpid() & 0xffffffffUL,
	    (unsigned long)run & 0xffffffffUL,
	    (unsigned long long)now_ns());
	snprintf(ouser, sizeof ouser, "DISPATCH_ORGUSER=%s", org);
	snprintf(orepo, sizeof orepo, "DISPATCH_REPO=%s", repo);
	envp[n++] = handle;
	envp[n++] = ouser;
	/* The server's value for a target without "github": the repo. */
	snprintf(ogh, sizeof ogh, "DISPATCH_GITHUB=%s", repo);
	envp[n++] = orepo;
	envp[n++] = ogh;
	envp[n] = NULL;
	largv[0] = (char *)lane;
	largv[1] = (char *)org;
	largv[2] = (char *)repo;
	largv[3] = "--host";
	largv[4] = (char *)(host != NULL ? host : "localhost");
	largv[5] = "--max";
	largv[6] = "50";
	largv[7] = NULL;

	/* The task fits the pipe: written whole before the start. */
	len = (size_t)snprintf(task, sizeof task, "benchmark unit alone %ld",
	    run);
	if (pipe2(in, O_CLOEXEC) == -1 ||
	    write(in[1], task, len) != (ssize_t)len || close(in[1]) == -1)
		die("task pipe: %s", strerror(errno));
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		die("open /dev/null: %s", strerror(errno));
	unlink(stamp);
	t0 = now_ns();
	switch (pid = fork()) {
	case -1:
		die("fork: %s", strerror(errno));
	case 0:
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], 0) == -1 || dup2(null, 1) == -1)
			_exit(126);
		execve(lane, largv, envp);
		_exit(127);
	}
	close(in[0]);
	close(null);
	/*
	 * The stamp, unless the lane ends first: its far end stamps before
	 * it exits, and the lane exits after it, so a lane that has ended
	 * without a stamp failed.
	 */
	deadline = t0 + (int64_t)wait_ms * 1000000;
	status = 0;
	for (;;) {
		n = read_small(stamp, buf, sizeof buf);
		if (n > 0 && buf[n - 1] == '\n')
			break;
		if (pid != -1 && waitpid(pid, &status, WNOHANG) == pid) {
			if (status != 0)
				die("%s alone failed: wait status 0x%x", lane,
				    status);
			pid = -1;
			continue;	/* one more look */
		}
		if (pid == -1)
			die("%s alone exited 0 without a stamp in %s", lane,
			    stamp);
		if (now_ns() > deadline)
			die("no stamp in %s after %d ms", stamp, wait_ms);
		usleep(200);
	}
	ts = strtoll(buf, NULL, 10);
	if (pid != -1 && (waitpid(pid, &status, 0) == -1 || status != 0))
		die("%s alone failed: wait status 0x%x", lane, status);
	return ((double)(ts - t0) / 1e6);
}

/*
 * Each run dispatches one lane through the server, then measures the
 * floor, so that both see the same machine; the first warm runs are not
 * counted.  With a name, the lane is a real lane program and its floor
 * that program alone; else the floor is posix_spawn of the lane and an
 * fsync of a 1 KiB append to the file held open.
 */
static int
cmd_overhead(int runs, int warm, const char *append, const char *name,
    char *const argv[])
{
	struct srv	*s;
	const char	*stamp = stamp_path(), *lane;
	double		 lane_ms[MAX_SAMPLES], resp[MAX_SAMPLES];
	double		 sp[MAX_SAMPLES], fs[MAX_SAMPLES], tot[MAX_SAMPLES];
	double		 a, b;
	char		 buf[REQ_BYTES], key[64], handle[40], *line;
	size_t		 len;
	int64_t		 t0, t1, ts;
	long		 id;
	int		 r, base, fd = -1;
	int		 wait_ms = name != NULL ? 60000 : 5000;
	const char	*mine = tag;	/* -t: "ours", or "nocg" beside it */

	if ((lane = getenv("DISPATCH_COMMAND")) == NULL || *lane != '/')
		die("DISPATCH_COMMAND must be the lane's absolute path");
	/* Held open, as the audit log is. */
	if (name == NULL && (fd = open(append, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1)
		die("open %s: %s", append, strerror(errno));
	s = srv_start_init(argv);
	sleep_ms(100);
	base = tree_count(s->pid);
	for (r = -warm; r < runs; r++) {
		unlink(stamp);
		id = s->next_id++;
		len = mk_dispatch(buf, sizeof buf, id, NULL);
		t0 = now_ns();
		srv_write(s, buf, len);
		line = srv_wait_id(s, id);
		t1 = now_ns();
		if (is_error(line) || find_handle(line, handle) == -1)
			die("dispatch_unit failed: %.300s", line);
		if (name != NULL)
			ts = lane_stamp(s, stamp, handle, wait_ms);
		else
			ts = read_stamp(stamp, wait_ms);
		if (wait_tree(s->pid, base, wait_ms * 2) == -1)
			die("the lane did not exit");
		sleep_ms(10);
		if (name != NULL) {
			a = lane_alone(lane, stamp, r + warm, wait_ms);
			b = 0;
		} else
			spawn_floor(lane, stamp, fd, &a, &b);
		if (r >= 0) {
			lane_ms[r] = (double)(ts - t0) / 1e6;
			resp[r] = (double)(t1 - t0) / 1e6;
			sp[r] = a;
			fs[r] = b;
			tot[r] = a + b;
		}
		sleep_ms(10);
	}
	srv_stop(s, 10000);
	if (fd != -1)
		close(fd);
	tag = mine;
	if (name != NULL) {
		snprintf(key, sizeof key, "disp_lane_%s", name);
		emit(key, "ms", lane_ms, runs);
		snprintf(key, sizeof key, "disp_resp_%s", name);
		emit(key, "ms", resp, runs);
		tag = "limit";
		snprintf(key, sizeof key, "lane_%s", name);
		emit(key, "ms", sp, runs);
		return (0);
	}
	emit("disp_lane", "ms", lane_ms, runs);
	emit("disp_resp", "ms", resp, runs);
	/* The same server beside itself: the floor is measured once. */
	if (strcmp(mine, "ours") != 0)
		return (0);
	tag = "limit";
	emit("disp_spawn", "ms", sp, runs);
	emit("disp_fsync", "ms", fs, runs);
	emit("disp_total", "ms", tot, runs);
	return (0);
}

/* Free TCP ports on 127.0.0.1, all held until all are found. */
static int
cmd_port(int count)
{
	struct sockaddr_in	sin;
	socklen_t		len;
	int			fds[16], i;

	for (i = 0; i < count; i++) {
		len = sizeof sin;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1 ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof sin) == -1 ||
		    getsockname(fds[i], (struct sockaddr *)&sin, &len) == -1)
			die("a free port: %s", strerror(errno));
		printf("%s%d", i > 0 ? " " : "", ntohs(sin.sin_port));
	}
	printf("\n");
	for (i = 0; i < count; i++)
		close(fds[i]);
	return (0);
}

static int
cmd_scale(int rounds, long count, const long *ks, int nks,
    char *const argv[])
{
	struct srv	*s;
	double		 rate[MAX_SAMPLES], busy[MAX_SAMPLES];
	char		 key[64];
	int64_t		 t0;
	int		 r, i, base;

	s = srv_start_init(argv);
	sleep_ms(100);
	base = tree_count(s->pid);
	for (i = 0; i < nks; i++) {
		for (r = 0; r < rounds; r++) {
			t0 = now_ns();
			busy[r] = (double)run_window(s, count, ks[i],
			    mk_dispatch, NULL);
			rate[r] = (double)count * 1e9 /
			    (double)(now_ns() - t0);
			if (wait_tree(s->pid, base, 60000) == -1)
				die("lanes did not exit");
		}
		snprintf(key, sizeof key, "scale_%ld", ks[i]);
		emit(key, "per_s", rate, rounds);
		snprintf(key, sizeof key, "scale_%ld_refused", ks[i]);
		emit(key, "count", busy, rounds);
	}
	srv_stop(s, 10000);
	return (0);
}

static int
cmd_busy(int lanes, int rounds, int seq, char *const argv[])
{
	static pid_t	 server[16];
	struct srv	*s;
	struct mem	 m;
	double		 p50[MAX_SAMPLES], p99[MAX_SAMPLES];
	double		 sp50[MAX_SAMPLES], sp99[MAX_SAMPLES], v[4];
	char		 handle[40];
	int64_t		 t0, deadline;
	long		 errors;
	int		 base, running, nserver;

	s = srv_start_init(argv);
	sleep_ms(100);
	nserver = tree_pids(s->pid, server, 16);
	base = nserver;
	t0 = now_ns();
	dispatch_one(s, handle);
	errors = run_window(s, lanes - 1, 16, mk_dispatch, NULL);
	if (errors > 0)
		die("%ld of %d dispatches refused", errors, lanes);
	v[0] = (double)lanes * 1e9 / (double)(now_ns() - t0);
	emit("busy_dispatch_rate", "per_s", v, 1);
	deadline = now_ns() + 10000000000LL;
	while ((running = tree_count(s->pid) - base) < lanes &&
	    now_ns() < deadline)
		sleep_ms(5);
	v[0] = running;
	emit("busy_running", "count", v, 1);
	mem_of(server, nserver, &m);
	v[0] = m.rss_kb / 1024;
	emit("busy_server_rss", "MiB", v, 1);
	tree_mem(s->pid, &m);
	v[0] = m.rss_kb / 1024;
	emit("busy_tree_rss", "MiB", v, 1);

	seq_rounds(s, 1, 500, mk_ping, NULL, v, v);
	seq_rounds(s, rounds, seq, mk_ping, NULL, p50, p99);
	seq_rounds(s, rounds, seq, mk_status, handle, sp50, sp99);
	running = tree_count(s->pid) - base;
	if (running < lanes)
		fprintf(stderr, "driver: only %d of %d lanes were still "
		    "running at the end\n", running, lanes);
	v[0] = running;
	emit("busy_running_end", "count", v, 1);
	emit("busy_ping_p50", "us", p50, rounds);
	emit("busy_ping_p99", "us", p99, rounds);
	emit("busy_status_p50", "us", sp50, rounds);
	emit("busy_status_p99", "us", sp99, rounds);
	v[0] = srv_stop(s, 60000);
	emit("busy_shutdown", "ms", v, 1);
	return (0);
}

/*
 * dispatch_unit -> response, one at a time, each lane gone before the
 * next: the broker reads and resolves the allowlist on every dispatch,
 * so run with a small and with a large DISPATCH_REPOS_JSON.
 */
static int
cmd_allow(int runs, char *const argv[])
{
	struct srv	*s;
	double		 resp[MAX_SAMPLES];
	char		 handle[40];
	int64_t		 t0;
	int		 r, base;

	s = srv_start_init(argv);
	sleep_ms(100);
	base = tree_count(s->pid);
	for (r = -2; r < runs; r++) {
		t0 = now_ns();
		dispatch_one(s, handle);
		if (r >= 0)
			resp[r] = (double)(now_ns() - t0) / 1e6;
		if (wait_tree(s->pid, base, 10000) == -1)
			die("the lane did not exit");
	}
	srv_stop(s, 10000);
	emit("allow_resp", "ms", resp, runs);
	return (0);
}

/*
 * SHA-256 (FIPS 180-4), for the audit chain of the records "history"
 * writes: the driver builds with the C library alone.
 */
static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n)	((x) >> (n) | (x) << (32 - (n)))

static void
sha_block(uint32_t *h, const unsigned char *b)
{
	uint32_t	w[64], a, bb, c, d, e, f, g, hh, t1, t2;
	int		i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		    (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		    w[i - 15] >> 3) + w[i - 7] + (ROR(w[i - 2], 17) ^
		    ROR(w[i - 2], 19) ^ w[i - 2] >> 10);
	a = h[0]; bb = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & bb) ^ (a & c) ^ (bb & c));
		hh = g; g = f; f = e; e = d + t1;
		d = c; c = bb; bb = a; a = t1 + t2;
	}
	h[0] += a; h[1] += bb; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* The lowercase hex SHA-256 of buf, into hex (65 bytes). */
static void
sha256_hex(const char *buf, size_t len, char *hex)
{
	uint32_t	 h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
			    0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
			    0x5be0cd19 };
	unsigned char	 blk[64];
	uint64_t	 bits = (uint64_t)len * 8;
	size_t		 i, n;

	for (i = 0; i + 64 <= len; i += 64)
		sha_block(h, (const unsigned char *)buf + i);
	n = len - i;
	memset(blk, 0, sizeof blk);
	memcpy(blk, buf + i, n);
	blk[n] = 0x80;
	if (n >= 56) {
		sha_block(h, blk);
		memset(blk, 0, sizeof blk);
	}
	for (i = 0; i < 8; i++)
		blk[63 - i] = (unsigned char)(bits >> (8 * i));
	sha_block(h, blk);
	for (i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", h[i]);
}

/* A record line of the log: its seq and the rest after "prev". */
static char *
log_line(char *buf, const char *event, const char *handle)
{
	char	 ev[64], hk[64], *line, *save = NULL;

	snprintf(ev, sizeof ev, "\"event\":\"%s\"", event);
	snprintf(hk, sizeof hk, "\"handle\":\"%s\"", handle);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, ev) != NULL && strstr(line, hk) != NULL)
			return (line);
	return (NULL);
}

static char *
read_all(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		die("open %s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		die("malloc");
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		die("read %s", path);
	buf[st.st_size] = '\0';
	close(fd);
	*lenp = (size_t)st.st_size;
	return (buf);
}

/*
 * Extend the log to records lines with copies of one dispatch and its
 * exit, each pair under a handle of its own, chained to the line
 * before.  Returns the bytes of one real dispatch and exit.
 */
static long
grow_log(const char *path, const char *handle, long records)
{
	char	*buf, *all, *d, *e, *tpl[2], *rest, *p, prev[65], hh[40];
	char	 hdr[128];
	size_t	 len, n, lens[2];
	long	 lines = 0, seq = 0, pair_bytes, k;
	FILE	*f;
	int	 i;

	all = read_all(path, &len);
	for (p = all; (p = memchr(p, '\n', len - (size_t)(p - all))) != NULL;
	    p++)
		lines++;
	/* The head: the last line's seq and hash. */
	all[len - 1] = '\0';
	p = strrchr(all, '\n');
	p = p == NULL ? all : p + 1;
	sha256_hex(p, strlen(p), prev);
	seq = strtol(p + strlen("{\"seq\":"), NULL, 10);
	all[len - 1] = '\n';
	buf = read_all(path, &len);
	if ((d = log_line(buf, "dispatch", handle)) == NULL)
		die("history: no dispatch record of %s", handle);
	d = strdup(d);
	free(buf);
	buf = read_all(path, &len);
	if ((e = log_line(buf, "exit", handle)) == NULL)
		die("history: no exit record of %s", handle);
	e = strdup(e);
	free(buf);
	free(all);
	pair_bytes = (long)(strlen(d) + strlen(e) + 2);
	/* What follows "prev":"...", in each template. */
	tpl[0] = strstr(d, "\",\"ts\":");
	tpl[1] = strstr(e, "\",\"ts\":");
	if (tpl[0] == NULL || tpl[1] == NULL)
		die("history: records without ts");
	tpl[0]++;
	tpl[1]++;
	lens[0] = strlen(tpl[0]);
	lens[1] = strlen(tpl[1]);
	if ((f = fopen(path, "a")) == NULL)
		die("open %s: %s", path, strerror(errno));
	if ((buf = malloc(lens[0] + lens[1] + 256)) == NULL)
		die("malloc");
	for (k = 0; lines + 2 <= records; k++, lines += 2) {
		snprintf(hh, sizeof hh, "dsp-%032lx", 0xb000000000L + k);
		for (i = 0; i < 2; i++) {
			n = (size_t)snprintf(hdr, sizeof hdr,
			    "{\"seq\":%ld,\"prev\":\"%s\"", ++seq, prev);
			memcpy(buf, hdr, n);
			memcpy(buf + n, tpl[i], lens[i]);
			n += lens[i];
			buf[n] = '\0';
			if ((rest = strstr(buf, handle)) == NULL)
				die("history: no handle in a template");
			memcpy(rest, hh, 36);
			sha256_hex(buf, n, prev);
			buf[n++] = '\n';
			if (fwrite(buf, 1, n, f) != n)
				die("write %s", path);
		}
	}
	if (fclose(f) == EOF)
		die("close %s", path);
	free(buf);
	free(d);
	free(e);
	return (pair_bytes);
}

static size_t
mk_list_log(char *buf, size_t len, long id, void *ctx)
{
	const char	*cur = ctx;

	return ((size_t)snprintf(buf, len, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":"
	    "\"dispatch_list\",\"arguments\":{\"scope\":\"log\"%s%s%s}}}\n",
	    id, cur != NULL ? ",\"cursor\":\"" : "", cur != NULL ? cur : "",
	    cur != NULL ? "\"" : ""));
}

static int
cmd_history(int rounds, int seq, long records, char *const argv[])
{
	struct srv	*s;
	double		 first[MAX_SAMPLES], p50[MAX_SAMPLES], p99[MAX_SAMPLES];
	double		 lp50[MAX_SAMPLES], lp99[MAX_SAMPLES];
	double		 list1[MAX_SAMPLES], listz[MAX_SAMPLES], bytes[1];
	double		 size[1], warm[1];
	const char	*path = getenv("DISPATCH_AUDIT_LOG");
	char		 old[40], mine[40], *line;
	struct stat	 st;
	int		 r, base;

	if (path == NULL)
		die("history: DISPATCH_AUDIT_LOG is not set");
	/* The first server: real dispatches, then a clean exit. */
	s = srv_start_init(argv);
	sleep_ms(100);
	base = tree_count(s->pid);
	for (r = 0; r < 3; r++) {
		dispatch_one(s, r == 0 ? old : mine);
		if (wait_tree(s->pid, base, 10000) == -1)
			die("the lane did not exit");
	}
	/* Its result is final before the server goes. */
	timed(s, mk_status, old, &line);
	if (strstr(line, "running") != NULL)
		die("history: the first dispatch is still running");
	srv_stop(s, 10000);
	bytes[0] = (double)grow_log(path, old, records);
	if (stat(path, &st) == -1)
		die("stat %s", path);
	size[0] = (double)st.st_size / (1024.0 * 1024.0);

	for (r = 0; r < rounds; r++) {
		s = srv_start_init(argv);
		sleep_ms(50);
		base = tree_count(s->pid);
		first[r] = timed(s, mk_status, old, &line) / 1000.0;
		if (is_error(line) || strstr(line, "succeeded") == NULL)
			die("history: status of %s: %.300s", old, line);
		seq_rounds(s, 1, 100, mk_status, old, warm, warm);
		seq_rounds(s, 1, seq, mk_status, old, &p50[r], &p99[r]);
		dispatch_one(s, mine);
		if (wait_tree(s->pid, base, 10000) == -1)
			die("the lane did not exit");
		seq_rounds(s, 1, 100, mk_status, mine, warm, warm);
		seq_rounds(s, 1, seq, mk_status, mine, &lp50[r], &lp99[r]);
		list1[r] = timed(s, mk_list_log, NULL, &line) / 1000.0;
		if (is_error(line) || strstr(line, "next_cursor") == NULL)
			die("history: dispatch_list: %.300s", line);
		listz[r] = timed(s, mk_list_log, "l100", &line) / 1000.0;
		if (is_error(line) || strstr(line, old) == NULL)
			die("history: the oldest page: %.300s", line);
		srv_stop(s, 10000);
	}
	tag = "old";
	emit("hist_first", "ms", first, rounds);
	emit("hist_p50", "us", p50, rounds);
	emit("hist_p99", "us", p99, rounds);
	tag = "live";
	emit("hist_p50", "us", lp50, rounds);
	emit("hist_p99", "us", lp99, rounds);
	tag = "ours";
	emit("hist_list_newest", "ms", list1, rounds);
	emit("hist_list_oldest", "ms", listz, rounds);
	emit("hist_pair_bytes", "B", bytes, 1);
	emit("hist_log_size", "MiB", size, 1);
	return (0);
}

/* The report. */

struct figure {
	char	 key[64];
	char	 unit[16];
	int	 step;		/* index into steps[], -1 if none */
	double	 v[MAX_SAMPLES];
	int	 n;
	double	 min;
	double	 med;
	double	 max;
};

enum ratio { R_NONE, R_PEER_OURS, R_OURS_PEER, R_OURS_LIMIT };
enum target { T_NONE, T_RATIO_GE, T_RATIO_LE, T_OURS_LE, T_OURS_LT,
	T_DIFF_LE };

struct row {
	const char	*label;
	const char	*unit;
	const char	*ours;
	const char	*peer;
	const char	*limit;
	enum ratio	 ratio;
	enum target	 target;
	double		 tval;
	const char	*ttext;
};

static const struct row rows[] = {
	{ "cold start -> initialize", "ms", "ours.cold_init",
	    "peer.cold_init", "limit.cold_init", R_PEER_OURS, T_RATIO_GE, 20,
	    "peer/ours >= 20" },
	{ "cold start -> tools/list", "ms", "ours.cold_list",
	    "peer.cold_list", NULL, R_PEER_OURS, T_NONE, 0, NULL },
	{ "total RSS, idle", "MiB", "ours.rss_idle", "peer.rss_idle", NULL,
	    R_OURS_PEER, T_OURS_LE, 4, "ours <= 4 MiB" },
	{ "total RSS, idle, vs peer", "MiB", "ours.rss_idle",
	    "peer.rss_idle", NULL, R_OURS_PEER, T_RATIO_LE, 0.25,
	    "ours/peer <= 0.25" },
	{ "peak RSS (sum VmHWM), idle", "MiB", "ours.hwm_idle",
	    "peer.hwm_idle", NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "total PSS, idle", "MiB", "ours.pss_idle", "peer.pss_idle", NULL,
	    R_OURS_PEER, T_NONE, 0, NULL },
	{ "total RSS after 10k requests", "MiB", "ours.rss_10k",
	    "peer.rss_10k", NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "peak RSS after 10k requests", "MiB", "ours.hwm_10k",
	    "peer.hwm_10k", NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "total RSS, 1000 records held", "MiB", "ours.rss_rec", NULL, NULL,
	    R_NONE, T_NONE, 0, NULL },
	{ "peak RSS, 1000 records held", "MiB", "ours.hwm_rec", NULL, NULL,
	    R_NONE, T_NONE, 0, NULL },
	{ "RSS growth per record", "B/rec", "ours.rec_slope", NULL, NULL,
	    R_NONE, T_NONE, 0, NULL },
	/* ping never crosses the socketpair: it is held to the peers. */
	{ "ping p50", "us", "ours.ping_p50", "peer.ping_p50", NULL,
	    R_OURS_PEER, T_NONE, 0, NULL },
	{ "ping p99", "us", "ours.ping_p99", "peer.ping_p99", NULL,
	    R_OURS_PEER, T_NONE, 0, NULL },
	{ "ping pipelined", "req/s", "ours.ping_rate", "peer.ping_rate",
	    NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "dispatch_status p50", "us", "ours.status_p50", NULL,
	    "limit.rt_p50", R_OURS_LIMIT, T_OURS_LE, 50, "ours <= 50 us" },
	{ "dispatch_status p99", "us", "ours.status_p99", NULL,
	    "limit.rt_p99", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "dispatch_status pipelined", "req/s", "ours.status_rate", NULL,
	    "limit.rt_rate", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "cold start -> initialize (peer 2)", "ms", "ours.cold_init",
	    "peer2.cold_init", NULL, R_PEER_OURS, T_NONE, 0, NULL },
	{ "total RSS, idle (peer 2)", "MiB", "ours.rss_idle",
	    "peer2.rss_idle", NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "total PSS, idle (peer 2)", "MiB", "ours.pss_idle",
	    "peer2.pss_idle", NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "ping p50 (peer 2)", "us", "ours.ping_p50", "peer2.ping_p50",
	    NULL, R_OURS_PEER, T_NONE, 0, NULL },
	{ "dispatch -> lane 1st instruction", "ms", "ours.disp_lane", NULL,
	    "limit.disp_total", R_OURS_LIMIT, T_RATIO_LE, 1.5,
	    "ours/limit <= 1.5" },
	{ "dispatch -> response", "ms", "ours.disp_resp", NULL,
	    "limit.disp_total", R_OURS_LIMIT, T_NONE, 0, NULL },
	/* Lanes in a cgroup each (ours) beside DISPATCH_CGROUP=none. */
	{ "dispatch -> lane, no cgroup", "ms", "nocg.disp_lane", NULL,
	    "limit.disp_total", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "  cgroup cost: ours - none", "ms", "ours.disp_lane", NULL,
	    "nocg.disp_lane", R_OURS_LIMIT, T_DIFF_LE, 0.3,
	    "ours-limit <= 0.3" },
	{ "  limit: posix_spawn -> lane", "ms", NULL, NULL,
	    "limit.disp_spawn", R_NONE, T_NONE, 0, NULL },
	{ "  limit: 1 KiB append + fsync", "ms", NULL, NULL,
	    "limit.disp_fsync", R_NONE, T_NONE, 0, NULL },
	/* "limit" here is the same dispatch with a one-target allowlist. */
	{ "dispatch, 25,000-repo allowlist", "ms", "big.allow_resp", NULL,
	    "small.allow_resp", R_OURS_LIMIT, T_OURS_LT, 50, "ours < 50 ms" },
	/* The limit: the lane program alone, to the same stamp. */
	{ "dispatch -> lane 1st instr., ssh", "ms", "ours.disp_lane_ssh",
	    NULL, "limit.lane_ssh", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "dispatch -> lane 1st instr., Slurm", "ms",
	    "ours.disp_lane_slurm", NULL, "limit.lane_slurm", R_OURS_LIMIT,
	    T_NONE, 0, NULL },
	{ "dispatches/s, 1 in flight", "per_s", "ours.scale_1", NULL, NULL,
	    R_NONE, T_NONE, 0, NULL },
	{ "dispatches/s, 16 in flight", "per_s", "ours.scale_16", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "dispatches/s, 256 in flight", "per_s", "ours.scale_256", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "lanes running (busy test)", "lanes", "ours.busy_running_end",
	    NULL, NULL, R_NONE, T_NONE, 0, NULL },
	{ "ping p50, 1000 lanes running", "us", "ours.busy_ping_p50", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "ping p99, 1000 lanes running", "us", "ours.busy_ping_p99", NULL,
	    NULL, R_NONE, T_OURS_LT, 1000, "ours < 1000 us" },
	{ "dispatch_status p99, 1000 lanes", "us", "ours.busy_status_p99",
	    NULL, NULL, R_NONE, T_NONE, 0, NULL },
	{ "server RSS, 1000 lanes running", "MiB", "ours.busy_server_rss",
	    NULL, NULL, R_NONE, T_NONE, 0, NULL },
	{ "shutdown with 1000 lanes", "ms", "ours.busy_shutdown", NULL, NULL,
	    R_NONE, T_NONE, 0, NULL },
	/*
	 * A 100,000-record audit log: dispatch_status for a handle of an
	 * earlier server, "limit" the same call for one of this server.
	 */
	{ "status, old handle, 1st (indexes)", "ms", "old.hist_first", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "status p50, old | live handle", "us", "old.hist_p50", NULL,
	    "live.hist_p50", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "status p99, old | live handle", "us", "old.hist_p99", NULL,
	    "live.hist_p99", R_OURS_LIMIT, T_NONE, 0, NULL },
	{ "list scope log, newest page", "ms", "ours.hist_list_newest", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "list scope log, oldest page", "ms", "ours.hist_list_oldest", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "log bytes per dispatch + exit", "B", "ours.hist_pair_bytes", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
	{ "log size, 100,000 records", "MiB", "ours.hist_log_size", NULL,
	    NULL, R_NONE, T_NONE, 0, NULL },
};

/*
 * Figures measured only where a lab's daemons could start: the run's
 * meta "lane_NAME" says which lab ran, or "n/a: why" when it could not,
 * and then -s does not ask for the figure.
 */
static const struct {
	const char	*key;
	const char	*meta;
} lab_figs[] = {
	{ "ours.disp_lane_ssh", "lane_ssh" },
	{ "ours.disp_lane_slurm", "lane_slurm" },
};

static const char *const ratio_names[] = {
	NULL, "peer/ours", "ours/peer", "ours/limit"
};

static struct figure	 figs[MAX_FIGURES];
static int		 nfigs;
/* "cmd NAME COMMAND": the step that printed the figures after it. */
static char		*steps[MAX_META][2];
static int		 nsteps;
static char		*meta[MAX_META][2];
static int		 nmeta;

static struct figure *
fig(const char *key)
{
	int	i;

	if (key == NULL)
		return (NULL);
	for (i = 0; i < nfigs; i++)
		if (strcmp(figs[i].key, key) == 0)
			return (&figs[i]);
	return (NULL);
}

static void
load(const char *path)
{
	FILE		*f;
	struct figure	*g;
	double		 tmp[MAX_SAMPLES];
	char		 line[8192], *p, *k, *u, *end, *save;

	if ((f = fopen(path, "r")) == NULL)
		die("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "meta ", 5) == 0) {
			p = line + 5;
			if (nmeta == MAX_META || (end = strchr(p, ' ')) ==
			    NULL)
				continue;
			*end++ = '\0';
			if ((meta[nmeta][0] = strdup(p)) == NULL ||
			    (meta[nmeta][1] = strdup(end)) == NULL)
				die("strdup");
			nmeta++;
			continue;
		}
		if (strncmp(line, "cmd ", 4) == 0) {
			p = line + 4;
			if (nsteps == MAX_META || (end = strchr(p, ' ')) ==
			    NULL)
				continue;
			*end++ = '\0';
			if ((steps[nsteps][0] = strdup(p)) == NULL ||
			    (steps[nsteps][1] = strdup(end)) == NULL)
				die("strdup");
			nsteps++;
			continue;
		}
		if ((k = strtok_r(line, " ", &save)) == NULL ||
		    (u = strtok_r(NULL, " ", &save)) == NULL)
			continue;
		if ((g = fig(k)) == NULL) {
			if (nfigs == MAX_FIGURES)
				die("too many figures");
			g = &figs[nfigs++];
			snprintf(g->key, sizeof g->key, "%s", k);
			snprintf(g->unit, sizeof g->unit, "%s", u);
			g->step = nsteps - 1;
		}
		while ((p = strtok_r(NULL, " ", &save)) != NULL &&
		    g->n < MAX_SAMPLES) {
			g->v[g->n] = strtod(p, &end);
			if (*end == '\0' && isfinite(g->v[g->n]))
				g->n++;
		}
		if (g->n > 0) {
			memcpy(tmp, g->v, sizeof tmp);
			qsort(tmp, (size_t)g->n, sizeof *tmp, cmp_dbl);
			g->min = tmp[0];
			g->max = tmp[g->n - 1];
			g->med = g->n % 2 == 1 ? tmp[g->n / 2] :
			    (tmp[g->n / 2 - 1] + tmp[g->n / 2]) / 2;
		}
	}
	fclose(f);
}

static const char *
meta_value(const char *key)
{
	int	j;

	for (j = 0; j < nmeta; j++)
		if (strcmp(meta[j][0], key) == 0)
			return (meta[j][1]);
	return (NULL);
}

/* Whether the figure key is one whose lab could not run. */
static int
lab_na(const char *key)
{
	const char	*v;
	size_t		 i;

	for (i = 0; key != NULL && i < sizeof lab_figs / sizeof lab_figs[0];
	    i++)
		if (strcmp(lab_figs[i].key, key) == 0)
			return ((v = meta_value(lab_figs[i].meta)) != NULL &&
			    strncmp(v, "n/a", 3) == 0);
	return (0);
}

static const char *
fmt_num(char *buf, size_t len, const struct figure *g)
{
	double	v;

	if (g == NULL || g->n == 0)
		return ("n/a");
	v = g->med;
	if (fabs(v) >= 1000)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.1f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3f", v);
	return (buf);
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
json_fig(FILE *f, const struct figure *g)
{
	if (g == NULL || g->n == 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.6g", g->med);
}

static int
cmd_report(const char *in, const char *out, int strict)
{
	const struct row	*w;
	struct figure		*o, *p, *l, *g;
	const char		*v;
	FILE			*f;
	double			 ratio[sizeof rows / sizeof rows[0]];
	const char		*met[sizeof rows / sizeof rows[0]];
	char			 b1[32], b2[32], b3[32], b4[32];
	size_t			 i;
	int			 j, nmet = 0, nmissed = 0, nna = 0;

	load(in);
	printf("\n%-34s %-6s %10s %10s %10s %8s %-11s %-18s %s\n", "figure",
	    "unit", "ours", "peer", "limit", "ratio", "(ratio of)", "target",
	    "met?");
	for (i = 0; i < 118; i++)
		putchar('-');
	putchar('\n');
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		w = &rows[i];
		o = fig(w->ours);
		p = fig(w->peer);
		l = fig(w->limit);
		ratio[i] = NAN;
		if (o != NULL && o->n > 0) {
			if (w->ratio == R_PEER_OURS && p != NULL && p->n > 0)
				ratio[i] = p->med / o->med;
			else if (w->ratio == R_OURS_PEER && p != NULL &&
			    p->n > 0)
				ratio[i] = o->med / p->med;
			else if (w->ratio == R_OURS_LIMIT && l != NULL &&
			    l->n > 0)
				ratio[i] = o->med / l->med;
		}
		met[i] = NULL;
		switch (w->target) {
		case T_NONE:
			break;
		case T_RATIO_GE:
			met[i] = isnan(ratio[i]) ? "n/a" :
			    ratio[i] >= w->tval ? "MET" : "MISSED";
			break;
		case T_RATIO_LE:
			met[i] = isnan(ratio[i]) ? "n/a" :
			    ratio[i] <= w->tval ? "MET" : "MISSED";
			break;
		case T_OURS_LE:
			met[i] = o == NULL || o->n == 0 ? "n/a" :
			    o->med <= w->tval ? "MET" : "MISSED";
			break;
		case T_OURS_LT:
			met[i] = o == NULL || o->n == 0 ? "n/a" :
			    o->med < w->tval ? "MET" : "MISSED";
			break;
		case T_DIFF_LE:
			met[i] = o == NULL || o->n == 0 || l == NULL ||
			    l->n == 0 ? "n/a" : o->med - l->med <= w->tval ?
			    "MET" : "MISSED";
			break;
		}
		if (met[i] != NULL) {
			if (strcmp(met[i], "MET") == 0)
				nmet++;
			else if (strcmp(met[i], "MISSED") == 0)
				nmissed++;
			else
				nna++;
		}
		if (isnan(ratio[i]))
			snprintf(b4, sizeof b4, "%s", w->ratio == R_NONE ?
			    "" : "n/a");
		else
			snprintf(b4, sizeof b4, "%.2fx", ratio[i]);
		printf("%-34s %-6s %10s %10s %10s %8s %-11s %-18s %s\n",
		    w->label, w->unit,
		    w->ours != NULL ? fmt_num(b1, sizeof b1, o) : "",
		    w->peer != NULL ? fmt_num(b2, sizeof b2, p) : "",
		    w->limit != NULL ? fmt_num(b3, sizeof b3, l) : "", b4,
		    w->ratio == R_NONE ? "" : ratio_names[w->ratio],
		    w->ttext != NULL ? w->ttext : "",
		    met[i] != NULL ? met[i] : "");
	}
	printf("\nvalues are medians over the runs or rounds below; "
	    "ratios and targets use the medians\n");
	printf("targets: %d MET, %d MISSED, %d n/a\n", nmet, nmissed, nna);
	for (i = 0; i < sizeof lab_figs / sizeof lab_figs[0]; i++)
		if ((v = meta_value(lab_figs[i].meta)) != NULL)
			printf("%s: %s\n", lab_figs[i].meta, v);

	printf("\n%-30s %-6s %4s %12s %12s %12s  %s\n", "measurement",
	    "unit", "n", "min", "median", "max", "step");
	for (j = 0; j < nfigs; j++) {
		g = &figs[j];
		printf("%-30s %-6s %4d %12.4g %12.4g %12.4g  %s\n", g->key,
		    g->unit, g->n, g->min, g->med, g->max, g->step >= 0 ?
		    steps[g->step][0] : "");
	}
	printf("\nsteps, each reproducible alone (helpers built from "
	    "bench/*.c, environment as in\nbench/run.sh, $WORK its work "
	    "directory, $SSH_LAB and $SLURM_LAB its labs, their\n"
	    "daemons running):\n");
	for (j = 0; j < nsteps; j++)
		printf("  %-14s %s\n", steps[j][0], steps[j][1]);

	if ((f = fopen(out, "w")) == NULL)
		die("open %s: %s", out, strerror(errno));
	fprintf(f, "{\n  \"meta\": {");
	for (j = 0; j < nmeta; j++) {
		fprintf(f, "%s\n    ", j > 0 ? "," : "");
		json_str(f, meta[j][0]);
		fprintf(f, ": ");
		json_str(f, meta[j][1]);
	}
	fprintf(f, "\n  },\n  \"figures\": {");
	for (j = 0; j < nfigs; j++) {
		g = &figs[j];
		fprintf(f, "%s\n    ", j > 0 ? "," : "");
		json_str(f, g->key);
		fprintf(f, ": {\"unit\": ");
		json_str(f, g->unit);
		fprintf(f, ", \"command\": ");
		if (g->step >= 0)
			json_str(f, steps[g->step][1]);
		else
			fprintf(f, "null");
		fprintf(f, ", \"n\": %d, \"min\": %.6g, \"median\": %.6g, "
		    "\"max\": %.6g, \"samples\": [", g->n, g->min, g->med,
		    g->max);
		for (i = 0; i < (size_t)g->n; i++)
			fprintf(f, "%s%.6g", i > 0 ? ", " : "", g->v[i]);
		fprintf(f, "]}");
	}
	fprintf(f, "\n  },\n  \"rows\": [");
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		w = &rows[i];
		fprintf(f, "%s\n    {\"figure\": ", i > 0 ? "," : "");
		json_str(f, w->label[0] == ' ' ? w->label + 2 : w->label);
		fprintf(f, ", \"unit\": ");
		json_str(f, w->unit);
		fprintf(f, ", \"ours\": ");
		json_fig(f, fig(w->ours));
		fprintf(f, ", \"peer\": ");
		json_fig(f, fig(w->peer));
		fprintf(f, ", \"limit\": ");
		json_fig(f, fig(w->limit));
		fprintf(f, ", \"ratio\": ");
		if (isnan(ratio[i]))
			fprintf(f, "null");
		else
			fprintf(f, "%.4g", ratio[i]);
		fprintf(f, ", \"ratio_of\": ");
		if (w->ratio == R_NONE)
			fprintf(f, "null");
		else
			json_str(f, ratio_names[w->ratio]);
		fprintf(f, ", \"target\": ");
		if (w->ttext == NULL)
			fprintf(f, "null");
		else
			json_str(f, w->ttext);
		fprintf(f, ", \"met\": ");
		if (met[i] == NULL)
			fprintf(f, "null");
		else
			json_str(f, met[i]);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"targets\": {\"met\": %d, \"missed\": %d, "
	    "\"na\": %d}\n}\n", nmet, nmissed, nna);
	if (fclose(f) == EOF)
		die("write %s: %s", out, strerror(errno));
	/* Strict: each of our figures must have been measured. */
	for (i = 0; strict && i < sizeof rows / sizeof rows[0]; i++) {
		o = fig(rows[i].ours);
		if (lab_na(rows[i].ours))
			continue;
		if (rows[i].ours != NULL && (o == NULL || o->n == 0)) {
			fprintf(stderr, "report: no figure for '%s'\n",
			    rows[i].label);
			return (1);
		}
	}
	return (0);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: driver cold [-i] [-n runs] [-t tag] -- argv ...\n"
	    "       driver mem [-s] [-n runs] [-R records] [-t tag] -- argv"
	    " ...\n"
	    "       driver lat [-s] [-n rounds] [-k seq] [-p pipelined] "
	    "[-t tag] -- argv ...\n"
	    "       driver overhead [-n runs] [-w warmups] [-t tag] "
	    "-a appendfile -- argv ...\n"
	    "       driver overhead -L name [-n runs] [-w warmups] -- argv ..."
	    "\n"
	    "       driver scale [-n rounds] [-c count] -k k1,k2,... -- "
	    "argv ...\n"
	    "       driver busy [-l lanes] [-n rounds] [-k seq] -- argv ...\n"
	    "       driver allow [-n runs] [-t tag] -- argv ...\n"
	    "       driver history [-N records] [-n rounds] [-k seq] -- argv "
	    "...\n"
	    "       driver report [-s] results out.json\n"
	    "       driver port [count]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	const char		*cmd, *append = NULL, *name = NULL, *v;
	char			*p, *end;
	long			 ks[MAX_KS], npipe = 20000, count = 1000;
	int			 ch, runs = 5, seq = 2000, flag_i = 0;
	int			 flag_s = 0, records = 0, lanes = 1000, nks = 0;
	int			 limit_s = 300, warm = 3;
	long			 hist_records = 100000;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "report") == 0) {
		if (argc == 5 && strcmp(argv[2], "-s") == 0)
			return (cmd_report(argv[3], argv[4], 1));
		if (argc != 4)
			usage();
		return (cmd_report(argv[2], argv[3], 0));
	}
	if (strcmp(cmd, "port") == 0) {
		if (argc > 3)
			usage();
		return (cmd_port(argc == 3 ? (int)parse_num(argv[2], 1, 16,
		    "count") : 1));
	}
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "a:c:ik:L:l:N:n:p:R:st:T:w:")) != -1) {
		switch (ch) {
		case 'a':
			append = optarg;
			break;
		case 'c':
			count = parse_num(optarg, 1, 100000, "-c");
			break;
		case 'i':
			flag_i = 1;
			break;
		case 'k':
			if (strcmp(cmd, "scale") != 0) {
				seq = (int)parse_num(optarg, 100, 1000000,
				    "-k");
				break;
			}
			for (p = optarg; nks < MAX_KS; p = end + 1) {
				ks[nks] = strtol(p, &end, 10);
				if (end == p || ks[nks] < 1 ||
				    ks[nks] > 4096)
					die("-k: bad list '%s'", optarg);
				nks++;
				if (*end != ',')
					break;
			}
			break;
		case 'L':
			/* A key's suffix: short, lowercase, digits. */
			if (optarg[0] == '\0' || strlen(optarg) > 16 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789") != strlen(optarg))
				die("-L: '%s' is not 1 to 16 of [a-z0-9]",
				    optarg);
			name = optarg;
			break;
		case 'l':
			lanes = (int)parse_num(optarg, 1, 4096, "-l");
			break;
		case 'N':
			hist_records = parse_num(optarg, 1000, 10000000, "-N");
			break;
		case 'n':
			runs = (int)parse_num(optarg, 1, MAX_SAMPLES, "-n");
			break;
		case 'p':
			npipe = parse_num(optarg, 1, 1000000, "-p");
			break;
		case 'R':
			records = (int)parse_num(optarg, 4, 60000, "-R");
			break;
		case 's':
			flag_s = 1;
			break;
		case 't':
			tag = optarg;
			break;
		case 'T':
			limit_s = (int)parse_num(optarg, 1, 3600, "-T");
			break;
		case 'w':
			warm = (int)parse_num(optarg, 0, 100, "-w");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((v = getenv("BENCH_ORG")) != NULL)
		org = v;
	if ((v = getenv("BENCH_REPO")) != NULL)
		repo = v;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)limit_s);

	if (strcmp(cmd, "cold") == 0)
		return (cmd_cold(runs, flag_i, argv));
	if (strcmp(cmd, "mem") == 0)
		return (cmd_mem(runs, flag_s, records, argv));
	if (strcmp(cmd, "lat") == 0)
		return (cmd_lat(runs, seq, npipe, flag_s, argv));
	if (strcmp(cmd, "overhead") == 0) {
		if ((append == NULL) == (name == NULL))
			usage();
		return (cmd_overhead(runs, warm, append, name, argv));
	}
	if (strcmp(cmd, "scale") == 0) {
		if (nks == 0)
			usage();
		return (cmd_scale(runs, count, ks, nks, argv));
	}
	if (strcmp(cmd, "busy") == 0)
		return (cmd_busy(lanes, runs, seq, argv));
	if (strcmp(cmd, "allow") == 0)
		return (cmd_allow(runs, argv));
	if (strcmp(cmd, "history") == 0)
		return (cmd_history(runs, seq, hist_records, argv));
	usage();
}
