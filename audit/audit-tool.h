#ifndef DISPATCH_AUDIT_TOOL_H
#define DISPATCH_AUDIT_TOOL_H

#include <limits.h>
#include <stddef.h>

struct json_object;

/*
 * dispatch-mcp-audit: the offline reader of the audit log.  It is a
 * program of its own so that the server carries no parser of files an
 * unprivileged user may have edited.
 */

/* Exit statuses, shared by verify and show. */
#define AUDIT_OK	0
#define AUDIT_BROKEN	1
#define AUDIT_TORN	2
#define AUDIT_USAGE	3

/* "verify ..." or "show ...": argv[0] names the command. */
int	audit_main(int, char **);
int	audit_verify(int, char **);
int	audit_show(int, char **);

/* read.c: files and records, as both commands read them. */
char	*audit_slurp(const char *, size_t *, int);
const char *audit_slurp_error(void);
/* A syslog export read from a pipe is read up to this much. */
#define MAX_AUDIT_PIPE_BYTES	(256U * 1024 * 1024)
/* A value from a record, escaped for the terminal (two at a time). */
const char *audit_esc(const char *);
struct json_object *audit_parse_record(const char *, size_t);
const char *audit_str(struct json_object *, const char *);

/* The logs a command reads: those named, or the server's own. */
struct audit_logs {
	char	**names;
	int	  n;
	char	 *def[1];
	char	  path[PATH_MAX];
};
int	 audit_logs(struct audit_logs *, int, char **);

/* seen.c: the dispatches met so far, by handle, for exit pairing. */
struct seen_set;
struct seen_set	*seen_new(void);
void		 seen_free(struct seen_set *);
void		 seen_add(struct seen_set *, const char *, const char *);
/* 0 if handle has no dispatch yet; else marks it exited and returns 1. */
int		 seen_exit(struct seen_set *, const char *);
/* -1 if handle has no dispatch yet, 1 if it has its exit, else 0. */
int		 seen_cancel(struct seen_set *, const char *);
/* Call fn for each dispatch with no exit, in the order met. */
void		 seen_unexited(const struct seen_set *,
		    void (*)(const char *, const char *));

#endif
