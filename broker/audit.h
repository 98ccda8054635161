#ifndef DISPATCH_AUDIT_H
#define DISPATCH_AUDIT_H

#include "broker/dispatch.h"
#include "common/lanecmd.h"
#include "common/proto.h"

/*
 * The audit log: JSON Lines, one record per write(2), each synced to disk
 * before audit_write() returns.  A dispatch whose record cannot be synced
 * is refused, so the log never misses a lane that ran.
 */
int	audit_open(const char *, const char *, char *, size_t);
/* From the SIGHUP handler: reopen before the next record. */
void	audit_reopen(void);
const char	*audit_file(void);
/* Why the last record failed: strerror, or what the operator must do. */
const char	*audit_strerror(int);
void	audit_close(void);
/* For reading the log back: the descriptor, our session, liveness. */
int	audit_fd_now(void);
const char	*audit_session(void);
int	audit_server_alive(pid_t);
/*
 * The four records, each with the fields every record carries; the
 * log's schema is in this file alone.  Each is synced before it returns.
 */
int	audit_rejected(const struct client_info *, const char *,
	    const struct req_dispatch *, const char *, size_t);
int	audit_dispatch(const struct dispatch *, const struct lane_cmd *,
	    const char *, size_t, int);
/* Who asked dispatch_cancel to end a lane, before it is signalled. */
int	audit_cancel(const struct dispatch *, const struct client_info *);
int	audit_exit(const struct dispatch *);

#endif
