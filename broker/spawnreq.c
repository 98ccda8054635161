/*
 * The broker's stub for the spawner, as OpenSSH's monitor_wrap.c is for
 * its monitor.  One order at a time: the broker blocks for the answer,
 * which comes as soon as the lane has exec'd or failed to.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "broker/spawnreq.h"
#include "common/ipc.h"
#include "common/log.h"

static ssize_t
send_order(int fd, const struct ipc_msg *m, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	iov.iov_base = m->data;
	iov.iov_len = m->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	do {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return (n);
}

/* Three descriptors, and the lane's cgroup.procs as a fourth if any. */
pid_t
spawnreq_send(int fd, const struct spawn_order *o, const int *fds,
    size_t nfds)
{
	static uint32_t		 seq;
	struct ipc_msg		 m;
	struct ipc_reader	 r;
	uint8_t			 reply[64];
	uint32_t		 id = ++seq, pid, e;
	ssize_t			 n;

	proto_spawn(&m, id, o);
	n = send_order(fd, &m, fds, nfds);
	ipc_free(&m);
	if (n != -1) {
		do {
			n = recv(fd, reply, sizeof reply, 0);
		} while (n == -1 && errno == EINTR);
	}
	/* The broker winds down when it reaps the spawner; this one fails. */
	if (n <= 0) {
		log_warnx("spawnreq_send: the spawner is gone");
		errno = EPIPE;
		return (-1);
	}
	if (ipc_open(&r, reply, (size_t)n) == -1 || r.type != IPC_SPAWNED ||
	    r.id != id || proto_get_spawned(&r, &pid, &e) == -1)
		fatalx("spawnreq_send: malformed reply");
	if (e != 0) {
		/* Our child by CLONE_PARENT, exiting with 127: reap it. */
		if (pid != 0)
			waitpid((pid_t)pid, NULL, 0);
		errno = (int)e;
		return (-1);
	}
	return ((pid_t)pid);
}
