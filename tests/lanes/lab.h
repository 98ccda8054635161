/*
 * Helpers of the lane tests: paths of the lab scripts and lane programs,
 * skipping (or, under CI=true, failing) where a daemon cannot run, and
 * the offline audit check of a server's log.
 */
#ifndef DISPATCH_TEST_LAB_H
#define DISPATCH_TEST_LAB_H

#include "tests/integration/harness.h"

/* The allowlist of the lane tests: one org-user, a lane user. */
#define LAB_USER	"dlane-test"
#define LAB_REPO	"lanerepo"
#define LAB_REPOS_JSON \
	"{\"orgs\":{\"" LAB_USER "\":{}},\"repos\":{\"" LAB_REPO "\":" \
	"{\"org\":\"" LAB_USER "\",\"github\":\"example/" LAB_REPO "\"}}}"

/* $TEST_SRCDIR/tests/lanes/NAME and $TEST_BUILDDIR/NAME. */
const char	*lab_script(const char *);
const char	*lab_bin(const char *);
/* Exit 77 with the reason, or 1 under CI=true, where nothing may skip. */
void		 lab_skip(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* sh -c of a formatted command line; its exit status, or -1. */
int		 lab_sh(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* A TCP port on 127.0.0.1 that nothing listens on now. */
int		 lab_free_port(void);
/* The audit tool on the server's log: its exit status (0: intact). */
int		 lab_audit_verify(struct srv *);
/* Milliseconds on the monotonic clock. */
long long	 lab_ms(void);
/*
 * The view of a dispatch_result answer, failing the test with the whole
 * answer unless its status is this one.
 */
struct json_object *lab_expect(struct json_object *, const char *);
/* A string member, or "(null)": a failed check, never a crash. */
const char	*lab_str(struct json_object *, const char *);
/* Dispatch org/repo/task and wait for the end; the dispatch_result. */
struct json_object *lab_dispatch_wait(struct srv *, const char *, int,
		    char *, size_t);

#endif
