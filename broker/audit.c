/* Append-only, fsync'd JSON Lines audit log. */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "broker/audit.h"
#include "common/chain.h"
#include "common/bounds.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/validate.h"

static int		audit_fd = -1;
static int		prev_fd = -1;	/* the file before a rotation */
static char		audit_path[PATH_MAX];
static char		audit_echo[ECHO_PATH_BYTES];	/* for messages */
/* The log's directory at start: the only one the sandbox lets us write. */
static dev_t		dir_dev;
static ino_t		dir_ino;
static int		dir_replaced;
static char		audit_sess[33];
static char		audit_user[64];
/* The chain head as this process last saw it, and where. */
static struct chain_head	head;
static int			head_valid;
static dev_t			head_dev;
static ino_t			head_ino;
static off_t			head_size;
/* The second copy of every head: a datagram socket to syslog. */
static int		syslog_fd = -1;
static int		syslog_warned;

/*
 * Each server holds, for its life, a read lock on one byte of the log
 * far past any end it will ever have, at LIVE_LOCK_BASE plus its pid
 * (an OFD lock: flock(2) on the same file, the writers' lock, is another
 * kind and does not meet it).  The kernel drops it when the server dies,
 * however it dies, so another server on the same log can tell a
 * dispatch still running from one whose server ended without its exit
 * record.
 */
#define LIVE_LOCK_BASE	((off_t)1 << 62)

static int
live_lock(int fd, int cmd, short type, pid_t pid)
{
	struct flock	fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = LIVE_LOCK_BASE + pid;
	fl.l_len = 1;
	if (fcntl(fd, cmd, &fl) == -1)
		return (-1);
	return (fl.l_type);
}

/* Is a server of this pid holding the log open now?  1, 0, or -1. */
int
audit_server_alive(pid_t pid)
{
	int	type;

	if (audit_fd == -1 || pid <= 0 || pid == getpid())
		return (pid == getpid());
	if ((type = live_lock(audit_fd, F_OFD_GETLK, F_WRLCK, pid)) == -1)
		return (-1);
	return (type != F_UNLCK);
}

/* The log as it is open now, for reading records back (history.c). */
int
audit_fd_now(void)
{
	return (audit_fd);
}

const char *
audit_session(void)
{
	return (audit_sess);
}

/* mkdir -p with mode 0700 for each directory we create. */
static int
make_parents(const char *path)
{
	char	 dir[PATH_MAX], *p;

	if (strlcpy(dir, path, sizeof dir) >= sizeof dir)
		return (-1);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return (0);
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;

		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return (-1);
		*p = save;
		if (save == '\0')
			break;
	}
	return (0);
}

