/*
 * dispatch-mcp-audit show: print records for people or, with --json,
 * as they are in the file, for jq.  The chain is verify's business;
 * show skips what is not a JSON object and goes on.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-tool.h"

struct show {
	const char	*handle;
	const char	*since;
	int		 json;
};

static int
show_args(struct show *s, int argc, char **argv)
{
	int	k;

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			s->json = 1;
		else if (strcmp(argv[k], "--handle") == 0 && k + 1 < argc)
			s->handle = argv[++k];
		else if (strcmp(argv[k], "--since") == 0 && k + 1 < argc)
			s->since = argv[++k];
		else if (argv[k][0] == '-') {
			fprintf(stderr, "usage: dispatch-mcp-audit show "
			    "[--handle H] [--since T] [--json] [LOG ...]\n");
			return (-1);
		} else
			break;
	}
	return (k);
}

/* Timestamps are RFC 3339 UTC: text order is time. */
static int
show_wanted(const struct show *s, struct json_object *o)
{
	const char	*h = audit_str(o, "handle"), *ts = audit_str(o, "ts");

	if (s->handle != NULL && (h == NULL || strcmp(h, s->handle) != 0))
		return (0);
	if (s->since != NULL && (ts == NULL || strcmp(ts, s->since) < 0))
		return (0);
	return (1);
}

/* The string at key, if the record has one, after a space. */
static void
show_field(struct json_object *o, const char *key, int paren)
{
	const char	*v;

	if ((v = audit_str(o, key)) != NULL)
		printf(paren ? " (%s)" : " %s", audit_esc(v));
}

static void
show_human(struct json_object *o)
{
	struct json_object	*v;
	const char		*ts = audit_str(o, "ts");
	const char		*ev = audit_str(o, "event");

	printf("%s", ts != NULL ? audit_esc(ts) : "-");
	printf(" %-8s", ev != NULL ? audit_esc(ev) : "-");
	show_field(o, "handle", 0);
	if (audit_str(o, "orguser") != NULL && audit_str(o, "repo") != NULL)
		printf(" %s/%s", audit_esc(audit_str(o, "orguser")),
		    audit_esc(audit_str(o, "repo")));
	show_field(o, "status", 0);
	if (json_object_object_get_ex(o, "returncode", &v) && v != NULL)
		printf(" rc=%d", json_object_get_int(v));
	show_field(o, "signal", 0);
	show_field(o, "reason", 1);
	printf(" client=%s\n", json_object_object_get_ex(o, "client", &v) &&
	    audit_str(v, "name") != NULL ? audit_esc(audit_str(v, "name")) :
	    "-");
}

static void
show_line(const struct show *s, const char *line, size_t len)
{
	struct json_object	*o;

	if ((o = audit_parse_record(line, len)) == NULL)
		return;
	if (show_wanted(s, o)) {
		if (s->json)
			printf("%.*s\n", (int)len, line);
		else
			show_human(o);
	}
	json_object_put(o);
}

static int
show_file(const struct show *s, const char *file)
{
	char		*buf;
	const char	*nl;
	size_t		 len, off, end;

	if ((buf = audit_slurp(file, &len, 0)) == NULL) {
		fprintf(stderr, "dispatch-mcp-audit: %s: %s\n", audit_esc(file),
		    audit_slurp_error());
		return (AUDIT_BROKEN);
	}
	for (off = 0; off < len; off = end + 1) {
		nl = memchr(buf + off, '\n', len - off);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		show_line(s, buf + off, end - off);
	}
	free(buf);
	return (AUDIT_OK);
}

int
audit_show(int argc, char **argv)
{
	struct show		s;
	struct audit_logs	l;
	int			i, k;

	memset(&s, 0, sizeof s);
	if ((k = show_args(&s, argc, argv)) == -1 ||
	    audit_logs(&l, argc - k, argv + k) == -1)
		return (AUDIT_USAGE);
	for (i = 0; i < l.n; i++) {
		if (show_file(&s, l.names[i]) != AUDIT_OK)
			return (AUDIT_BROKEN);
	}
	return (AUDIT_OK);
}
