/*
 * Each wall, tried from the inside.  A child applies the real production
 * sandbox function, then attempts the forbidden thing; the parent checks
 * how the child ended.  Skipped under sanitizers, whose runtimes make
 * calls no filter expects, and where the kernel lacks the feature.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
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

#include "common/sandbox.h"

enum attempt {
	TRY_EXECVE, TRY_OPENAT, TRY_SOCKET, TRY_CONNECT, TRY_FORK, TRY_CLONE,
	TRY_PTRACE, TRY_MMAP_EXEC, TRY_MPROTECT_EXEC, TRY_KILL_OTHER,
	TRY_IOCTL, TRY_KILL_SELF, TRY_RAW, TRY_NOTHING
};

static const char *const names[] = {
	"execve", "openat", "socket", "connect", "fork", "clone", "ptrace",
	"mmap PROT_EXEC", "mprotect PROT_EXEC", "kill", "ioctl", "raise",
	"raw system call", "nothing"
};

/*
 * The kernel surface the issue names, as the test's own list: the lane
 * layer kills the first set and answers EPERM to the second.
 */
static const char *const must_kill[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff", "acct", "iopl",
	"ioperm", "open_by_handle_at", "pivot_root", NULL
};
static const char *const must_eperm[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "bpf",
	"perf_event_open", "mount", "umount2", "move_mount", "fsopen",
	"fsconfig", "fsmount", "fspick", "open_tree", "mount_setattr",
	"quotactl", "quotactl_fd", "keyctl", "add_key", "request_key",
	"userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "unshare", "setns", "personality", "syslog",
	NULL
};
static long	raw_nr;		/* for TRY_RAW */

static struct sandbox_paths	paths;
static char			lane_prog[256];
static char			plain_file[256];	/* readable, ours */

static void
attempt(enum attempt a)
{
	static char		 prog[] = "/bin/true";
	char			*argv[] = { prog, NULL };
	struct sockaddr_in	 sin;
	void			*p;

	switch (a) {
	case TRY_EXECVE:
		execve("/bin/true", argv, argv + 1);
		break;
	case TRY_OPENAT:
		open(plain_file, O_RDONLY);
		break;
	case TRY_SOCKET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case TRY_CONNECT:
		/* A descriptor we hold, so only the call itself is tested. */
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		connect(0, (struct sockaddr *)&sin, sizeof sin);
		break;
	case TRY_FORK:
		fork();
		break;
	case TRY_CLONE:
		syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		break;
	case TRY_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case TRY_MMAP_EXEC:
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		(void)p;
		break;
	case TRY_MPROTECT_EXEC:
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			mprotect(p, 4096, PROT_READ | PROT_EXEC);
		break;
	case TRY_KILL_OTHER:
		kill(getppid(), 0);
		break;
	case TRY_IOCTL:
		syscall(SYS_ioctl, 0, 0x5401 /* TCGETS */, NULL);
		break;
	case TRY_KILL_SELF:
		raise(SIGUSR1);
		break;
	case TRY_RAW:
		/* Null arguments: harmless even if the wall were missing. */
		syscall(raw_nr, 0, 0, 0, 0, 0, 0);
		break;
	case TRY_NOTHING:
		break;
	}
}

/* Run a sandboxed child; return its wait status. */
static int
run_child(void (*box)(void), enum attempt a)
{
	struct rlimit	rl = { 0, 0 };
	pid_t		pid;
	int		st;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &rl);
		box();
		attempt(a);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return (st);
}

/*
 * As the real frontend holds it: stdio and the channel on fd 3, nothing
 * else.  What the test runner left open (make's jobserver, a CI
 * harness) must not decide RLIMIT_NOFILE here.
 */
static void
close_inherited(void)
{
	int	sv[2], fd;

	if (syscall(SYS_close_range, 3, ~0U, 0) == -1)
		_exit(98);
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;	/* stdio exists, as the server makes sure it does */
	if (fd > 2)
		close(fd);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		_exit(98);
	if (sv[0] != 3 && (dup2(sv[0], 3) == -1 || close(sv[0]) == -1))
		_exit(98);
	close(sv[1]);
}

static void
box_frontend(void)
{
	close_inherited();
	sandbox_frontend();
}

static void
box_broker(void)
{
	sandbox_lane_layer(&paths);
	sandbox_broker(&paths);
}

static int
skip_if_unsandboxed(void)
{
#ifdef DISPATCH_NO_SANDBOX
	return (1);
#else
	return (0);
#endif
}

static void
expect_killed(void (*box)(void), enum attempt a)
{
	int	st = run_child(box, a);

	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s was not stopped with SIGSYS (status 0x%x)",
		    names[a], st);
}

