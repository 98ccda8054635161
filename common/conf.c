/* Configuration from the environment, validated once at start. */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "names.h"
#include "util.h"
#include "validate.h"

/* Used when PATH is unset, and the only PATH a lane ever sees. */
#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

static const char *
home_dir(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;

	if (home != NULL && home[0] == '/')
		return (home);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    pw->pw_dir[0] == '/')
		return (pw->pw_dir);
	return (NULL);
}

int
config_parse_host(const char *s, char *out, size_t outlen)
{
	size_t	len = strlen(s);

	if (len >= outlen || !is_valid_host(s, len))
		return (-1);
	memcpy(out, s, len + 1);
	return (0);
}

int
config_parse_uint(const char *name, const char *s, uint32_t min,
    uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	unsigned long long	 v;
	char			*end, echo[ECHO_BYTES];

	errno = 0;
	if (s[0] < '0' || s[0] > '9' ||
	    (v = strtoull(s, &end, 10), errno != 0) || *end != '\0' ||
	    v < min || v > max) {
		echo_value(echo, sizeof echo, s, strlen(s));
		snprintf(err, errlen, "%s must be an integer from %u to %u, "
		    "not '%s'", name, min, max, echo);
		return (-1);
	}
	*out = (uint32_t)v;
	return (0);
}

int
config_parse_timeout(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	double	 v;
	char	*end, echo[ECHO_BYTES];

	errno = 0;
	v = strtod(s, &end);
	/* strtod takes nan, inf, exponents and hex: plain decimals only. */
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' ||
	    strpbrk(s, "xXnNiIeE") != NULL || !isfinite(v) || v <= 0 ||
	    v > MAX_TIMEOUT_SECONDS) {
		echo_value(echo, sizeof echo, s, strlen(s));
		snprintf(err, errlen, "DISPATCH_TIMEOUT must be a number of "
		    "seconds > 0 and <= %d, not '%s'", MAX_TIMEOUT_SECONDS,
		    echo);
		return (-1);
	}
	*ms = (uint64_t)ceil(v * 1000.0);
	if (*ms == 0)
		*ms = 1;
	return (0);
}

static int
env_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > MAX_ENV_NAME_BYTES || isdigit((unsigned char)s[0]))
		return (0);
	for (i = 0; i < len; i++) {
		if (!isascii((unsigned char)s[i]) ||
		    !(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return (0);
	}
	return (1);
}

int
config_parse_env_pass(const char *s, struct config *c, char *err,
    size_t errlen)
{
	const char	*p = s, *comma;
	char		 echo[ECHO_BYTES];
	size_t		 len, i;

	c->n_env_pass = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		/* An empty name (",A", "A,,B", "A,") names nothing. */
		if (len == 0)
			goto next;
		if (!env_name_ok(p, len)) {
			echo_value(echo, sizeof echo, p, len);
			snprintf(err, errlen, "DISPATCH_ENV_PASS: '%s' is not "
			    "a variable name", echo);
			return (-1);
		}
		/*
		 * The lane's PATH and DISPATCH_* are ours to set, and the
		 * loader's variables would let a config change what runs.
		 */
		if ((len == 4 && strncmp(p, "PATH", 4) == 0) ||
		    strncmp(p, "LD_", 3) == 0 ||
		    strncmp(p, "DISPATCH_", 9) == 0) {
			snprintf(err, errlen, "DISPATCH_ENV_PASS: '%.*s' may "
			    "not be passed to the lane", (int)len, p);
			return (-1);
		}
		for (i = 0; i < c->n_env_pass; i++) {
			if (strlen(c->env_pass[i]) == len &&
			    strncmp(c->env_pass[i], p, len) == 0)
				break;
		}
		if (i < c->n_env_pass)
			goto next;	/* named twice: pass it once */
		if (c->n_env_pass == MAX_ENV_PASS) {
			snprintf(err, errlen, "DISPATCH_ENV_PASS: more than %d "
			    "names", MAX_ENV_PASS);
			return (-1);
		}
		memcpy(c->env_pass[c->n_env_pass], p, len);
		c->env_pass[c->n_env_pass++][len] = '\0';
next:
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return (0);
}

static int
executable_file(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0);
}