static void
syslog_open(const char *sock)
{
	struct sockaddr_un	sun;

	if (sock == NULL || strcmp(sock, "none") == 0)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sock, sizeof sun.sun_path) >=
	    sizeof sun.sun_path)
		return;
	/* Connected now, before the sandbox: it may not make sockets. */
	if ((syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(syslog_fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		char	echo[ECHO_PATH_BYTES];

		echo_path(echo, sizeof echo, sock);
		log_warn("audit: syslog socket %s; chain heads are not "
		    "mirrored to syslog", echo);
		if (syslog_fd != -1)
			close(syslog_fd);
		syslog_fd = -1;
	}
}

/* LOG_AUTHPRIV | LOG_INFO, RFC 3164 style, ident dispatch-mcp. */
static void
syslog_head(const char *event)
{
	char	msg[512];
	int	n;

	if (syslog_fd == -1)
		return;
	n = snprintf(msg, sizeof msg, "<%d>dispatch-mcp[%ld]: audit head "
	    "seq=%llu sha256=%s event=%s file=%s", (10 << 3) | 6,
	    (long)getpid(), (unsigned long long)head.seq, head.hash, event,
	    audit_echo);
	if (n < 0)
		return;
	if (send(syslog_fd, msg, (size_t)n > sizeof msg - 1 ? sizeof msg - 1 :
	    (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 && !syslog_warned) {
		syslog_warned = 1;
		log_warn("audit: syslog send");
	}
}

/* The directory of audit_path, as stat(2) sees it now. */
static int
stat_dir(struct stat *st)
{
	char	dir[PATH_MAX], *slash;

	strlcpy(dir, audit_path, sizeof dir);
	if ((slash = strrchr(dir, '/')) == NULL)
		return (stat(".", st));
	slash[slash == dir ? 1 : 0] = '\0';
	return (stat(dir, st));
}

/*
 * Open the log at audit_path, creating what is missing.  O_NONBLOCK, so
 * that a FIFO cannot hold the open, and fstat before any read or write:
 * only a regular file is a log (a FIFO fills and blocks the broker in
 * write(2); /dev/null keeps nothing).  On a regular file O_NONBLOCK
 * changes nothing.
 */
static int
open_log(int make_dirs, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	/* Only at start: a reopen finds its directory there already. */
	if (make_dirs && make_parents(audit_path) == -1) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: cannot create "
		    "its directory: %s", audit_echo, strerror(errno));
		return (-1);
	}
	/* Read too: the chain head is the last line. */
	fd = open(audit_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd == -1) {
		/* Landlock allows the directory that was there at start. */
		if (errno == EACCES && !make_dirs && stat_dir(&st) == 0 &&
		    (st.st_dev != dir_dev || st.st_ino != dir_ino)) {
			dir_replaced = 1;
			snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: its "
			    "directory was replaced after the server started, "
			    "and the sandbox lets it write only the original; "
			    "restart the server", audit_echo);
			return (-1);
		}
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: %s", audit_echo,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: not a regular "
		    "file but %s", audit_echo, file_kind(st.st_mode));
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (live_lock(fd, F_OFD_SETLK, F_RDLCK, getpid()) == -1) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: cannot take the "
		    "lock that shows this server alive: %s", audit_echo,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	dir_replaced = 0;
	return (fd);
}

/* The log's path once symbolic links were followed at start. */
const char *
audit_file(void)
{
	return (audit_path);
}

const char *
audit_strerror(int errnum)
{
	if (dir_replaced)
		return ("its directory was replaced after the server "
		    "started; restart the server");
	return (strerror(errnum));
}

/* Does the path still name the file we hold? */
static int
path_is_ours(void)
{
	struct stat	st, cur;

	return (stat(audit_path, &st) == 0 && fstat(audit_fd, &cur) == 0 &&
	    st.st_ino == cur.st_ino && st.st_dev == cur.st_dev);
}

/*
 * Logrotate renamed the file (and perhaps sent SIGHUP): open the one now
 * at the path.  The old one is kept open, for its head: the new file's
 * first record links to it, whichever server wrote there last.
 */
static int
reopen_log(void)
{
	struct stat	st;
	char		err[PATH_MAX + 128];
	int		fd, empty;

	/*
	 * No record goes to the old file once the path names another, so a
	 * path that cannot be opened fails the record (and the dispatch).
	 */
	if ((fd = open_log(0, err, sizeof err)) == -1) {
		log_warnx("audit: reopen: %s", err);
		return (-1);
	}
	/*
	 * A file rotated away empty: its predecessor is still the one.  Its
	 * lock waits out a first record another server may be writing.
	 */
	empty = 0;
	if (flock(audit_fd, LOCK_SH) == 0) {
		empty = fstat(audit_fd, &st) == 0 && st.st_size == 0;
		flock(audit_fd, LOCK_UN);
	}
	if (empty && prev_fd != -1)
		close(audit_fd);
	else {
		if (prev_fd != -1)
			close(prev_fd);
		prev_fd = audit_fd;
	}
	audit_fd = fd;
	log_info("audit: reopened %s", audit_echo);
	return (0);
}

