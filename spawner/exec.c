/*
 * The only execve(2) of the server.  The spawner clones the lane with
 * CLONE_VM | CLONE_VFORK (as posix_spawn does) and CLONE_PARENT, so the
 * lane is the broker's child and the broker alone tracks, signals and
 * reaps it; with cgroups, through clone3 with CLONE_INTO_CGROUP as well,
 * so it is born in its cgroup (moving it there after would cost an RCU
 * grace period, ~10 ms, per lane).  The program is the absolute path
 * pinned at start; no shell and no PATH search are involved.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "spawner/spawner.h"

/* The kernel's struct sigaction, for raw rt_sigaction(2). */
struct ksigaction {
	void		(*handler)(int);
	unsigned long	  flags;
	void		(*restorer)(void);
	uint64_t	  mask;
};

/* Signals the spawner ignores: an exec keeps those, so lanes reset them. */
static int	ignored[NSIG];
static int	nignored;
/* A failed child's errno, in memory even a fork-like child shares. */
static volatile int	*child_err;
/* The lane's own filter, from the policy. */
static struct sock_filter	tail[64];
static struct sock_fprog	tail_prog;

void
lane_exec_init(const struct lane_policy *p)
{
	struct ksigaction	ksa;
	int			i;

	child_err = mmap(NULL, sizeof *child_err, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_err == MAP_FAILED)
		_exit(1);
	if (p->tail_len > sizeof tail)
		_exit(1);
	memcpy(tail, p->tail, p->tail_len);
	tail_prog.len = (unsigned short)(p->tail_len / sizeof tail[0]);
	tail_prog.filter = tail;
	nignored = 0;
	for (i = 1; i < NSIG; i++) {
		if (syscall(SYS_rt_sigaction, i, NULL, &ksa, 8) == 0 &&
		    ksa.handler == SIG_IGN)
			ignored[nignored++] = i;
	}
}

/*
 * clone3(2) sharing our memory, as clone(2) does for the lane without a
 * cgroup: the child starts on ca->stack, with no frame to return to, so
 * the asm runs it.  In the child alone it marks the outermost frame,
 * calls fn(arg) and calls exit_group should that return; fn and arg are
 * in registers the system call keeps.  x86_64 and aarch64 only: on
 * others ENOSYS, and the caller clones fork-like.
 */
#if defined(__x86_64__) || defined(__aarch64__)
static pid_t
clone3_vm(struct clone_args *ca, int (*fn)(void *), void *arg)
{
#ifdef __x86_64__
	register long	 r __asm__("rax") = SYS_clone3;
	register void	*a __asm__("r8") = arg;

	__asm__ volatile ("syscall; testq %0, %0; jnz 1f;"
	    "xorl %%ebp, %%ebp; andq $-16, %%rsp; movq %%r8, %%rdi;"
	    "callq *%%rdx; movl %%eax, %%edi; movl %[ex], %%eax; syscall;"
	    "hlt; 1:"
	    : "+r" (r) : "D" (ca), "S" (sizeof *ca), "d" (fn), "r" (a),
	    [ex] "i" (SYS_exit_group) : "rcx", "r11", "memory");
#else
	register long	 r __asm__("x0") = (long)ca;
	register long	 n __asm__("x1") = (long)sizeof *ca;
	register long	 nr __asm__("x8") = SYS_clone3;
	register void	*f __asm__("x9") = (void *)fn;
	register void	*a __asm__("x10") = arg;

	__asm__ volatile ("svc #0; cbnz x0, 1f;"
	    "mov x29, #0; mov x30, #0; mov x0, x10;"
	    "blr x9; mov x8, %[ex]; svc #0;"
	    "brk #0; 1:"
	    : "+r" (r) : "r" (n), "r" (nr), "r" (f), "r" (a),
	    [ex] "i" (SYS_exit_group) : "memory");
#endif
	if (r < 0) {
		errno = (int)-r;
		return (-1);
	}
	return ((pid_t)r);
}
#else
#define clone3_vm(ca, fn, arg)	(errno = ENOSYS, (pid_t)-1)
#endif