int
config_resolve_command(const char *cmd, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char		 cand[PATH_MAX], resolved[PATH_MAX];
	char		 echo[128 * 4 + 4];
	const char	*path, *p, *colon;
	size_t		 len;
	int		 found = 0;

	if (cmd[0] == '\0') {
		snprintf(err, errlen, "DISPATCH_COMMAND must not be empty");
		return (-1);
	}
	if (strchr(cmd, '/') != NULL) {
		if (strlcpy(cand, cmd, sizeof cand) >= sizeof cand)
			goto toolong;
		found = executable_file(cand);
	} else {
		/* Searched once, now; never again at call time. */
		if ((path = getenv("PATH")) == NULL || *path == '\0')
			path = DEFAULT_PATH;
		for (p = path; !found && *p != '\0'; p = colon + 1) {
			colon = strchr(p, ':');
			len = colon != NULL ? (size_t)(colon - p) : strlen(p);
			/* An empty or relative entry means the cwd: skip. */
			if (len > 0 && p[0] == '/' &&
			    snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p,
			    cmd) < (int)sizeof cand)
				found = executable_file(cand);
			if (colon == NULL)
				break;
		}
	}
	if (!found) {
		echo_text(echo, sizeof echo, cmd, strlen(cmd), 128);
		snprintf(err, errlen, "DISPATCH_COMMAND '%s' is not an "
		    "executable file%s", echo, strchr(cmd, '/') == NULL ?
		    " in PATH" : "");
		return (-1);
	}
	if (realpath(cand, resolved) == NULL) {
		echo_text(echo, sizeof echo, cmd, strlen(cmd), 128);
		snprintf(err, errlen, "DISPATCH_COMMAND '%s': %s", echo,
		    strerror(errno));
		return (-1);
	}
	if (strlcpy(out, resolved, outlen) >= outlen)
		goto toolong;
	return (0);
toolong:
	snprintf(err, errlen, "DISPATCH_COMMAND is too long");
	return (-1);
}

