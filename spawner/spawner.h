#ifndef DISPATCH_SPAWNER_H
#define DISPATCH_SPAWNER_H

#include <sys/types.h>

#include "common/lanecmd.h"

/*
 * The spawner: the only process that executes anything, and the lane
 * child it clones.  spawner_start() forks it from the calling process,
 * which becomes the parent of every lane (CLONE_PARENT) and talks to it
 * over *sockp: SPAWN orders with three descriptors, SPAWNED replies.
 */
pid_t	spawner_start(const struct lane_policy *, int *);

/* exec.c, in the spawner: start one lane as the caller's parent's child. */
void	lane_exec_init(const struct lane_policy *);
pid_t	lane_exec(const struct lane_policy *, const struct lane_cmd *,
	    const int *, pid_t, int *);

#endif
