/*
 * Dispatches read back from the audit log.  The index holds, per handle,
 * where its dispatch record and its exit record are (offset and length)
 * and what status the exit gave, in log order; the bytes of the records
 * stay in the file.  It is built on first use from the log the broker
 * writes, extended with what any server appended since, and rebuilt
 * when that file is another one (rotation) or shorter (cut).  The index
 * only finds lines: every answer parses the two lines again, strictly,
 * and checks them, so a line someone edited gives an error, not a guess.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "broker/audit.h"
#include "broker/history.h"
#include "common/bounds.h"
#include "common/jsonv.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/names.h"

#define INDEX_BUCKETS	65536
#define PID_BUCKETS	4096
/* Servers' pids remembered, each with the session it wrote last. */
#define MAX_SERVER_PIDS	65536

struct hentry {
	unsigned char	 id[HANDLE_HEX_DIGITS / 2];
	unsigned char	 sess[16];
	uint32_t	 hnext;		/* 1-based; 0 ends the bucket */
	uint32_t	 pid;
	uint32_t	 dlen;
	uint32_t	 elen;		/* 0: no exit record (yet) */
	off_t		 doff;
	off_t		 eoff;
};

/* The session each server pid wrote last: a reused pid is a new server. */
struct hpid {
	uint32_t	 pid;
	uint32_t	 next;		/* 1-based */
	unsigned char	 sess[16];
};

static struct hentry	*ents;
static uint32_t		 nents, capents;
static uint32_t		 buckets[INDEX_BUCKETS];
static struct hpid	*pids;
static uint32_t		 npids, cappids;
static uint32_t		 pbuckets[PID_BUCKETS];
static dev_t		 idx_dev;
static ino_t		 idx_ino;
static off_t		 idx_scanned;
static int		 idx_valid;
static struct history_stats idx_stats;

void
history_reset(void)
{
	free(ents);
	free(pids);
	ents = NULL;
	pids = NULL;
	nents = capents = npids = cappids = 0;
	memset(buckets, 0, sizeof buckets);
	memset(pbuckets, 0, sizeof pbuckets);
	memset(&idx_stats, 0, sizeof idx_stats);
	idx_scanned = 0;
	idx_valid = 0;
}

static int
unhex(const char *s, size_t n, unsigned char *out)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < n; i += 2) {
		hi = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
		    s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;
		lo = s[i + 1] >= '0' && s[i + 1] <= '9' ? s[i + 1] - '0' :
		    s[i + 1] >= 'a' && s[i + 1] <= 'f' ? s[i + 1] - 'a' + 10 :
		    -1;
		if (hi == -1 || lo == -1)
			return (-1);
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (0);
}

/*
 * The log is its owner's to edit, and so any lane's: handles and pids in
 * it are chosen to collide as easily as at random.  So buckets are a
 * keyed hash (SipHash), with a key of this process's that no log knows.
 */
static unsigned char	hkey[crypto_shorthash_KEYBYTES];
static int		hkey_set;

static uint64_t
keyed(const void *p, size_t len)
{
	unsigned char	out[crypto_shorthash_BYTES];
	uint64_t	h;

	if (!hkey_set) {
		if (getrandom(hkey, sizeof hkey, 0) != (ssize_t)sizeof hkey)
			fatal("getrandom");
		hkey_set = 1;
	}
	crypto_shorthash(out, p, len, hkey);
	memcpy(&h, out, sizeof h);
	return (h);
}

static unsigned
id_bucket(const unsigned char *id)
{
	return (keyed(id, HANDLE_HEX_DIGITS / 2) % INDEX_BUCKETS);
}

static unsigned
pid_bucket(uint32_t pid)
{
	return (keyed(&pid, sizeof pid) % PID_BUCKETS);
}

