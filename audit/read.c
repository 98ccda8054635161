/*
 * Reading audit logs as verify and show both do: a whole file at once,
 * and each line checked as strict JSON before json-c sees it, since a
 * log is a file anyone with its owner's rights may have edited.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit-tool.h"
#include "common/conf.h"
#include "common/jsonv.h"
#include "common/bounds.h"
#include "common/util.h"

/* The whole file, NUL-terminated; NULL with errno set. */
char *
audit_slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	do {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
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
