/*
 * Reading audit logs as verify and show both do: a whole file at once,
 * and each line checked as strict JSON before json-c sees it, since a
 * log is a file anyone with its owner's rights may have edited.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-tool.h"
#include "common/conf.h"
#include "common/jsonv.h"
#include "common/bounds.h"
#include "common/util.h"
#include "common/validate.h"

static char	slurp_err[160];

/* Why the last audit_slurp failed. */
const char *
audit_slurp_error(void)
{
	return (slurp_err);
}

/*
 * The whole file, NUL-terminated; NULL with audit_slurp_error() set.
 * Opened O_NONBLOCK, so that a FIFO without a writer cannot hold the
 * open, and checked with fstat before the first read: a log must be a
 * regular file, read up to the size fstat gave, so /dev/zero or a file
 * growing without end cannot keep us reading.  With pipe_ok (the syslog
 * export, often a pipe from journalctl), a FIFO is read too, blocking
 * once open, up to MAX_AUDIT_PIPE_BYTES.
 */
char *
audit_slurp(const char *path, size_t *lenp, int pipe_ok)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0, cap, max;
	ssize_t		 n;
	int		 fd, fl;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1 || fstat(fd, &st) == -1) {
		snprintf(slurp_err, sizeof slurp_err, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	if (S_ISREG(st.st_mode))
		max = (size_t)st.st_size;
	else if (pipe_ok && S_ISFIFO(st.st_mode))
		max = MAX_AUDIT_PIPE_BYTES;
	else {
		snprintf(slurp_err, sizeof slurp_err, "not a regular file but "
		    "%s", file_kind(st.st_mode));
		close(fd);
		return (NULL);
	}
	if (S_ISFIFO(st.st_mode) && (fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	cap = max < 65536 ? max : 65536;
	buf = xmalloc(cap + 1);
	while (len < max) {
		if (len == cap) {
			cap = cap > max / 2 ? max : cap * 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(slurp_err, sizeof slurp_err, "%s",
			    strerror(errno));
			close(fd);
			free(buf);
			return (NULL);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

/* A JSON object, or NULL: the frontend's checker first, as for requests. */
struct json_object *
audit_parse_record(const char *line, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	struct jsonv		 jv;

	if (jsonv_check(line, len, MAX_JSON_DEPTH, &jv) == -1)
		return (NULL);
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, line, (int)len);
	json_tokener_free(tok);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return (o);
}

const char *
audit_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* No file named: the log the server would write, alone. */
int
audit_logs(struct audit_logs *l, int argc, char **argv)
{
	char	err[PATH_MAX + 64];

	if (argc > 0) {
		l->names = argv;
		l->n = argc;
		return (0);
	}
	if (config_audit_path(l->path, sizeof l->path, err,
	    sizeof err) == -1) {
		fprintf(stderr, "dispatch-mcp-audit: %s\n", err);
		return (-1);
	}
	l->def[0] = l->path;
	l->names = l->def;
	l->n = 1;
	return (0);
}

/*
 * Anyone with the log owner's rights may have written a record: its
 * strings reach the terminal only with control characters as \xHH.
 */
const char *
audit_esc(const char *s)
{
	static char	buf[2][MAX_REASON_BYTES * 4 + 4];
	static int	n;
	char		*b = buf[n++ % 2];

	echo_text(b, sizeof buf[0], s, strlen(s), MAX_REASON_BYTES);
	return (b);
}
