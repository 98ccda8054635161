/* The dispatch allowlist: parse, check and resolve org-user/repo. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
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
	time_t	ctime;
	long	ctime_ns;
} logged;

/* FNV-1a: the org names are checked, short and few. */
static size_t
org_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return ((size_t)h);
}

/*
 * The orgs in an open-addressed table, built once per load: a linear
 * scan per repo made a 25,000-repo allowlist cost seconds of broker
 * time per dispatch.  Not qsort(3): glibc's asks sysinfo(2) how much
 * memory there is, which the broker's filter kills.
 */
static void
org_index(struct allowlist *al)
{
	size_t	i, j, n = 16;

	while (n < 2 * al->norgs)
		n *= 2;
	al->orgslot = xcalloc(n, sizeof *al->orgslot);
	al->orgmask = n - 1;
	for (i = 0; i < al->norgs; i++) {
		j = org_hash(al->orgs[i].name) & al->orgmask;
		while (al->orgslot[j] != 0)
			j = (j + 1) & al->orgmask;
		al->orgslot[j] = i + 1;
	}
}

static const struct org *
find_org(const struct allowlist *al, const char *org)
{
	size_t	j, k;

	if (al->orgslot == NULL)
		return (NULL);
	j = org_hash(org) & al->orgmask;
	while ((k = al->orgslot[j]) != 0) {
		if (strcmp(al->orgs[k - 1].name, org) == 0)
			return (&al->orgs[k - 1]);
		j = (j + 1) & al->orgmask;
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
		al->orgs = xcalloc(n > 0 ? n : 1, sizeof *al->orgs);
		json_object_object_foreach(orgs, okey, oval) {
			struct org	*no;

			if (al->norgs == n)
				break;
			no = &al->orgs[al->norgs];
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
	org_index(al);
	if (json_object_object_get_ex(root, "repos", &repos) &&
	    json_object_is_type(repos, json_type_object)) {
		n = (size_t)json_object_object_length(repos);
		al->targets = xcalloc(n > 0 ? n : 1, sizeof *al->targets);
		json_object_object_foreach(repos, rkey, rval) {
			struct target	*t = &al->targets[al->ntargets];

			if (al->ntargets == n)
				break;

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

/*
 * Opens the file so that a FIFO or a device cannot hold the open
 * (O_NONBLOCK), and checks with fstat, before anything is read, that it
 * is a regular file of at most MAX_ALLOWLIST_BYTES.
 */
static int
open_config(const char *path, struct stat *st, char *err, size_t errlen)
{
	char	echo[ECHO_PATH_BYTES];
	int	fd, saved;

	echo_path(echo, sizeof echo, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		saved = errno;
		snprintf(err, errlen, "config %s cannot be read: %s", echo,
		    strerror(saved));
		errno = saved;	/* the caller tells Landlock's EACCES */
		return (-1);
	}
	if (fstat(fd, st) == -1) {
		snprintf(err, errlen, "config %s cannot be read: %s", echo,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	errno = 0;
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file but %s",
		    echo, file_kind(st->st_mode));
		close(fd);
		return (-1);
	}
	if (st->st_size > (off_t)MAX_ALLOWLIST_BYTES) {
		snprintf(err, errlen, "config %s is larger than %u bytes",
		    echo, MAX_ALLOWLIST_BYTES);
		close(fd);
		return (-1);
	}
	return (fd);
}

/* What fstat promised and no more: a file still growing is cut there. */
static char *
read_config(int fd, const struct stat *st, size_t *lenp)
{
	char	*buf;
	size_t	 off = 0;
	ssize_t	 n;

	buf = xmalloc((size_t)st->st_size + 1);
	while (off < (size_t)st->st_size) {
		n = read(fd, buf + off, (size_t)st->st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*lenp = off;
	return (buf);
}

static void
remember(const struct stat *st)
{
	logged.dev = st->st_dev;
	logged.ino = st->st_ino;
	logged.size = st->st_size;
	logged.mtime = st->st_mtim.tv_sec;
	logged.mtime_ns = st->st_mtim.tv_nsec;
	logged.ctime = st->st_ctim.tv_sec;
	logged.ctime_ns = st->st_ctim.tv_nsec;
}

static int
same_version(const struct stat *st)
{
	return (logged.dev == st->st_dev && logged.ino == st->st_ino &&
	    logged.size == st->st_size && logged.mtime == st->st_mtim.tv_sec &&
	    logged.mtime_ns == st->st_mtim.tv_nsec &&
	    logged.ctime == st->st_ctim.tv_sec &&
	    logged.ctime_ns == st->st_ctim.tv_nsec);
}

int
allowlist_load(const char *path, struct allowlist *al, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 echo[ECHO_PATH_BYTES];
	char		*buf;
	size_t		 len;
	int		 fd, noisy, rv;

	memset(al, 0, sizeof *al);
	if ((fd = open_config(path, &st, err, errlen)) == -1)
		return (-1);
	buf = read_config(fd, &st, &len);
	noisy = !same_version(&st);
	echo_path(echo, sizeof echo, path);
	rv = allowlist_parse(echo, buf, len, al, noisy, err, errlen);
	free(buf);
	if (rv == 0)
		remember(&st);
	return (rv);
}

/*
 * The broker's allowlist: parsed again only when the file's device,
 * inode, size, modification or change time differ from the version
 * parsed last, so that an edit applies to the next dispatch while a
 * large file is not parsed on every one (a 1 MiB file takes json-c a
 * few hundred milliseconds, and every other call waits behind it).
 * A file that failed keeps its error until it changes.
 */
const struct allowlist *
allowlist_current(const char *path, char *err, size_t errlen)
{
	static struct allowlist	 cur;
	static char		 cur_err[MAX_REASON_BYTES];
	static int		 have, failed;
	struct stat		 st;
	char			 echo[ECHO_PATH_BYTES];
	char			*buf;
	size_t			 len;
	int			 fd;

	if ((fd = open_config(path, &st, err, errlen)) == -1)
		return (NULL);
	if (have && same_version(&st)) {
		close(fd);
		if (failed) {
			strlcpy(err, cur_err, errlen);
			errno = 0;
			return (NULL);
		}
		return (&cur);
	}
	allowlist_free(&cur);
	buf = read_config(fd, &st, &len);
	echo_path(echo, sizeof echo, path);
	/* A new version: its skipped entries are logged once. */
	failed = allowlist_parse(echo, buf, len, &cur, 1, cur_err,
	    sizeof cur_err) == -1;
	free(buf);
	have = 1;
	remember(&st);
	if (failed) {
		strlcpy(err, cur_err, errlen);
		errno = 0;
		return (NULL);
	}
	return (&cur);
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
	free(al->orgslot);
	free(al->targets);
	memset(al, 0, sizeof *al);
}
