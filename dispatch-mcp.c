/*
 * dispatch-mcp: a privilege-separated MCP server that dispatches work to
 * allowlisted org-user/repo lanes.  main() reads the configuration, opens
 * the audit log, and splits into three: the broker (this process: policy,
 * audit, lanes), the frontend (a child that speaks MCP) and the spawner
 * (a child of the broker, the only process that executes anything).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/allowlist.h"
#include "broker/audit.h"
#include "broker/broker.h"
#include "broker/cgroup.h"
#include "broker/dispatch.h"
#include "broker/history.h"
#include "broker/kmsg.h"
#include "common/conf.h"
#include "common/ipc.h"
#include "common/lanecmd.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/util.h"
#include "common/validate.h"
#include "frontend/frontend.h"
#include "spawner/spawner.h"

/* The frontend's channel to the broker is always this descriptor. */
#define FRONTEND_CHAN_FD	3

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dispatch-mcp [-v] [-t | --check-config] [--print-sandbox]\n"
	    "                    [-V | --version] [-h | --help]\n"
	    "\n"
	    "Serve MCP on stdin/stdout, dispatching work to the allowlisted\n"
	    "org-user/repo lanes in $DISPATCH_REPOS_JSON.  See dispatch-mcp(8).\n"
	    "dispatch-mcp-audit(8) checks and prints the audit log.\n"
	    "\n"
	    "  --check-config  validate the environment and allowlist, print\n"
	    "                  the targets and the lane argv, and exit\n"
	    "  --print-sandbox print each process's seccomp filter, Landlock\n"
	    "                  rules, limits and identity, and exit\n"
	    "  --version       print the version and exit\n"
	    "  -v, --verbose   log debugging detail to stderr\n");
}

/*
 * The argv the spawner would build, with placeholders for the caller's
 * values: the same builder and the same policy, so what is printed is
 * what runs.
 */
static void
print_lane_argv(const struct lane_policy *p)
{
	static struct lane_cmd	cmd;
	static char		echo[ECHO_PATH_BYTES];
	struct spawn_order	o;
	int			i;

	memset(&o, 0, sizeof o);
	strlcpy(o.handle, "HANDLE", sizeof o.handle);
	strlcpy(o.orguser, "ORGUSER", sizeof o.orguser);
	strlcpy(o.repo, "REPO", sizeof o.repo);
	strlcpy(o.github, "GITHUB", sizeof o.github);
	o.task = p->task_arg ? "TASK" : "";
	o.task_len = strlen(o.task);
	lane_cmd_build(&cmd, p, &o);
	printf("lane argv:     ");
	for (i = 0; cmd.argv[i] != NULL; i++) {
		echo_path(echo, sizeof echo, cmd.argv[i]);
		printf(" %s", echo);
	}
	printf("  (stdin: %s)\n", p->task_arg ? "/dev/null" :
	    "TASK, then EOF");
}

/*
 * A target: where it dispatches, and what the shipped lanes make of it
 * (they are known by name; any other program is shown by its argv).
 */
static void
print_target(const struct lane_policy *p, const struct target *t)
{
	const char	*host = t->host[0] != '\0' ? t->host : p->host;
	const char	*base = strrchr(p->program, '/');

	base = base != NULL ? base + 1 : p->program;
	printf("target:         %s/%s -> %s, host %s%s\n", t->org, t->repo,
	    t->github, host, t->host[0] != '\0' ? "" : " (DISPATCH_SSH_HOST)");
	if (strcmp(base, "dispatch-lane-ssh") == 0)
		printf("  over ssh:     %s@%s, remote command \"dispatch %s "
		    "--max %u\", the task on stdin\n", t->org, host, t->repo,
		    p->max_iterations);
	else if (strcmp(base, "dispatch-lane-slurm") == 0)
		printf("  on Slurm:     sbatch --job-name=HANDLE, the partition, "
		    "account, time and script of lane-slurm.conf (--host %s "
		    "is not used)\n", host);
}

