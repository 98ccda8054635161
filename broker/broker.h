#ifndef DISPATCH_BROKER_H
#define DISPATCH_BROKER_H

#include <sys/types.h>

#include "common/conf.h"
#include "common/lanecmd.h"
#include "common/sandbox.h"

/* What main() hands the broker: its two peers and what it decides by. */
struct broker_start {
	const struct config		*conf;
	const struct lane_policy	*policy;
	const struct sandbox_paths	*paths;
	int				 frontend_fd;
	pid_t				 frontend_pid;
	int				 spawner_fd;
	pid_t				 spawner_pid;
};

void	broker_main(const struct broker_start *) __attribute__((noreturn));

#endif
