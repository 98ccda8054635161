#ifndef DISPATCH_SANDBOX_H
#define DISPATCH_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * A pledge(2)/unveil(2)-shaped layer over seccomp and Landlock.  Each
 * process states in one line what it promises to need; the promise words
 * map to system call sets below, and --print-sandbox prints the mapping
 * from the very functions that load it.
 *
 *   frontend  "stdio"                      + Landlock: no path at all
 *   broker    "stdio rpath wpath proc sendfd" + Landlock: no exec; reads
 *                                              only the allowlist's dir
 *   lanes     kernel attack surface denied + Landlock: exec only from
 *             (also the spawner)              system directories and the
 *                                              lane program
 */
struct sandbox_paths {
	const char	*lane_program;
	const char	*allowlist;
	const char	*audit;
	/* With cgroups: the parent and this server's directory in it. */
	const char	*cgroup_parent;
	const char	*cgroup_dir;
};

/* DISPATCH_SANDBOX=log: log violations instead of killing. */
void	sandbox_set_log(int);

int	sandbox_landlock_abi(void);
void	sandbox_frontend(void);
void	sandbox_lane_layer(const struct sandbox_paths *);
void	sandbox_broker(const struct sandbox_paths *);
/* The lane's own filter, as BPF for the spawner to load in each lane. */
size_t	sandbox_lane_tail(void *, size_t);
/* Privilege drop for a frontend started as root. */
void	sandbox_drop_privileges(uid_t, gid_t);

/* Print every process's filter, rules, limits and identity. */
void	sandbox_print(FILE *, const struct sandbox_paths *, uid_t, gid_t,
	    int);
uint64_t sandbox_bpf_digest(const void *, size_t);

#endif