struct child {
	const struct lane_policy	*policy;
	const struct lane_cmd		*cmd;
	const int			*fds;
	pid_t				 parent;	/* the broker */
};

/*
 * The child, on its own stack in the spawner's memory until it execs:
 * raw system calls only, nothing that touches libc state, and the errno
 * of a failure left in c->err.
 */
static int
lane_child(void *arg)
{
	struct child		*c = arg;
	struct ksigaction	 ksa;
	struct rlimit		 rl;
	uint64_t		 none = 0;
	int			 i, hi[3];

	/* The lane's own session: the timeout kills the group. */
	if (setsid() == -1)
		goto fail;
	/*
	 * A broker killed outright (SIGKILL, the OOM killer) takes its
	 * lanes' leaders along: nothing would time them out or audit them.
	 * Checked after, as the broker may have gone before the prctl.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != c->parent)
		goto fail;
	/* Move the three out of the way before placing them. */
	for (i = 0; i < 3; i++) {
		if ((hi[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 10)) == -1)
			goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (dup2(hi[i], i) == -1)
			goto fail;
	}
	/* Nothing else crosses the exec. */
	if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) ==
	    -1)
		goto fail;
	/* Handlers reset themselves at exec; ignored signals do not. */
	memset(&ksa, 0, sizeof ksa);
	ksa.handler = SIG_DFL;
	for (i = 0; i < nignored; i++)
		syscall(SYS_rt_sigaction, ignored[i], &ksa, NULL, 8);
	umask(077);
	/* A fork bomb stops here (for anyone but root, whom the kernel
	 * exempts); the timeout's group kill ends the rest. */
	rl.rlim_cur = rl.rlim_max = c->policy->nproc;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		goto fail;
	/* The lane's own filter: no clone3, whose flags it cannot see. */
	if (tail_prog.len > 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &tail_prog) == -1)
		goto fail;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	execve(c->policy->program, c->cmd->argv, c->cmd->envp);
fail:
	*child_err = errno != 0 ? errno : EINVAL;
	_exit(127);
}

/*
 * Start a lane on the given stdin, stdout and stderr, as the child of
 * parent (ours).  We are suspended until it has exec'd or failed, so its
 * error is known on return: a pid with *errp set is a child that exits
 * 127, for the parent to reap; -1 is no child at all.
 */
pid_t
lane_exec(const struct lane_policy *p, const struct lane_cmd *cmd,
    const int *fds, pid_t parent, int *errp)
{
	static char		 stack[64 * 1024] __attribute__((aligned(16)));
	struct clone_args	 ca;
	struct child		 c;
	sigset_t		 all, old;
	pid_t			 pid;

	c.policy = p;
	c.cmd = cmd;
	c.fds = fds;
	c.parent = parent;
	*child_err = 0;
	/* No handler may run on the child's borrowed stack. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if (p->cgroup) {
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_VM | CLONE_VFORK | CLONE_PARENT |
		    CLONE_INTO_CGROUP;
		/* With CLONE_PARENT the kernel takes our own exit signal. */
		ca.cgroup = (uint64_t)fds[3];
		ca.stack = (uint64_t)(uintptr_t)stack;
		ca.stack_size = sizeof stack;
		if ((pid = clone3_vm(&ca, lane_child, &c)) == -1 &&
		    (errno == ENOSYS || errno == EINVAL)) {
			/* Fork-like: its own copy of memory, our stack's. */
			ca.flags &= ~(uint64_t)CLONE_VM;
			ca.stack = ca.stack_size = 0;
			if ((pid = (pid_t)syscall(SYS_clone3, &ca,
			    sizeof ca)) == 0)
				lane_child(&c);
		}
	} else
		pid = clone(lane_child, stack + sizeof stack, CLONE_VM |
		    CLONE_VFORK | CLONE_PARENT | SIGCHLD, &c);
	*errp = pid == -1 ? errno : *child_err;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return (pid);
}