/* The names of the variables a lane gets, from the spawner's policy. */
static void
print_lane_env(const struct lane_policy *p)
{
	int	i;

	printf("lane env:       PATH");
	for (i = 0; i < p->nenv; i++)
		printf(" %.*s", (int)strcspn(p->env[i], "="), p->env[i]);
	printf(" DISPATCH_HANDLE DISPATCH_ORGUSER DISPATCH_REPO "
	    "DISPATCH_GITHUB\n");
}

/* Where lanes are contained, as the server would start with it. */
static void
print_cgroup(int cg, const char *why)
{
	static char	echo[ECHO_PATH_BYTES];

	if (cg == 1) {
		echo_path(echo, sizeof echo, cg_parent());
		printf("cgroup:         %s (a cgroup per lane)\n", echo);
		printf("controllers:    %s\n", cg_controllers()[0] != '\0' ?
		    cg_controllers() : "none");
	} else if (why[0] != '\0')
		printf("cgroup:         none: %s\n", why);
	else
		printf("cgroup:         none (DISPATCH_CGROUP=none): lanes are "
		    "contained by process group only\n");
}

static int
check_config(const struct config *conf, const struct lane_policy *policy,
    int cg, const char *cgwhy)
{
	static char		echo[ECHO_PATH_BYTES];
	struct allowlist	al;
	struct stat		st;
	char			err[MAX_REASON_BYTES];
	size_t			i;
	int			rc = 0;

	/* Paths come from the environment: escaped, as in every message. */
	echo_path(echo, sizeof echo, conf->command);
	printf("lane program:   %s\n", echo);
	if (config_check_program(conf->command, err, sizeof err) == -1) {
		printf("WARNING:        %s: anyone may change what runs\n",
		    err);
		rc = 1;
	}
	print_lane_argv(policy);
	printf("ssh host:       %s\n", conf->ssh_host);
	printf("max iterations: %u\n", conf->max_iterations);
	printf("timeout:        %llu.%03llu s\n",
	    (unsigned long long)(conf->timeout_ms / 1000),
	    (unsigned long long)(conf->timeout_ms % 1000));
	printf("max running:    %u\n", conf->max_running);
	printf("lane nproc:     %llu (RLIMIT_NPROC%s%s)\n",
	    (unsigned long long)policy->nproc,
	    getuid() == 0 ? "; not enforced for root" : "",
	    policy->nproc < conf->lane_nproc ? "; lowered to the inherited "
	    "hard limit" : "");
	echo_path(echo, sizeof echo, conf->audit_path);
	printf("audit log:      %s\n", echo);
	/* What the server would refuse to start with. */
	if (stat(conf->audit_path, &st) == 0 && !S_ISREG(st.st_mode)) {
		printf("WARNING:        the audit log is not a regular file "
		    "but %s; the server will not start\n",
		    file_kind(st.st_mode));
		rc = 1;
	}
	print_lane_env(policy);
	print_cgroup(cg, cgwhy);
	if (conf->drop)
		printf("frontend user:  %s (uid %u), chrooted\n",
		    conf->run_user, (unsigned)conf->run_uid);
	echo_path(echo, sizeof echo, conf->repos_path);
	printf("allowlist:      %s\n", echo);
	fflush(stdout);
	if (allowlist_load(conf->repos_path, &al, err, sizeof err) == -1) {
		fprintf(stderr, "dispatch-mcp: %s\n", err);
		return (1);
	}
	if (al.ntargets == 0) {
		printf("targets:        none (every dispatch will be refused)\n");
	}
	for (i = 0; i < al.ntargets; i++)
		print_target(policy, &al.targets[i]);
	allowlist_free(&al);
	return (rc);
}

/*
 * A lane a dead server left in its cgroup, now killed: its dispatch is
 * closed with an exit record, so none stays open in the log.
 */