static struct hentry *
find_id(const unsigned char *id)
{
	uint32_t	i;

	for (i = buckets[id_bucket(id)]; i != 0; i = ents[i - 1].hnext) {
		if (memcmp(ents[i - 1].id, id, sizeof ents[i - 1].id) == 0)
			return (&ents[i - 1]);
	}
	return (NULL);
}

static struct hpid *
find_pid(uint32_t pid)
{
	uint32_t	i;

	for (i = pbuckets[pid_bucket(pid)]; i != 0; i = pids[i - 1].next) {
		if (pids[i - 1].pid == pid)
			return (&pids[i - 1]);
	}
	return (NULL);
}

static void
note_pid(uint32_t pid, const unsigned char *sess)
{
	struct hpid	*p;

	if ((p = find_pid(pid)) == NULL) {
		/* Past the bound a pid's reuse is told by its lock alone. */
		if (npids == MAX_SERVER_PIDS)
			return;
		if (npids == cappids) {
			cappids = cappids == 0 ? 64 : cappids * 2;
			pids = xreallocarray(pids, cappids, sizeof *pids);
		}
		p = &pids[npids++];
		p->pid = pid;
		p->next = pbuckets[pid_bucket(pid)];
		pbuckets[pid_bucket(pid)] = npids;
	}
	memcpy(p->sess, sess, sizeof p->sess);
}

/*
 * The value of the first "key": at or after *from in a line, as raw
 * bytes; *from moves past it.  Our records put the common fields
 * (event, session, server_pid) and then the handle before any free
 * text, in that order, and a quote inside a string is always escaped,
 * so the first match is the member itself, and each search starts where
 * the one before ended: the line is read about once.  Whatever this
 * finds is only where to look: the answer parses the line.
 */
static const char *
raw_value(const char **from, const char *end, const char *key,
    size_t *vlen)
{
	const char	*p, *v;
	size_t		 klen = strlen(key);

	if ((p = memmem(*from, (size_t)(end - *from), key, klen)) == NULL)
		return (NULL);
	v = p + klen;
	for (p = v; p < end && *p != '"' && *p != ',' && *p != '}'; p++)
		;
	if (p == end)
		return (NULL);
	*vlen = (size_t)(p - v);
	*from = p;
	return (v);
}

static void
index_line(const char *line, size_t len, off_t off)
{
	const char	*ev, *h, *s, *pid, *at = line, *end = line + len;
	size_t		 evlen, hlen, slen, pidlen, i;
	unsigned char	 id[HANDLE_HEX_DIGITS / 2], sess[16];
	uint32_t	 pidv = 0;
	struct hentry	*e;
	int		 is_exit;

	if ((ev = raw_value(&at, end, "\"event\":\"", &evlen)) == NULL)
		return;
	if (evlen == 8 && memcmp(ev, "dispatch", 8) == 0)
		is_exit = 0;
	else if (evlen == 4 && memcmp(ev, "exit", 4) == 0)
		is_exit = 1;
	else
		return;
	if ((s = raw_value(&at, end, "\"session\":\"", &slen)) == NULL ||
	    slen != 32 || unhex(s, 32, sess) == -1 ||
	    (pid = raw_value(&at, end, "\"server_pid\":", &pidlen)) == NULL ||
	    pidlen == 0 || pidlen > 10 ||
	    (h = raw_value(&at, end, "\"handle\":\"", &hlen)) == NULL ||
	    hlen != HANDLE_BYTES || check_handle(h, hlen) == -1 ||
	    unhex(h + 4, HANDLE_HEX_DIGITS, id) == -1)
		return;
	for (i = 0; i < pidlen; i++) {
		if (pid[i] < '0' || pid[i] > '9')
			return;
		pidv = pidv * 10 + (uint32_t)(pid[i] - '0');
	}
	note_pid(pidv, sess);
	e = find_id(id);
	if (is_exit) {
		/* The first exit of a dispatch seen counts; no dispatch, none. */
		if (e != NULL && e->elen == 0) {
			e->eoff = off;
			e->elen = (uint32_t)len;
			idx_stats.exits++;
		}
		return;
	}
	if (e != NULL || nents >= MAX_HISTORY_DISPATCHES)
		return;
	if (nents == capents) {
		capents = capents == 0 ? 1024 : capents * 2;
		ents = xreallocarray(ents, capents, sizeof *ents);
	}
	e = &ents[nents++];
	memset(e, 0, sizeof *e);
	memcpy(e->id, id, sizeof e->id);
	memcpy(e->sess, sess, sizeof e->sess);
	e->pid = pidv;
	e->doff = off;
	e->dlen = (uint32_t)len;
	e->hnext = buckets[id_bucket(id)];
	buckets[id_bucket(id)] = nents;
	idx_stats.dispatches++;
}

