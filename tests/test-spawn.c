/*
 * Unit tests for the exec surface: the lane argv and environment
 * (common/lanecmd.c), and the real spawner (spawner/) over its socket,
 * fed good orders through the broker's stub and hostile ones by hand.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/spawnreq.h"
#include "common/bounds.h"
#include "common/conf.h"
#include "common/lanecmd.h"
#include "common/proto.h"
#include "spawner/spawner.h"

#define HANDLE	"dsp-0123456789abcdef0123456789abcdef"
#define LEAK_FD	57

static char			tmpdir[64];
static char			lane[128];
static char			ran[160];
static struct config		conf;
static struct lane_policy	policy;

/*
 * The lane: notes that it ran, prints its argv one per line, what it
 * sees of a few variables, its signal state and a probe for a leaked
 * descriptor, then copies stdin, and says something on stderr.
 */
static const char lane_script[] =
    "#!/bin/sh\n"
    ": > \"$(dirname \"$0\")/ran\"\n"
    "for a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n"
    "printf 'canary:%s\\n' \"${CANARY_VAR-unset}\"\n"
    "printf 'path:%s\\n' \"$PATH\"\n"
    "printf 'handle:%s\\n' \"$DISPATCH_HANDLE\"\n"
    /* grep's own mask: the one the shell was given (dash blocks
     * signals in itself while it forks, so /proc/$$ would lie). */
    "grep -E '^Sig(Blk|Ign):' /proc/self/status\n"
    "if [ -e /proc/$$/fd/57 ]; then echo fd57:open; else echo fd57:closed;"
    " fi\n"
    "echo stdin-begin\n"
    "cat\n"
    "echo stdin-end\n"
    "echo on-stderr >&2\n"
    "exit 3\n";

static int
setup(void **state)
{
	char	big[MAX_ENV_VALUE_BYTES + 2];
	int	fd;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-spawn.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	snprintf(lane, sizeof lane, "%s/lane", tmpdir);
	snprintf(ran, sizeof ran, "%s/ran", tmpdir);
	if ((fd = open(lane, O_WRONLY | O_CREAT | O_TRUNC, 0755)) == -1)
		return (-1);
	if (write(fd, lane_script, sizeof lane_script - 1) !=
	    (ssize_t)(sizeof lane_script - 1))
		return (-1);
	close(fd);

	/* The environment as the server sees it at start. */
	setenv("HOME", "/home/tester", 1);
	setenv("USER", "tester", 1);
	unsetenv("LOGNAME");
	setenv("LANG", "C.UTF-8", 1);
	unsetenv("SSH_AUTH_SOCK");
	setenv("CANARY_VAR", "must-not-leak", 1);
	setenv("LD_PRELOAD", "/nonexistent/evil.so", 1);
	setenv("DISPATCH_REPOS_JSON", "/secret/repos.json", 1);
	setenv("GITHUB_TOKEN", "ghp_token", 1);
	setenv("TERM", "xterm", 1);
	unsetenv("NOT_SET_VAR");
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	setenv("BIG_VAR", big, 1);

	memset(&conf, 0, sizeof conf);
	snprintf(conf.command, sizeof conf.command, "%s", lane);
	snprintf(conf.ssh_host, sizeof conf.ssh_host, "build.example.org");
	conf.max_iterations = 7;
	conf.timeout_ms = 60000;
	conf.lane_nproc = DEFAULT_LANE_NPROC;
	/* HOME is fixed already: it must not appear twice. */
	snprintf(conf.env_pass[0], sizeof conf.env_pass[0], "GITHUB_TOKEN");
	snprintf(conf.env_pass[1], sizeof conf.env_pass[1], "HOME");
	snprintf(conf.env_pass[2], sizeof conf.env_pass[2], "NOT_SET_VAR");
	snprintf(conf.env_pass[3], sizeof conf.env_pass[3], "BIG_VAR");
	snprintf(conf.env_pass[4], sizeof conf.env_pass[4], "TERM");
	conf.n_env_pass = 5;
	lane_policy_init(&policy, &conf);

	/* Later changes are not seen: the snapshot was taken. */
	setenv("HOME", "/changed", 1);
	setenv("LOGNAME", "late", 1);
	return (0);
}

static int
teardown(void **state)
{
	unlink(ran);
	unlink(lane);
	rmdir(tmpdir);
	return (0);
}

static void
order(struct spawn_order *o, const char *org, const char *repo,
    const char *github, const char *task)
{
	memset(o, 0, sizeof *o);
	snprintf(o->handle, sizeof o->handle, "%s", HANDLE);
	snprintf(o->orguser, sizeof o->orguser, "%s", org);
	snprintf(o->repo, sizeof o->repo, "%s", repo);
	snprintf(o->github, sizeof o->github, "%s", github);
	o->task = task;
	o->task_len = strlen(task);
}

