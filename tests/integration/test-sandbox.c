/*
 * The sandbox of the running server: what /proc says of each process,
 * the filters actually loaded against what --print-sandbox prints, and
 * a sandbox violation seen from the other side.
 */
#include "config.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sandbox.h"
#include "tests/integration/harness.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER	0x420c
#endif

static int
sandboxed_build(void)
{
#ifdef DISPATCH_NO_SANDBOX
	return (0);
#else
	return (1);
#endif
}

static char *
status_field(pid_t pid, const char *field)
{
	static char	 val[64];
	char		 path[64], *buf, *p;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((buf = read_file(path, NULL)) == NULL)
		return (NULL);
	val[0] = '\0';
	if ((p = strstr(buf, field)) != NULL)
		sscanf(p + strlen(field), ":%63s", val);
	free(buf);
	return (val);
}

static void
test_proc_status(void **state)
{
	struct srv	*s;
	pid_t		 fe;
	const char	*h;
	char		*st, path[64], link[256];
	DIR		*d;
	struct dirent	*e;
	ssize_t		 n;
	int		 fd, nfds = 0;

	if (!sandboxed_build())
		skip();
	s = srv_start_init(NULL);
	/* A round trip through the broker: it is past its start-up. */
	json_object_put(srv_call(s, "dispatch_list", "{}"));
	fe = srv_frontend_pid(s);
	assert_true(fe > 0);
	assert_string_equal(status_field(s->pid, "NoNewPrivs"), "1");
	assert_string_equal(status_field(s->pid, "Seccomp"), "2");
	assert_string_equal(status_field(fe, "NoNewPrivs"), "1");
	assert_string_equal(status_field(fe, "Seccomp"), "2");
	if (geteuid() == 0)
		assert_string_equal(status_field(fe, "Uid"), "65534");
	/*
	 * Its descriptors: stdio, the channel, and the pair libevent makes
	 * with the event base for signals, which carries nothing here.
	 * Nothing else, and nothing that names a file.
	 */
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)fe);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)fe, fd);
		n = readlink(path, link, sizeof link - 1);
		assert_true(n > 0);
		link[n] = '\0';
		if (fd == 3)
			assert_memory_equal(link, "socket:", 7);
		else if (fd > 3 && strncmp(link, "pipe:", 5) != 0 &&
		    strncmp(link, "socket:", 7) != 0)
			fail_msg("frontend holds fd %d: %s", fd, link);
		assert_true(fd <= 5);
		nfds++;
	}
	closedir(d);
	assert_true(nfds >= 4 && nfds <= 6);
	/* A lane runs under the lane layer. */
	h = dispatch_ok(s, "nash-forbes", "nash", "status");
	json_object_put(wait_final(s, h, 10000));
	st = srv_file(s, h, "status", NULL);
	assert_non_null(st);
	assert_non_null(strstr(st, "NoNewPrivs:\t1"));
	assert_non_null(strstr(st, "Seccomp:\t2"));
	free(st);
	srv_free(s);
}

/* The digest of the index-th newest filter of a process, via ptrace. */
static int
loaded_digest(pid_t pid, unsigned long index, char *out, size_t outlen)
{
	struct sock_filter	*prog;
	long			 n;
	int			 st;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == -1)
		return (-1);
	if (waitpid(pid, &st, __WALL) != pid)
		return (-1);
	n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, NULL);
	if (n <= 0) {
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return (-1);
	}
	prog = calloc((size_t)n, sizeof *prog);
	assert_non_null(prog);
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, prog) != n)
		n = -1;
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	if (n > 0)
		snprintf(out, outlen, "bpf: %ld instructions, fnv1a64 %016llx",
		    n, (unsigned long long)sandbox_bpf_digest(prog,
		    (size_t)n * sizeof *prog));
	free(prog);
	return (n > 0 ? 0 : -1);
}

static void
test_print_sandbox_matches_loaded(void **state)
{
	struct srv	*s;
	FILE		*f;
	char		 cmd[1024], *printed, want[128];
	size_t		 n;
	pid_t		 fe;

	if (!sandboxed_build() || geteuid() != 0)
		skip();		/* reading filters needs CAP_SYS_ADMIN */
	snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND='%s' DISPATCH_AUDIT_LOG="
	    "/dev/null '%s' --print-sandbox", lane_path("record-lane"),
	    bin_path());
	f = popen(cmd, "r");
	assert_non_null(f);
	printed = calloc(1, 1 << 20);
	n = fread(printed, 1, (1 << 20) - 1, f);
	printed[n] = '\0';
	assert_int_equal(pclose(f), 0);
	/* --print-sandbox says what each process is and how it is held. */
	assert_non_null(strstr(printed, "process frontend"));
	assert_non_null(strstr(printed, "process broker"));
	assert_non_null(strstr(printed, "layer lane"));
	assert_non_null(strstr(printed, "landlock"));
	assert_non_null(strstr(printed, "rlimits"));
	assert_non_null(strstr(printed, "identity"));

	s = srv_start_init(NULL);
	json_object_put(srv_call(s, "dispatch_list", "{}"));
	fe = srv_frontend_pid(s);
	/* The frontend holds one filter; the broker two, its own newest. */
	assert_int_equal(loaded_digest(fe, 0, want, sizeof want), 0);
	if (strstr(printed, want) == NULL)
		fail_msg("frontend: loaded '%s' is not what is printed", want);
	assert_int_equal(loaded_digest(s->pid, 0, want, sizeof want), 0);
	if (strstr(printed, want) == NULL)
		fail_msg("broker: loaded '%s' is not what is printed", want);
	assert_int_equal(loaded_digest(s->pid, 1, want, sizeof want), 0);
	if (strstr(printed, want) == NULL)
		fail_msg("lane layer: loaded '%s' is not what is printed", want);
	json_object_put(srv_request(s, "ping", NULL));
	free(printed);
	srv_free(s);
}

