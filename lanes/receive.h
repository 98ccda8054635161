/*
 * dispatch-lane-receive's two parsers, apart from its main so that the
 * unit tests hold them to their tables: the grammar of the one remote
 * command it accepts, and its configuration file.
 */
#ifndef DISPATCH_LANE_RECEIVE_H
#define DISPATCH_LANE_RECEIVE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "lanes/lane.h"

/* Longest SSH_ORIGINAL_COMMAND considered at all. */
#define RCV_MAX_COMMAND_BYTES	512
#define RCV_MAX_CONF_BYTES	65536
#define RCV_MAX_REPOS		256

struct rcv_request {
	char		repo[MAX_NAME_BYTES + 1];
	uint32_t	max;
	char		max_str[16];
};

struct rcv_conf {
	char	program[PATH_MAX];
	/* With none, any valid repo name; else only these. */
	char	repos[RCV_MAX_REPOS][MAX_NAME_BYTES + 1];
	size_t	n_repos;
};

/* 0, or -1 with the reason in err; cmd may be NULL (no command). */
int	rcv_parse(const char *, struct rcv_request *, char *, size_t);
/* The file's text; 0, or -1 with "line N: reason" in err. */
int	rcv_conf_parse(const char *, size_t, struct rcv_conf *, char *,
	    size_t);
int	rcv_conf_allows(const struct rcv_conf *, const char *);

#endif
