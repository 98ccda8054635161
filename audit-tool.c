/*
 * dispatch-mcp audit verify|show: read audit logs offline.  verify walks
 * the hash chain across files in order and reports the first break;
 * show prints records for people or, with --json, for jq.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-tool.h"
#include "common/chain.h"
#include "common/conf.h"
#include "common/jsonv.h"
#include "common/bounds.h"
#include "common/util.h"

/* Exit statuses of verify. */
#define VERIFY_OK	0
#define VERIFY_BROKEN	1
#define VERIFY_TORN	2
#define VERIFY_USAGE	3

struct handle_seen {
	char	handle[HANDLE_BYTES + 1];
	char	ts[TIME_STR_BYTES];
	int	exited;
};

static struct handle_seen	*seen;
static size_t			 nseen, capseen;
/* Index into seen by handle: open addressing, never over half full. */
static size_t			*slots;
static size_t			 nslots;

static char *
slurp(const char *path, size_t *lenp)
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

static size_t
handle_slot(const char *h)
{
	size_t	v = 5381;

	while (*h != '\0')
		v = v * 33 + (unsigned char)*h++;
	return (v & (nslots - 1));
}

static struct handle_seen *
find_seen(const char *h)
{
	size_t	i;

	if (nslots == 0)
		return (NULL);
	for (i = handle_slot(h); slots[i] != 0; i = (i + 1) & (nslots - 1)) {
		if (strcmp(seen[slots[i] - 1].handle, h) == 0)
			return (&seen[slots[i] - 1]);
	}
	return (NULL);
}

/* Record a dispatch; slots hold index + 1, 0 is empty. */
static void
add_seen(const char *h, const char *ts)
{
	size_t	i, j;

	if (nseen == capseen) {
		capseen = capseen == 0 ? 64 : capseen * 2;
		seen = xreallocarray(seen, capseen, sizeof *seen);
	}
	memset(&seen[nseen], 0, sizeof seen[0]);
	strlcpy(seen[nseen].handle, h, sizeof seen[0].handle);
	strlcpy(seen[nseen].ts, ts != NULL ? ts : "", sizeof seen[0].ts);
	nseen++;
	if (nseen * 2 > nslots) {
		free(slots);
		nslots = nslots == 0 ? 128 : nslots * 2;
		slots = xcalloc(nslots, sizeof *slots);
		for (j = 0; j < nseen; j++) {
			for (i = handle_slot(seen[j].handle); slots[i] != 0;
			    i = (i + 1) & (nslots - 1))
				;
			slots[i] = j + 1;
		}
		return;
	}
	for (i = handle_slot(h); slots[i] != 0; i = (i + 1) & (nslots - 1))
		;
	slots[i] = nseen;
}

static struct json_object *
parse_record(const char *line, size_t len)
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

static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* Heads from a syslog export: "audit head seq=N sha256=H". */
struct syslog_head {
	uint64_t	seq;
	char		hash[CHAIN_HEX + 1];
};

static int
load_syslog(const char *path, struct syslog_head **out, size_t *nout)
{
	char			*buf, *line, *save = NULL, *p;
	size_t			 len, n = 0, cap = 0;
	struct syslog_head	*h = NULL;
	unsigned long long	 seq;
	char			 hash[CHAIN_HEX + 1];

	if ((buf = slurp(path, &len)) == NULL)
		return (-1);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "dispatch-mcp") == NULL ||
		    (p = strstr(line, "audit head seq=")) == NULL ||
		    sscanf(p, "audit head seq=%llu sha256=%64[0-9a-f]", &seq,
		    hash) != 2 || strlen(hash) != CHAIN_HEX)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			h = xreallocarray(h, cap, sizeof *h);
		}
		h[n].seq = seq;
		strlcpy(h[n].hash, hash, sizeof h[n].hash);
		n++;
	}
	free(buf);
	*out = h;
	*nout = n;
	return (0);
}

