/*
 * dispatch-lane-receive: the forced command of a lane host's
 * authorized_keys line, and the lane host's only exec site.  It accepts
 * exactly the remote command dispatch-lane-ssh sends (receive.c), reads
 * the task from the channel (ended by a NUL byte), checks it as
 * dispatch-mcp does, and runs the
 * program named in its configuration file as
 *
 *	PROGRAM ORGUSER REPO --max N
 *
 * (ORGUSER is the login user) with the task on stdin, a minimal
 * environment, its own session and no other descriptor.  It relays the
 * program's output and exits with its status.
 *
 * sshd sends a forced command no signal when the client goes, and a
 * program that writes nothing would run on for ever.  So the receiver
 * watches its own stdout and stderr, the channel's pipes: when sshd's end
 * is gone they poll as POLLERR (or a write fails with EPIPE), and it ends
 * the program's whole process group, SIGTERM and then SIGKILL.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/validate.h"
#include "lanes/receive.h"

#define RCV_CONF_DEFAULT	"/etc/dispatch-mcp/lane-receive.conf"
/* From SIGTERM to SIGKILL of the program's group when the client goes. */
#define RCV_KILL_GRACE_MS	2000
/* After the program exits, how long its pipes may stay open. */
#define RCV_DRAIN_MS		200
#define RCV_BUF_BYTES		65536

#define EXIT_REFUSED		2
#define EXIT_HANGUP		3
#define EXIT_OSERR		71
#define EXIT_CONFIG		78

static const char	*peer = "unknown";
static char		 login[MAX_NAME_BYTES + 1] = "?";

static void	slog(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* One syslog line; every untrusted value is escaped by the caller. */
static void
slog(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn))
refuse(const char *cmd, const char *why)
{
	char	ecmd[RCV_MAX_COMMAND_BYTES * 4 + 8], ewhy[1024];

	lane_escape(ecmd, sizeof ecmd, cmd != NULL ? cmd : "(none)",
	    cmd != NULL ? strlen(cmd) : 6);
	lane_escape(ewhy, sizeof ewhy, why, strlen(why));
	slog(LOG_WARNING, "refused user=%s from=%s command=\"%s\": %s", login,
	    peer, ecmd, ewhy);
	lane_errx(EXIT_REFUSED, "refused: %s", why);
}

static void __attribute__((noreturn))
config_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void __attribute__((noreturn))
config_error(const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024], emsg[1024 * 4];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lane_escape(emsg, sizeof emsg, msg, strlen(msg));
	slog(LOG_ERR, "configuration error: %s", emsg);
	lane_errx(EXIT_CONFIG, "configuration error: %s", msg);
}

static void
load_conf(const char *path, struct rcv_conf *c)
{
	struct stat	 st;
	char		*text, err[PATH_MAX + 256];
	size_t		 len;

	if ((text = lane_read_conf(path, RCV_MAX_CONF_BYTES, &len, err,
	    sizeof err)) == NULL)
		config_error("%s", err);
	if (rcv_conf_parse(text, len, c, err, sizeof err) == -1)
		config_error("%s: %s", path, err);
	free(text);
	if (stat(c->program, &st) == -1)
		config_error("program %s: %s", c->program, strerror(errno));
	if (!S_ISREG(st.st_mode) || !lane_trusted(&st) ||
	    access(c->program, X_OK) == -1)
		config_error("program %s: not an executable regular file owned "
		    "by root or uid %ld and closed to group and world writes",
		    c->program, (long)getuid());
}

/*
 * The task, then one NUL byte, then end of file: a task never holds a NUL,
 * and a client that dies while sending also ends the stream with end of
 * file, so only the NUL tells a whole task from a cut one.  The task is
 * checked as dispatch-mcp checks it and passed on byte for byte.
 */
