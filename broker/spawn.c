/*
 * The only exec site, and the spawner process around it.
 *
 * The broker forks the spawner right after it takes on the lane layer of
 * the sandbox, and then locks itself down further, with no exec and no
 * fork.  The spawner keeps only the lane layer: it reads fully built
 * spawn orders, checks them again, and starts the lane with clone(2)
 * CLONE_PARENT, so the lane is the broker's child and the broker alone
 * tracks, signals and reaps it.  The program is the absolute path pinned
 * at start; no shell and no PATH search are involved.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/spawn.h"
#include "common/chan.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "common/validate.h"

#define LANE_PATH	"PATH=/usr/local/bin:/usr/bin:/bin"

/* "NAME=value" strings copied from our environment at start. */
static char	*base_env[8 + MAX_ENV_PASS];
static int	 base_envc;

static void
keep_env(const char *name)
{
	const char	*v;
	size_t		 len;
	char		*s;

	if ((v = getenv(name)) == NULL)
		return;
	if (strlen(v) > MAX_ENV_VALUE_BYTES) {
		log_warnx("not passing %s to lanes: longer than %d bytes",
		    name, MAX_ENV_VALUE_BYTES);
		return;
	}
	len = strlen(name) + 1 + strlen(v) + 1;
	s = xmalloc(len);
	snprintf(s, len, "%s=%s", name, v);
	base_env[base_envc++] = s;
}

void
spawn_init(const struct config *conf)
{
	static const char *fixed[] = {
		"HOME", "USER", "LOGNAME", "LANG", "SSH_AUTH_SOCK"
	};
	size_t	i, j;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		keep_env(fixed[i]);
	for (i = 0; i < conf->n_env_pass; i++) {
		for (j = 0; j < sizeof fixed / sizeof fixed[0]; j++) {
			if (strcmp(conf->env_pass[i], fixed[j]) == 0)
				break;
		}
		if (j == sizeof fixed / sizeof fixed[0])
			keep_env(conf->env_pass[i]);
	}
}

/* The names a lane gets from our environment, as --check-config shows. */
void
spawn_env_names(char *buf, size_t len)
{
	size_t	off = 0;
	int	i, n;

	buf[0] = '\0';
	for (i = 0; i < base_envc && off < len; i++) {
		n = snprintf(buf + off, len - off, " %.*s",
		    (int)strcspn(base_env[i], "="), base_env[i]);
		if (n > 0)
			off += (size_t)n;
	}
}

static char *
env_pair(const char *name, const char *value)
{
	size_t	 len = strlen(name) + 1 + strlen(value) + 1;
	char	*s = xmalloc(len);

	snprintf(s, len, "%s=%s", name, value);
	return (s);
}

void
lane_args_build(struct lane_args *la, const struct config *conf,
    const char *handle, const char *orguser, const char *repo,
    const char *github, const char *task)
{
	char	max[16];
	int	i;

	memset(la, 0, sizeof *la);
	snprintf(max, sizeof max, "%u", conf->max_iterations);
	la->argv[la->argc++] = xstrdup(conf->command);
	la->argv[la->argc++] = xstrdup(orguser);
	la->argv[la->argc++] = xstrdup(repo);
	/* The seed's argv, byte for byte; the task is refused if it
	 * starts with '-', so it can never be read as an option. */
	if (conf->task_arg)
		la->argv[la->argc++] = xstrdup(task);
	la->argv[la->argc++] = xstrdup("--host");
	la->argv[la->argc++] = xstrdup(conf->ssh_host);
	la->argv[la->argc++] = xstrdup("--max");
	la->argv[la->argc++] = xstrdup(max);
	la->argv[la->argc] = NULL;

	la->envp[la->envc++] = xstrdup(LANE_PATH);
	for (i = 0; i < base_envc; i++)
		la->envp[la->envc++] = xstrdup(base_env[i]);
	la->envp[la->envc++] = env_pair("DISPATCH_HANDLE", handle);
	la->envp[la->envc++] = env_pair("DISPATCH_ORGUSER", orguser);
	la->envp[la->envc++] = env_pair("DISPATCH_REPO", repo);
	la->envp[la->envc++] = env_pair("DISPATCH_GITHUB", github);
	la->envp[la->envc] = NULL;
}