/*
 * A chain given from the middle: syslog knows what came before.  A head
 * older than the first record means records were cut from the start,
 * or an older file was left out; the head just before must be the one
 * the first record names.
 */
static int
check_start(const struct syslog_head *heads, size_t nheads, uint64_t seq,
    const char *prev, const char *file, size_t lineno)
{
	size_t	i;

	for (i = 0; i < nheads; i++) {
		if (heads[i].seq + 1 == seq && strcmp(heads[i].hash,
		    prev) != 0) {
			printf("%s:%zu: prev is not the head syslog holds for "
			    "seq %llu: the record before was changed\n", file,
			    lineno, (unsigned long long)heads[i].seq);
			return (VERIFY_BROKEN);
		}
	}
	for (i = 0; i < nheads; i++) {
		if (heads[i].seq < seq) {
			printf("%s:%zu: syslog holds head seq %llu, before the "
			    "first record given: records were cut from the "
			    "start, or an older file was not given\n", file,
			    lineno, (unsigned long long)heads[i].seq);
			return (VERIFY_BROKEN);
		}
	}
	return (VERIFY_OK);
}

/* No file named: the log the server would write, alone. */
static int
default_log(char *path, size_t len, char **def, char ***argvp, int *argcp,
    int *kp)
{
	char	err[PATH_MAX + 64];

	if (config_audit_path(path, len, err, sizeof err) == -1) {
		fprintf(stderr, "dispatch-mcp: %s\n", err);
		return (-1);
	}
	def[0] = path;
	*argvp = def;
	*argcp = 1;
	*kp = 0;
	return (0);
}