/* SIGHUP, from logrotate's postrotate: let go of a renamed file now. */
void
audit_reopen(void)
{
	if (audit_fd != -1 && !path_is_ours())
		(void)reopen_log();	/* a failure shows at the next record */
}

/*
 * The head a new, empty log continues: the file we wrote before it was
 * renamed, or else PATH.1, the name logrotate gives it.  Its lock waits
 * out a server still finishing a record there; once the path names the
 * new file, no server starts another record in the old one.
 */
static int
predecessor_head(struct chain_head *h)
{
	struct stat	st, cur;
	char		old[PATH_MAX + 3];
	size_t		torn;
	int		fd, rv = -1;

	if ((fd = prev_fd) == -1) {
		if (snprintf(old, sizeof old, "%s.1", audit_path) >=
		    (int)sizeof old || (fd = open(old, O_RDONLY | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK | O_NOFOLLOW)) == -1)
			return (-1);
		/*
		 * Our own file, renamed since the path was checked: its lock
		 * is ours already, through another open, and would never
		 * come.  Nor is a file its own predecessor.
		 */
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    fstat(audit_fd, &cur) == -1 || (st.st_dev == cur.st_dev &&
		    st.st_ino == cur.st_ino)) {
			close(fd);
			return (-1);
		}
	}
	if (flock(fd, LOCK_SH) == 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && chain_head_of(fd, st.st_size, h,
		    &torn) == 0)
			rv = 0;
		flock(fd, LOCK_UN);
	}
	if (fd != prev_fd)
		close(fd);
	return (rv);
}

int
audit_open(const char *path, const char *syslog_sock, char *err,
    size_t errlen)
{
	struct passwd	*pw;
	struct stat	 st;
	char		 resolved[PATH_MAX];
	size_t		 torn;

	random_hex(audit_sess, 16);
	if ((pw = getpwuid(getuid())) != NULL)
		strlcpy(audit_user, pw->pw_name, sizeof audit_user);
	else
		snprintf(audit_user, sizeof audit_user, "%u",
		    (unsigned)getuid());

	if (strlcpy(audit_path, path, sizeof audit_path) >= sizeof audit_path) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG: path too long");
		return (-1);
	}
	echo_path(audit_echo, sizeof audit_echo, audit_path);
	if ((audit_fd = open_log(1, err, errlen)) == -1)
		return (-1);
	/*
	 * A symbolic link is followed once, now: the file it leads to is
	 * the log, reopened by that name after rotation, and its directory
	 * is the one the sandbox lets the broker write.  Re-pointing the
	 * link later takes a restart.
	 */
	if (realpath(path, resolved) != NULL && strcmp(resolved, path) != 0) {
		strlcpy(audit_path, resolved, sizeof audit_path);
		echo_path(audit_echo, sizeof audit_echo, audit_path);
	}
	if (stat_dir(&st) == 0) {
		dir_dev = st.st_dev;
		dir_ino = st.st_ino;
	}
	/* An empty file is left to the first record, under the lock. */
	if (fstat(audit_fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && chain_head_of(audit_fd, st.st_size, &head,
	    &torn) == 0) {
		head_valid = 1;
		head_dev = st.st_dev;
		head_ino = st.st_ino;
		head_size = st.st_size - (off_t)torn;
	} else {
		head.seq = 0;
		strlcpy(head.hash, CHAIN_GENESIS, sizeof head.hash);
	}
	syslog_open(syslog_sock);
	return (0);
}

void
audit_close(void)
{
	if (audit_fd != -1)
		close(audit_fd);
	if (prev_fd != -1)
		close(prev_fd);
	audit_fd = prev_fd = -1;
}

static struct json_object *
clean_string(const char *s)
{
	char	buf[MAX_CLIENT_FIELD_BYTES * 3 + 1];
	size_t	n;

	n = utf8_sanitize(buf, sizeof buf, s, strlen(s));
	return (json_object_new_string_len(buf, (int)n));
}