static int
argc_of(const struct lane_cmd *c)
{
	int	n = 0;

	while (c->argv[n] != NULL)
		n++;
	return (n);
}

static void
assert_argv(const struct lane_cmd *c, const char *const *want, int n)
{
	int	i;

	assert_int_equal(argc_of(c), n);
	for (i = 0; i < n; i++)
		assert_string_equal(c->argv[i], want[i]);
}

static void
test_argv_default(void **state)
{
	static struct lane_cmd	 c;
	struct spawn_order	 o;
	const char		*want[] = {
		lane, "nash-forbes", "nash", "--host", "build.example.org",
		"--max", "7"
	};

	order(&o, "nash-forbes", "nash", "selamy-labs/nash", "");
	lane_cmd_build(&c, &policy, &o);
	assert_argv(&c, want, 7);
}

/* The target's own host, from the allowlist, takes --host. */
static void
test_argv_target_host(void **state)
{
	static struct lane_cmd	 c;
	struct spawn_order	 o;
	const char		*want[] = {
		lane, "nash-forbes", "nash", "--host", "10.0.0.7", "--max", "7"
	};

	order(&o, "nash-forbes", "nash", "selamy-labs/nash", "");
	snprintf(o.host, sizeof o.host, "10.0.0.7");
	lane_cmd_build(&c, &policy, &o);
	assert_argv(&c, want, 7);
}

static void
test_argv_task_arg(void **state)
{
	static struct lane_cmd	 c;
	struct lane_policy	 p = policy;
	struct spawn_order	 o;
	const char		*want[] = {
		lane, "nash-forbes", "nash", "do the thing", "--host",
		"build.example.org", "--max", "7"
	};

	p.task_arg = 1;
	order(&o, "nash-forbes", "nash", "selamy-labs/nash", "do the thing");
	lane_cmd_build(&c, &p, &o);
	assert_argv(&c, want, 8);
}

static void
test_argv_metacharacters(void **state)
{
	static struct lane_cmd	 c;
	static const char	 task[] = "$(rm -rf /); `id` | cat > /x && "
	    "echo 'q' \"dq\" \\ *\n--host evil";
	struct lane_policy	 p = policy;
	struct spawn_order	 o;
	const char		*want[] = {
		lane, "o", "r", task, "--host", "build.example.org", "--max",
		"100000"
	};

	p.task_arg = 1;
	p.max_iterations = 100000;
	order(&o, "o", "r", "r", task);
	lane_cmd_build(&c, &p, &o);
	assert_argv(&c, want, 8);
}

/* The largest order fits: 8000 four-byte characters in argv. */
static void
test_argv_largest(void **state)
{
	static struct lane_cmd	 c;
	static char		 task[MAX_TASK_BYTES + 1];
	struct lane_policy	 p = policy;
	struct spawn_order	 o;
	char			 name[MAX_NAME_BYTES + 1];
	int			 i;

	for (i = 0; i < MAX_TASK_CODEPOINTS; i++)
		memcpy(task + i * 4, "\xf0\x9f\x98\x80", 4);
	memset(name, 'n', MAX_NAME_BYTES);
	name[MAX_NAME_BYTES] = '\0';
	p.task_arg = 1;
	order(&o, name, name, "n/n", task);
	lane_cmd_build(&c, &p, &o);
	assert_string_equal(c.argv[3], task);
	assert_string_equal(c.argv[1], name);
}

static void
test_envp(void **state)
{
	static struct lane_cmd	 c;
	static const char *const want[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=/home/tester",
		"USER=tester",
		"LANG=C.UTF-8",
		"GITHUB_TOKEN=ghp_token",
		"TERM=xterm",
		"DISPATCH_HANDLE=" HANDLE,
		"DISPATCH_ORGUSER=nash-forbes",
		"DISPATCH_REPO=nash",
		"DISPATCH_GITHUB=selamy-labs/nash",
	};
	struct spawn_order	 o;
	size_t			 i, nwant = sizeof want / sizeof want[0];
	int			 j, found, envc = 0;

	order(&o, "nash-forbes", "nash", "selamy-labs/nash", "task");
	lane_cmd_build(&c, &policy, &o);
	while (c.envp[envc] != NULL)
		envc++;
	/* Exactly these, each once, in any order. */
	assert_int_equal(envc, (int)nwant);
	for (i = 0; i < nwant; i++) {
		found = 0;
		for (j = 0; j < envc; j++)
			found += strcmp(c.envp[j], want[i]) == 0;
		if (found != 1)
			fail_msg("%s: found %d times", want[i], found);
	}
	for (j = 0; j < envc; j++) {
		assert_null(strstr(c.envp[j], "CANARY"));
		assert_null(strstr(c.envp[j], "LD_PRELOAD"));
		assert_null(strstr(c.envp[j], "LOGNAME"));
		assert_null(strstr(c.envp[j], "SSH_AUTH_SOCK"));
		assert_null(strstr(c.envp[j], "BIG_VAR"));
		assert_null(strstr(c.envp[j], "NOT_SET_VAR"));
		assert_null(strstr(c.envp[j], "DISPATCH_REPOS_JSON"));
		assert_null(strstr(c.envp[j], "/changed"));
		/* The task is never in the environment. */
		assert_null(strstr(c.envp[j], "=task"));
	}
}