static int
default_state_path(char *out, size_t outlen, char *err, size_t errlen)
{
	const char	*xdg = getenv("XDG_STATE_HOME"), *home;
	int		 n;

	/* The XDG spec says a relative value is invalid and ignored. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/dispatch-mcp/audit.jsonl", xdg);
	else if ((home = home_dir()) != NULL)
		n = snprintf(out, outlen,
		    "%s/.local/state/dispatch-mcp/audit.jsonl", home);
	else {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG is unset and there "
		    "is no home directory to put it in");
		return (-1);
	}
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "DISPATCH_AUDIT_LOG: path too long");
		return (-1);
	}
	return (0);
}

/* The audit log's path, as the server would choose it. */
int
config_audit_path(char *out, size_t outlen, char *err, size_t errlen)
{
	const char	*v;

	if ((v = getenv("DISPATCH_AUDIT_LOG")) != NULL && v[0] != '\0') {
		if (strlcpy(out, v, outlen) >= outlen) {
			snprintf(err, errlen, "DISPATCH_AUDIT_LOG: too long");
			return (-1);
		}
		return (0);
	}
	return (default_state_path(out, outlen, err, errlen));
}

/* A decimal of 1 to 19 digits (below 2^63), after which *endp points. */
static int
decimal(const char *s, const char **endp)
{
	size_t	n = strspn(s, "0123456789");

	if (n == 0 || n > 18)
		return (-1);
	*endp = s + n;
	return (0);
}

/*
 * A lane limit, as the kernel's files take it: DISPATCH_LANE_MEMORY_MAX
 * "max" or bytes with a K, M, G or T suffix; DISPATCH_LANE_PIDS_MAX "max"
 * or a count; DISPATCH_LANE_CPU_MAX "QUOTA [PERIOD]" in microseconds,
 * the quota "max" or at least 1000, the period 1000 to 1000000.
 */
int
config_parse_limit(const char *name, const char *s, char *out, size_t outlen,
    char *err, size_t errlen)
{
	const char	*e = s, *p;
	char		 echo[ECHO_BYTES];
	long		 period;
	int		 ok = 0;

	if (strcmp(name, "DISPATCH_LANE_MEMORY_MAX") == 0)
		ok = strcmp(s, "max") == 0 || (decimal(s, &e) == 0 &&
		    (*e == '\0' || (strchr("KMGT", *e) != NULL && *e != '\0' &&
		    e[1] == '\0')));
	else if (strcmp(name, "DISPATCH_LANE_PIDS_MAX") == 0)
		ok = strcmp(s, "max") == 0 || (decimal(s, &e) == 0 &&
		    *e == '\0' && strtol(s, NULL, 10) >= 1);
	else if (strcmp(name, "DISPATCH_LANE_CPU_MAX") == 0) {
		if (strncmp(s, "max", 3) == 0)
			e = s + 3;
		else if (decimal(s, &e) == -1 || strtol(s, NULL, 10) < 1000)
			e = NULL;
		ok = e != NULL && *e == '\0';
		if (e != NULL && *e == ' ') {
			p = e + 1;
			period = strtol(p, NULL, 10);
			ok = decimal(p, &e) == 0 && *e == '\0' &&
			    period >= 1000 && period <= 1000000;
		}
	}
	if (!ok || strlcpy(out, s, outlen) >= outlen) {
		echo_value(echo, sizeof echo, s, strlen(s));
		snprintf(err, errlen, "%s must be %s, not '%s'", name,
		    name[14] == 'M' ? "\"max\" or bytes with an optional K, "
		    "M, G or T" : name[14] == 'P' ? "\"max\" or a count of at "
		    "least 1" : "\"QUOTA [PERIOD]\" in microseconds (quota "
		    "\"max\" or >= 1000, period 1000 to 1000000)", echo);
		return (-1);
	}
	return (0);
}

static int
copy_path(const char *name, const char *v, char *out, size_t outlen,
    char *err, size_t errlen)
{
	if (v[0] == '\0' || strlcpy(out, v, outlen) >= outlen) {
		snprintf(err, errlen, "%s must be a non-empty path shorter "
		    "than %zu bytes", name, outlen);
		return (-1);
	}
	return (0);
}

int
config_load(struct config *c, char *err, size_t errlen)
{
	const char	*v, *home;
	char		 echo[ECHO_BYTES];
	uint32_t	 u;

	memset(c, 0, sizeof *c);

	if ((v = getenv("DISPATCH_REPOS_JSON")) != NULL) {
		if (copy_path("DISPATCH_REPOS_JSON", v, c->repos_path,
		    sizeof c->repos_path, err, errlen) == -1)
			return (-1);
	} else if ((home = home_dir()) == NULL ||
	    snprintf(c->repos_path, sizeof c->repos_path, "%s/.repos.json",
	    home) >= (int)sizeof c->repos_path) {
		snprintf(err, errlen, "DISPATCH_REPOS_JSON is unset and there "
		    "is no home directory for ~/.repos.json");
		return (-1);
	}

	if ((v = getenv("DISPATCH_SSH_HOST")) == NULL)
		v = "localhost";
	if (config_parse_host(v, c->ssh_host, sizeof c->ssh_host) == -1) {
		echo_value(echo, sizeof echo, v, strlen(v));
		snprintf(err, errlen, "DISPATCH_SSH_HOST must be a host name "
		    "or IP address, not '%s'", echo);
		return (-1);
	}

	c->max_iterations = DEFAULT_MAX_ITERATIONS;
	if ((v = getenv("DISPATCH_MAX_ITERATIONS")) != NULL &&
	    config_parse_uint("DISPATCH_MAX_ITERATIONS", v, 1,
	    MAX_ITERATIONS_LIMIT, &c->max_iterations, err, errlen) == -1)
		return (-1);

	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	if ((v = getenv("DISPATCH_TIMEOUT")) != NULL &&
	    config_parse_timeout(v, &c->timeout_ms, err, errlen) == -1)
		return (-1);

	c->max_running = DEFAULT_MAX_RUNNING;
	if ((v = getenv("DISPATCH_MAX_RUNNING")) != NULL &&
	    config_parse_uint("DISPATCH_MAX_RUNNING", v, 1, MAX_RUNNING_LIMIT,
	    &c->max_running, err, errlen) == -1)
		return (-1);

	c->lane_nproc = DEFAULT_LANE_NPROC;
	if ((v = getenv("DISPATCH_LANE_NPROC")) != NULL) {
		struct rlimit	rl;

		if (config_parse_uint("DISPATCH_LANE_NPROC", v, 16,
		    MAX_LANE_NPROC, &c->lane_nproc, err, errlen) == -1)
			return (-1);
		/*
		 * A lane may not raise its hard limit (root may): a value
		 * asked for that cannot be had is refused here, rather than
		 * lowered in silence.  The default is lowered to the limit.
		 */
		if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
		    rl.rlim_max != RLIM_INFINITY &&
		    (rlim_t)c->lane_nproc > rl.rlim_max) {
			snprintf(err, errlen, "DISPATCH_LANE_NPROC %u is above "
			    "the hard RLIMIT_NPROC of %llu this server "
			    "inherited", c->lane_nproc,
			    (unsigned long long)rl.rlim_max);
			return (-1);
		}
	}

	if ((v = getenv("DISPATCH_TASK_ARG")) != NULL) {
		if (config_parse_uint("DISPATCH_TASK_ARG", v, 0, 1, &u, err,
		    errlen) == -1)
			return (-1);
		c->task_arg = (int)u;
	}

	if ((v = getenv("DISPATCH_ENV_PASS")) != NULL &&
	    config_parse_env_pass(v, c, err, errlen) == -1)
		return (-1);

	if ((v = getenv("DISPATCH_AUDIT_LOG")) != NULL) {
		if (copy_path("DISPATCH_AUDIT_LOG", v, c->audit_path,
		    sizeof c->audit_path, err, errlen) == -1)
			return (-1);
	} else if (default_state_path(c->audit_path, sizeof c->audit_path,
	    err, errlen) == -1)
		return (-1);

#ifdef DISPATCH_NO_SANDBOX
	c->sandbox = 0;		/* sanitizer runtimes make calls no filter expects */
#else
	c->sandbox = 1;
#endif
	if ((v = getenv("DISPATCH_SANDBOX")) != NULL) {
		if (strcmp(v, "log") != 0) {
			echo_value(echo, sizeof echo, v, strlen(v));
			snprintf(err, errlen, "DISPATCH_SANDBOX may only be "
			    "\"log\", not '%s'", echo);
			return (-1);
		}
		c->sandbox_log = 1;
	}

	if (geteuid() == 0) {
		struct passwd	*pw;

		v = getenv("DISPATCH_USER");
		if (v == NULL)
			v = "nobody";
		if ((pw = getpwnam(v)) == NULL || pw->pw_uid == 0) {
			echo_value(echo, sizeof echo, v, strlen(v));
			snprintf(err, errlen, "DISPATCH_USER '%s' is not an "
			    "unprivileged user on this system", echo);
			return (-1);
		}
		c->drop = 1;
		c->run_uid = pw->pw_uid;
		c->run_gid = pw->pw_gid;
		strlcpy(c->run_user, v, sizeof c->run_user);
	}

	v = getenv("DISPATCH_SYSLOG_SOCKET");
	if (copy_path("DISPATCH_SYSLOG_SOCKET", v != NULL ? v : "/dev/log",
	    c->syslog_socket, sizeof c->syslog_socket, err, errlen) == -1)
		return (-1);

	if ((v = getenv("DISPATCH_CGROUP")) == NULL || strcmp(v, "auto") == 0)
		c->cgroup_mode = CGROUP_AUTO;
	else if (strcmp(v, "none") == 0)
		c->cgroup_mode = CGROUP_NONE;
	else if (v[0] == '/') {
		if (copy_path("DISPATCH_CGROUP", v, c->cgroup_path,
		    sizeof c->cgroup_path, err, errlen) == -1)
			return (-1);
		c->cgroup_mode = CGROUP_PATH;
	} else {
		echo_value(echo, sizeof echo, v, strlen(v));
		snprintf(err, errlen, "DISPATCH_CGROUP must be \"auto\", "
		    "\"none\" or an absolute path, not '%s'", echo);
		return (-1);
	}
	if (((v = getenv("DISPATCH_LANE_MEMORY_MAX")) != NULL &&
	    config_parse_limit("DISPATCH_LANE_MEMORY_MAX", v, c->mem_max,
	    sizeof c->mem_max, err, errlen) == -1) ||
	    ((v = getenv("DISPATCH_LANE_PIDS_MAX")) != NULL &&
	    config_parse_limit("DISPATCH_LANE_PIDS_MAX", v, c->pids_max,
	    sizeof c->pids_max, err, errlen) == -1) ||
	    ((v = getenv("DISPATCH_LANE_CPU_MAX")) != NULL &&
	    config_parse_limit("DISPATCH_LANE_CPU_MAX", v, c->cpu_max,
	    sizeof c->cpu_max, err, errlen) == -1))
		return (-1);

	v = getenv("DISPATCH_COMMAND");
	if (config_resolve_command(v != NULL ? v : "dotfiles-dispatch",
	    c->command, sizeof c->command, err, errlen) == -1)
		return (-1);
	return (0);
}

/*
 * Whoever can write the lane program, or rename things in its
 * directory, chooses what the broker runs.  Returns 0, or -1 with why.
 */
int
config_check_program(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], *slash, echo[ECHO_PATH_BYTES];
	char		 edir[ECHO_PATH_BYTES];

	echo_path(echo, sizeof echo, path);
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", echo);
		return (-1);
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "%s is world-writable", echo);
		return (-1);
	}
	strlcpy(dir, path, sizeof dir);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	echo_path(edir, sizeof edir, dir);
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", edir, strerror(errno));
		return (-1);
	}
	/* A sticky directory (like /tmp) still lets its owner rename. */
	if ((st.st_mode & S_IWOTH) != 0) {
		snprintf(err, errlen, "%s is in %s, a world-writable "
		    "directory", echo, edir);
		return (-1);
	}
	return (0);
}