/*
 * Index what the file holds past what was read before, up to its last
 * newline: bytes after it are a record being written, or a torn one the
 * next writer cuts off.  A line longer than MAX_HISTORY_LINE_BYTES is no
 * record of ours and is skipped whole.  With a budget, stop at the first
 * line boundary past that many bytes: 1 if the end was reached, 0 if
 * there is more, -1 on error.
 */
int
history_scan(int fd, struct history_stats *stats, size_t budget)
{
	static char	*buf;
	struct stat	 st;
	off_t		 pos, line_start, first;
	ssize_t		 n;
	char		*p, *end, *nl;
	int		 skipping = 0, done = 1;

	if (fstat(fd, &st) == -1)
		return (-1);
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return (-1);
	}
	if (idx_valid && (st.st_dev != idx_dev || st.st_ino != idx_ino ||
	    st.st_size < idx_scanned))
		history_reset();
	idx_valid = 1;
	idx_dev = st.st_dev;
	idx_ino = st.st_ino;
	if (buf == NULL)
		buf = xmalloc(MAX_HISTORY_LINE_BYTES);
	pos = line_start = first = idx_scanned;
	while (pos < st.st_size) {
		if (budget != 0 && !skipping && pos - first >= (off_t)budget) {
			done = 0;
			break;
		}
		n = pread(fd, buf, (size_t)(st.st_size - pos) <
		    MAX_HISTORY_LINE_BYTES ? (size_t)(st.st_size - pos) :
		    MAX_HISTORY_LINE_BYTES, pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		if (n == 0)
			break;		/* cut while we read */
		p = buf;
		end = buf + n;
		while ((budget == 0 || line_start - first < (off_t)budget) &&
		    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			if (!skipping)
				index_line(p, (size_t)(nl - p), pos + (p - buf));
			else
				idx_stats.skipped++;
			skipping = 0;
			p = nl + 1;
			line_start = pos + (p - buf);
		}
		if (p == buf && n == MAX_HISTORY_LINE_BYTES) {
			/* No newline in a whole buffer: not a record. */
			skipping = 1;
			pos += n;
			continue;
		}
		if (p == buf)
			break;		/* the rest of the file is one torn line */
		pos += p - buf;
	}
	idx_scanned = line_start;
	idx_stats.scanned = idx_scanned;
	if (stats != NULL)
		*stats = idx_stats;
	return (done);
}

/*
 * A step of the index's build from the start, so that the first
 * question about an earlier handle finds it (mostly) done: 1 when done.
 */
int
history_prepare(void)
{
	int	fd = audit_fd_now();

	return (fd == -1 ? 1 : history_scan(fd, NULL,
	    HISTORY_STEP_BYTES) != 0);
}

int
history_find(const char *handle, off_t *doff, size_t *dlen, off_t *eoff,
    size_t *elen)
{
	unsigned char	 id[HANDLE_HEX_DIGITS / 2];
	struct hentry	*e;

	if (check_handle(handle, strlen(handle)) == -1 ||
	    unhex(handle + 4, HANDLE_HEX_DIGITS, id) == -1 ||
	    (e = find_id(id)) == NULL)
		return (0);
	*doff = e->doff;
	*dlen = e->dlen;
	*eoff = e->eoff;
	*elen = e->elen;
	return (1);
}

