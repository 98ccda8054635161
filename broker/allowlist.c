/* The dispatch allowlist: parse, check and resolve org-user/repo. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/allowlist.h"
#include "common/jsonv.h"
#include "common/log.h"
#include "common/util.h"
#include "common/validate.h"

/* The version of the file whose skipped entries were last logged. */
static struct {
	dev_t	dev;
	ino_t	ino;
	off_t	size;
	time_t	mtime;
	long	mtime_ns;
} logged;

static const struct org *
find_org(const struct allowlist *al, const char *org)
{
	size_t	i;

	for (i = 0; i < al->norgs; i++) {
		if (strcmp(al->orgs[i].name, org) == 0)
			return (&al->orgs[i]);
	}
	return (NULL);
}

/*
 * An optional "host" member: absent is fine (1, host empty), a valid
 * host name or address is copied (1), anything else is refused (0).
 */
static int
get_host(struct json_object *entry, char *host, size_t len)
{
	struct json_object	*h;

	host[0] = '\0';
	if (!json_object_is_type(entry, json_type_object) ||
	    !json_object_object_get_ex(entry, "host", &h))
		return (1);
	if (!json_object_is_type(h, json_type_string) ||
	    !is_valid_host(json_object_get_string(h),
	    (size_t)json_object_get_string_len(h)) ||
	    (size_t)json_object_get_string_len(h) >= len)
		return (0);
	strlcpy(host, json_object_get_string(h), len);
	return (1);
}

static void
skip(int noisy, const char *path, const char *key, const char *why)
{
	char	echo[ECHO_BYTES];

	if (!noisy)
		return;
	echo_value(echo, sizeof echo, key, strlen(key));
	log_warnx("allowlist %s: skipping '%s': %s", path, echo, why);
}

int
allowlist_parse(const char *path, const char *buf, size_t len,
    struct allowlist *al, int noisy, char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*root, *orgs, *repos, *org, *gh;
	const struct org	*o;
	enum json_tokener_error	 jerr;
	enum jsonv_result	 res;
	struct jsonv		 jv;
	const char		*ghs;
	size_t			 n;

	memset(al, 0, sizeof *al);
	/* The same strict parse as requests: no NaN, no 'keys', no dups. */
	if ((tok = json_tokener_new_ex(MAX_JSON_DEPTH + 1)) == NULL)
		fatalx("allowlist_parse: json_tokener_new_ex");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	res = jsonv_parse(tok, buf, len, MAX_JSON_DEPTH, 0, &jv, &root);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	switch (res) {
	case JV_SYNTAX:
		snprintf(err, errlen, "config %s is not valid JSON: %s at byte "
		    "%zu", path, jv.err, jv.errpos);
		return (-1);
	case JV_PARSE:
		snprintf(err, errlen, "config %s is not valid JSON: %s", path,
		    json_tokener_error_desc(jerr));
		return (-1);
	case JV_DUPLICATE:
		snprintf(err, errlen, "config %s is not valid: an object has "
		    "a key twice", path);
		return (-1);
	case JV_OK:
	case JV_RANGE:		/* not asked for */
	case JV_KEY_NUL:
		break;
	}
	/* No NUL anywhere, key or value: names are C strings here. */
	if (jv.nuls > 0) {
		json_object_put(root);
		snprintf(err, errlen, "config %s is not valid: it holds a "
		    "\\u0000 escape", path);
		return (-1);
	}
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "config %s must be a JSON object", path);
		json_object_put(root);
		return (-1);
	}

	/* A non-object "orgs" or "repos" means no targets, not an error. */
	if (json_object_object_get_ex(root, "orgs", &orgs) &&
	    json_object_is_type(orgs, json_type_object)) {
		n = (size_t)json_object_object_length(orgs);
		if (n > 0)
			al->orgs = xcalloc(n, sizeof *al->orgs);
		json_object_object_foreach(orgs, okey, oval) {
			struct org	*no = &al->orgs[al->norgs];

			if (!is_valid_name(okey, strlen(okey))) {
				skip(noisy, path, okey, "not a valid org name");
				continue;
			}
			if (!get_host(oval, no->host, sizeof no->host)) {
				skip(noisy, path, okey, "\"host\" is not a host "
				    "name or address");
				continue;
			}
			strlcpy(no->name, okey, sizeof no->name);
			al->norgs++;
		}
	}
	if (json_object_object_get_ex(root, "repos", &repos) &&
	    json_object_is_type(repos, json_type_object)) {
		n = (size_t)json_object_object_length(repos);
		if (n > 0)
			al->targets = xcalloc(n, sizeof *al->targets);
		json_object_object_foreach(repos, rkey, rval) {
			struct target	*t = &al->targets[al->ntargets];

			if (!is_valid_name(rkey, strlen(rkey))) {
				skip(noisy, path, rkey, "not a valid repo name");
				continue;
			}
			if (!json_object_is_type(rval, json_type_object)) {
				skip(noisy, path, rkey, "entry is not an object");
				continue;
			}
			if (!json_object_object_get_ex(rval, "org", &org) ||
			    !json_object_is_type(org, json_type_string) ||
			    (o = find_org(al, json_object_get_string(org))) ==
			    NULL) {
				skip(noisy, path, rkey,
				    "its org is not declared in \"orgs\"");
				continue;
			}
			if (!get_host(rval, t->host, sizeof t->host)) {
				skip(noisy, path, rkey, "\"host\" is not a host "
				    "name or address");
				continue;
			}
			/* The repo's own host, else its org's. */
			if (t->host[0] == '\0')
				strlcpy(t->host, o->host, sizeof t->host);
			ghs = rkey;
			if (json_object_object_get_ex(rval, "github", &gh)) {
				if (!json_object_is_type(gh, json_type_string) ||
				    check_github(json_object_get_string(gh),
				    (size_t)json_object_get_string_len(gh)) ==
				    -1) {
					skip(noisy, path, rkey, "\"github\" is "
					    "not owner/name");
					continue;
				}
				ghs = json_object_get_string(gh);
			}
			strlcpy(t->repo, rkey, sizeof t->repo);
			strlcpy(t->org, json_object_get_string(org),
			    sizeof t->org);
			strlcpy(t->github, ghs, sizeof t->github);
			al->ntargets++;
		}
	}
	json_object_put(root);
	return (0);
}

