#ifndef DISPATCH_AUDIT_H
#define DISPATCH_AUDIT_H

#include <json-c/json.h>

#include "common/proto.h"

/*
 * The audit log: JSON Lines, one record per write(2), each synced to disk
 * before audit_write() returns.  A dispatch whose record cannot be synced
 * is refused, so the log never misses a lane that ran.
 */
int	audit_open(const char *, const char *, char *, size_t);
/* From the SIGHUP handler: reopen before the next record. */
void	audit_reopen(void);
void	audit_close(void);
/* Fill in the fields every record carries, then append and sync. */
int	audit_write(const char *, const struct client_info *,
	    struct json_object *);
const char	*audit_session(void);

#endif