/* The index, brought up to date with the log as it is now. */
static int
refresh(char *err, size_t errlen)
{
	int	fd = audit_fd_now();

	if (fd == -1 || history_scan(fd, NULL, 0) == -1) {
		snprintf(err, errlen, "the audit log cannot be read: %s",
		    fd == -1 ? "it is not open" : strerror(errno));
		return (-1);
	}
	return (0);
}

/* "2026-12-02T00:28:14.123Z", as fmt_time_ms() writes it, to ms. */
static int
parse_time_ms(const char *s, uint64_t *ms)
{
	unsigned	y, mo, d, h, mi, sec, milli;
	int64_t		era, days;
	unsigned	yoe, doy, doe, mp;
	char		check[TIME_STR_BYTES];

	if (strlen(s) != 24 || sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u.%3uZ", &y,
	    &mo, &d, &h, &mi, &sec, &milli) != 7 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 || y < 1970)
		return (-1);
	/* Howard Hinnant's days-from-civil, the inverse of fmt_time_ms. */
	if (mo <= 2)
		y--;
	era = y / 400;
	yoe = (unsigned)(y - era * 400);
	mp = mo > 2 ? mo - 3 : mo + 9;
	doy = (153 * mp + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + (int64_t)doe - 719468;
	*ms = (uint64_t)days * 86400000 + (uint64_t)h * 3600000 +
	    (uint64_t)mi * 60000 + (uint64_t)sec * 1000 + milli;
	/* Only a time we could have written: no 31st of February. */
	fmt_time_ms(*ms, check, sizeof check);
	return (strcmp(check, s) == 0 ? 0 : -1);
}

static int
sig_number(const char *name)
{
	int	sig;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (strcmp(signal_name(sig), name) == 0)
			return (sig);
	}
	return (0);
}

/* One line of the log at off, parsed strictly: an object, or NULL. */
static struct json_object *
read_record(off_t off, size_t len, const char *event, const char *handle)
{
	static struct json_tokener	*tok;
	struct json_object		*o = NULL, *v;
	struct jsonv			 jv;
	char				*buf;
	ssize_t				 n;

	if (tok == NULL) {
		if ((tok = json_tokener_new_ex(MAX_JSON_DEPTH + 1)) == NULL)
			fatalx("read_record: json_tokener_new_ex");
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	}
	buf = xmalloc(len + 1);
	do {
		n = pread(audit_fd_now(), buf, len + 1, off);
	} while (n == -1 && errno == EINTR);
	/* The whole line and its newline, or it changed under us. */
	if (n != (ssize_t)len + 1 || buf[len] != '\n' ||
	    jsonv_parse(tok, buf, len, MAX_JSON_DEPTH, 1, &jv, &o) != JV_OK ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "event", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), event) != 0 ||
	    !json_object_object_get_ex(o, "handle", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), handle) != 0) {
		json_object_put(o);
		o = NULL;
	}
	free(buf);
	return (o);
}

/* A string member of at most max bytes, with no NUL, or NULL. */
static const char *
rec_str(struct json_object *o, const char *key, size_t max, size_t *lenp)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > max || memchr(s, '\0', len) != NULL || utf8_count(s,
	    len) < 0)
		return (NULL);
	if (lenp != NULL)
		*lenp = len;
	return (s);
}

