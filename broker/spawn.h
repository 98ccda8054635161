#ifndef DISPATCH_SPAWN_H
#define DISPATCH_SPAWN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

/*
 * Lane argv and environment, and the single place in the program that
 * executes anything.  The argv is fixed by configuration; the caller's
 * values only ever fill argument slots, never choose the program.
 */
struct lane_args {
	char	*argv[16];
	int	 argc;
	char	*envp[16 + MAX_ENV_PASS];
	int	 envc;
};

/* Snapshot the server's own environment values the lane may get. */
void	spawn_init(const struct config *);
void	spawn_env_names(char *, size_t);
void	lane_args_build(struct lane_args *, const struct config *,
	    const char *, const char *, const char *, const char *,
	    const char *);
void	lane_args_free(struct lane_args *);
/* The argv with placeholders, as --check-config prints it. */
void	lane_argv_template(const struct config *, char *, size_t);

struct lane_io {
	pid_t	pid;
	int	in_fd;		/* -1 in argv mode (stdin is /dev/null) */
	int	out_fd;
	int	err_fd;
};

/* In-process, for tests: start a lane as our own child. */
int	spawn_lane(const struct config *, const struct lane_args *,
	    struct lane_io *);

/* The spawner process: the broker's only way to start anything. */
pid_t	spawner_start(const struct config *);
pid_t	spawner_get_pid(void);
pid_t	spawner_request(uint32_t, const char *, const char *, const char *,
	    const char *, const char *, size_t, const int [3]);

#endif