static void
test_violation_ends_session(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	pid_t			 fe = srv_frontend_pid(s);
	int			 st;

	/* Exactly what the broker sees when seccomp kills the frontend. */
	kill(fe, SIGSYS);
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(srv_stderr(s), "frontend killed by SIGSYS (a "
	    "system call its sandbox forbids"));
	srv_free(s);
}

#if defined(__x86_64__)
/* Did the kernel log a seccomp kill of pid?  Waits up to half a second. */
static int
kernel_recorded(int kfd, pid_t pid)
{
	char	rec[8192], pat[32];
	ssize_t	n;
	int	tries;

	if (kfd == -1)
		return (0);
	snprintf(pat, sizeof pat, " pid=%ld ", (long)pid);
	for (tries = 0; tries < 50; tries++) {
		while ((n = read(kfd, rec, sizeof rec - 1)) > 0 ||
		    (n == -1 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = '\0';
			if (strstr(rec, "type=1326") != NULL &&
			    strstr(rec, pat) != NULL)
				return (1);
		}
		sleep_ms(10);
	}
	return (0);
}
#endif

/*
 * What an attacker who owns the frontend would do: make a forbidden call
 * from inside it.  The test stops the real frontend with ptrace, points
 * it back at the system call instruction it sleeps in, with openat in
 * rax, and lets it go.  The broker must name the call.
 */
static void
test_real_violation_is_named(void **state)
{
#if defined(__x86_64__)
	struct srv		*s;
	struct user_regs_struct	 regs;
	pid_t			 fe;
	long			 insn;
	int			 st, kfd;

	if (!sandboxed_build() || geteuid() != 0)
		skip();
	s = srv_start_init(NULL);
	fe = srv_frontend_pid(s);
	if ((kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK)) != -1)
		lseek(kfd, 0, SEEK_END);
	/* A kernel that forbids even root to attach (Yama 3): no test. */
	if (ptrace(PTRACE_SEIZE, fe, NULL, NULL) == -1) {
		assert_int_equal(errno, EPERM);
		if (kfd != -1)
			close(kfd);
		srv_free(s);
		skip();
	}
	assert_int_equal(ptrace(PTRACE_INTERRUPT, fe, NULL, NULL), 0);
	assert_int_equal(waitpid(fe, &st, __WALL), fe);
	assert_int_equal(ptrace(PTRACE_GETREGS, fe, NULL, &regs), 0);
	/* Asleep in poll(2): the two bytes before rip are "syscall". */
	errno = 0;
	insn = ptrace(PTRACE_PEEKTEXT, fe, (void *)(regs.rip - 2), NULL);
	assert_int_equal(errno, 0);
	assert_int_equal(insn & 0xffff, 0x050f);
	regs.rip -= 2;
	regs.rax = SYS_openat;
	regs.orig_rax = (unsigned long long)-1;	/* no restart fix-up */
	regs.rdi = (unsigned long long)AT_FDCWD;
	regs.rsi = 0;
	assert_int_equal(ptrace(PTRACE_SETREGS, fe, NULL, &regs), 0);
	assert_int_equal(ptrace(PTRACE_DETACH, fe, NULL, NULL), 0);
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	/*
	 * Named wherever the kernel's record reached its log (not so with
	 * auditd running, or past printk's rate limit): look for it too.
	 */
	if (kernel_recorded(kfd, fe))
		assert_non_null(strstr(srv_stderr(s), "sandbox forbids: openat "
		    "(system call 257)"));
	else
		assert_non_null(strstr(srv_stderr(s), "type=1326"));
	if (kfd != -1)
		close(kfd);
	srv_free(s);
#else
	skip();
#endif
}

static void
test_sandbox_log_mode_is_loud(void **state)
{
	const char	*env[] = { "DISPATCH_SANDBOX=log", NULL };
	struct srv	*s = srv_start_init(env);

	json_object_put(srv_request(s, "ping", NULL));
	assert_non_null(strstr(srv_stderr(s), "DISPATCH_SANDBOX=log"));
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_status),
		cmocka_unit_test(test_print_sandbox_matches_loaded),
		cmocka_unit_test(test_violation_ends_session),
		cmocka_unit_test(test_real_violation_is_named),
		cmocka_unit_test(test_sandbox_log_mode_is_loud),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