void
lane_args_free(struct lane_args *la)
{
	int	i;

	for (i = 0; i < la->argc; i++)
		free(la->argv[i]);
	for (i = 0; i < la->envc; i++)
		free(la->envp[i]);
	memset(la, 0, sizeof *la);
}

void
lane_argv_template(const struct config *conf, char *buf, size_t len)
{
	snprintf(buf, len, "%s ORGUSER REPO%s --host %s --max %u%s",
	    conf->command, conf->task_arg ? " TASK" : "", conf->ssh_host,
	    conf->max_iterations, conf->task_arg ? "  (stdin: /dev/null)" :
	    "  (stdin: TASK, then EOF)");
}

/* The kernel's struct sigaction, for raw rt_sigaction(2). */
struct ksigaction {
	void		(*handler)(int);
	unsigned long	  flags;
	void		(*restorer)(void);
	uint64_t	  mask;
};

/* Signals this process ignores: an exec keeps those, so lanes reset them. */
static int	ignored[NSIG];
static int	nignored = -1;
/* RLIMIT_NPROC for lanes, within the hard limit we were given. */
static rlim_t	lane_nproc;

static void
find_ignored(const struct config *conf)
{
	struct ksigaction	ksa;
	struct rlimit		rl;
	int			i;

	lane_nproc = conf->lane_nproc;
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < lane_nproc)
		lane_nproc = rl.rlim_max;
	nignored = 0;
	for (i = 1; i < NSIG; i++) {
		if (syscall(SYS_rt_sigaction, i, NULL, &ksa, 8) == 0 &&
		    ksa.handler == SIG_IGN)
			ignored[nignored++] = i;
	}
}

/* The broker, as the spawner knows it from the fork: lanes' parent. */
static pid_t	broker_pid;

struct child {
	const struct config	*conf;
	const struct lane_args	*la;
	const int		*fds;
	pid_t			 parent;	/* the broker, or us */
	volatile int		 err;	/* errno of a failed exec */
};

/*
 * The child, on its own stack in our memory until it execs (CLONE_VM |
 * CLONE_VFORK, as posix_spawn does): raw system calls only, nothing that
 * touches libc state, and the errno of a failure left in c->err.
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
	rl.rlim_cur = rl.rlim_max = lane_nproc;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		goto fail;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	execve(c->conf->command, c->la->argv, c->la->envp);
fail:
	c->err = errno != 0 ? errno : EINVAL;
	_exit(127);
}

/*
 * Start a lane on the given stdin, stdout and stderr.  We are suspended
 * until it has exec'd or failed, so its error is known on return.  With
 * as_sibling the lane becomes our parent's child (CLONE_PARENT).
 */
static pid_t
lane_clone(const struct config *conf, const struct lane_args *la,
    const int fds[3], int as_sibling, int *errp)
{
	static char	 stack[64 * 1024] __attribute__((aligned(16)));
	struct child	 c;
	sigset_t	 all, old;
	pid_t		 pid;

	if (nignored == -1)
		find_ignored(conf);
	c.conf = conf;
	c.la = la;
	c.fds = fds;
	c.parent = !as_sibling ? getpid() : broker_pid != 0 ? broker_pid :
	    getppid();
	c.err = 0;
	/* No handler may run on the child's borrowed stack. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(lane_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK |
	    (as_sibling ? CLONE_PARENT : 0) | SIGCHLD, &c);
	*errp = pid == -1 ? errno : c.err;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1)
		return (-1);
	/* Our own child: reap it.  A sibling is our parent's to reap. */
	if (*errp != 0 && !as_sibling)
		waitpid(pid, NULL, 0);
	return (pid);
}

