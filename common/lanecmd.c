/*
 * The lane's argv and environment, from the policy and one order.  The
 * argv is fixed by configuration; the caller's values only ever fill
 * argument slots, never choose the program.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanecmd.h"
#include "log.h"
#include "util.h"

#define LANE_PATH	"PATH=/usr/local/bin:/usr/bin:/bin"

static void
keep_env(struct lane_policy *p, const char *name)
{
	const char	*v;
	size_t		 len;
	int		 i;

	if ((v = getenv(name)) == NULL)
		return;
	if (strlen(v) > MAX_ENV_VALUE_BYTES) {
		log_warnx("not passing %s to lanes: longer than %d bytes",
		    name, MAX_ENV_VALUE_BYTES);
		return;
	}
	len = strlen(name);
	for (i = 0; i < p->nenv; i++) {
		if (strncmp(p->env[i], name, len) == 0 && p->env[i][len] == '=')
			return;
	}
	len += 1 + strlen(v) + 1;
	p->env[p->nenv] = xmalloc(len);
	snprintf(p->env[p->nenv++], len, "%s=%s", name, v);
}

void
lane_policy_init(struct lane_policy *p, const struct config *conf)
{
	static const char *fixed[] = {
		"HOME", "USER", "LOGNAME", "LANG", "SSH_AUTH_SOCK"
	};
	struct rlimit	rl;
	size_t		i;

	memset(p, 0, sizeof *p);
	strlcpy(p->program, conf->command, sizeof p->program);
	strlcpy(p->host, conf->ssh_host, sizeof p->host);
	p->max_iterations = conf->max_iterations;
	p->task_arg = conf->task_arg;
	p->nproc = conf->lane_nproc;
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < p->nproc)
		p->nproc = rl.rlim_max;
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		keep_env(p, fixed[i]);
	for (i = 0; i < conf->n_env_pass; i++)
		keep_env(p, conf->env_pass[i]);
}

/* A copy in the command's buffer, which is sized for the largest order. */
static char *
put(struct lane_cmd *c, const char *name, const char *s, size_t len)
{
	size_t	 nlen = name != NULL ? strlen(name) + 1 : 0;
	char	*p = c->buf + c->used;

	if (nlen + len + 1 > sizeof c->buf - c->used)
		fatalx("lane_cmd_build: %zu bytes do not fit", nlen + len);
	if (name != NULL)
		snprintf(p, nlen + 1, "%s=", name);
	memcpy(p + nlen, s, len);
	p[nlen + len] = '\0';
	c->used += nlen + len + 1;
	return (p);
}

#define PUTS(c, s)		put((c), NULL, (s), strlen(s))
#define PUTENV(c, n, s)		put((c), (n), (s), strlen(s))

void
lane_cmd_build(struct lane_cmd *c, const struct lane_policy *p,
    const struct spawn_order *o)
{
	char	max[16];
	int	ac = 0, ec = 0, i;

	c->used = 0;
	snprintf(max, sizeof max, "%u", p->max_iterations);
	c->argv[ac++] = PUTS(c, p->program);
	c->argv[ac++] = PUTS(c, o->orguser);
	c->argv[ac++] = PUTS(c, o->repo);
	/* DISPATCH_TASK_ARG=1: the task after the repo; one starting
	 * with '-' is refused before this, so it is never an option. */
	if (p->task_arg)
		c->argv[ac++] = put(c, NULL, o->task, o->task_len);
	c->argv[ac++] = PUTS(c, "--host");
	c->argv[ac++] = PUTS(c, o->host[0] != '\0' ? o->host : p->host);
	c->argv[ac++] = PUTS(c, "--max");
	c->argv[ac++] = PUTS(c, max);
	c->argv[ac] = NULL;

	c->envp[ec++] = PUTS(c, LANE_PATH);
	for (i = 0; i < p->nenv; i++)
		c->envp[ec++] = p->env[i];
	c->envp[ec++] = PUTENV(c, "DISPATCH_HANDLE", o->handle);
	c->envp[ec++] = PUTENV(c, "DISPATCH_ORGUSER", o->orguser);
	c->envp[ec++] = PUTENV(c, "DISPATCH_REPO", o->repo);
	c->envp[ec++] = PUTENV(c, "DISPATCH_GITHUB", o->github);
	c->envp[ec] = NULL;
}
