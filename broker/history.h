#ifndef DISPATCH_HISTORY_H
#define DISPATCH_HISTORY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/*
 * Dispatches read back from the audit log: those of earlier servers (and
 * of other servers sharing the log) that this broker holds no record
 * of.  The log is the source of truth; an index of where each handle's
 * dispatch and exit records are is built on first use and extended with
 * what was appended since, so a lookup reads two lines, not the log.
 */
#define LOST_DETAIL \
	"the server that ran it ended without recording its end"

/*
 * The view of a handle: 1 with *v filled (v->detail malloc'd, in *detail,
 * when with_result), 0 if the log holds no such dispatch, -1 with a
 * message when its records cannot be read.
 */
int	history_view(const char *, int, struct dview *, char **, char *,
	    size_t);
/*
 * Handles of the log's dispatches, newest first, before the dispatch
 * numbered before (1-based, in log order; 0: from the newest).  Returns
 * how many were written to handles (at most max), with *total the number
 * of dispatches in the log, or -1 with a message.
 */
int	history_list(uint32_t, char (*)[HANDLE_BYTES + 1], uint32_t,
	    uint32_t *, char *, size_t);
/*
 * One step of building the index in the background, from the event
 * loop: HISTORY_STEP_BYTES of the log at most.  1 when it is built.
 */
#define HISTORY_STEP_BYTES	(1024 * 1024)
int	history_prepare(void);

/* The index alone, for tests: read lines from fd up to size. */
struct history_stats {
	uint32_t	dispatches;
	uint32_t	exits;
	uint32_t	skipped;	/* lines too long to be ours */
	off_t		scanned;	/* bytes indexed: up to the last newline */
};
int	history_scan(int, struct history_stats *, size_t);
/* Where a handle's records are: 1 found, 0 not. */
int	history_find(const char *, off_t *, size_t *, off_t *, size_t *);
void	history_reset(void);

#endif