int
spawn_lane(const struct config *conf, const struct lane_args *la,
    struct lane_io *io)
{
	int	in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int	fds[3], e, saved;
	pid_t	pid;

	io->pid = -1;
	io->in_fd = io->out_fd = io->err_fd = -1;
	if ((!conf->task_arg && pipe2(in, O_CLOEXEC) == -1) ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		saved = errno;
		goto fail;
	}
	fds[0] = conf->task_arg ? open("/dev/null", O_RDONLY | O_CLOEXEC) :
	    in[0];
	fds[1] = out[1];
	fds[2] = errp[1];
	pid = lane_clone(conf, la, fds, 0, &e);
	if (conf->task_arg && fds[0] != -1)
		close(fds[0]);
	if (pid == -1 || e != 0) {
		saved = e != 0 ? e : errno;
		goto fail;
	}
	if (in[0] != -1)
		close(in[0]);
	close(out[1]);
	close(errp[1]);
	io->pid = pid;
	io->in_fd = in[1];
	io->out_fd = out[0];
	io->err_fd = errp[0];
	return (0);
fail:
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (errp[0] != -1) {
		close(errp[0]);
		close(errp[1]);
	}
	errno = saved;
	return (-1);
}

/* The spawner's end and the broker's end of their socket. */
static int	spawner_fd = -1;
static pid_t	spawner_pid = -1;

static int
recv_order(int fd, uint8_t *buf, size_t len, int fds[3])
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 nfds = 0;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return ((int)n);
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    nfds != 0)
			fatalx("spawner: an order with unexpected ancillary data");
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds == 3)
			memcpy(fds, CMSG_DATA(c), sizeof(int) * 3);
	}
	if (nfds != 3 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		fatalx("spawner: an order without its three descriptors");
	return ((int)n);
}

/*
 * The spawner: one order at a time, each checked as if the broker were
 * hostile, since it holds the only exec the broker has.
 */
