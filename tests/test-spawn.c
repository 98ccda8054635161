/* Unit tests for broker/spawn.c: the lane argv, environment and spawn. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "broker/spawn.h"
#include "common/conf.h"
#include "common/bounds.h"

#define HANDLE	"dsp-0123456789abcdef0123456789abcdef"
#define LEAK_FD	57

static char		tmpdir[64];
static char		lane[128];
static struct config	conf;

/*
 * The lane: prints its argv one per line, what it sees of a few
 * variables, its signal state and a probe for a leaked descriptor, then
 * copies stdin, and says something on stderr.
 */
static const char lane_script[] =
    "#!/bin/sh\n"
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
	/* HOME is fixed already: it must not appear twice. */
	snprintf(conf.env_pass[0], sizeof conf.env_pass[0], "GITHUB_TOKEN");
	snprintf(conf.env_pass[1], sizeof conf.env_pass[1], "HOME");
	snprintf(conf.env_pass[2], sizeof conf.env_pass[2], "NOT_SET_VAR");
	snprintf(conf.env_pass[3], sizeof conf.env_pass[3], "BIG_VAR");
	snprintf(conf.env_pass[4], sizeof conf.env_pass[4], "TERM");
	conf.n_env_pass = 5;
	spawn_init(&conf);

	/* Later changes are not seen: the snapshot was taken. */
	setenv("HOME", "/changed", 1);
	setenv("LOGNAME", "late", 1);
	return (0);
}

static int
teardown(void **state)
{
	unlink(lane);
	rmdir(tmpdir);
	return (0);
}

static void
assert_argv(const struct lane_args *la, const char *const *want, int n)
{
	int	i;

	assert_int_equal(la->argc, n);
	for (i = 0; i < n; i++)
		assert_string_equal(la->argv[i], want[i]);
	assert_null(la->argv[n]);
}

static void
test_argv_default(void **state)
{
	struct lane_args	 la;
	const char		*want[] = {
		lane, "nash-forbes", "nash", "--host", "build.example.org",
		"--max", "7"
	};

	conf.task_arg = 0;
	lane_args_build(&la, &conf, HANDLE, "nash-forbes", "nash",
	    "selamy-labs/nash", "do the thing");
	assert_argv(&la, want, 7);
	lane_args_free(&la);
	assert_int_equal(la.argc, 0);
}

static void
test_argv_task_arg(void **state)
{
	struct lane_args	 la;
	const char		*want[] = {
		lane, "nash-forbes", "nash", "do the thing", "--host",
		"build.example.org", "--max", "7"
	};

	conf.task_arg = 1;
	lane_args_build(&la, &conf, HANDLE, "nash-forbes", "nash",
	    "selamy-labs/nash", "do the thing");
	assert_argv(&la, want, 8);
	lane_args_free(&la);
	conf.task_arg = 0;
}

static void
test_argv_metacharacters(void **state)
{
	struct lane_args	 la;
	static const char	 task[] = "$(rm -rf /); `id` | cat > /x && "
	    "echo 'q' \"dq\" \\ *\n--host evil";
	const char		*want[] = {
		lane, "o", "r", task, "--host", "build.example.org", "--max",
		"100000"
	};

	conf.task_arg = 1;
	conf.max_iterations = 100000;
	lane_args_build(&la, &conf, HANDLE, "o", "r", "r", task);
	assert_argv(&la, want, 8);
	lane_args_free(&la);
	conf.task_arg = 0;
	conf.max_iterations = 7;
}

static void
test_envp(void **state)
{
	struct lane_args	 la;
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
	size_t	i, nwant = sizeof want / sizeof want[0];
	int	j, found;

	lane_args_build(&la, &conf, HANDLE, "nash-forbes", "nash",
	    "selamy-labs/nash", "task");
	/* Exactly these, each once, in any order. */
	assert_int_equal(la.envc, (int)nwant);
	assert_null(la.envp[la.envc]);
	for (i = 0; i < nwant; i++) {
		found = 0;
		for (j = 0; j < la.envc; j++)
			found += strcmp(la.envp[j], want[i]) == 0;
		if (found != 1)
			fail_msg("%s: found %d times", want[i], found);
	}
	for (j = 0; j < la.envc; j++) {
		assert_null(strstr(la.envp[j], "CANARY"));
		assert_null(strstr(la.envp[j], "LD_PRELOAD"));
		assert_null(strstr(la.envp[j], "LOGNAME"));
		assert_null(strstr(la.envp[j], "SSH_AUTH_SOCK"));
		assert_null(strstr(la.envp[j], "BIG_VAR"));
		assert_null(strstr(la.envp[j], "NOT_SET_VAR"));
		assert_null(strstr(la.envp[j], "DISPATCH_REPOS_JSON"));
		assert_null(strstr(la.envp[j], "/changed"));
	}
	/* The task is never in the environment. */
	for (j = 0; j < la.envc; j++)
		assert_null(strstr(la.envp[j], "=task"));
	lane_args_free(&la);
}

