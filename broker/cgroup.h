#ifndef DISPATCH_CGROUP_H
#define DISPATCH_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

/*
 * Lanes contained by cgroup v2.  Beneath the parent (DISPATCH_CGROUP),
 * each server makes a directory of its own, dispatch-LOG-PID-RANDOM (LOG:
 * a hash of its audit log's path), which it
 * holds flock(2)ed for its life; each lane gets a fresh cgroup in it,
 * named after its handle, and joins it before its first instruction.  A
 * server's directory that nobody holds locked is a dead server's: its
 * lanes are orphans, killed and closed at the next start.
 */

/* What a lane's cgroup measured, read before it is removed. */
struct cg_usage {
	int		 has_cpu;
	uint64_t	 cpu_usec;	/* cpu.stat usage_usec */
	int		 has_mem;
	uint64_t	 mem_peak;	/* memory.peak, bytes */
	int		 has_pids;
	uint64_t	 pids_peak;	/* pids.peak */
	int		 oom;		/* memory.events oom_kill > 0 */
};

/*
 * Main, before the sandbox.  Returns 1 with cgroups in force, 0 for
 * process groups (msg says why, once), -1 to refuse to start (msg).
 * With check set nothing is created, and controllers are not enabled.
 */
int		 cg_setup(const struct config *, int, char *, size_t);
/* The controllers the lanes' cgroups get, as --check-config prints. */
const char	*cg_controllers(void);
const char	*cg_parent(void);
const char	*cg_dir(void);		/* this server's, or NULL */
int		 cg_active(void);
/*
 * Kill a dead server's lanes; those of the same audit log (the path
 * given) are closed, fn given each handle, and removed.
 */
void		 cg_recover(const char *, void (*)(const char *,
		    const struct cg_usage *));
/*
 * Then this server's own directory, locked: 0; 1 with msg when this
 * kernel cannot kill a cgroup, so lanes fall back to process groups; -1
 * with msg when that leaves a limit unenforced.
 */
int		 cg_start(char *, size_t);
/* At exit: remove it. */
void		 cg_finish(void);

/* The broker's, through descriptors beneath this server's directory. */
int	cg_lane_create(const char *, int *, int *);
int	cg_lane_signal(int, int);
int	cg_lane_kill(int);
int	cg_populated(int);
void	cg_lane_measure(int, struct cg_usage *);
int	cg_lane_remove(const char *);

#endif
