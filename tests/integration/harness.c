/* The integration test harness: the real binary over real pipes. */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(99);	/* automake: hard error */
}

long	harness_uid = -1;
long	harness_fsize = -1;

const char *
bin_path(void)
{
	const char	*p = getenv("DISPATCH_MCP_BIN");

	return (p != NULL ? p : "./dispatch-mcp");
}

const char *
audit_bin_path(void)
{
	const char	*p = getenv("DISPATCH_MCP_AUDIT_BIN");

	return (p != NULL ? p : "./dispatch-mcp-audit");
}

const char *
lane_path(const char *name)
{
	static char	 buf[4][512];
	static int	 n;
	const char	*dir = getenv("TEST_LANES");
	char		*p = buf[n++ % 4];

	snprintf(p, 512, "%s/%s", dir != NULL ? dir : "tests/integration/lanes",
	    name);
	return (p);
}

void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void
write_file(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		die("write_file %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

char *
read_file(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	/* Read to EOF: /proc files report a size of zero. */
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	do {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				die("read_file: realloc");
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/* Copy an executable, to a place another user can reach. */
static void
copy_exec(const char *from, const char *to)
{
	char	*buf;
	size_t	 len;
	FILE	*f;

	if ((buf = read_file(from, &len)) == NULL)
		die("copy_exec: read %s: %s", from, strerror(errno));
	if ((f = fopen(to, "w")) == NULL || fwrite(buf, 1, len, f) != len ||
	    fclose(f) == EOF || chmod(to, 0755) == -1)
		die("copy_exec: write %s: %s", to, strerror(errno));
	free(buf);
}

struct srv *
srv_start(const char *const *env)
{
	struct srv	*s;
	int		 in[2], out[2], errfd, i;
	char		 tmpl[] = "/tmp/dispatch-test.XXXXXX", lanes[600];
	char		 bin[600], lane[600];
	pid_t		 pid;

	if ((s = calloc(1, sizeof *s)) == NULL || mkdtemp(tmpl) == NULL)
		die("srv_start: %s", strerror(errno));
	chmod(tmpl, 0755);
	snprintf(s->dir, sizeof s->dir, "%s", tmpl);
	snprintf(s->audit, sizeof s->audit, "%s/audit.jsonl", s->dir);
	snprintf(s->repos, sizeof s->repos, "%s/repos.json", s->dir);
	snprintf(s->errpath, sizeof s->errpath, "%s/stderr", s->dir);
	snprintf(lanes, sizeof lanes, "%s/lanes", s->dir);
	mkdir(lanes, 0777);
	chmod(lanes, 0777);
	write_file(s->repos, TEST_REPOS_JSON);
	s->next_id = 100;
	snprintf(bin, sizeof bin, "%s", bin_path());
	snprintf(lane, sizeof lane, "%s", lane_path("record-lane"));
	if (harness_uid != -1) {
		/*
		 * That user may not reach the build tree (a checkout under
		 * a 0700 home directory): run copies in the server's own
		 * directory instead, whatever the checkout's path.
		 */
		snprintf(bin, sizeof bin, "%s/dispatch-mcp", s->dir);
		copy_exec(bin_path(), bin);
		snprintf(lane, sizeof lane, "%s/record-lane", s->dir);
		copy_exec(lane_path("record-lane"), lane);
		if (chown(s->dir, (uid_t)harness_uid, (gid_t)harness_uid) == -1 ||
		    chown(lanes, (uid_t)harness_uid, (gid_t)harness_uid) == -1)
			die("chown %s", s->dir);
	}

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		die("pipe");
	if ((errfd = open(s->errpath, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) == -1)
		die("open %s", s->errpath);
	switch (pid = fork()) {
	case -1:
		die("fork");
		break;
	case 0:
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(errfd, 2);
		setenv("DISPATCH_REPOS_JSON", s->repos, 1);
		setenv("DISPATCH_AUDIT_LOG", s->audit, 1);
		setenv("DISPATCH_COMMAND", lane, 1);
		setenv("DISPATCH_ENV_PASS", "LANE_DIR,LANE_AUDIT", 1);
		setenv("LANE_DIR", lanes, 1);
		setenv("LANE_AUDIT", s->audit, 1);
		setenv("TEST_CANARY", "must-not-reach-the-lane", 1);
		for (i = 0; env != NULL && env[i] != NULL; i++) {
			char	*kv = strdup(env[i]), *eq;

			if (kv == NULL || (eq = strchr(kv, '=')) == NULL)
				_exit(98);
			*eq = '\0';
			if (eq[1] == '\0')
				unsetenv(kv);
			else
				setenv(kv, eq + 1, 1);
		}
		if (harness_fsize != -1) {
			struct rlimit rl = { (rlim_t)harness_fsize,
			    (rlim_t)harness_fsize };

			if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
				_exit(96);
		}
		if (harness_uid != -1 && (setgroups(0, NULL) == -1 ||
		    setgid((gid_t)harness_uid) == -1 ||
		    setuid((uid_t)harness_uid) == -1))
			_exit(95);
		execl(bin, "dispatch-mcp", (char *)NULL);
		_exit(97);
	}
	close(in[0]);
	close(out[1]);
	close(errfd);
	harness_uid = harness_fsize = -1;
	s->pid = pid;
	s->in = in[1];
	s->out = out[0];
	return (s);
}

struct srv *
srv_start_init(const char *const *env)
{
	struct srv		*s = srv_start(env);
	struct json_object	*r;

	r = srv_request(s, "initialize", "{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"harness\","
	    "\"version\":\"1.0\"}}");
	if (r == NULL || jget(r, "result") == NULL)
		die("initialize failed: %s", srv_stderr(s));
	json_object_put(r);
	srv_send(s, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	return (s);
}

void
srv_send_raw(struct srv *s, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	signal(SIGPIPE, SIG_IGN);
	while (len > 0) {
		n = write(s->in, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void
srv_send(struct srv *s, const char *line)
{
	srv_send_raw(s, line, strlen(line));
	srv_send_raw(s, "\n", 1);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct json_object *
srv_recv(struct srv *s, int timeout_ms)
{
	struct json_object	*o;
	struct json_tokener	*tok;
	struct pollfd		 pfd;
	int64_t			 deadline = now_ms() + timeout_ms;
	char			*nl;
	size_t			 len;
	ssize_t			 n;

	for (;;) {
		if (s->rlen > 0 && (nl = memchr(s->rbuf, '\n', s->rlen)) !=
		    NULL) {
			len = (size_t)(nl - s->rbuf);
			tok = json_tokener_new();
			json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			    JSON_TOKENER_VALIDATE_UTF8);
			o = json_tokener_parse_ex(tok, s->rbuf, (int)len);
			if (o == NULL || json_tokener_get_parse_end(tok) != len)
				die("stdout carried a non-JSON line: %.*s",
				    (int)(len > 200 ? 200 : len), s->rbuf);
			json_tokener_free(tok);
			memmove(s->rbuf, nl + 1, s->rlen - len - 1);
			s->rlen -= len + 1;
			return (o);
		}
		pfd.fd = s->out;
		pfd.events = POLLIN;
		n = deadline - now_ms();
		if (n <= 0 || poll(&pfd, 1, (int)n) <= 0)
			return (NULL);
		if (s->rcap - s->rlen < 65536) {
			s->rcap = s->rcap == 0 ? 131072 : s->rcap * 2;
			if ((s->rbuf = realloc(s->rbuf, s->rcap)) == NULL)
				die("realloc");
		}
		n = read(s->out, s->rbuf + s->rlen, s->rcap - s->rlen);
		if (n <= 0)
			return (NULL);
		s->rlen += (size_t)n;
	}
}

struct json_object *
srv_request(struct srv *s, const char *method, const char *params)
{
	struct json_object	*o, *id;
	char			*line;
	int			 want = s->next_id++;
	size_t			 len;

	len = strlen(method) + (params != NULL ? strlen(params) : 0) + 128;
	if ((line = malloc(len)) == NULL)
		die("malloc");
	if (params != NULL)
		snprintf(line, len, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
		    "\"%s\",\"params\":%s}", want, method, params);
	else
		snprintf(line, len, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
		    "\"%s\"}", want, method);
	srv_send(s, line);
	free(line);
	/* Skip notifications and other answers until ours arrives. */
	while ((o = srv_recv(s, 30000)) != NULL) {
		if (json_object_object_get_ex(o, "id", &id) &&
		    json_object_is_type(id, json_type_int) &&
		    json_object_get_int(id) == want)
			return (o);
		json_object_put(o);
	}
	return (NULL);
}

struct json_object *
srv_call(struct srv *s, const char *tool, const char *args)
{
	char			*params;
	size_t			 len = strlen(tool) + strlen(args) + 64;
	struct json_object	*o;

	if ((params = malloc(len)) == NULL)
		die("malloc");
	snprintf(params, len, "{\"name\":\"%s\",\"arguments\":%s}", tool,
	    args);
	o = srv_request(s, "tools/call", params);
	free(params);
	return (o);
}

int
srv_wait(struct srv *s, int timeout_ms)
{
	int64_t	deadline = now_ms() + timeout_ms;
	pid_t	r;

	while (!s->exited) {
		r = waitpid(s->pid, &s->status, WNOHANG);
		if (r == s->pid) {
			s->exited = 1;
			break;
		}
		if (now_ms() > deadline)
			return (-1);
		sleep_ms(10);
	}
	return (s->status);
}

int
srv_close(struct srv *s, int timeout_ms)
{
	if (s->in != -1)
		close(s->in);
	s->in = -1;
	return (srv_wait(s, timeout_ms));
}

/* Lanes may outlive a server killed on purpose: end their groups. */
static void
kill_lanes(struct srv *s)
{
	char		 path[600], *buf;
	DIR		*d;
	struct dirent	*e;
	size_t		 n;
	long		 pid;

	snprintf(path, sizeof path, "%s/lanes", s->dir);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".pid") != 0)
			continue;
		snprintf(path, sizeof path, "%s/lanes/%s", s->dir, e->d_name);
		if ((buf = read_file(path, NULL)) == NULL)
			continue;
		if ((pid = strtol(buf, NULL, 10)) > 1)
			kill(-(pid_t)pid, SIGKILL);
		free(buf);
	}
	closedir(d);
}

/* The tag a server puts in its cgroup directory's name: its log's. */
static void
log_tag(const char *audit, char *tag, size_t len)
{
	char		 real[PATH_MAX];
	const char	*p = realpath(audit, real) != NULL ? real : audit;
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	snprintf(tag, len, "%016llx", (unsigned long long)h);
}

int
write_cg(const char *dir, const char *file, const char *v)
{
	char	path[PATH_MAX];
	int	fd, rv;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	rv = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
	close(fd);
	return (rv);
}

int
cg_populated_path(const char *dir)
{
	char	path[PATH_MAX], *buf, *p;
	int	rv = -1;

	snprintf(path, sizeof path, "%s/cgroup.events", dir);
	if ((buf = read_file(path, NULL)) == NULL)
		return (-1);
	if ((p = strstr(buf, "populated ")) != NULL)
		rv = p[10] == '1';
	free(buf);
	return (rv);
}

/*
 * What a server killed on purpose left beneath a cgroup parent: every
 * lane killed and every directory removed, so no test leaves cgroups.
 */
void
cg_sweep(const char *parent, const char *audit)
{
	char		 tag[17], prefix[64], dir[PATH_MAX], lane[PATH_MAX + 300];
	DIR		*d, *sd;
	struct dirent	*e, *le;
	int		 i;

	log_tag(audit, tag, sizeof tag);
	snprintf(prefix, sizeof prefix, "dispatch-%s-", tag);
	if ((d = opendir(parent)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(dir, sizeof dir, "%s/%s", parent, e->d_name);
		if ((sd = opendir(dir)) != NULL) {
			while ((le = readdir(sd)) != NULL) {
				if (strncmp(le->d_name, "dsp-", 4) != 0)
					continue;
				snprintf(lane, sizeof lane, "%s/%s", dir,
				    le->d_name);
				write_cg(lane, "cgroup.kill", "1");
				for (i = 0; i < 200 &&
				    cg_populated_path(lane) == 1; i++)
					sleep_ms(10);
				rmdir(lane);
			}
			closedir(sd);
		}
		rmdir(dir);
	}
	closedir(d);
}

/*
 * A sanitizer build reports at exit: a leak, a bad access or undefined
 * behaviour in a server makes its test fail here, whatever it asserted.
 */
static void
check_sanitizers(struct srv *s)
{
	char	*err = read_file(s->errpath, NULL), *p;

	if (err == NULL)
		return;
	if ((p = strstr(err, "Sanitizer")) != NULL ||
	    (p = strstr(err, "runtime error:")) != NULL)
		die("the server's stderr holds a sanitizer report:\n%.2000s",
		    p);
	free(err);
}

void
srv_free(struct srv *s)
{
	char	cmd[400];

	/* End the session as a client does, so that sanitizers report. */
	if (!s->exited && srv_close(s, 5000) == -1) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &s->status, 0);
	}
	check_sanitizers(s);
	kill_lanes(s);
	cg_sweep(CG_AUTO_PARENT, s->audit);
	cg_sweep(CG_AUTO_PARENT_V2, s->audit);
	if (s->in != -1)
		close(s->in);
	close(s->out);
	free(s->rbuf);
	if (getenv("TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: cannot remove %s\n", s->dir);
	}
	free(s);
}

pid_t
srv_frontend_pid(struct srv *s)
{
	char	 path[64], *buf;
	long	 pid;

	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children",
	    (long)s->pid, (long)s->pid);
	if ((buf = read_file(path, NULL)) == NULL)
		return (-1);
	pid = strtol(buf, NULL, 10);
	free(buf);
	return ((pid_t)pid);
}

char *
srv_stderr(struct srv *s)
{
	static char	*last;
	char		*p;

	free(last);
	p = read_file(s->errpath, NULL);
	last = p != NULL ? p : strdup("");
	return (last);
}

struct json_object *
jget(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (v);
}

const char *
jget_str(struct json_object *o, const char *key)
{
	struct json_object	*v = jget(o, key);

	return (v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL);
}

int64_t
jget_int(struct json_object *o, const char *key)
{
	struct json_object	*v = jget(o, key);

	return (v != NULL ? json_object_get_int64(v) : INT64_MIN);
}

int
result_is_error(struct json_object *resp)
{
	struct json_object	*r = jget(resp, "result");

	return (r != NULL && json_object_get_boolean(jget(r, "isError")));
}

const char *
result_text(struct json_object *resp)
{
	struct json_object	*c = jget(jget(resp, "result"), "content");

	if (c == NULL || json_object_array_length(c) < 1)
		return (NULL);
	return (jget_str(json_object_array_get_idx(c, 0), "text"));
}

struct json_object *
result_struct(struct json_object *resp)
{
	return (jget(jget(resp, "result"), "structuredContent"));
}

struct json_object *
audit_records(struct srv *s)
{
	struct json_object	*arr = json_object_new_array(), *o;
	char			*buf, *line, *save = NULL;

	if ((buf = read_file(s->audit, NULL)) == NULL)
		return (arr);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((o = json_tokener_parse(line)) == NULL)
			die("audit log holds a non-JSON line: %s", line);
		json_object_array_add(arr, o);
	}
	free(buf);
	return (arr);
}

int
audit_count(struct srv *s, const char *event)
{
	struct json_object	*arr = audit_records(s);
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < json_object_array_length(arr); i++) {
		const char *e = jget_str(json_object_array_get_idx(arr, i),
		    "event");

		if (e != NULL && strcmp(e, event) == 0)
			n++;
	}
	json_object_put(arr);
	return (n);
}

char *
srv_file(struct srv *s, const char *handle, const char *what, size_t *lenp)
{
	char	path[600];

	snprintf(path, sizeof path, "%s/lanes/%s.%s", s->dir, handle, what);
	return (read_file(path, lenp));
}

/* A pid the lane writes to a file of its own, waited for up to 10 s. */
pid_t
srv_file_pid(struct srv *s, const char *handle, const char *what)
{
	char	*p = NULL;
	pid_t	 pid;
	int	 i;

	for (i = 0; i < 400; i++) {
		if ((p = srv_file(s, handle, what, NULL)) != NULL && *p != '\0')
			break;
		free(p);
		p = NULL;
		sleep_ms(25);
	}
	if (p == NULL)
		die("srv_file_pid: no %s.%s after 10 s", handle, what);
	pid = (pid_t)strtol(p, NULL, 10);
	free(p);
	/* Never 0 or 1, which kill(2) would take for a group or all. */
	if (pid <= 1)
		die("srv_file_pid: %s.%s holds no pid", handle, what);
	return (pid);
}

int
srv_count_files(struct srv *s, const char *suffix)
{
	char		 path[600];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;
	size_t		 sl = strlen(suffix), nl;

	snprintf(path, sizeof path, "%s/lanes", s->dir);
	if ((d = opendir(path)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL) {
		nl = strlen(e->d_name);
		if (nl > sl && strcmp(e->d_name + nl - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return (n);
}

struct json_object *
wait_final(struct srv *s, const char *handle, int timeout_ms)
{
	struct json_object	*r;
	char			 args[128];
	int64_t			 deadline = now_ms() + timeout_ms;
	const char		*st;

	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", handle);
	for (;;) {
		r = srv_call(s, "dispatch_result", args);
		st = jget_str(result_struct(r), "status");
		if (st == NULL || strcmp(st, "running") != 0 ||
		    now_ms() > deadline)
			return (r);
		json_object_put(r);
		sleep_ms(50);
	}
}

const char *
dispatch_ok(struct srv *s, const char *org, const char *repo,
    const char *task)
{
	static char		 handle[64];
	struct json_object	*r, *args;
	const char		*h;

	args = json_object_new_object();
	json_object_object_add(args, "orguser", json_object_new_string(org));
	json_object_object_add(args, "repo", json_object_new_string(repo));
	json_object_object_add(args, "task_description",
	    json_object_new_string(task));
	r = srv_call(s, "dispatch_unit", json_object_to_json_string_ext(args,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(args);
	h = jget_str(result_struct(r), "handle");
	if (h == NULL)
		die("dispatch failed: %s", r != NULL ?
		    json_object_to_json_string(r) : srv_stderr(s));
	snprintf(handle, sizeof handle, "%s", h);
	json_object_put(r);
	return (handle);
}

int
pid_alive(pid_t pid)
{
	char	 path[64], *buf, *p;
	int	 alive;

	if (kill(pid, 0) == -1)
		return (0);
	/* A zombie is dead for our purposes. */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((buf = read_file(path, NULL)) == NULL)
		return (0);
	p = strrchr(buf, ')');
	alive = p != NULL && p[1] == ' ' && p[2] != 'Z';
	free(buf);
	return (alive);
}

long
rss_kib(pid_t pid)
{
	char	 path[64], *buf, *p;
	long	 v = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((buf = read_file(path, NULL)) == NULL)
		return (-1);
	if ((p = strstr(buf, "VmRSS:")) != NULL)
		v = strtol(p + 6, NULL, 10);
	free(buf);
	return (v);
}
