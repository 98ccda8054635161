#ifndef DISPATCH_LANECMD_H
#define DISPATCH_LANECMD_H

#include <sys/resource.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "conf.h"
#include "proto.h"

/*
 * What a lane is run as.  main() builds the policy once from the
 * configuration; the spawner holds it and nothing else of the
 * configuration, and the broker uses the same builder to put in the
 * audit record the argv that will be executed.
 */
#define LANE_ENV_SNAPSHOT	(5 + MAX_ENV_PASS)

struct lane_policy {
	char		 program[PATH_MAX];	/* absolute, pinned at start */
	char		 host[MAX_HOST_BYTES + 1];
	uint32_t	 max_iterations;
	int		 task_arg;		/* task in argv, stdin /dev/null */
	rlim_t		 nproc;			/* RLIMIT_NPROC of each lane */
	int		 cgroup;		/* each lane born in a cgroup */
	/* Each lane's own seccomp filter (BPF), loaded before its exec. */
	unsigned char	 tail[512];
	size_t		 tail_len;
	/* "NAME=value" copied from the server's environment at start. */
	char		*env[LANE_ENV_SNAPSHOT];
	int		 nenv;
};

/* argv and envp of one lane; every string lives in buf. */
struct lane_cmd {
	char		*argv[10];
	char		*envp[LANE_ENV_SNAPSHOT + 6];
	char		 buf[MAX_TASK_BYTES + 4096];
	size_t		 used;
};

void	lane_policy_init(struct lane_policy *, const struct config *);
void	lane_cmd_build(struct lane_cmd *, const struct lane_policy *,
	    const struct spawn_order *);

#endif