static int
verify(int argc, char **argv)
{
	struct syslog_head	*heads = NULL;
	struct json_object	*o;
	struct handle_seen	*hs;
	char			*buf, prevhash[CHAIN_HEX + 1], hash[CHAIN_HEX + 1];
	char			 prev[CHAIN_HEX + 1], path[PATH_MAX];
	const char		*file, *ev, *h, *ts, *syslog_path = NULL;
	uint64_t		 seq, want = 0, first = 0, last = 0;
	size_t			 len, off, end, lineno, nheads = 0, i, j, total = 0;
	int			 started = 0, rc = VERIFY_OK, files = 0, k;
	int			 torn = 0, genesis = 0;
	char			*def[1];

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--syslog") == 0 && k + 1 < argc)
			syslog_path = argv[++k];
		else if (argv[k][0] == '-') {
			fprintf(stderr, "usage: dispatch-mcp audit verify "
			    "[--syslog FILE] [LOG ...]\n");
			return (VERIFY_USAGE);
		} else
			break;
	}
	if (syslog_path != NULL && load_syslog(syslog_path, &heads,
	    &nheads) == -1) {
		fprintf(stderr, "dispatch-mcp: %s: %s\n", syslog_path,
		    strerror(errno));
		return (VERIFY_USAGE);
	}
	if (k == argc && default_log(path, sizeof path, def, &argv, &argc,
	    &k) == -1)
		return (VERIFY_USAGE);
	for (; k < argc && rc == VERIFY_OK; k++) {
		file = argv[k];
		if ((buf = slurp(file, &len)) == NULL) {
			printf("%s: cannot read: %s\n", file, strerror(errno));
			rc = VERIFY_BROKEN;
			break;
		}
		files++;
		for (off = 0, lineno = 1; off < len && rc == VERIFY_OK;
		    off = end + 1, lineno++) {
			const char	*nl = memchr(buf + off, '\n', len - off);

			if (nl == NULL) {
				/* The chain goes on from the last whole line. */
				printf("%s:%zu: torn last line (%zu bytes and "
				    "no newline): a write cut short by a crash, "
				    "not tampering%s\n", file, lineno, len - off,
				    k + 1 < argc ? "; checking the next file" :
				    "");
				torn = 1;
				break;
			}
			end = (size_t)(nl - buf);
			if ((o = parse_record(buf + off, end - off)) == NULL) {
				printf("%s:%zu: not a valid JSON record\n",
				    file, lineno);
				rc = VERIFY_BROKEN;
				break;
			}
			if (chain_parse(buf + off, end - off, &seq, prev) ==
			    -1) {
				printf("%s:%zu: no seq and prev: not part of a "
				    "hash chain\n", file, lineno);
				json_object_put(o);
				rc = VERIFY_BROKEN;
				break;
			}
			if (!started) {
				started = 1;
				first = seq;
				genesis = strcmp(prev, CHAIN_GENESIS) == 0 &&
				    seq == 1;
				if (!genesis) {
					printf("%s:%zu: the chain starts at seq "
					    "%llu, continuing a log not given "
					    "here\n", file, lineno,
					    (unsigned long long)seq);
					rc = check_start(heads, nheads, seq,
					    prev, file, lineno);
				}
			} else if (seq != want) {
				printf("%s:%zu: seq %llu where %llu was due: a "
				    "record was deleted, inserted or moved\n",
				    file, lineno, (unsigned long long)seq,
				    (unsigned long long)want);
				rc = VERIFY_BROKEN;
			} else if (strcmp(prev, prevhash) != 0) {
				printf("%s:%zu: prev is not the SHA-256 of the "
				    "record before it: a record was changed\n",
				    file, lineno);
				rc = VERIFY_BROKEN;
			}
			ev = str_of(o, "event");
			h = str_of(o, "handle");
			ts = str_of(o, "ts");
			if (rc == VERIFY_OK && ev != NULL && h != NULL &&
			    strcmp(ev, "dispatch") == 0)
				add_seen(h, ts);
			else if (rc == VERIFY_OK && ev != NULL && h != NULL &&
			    strcmp(ev, "exit") == 0) {
				if ((hs = find_seen(h)) == NULL && genesis) {
					printf("%s:%zu: exit of %s, which has "
					    "no dispatch record\n", file,
					    lineno, h);
					rc = VERIFY_BROKEN;
				} else if (hs == NULL)
					printf("%s:%zu: note: exit of %s, "
					    "dispatched before the first record "
					    "given\n", file, lineno, h);
				else
					hs->exited = 1;
			}
			json_object_put(o);
			chain_hash(buf + off, end - off, hash);
			memcpy(prevhash, hash, sizeof prevhash);
			/* Keep the hash of each seq for the syslog check. */
			for (i = 0; i < nheads; i++) {
				if (heads[i].seq == seq &&
				    strcmp(heads[i].hash, hash) != 0 &&
				    rc == VERIFY_OK) {
					printf("%s:%zu: seq %llu differs from "
					    "the head syslog holds: the record "
					    "was rewritten\n", file, lineno,
					    (unsigned long long)seq);
					rc = VERIFY_BROKEN;
				}
			}
			last = seq;
			want = seq + 1;
			total++;
		}
		free(buf);
	}
	if (rc == VERIFY_OK) {
		for (i = 0; i < nheads; i++) {
			if (heads[i].seq > last) {
				printf("syslog holds head seq %llu, past the "
				    "last record (%llu): the log was cut "
				    "short\n", (unsigned long long)heads[i].seq,
				    (unsigned long long)last);
				rc = VERIFY_BROKEN;
				break;
			}
		}
	}
	for (j = 0; j < nseen && rc != VERIFY_BROKEN; j++) {
		if (!seen[j].exited)
			printf("note: %s (dispatched %s) has no exit record: "
			    "still running, or lost with its server\n",
			    seen[j].handle, seen[j].ts);
	}
	if (rc == VERIFY_OK && !torn)
		printf("ok: %zu records in %d file%s, seq %llu to %llu, chain "
		    "intact%s\n", total, files, files == 1 ? "" : "s",
		    (unsigned long long)first, (unsigned long long)last,
		    nheads > 0 ? ", matches syslog" : "");
	else if (rc == VERIFY_OK) {
		printf("torn: %zu whole records in %d file%s, seq %llu to "
		    "%llu, chain intact but for torn lines\n", total, files,
		    files == 1 ? "" : "s", (unsigned long long)first,
		    (unsigned long long)last);
		rc = VERIFY_TORN;
	}
	free(heads);
	free(seen);
	free(slots);
	seen = NULL;
	slots = NULL;
	nseen = capseen = nslots = 0;
	return (rc);
}