/* An inherited hard RLIMIT_NPROC below the configured one wins. */
static void
test_policy_nproc(void **state)
{
	struct lane_policy	p;
	struct rlimit		rl = { 100, 100 };
	pid_t			pid;
	int			status;

	assert_true(policy.nproc > 100 && policy.nproc <= DEFAULT_LANE_NPROC);
	if ((pid = fork()) == 0) {
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			_exit(2);
		lane_policy_init(&p, &conf);
		_exit(p.nproc == 100 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Read fd to EOF into a NUL-terminated buffer. */
static size_t
read_all(int fd, char *buf, size_t cap)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < cap - 1) {
		n = read(fd, buf + off, cap - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return (off);
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return (n);
}

/* A spawner of our own: we are its broker, and its lanes' parent. */
struct spawner_run {
	pid_t	pid;
	int	fd;
};

static void
run_spawner(struct spawner_run *s, const struct lane_policy *p)
{
	unlink(ran);
	s->pid = spawner_start(p, &s->fd);
	assert_true(s->pid > 0);
}

/* Close its socket; it must then exit as the status says. */
static int
end_spawner(struct spawner_run *s)
{
	int	status;

	close(s->fd);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	return (status);
}

struct lane_io {
	pid_t	pid;
	int	in, out, err;
};

/* One good order through the broker's own stub. */
static int
spawn(struct spawner_run *s, const struct spawn_order *o, int with_stdin,
    struct lane_io *io)
{
	int	in[2] = { -1, -1 }, out[2], err[2], fds[3], e;

	if (with_stdin)
		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	fds[0] = with_stdin ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = out[1];
	fds[2] = err[1];
	io->pid = spawnreq_send(s->fd, o, fds, 3);
	e = errno;
	close(fds[0]);
	close(out[1]);
	close(err[1]);
	io->in = in[1];
	io->out = out[0];
	io->err = err[0];
	if (io->pid == -1) {
		if (in[1] != -1)
			close(in[1]);
		close(out[0]);
		close(err[0]);
		io->in = io->out = io->err = -1;
	}
	errno = e;
	return (io->pid == -1 ? -1 : 0);
}

static void
test_spawn_stdin_mode(void **state)
{
	struct spawner_run	 s;
	struct spawn_order	 o;
	struct lane_io		 io;
	sigset_t		 block, old;
	char			 out[8192], err[1024];
	const char		*p;
	int			 status, leak;
	static const char	 task[] = "line one\n$(id) `x` ; |\n";

	/* A descriptor without O_CLOEXEC, a blocked and an ignored signal. */
	leak = dup2(STDIN_FILENO, LEAK_FD);
	assert_int_equal(leak, LEAK_FD);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	signal(SIGINT, SIG_IGN);
	run_spawner(&s, &policy);
	close(LEAK_FD);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGINT, SIG_DFL);

	order(&o, "nash-forbes", "nash", "selamy-labs/nash", "");
	assert_int_equal(spawn(&s, &o, 1, &io), 0);
	assert_true(io.pid > 0);
	/* Its own session and process group, while it waits on stdin. */
	assert_int_equal(getsid(io.pid), io.pid);
	assert_int_equal(getpgid(io.pid), io.pid);
	/* Our child, not the spawner's. */
	assert_int_equal(waitpid(io.pid, &status, WNOHANG), 0);

	assert_int_equal(write(io.in, task, sizeof task - 1),
	    (ssize_t)(sizeof task - 1));
	close(io.in);
	read_all(io.out, out, sizeof out);
	read_all(io.err, err, sizeof err);
	close(io.out);
	close(io.err);
	assert_int_equal(waitpid(io.pid, &status, 0), io.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);

	assert_non_null(strstr(out, "arg:nash-forbes\narg:nash\narg:--host\n"
	    "arg:build.example.org\narg:--max\narg:7\n"));
	assert_null(strstr(out, "arg:line one"));
	assert_non_null(strstr(out, "canary:unset\n"));
	assert_non_null(strstr(out, "path:/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(out, "handle:" HANDLE "\n"));
	assert_non_null(strstr(out, "SigBlk:\t0000000000000000\n"));
	/* Signals 1-31 are all at their defaults. */
	p = strstr(out, "SigIgn:\t");
	assert_non_null(p);
	assert_true((strtoull(p + 8, NULL, 16) & 0x7fffffffULL) == 0);
	assert_non_null(strstr(out, "fd57:closed\n"));
	assert_non_null(strstr(out, "stdin-begin\nline one\n$(id) `x` ; |\n"
	    "stdin-end\n"));
	assert_string_equal(err, "on-stderr\n");
	/* The socket closed: the spawner ends cleanly. */
	status = end_spawner(&s);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_spawn_argv_mode(void **state)
{
	struct spawner_run	s;
	struct spawn_order	o;
	struct lane_policy	p = policy;
	struct lane_io		io;
	char			out[8192];
	int			status;

	p.task_arg = 1;
	run_spawner(&s, &p);
	order(&o, "o", "r", "r", "a task; rm x");
	assert_int_equal(spawn(&s, &o, 0, &io), 0);
	read_all(io.out, out, sizeof out);
	close(io.out);
	close(io.err);
	assert_int_equal(waitpid(io.pid, &status, 0), io.pid);
	assert_non_null(strstr(out, "arg:o\narg:r\narg:a task; rm x\n"
	    "arg:--host\n"));
	assert_non_null(strstr(out, "stdin-begin\nstdin-end\n"));
	/* Several orders, one at a time, on the same spawner. */
	order(&o, "o2", "r2", "r2", "second");
	assert_int_equal(spawn(&s, &o, 0, &io), 0);
	read_all(io.out, out, sizeof out);
	close(io.out);
	close(io.err);
	assert_int_equal(waitpid(io.pid, &status, 0), io.pid);
	assert_non_null(strstr(out, "arg:o2\narg:r2\narg:second\n"));
	status = end_spawner(&s);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_spawn_missing(void **state)
{
	struct spawner_run	s;
	struct spawn_order	o;
	struct lane_policy	p = policy;
	struct lane_io		io;
	int			before, status;

	snprintf(p.program, sizeof p.program, "%s/absent", tmpdir);
	run_spawner(&s, &p);
	order(&o, "o", "r", "r", "");
	before = count_fds();
	errno = 0;
	assert_int_equal(spawn(&s, &o, 1, &io), -1);
	assert_int_equal(errno, ENOENT);
	/* No pipe end is left open, and the failed child is reaped. */
	assert_int_equal(count_fds(), before);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), 0);
	/* The spawner serves on after a failed exec. */
	errno = 0;
	assert_int_equal(spawn(&s, &o, 1, &io), -1);
	assert_int_equal(errno, ENOENT);
	status = end_spawner(&s);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_spawn_no_path_search(void **state)
{
	struct spawner_run	s;
	struct spawn_order	o;
	struct lane_policy	p = policy;
	struct lane_io		io;
	char			*path = getenv("PATH");
	char			 saved[4096];

	snprintf(saved, sizeof saved, "%s", path != NULL ? path : "");
	/* A bare name is never looked up in PATH. */
	setenv("PATH", tmpdir, 1);
	snprintf(p.program, sizeof p.program, "lane");
	run_spawner(&s, &p);
	order(&o, "o", "r", "r", "");
	errno = 0;
	assert_int_equal(spawn(&s, &o, 1, &io), -1);
	assert_int_equal(errno, ENOENT);
	end_spawner(&s);
	setenv("PATH", saved, 1);
	assert_int_equal(access(ran, F_OK), -1);
}

/* A hostile order, sent by hand with nfds descriptors. */
static void
send_raw(int fd, const void *buf, size_t len, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(16 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	int		 fds[16], i;

	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		for (i = 0; i < nfds; i++)
			fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(fd, &msg, MSG_NOSIGNAL), (ssize_t)len);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* The spawner must die of the order (fatal, exit 1) and run nothing. */
static void
assert_refused(const struct lane_policy *p, const void *buf, size_t len,
    int nfds)
{
	struct spawner_run	s;
	int			status;

	run_spawner(&s, p);
	send_raw(s.fd, buf, len, nfds);
	assert_int_equal(waitpid(s.pid, &status, 0), s.pid);
	close(s.fd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(access(ran, F_OK), -1);
	/* Nor did a lane appear as our child. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

static void
refuse_order(const struct lane_policy *p, const struct spawn_order *o)
{
	struct ipc_msg	m;

	proto_spawn(&m, 1, o);
	assert_refused(p, m.data, m.len, 3);
	ipc_free(&m);
}

static void
test_hostile_lengths(void **state)
{
	struct spawn_order	 o;
	struct ipc_msg		 m;
	static uint8_t		 big[MAX_IPC_BYTES + 64];
	uint8_t			*b;
	size_t			 cut;

	order(&o, "o", "r", "o/r", "");
	proto_spawn(&m, 1, &o);
	b = malloc(m.len + 1);
	assert_non_null(b);
	memcpy(b, m.data, m.len);
	/* Cut short: within the header, within a length, within a name. */
	for (cut = 4; cut < m.len; cut += 9)
		assert_refused(&policy, b, cut, 3);
	/* A byte too many. */
	b[m.len] = 0;
	assert_refused(&policy, b, m.len + 1, 3);
	/* A string length past the end of the message. */
	memcpy(big, m.data, m.len);
	big[8] = 0xff;
	assert_refused(&policy, big, m.len, 3);
	/* A datagram larger than any order. */
	memcpy(big, m.data, 8);
	assert_refused(&policy, big, sizeof big, 3);
	free(b);
	ipc_free(&m);
}

static void
test_hostile_names(void **state)
{
	struct spawn_order	o;

	order(&o, "../etc", "r", "r", "");
	refuse_order(&policy, &o);
	order(&o, "o", ".hidden", "r", "");
	refuse_order(&policy, &o);
	order(&o, "o", "r", "a/b/c", "");
	refuse_order(&policy, &o);
	order(&o, "", "r", "r", "");
	refuse_order(&policy, &o);
	order(&o, "o", "r", "r", "");
	memcpy(o.handle, "dsp-XYZ", 8);
	refuse_order(&policy, &o);
	order(&o, "o", "r", "r", "");
	snprintf(o.host, sizeof o.host, "-oProxyCommand=sh");
	refuse_order(&policy, &o);
}

static void
test_hostile_tasks(void **state)
{
	static char		big[MAX_TASK_CODEPOINTS + 2];
	struct spawn_order	o;
	struct lane_policy	p = policy;

	/* A task in the order when stdin carries it. */
	order(&o, "o", "r", "r", "task");
	refuse_order(&policy, &o);
	/* In argv mode: none, an option, not UTF-8, too long. */
	p.task_arg = 1;
	order(&o, "o", "r", "r", "");
	refuse_order(&p, &o);
	order(&o, "o", "r", "r", "--host evil");
	refuse_order(&p, &o);
	order(&o, "o", "r", "r", "bad \xff byte");
	refuse_order(&p, &o);
	order(&o, "o", "r", "r", "\xed\xa0\x80 a surrogate");
	refuse_order(&p, &o);
	memset(big, 'a', MAX_TASK_CODEPOINTS + 1);
	big[MAX_TASK_CODEPOINTS + 1] = '\0';
	order(&o, "o", "r", "r", big);
	refuse_order(&p, &o);
}

static void
test_hostile_descriptors(void **state)
{
	struct spawn_order	o;
	struct ipc_msg		m;
	int			n;

	order(&o, "o", "r", "r", "");
	proto_spawn(&m, 1, &o);
	/* Three descriptors exactly; more than fit is ancillary overflow. */
	for (n = 0; n <= 16; n++) {
		if (n == 3)
			continue;
		assert_refused(&policy, m.data, m.len, n);
	}
	ipc_free(&m);
	/* The right shape but another type. */
	order(&o, "o", "r", "r", "");
	proto_spawn(&m, 1, &o);
	m.data[0] = IPC_DISPATCH;
	assert_refused(&policy, m.data, m.len, 3);
	ipc_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_default),
		cmocka_unit_test(test_argv_target_host),
		cmocka_unit_test(test_argv_task_arg),
		cmocka_unit_test(test_argv_metacharacters),
		cmocka_unit_test(test_argv_largest),
		cmocka_unit_test(test_envp),
		cmocka_unit_test(test_policy_nproc),
		cmocka_unit_test(test_spawn_stdin_mode),
		cmocka_unit_test(test_spawn_argv_mode),
		cmocka_unit_test(test_spawn_missing),
		cmocka_unit_test(test_spawn_no_path_search),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_hostile_tasks),
		cmocka_unit_test(test_hostile_descriptors),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
