#ifndef DISPATCH_SPAWNREQ_H
#define DISPATCH_SPAWNREQ_H

#include <sys/types.h>

#include "common/proto.h"

/*
 * The broker's side of the spawner socket: send one order with the
 * lane's stdin, stdout and stderr, and wait for its answer.  Returns
 * the lane's pid (the broker's own child), or -1 with errno when none
 * runs.
 */
pid_t	spawnreq_send(int, const struct spawn_order *, const int *, size_t);

#endif
