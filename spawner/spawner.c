/*
 * The spawner process.  The broker forks it right after taking on the
 * lane layer of the sandbox, then locks itself down further, with no
 * exec and no fork.  The spawner keeps only the lane layer and the lane
 * policy: it reads one order at a time, checks it as if the broker were
 * hostile (it holds the only exec the broker has), builds the argv and
 * environment itself and starts the lane.  A bad order is fatal here.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/utf8.h"
#include "spawner/spawner.h"

/* The socket is always this descriptor in the spawner. */
#define SPAWNER_FD	3
#define CGROUP2_MAGIC	0x63677270

/*
 * One datagram with exactly three descriptors (four with cgroups: the
 * lane's cgroup), and nothing else.
 */
static ssize_t
recv_order(int fd, uint8_t *buf, size_t len, int fds[4], size_t want)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(5 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	struct statfs	 sf;
	struct stat	 st;
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
		return (n);
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		fatalx("spawner: an order too large, or with too much "
		    "ancillary data");
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    nfds != 0)
			fatalx("spawner: an order with unexpected ancillary "
			    "data");
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds == want)
			memcpy(fds, CMSG_DATA(c), sizeof(int) * want);
	}
	if (nfds != want)
		fatalx("spawner: an order with %zu descriptors, not %zu", nfds,
		    want);
	/* What the lane is born into must be a cgroup. */
	if (want == 4 && (fstatfs(fds[3], &sf) == -1 ||
	    sf.f_type != CGROUP2_MAGIC || fstat(fds[3], &st) == -1 ||
	    !S_ISDIR(st.st_mode)))
		fatalx("spawner: the fourth descriptor is not a cgroup");
	return (n);
}

/*
 * The task travels in an order only when it goes into argv.  What could
 * change what runs is checked: a leading '-' (an option), bytes that are
 * not UTF-8, and the length; NULs never pass the decoder.
 */
static void
check_task_order(const struct lane_policy *p, const struct spawn_order *o)
{
	long	n;

	if (!p->task_arg) {
		if (o->task_len != 0)
			fatalx("spawner: a task in argv when stdin carries it");
		return;
	}
	n = utf8_count(o->task, o->task_len);
	if (n < 1 || n > MAX_TASK_CODEPOINTS || o->task[0] == '-')
		fatalx("spawner: an order with an invalid task");
}

static void
reply(int fd, uint32_t id, pid_t pid, int err)
{
	struct ipc_msg	m;

	/* A pid with an errno: the exec failed, the broker reaps it. */
	proto_spawned(&m, id, (uint32_t)(pid > 0 ? pid : 0),
	    (uint32_t)(pid > 0 ? err : (err != 0 ? err : EAGAIN)));
	if (send(fd, m.data, m.len, MSG_NOSIGNAL) != (ssize_t)m.len)
		_exit(1);
	ipc_free(&m);
}

static void __attribute__((noreturn))
spawner_main(const struct lane_policy *p, pid_t broker)
{
	static uint8_t		buf[MAX_IPC_BYTES];
	static struct lane_cmd	cmd;
	struct spawn_order	o;
	struct ipc_reader	r;
	ssize_t			n;
	pid_t			pid;
	int			fds[4], err, i, nfds = p->cgroup ? 4 : 3;

	log_init("spawner", log_verbose());
	/* The broker decides when we stop; a group's ^C or HUP is its. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	/* If the broker goes, so do we (checked: it may have gone). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != broker)
		_exit(1);
	lane_exec_init(p);
	for (;;) {
		if ((n = recv_order(SPAWNER_FD, buf, sizeof buf, fds,
		    (size_t)nfds)) <= 0)
			_exit(0);
		if (ipc_open(&r, buf, (size_t)n) == -1 ||
		    r.type != IPC_SPAWN || proto_get_spawn(&r, &o) == -1)
			fatalx("spawner: malformed order");
		check_task_order(p, &o);
		lane_cmd_build(&cmd, p, &o);
		pid = lane_exec(p, &cmd, fds, broker, &err);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		reply(SPAWNER_FD, r.id, pid, err);
	}
}

pid_t
spawner_start(const struct lane_policy *p, int *sockp)
{
	pid_t	me = getpid(), pid;
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("spawner_start: socketpair");
	ipc_setbuf(sv[0]);
	ipc_setbuf(sv[1]);
	if ((pid = fork()) == -1)
		fatal("spawner_start: fork");
	if (pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], SPAWNER_FD) == -1)
			fatal("spawner: dup2");
		/* Keep stdio (/dev/null, /dev/null, stderr) and the socket. */
		if (syscall(SYS_close_range, SPAWNER_FD + 1, ~0U, 0) == -1)
			fatal("spawner: close_range");
		spawner_main(p, me);
	}
	close(sv[1]);
	*sockp = sv[0];
	return (pid);
}