static int
from_dispatch(struct json_object *o, struct dview *v)
{
	const char	*org, *repo, *gh, *ts;

	/* The frontend holds a view to the rules a dispatch was held to. */
	if ((org = rec_str(o, "orguser", MAX_NAME_BYTES, NULL)) == NULL ||
	    !is_valid_name(org, strlen(org)) ||
	    (repo = rec_str(o, "repo", MAX_NAME_BYTES, NULL)) == NULL ||
	    !is_valid_name(repo, strlen(repo)) ||
	    (gh = rec_str(o, "github", MAX_GITHUB_BYTES, NULL)) == NULL ||
	    check_github(gh, strlen(gh)) == -1 ||
	    (ts = rec_str(o, "ts", TIME_STR_BYTES, NULL)) == NULL ||
	    parse_time_ms(ts, &v->requested_ms) == -1)
		return (-1);
	strlcpy(v->orguser, org, sizeof v->orguser);
	strlcpy(v->repo, repo, sizeof v->repo);
	strlcpy(v->github, gh, sizeof v->github);
	return (0);
}

/*
 * An exit record: its status is any final one but lost (which no record
 * says), and a member a writer left out (an exit written for a lane of
 * a dead server, an older record without the detail) is taken as null.
 */
static void
usage_from(struct json_object *o, const char *key, uint32_t bit,
    uint64_t *out, uint32_t *usage)
{
	struct json_object	*j;
	int64_t			 n;

	if (json_object_object_get_ex(o, key, &j) &&
	    json_object_is_type(j, json_type_int) &&
	    (n = json_object_get_int64(j)) >= 0) {
		*out = (uint64_t)n;
		*usage |= bit;
	}
}

static int
from_exit(struct json_object *o, struct dview *v, char **detail)
{
	struct json_object	*rc = NULL, *sig = NULL, *dur = NULL;
	const char		*st, *ts, *d, *sname;
	size_t			 dlen = 0;
	int64_t			 n;
	uint32_t		 i;

	if ((st = rec_str(o, "status", 16, NULL)) == NULL)
		return (-1);
	for (i = DS_RUNNING + 1; i < DS_MAX; i++) {
		if (i != DS_LOST && strcmp(st, dstatus_name(i)) == 0)
			break;
	}
	if (i == DS_MAX ||
	    (ts = rec_str(o, "ts", TIME_STR_BYTES, NULL)) == NULL ||
	    parse_time_ms(ts, &v->finished_ms) == -1)
		return (-1);
	v->status = i;
	json_object_object_get_ex(o, "returncode", &rc);
	json_object_object_get_ex(o, "signal", &sig);
	json_object_object_get_ex(o, "duration_ms", &dur);
	if (dur != NULL) {
		if (!json_object_is_type(dur, json_type_int) ||
		    (n = json_object_get_int64(dur)) < 0)
			return (-1);
		v->duration_ms = (uint64_t)n;
	}
	if (rc != NULL) {
		if (!json_object_is_type(rc, json_type_int) ||
		    (n = json_object_get_int64(rc)) < INT32_MIN ||
		    n > INT32_MAX)
			return (-1);
		v->has_returncode = 1;
		v->returncode = (int32_t)n;
	}
	if (sig != NULL) {
		if (!json_object_is_type(sig, json_type_string) ||
		    (sname = json_object_get_string(sig)) == NULL ||
		    (v->signal = (uint32_t)sig_number(sname)) == 0)
			return (-1);
	}
	/* What the lane's cgroup measured, where it had one. */
	usage_from(o, "cpu_usec", VIEW_CPU, &v->cpu_usec, &v->usage);
	usage_from(o, "memory_peak", VIEW_MEM, &v->mem_peak, &v->usage);
	usage_from(o, "pids_peak", VIEW_PIDS, &v->pids_peak, &v->usage);
	if ((sname = rec_str(o, "reason", 16, NULL)) != NULL &&
	    strcmp(sname, "oom") == 0)
		v->usage |= VIEW_OOM;
	d = "";
	if (json_object_object_get_ex(o, "detail", NULL) &&
	    (d = rec_str(o, "detail", MAX_DETAIL_BYTES, &dlen)) == NULL)
		return (-1);
	*detail = xmalloc(dlen + 1);
	memcpy(*detail, d, dlen);
	(*detail)[dlen] = '\0';
	v->detail = *detail;
	v->detail_len = dlen;
	return (0);
}

