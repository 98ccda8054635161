/*
 * Primitives of the lane programs: the lane argument vector, one-line
 * errors, fixed environments and posix_spawn(3) of a fixed argv.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/util.h"
#include "common/validate.h"
#include "lanes/lane.h"

static const char	*progname = "dispatch-lane";
static int		 sigpipe_fds[2] = { -1, -1 };
volatile int		 lane_signalled;

void
lane_init(const char *name)
{
	progname = name;
}

void
lane_escape(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t	i, n = 0;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && n + 5 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		/* A newline or escape sequence could forge a log line. */
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			n += (size_t)snprintf(dst + n, dstlen - n, "\\x%02x",
			    c);
		else
			dst[n++] = (char)c;
	}
	if (i < len && n + 4 < dstlen) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

static void	lane_vwarnx(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

static void
lane_vwarnx(const char *fmt, va_list ap)
{
	char	msg[1024], line[2048];
	int	n;

	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		snprintf(msg, sizeof msg, "(unformattable message)");
	n = snprintf(line, sizeof line, "%s: ", progname);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	lane_escape(line + n, sizeof line - (size_t)n - 1, msg, strlen(msg));
	n = (int)strlen(line);
	line[n++] = '\n';
	/* Nowhere else to report a failed write of an error. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void
lane_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	lane_vwarnx(fmt, ap);
	va_end(ap);
}

void
lane_errx(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	lane_vwarnx(fmt, ap);
	va_end(ap);
	exit(status);
}

int
lane_parse_max(const char *s, uint32_t *out)
{
	char	err[128];

	/* "050" or "+5" are not what the server sends. */
	if (s[0] == '0')
		return (-1);
	return (config_parse_uint("--max", s, 1, MAX_ITERATIONS_LIMIT, out,
	    err, sizeof err));
}

int
lane_parse_args(int argc, char **argv, struct lane_args *a, char *err,
    size_t errlen)
{
	char	echo[ECHO_BYTES];

	memset(a, 0, sizeof *a);
	if (argc != 7 || strcmp(argv[3], "--host") != 0 ||
	    strcmp(argv[5], "--max") != 0) {
		snprintf(err, errlen, "usage: %s ORGUSER REPO --host HOST "
		    "--max N (task on stdin)", progname);
		return (-1);
	}
	a->orguser = argv[1];
	a->repo = argv[2];
	if (!is_valid_name(a->orguser, strlen(a->orguser))) {
		echo_value(echo, sizeof echo, a->orguser, strlen(a->orguser));
		snprintf(err, errlen, "invalid orguser '%s': must match %s",
		    echo, NAME_PATTERN);
		return (-1);
	}
	if (!is_valid_name(a->repo, strlen(a->repo))) {
		echo_value(echo, sizeof echo, a->repo, strlen(a->repo));
		snprintf(err, errlen, "invalid repo '%s': must match %s",
		    echo, NAME_PATTERN);
		return (-1);
	}
	if (config_parse_host(argv[4], a->host, sizeof a->host) == -1) {
		echo_value(echo, sizeof echo, argv[4], strlen(argv[4]));
		snprintf(err, errlen, "invalid host name '%s'", echo);
		/* The caller tells this one apart by its exit status. */
		a->host[0] = '\0';
		return (-2);
	}
	if (lane_parse_max(argv[6], &a->max) == -1) {
		echo_value(echo, sizeof echo, argv[6], strlen(argv[6]));
		snprintf(err, errlen, "--max must be an integer from 1 to %d, "
		    "not '%s'", MAX_ITERATIONS_LIMIT, echo);
		return (-1);
	}
	snprintf(a->max_str, sizeof a->max_str, "%u", a->max);
	return (0);
}

void
lane_vec_add(struct lane_vec *vec, const char *s)
{
	if (vec->n >= LANE_MAX_ARGV)
		lane_errx(71, "internal error: argument vector full");
	vec->v[vec->n++] = xstrdup(s);
	vec->v[vec->n] = NULL;
}

void
lane_vec_addf(struct lane_vec *vec, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		lane_errx(71, "out of memory");
	va_end(ap);
	lane_vec_add(vec, s);
	free(s);
}

void
lane_vec_free(struct lane_vec *vec)
{
	size_t	i;

	for (i = 0; i < vec->n; i++)
		free(vec->v[i]);
	vec->n = 0;
	vec->v[0] = NULL;
}

void
lane_env_keep(struct lane_vec *env, const char *name)
{
	const char	*v;

	if ((v = getenv(name)) != NULL && strlen(v) <= MAX_ENV_VALUE_BYTES)
		lane_vec_addf(env, "%s=%s", name, v);
}

pid_t
lane_spawn(const char *path, struct lane_vec *argv, struct lane_vec *envp,
    int in, int out, int err, int flags)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 all, none;
	pid_t				 pid;
	int				 fds[3] = { in, out, err }, i, r;
	short				 sflags;

	sigfillset(&all);
	sigemptyset(&none);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (r = posix_spawnattr_init(&attr)) != 0) {
		errno = r;
		return (-1);
	}
	for (i = 0; i < 3; i++) {
		if (fds[i] == -1)
			r = posix_spawn_file_actions_addopen(&fa, i,
			    "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
		else if (fds[i] == i)
			continue;	/* inherited as it is */
		else
			r = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		if (r != 0)
			goto fail;
	}
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	/* Nothing of ours but the three standard descriptors. */
	if ((r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0)
		goto fail;
#endif
	sflags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
	if (flags & LANE_SPAWN_SETSID)
		sflags |= POSIX_SPAWN_SETSID;
	else if (flags & LANE_SPAWN_PGROUP) {
		sflags |= POSIX_SPAWN_SETPGROUP;
		if ((r = posix_spawnattr_setpgroup(&attr, 0)) != 0)
			goto fail;
	}
	if ((r = posix_spawnattr_setflags(&attr, sflags)) != 0 ||
	    (r = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
	    (r = posix_spawnattr_setsigmask(&attr, &none)) != 0)
		goto fail;
	r = posix_spawn(&pid, path, &fa, &attr, argv->v, envp->v);
 fail:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		errno = r;
		return (-1);
	}
	return (pid);
}

int
lane_waitpid(pid_t pid, int *status, volatile int *stop)
{
	for (;;) {
		if (waitpid(pid, status, 0) == pid)
			return (0);
		if (errno != EINTR || (stop != NULL && *stop))
			return (-1);
	}
}

int
lane_wait_or_signal(pid_t pid, int *status, int timeout_ms)
{
	struct pollfd	pfd[2];
	int		pidfd, r;

	/* A pidfd and the signal pipe in one poll: no lost wake-up. */
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return (-1);
	for (;;) {
		if (lane_signalled) {
			r = 1;
			break;
		}
		pfd[0].fd = pidfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sigpipe_fds[0];
		pfd[1].events = POLLIN;
		r = poll(pfd, sigpipe_fds[0] == -1 ? 1 : 2, timeout_ms);
		/*
		 * A signal and the child's exit can come together (a group
		 * kill ends both): poll then reports the pidfd and the handler
		 * runs on its return.  The signal decides.
		 */
		if (lane_signalled) {
			r = 1;
			break;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;
		if (r == 0) {
			r = 2;
			break;
		}
		if (pfd[0].revents != 0) {
			r = waitpid(pid, status, 0) == pid ? 0 : -1;
			break;
		}
	}
	close(pidfd);
	return (r);
}

int
lane_status(int st)
{
	if (WIFEXITED(st))
		return (WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return (128 + WTERMSIG(st));
	return (71);
}

static void
on_signal(int sig)
{
	int	saved = errno;

	if (lane_signalled == 0)
		lane_signalled = sig;
	if (sigpipe_fds[1] != -1 && write(sigpipe_fds[1], "", 1) < 0) {
		/* Full: a wake-up is pending already. */
	}
	errno = saved;
}

void
lane_catch_signals(void)
{
	struct sigaction	sa;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		lane_errx(71, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait must see the signal. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
lane_signal_fd(void)
{
	return (sigpipe_fds[0]);
}

void
lane_reraise(int sig)
{
	sigset_t	set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

ssize_t
lane_read_all(int fd, char *buf, size_t max)
{
	size_t	len = 0;
	ssize_t	n;
	char	extra;

	while (len < max) {
		n = read(fd, buf + len, max - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		if (n == 0)
			return ((ssize_t)len);
		len += (size_t)n;
	}
	/* Full: it must be at EOF now, or the input is too long. */
	while ((n = read(fd, &extra, 1)) == -1 && errno == EINTR)
		;
	if (n != 0) {
		errno = n == -1 ? errno : EFBIG;
		return (-1);
	}
	return ((ssize_t)len);
}

int
lane_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

int
lane_trusted(const struct stat *st)
{
	return ((st->st_uid == 0 || st->st_uid == getuid()) &&
	    (st->st_mode & (S_IWGRP | S_IWOTH)) == 0);
}

char *
lane_read_conf(const char *path, size_t max, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	int		 fd;

	/* Not through a symbolic link: the file itself must be safe. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    !lane_trusted(&st)) {
		snprintf(err, errlen, "%s: not a regular file owned by root "
		    "or uid %ld and closed to group and world writes", path,
		    (long)getuid());
		close(fd);
		return (NULL);
	}
	text = xmalloc(max);
	if ((n = lane_read_all(fd, text, max)) == -1 ||
	    memchr(text, '\0', (size_t)n) != NULL) {
		snprintf(err, errlen, "%s: unreadable, longer than %zu bytes, "
		    "or holds a NUL byte", path, max);
		free(text);
		close(fd);
		return (NULL);
	}
	close(fd);
	*lenp = (size_t)n;
	return (text);
}

int
lane_kv_next(struct lane_kv *kv)
{
	const char	*nl, *p;
	size_t		 len;

	while (kv->p < kv->end) {
		kv->lineno++;
		p = kv->p;
		if ((nl = memchr(p, '\n', (size_t)(kv->end - p))) == NULL)
			nl = kv->end;
		kv->p = nl < kv->end ? nl + 1 : nl;
		len = (size_t)(nl - p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
		    p[len - 1] == '\r'))
			len--;
		if (len == 0 || p[0] == '#')
			continue;
		kv->key = p;
		for (kv->klen = 0; kv->klen < len && p[kv->klen] != ' ' &&
		    p[kv->klen] != '\t'; kv->klen++)
			;
		kv->val = p + kv->klen;
		kv->vlen = len - kv->klen;
		while (kv->vlen > 0 && (*kv->val == ' ' || *kv->val == '\t')) {
			kv->val++;
			kv->vlen--;
		}
		return (1);
	}
	return (0);
}

int
lane_kv_is(const struct lane_kv *kv, const char *key)
{
	return (kv->klen == strlen(key) && memcmp(kv->key, key, kv->klen) == 0);
}

uint64_t
lane_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
lane_sleep_ms(int ms)
{
	struct pollfd	pfd;

	/* The signal pipe ends the sleep: no wake-up is lost to a race. */
	if (lane_signalled)
		return;
	pfd.fd = sigpipe_fds[0];
	pfd.events = POLLIN;
	(void)poll(&pfd, 1, ms);
}