static char *
read_task(size_t *lenp)
{
	static char	 buf[MAX_TASK_BYTES + 1];
	const char	*p, *cmd = getenv("SSH_ORIGINAL_COMMAND");
	size_t		 len;
	ssize_t		 n;
	char		 err[256];

	if ((n = lane_read_all(STDIN_FILENO, buf, sizeof buf)) == -1) {
		if (errno == EFBIG)
			snprintf(err, sizeof err, "task longer than %u bytes",
			    (unsigned)MAX_TASK_BYTES);
		else
			snprintf(err, sizeof err, "cannot read the task: %s",
			    strerror(errno));
		refuse(cmd, err);
	}
	if (n == 0 || buf[n - 1] != '\0')
		refuse(cmd, "the task does not end with a NUL byte: cut short, "
		    "or not sent by dispatch-lane-ssh");
	p = buf;
	len = (size_t)n - 1;
	if (check_task(&p, &len, err, sizeof err) == -1)
		refuse(cmd, err);
	*lenp = (size_t)n - 1;
	return (buf);
}

/* The client is gone: end the program's whole group, bounded in time. */
static void __attribute__((noreturn))
end_group(pid_t pid, int pidfd, const char *why)
{
	struct pollfd	pfd;
	uint64_t	deadline;
	int		status, left;

	slog(LOG_NOTICE, "client gone (%s): ending process group %ld of "
	    "user=%s", why, (long)pid, login);
	kill(-pid, SIGTERM);
	deadline = lane_mono_ms() + RCV_KILL_GRACE_MS;
	while ((left = (int)(deadline - lane_mono_ms())) > 0) {
		pfd.fd = pidfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == 1)
			break;
	}
	/*
	 * Unreaped, the leader pins the group id, so this cannot reach a
	 * stranger; it ends what ignored SIGTERM or outlived the leader.
	 */
	kill(-pid, SIGKILL);
	(void)lane_waitpid(pid, &status, NULL);
	slog(LOG_NOTICE, "ended process group %ld of user=%s after the "
	    "client went (%s)", (long)pid, login, why);
	exit(EXIT_HANGUP);
}

/* A channel pipe whose reader is gone; events 0 still reports it. */
static int
hung_up(const struct pollfd *p)
{
	return ((p->revents & (POLLERR | POLLHUP | POLLNVAL)) != 0);
}

static int
relay(int from, int to)
{
	static char	buf[RCV_BUF_BYTES];
	ssize_t		n;

	n = read(from, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return (1);
	if (n <= 0)
		return (0);
	if (lane_write_all(to, buf, (size_t)n) == -1)
		return (-1);
	return (1);
}

static int
supervise(pid_t pid, int out, int err)
{
	struct pollfd	pfd[6];
	uint64_t	drain_until = 0;
	int		pidfd, status, r, timeout, exited = 0;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		kill(-pid, SIGKILL);
		lane_errx(EXIT_OSERR, "pidfd_open: %s", strerror(errno));
	}
	while (out != -1 || err != -1 || !exited) {
		if (lane_signalled)
			end_group(pid, pidfd, "signal");
		pfd[0].fd = out;
		pfd[0].events = POLLIN;
		pfd[1].fd = err;
		pfd[1].events = POLLIN;
		pfd[2].fd = exited ? -1 : pidfd;
		pfd[2].events = POLLIN;
		pfd[3].fd = STDOUT_FILENO;
		pfd[3].events = 0;
		pfd[4].fd = STDERR_FILENO;
		pfd[4].events = 0;
		pfd[5].fd = lane_signal_fd();
		pfd[5].events = POLLIN;
		timeout = -1;
		if (exited) {
			timeout = (int)(drain_until - lane_mono_ms());
			if (timeout <= 0)
				break;
		}
		r = poll(pfd, 6, timeout);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			kill(-pid, SIGKILL);
			lane_errx(EXIT_OSERR, "poll: %s", strerror(errno));
		}
		if (hung_up(&pfd[3]) || hung_up(&pfd[4]))
			end_group(pid, pidfd, "channel closed");
		if (pfd[0].revents != 0 &&
		    (r = relay(out, STDOUT_FILENO)) <= 0) {
			if (r == -1)
				end_group(pid, pidfd, "channel write failed");
			close(out);
			out = -1;
		}
		if (pfd[1].revents != 0 &&
		    (r = relay(err, STDERR_FILENO)) <= 0) {
			if (r == -1)
				end_group(pid, pidfd, "channel write failed");
			close(err);
			err = -1;
		}
		if (!exited && pfd[2].revents != 0) {
			exited = 1;
			drain_until = lane_mono_ms() + RCV_DRAIN_MS;
		}
	}
	/* What the program left in its group ends with it. */
	kill(-pid, SIGKILL);
	if (lane_waitpid(pid, &status, NULL) == -1)
		lane_errx(EXIT_OSERR, "waitpid: %s", strerror(errno));
	close(pidfd);
	return (status);
}

