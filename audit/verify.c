/*
 * dispatch-mcp-audit verify: walk the hash chain across the files in
 * order and report the first break.  Each line goes through the steps
 * of record_steps[], each one check; the first that fails ends the walk,
 * since after a break nothing later in the chain can be trusted to mean
 * what it says.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-tool.h"
#include "common/chain.h"
#include "common/util.h"

/* A head from a syslog export: "audit head seq=N sha256=H". */
struct syslog_head {
	uint64_t	seq;
	char		hash[CHAIN_HEX + 1];
};

/* The walk so far, across files. */
struct verify {
	struct syslog_head	*heads;
	size_t			 nheads;
	struct seen_set		*seen;
	const char		*file;
	size_t			 lineno;
	int			 files;
	size_t			 total;
	int			 started;
	/* The chain begins in what was given: seq 1, genesis prev. */
	int			 genesis;
	uint64_t		 first, last, want;
	char			 prevhash[CHAIN_HEX + 1];
	int			 torn;
};

/* The line being checked. */
struct record {
	const char		*line;
	size_t			 len;
	struct json_object	*o;
	uint64_t		 seq;
	char			 prev[CHAIN_HEX + 1];
	char			 hash[CHAIN_HEX + 1];
};

static int	step_json(struct verify *, struct record *);
static int	step_chain(struct verify *, struct record *);
static int	step_link(struct verify *, struct record *);
static int	step_event(struct verify *, struct record *);
static int	step_syslog(struct verify *, struct record *);

/* The checks of one record, in the order they are reported. */
static int	(*const record_steps[])(struct verify *, struct record *) = {
	step_json,	/* strict JSON, an object */
	step_chain,	/* it has seq and prev */
	step_link,	/* they follow the record before */
	step_event,	/* an exit or cancel has its dispatch */
	step_syslog,	/* it is the head syslog holds for its seq */
};

