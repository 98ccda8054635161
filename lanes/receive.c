/*
 * The grammar of the remote command dispatch-lane-receive accepts, as a
 * table, and its configuration file.  sshd hands the forced command the
 * client's words joined by single spaces (quotes arrive literally), so a
 * request is split on single spaces and must fill the table exactly:
 *
 *	dispatch REPO --max N
 *
 * Anything else, a shell command line, "scp -t", "internal-sftp", an
 * extra word, an empty word from a doubled space, is refused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/validate.h"
#include "lanes/receive.h"

enum rcv_kind {
	RCV_LITERAL,	/* exactly the word */
	RCV_REPO,	/* a name as dispatch-mcp validates it */
	RCV_MAX		/* 1 to MAX_ITERATIONS_LIMIT, no leading zero */
};

static const struct rcv_slot {
	enum rcv_kind	 kind;
	const char	*word;		/* the literal, or what it names */
} rcv_grammar[] = {
	{ RCV_LITERAL,	"dispatch" },
	{ RCV_REPO,	"repo" },
	{ RCV_LITERAL,	"--max" },
	{ RCV_MAX,	"max" },
};
#define RCV_WORDS	(sizeof rcv_grammar / sizeof rcv_grammar[0])

static int
rcv_slot(const struct rcv_slot *slot, const char *w, size_t len,
    struct rcv_request *req, char *err, size_t errlen)
{
	char	echo[ECHO_BYTES], buf[16];

	echo_value(echo, sizeof echo, w, len);
	switch (slot->kind) {
	case RCV_LITERAL:
		if (len != strlen(slot->word) ||
		    memcmp(w, slot->word, len) != 0) {
			snprintf(err, errlen, "expected '%s', not '%s'",
			    slot->word, echo);
			return (-1);
		}
		return (0);
	case RCV_REPO:
		if (!is_valid_name(w, len)) {
			snprintf(err, errlen, "invalid repo '%s': must match "
			    "%s", echo, NAME_PATTERN);
			return (-1);
		}
		memcpy(req->repo, w, len);
		req->repo[len] = '\0';
		return (0);
	case RCV_MAX:
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, w, len);
		buf[len] = '\0';
		if (lane_parse_max(buf, &req->max) == -1) {
			snprintf(err, errlen, "--max must be an integer from "
			    "1 to %d, not '%s'", MAX_ITERATIONS_LIMIT, echo);
			return (-1);
		}
		snprintf(req->max_str, sizeof req->max_str, "%u", req->max);
		return (0);
	}
	snprintf(err, errlen, "internal error: bad grammar slot");
	return (-1);
}

int
rcv_parse(const char *cmd, struct rcv_request *req, char *err,
    size_t errlen)
{
	const char	*w, *sp;
	size_t		 len, i, n;

	memset(req, 0, sizeof *req);
	if (cmd == NULL) {
		snprintf(err, errlen, "no command: a shell or subsystem "
		    "request is refused");
		return (-1);
	}
	len = strlen(cmd);
	if (len > RCV_MAX_COMMAND_BYTES) {
		snprintf(err, errlen, "command longer than %d bytes",
		    RCV_MAX_COMMAND_BYTES);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cmd[i];

		if (c < 0x20 || c >= 0x7f) {
			snprintf(err, errlen, "command holds a control or "
			    "non-ASCII byte");
			return (-1);
		}
	}
	for (w = cmd, n = 0;; n++) {
		sp = strchr(w, ' ');
		len = sp != NULL ? (size_t)(sp - w) : strlen(w);
		if (len == 0) {
			snprintf(err, errlen, "empty word (words are "
			    "separated by one space)");
			return (-1);
		}
		if (n >= RCV_WORDS) {
			snprintf(err, errlen, "expected %zu words: dispatch "
			    "REPO --max N", RCV_WORDS);
			return (-1);
		}
		if (rcv_slot(&rcv_grammar[n], w, len, req, err, errlen) == -1)
			return (-1);
		if (sp == NULL)
			break;
		w = sp + 1;
	}
	if (n + 1 != RCV_WORDS) {
		snprintf(err, errlen, "expected %zu words: dispatch REPO "
		    "--max N", RCV_WORDS);
		return (-1);
	}
	return (0);
}

int
rcv_conf_parse(const char *text, size_t textlen, struct rcv_conf *c,
    char *err, size_t errlen)
{
	struct lane_kv	kv = { text, text + textlen, 0, NULL, 0, NULL, 0 };
	int		klen;

	memset(c, 0, sizeof *c);
	if (memchr(text, '\0', textlen) != NULL) {
		snprintf(err, errlen, "holds a NUL byte");
		return (-1);
	}
	while (lane_kv_next(&kv)) {
		klen = (int)(kv.klen > 32 ? 32 : kv.klen);
		if (kv.vlen == 0) {
			snprintf(err, errlen, "line %d: '%.*s' needs a value",
			    kv.lineno, klen, kv.key);
			return (-1);
		}
		if (lane_kv_is(&kv, "program")) {
			if (c->program[0] != '\0') {
				snprintf(err, errlen, "line %d: program given "
				    "twice", kv.lineno);
				return (-1);
			}
			if (kv.val[0] != '/' || kv.vlen >= sizeof c->program ||
			    memchr(kv.val, ' ', kv.vlen) != NULL ||
			    memchr(kv.val, '\t', kv.vlen) != NULL) {
				snprintf(err, errlen, "line %d: program must "
				    "be an absolute path", kv.lineno);
				return (-1);
			}
			memcpy(c->program, kv.val, kv.vlen);
			c->program[kv.vlen] = '\0';
		} else if (lane_kv_is(&kv, "repo")) {
			if (!is_valid_name(kv.val, kv.vlen) ||
			    c->n_repos == RCV_MAX_REPOS) {
				snprintf(err, errlen, "line %d: repo must be "
				    "one valid name (at most %d repo lines)",
				    kv.lineno, RCV_MAX_REPOS);
				return (-1);
			}
			memcpy(c->repos[c->n_repos], kv.val, kv.vlen);
			c->repos[c->n_repos++][kv.vlen] = '\0';
		} else {
			snprintf(err, errlen, "line %d: unknown keyword "
			    "'%.*s'", kv.lineno, klen, kv.key);
			return (-1);
		}
	}
	if (c->program[0] == '\0') {
		snprintf(err, errlen, "no program line");
		return (-1);
	}
	return (0);
}

int
rcv_conf_allows(const struct rcv_conf *c, const char *repo)
{
	size_t	i;

	if (c->n_repos == 0)
		return (1);
	for (i = 0; i < c->n_repos; i++)
		if (strcmp(c->repos[i], repo) == 0)
			return (1);
	return (0);
}