int
allowlist_load(const char *path, struct allowlist *al, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, noisy, rv;

	memset(al, 0, sizeof *al);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "config %s cannot be read: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file", path);
		close(fd);
		return (-1);
	}
	if (st.st_size > (off_t)MAX_ALLOWLIST_BYTES) {
		snprintf(err, errlen, "config %s is larger than %u bytes",
		    path, MAX_ALLOWLIST_BYTES);
		close(fd);
		return (-1);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	/* Read what fstat promised; a file still growing is cut there. */
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';

	noisy = !(logged.dev == st.st_dev && logged.ino == st.st_ino &&
	    logged.size == st.st_size && logged.mtime == st.st_mtim.tv_sec &&
	    logged.mtime_ns == st.st_mtim.tv_nsec);
	rv = allowlist_parse(path, buf, off, al, noisy, err, errlen);
	free(buf);
	if (rv == 0) {
		logged.dev = st.st_dev;
		logged.ino = st.st_ino;
		logged.size = st.st_size;
		logged.mtime = st.st_mtim.tv_sec;
		logged.mtime_ns = st.st_mtim.tv_nsec;
	}
	return (rv);
}

const struct target *
allowlist_resolve(const struct allowlist *al, const char *orguser,
    const char *repo, char *err, size_t errlen)
{
	const struct target	*t = NULL;
	size_t			 i, off;
	int			 n;

	for (i = 0; i < al->ntargets; i++) {
		if (strcmp(al->targets[i].repo, repo) == 0) {
			t = &al->targets[i];
			break;
		}
	}
	if (t == NULL) {
		if (al->ntargets == 0) {
			snprintf(err, errlen, "unknown repo '%s': not in the "
			    "dispatch allowlist (no targets configured)", repo);
			return (NULL);
		}
		n = snprintf(err, errlen, "unknown repo '%s': not in the "
		    "dispatch allowlist ([", repo);
		off = n > 0 ? (size_t)n : 0;
		for (i = 0; i < al->ntargets && off < errlen; i++) {
			if (i == MAX_LISTED_REPOS) {
				n = snprintf(err + off, errlen - off, ", ...");
				off += n > 0 ? (size_t)n : 0;
				break;
			}
			n = snprintf(err + off, errlen - off, "%s'%s'",
			    i > 0 ? ", " : "", al->targets[i].repo);
			off += n > 0 ? (size_t)n : 0;
		}
		if (off < errlen)
			snprintf(err + off, errlen - off, "])");
		return (NULL);
	}
	if (find_org(al, orguser) == NULL) {
		snprintf(err, errlen, "unknown orguser '%s': not declared in "
		    "the dispatch allowlist", orguser);
		return (NULL);
	}
	if (strcmp(t->org, orguser) != 0) {
		snprintf(err, errlen, "orguser '%s' does not own repo '%s'; "
		    "that repo dispatches to '%s'", orguser, repo, t->org);
		return (NULL);
	}
	return (t);
}

void
allowlist_free(struct allowlist *al)
{
	free(al->orgs);
	free(al->targets);
	memset(al, 0, sizeof *al);
}