static int
show(int argc, char **argv)
{
	struct json_object	*o, *v;
	char			*buf, path[PATH_MAX], *def[1];
	const char		*handle = NULL, *since = NULL, *ev, *ts, *h;
	size_t			 len, off, end;
	int			 json = 0, k;

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = 1;
		else if (strcmp(argv[k], "--handle") == 0 && k + 1 < argc)
			handle = argv[++k];
		else if (strcmp(argv[k], "--since") == 0 && k + 1 < argc)
			since = argv[++k];
		else if (argv[k][0] == '-') {
			fprintf(stderr, "usage: dispatch-mcp audit show "
			    "[--handle H] [--since T] [--json] [LOG ...]\n");
			return (VERIFY_USAGE);
		} else
			break;
	}
	if (k == argc && default_log(path, sizeof path, def, &argv, &argc,
	    &k) == -1)
		return (VERIFY_USAGE);
	for (; k < argc; k++) {
		if ((buf = slurp(argv[k], &len)) == NULL) {
			fprintf(stderr, "dispatch-mcp: %s: %s\n", argv[k],
			    strerror(errno));
			return (VERIFY_BROKEN);
		}
		for (off = 0; off < len; off = end + 1) {
			const char *nl = memchr(buf + off, '\n', len - off);

			end = nl != NULL ? (size_t)(nl - buf) : len;
			if ((o = parse_record(buf + off, end - off)) == NULL)
				continue;
			ev = str_of(o, "event");
			ts = str_of(o, "ts");
			h = str_of(o, "handle");
			/* Timestamps are RFC 3339 UTC: text order is time. */
			if ((handle != NULL && (h == NULL ||
			    strcmp(h, handle) != 0)) || (since != NULL &&
			    (ts == NULL || strcmp(ts, since) < 0))) {
				json_object_put(o);
				continue;
			}
			if (json)
				printf("%.*s\n", (int)(end - off), buf + off);
			else {
				printf("%s %-8s", ts != NULL ? ts : "-",
				    ev != NULL ? ev : "-");
				if (h != NULL)
					printf(" %s", h);
				if (str_of(o, "orguser") != NULL &&
				    str_of(o, "repo") != NULL)
					printf(" %s/%s", str_of(o, "orguser"),
					    str_of(o, "repo"));
				if (str_of(o, "status") != NULL)
					printf(" %s", str_of(o, "status"));
				if (json_object_object_get_ex(o, "returncode",
				    &v) && v != NULL)
					printf(" rc=%d", json_object_get_int(v));
				if (str_of(o, "signal") != NULL)
					printf(" %s", str_of(o, "signal"));
				if (str_of(o, "reason") != NULL)
					printf(" (%s)", str_of(o, "reason"));
				printf(" client=%s\n",
				    json_object_object_get_ex(o, "client",
				    &v) && str_of(v, "name") != NULL ?
				    str_of(v, "name") : "-");
			}
			json_object_put(o);
		}
		free(buf);
	}
	return (0);
}

int
audit_main(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "verify") == 0)
		return (verify(argc - 1, argv + 1));
	if (argc >= 1 && strcmp(argv[0], "show") == 0)
		return (show(argc - 1, argv + 1));
	fprintf(stderr, "usage: dispatch-mcp audit verify [--syslog FILE] "
	    "[LOG ...]\n       dispatch-mcp audit show [--handle H] "
	    "[--since T] [--json] [LOG ...]\n");
	return (VERIFY_USAGE);
}