static int
audit_write(const char *event, const struct client_info *ci,
    struct json_object *rec, uint64_t ts_ms)
{
	struct json_object	*out, *client;
	struct stat		 st;
	char			 ts[TIME_STR_BYTES], *buf = NULL, *body;
	char			 chained[CHAIN_HEX + 64];
	size_t			 len, torn;
	ssize_t			 n;
	uint64_t		 seq;
	int			 rv = -1, saved, locked = 0, tries;

	/* The common fields come first, so a reader sees them at once. */
	out = json_object_new_object();
	/* The time the broker keeps too: the log answers the same later. */
	fmt_time_ms(ts_ms != 0 ? ts_ms : now_ms(), ts, sizeof ts);
	json_object_object_add(out, "ts", json_object_new_string(ts));
	json_object_object_add(out, "event", json_object_new_string(event));
	json_object_object_add(out, "session",
	    json_object_new_string(audit_sess));
	json_object_object_add(out, "uid", json_object_new_int64(getuid()));
	json_object_object_add(out, "user",
	    json_object_new_string(audit_user));
	json_object_object_add(out, "server_pid",
	    json_object_new_int64(getpid()));
	/* The frontend's word for it: made valid UTF-8 before it is kept. */
	client = json_object_new_object();
	json_object_object_add(client, "name", clean_string(ci != NULL ?
	    ci->name : ""));
	json_object_object_add(client, "version", clean_string(ci != NULL ?
	    ci->version : ""));
	json_object_object_add(out, "client", client);
	json_object_object_foreach(rec, key, val)
		json_object_object_add(out, key, json_object_get(val));

	body = xstrdup(json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);

	if (audit_fd == -1) {
		errno = EBADF;
		goto done;
	}
	/*
	 * Other servers may share this file: the lock makes read-head,
	 * append, sync one step, so the chain stays a line.  The path is
	 * checked once the lock is held, as a rename may have come while
	 * we waited; the old file then gets no more records.
	 */
	for (tries = 0; ; tries++) {
		if (flock(audit_fd, LOCK_EX) == -1)
			goto done;
		locked = 1;
		if (path_is_ours())
			break;
		flock(audit_fd, LOCK_UN);
		locked = 0;
		/* Renamed again and again while we wait: give up on it. */
		if (tries == 3) {
			errno = EAGAIN;
			goto done;
		}
		if (reopen_log() == -1)
			goto done;
	}
	if (fstat(audit_fd, &st) == -1)
		goto done;
	if (S_ISREG(st.st_mode) && !(head_valid && head_dev == st.st_dev &&
	    head_ino == st.st_ino && head_size == st.st_size)) {
		/* Someone else wrote, or this is a new file. */
		if (st.st_size == 0 && head_valid && head_dev == st.st_dev &&
		    head_ino == st.st_ino) {
			/*
			 * Our own file, emptied in place (copytruncate, or
			 * by hand): link to our last record, so the records
			 * lost show as a gap rather than vanish.
			 */
			log_warnx("audit: %s was emptied in place; the chain "
			    "goes on after seq %llu, the last record this "
			    "server wrote", audit_echo,
			    (unsigned long long)head.seq);
		} else if (st.st_size == 0) {
			/* Rotated: link to the old file's last record. */
			if (predecessor_head(&head) == -1 && !head_valid) {
				head.seq = 0;
				strlcpy(head.hash, CHAIN_GENESIS,
				    sizeof head.hash);
			}
		} else {
			if (chain_head_of(audit_fd, st.st_size, &head,
			    &torn) == -1)
				goto done;
			/* A crash left half a record: it never let a lane
			 * run (that waits for the sync), so it goes. */
			if (torn > 0) {
				log_warnx("audit: removing a torn record of "
				    "%zu bytes at the end of %s", torn,
				    audit_echo);
				if (ftruncate(audit_fd, st.st_size -
				    (off_t)torn) == -1)
					goto done;
				st.st_size -= (off_t)torn;
			}
		}
	}
	seq = head.seq + 1;
	snprintf(chained, sizeof chained, "{\"seq\":%llu,\"prev\":\"%s\",",
	    (unsigned long long)seq, head.hash);
	/* The record, with seq and prev spliced in as its first members. */
	len = strlen(chained) + (strlen(body) - 1) + 1;
	buf = xmalloc(len + 1);
	snprintf(buf, len + 1, "%s%s\n", chained, body + 1);