static void	report(const struct verify *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* FILE:LINE: what, on one line, on stdout with the rest of the walk. */
static void
report(const struct verify *v, const char *fmt, ...)
{
	va_list	ap;

	printf("%s:%zu: ", audit_esc(v->file), v->lineno);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* 0 and the head if line is one, else -1: other lines are not ours. */
static int
parse_head(const char *line, struct syslog_head *h)
{
	unsigned long long	 seq;
	const char		*p;

	if (strstr(line, "dispatch-mcp") == NULL ||
	    (p = strstr(line, "audit head seq=")) == NULL ||
	    sscanf(p, "audit head seq=%llu sha256=%64[0-9a-f]", &seq,
	    h->hash) != 2 || strlen(h->hash) != CHAIN_HEX)
		return (-1);
	h->seq = seq;
	return (0);
}

static int
load_syslog(struct verify *v, const char *path)
{
	char			*buf, *line, *save = NULL;
	size_t			 len, cap = 0;
	struct syslog_head	 h;

	if ((buf = audit_slurp(path, &len, 1)) == NULL)
		return (-1);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (parse_head(line, &h) == -1)
			continue;
		if (v->nheads == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			v->heads = xreallocarray(v->heads, cap,
			    sizeof *v->heads);
		}
		v->heads[v->nheads++] = h;
	}
	free(buf);
	return (0);
}

static int
step_json(struct verify *v, struct record *r)
{
	if ((r->o = audit_parse_record(r->line, r->len)) == NULL) {
		report(v, "not a valid JSON record");
		return (AUDIT_BROKEN);
	}
	return (AUDIT_OK);
}

/* The line's own hash too: the next record's prev, and syslog's head. */
static int
step_chain(struct verify *v, struct record *r)
{
	if (chain_parse(r->line, r->len, &r->seq, r->prev) == -1) {
		report(v, "no seq and prev: not part of a hash chain");
		return (AUDIT_BROKEN);
	}
	chain_hash(r->line, r->len, r->hash);
	return (AUDIT_OK);
}

/*
 * A chain given from the middle: syslog knows what came before.  The
 * head just before the first record must be the one that record names.
 */
static int
start_prev(const struct verify *v, const struct record *r)
{
	size_t	i;

	for (i = 0; i < v->nheads; i++) {
		if (v->heads[i].seq + 1 == r->seq &&
		    strcmp(v->heads[i].hash, r->prev) != 0) {
			report(v, "prev is not the head syslog holds for seq "
			    "%llu: the record before was changed",
			    (unsigned long long)v->heads[i].seq);
			return (AUDIT_BROKEN);
		}
	}
	return (AUDIT_OK);
}

/* Any head older than the first record: the start is missing. */
static int
start_cut(const struct verify *v, const struct record *r)
{
	size_t	i;

	for (i = 0; i < v->nheads; i++) {
		if (v->heads[i].seq < r->seq) {
			report(v, "syslog holds head seq %llu, before the "
			    "first record given: records were cut from the "
			    "start, or an older file was not given",
			    (unsigned long long)v->heads[i].seq);
			return (AUDIT_BROKEN);
		}
	}
	return (AUDIT_OK);
}

/*
 * The first record: a chain that does not begin here can only be
 * checked from here on, and only syslog can say what came before.
 */
static int
link_first(struct verify *v, const struct record *r)
{
	int	rc;

	v->started = 1;
	v->first = r->seq;
	v->genesis = r->seq == 1 && strcmp(r->prev, CHAIN_GENESIS) == 0;
	if (v->genesis)
		return (AUDIT_OK);
	report(v, "the chain starts at seq %llu, continuing a log not given "
	    "here", (unsigned long long)r->seq);
	if ((rc = start_prev(v, r)) != AUDIT_OK)
		return (rc);
	return (start_cut(v, r));
}

static int
link_next(const struct verify *v, const struct record *r)
{
	if (r->seq != v->want) {
		report(v, "seq %llu where %llu was due: a record was deleted, "
		    "inserted or moved", (unsigned long long)r->seq,
		    (unsigned long long)v->want);
		return (AUDIT_BROKEN);
	}
	if (strcmp(r->prev, v->prevhash) != 0) {
		report(v, "prev is not the SHA-256 of the record before it: a "
		    "record was changed");
		return (AUDIT_BROKEN);
	}
	return (AUDIT_OK);
}

static int
step_link(struct verify *v, struct record *r)
{
	if (!v->started)
		return (link_first(v, r));
	return (link_next(v, r));
}

/*
 * An exit with no dispatch is a break in a chain that begins in what
 * was given, and only a note in one that continues an older log.
 */
static int
pair_exit(struct verify *v, const char *h)
{
	if (seen_exit(v->seen, h))
		return (AUDIT_OK);
	if (v->genesis) {
		report(v, "exit of %s, which has no dispatch record",
		    audit_esc(h));
		return (AUDIT_BROKEN);
	}
	report(v, "note: exit of %s, dispatched before the first record "
	    "given", audit_esc(h));
	return (AUDIT_OK);
}

/* A cancel comes after its dispatch and before its exit. */
static int
pair_cancel(struct verify *v, const char *h)
{
	switch (seen_cancel(v->seen, h)) {
	case 0:
		return (AUDIT_OK);
	case 1:
		report(v, "cancel of %s after its exit", audit_esc(h));
		return (AUDIT_BROKEN);
	}
	if (v->genesis) {
		report(v, "cancel of %s, which has no dispatch record",
		    audit_esc(h));
		return (AUDIT_BROKEN);
	}
	report(v, "note: cancel of %s, dispatched before the first record "
	    "given", audit_esc(h));
	return (AUDIT_OK);
}

static int
step_event(struct verify *v, struct record *r)
{
	const char	*ev, *h;

	if ((ev = audit_str(r->o, "event")) == NULL ||
	    (h = audit_str(r->o, "handle")) == NULL)
		return (AUDIT_OK);
	if (strcmp(ev, "dispatch") == 0)
		seen_add(v->seen, h, audit_str(r->o, "ts"));
	else if (strcmp(ev, "exit") == 0)
		return (pair_exit(v, h));
	else if (strcmp(ev, "cancel") == 0)
		return (pair_cancel(v, h));
	return (AUDIT_OK);
}

/* A record rewritten with the chain recomputed after it shows here. */
static int
step_syslog(struct verify *v, struct record *r)
{
	size_t	i;

	for (i = 0; i < v->nheads; i++) {
		if (v->heads[i].seq == r->seq &&
		    strcmp(v->heads[i].hash, r->hash) != 0) {
			report(v, "seq %llu differs from the head syslog "
			    "holds: the record was rewritten",
			    (unsigned long long)r->seq);
			return (AUDIT_BROKEN);
		}
	}
	return (AUDIT_OK);
}

static int
verify_record(struct verify *v, const char *line, size_t len)
{
	struct record	r;
	size_t		i;
	int		rc = AUDIT_OK;

	memset(&r, 0, sizeof r);
	r.line = line;
	r.len = len;
	for (i = 0; i < sizeof record_steps / sizeof record_steps[0] &&
	    rc == AUDIT_OK; i++)
		rc = record_steps[i](v, &r);
	if (r.o != NULL)
		json_object_put(r.o);
	if (rc != AUDIT_OK)
		return (rc);
	memcpy(v->prevhash, r.hash, sizeof v->prevhash);
	v->last = r.seq;
	v->want = r.seq + 1;
	v->total++;
	return (AUDIT_OK);
}

/*
 * A last line with no newline is a write cut short by a crash; the
 * chain goes on from the last whole line, in the next file if any.
 */
static void
torn_tail(struct verify *v, size_t len, int more)
{
	report(v, "torn last line (%zu bytes and no newline): a write cut "
	    "short by a crash, not tampering%s", len,
	    more ? "; checking the next file" : "");
	v->torn = 1;
}

/* One file; more says another follows it. */
static int
verify_file(struct verify *v, const char *file, int more)
{
	char		*buf;
	const char	*nl;
	size_t		 len, off, end;
	int		 rc = AUDIT_OK;

	if ((buf = audit_slurp(file, &len, 0)) == NULL) {
		printf("%s: cannot read: %s\n", audit_esc(file),
		    audit_slurp_error());
		return (AUDIT_BROKEN);
	}
	v->file = file;
	v->files++;
	for (off = 0, v->lineno = 1; off < len && rc == AUDIT_OK;
	    off = end + 1, v->lineno++) {
		if ((nl = memchr(buf + off, '\n', len - off)) == NULL) {
			torn_tail(v, len - off, more);
			break;
		}
		end = (size_t)(nl - buf);
		rc = verify_record(v, buf + off, end - off);
	}
	free(buf);
	return (rc);
}

/* A head past the last record: records were cut from the end. */
static int
check_cut_short(const struct verify *v)
{
	size_t	i;

	for (i = 0; i < v->nheads; i++) {
		if (v->heads[i].seq > v->last) {
			printf("syslog holds head seq %llu, past the last "
			    "record (%llu): the log was cut short\n",
			    (unsigned long long)v->heads[i].seq,
			    (unsigned long long)v->last);
			return (AUDIT_BROKEN);
		}
	}
	return (AUDIT_OK);
}

static void
note_unexited(const char *handle, const char *ts)
{
	printf("note: %s (dispatched %s) has no exit record: still running, "
	    "or lost with its server\n", audit_esc(handle), audit_esc(ts));
}

/* The walk ended without a break: what it found, and how it ends. */
static int
verify_end(const struct verify *v)
{
	const char	*s = v->files == 1 ? "" : "s";

	if (check_cut_short(v) != AUDIT_OK)
		return (AUDIT_BROKEN);
	seen_unexited(v->seen, note_unexited);
	if (v->torn) {
		printf("torn: %zu whole records in %d file%s, seq %llu to "
		    "%llu, chain intact but for torn lines\n", v->total,
		    v->files, s, (unsigned long long)v->first,
		    (unsigned long long)v->last);
		return (AUDIT_TORN);
	}
	printf("ok: %zu records in %d file%s, seq %llu to %llu, chain "
	    "intact%s\n", v->total, v->files, s, (unsigned long long)v->first,
	    (unsigned long long)v->last, v->nheads > 0 ?
	    ", matches syslog" : "");
	return (AUDIT_OK);
}

/* Options come before the files: the index of the first file, or -1. */
static int
verify_args(int argc, char **argv, const char **syslog_path)
{
	int	k;

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--syslog") == 0 && k + 1 < argc)
			*syslog_path = argv[++k];
		else if (argv[k][0] == '-') {
			fprintf(stderr, "usage: dispatch-mcp-audit verify "
			    "[--syslog FILE] [LOG ...]\n");
			return (-1);
		} else
			break;
	}
	return (k);
}

static int
verify_setup(struct verify *v, int argc, char **argv, struct audit_logs *l)
{
	const char	*syslog_path = NULL;
	int		 k;

	if ((k = verify_args(argc, argv, &syslog_path)) == -1)
		return (-1);
	if (syslog_path != NULL && load_syslog(v, syslog_path) == -1) {
		fprintf(stderr, "dispatch-mcp-audit: %s: %s\n",
		    audit_esc(syslog_path), audit_slurp_error());
		return (-1);
	}
	return (audit_logs(l, argc - k, argv + k));
}

int
audit_verify(int argc, char **argv)
{
	struct verify		v;
	struct audit_logs	l;
	int			i, rc = AUDIT_OK;

	memset(&v, 0, sizeof v);
	if (verify_setup(&v, argc, argv, &l) == -1) {
		free(v.heads);
		return (AUDIT_USAGE);
	}
	v.seen = seen_new();
	for (i = 0; i < l.n && rc == AUDIT_OK; i++)
		rc = verify_file(&v, l.names[i], i + 1 < l.n);
	if (rc == AUDIT_OK)
		rc = verify_end(&v);
	seen_free(v.seen);
	free(v.heads);
	return (rc);
}