static void
test_frontend_walls(void **state)
{
	enum attempt	walls[] = { TRY_EXECVE, TRY_OPENAT, TRY_SOCKET,
			    TRY_CONNECT, TRY_FORK, TRY_CLONE, TRY_PTRACE,
			    TRY_MMAP_EXEC, TRY_MPROTECT_EXEC, TRY_KILL_OTHER,
			    TRY_IOCTL, TRY_KILL_SELF };
	size_t		i;
	int		st;

	if (skip_if_unsandboxed())
		skip();
	/* The sandbox itself does not kill a process that behaves. */
	st = run_child(box_frontend, TRY_NOTHING);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (i = 0; i < sizeof walls / sizeof walls[0]; i++)
		expect_killed(box_frontend, walls[i]);
}

static int
prctl_nnp(void)
{
	return (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

/* With violations only logged, what stands behind seccomp shows. */
static void
box_frontend_logging(void)
{
	struct rlimit	rl;
	int		fd, p[2];

	close_inherited();
	/* Output to pipes, as under an MCP client: no file size at all. */
	if (pipe(p) == -1 || dup2(p[1], 1) == -1 || dup2(p[1], 2) == -1)
		_exit(97);
	close(p[0]);
	close(p[1]);
	sandbox_set_log(1);
	sandbox_frontend();
	if (getrlimit(RLIMIT_FSIZE, &rl) == -1 || rl.rlim_cur != 0)
		_exit(15);
	/* Just enough: stdio and the channel. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur != 4)
		_exit(13);
	if (sandbox_landlock_abi() > 0) {
		/* Landlock: no path at all, not even for reading. */
		close(3);	/* a free slot, so only Landlock can refuse */
		fd = open(plain_file, O_RDONLY);
		if (fd != -1 || errno != EACCES)
			_exit(10);
	}
	if (getrlimit(RLIMIT_NPROC, &rl) == -1 || rl.rlim_cur != 0)
		_exit(11);
	if (getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0)
		_exit(12);
	if (prctl_nnp() != 1)
		_exit(14);
	_exit(0);
}

static void
test_frontend_landlock_and_limits(void **state)
{
	int	st;

	if (skip_if_unsandboxed())
		skip();
	st = run_child(box_frontend_logging, TRY_NOTHING);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("frontend limits check failed: status 0x%x", st);
}

static void
box_drop(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	sandbox_drop_privileges(65534, 65534);
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		_exit(20);
	if (getuid() != 65534 || getgid() != 65534 || getgroups(0, NULL) != 0)
		_exit(21);
	/* The root is empty: nothing of the host's filesystem is there. */
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != ENOENT)
		_exit(22);
	if ((d = opendir("/")) == NULL)
		_exit(23);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	}
	closedir(d);
	if (n != 0)
		_exit(25);
	/* And nothing can be put there. */
	if (mkdir("/x", 0700) != -1 || open("/y", O_CREAT | O_WRONLY,
	    0600) != -1)
		_exit(24);
	sandbox_frontend();
	_exit(0);
}

static void
test_privilege_drop(void **state)
{
	int	st;

	if (geteuid() != 0 || skip_if_unsandboxed())
		skip();
	st = run_child(box_drop, TRY_NOTHING);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("privilege drop check failed: status 0x%x", st);
}

static void
test_broker_walls(void **state)
{
	enum attempt	walls[] = { TRY_EXECVE, TRY_SOCKET, TRY_FORK,
			    TRY_CLONE, TRY_PTRACE, TRY_MMAP_EXEC, TRY_IOCTL };
	size_t		i;
	int		st;

	if (skip_if_unsandboxed())
		skip();
	st = run_child(box_broker, TRY_NOTHING);
	assert_true(WIFEXITED(st));
	for (i = 0; i < sizeof walls / sizeof walls[0]; i++)
		expect_killed(box_broker, walls[i]);
}