	/*
	 * One write(2) per record.  A short write (a full disk,
	 * RLIMIT_FSIZE) is cut back off, so no torn line stays behind.
	 */
	n = write(audit_fd, buf, len);
	if (n != (ssize_t)len) {
		saved = n == -1 ? errno : ENOSPC;
		if (n > 0 && ftruncate(audit_fd, st.st_size) == -1)
			log_warn("audit: cannot remove a torn record");
		errno = saved;
		goto done;
	}
	if (fdatasync(audit_fd) == -1 && errno != EINVAL)
		goto done;
	head.seq = seq;
	chain_hash(buf, len - 1, head.hash);
	head_valid = 1;
	head_dev = st.st_dev;
	head_ino = st.st_ino;
	head_size = st.st_size + (off_t)len;
	/* The new file has its first record: the old one is done with. */
	if (prev_fd != -1) {
		close(prev_fd);
		prev_fd = -1;
	}
	rv = 0;
done:
	saved = errno;
	if (locked)
		flock(audit_fd, LOCK_UN);
	if (rv == 0)
		syslog_head(event);
	free(buf);
	free(body);
	errno = saved;
	return (rv);
}

/* Audit strings are valid UTF-8 whatever the peer sent. */
static struct json_object *
jstr(const char *s, size_t len)
{
	struct json_object	*o;
	char			*buf = xmalloc(len * 3 + 1);
	size_t			 n;

	n = utf8_sanitize(buf, len * 3 + 1, s, len);
	o = json_object_new_string_len(buf, (int)n);
	free(buf);
	return (o);
}

static int
audit_put(const char *event, const struct client_info *ci,
    struct json_object *rec, uint64_t ts_ms)
{
	int	rv, saved;

	rv = audit_write(event, ci, rec, ts_ms);
	saved = errno;
	json_object_put(rec);
	errno = saved;
	return (rv);
}

/*
 * A refused dispatch: the arguments as decoded (the task cut to
 * MAX_RAW_ARGS_BYTES), or the raw text the frontend could not decode.
 */
