#ifndef DISPATCH_CONF_H
#define DISPATCH_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bounds.h"

/*
 * The server's configuration, read once from the environment at start.
 * Every value is checked here; a bad one stops the server before it
 * serves anything, with a message naming the variable.
 */
struct config {
	char		 repos_path[PATH_MAX];
	char		 ssh_host[MAX_HOST_BYTES + 1];
	uint32_t	 max_iterations;
	uint64_t	 timeout_ms;
	char		 command[PATH_MAX];	/* absolute, pinned at start */
	char		 audit_path[PATH_MAX];
	char		 syslog_socket[108];	/* or "none" */
	char		 env_pass[MAX_ENV_PASS][MAX_ENV_NAME_BYTES + 1];
	size_t		 n_env_pass;
	int		 task_arg;		/* task in argv, not stdin */
	uint32_t	 max_running;
	uint32_t	 lane_nproc;		/* RLIMIT_NPROC of lanes */
	int		 sandbox;		/* apply seccomp and Landlock */
	int		 sandbox_log;		/* DISPATCH_SANDBOX=log */
	int		 drop;			/* started as root: drop */
	uid_t		 run_uid;		/* DISPATCH_USER, when root */
	gid_t		 run_gid;
	char		 run_user[64];
	/* DISPATCH_CGROUP: auto, none, or the parent's path. */
	int		 cgroup_mode;		/* CGROUP_AUTO, ... */
	char		 cgroup_path[PATH_MAX];
	/* Per-lane limits in cgroup v2 syntax, "" when unset. */
	char		 mem_max[32];
	char		 pids_max[16];
	char		 cpu_max[32];
};

enum { CGROUP_AUTO = 0, CGROUP_NONE, CGROUP_PATH };

int	config_load(struct config *, char *, size_t);
/* Exposed for tests: each returns 0, or -1 with a message. */
int	config_parse_host(const char *, char *, size_t);
int	config_parse_uint(const char *, const char *, uint32_t, uint32_t,
	    uint32_t *, char *, size_t);
int	config_parse_timeout(const char *, uint64_t *, char *, size_t);
int	config_parse_env_pass(const char *, struct config *, char *, size_t);
int	config_resolve_command(const char *, char *, size_t, char *, size_t);
int	config_check_program(const char *, char *, size_t);
int	config_parse_limit(const char *, const char *, char *, size_t,
	    char *, size_t);
int	config_audit_path(char *, size_t, char *, size_t);

#endif