/* The lane layer: the kernel surface refused, ordinary work allowed. */
static void
box_lane(void)
{
	static char a0[] = "/bin/sh", a1[] = "-c", a2[] = "exit 7";
	char	*sh[] = { a0, a1, a2, NULL }, *env[] = { NULL };
	char	*lane[] = { lane_prog, NULL };
	pid_t	 pid;
	int	 st, fd;
	unsigned char		bpf[512];
	struct sock_fprog	prog;

	const char *const *c;
	long	 nr, rv;
	size_t	 i;
	static const unsigned long ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP,
	    CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	    CLONE_NEWNET };

	sandbox_lane_layer(&paths);
	/* Probed calls get EPERM, not death. */
	for (c = must_eperm; *c != NULL; c++) {
		if ((nr = seccomp_syscall_resolve_name(*c)) < 0)
			continue;
		errno = 0;
		if (syscall(nr, 0, 0, 0, 0, 0, 0) != -1 || errno != EPERM) {
			fprintf(stderr, "lane layer let %s through\n", *c);
			_exit(30);
		}
	}
	/* No namespace through clone(2) either; clone3(2) is not there. */
	for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		errno = 0;
		rv = syscall(SYS_clone, ns[i] | SIGCHLD, 0, NULL, NULL, 0);
		if (rv == 0)
			_exit(0);	/* a child the wall let out */
		if (rv != -1 || errno != EPERM) {
			fprintf(stderr, "clone(0x%lx) was not refused\n",
			    ns[i]);
			_exit(31);
		}
	}
	/* The layer leaves clone3 to the spawner; a lane's own filter,
	 * loaded as the spawner's child loads it, takes it away. */
	errno = 0;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno == ENOSYS)
		_exit(33);
	prog.len = (unsigned short)(sandbox_lane_tail(bpf, sizeof bpf) / 8);
	prog.filter = (struct sock_filter *)(void *)bpf;
	if (prog.len == 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		_exit(34);
	errno = 0;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		_exit(32);
	/* A lane still runs: a shell from the system's directories... */
	if ((pid = fork()) == 0) {
		execve("/bin/sh", sh, env);
		_exit(99);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		_exit(37);
	/* ...and the pinned lane program, wherever it lives. */
	if ((pid = fork()) == 0) {
		execve(lane_prog, lane, env);
		_exit(99);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 5)
		_exit(38);
	/* ssh, the usual lane's transport, works under the layer. */
	if (access("/usr/bin/ssh", X_OK) == 0) {
		static char s0[] = "ssh", s1[] = "-G", s2[] = "-oUser=x",
		    s3[] = "example.org";
		char	*ssh[] = { s0, s1, s2, s3, NULL };
		int	 null = open("/dev/null", O_WRONLY);

		if ((pid = fork()) == 0) {
			dup2(null, 1);
			execve("/usr/bin/ssh", ssh, env);
			_exit(99);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			_exit(43);
		close(null);
	}
	/* Files stay readable and writable for lanes. */
	if ((fd = open(plain_file, O_RDWR)) == -1)
		_exit(39);
	close(fd);
	_exit(0);
}

static void
test_lane_layer(void **state)
{
	int	st;

	if (skip_if_unsandboxed())
		skip();
	st = run_child(box_lane, TRY_NOTHING);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("lane layer check failed: status 0x%x", st);
}

static void
box_lane_only(void)
{
	sandbox_lane_layer(&paths);
}

static void
test_lane_layer_kills(void **state)
{
	const char *const	*c;
	int			 st;

	if (skip_if_unsandboxed())
		skip();
	for (c = must_kill; *c != NULL; c++) {
		if ((raw_nr = seccomp_syscall_resolve_name(*c)) < 0)
			continue;
		st = run_child(box_lane_only, TRY_RAW);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s was not stopped with SIGSYS (status 0x%x)",
			    *c, st);
	}
}

/* Nothing written to /tmp may be executed by a lane. */
static void
box_lane_tmp_exec(void)
{
	char	 path[] = "/tmp/dispatch-exec.XXXXXX";
	char	*argv[] = { path, NULL }, *env[] = { NULL };
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		_exit(40);
	if (write(fd, "#!/bin/sh\nexit 0\n", 17) != 17)
		_exit(41);
	fchmod(fd, 0700);
	close(fd);
	sandbox_lane_layer(&paths);
	execve(path, argv, env);
	unlink(path);
	_exit(errno == EACCES ? 0 : 42);
}

static void
test_lane_cannot_exec_tmp(void **state)
{
	int	st;

	if (skip_if_unsandboxed() || sandbox_landlock_abi() <= 0)
		skip();
	st = run_child(box_lane_tmp_exec, TRY_NOTHING);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("exec from /tmp was not refused: status 0x%x", st);
}

static int
setup(void **state)
{
	int	fd;

	/* A lane program outside the system directories, pinned by file. */
	snprintf(lane_prog, sizeof lane_prog, "/tmp/dispatch-lane.XXXXXX");
	if ((fd = mkstemp(lane_prog)) == -1)
		return (-1);
	if (write(fd, "#!/bin/sh\nexit 5\n", 17) != 17)
		return (-1);
	fchmod(fd, 0755);
	close(fd);
	snprintf(plain_file, sizeof plain_file, "/tmp/dispatch-file.XXXXXX");
	if ((fd = mkstemp(plain_file)) == -1)
		return (-1);
	if (write(fd, "data\n", 5) != 5)
		return (-1);
	close(fd);
	paths.lane_program = lane_prog;
	paths.allowlist = plain_file;
	paths.audit = "/tmp/audit.jsonl";
	return (0);
}

static int
teardown(void **state)
{
	unlink(lane_prog);
	unlink(plain_file);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frontend_walls),
		cmocka_unit_test(test_frontend_landlock_and_limits),
		cmocka_unit_test(test_privilege_drop),
		cmocka_unit_test(test_broker_walls),
		cmocka_unit_test(test_lane_layer),
		cmocka_unit_test(test_lane_layer_kills),
		cmocka_unit_test(test_lane_cannot_exec_tmp),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