static void
orphan_exit(const char *handle, const struct cg_usage *u)
{
	static struct dispatch	d;
	static char		detail[] = "lane orphaned: its server died, and "
	    "what was left of it was killed when the next server started";

	struct dview		v;
	char			*det, err[256];

	/*
	 * Killed after its exit record and before its cgroup was removed,
	 * or left with a cgroup a lane made inside its own: closed already.
	 */
	if (history_view(handle, 0, &v, &det, err, sizeof err) == 1 &&
	    v.status != DS_RUNNING && v.status != DS_LOST) {
		free(det);
		log_warnx("lane %s was left by a server that is gone: killed; "
		    "its dispatch was closed already", handle);
		return;
	}
	free(det);
	memset(&d, 0, sizeof d);
	strlcpy(d.handle, handle, sizeof d.handle);
	d.finished_ms = now_ms();
	d.detail = detail;
	d.detail_len = sizeof detail - 1;
	d.status = DS_FAILED;
	d.lane.why = END_ORPHANED;
	d.lane.usage = *u;
	if (audit_exit(&d) == -1)
		log_warn("audit: cannot record the exit of orphan %s", handle);
	else
		log_warnx("lane %s was left by a server that is gone: killed, "
		    "its dispatch closed as orphaned", handle);
}

/* Descriptors 0-2 must exist, or the socket could land on stdout. */
static void
sane_stdio(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static void __attribute__((noreturn))
become_frontend(const struct config *conf, int fd)
{
	if (fd != FRONTEND_CHAN_FD) {
		if (dup2(fd, FRONTEND_CHAN_FD) == -1)
			fatal("become_frontend: dup2");
		close(fd);
	}
	/* The audit log and anything else inherited: gone. */
	if (syscall(SYS_close_range, FRONTEND_CHAN_FD + 1, ~0U, 0) == -1)
		fatal("become_frontend: close_range");
	frontend_main(FRONTEND_CHAN_FD, conf);
}

/*
 * The broker's process: quiet stdio, the lane layer of the sandbox, then
 * the spawner forked under it (it and every lane keep only that layer),
 * then the broker proper, which locks itself down further.
 */
static void __attribute__((noreturn))
become_broker(const struct config *conf, const struct lane_policy *policy,
    const struct sandbox_paths *sp, int fd, pid_t child)
{
	struct broker_start	bs;
	struct rlimit		rl;
	int			null;

	log_init("broker", log_verbose());
	/* Only the frontend speaks on stdio; the broker keeps stderr. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("become_broker: /dev/null");
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1)
		fatal("become_broker: dup2");
	close(null);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* An audit log past RLIMIT_FSIZE must fail the write, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	/* A thousand lanes hold three descriptors each. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (conf->sandbox)
		sandbox_lane_layer(sp);
	memset(&bs, 0, sizeof bs);
	bs.conf = conf;
	bs.policy = policy;
	bs.paths = sp;
	bs.frontend_fd = fd;
	bs.frontend_pid = child;
	bs.spawner_pid = spawner_start(policy, &bs.spawner_fd);
	broker_main(&bs);
}

int
main(int argc, char *argv[])
{
	static struct config	conf;
	static struct lane_policy policy;
	struct sandbox_paths	sp;
	char			err[MAX_REASON_BYTES], cgwhy[MAX_REASON_BYTES];
	char			cgdir[PATH_MAX];
	int			i, check = 0, verbose = 0, print_sb = 0, sv[2];
	int			cg;
	pid_t			pid;

	/*
	 * The audit reader was once "dispatch-mcp audit"; say where it went
	 * rather than run it, so the server holds no parser of the log and
	 * broker/ stays the only place that execs.
	 */
	if (argc >= 2 && strcmp(argv[1], "audit") == 0) {
		fprintf(stderr, "dispatch-mcp: audit: now a program of its "
		    "own: run dispatch-mcp-audit verify|show, see "
		    "dispatch-mcp-audit(8)\n");
		return (1);
	}

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0) {
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return (0);
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (0);
		} else if (strcmp(argv[i], "--check-config") == 0 ||
		    strcmp(argv[i], "-t") == 0)
			check = 1;
		else if (strcmp(argv[i], "--print-sandbox") == 0)
			print_sb = 1;
		else if (strcmp(argv[i], "--verbose") == 0 ||
		    strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else {
			echo_value(err, sizeof err, argv[i], strlen(argv[i]));
			fprintf(stderr, "dispatch-mcp: unknown option '%s'\n",
			    err);
			usage(stderr);
			return (1);
		}
	}
	log_init("main", verbose);
	sane_stdio();

	if (config_load(&conf, err, sizeof err) == -1) {
		fprintf(stderr, "dispatch-mcp: %s\n", err);
		return (1);
	}
	sandbox_set_log(conf.sandbox_log);
	lane_policy_init(&policy, &conf);
	if (conf.sandbox &&
	    (policy.tail_len = sandbox_lane_tail(policy.tail,
	    sizeof policy.tail)) == 0)
		fatalx("main: the lane's own filter does not fit");
	sp.lane_program = conf.command;
	sp.allowlist = conf.repos_path;
	sp.audit = conf.audit_path;
	sp.cgroup_parent = sp.cgroup_dir = NULL;
	/* A limit that cannot be enforced, or a path that is no cgroup. */
	if ((cg = cg_setup(&conf, check || print_sb, cgwhy,
	    sizeof cgwhy)) == -1) {
		fprintf(stderr, "dispatch-mcp: %s\n", cgwhy);
		return (1);
	}
	if (cg == 1) {
		sp.cgroup_parent = cg_parent();
		snprintf(cgdir, sizeof cgdir, "%s/dispatch-LOG-PID-RANDOM",
		    cg_parent());
		sp.cgroup_dir = cgdir;
	}
	if (check)
		return (check_config(&conf, &policy, cg, cgwhy));
	if (print_sb) {
		if (!conf.sandbox)
			printf("sandbox: NOT APPLIED in this build (sanitizers "
			    "are enabled)\n");
		sandbox_print(stdout, &sp, conf.run_uid, conf.run_gid,
		    conf.drop);
		return (0);
	}

	if (audit_open(conf.audit_path, conf.syslog_socket, err,
	    sizeof err) == -1) {
		fprintf(stderr, "dispatch-mcp: %s\n", err);
		return (1);
	}
	/* The file a symbolic link led to at start is the one we write. */
	sp.audit = audit_file();
	if (cg == 1) {
		/* Close what a dead server left, then take our own. */
		cg_recover(sp.audit, orphan_exit);
		switch (cg_start(err, sizeof err)) {
		case -1:
			fprintf(stderr, "dispatch-mcp: %s\n", err);
			return (1);
		case 0:
			sp.cgroup_dir = cg_dir();
			policy.cgroup = 1;
			break;
		default:
			sp.cgroup_parent = NULL;
			log_warnx("%s", err);
			break;
		}
	} else if (cgwhy[0] != '\0')
		log_warnx("%s", cgwhy);
	if (config_check_program(conf.command, err, sizeof err) == -1)
		log_warnx("DISPATCH_COMMAND: %s; anyone may change what runs",
		    err);
	if (conf.sandbox_log)
		log_warnx("DISPATCH_SANDBOX=log: sandbox violations are only "
		    "LOGGED, not stopped; never run like this in production");
	else if (!conf.sandbox)
		log_warnx("this build applies no sandbox (sanitizers are "
		    "enabled); it is for testing only");
	/* Before the fork: a frontend killed at once is still named. */
	if (conf.sandbox && !conf.sandbox_log)
		kmsg_open();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("main: socketpair");
	ipc_setbuf(sv[0]);
	ipc_setbuf(sv[1]);

	switch (pid = fork()) {
	case -1:
		fatal("main: fork");
	case 0:
		close(sv[0]);
		become_frontend(&conf, sv[1]);
		break;
	default:
		close(sv[1]);
		become_broker(&conf, &policy, &sp, sv[0], pid);
	}
	return (1);
}