int
main(int argc, char *argv[])
{
	static struct lane_vec	 pargv, env;
	static struct rcv_conf	 conf;
	struct rcv_request	 req;
	struct passwd		*pw;
	const char		*conf_path = RCV_CONF_DEFAULT, *cmd, *conn;
	char			 err[512], *task, epeer[64], erepo[600];
	size_t			 tasklen;
	int			 ch, in[2], out[2], errp[2], status, code;
	pid_t			 pid;

	lane_init("dispatch-lane-receive");
	openlog("dispatch-lane-receive", LOG_PID, LOG_AUTHPRIV);
	umask(077);

	/* Options come from the authorized_keys line, never the client. */
	while ((ch = getopt(argc, argv, "f:")) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		default:
			config_error("usage: dispatch-lane-receive [-f file]");
		}
	}
	if (optind != argc)
		config_error("usage: dispatch-lane-receive [-f file]");

	if ((conn = getenv("SSH_CONNECTION")) != NULL) {
		lane_escape(epeer, sizeof epeer, conn, strcspn(conn, " "));
		peer = epeer;
	}
	if ((pw = getpwuid(getuid())) == NULL ||
	    !is_valid_name(pw->pw_name, strlen(pw->pw_name)))
		config_error("the login user (uid %ld) has no valid name",
		    (long)getuid());
	snprintf(login, sizeof login, "%s", pw->pw_name);

	cmd = getenv("SSH_ORIGINAL_COMMAND");
	if (rcv_parse(cmd, &req, err, sizeof err) == -1)
		refuse(cmd, err);
	load_conf(conf_path, &conf);
	if (!rcv_conf_allows(&conf, req.repo))
		refuse(cmd, "repo not served by this lane host");
	task = read_task(&tasklen);

	lane_vec_add(&pargv, conf.program);
	lane_vec_add(&pargv, login);
	lane_vec_add(&pargv, req.repo);
	lane_vec_add(&pargv, "--max");
	lane_vec_add(&pargv, req.max_str);
	lane_vec_add(&env, LANE_PATH_ENV);
	lane_vec_addf(&env, "HOME=%s", pw->pw_dir);
	lane_vec_addf(&env, "USER=%s", login);
	lane_vec_addf(&env, "LOGNAME=%s", login);
	lane_env_keep(&env, "LANG");
	lane_vec_addf(&env, "DISPATCH_ORGUSER=%s", login);
	lane_vec_addf(&env, "DISPATCH_REPO=%s", req.repo);

	/* The whole task fits a pipe's buffer (64 KiB): no deadlock. */
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(errp, O_CLOEXEC) == -1)
		lane_errx(EXIT_OSERR, "pipe: %s", strerror(errno));
	if (lane_write_all(in[1], task, tasklen) == -1)
		lane_errx(EXIT_OSERR, "write task: %s", strerror(errno));
	close(in[1]);
	lane_catch_signals();
	pid = lane_spawn(conf.program, &pargv, &env, in[0], out[1], errp[1],
	    LANE_SPAWN_SETSID);
	if (pid == -1) {
		code = errno;
		slog(LOG_ERR, "cannot run %s for user=%s: %s", conf.program,
		    login, strerror(code));
		lane_errx(EXIT_OSERR, "cannot run the lane program: %s",
		    strerror(code));
	}
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	lane_escape(erepo, sizeof erepo, req.repo, strlen(req.repo));
	slog(LOG_INFO, "accepted user=%s from=%s repo=%s max=%s pid=%ld",
	    login, peer, erepo, req.max_str, (long)pid);

	status = supervise(pid, out[0], errp[0]);
	code = lane_status(status);
	/* ssh(1) itself exits 255: keep that status unambiguous. */
	if (code == 255)
		code = 254;
	slog(LOG_INFO, "done user=%s repo=%s pid=%ld status=%d", login, erepo,
	    (long)pid, code);
	return (code);
}