/* Did the server that wrote this dispatch end without its exit? */
static int
server_gone(const struct hentry *e)
{
	const struct hpid	*p;
	unsigned char		 own[16];

	if (unhex(audit_session(), 32, own) == 0 &&
	    memcmp(own, e->sess, sizeof own) == 0)
		return (0);
	/* Our pid, another session: a server before us had it. */
	if (e->pid == (uint32_t)getpid())
		return (1);
	/* Its pid wrote for a later session: that server is another. */
	if ((p = find_pid(e->pid)) != NULL &&
	    memcmp(p->sess, e->sess, sizeof p->sess) != 0)
		return (1);
	return (audit_server_alive((pid_t)e->pid) == 0);
}

int
history_view(const char *handle, int with_result, struct dview *v,
    char **detail, char *err, size_t errlen)
{
	unsigned char		 id[HANDLE_HEX_DIGITS / 2];
	struct hentry		*e;
	struct json_object	*o;

	*detail = NULL;
	if (refresh(err, errlen) == -1)
		return (-1);
	if (unhex(handle + 4, HANDLE_HEX_DIGITS, id) == -1 ||
	    (e = find_id(id)) == NULL)
		return (0);
	memset(v, 0, sizeof *v);
	strlcpy(v->handle, handle, sizeof v->handle);
	v->with_result = with_result;
	if ((o = read_record(e->doff, e->dlen, "dispatch", handle)) == NULL ||
	    from_dispatch(o, v) == -1) {
		json_object_put(o);
		snprintf(err, errlen, "the audit log's dispatch record of %s "
		    "cannot be read: it is not a record this server writes",
		    handle);
		return (-1);
	}
	json_object_put(o);
	if (e->elen == 0) {
		v->status = server_gone(e) ? DS_LOST : DS_RUNNING;
		if (with_result && v->status == DS_LOST) {
			*detail = xstrdup(LOST_DETAIL);
			v->detail = *detail;
			v->detail_len = strlen(*detail);
		} else if (with_result) {
			v->detail = "";
			v->duration_ms = now_ms() > v->requested_ms ?
			    now_ms() - v->requested_ms : 0;
		}
		return (1);
	}
	if ((o = read_record(e->eoff, e->elen, "exit", handle)) == NULL ||
	    from_exit(o, v, detail) == -1) {
		json_object_put(o);
		free(*detail);
		*detail = NULL;
		snprintf(err, errlen, "the audit log's exit record of %s "
		    "cannot be read: it is not a record this server writes",
		    handle);
		return (-1);
	}
	json_object_put(o);
	if (!with_result) {
		free(*detail);
		*detail = NULL;
		v->has_returncode = 0;
		v->returncode = 0;
		v->signal = 0;
		v->finished_ms = v->duration_ms = 0;
		v->detail = NULL;
		v->detail_len = 0;
	}
	return (1);
}

int
history_list(uint32_t before, char (*handles)[HANDLE_BYTES + 1],
    uint32_t max, uint32_t *total, char *err, size_t errlen)
{
	static const char	 hex[] = "0123456789abcdef";
	uint32_t		 i, n = 0, j;

	if (refresh(err, errlen) == -1)
		return (-1);
	*total = nents;
	if (before == 0 || before > nents)
		before = nents;
	for (i = before; i > 0 && n < max; i--, n++) {
		memcpy(handles[n], HANDLE_PREFIX, sizeof HANDLE_PREFIX - 1);
		for (j = 0; j < sizeof ents[i - 1].id; j++) {
			handles[n][4 + 2 * j] = hex[ents[i - 1].id[j] >> 4];
			handles[n][5 + 2 * j] = hex[ents[i - 1].id[j] & 0xf];
		}
		handles[n][HANDLE_BYTES] = '\0';
	}
	return ((int)n);
}