static void __attribute__((noreturn))
spawner_main(const struct config *conf, int fd)
{
	struct lane_args	 la;
	struct ipc_reader		 r;
	struct ipc_msg		 m;
	uint8_t			*buf = xmalloc(MAX_IPC_BYTES);
	const char		*task;
	size_t			 tlen;
	char			 handle[HANDLE_BYTES + 1], org[MAX_NAME_BYTES + 1];
	char			 repo[MAX_NAME_BYTES + 1], err[256];
	char			 gh[MAX_GITHUB_BYTES + 1];
	int			 fds[3], n, e, i;
	pid_t			 pid;

	log_init("spawner", log_verbose());
	/* The broker decides when we stop; a group's ^C or HUP is its. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	/* If the broker goes, so do we (checked: it may have gone). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != broker_pid)
		_exit(1);
	for (;;) {
		if ((n = recv_order(fd, buf, MAX_IPC_BYTES, fds)) <= 0)
			_exit(0);
		if (ipc_open(&r, buf, (size_t)n) == -1 || r.type != IPC_SPAWN ||
		    ipc_get_strbuf(&r, handle, sizeof handle) == -1 ||
		    ipc_get_strbuf(&r, org, sizeof org) == -1 ||
		    ipc_get_strbuf(&r, repo, sizeof repo) == -1 ||
		    ipc_get_strbuf(&r, gh, sizeof gh) == -1 ||
		    ipc_get_str(&r, &task, &tlen, MAX_TASK_BYTES) == -1 ||
		    ipc_end(&r) == -1)
			fatalx("spawner: malformed order");
		if (check_handle(handle, strlen(handle)) == -1 ||
		    !is_valid_name(org, strlen(org)) ||
		    !is_valid_name(repo, strlen(repo)) ||
		    check_github(gh, strlen(gh)) == -1)
			fatalx("spawner: order with invalid names");
		if (conf->task_arg) {
			const char	*t = task;
			size_t		 l = tlen;

			if (check_task(&t, &l, err, sizeof err) == -1 ||
			    l != tlen || task[0] == '-')
				fatalx("spawner: order with an invalid task");
		} else if (tlen != 0)
			fatalx("spawner: a task in argv when stdin carries it");
		{
			char	*t = xstrndup(task, tlen);

			lane_args_build(&la, conf, handle, org, repo, gh, t);
			free(t);
		}
		pid = lane_clone(conf, &la, fds, 1, &e);
		lane_args_free(&la);
		for (i = 0; i < 3; i++)
			close(fds[i]);
		ipc_init(&m, IPC_SPAWNED, r.id);
		ipc_put_u32(&m, (uint32_t)(pid > 0 ? pid : 0));
		ipc_put_u32(&m, (uint32_t)(pid > 0 ? e : (e != 0 ? e : EAGAIN)));
		if (send(fd, m.data, m.len, MSG_NOSIGNAL) != (ssize_t)m.len)
			_exit(1);
		ipc_free(&m);
	}
}

pid_t
spawner_start(const struct config *conf)
{
	int	sv[2];
	pid_t	me = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("spawner_start: socketpair");
	chan_setbuf(sv[0]);
	chan_setbuf(sv[1]);
	switch (spawner_pid = fork()) {
	case -1:
		fatal("spawner_start: fork");
		break;
	case 0:
		broker_pid = me;
		close(sv[0]);
		if (dup2(sv[1], 3) == -1)
			fatal("spawner: dup2");
		/* Keep stdio (/dev/null, /dev/null, stderr) and the socket. */
		if (syscall(SYS_close_range, 4, ~0U, 0) == -1)
			fatal("spawner: close_range");
		spawner_main(conf, 3);
	}
	close(sv[1]);
	spawner_fd = sv[0];
	return (spawner_pid);
}

/* Send an order; returns the pid, or -1 with errno when none ran. */
pid_t
spawner_request(uint32_t id, const char *handle, const char *org,
    const char *repo, const char *github, const char *task, size_t tlen,
    const int fds[3])
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	struct ipc_msg	 m;
	struct ipc_reader	 r;
	uint8_t		 reply[64];
	uint32_t	 pid, e;
	ssize_t		 n;

	ipc_init(&m, IPC_SPAWN, id);
	ipc_put_cstr(&m, handle);
	ipc_put_cstr(&m, org);
	ipc_put_cstr(&m, repo);
	ipc_put_cstr(&m, github);
	ipc_put_str(&m, task, tlen);
	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	iov.iov_base = m.data;
	iov.iov_len = m.len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, 3 * sizeof(int));
	do {
		n = sendmsg(spawner_fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	ipc_free(&m);
	if (n != -1) {
		do {
			n = recv(spawner_fd, reply, sizeof reply, 0);
		} while (n == -1 && errno == EINTR);
	}
	/* The broker winds down when it reaps the spawner; this one fails. */
	if (n <= 0) {
		log_warnx("spawner_request: the spawner is gone");
		errno = EPIPE;
		return (-1);
	}
	if (ipc_open(&r, reply, (size_t)n) == -1 || r.type != IPC_SPAWNED ||
	    r.id != id || ipc_get_u32(&r, &pid) == -1 ||
	    ipc_get_u32(&r, &e) == -1 || ipc_end(&r) == -1)
		fatalx("spawner_request: malformed reply");
	if (e != 0) {
		/* Our child by CLONE_PARENT, exiting with 127: reap it. */
		if (pid != 0)
			waitpid((pid_t)pid, NULL, 0);
		errno = (int)e;
		return (-1);
	}
	return ((pid_t)pid);
}

pid_t
spawner_get_pid(void)
{
	return (spawner_pid);
}