static void
test_argv_template(void **state)
{
	char	buf[PATH_MAX + 256], want[PATH_MAX + 256];

	conf.task_arg = 0;
	lane_argv_template(&conf, buf, sizeof buf);
	snprintf(want, sizeof want, "%s ORGUSER REPO --host build.example.org "
	    "--max 7  (stdin: TASK, then EOF)", lane);
	assert_string_equal(buf, want);
	conf.task_arg = 1;
	lane_argv_template(&conf, buf, sizeof buf);
	snprintf(want, sizeof want, "%s ORGUSER REPO TASK --host "
	    "build.example.org --max 7  (stdin: /dev/null)", lane);
	assert_string_equal(buf, want);
	conf.task_arg = 0;
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

static void
test_spawn_stdin_mode(void **state)
{
	struct lane_args	 la;
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

	conf.task_arg = 0;
	lane_args_build(&la, &conf, HANDLE, "nash-forbes", "nash",
	    "selamy-labs/nash", task);
	assert_int_equal(spawn_lane(&conf, &la, &io), 0);
	lane_args_free(&la);
	close(LEAK_FD);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGINT, SIG_DFL);

	assert_true(io.pid > 0);
	assert_true(io.in_fd >= 0 && io.out_fd >= 0 && io.err_fd >= 0);
	/* Its own session and process group, while it waits on stdin. */
	assert_int_equal(getsid(io.pid), io.pid);
	assert_int_equal(getpgid(io.pid), io.pid);
	/* Our ends of the pipes are close-on-exec. */
	assert_true(fcntl(io.in_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(io.out_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(io.err_fd, F_GETFD) & FD_CLOEXEC);

	assert_int_equal(write(io.in_fd, task, sizeof task - 1),
	    (ssize_t)(sizeof task - 1));
	close(io.in_fd);
	read_all(io.out_fd, out, sizeof out);
	read_all(io.err_fd, err, sizeof err);
	close(io.out_fd);
	close(io.err_fd);
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
	/*
	 * Signals 1-31 are all at their defaults.  glibc's posix_spawn
	 * leaves its own internal signals (32, 33) ignored in the child
	 * when the parent has handlers for them; those are not ours.
	 */
	p = strstr(out, "SigIgn:\t");
	assert_non_null(p);
	assert_true((strtoull(p + 8, NULL, 16) & 0x7fffffffULL) == 0);
	assert_non_null(strstr(out, "fd57:closed\n"));
	assert_non_null(strstr(out, "stdin-begin\nline one\n$(id) `x` ; |\n"
	    "stdin-end\n"));
	assert_string_equal(err, "on-stderr\n");
}

static void
test_spawn_argv_mode(void **state)
{
	struct lane_args	 la;
	struct lane_io		 io;
	char			 out[8192];
	int			 status;

	conf.task_arg = 1;
	lane_args_build(&la, &conf, HANDLE, "o", "r", "r", "a task; rm x");
	assert_int_equal(spawn_lane(&conf, &la, &io), 0);
	lane_args_free(&la);
	conf.task_arg = 0;
	/* stdin is /dev/null: there is no pipe to write. */
	assert_int_equal(io.in_fd, -1);
	read_all(io.out_fd, out, sizeof out);
	close(io.out_fd);
	close(io.err_fd);
	assert_int_equal(waitpid(io.pid, &status, 0), io.pid);
	assert_non_null(strstr(out, "arg:o\narg:r\narg:a task; rm x\n"
	    "arg:--host\n"));
	assert_non_null(strstr(out, "stdin-begin\nstdin-end\n"));
}

static void
test_spawn_missing(void **state)
{
	struct config		 c = conf;
	struct lane_args	 la;
	struct lane_io		 io;
	int			 before;

	snprintf(c.command, sizeof c.command, "%s/absent", tmpdir);
	lane_args_build(&la, &c, HANDLE, "o", "r", "r", "t");
	before = count_fds();
	errno = 0;
	assert_int_equal(spawn_lane(&c, &la, &io), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(io.pid, -1);
	assert_int_equal(io.in_fd, -1);
	assert_int_equal(io.out_fd, -1);
	assert_int_equal(io.err_fd, -1);
	/* No pipe end is left open. */
	assert_int_equal(count_fds(), before);

	c.task_arg = 1;
	errno = 0;
	assert_int_equal(spawn_lane(&c, &la, &io), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_fds(), before);
	lane_args_free(&la);
}

static void
test_spawn_no_path_search(void **state)
{
	struct config		 c = conf;
	struct lane_args	 la;
	struct lane_io		 io;

	/* A bare name is never looked up in PATH. */
	setenv("PATH", tmpdir, 1);
	snprintf(c.command, sizeof c.command, "lane");
	lane_args_build(&la, &c, HANDLE, "o", "r", "r", "t");
	errno = 0;
	assert_int_equal(spawn_lane(&c, &la, &io), -1);
	assert_int_equal(errno, ENOENT);
	lane_args_free(&la);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_default),
		cmocka_unit_test(test_argv_task_arg),
		cmocka_unit_test(test_argv_metacharacters),
		cmocka_unit_test(test_envp),
		cmocka_unit_test(test_argv_template),
		cmocka_unit_test(test_spawn_stdin_mode),
		cmocka_unit_test(test_spawn_argv_mode),
		cmocka_unit_test(test_spawn_missing),
		cmocka_unit_test(test_spawn_no_path_search),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