int
audit_rejected(const struct client_info *ci, const char *reason,
    const struct req_dispatch *req, const char *raw, size_t rawlen)
{
	struct json_object	*rec, *args;
	const char		*s;

	rec = json_object_new_object();
	json_object_object_add(rec, "reason", jstr(reason, strlen(reason)));
	if (req != NULL) {
		args = json_object_new_object();
		json_object_object_add(args, "orguser",
		    jstr(req->orguser, req->orguser_len));
		json_object_object_add(args, "repo",
		    jstr(req->repo, req->repo_len));
		json_object_object_add(args, "task_description",
		    jstr(req->task, utf8_cut(req->task, req->task_len,
		    MAX_RAW_ARGS_BYTES)));
		s = json_object_to_json_string_ext(args,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		json_object_object_add(rec, "arguments", jstr(s, strlen(s)));
		json_object_put(args);
	} else
		json_object_object_add(rec, "arguments", jstr(raw, rawlen));
	return (audit_put("rejected", ci, rec, 0));
}

/* What will run, before it runs: the argv exactly as it is executed. */
int
audit_dispatch(const struct dispatch *d, const struct lane_cmd *cmd,
    const char *task, size_t tlen, int task_arg)
{
	struct json_object	*rec, *argv;
	int			 i;

	argv = json_object_new_array();
	for (i = 0; cmd->argv[i] != NULL; i++)
		json_object_array_add(argv, jstr(cmd->argv[i],
		    strlen(cmd->argv[i])));
	rec = json_object_new_object();
	json_object_object_add(rec, "handle", json_object_new_string(d->handle));
	json_object_object_add(rec, "orguser",
	    json_object_new_string(d->orguser));
	json_object_object_add(rec, "repo", json_object_new_string(d->repo));
	json_object_object_add(rec, "github",
	    json_object_new_string(d->github));
	json_object_object_add(rec, "argv", argv);
	json_object_object_add(rec, "task", jstr(task, tlen));
	json_object_object_add(rec, "delivery", json_object_new_string(
	    task_arg ? "argv" : "stdin"));
	return (audit_put("dispatch", &d->client, rec, d->requested_ms));
}

int
audit_cancel(const struct dispatch *d, const struct client_info *ci)
{
	struct json_object	*rec;

	rec = json_object_new_object();
	json_object_object_add(rec, "handle", json_object_new_string(d->handle));
	json_object_object_add(rec, "orguser",
	    json_object_new_string(d->orguser));
	json_object_object_add(rec, "repo", json_object_new_string(d->repo));
	json_object_object_add(rec, "pid", d->lane.pid > 0 ?
	    json_object_new_int64(d->lane.pid) : NULL);
	return (audit_put("cancel", ci, rec, 0));
}

static const char *
end_name(enum lane_end why)
{
	switch (why) {
	case END_TIMEOUT:
		return ("timeout");
	case END_SHUTDOWN:
		return ("shutdown");
	case END_SPAWN:
		return ("spawn_failed");
	case END_CANCEL:
		return ("cancel");
	case END_OOM:
		return ("oom");
	case END_ORPHANED:
		return ("orphaned");
	default:
		return ("exit");
	}
}

int
audit_exit(const struct dispatch *d)
{
	const struct lane	*l = &d->lane;
	struct json_object	*rec;
	const char		*sig;

	rec = json_object_new_object();
	json_object_object_add(rec, "handle", json_object_new_string(d->handle));
	json_object_object_add(rec, "status",
	    json_object_new_string(dstatus_name(d->status)));
	json_object_object_add(rec, "returncode", l->has_rc ?
	    json_object_new_int(l->rc) : NULL);
	sig = l->sig != 0 ? signal_name(l->sig) : NULL;
	json_object_object_add(rec, "signal", sig != NULL ?
	    json_object_new_string(sig) : NULL);
	json_object_object_add(rec, "pid", l->pid > 0 ?
	    json_object_new_int64(l->pid) : NULL);
	json_object_object_add(rec, "duration_ms",
	    json_object_new_int64((int64_t)l->duration_ms));
	json_object_object_add(rec, "stdout_bytes",
	    json_object_new_int64((int64_t)l->out.total));
	json_object_object_add(rec, "stderr_bytes",
	    json_object_new_int64((int64_t)l->err.total));
	json_object_object_add(rec, "reason",
	    json_object_new_string(end_name(l->why)));
	/* What the lane's cgroup measured, where it had one. */
	if (l->usage.has_cpu)
		json_object_object_add(rec, "cpu_usec",
		    json_object_new_int64((int64_t)l->usage.cpu_usec));
	if (l->usage.has_mem)
		json_object_object_add(rec, "memory_peak",
		    json_object_new_int64((int64_t)l->usage.mem_peak));
	if (l->usage.has_pids)
		json_object_object_add(rec, "pids_peak",
		    json_object_new_int64((int64_t)l->usage.pids_peak));
	/*
	 * What dispatch_result shows, kept here so that a later server on
	 * this log shows the same: at most MAX_DETAIL_BYTES, chained and
	 * synced with the rest of the record.
	 */
	json_object_object_add(rec, "detail", jstr(d->detail != NULL ?
	    d->detail : "", d->detail_len));
	return (audit_put("exit", &d->client, rec, d->finished_ms));
}
