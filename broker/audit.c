/* Append-only, fsync'd JSON Lines audit log. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/audit.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"

static int	audit_fd = -1;
static char	audit_sess[33];
static char	audit_user[64];

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

int
audit_open(const char *path, char *err, size_t errlen)
{
	struct passwd	*pw;

	random_hex(audit_sess, 16);
	if ((pw = getpwuid(getuid())) != NULL)
		strlcpy(audit_user, pw->pw_name, sizeof audit_user);
	else
		snprintf(audit_user, sizeof audit_user, "%u",
		    (unsigned)getuid());

	if (make_parents(path) == -1) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: cannot create "
		    "its directory: %s", path, strerror(errno));
		return (-1);
	}
	audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (audit_fd == -1) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

void
audit_close(void)
{
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
}

const char *
audit_session(void)
{
	return (audit_sess);
}

static struct json_object *
clean_string(const char *s)
{
	char	buf[MAX_CLIENT_FIELD_BYTES * 3 + 1];
	size_t	n;

	n = utf8_sanitize(buf, sizeof buf, s, strlen(s));
	return (json_object_new_string_len(buf, (int)n));
}

int
audit_write(const char *event, const struct client_info *ci,
    struct json_object *rec)
{
	struct json_object	*out, *client;
	const char		*line;
	struct stat		 st;
	char			 ts[TIME_STR_BYTES], *buf;
	size_t			 len;
	ssize_t			 n;
	int			 rv = -1, saved;

	/* The common fields come first, so a reader sees them at once. */
	out = json_object_new_object();
	fmt_time_ms(now_ms(), ts, sizeof ts);
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

	line = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(line);
	buf = xmalloc(len + 1);
	memcpy(buf, line, len);
	buf[len++] = '\n';
	json_object_put(out);

	if (audit_fd == -1) {
		errno = EBADF;
		goto done;
	}
	/*
	 * One write(2) per record: O_APPEND keeps lines whole.  A short
	 * write (a full disk, RLIMIT_FSIZE) is cut back off, so the log
	 * never keeps a torn line that the next record would follow.
	 */
	if (fstat(audit_fd, &st) == -1)
		goto done;
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
	rv = 0;
done:
	saved = errno;
	free(buf);
	errno = saved;
	return (rv);
}
