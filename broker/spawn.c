/*
 * The only exec site.  posix_spawn(3) with a fixed absolute path: no
 * shell, no PATH search, a new session and process group, stdio on pipes,
 * every other descriptor closed, default signal dispositions.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/spawn.h"
#include "common/log.h"
#include "common/util.h"

#define LANE_PATH	"PATH=/usr/local/bin:/usr/bin:/bin"

/* "NAME=value" strings copied from our environment at start. */
static char	*base_env[8 + MAX_ENV_PASS];
static int	 base_envc;

static void
keep_env(const char *name)
{
	const char	*v;
	size_t		 len;
	char		*s;

	if ((v = getenv(name)) == NULL)
		return;
	if (strlen(v) > MAX_ENV_VALUE_BYTES) {
		log_warnx("not passing %s to lanes: longer than %d bytes",
		    name, MAX_ENV_VALUE_BYTES);
		return;
	}
	len = strlen(name) + 1 + strlen(v) + 1;
	s = xmalloc(len);
	snprintf(s, len, "%s=%s", name, v);
	base_env[base_envc++] = s;
}

void
spawn_init(const struct config *conf)
{
	static const char *fixed[] = {
		"HOME", "USER", "LOGNAME", "LANG", "SSH_AUTH_SOCK"
	};
	size_t	i, j;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		keep_env(fixed[i]);
	for (i = 0; i < conf->n_env_pass; i++) {
		for (j = 0; j < sizeof fixed / sizeof fixed[0]; j++) {
			if (strcmp(conf->env_pass[i], fixed[j]) == 0)
				break;
		}
		if (j == sizeof fixed / sizeof fixed[0])
			keep_env(conf->env_pass[i]);
	}
}

static char *
env_pair(const char *name, const char *value)
{
	size_t	 len = strlen(name) + 1 + strlen(value) + 1;
	char	*s = xmalloc(len);

	snprintf(s, len, "%s=%s", name, value);
	return (s);
}

void
lane_args_build(struct lane_args *la, const struct config *conf,
    const char *handle, const char *orguser, const char *repo,
    const char *github, const char *task)
{
	char	max[16];
	int	i;

	memset(la, 0, sizeof *la);
	snprintf(max, sizeof max, "%u", conf->max_iterations);
	la->argv[la->argc++] = xstrdup(conf->command);
	la->argv[la->argc++] = xstrdup(orguser);
	la->argv[la->argc++] = xstrdup(repo);
	/* The seed's argv, byte for byte; the task is refused if it
	 * starts with '-', so it can never be read as an option. */
	if (conf->task_arg)
		la->argv[la->argc++] = xstrdup(task);
	la->argv[la->argc++] = xstrdup("--host");
	la->argv[la->argc++] = xstrdup(conf->ssh_host);
	la->argv[la->argc++] = xstrdup("--max");
	la->argv[la->argc++] = xstrdup(max);
	la->argv[la->argc] = NULL;

	la->envp[la->envc++] = xstrdup(LANE_PATH);
	for (i = 0; i < base_envc; i++)
		la->envp[la->envc++] = xstrdup(base_env[i]);
	la->envp[la->envc++] = env_pair("DISPATCH_HANDLE", handle);
	la->envp[la->envc++] = env_pair("DISPATCH_ORGUSER", orguser);
	la->envp[la->envc++] = env_pair("DISPATCH_REPO", repo);
	la->envp[la->envc++] = env_pair("DISPATCH_GITHUB", github);
	la->envp[la->envc] = NULL;
}

void
lane_args_free(struct lane_args *la)
{
	int	i;

	for (i = 0; i < la->argc; i++)
		free(la->argv[i]);
	for (i = 0; i < la->envc; i++)
		free(la->envp[i]);
	memset(la, 0, sizeof *la);
}

void
lane_argv_template(const struct config *conf, char *buf, size_t len)
{
	snprintf(buf, len, "%s ORGUSER REPO%s --host %s --max %u%s",
	    conf->command, conf->task_arg ? " TASK" : "", conf->ssh_host,
	    conf->max_iterations, conf->task_arg ? "  (stdin: /dev/null)" :
	    "  (stdin: TASK, then EOF)");
}

static int
pipe_pair(int fds[2])
{
	return (pipe2(fds, O_CLOEXEC));
}

int
spawn_lane(const struct config *conf, const struct lane_args *la,
    struct lane_io *io)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	int				 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int				 errp[2] = { -1, -1 }, rv, saved;

	io->pid = -1;
	io->in_fd = io->out_fd = io->err_fd = -1;
	if ((!conf->task_arg && pipe_pair(in) == -1) || pipe_pair(out) == -1 ||
	    pipe_pair(errp) == -1) {
		saved = errno;
		goto fail;
	}

	posix_spawn_file_actions_init(&fa);
	if (conf->task_arg)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    "/dev/null", O_RDONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	/* Every broker descriptor is O_CLOEXEC; this is the second lock. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);

	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* Own session and process group: the timeout kills the group. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	rv = posix_spawn(&io->pid, conf->command, &fa, &attr, la->argv,
	    la->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rv != 0) {
		saved = rv;
		io->pid = -1;
		goto fail;
	}
	if (in[0] != -1)
		close(in[0]);
	close(out[1]);
	close(errp[1]);
	io->in_fd = in[1];
	io->out_fd = out[0];
	io->err_fd = errp[0];
	return (0);
fail:
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (errp[0] != -1) {
		close(errp[0]);
		close(errp[1]);
	}
	errno = saved;
	return (-1);
}
