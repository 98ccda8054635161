/*
 * dispatch-lane-slurm: the lane program that runs a dispatch as a Slurm
 * batch job.  Run by dispatch-mcp as PROGRAM ORGUSER REPO --host HOST
 * --max N with the task on stdin, it submits the operator's job script
 * with sbatch(1), named by DISPATCH_HANDLE, with --export=NONE and the
 * DISPATCH_ variables only, the task as the job's stdin (a 0600 file in a
 * 0700 directory of the spool), and partition, account and time limit
 * from its configuration file, never from the caller.  --host is checked
 * and otherwise ignored: the cluster is the one SLURM_CONF names.
 *
 * It follows the job itself with scontrol(1), because sbatch --wait polls
 * slowly and reports 0 for a job that traps SIGTERM and exits 0, and exits
 * with the job's status; its output and error files are copied to ours
 * and removed.  On SIGTERM it cancels the job at once (the server kills
 * the lane 2 s later), escalates to SIGKILL, and waits until Slurm says
 * the job has ended.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/validate.h"
#include "lanes/lane.h"

#define SBATCH_PATH		"/usr/bin/sbatch"
#define SCONTROL_PATH		"/usr/bin/scontrol"
#define SCANCEL_PATH		"/usr/bin/scancel"
#define CONF_DEFAULT		"/etc/dispatch-mcp/lane-slurm.conf"
#define CONF_ENV		"LANE_SLURM_CONF"
#define MAX_CONF_BYTES		65536
#define MAX_CAPTURE		8192	/* of sbatch's and scontrol's output */
/* Consecutive failures to reach slurmctld while the job runs. */
#define DOWN_LIMIT_MS		60000
/* After scancel, how long SIGTERM may take before SIGKILL. */
#define CANCEL_ESCALATE_MS	600
#define CANCEL_WAIT_MS		10000

/* Exit statuses of our own; see dispatch-lane-slurm(8). */
#define EXIT_USAGE		64
#define EXIT_REJECTED		65
#define EXIT_PARTITION		68
#define EXIT_UNAVAILABLE	69
#define EXIT_LOST		70
#define EXIT_OSERR		71
#define EXIT_SPOOL		73
#define EXIT_CONFIG		78
#define EXIT_TIMEOUT		124

struct slurm_conf {
	char	script[PATH_MAX];
	char	partition[MAX_NAME_BYTES + 1];
	char	account[MAX_NAME_BYTES + 1];
	char	time[32];
	char	spool[PATH_MAX];
	char	slurm_conf[PATH_MAX];
};

struct job_state {
	char	state[32];
	int	code;
	int	sig;
};

/* Which JobState= values mean the job is over. */
static const struct {
	const char	*name;
	int		 ended;
} job_states[] = {
	{ "PENDING", 0 }, { "RUNNING", 0 }, { "SUSPENDED", 0 },
	{ "COMPLETING", 0 }, { "CONFIGURING", 0 }, { "REQUEUED", 0 },
	{ "REQUEUE_HOLD", 0 }, { "REQUEUE_FED", 0 }, { "RESIZING", 0 },
	{ "SIGNALING", 0 }, { "STAGE_OUT", 0 }, { "STOPPED", 0 },
	{ "COMPLETED", 1 }, { "FAILED", 1 }, { "CANCELLED", 1 },
	{ "TIMEOUT", 1 }, { "NODE_FAIL", 1 }, { "PREEMPTED", 1 },
	{ "BOOT_FAIL", 1 }, { "DEADLINE", 1 }, { "OUT_OF_MEMORY", 1 },
	{ "REVOKED", 1 }, { "SPECIAL_EXIT", 1 },
};

static struct lane_vec	 env = { { NULL }, 0 };
static char		 jobdir[PATH_MAX];
static char		 jobid[32];
static const char	*handle;

static void
conf_str(char *dst, size_t dstlen, const struct lane_kv *kv, int abs,
    int name)
{
	size_t	i;

	if (kv->vlen == 0 || kv->vlen >= dstlen || (abs && kv->val[0] != '/') ||
	    (name && !is_valid_name(kv->val, kv->vlen)))
		lane_errx(EXIT_CONFIG, "configuration line %d: bad value for "
		    "'%.*s'", kv->lineno, (int)kv->klen, kv->key);
	for (i = 0; i < kv->vlen; i++)
		if ((unsigned char)kv->val[i] <= ' ' || kv->val[i] == 0x7f)
			lane_errx(EXIT_CONFIG, "configuration line %d: '%.*s' "
			    "holds a space or control byte", kv->lineno,
			    (int)kv->klen, kv->key);
	memcpy(dst, kv->val, kv->vlen);
	dst[kv->vlen] = '\0';
}

static void
load_conf(struct slurm_conf *c)
{
	struct lane_kv	 kv;
	struct stat	 st;
	const char	*path;
	char		*text, err[PATH_MAX + 256];
	size_t		 len;

	memset(c, 0, sizeof *c);
	if ((path = getenv(CONF_ENV)) == NULL)
		path = CONF_DEFAULT;
	if (path[0] != '/')
		lane_errx(EXIT_CONFIG, "%s must be an absolute path", CONF_ENV);
	if ((text = lane_read_conf(path, MAX_CONF_BYTES, &len, err,
	    sizeof err)) == NULL)
		lane_errx(EXIT_CONFIG, "%s", err);
	kv.p = text;
	kv.end = text + len;
	kv.lineno = 0;
	while (lane_kv_next(&kv)) {
		if (lane_kv_is(&kv, "script"))
			conf_str(c->script, sizeof c->script, &kv, 1, 0);
		else if (lane_kv_is(&kv, "partition"))
			conf_str(c->partition, sizeof c->partition, &kv, 0, 1);
		else if (lane_kv_is(&kv, "account"))
			conf_str(c->account, sizeof c->account, &kv, 0, 1);
		else if (lane_kv_is(&kv, "time")) {
			conf_str(c->time, sizeof c->time, &kv, 0, 0);
			if (strspn(c->time, "0123456789:-") != strlen(c->time))
				lane_errx(EXIT_CONFIG, "configuration line %d: "
				    "time is minutes or [D-]HH:MM:SS",
				    kv.lineno);
		} else if (lane_kv_is(&kv, "spool"))
			conf_str(c->spool, sizeof c->spool - 64, &kv, 1, 0);
		else if (lane_kv_is(&kv, "slurm-conf"))
			conf_str(c->slurm_conf, sizeof c->slurm_conf, &kv, 1,
			    0);
		else
			lane_errx(EXIT_CONFIG, "%s line %d: unknown keyword "
			    "'%.*s'", path, kv.lineno,
			    (int)(kv.klen > 32 ? 32 : kv.klen), kv.key);
	}
	free(text);
	if (c->script[0] == '\0')
		lane_errx(EXIT_CONFIG, "%s: no script line", path);
	if (stat(c->script, &st) == -1 || !S_ISREG(st.st_mode) ||
	    !lane_trusted(&st))
		lane_errx(EXIT_CONFIG, "job script %s: not a regular file "
		    "owned by root or uid %ld and closed to group and world "
		    "writes",
		    c->script, (long)getuid());
	if (c->spool[0] == '\0') {
		const char *home = getenv("HOME");

		if (home == NULL || home[0] != '/' || strlen(home) > 1024)
			lane_errx(EXIT_CONFIG, "no spool line and no HOME");
		snprintf(c->spool, sizeof c->spool,
		    "%s/.local/state/dispatch-mcp/slurm", home);
	}
}

/* Create the spool's missing directories 0700; it must be ours alone. */
static void
make_spool(const char *spool)
{
	struct stat	 st;
	char		 path[PATH_MAX], *p;

	snprintf(path, sizeof path, "%s", spool);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			lane_errx(EXIT_SPOOL, "mkdir %s: %s", path,
			    strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		lane_errx(EXIT_SPOOL, "mkdir %s: %s", path, strerror(errno));
	/* The task files are read by the job: nobody else may reach them. */
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) != 0)
		lane_errx(EXIT_SPOOL, "spool %s: must be a directory of uid "
		    "%ld with mode 0700", path, (long)getuid());
}

static void
spool_path(char *buf, size_t len, const char *name)
{
	int	n;

	/* The spool's length is bounded at load: this cannot truncate. */
	n = snprintf(buf, len, "%s/%s", jobdir, name);
	if (n < 0 || (size_t)n >= len)
		lane_errx(EXIT_SPOOL, "spool path too long");
}

static void
cleanup(void)
{
	static const char *const files[] = { "task", "out", "err",
	    "sbatch.err", NULL };
	char	path[PATH_MAX];
	size_t	i;

	if (jobdir[0] == '\0')
		return;
	for (i = 0; files[i] != NULL; i++) {
		spool_path(path, sizeof path, files[i]);
		unlink(path);
	}
	if (rmdir(jobdir) == -1 && errno != ENOENT)
		lane_warnx("rmdir %s: %s", jobdir, strerror(errno));
	jobdir[0] = '\0';
}

/*
 * Run a Slurm client with our fixed environment, capture its stdout (and
 * stderr into errbuf), and return its wait status, or -1.  With own_group
 * the client sits in a process group of its own, where the server's kill
 * of the lane's group cannot cut it off.
 */
static int
run(const char *path, struct lane_vec *argv, char *out, size_t outlen,
    char *errbuf, size_t errlen, int own_group)
{
	struct pollfd	 pfd[2];
	char		*bufs[2] = { out, errbuf };
	size_t		 lens[2] = { 0, 0 }, caps[2] = { outlen, errlen };
	int		 po[2], pe[2], status, i, open_fds = 2;
	ssize_t		 n;
	pid_t		 pid;
	char		 sink[512];

	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		lane_errx(EXIT_OSERR, "pipe: %s", strerror(errno));
	pid = lane_spawn(path, argv, &env, -1, po[1], pe[1],
	    own_group ? LANE_SPAWN_PGROUP : 0);
	close(po[1]);
	close(pe[1]);
	if (pid == -1) {
		close(po[0]);
		close(pe[0]);
		return (-1);
	}
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	while (open_fds > 0) {
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (lens[i] + 1 < caps[i])
				n = read(pfd[i].fd, bufs[i] + lens[i],
				    caps[i] - lens[i] - 1);
			else
				n = read(pfd[i].fd, sink, sizeof sink);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			} else if (lens[i] + 1 < caps[i])
				lens[i] += (size_t)n;
		}
	}
	for (i = 0; i < 2; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
		bufs[i][lens[i]] = '\0';
	}
	if (lane_waitpid(pid, &status, NULL) == -1)
		return (-1);
	return (status);
}

/* The first "error:" line of a Slurm client, for a one-line message. */
static const char *
first_error(char *text)
{
	char	*p, *nl;

	if ((p = strstr(text, "error: ")) != NULL)
		p += 7;
	else
		p = text;
	/* Slurm repeats the cause in its last line; the first is enough. */
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	return (p[0] != '\0' ? p : "no message");
}

static int
slurm_down(const char *err)
{
	return (strstr(err, "Unable to contact slurm controller") != NULL ||
	    strstr(err, "Socket timed out") != NULL ||
	    strstr(err, "Connection refused") != NULL ||
	    strstr(err, "Could not establish a configuration source") != NULL);
}

static void
submit(const struct slurm_conf *c, const struct lane_args *a)
{
	struct lane_vec	 argv = { { NULL }, 0 };
	char		 out[MAX_CAPTURE], err[MAX_CAPTURE], path[PATH_MAX];
	size_t		 n;
	int		 status;

	lane_vec_add(&argv, "sbatch");
	lane_vec_add(&argv, "--parsable");
	lane_vec_addf(&argv, "--job-name=%s", handle);
	/* Only these reach the job; the names only, the values are ours. */
	lane_vec_add(&argv, getenv("DISPATCH_GITHUB") != NULL ?
	    "--export=NONE,DISPATCH_HANDLE,DISPATCH_ORGUSER,DISPATCH_REPO,"
	    "DISPATCH_GITHUB" :
	    "--export=NONE,DISPATCH_HANDLE,DISPATCH_ORGUSER,DISPATCH_REPO");
	spool_path(path, sizeof path, "task");
	lane_vec_addf(&argv, "--input=%s", path);
	spool_path(path, sizeof path, "out");
	lane_vec_addf(&argv, "--output=%s", path);
	spool_path(path, sizeof path, "err");
	lane_vec_addf(&argv, "--error=%s", path);
	lane_vec_addf(&argv, "--chdir=%s", jobdir);
	lane_vec_add(&argv, "--open-mode=truncate");
	/* A requeued job would run the unit twice. */
	lane_vec_add(&argv, "--no-requeue");
	if (c->partition[0] != '\0')
		lane_vec_addf(&argv, "--partition=%s", c->partition);
	if (c->account[0] != '\0')
		lane_vec_addf(&argv, "--account=%s", c->account);
	if (c->time[0] != '\0')
		lane_vec_addf(&argv, "--time=%s", c->time);
	lane_vec_add(&argv, c->script);
	lane_vec_add(&argv, a->orguser);
	lane_vec_add(&argv, a->repo);
	lane_vec_add(&argv, "--max");
	lane_vec_add(&argv, a->max_str);

	status = run(SBATCH_PATH, &argv, out, sizeof out, err, sizeof err, 0);
	lane_vec_free(&argv);
	if (status == -1) {
		cleanup();
		lane_errx(EXIT_OSERR, "cannot run %s: %s", SBATCH_PATH,
		    strerror(errno));
	}
	n = strspn(out, "0123456789");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 0 &&
	    n < sizeof jobid && (out[n] == '\0' || out[n] == '\n' ||
	    out[n] == ';')) {
		memcpy(jobid, out, n);
		jobid[n] = '\0';
		return;
	}
	if (lane_signalled) {
		/* sbatch was ended with us; a job may have got through. */
		return;
	}
	cleanup();
	if (slurm_down(err))
		lane_errx(EXIT_UNAVAILABLE, "Slurm is unavailable: %s",
		    first_error(err));
	if (strstr(err, "nvalid partition") != NULL)
		lane_errx(EXIT_PARTITION, "unknown partition '%s': %s",
		    c->partition[0] != '\0' ? c->partition : "(default)",
		    first_error(err));
	lane_errx(EXIT_REJECTED, "submission rejected: %s", first_error(err));
}

/* 0 with *js filled, 1 if Slurm no longer knows the job, -1 if down. */
static int
job_state(struct job_state *js)
{
	struct lane_vec	 argv = { { NULL }, 0 };
	char		 out[MAX_CAPTURE], err[MAX_CAPTURE], *p;
	size_t		 n;
	int		 status;

	lane_vec_add(&argv, "scontrol");
	lane_vec_add(&argv, "-o");
	lane_vec_add(&argv, "show");
	lane_vec_add(&argv, "job");
	lane_vec_add(&argv, jobid);
	status = run(SCONTROL_PATH, &argv, out, sizeof out, err, sizeof err,
	    0);
	lane_vec_free(&argv);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (strstr(err, "Invalid job id") != NULL)
			return (1);
		return (-1);
	}
	memset(js, 0, sizeof *js);
	if ((p = strstr(out, "JobState=")) == NULL ||
	    (p != out && p[-1] != ' '))
		return (-1);
	p += 9;
	n = strcspn(p, " \n");
	if (n >= sizeof js->state)
		n = sizeof js->state - 1;
	memcpy(js->state, p, n);
	js->state[n] = '\0';
	/* " ExitCode=", not "DerivedExitCode=". */
	if ((p = strstr(out, " ExitCode=")) != NULL &&
	    sscanf(p + 10, "%d:%d", &js->code, &js->sig) != 2)
		js->code = js->sig = 0;
	return (0);
}

static int
job_ended(const struct job_state *js)
{
	size_t	i;

	for (i = 0; i < sizeof job_states / sizeof job_states[0]; i++)
		if (strcmp(js->state, job_states[i].name) == 0)
			return (job_states[i].ended);
	return (0);
}

static void
cancel(int kill_it)
{
	struct lane_vec	 argv = { { NULL }, 0 };
	char		 out[512], err[MAX_CAPTURE];

	lane_vec_add(&argv, "scancel");
	if (kill_it) {
		lane_vec_add(&argv, "--signal=KILL");
		lane_vec_add(&argv, "--full");
	}
	if (jobid[0] != '\0')
		lane_vec_add(&argv, jobid);
	else {
		/* sbatch was cut off: its job, if any, bears our handle. */
		lane_vec_addf(&argv, "--name=%s", handle);
		lane_vec_addf(&argv, "--user=%ld", (long)getuid());
	}
	if (run(SCANCEL_PATH, &argv, out, sizeof out, err, sizeof err, 1) == -1)
		lane_warnx("cannot run %s: %s", SCANCEL_PATH, strerror(errno));
	lane_vec_free(&argv);
}

/* The tail the server keeps of a stream, from a job output file. */
static void
copy_tail(const char *name, int to)
{
	struct stat	st;
	char		path[PATH_MAX], buf[16384];
	ssize_t		n;
	int		fd;

	spool_path(path, sizeof path, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)MAX_CAPTURE_BYTES)
		lseek(fd, st.st_size - (off_t)MAX_CAPTURE_BYTES, SEEK_SET);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (lane_write_all(to, buf, (size_t)n) == -1)
			break;
	close(fd);
}

static void __attribute__((noreturn))
finish(const struct job_state *js, int sig)
{
	int	code;

	copy_tail("out", STDOUT_FILENO);
	copy_tail("err", STDERR_FILENO);
	cleanup();
	if (sig != 0) {
		lane_warnx("job %s cancelled on signal %d; JobState=%s",
		    jobid, sig, js->state[0] != '\0' ? js->state : "unknown");
		lane_reraise(sig);
	}
	if (strcmp(js->state, "COMPLETED") == 0)
		exit(js->code);
	/* Whatever else it was, it was no success. */
	if (strcmp(js->state, "TIMEOUT") == 0)
		code = EXIT_TIMEOUT;
	else if (js->sig != 0)
		code = 128 + js->sig;
	else if (js->code != 0)
		code = js->code;
	else
		code = 1;
	lane_warnx("job %s ended JobState=%s ExitCode=%d:%d", jobid, js->state,
	    js->code, js->sig);
	exit(code);
}

/* The server ended us: cancel now, make sure, and wait for the end. */
static void __attribute__((noreturn))
cancel_job(int sig)
{
	struct job_state	js;
	uint64_t		start = lane_mono_ms();
	int			escalated = 0, r;

	memset(&js, 0, sizeof js);
	cancel(0);
	if (jobid[0] == '\0') {
		cleanup();
		lane_reraise(sig);
	}
	while (lane_mono_ms() - start < CANCEL_WAIT_MS) {
		r = job_state(&js);
		if (r == 1 || (r == 0 && job_ended(&js)))
			break;
		if (!escalated &&
		    lane_mono_ms() - start >= CANCEL_ESCALATE_MS) {
			cancel(1);
			escalated = 1;
		}
		lane_sleep_ms(50);
	}
	finish(&js, sig);
}

static int
poll_interval(uint64_t elapsed)
{
	if (elapsed < 3000)
		return (100);
	if (elapsed < 30000)
		return (250);
	return (1000);
}

int
main(int argc, char *argv[])
{
	struct lane_args	 a;
	struct slurm_conf	 c;
	struct job_state	 js;
	const char		*gh;
	char			 err[512], path[PATH_MAX], *task;
	uint64_t		 start, down_since = 0;
	ssize_t			 tasklen;
	int			 fd, r;

	lane_init("dispatch-lane-slurm");
	umask(077);
	if (lane_parse_args(argc, argv, &a, err, sizeof err) != 0)
		lane_errx(EXIT_USAGE, "%s", err);
	handle = getenv("DISPATCH_HANDLE");
	if (handle == NULL || check_handle(handle, strlen(handle)) == -1)
		lane_errx(EXIT_USAGE, "DISPATCH_HANDLE must be a dispatch "
		    "handle (dsp- and 32 hex digits)");
	gh = getenv("DISPATCH_GITHUB");
	if (gh != NULL && check_github(gh, strlen(gh)) == -1)
		lane_errx(EXIT_USAGE, "DISPATCH_GITHUB must be owner/name");
	load_conf(&c);

	lane_vec_add(&env, LANE_PATH_ENV);
	lane_env_keep(&env, "HOME");
	lane_env_keep(&env, "USER");
	lane_env_keep(&env, "LOGNAME");
	lane_env_keep(&env, "LANG");
	if (c.slurm_conf[0] != '\0')
		lane_vec_addf(&env, "SLURM_CONF=%s", c.slurm_conf);
	else
		lane_env_keep(&env, "SLURM_CONF");
	lane_vec_addf(&env, "DISPATCH_HANDLE=%s", handle);
	lane_vec_addf(&env, "DISPATCH_ORGUSER=%s", a.orguser);
	lane_vec_addf(&env, "DISPATCH_REPO=%s", a.repo);
	if (gh != NULL)
		lane_vec_addf(&env, "DISPATCH_GITHUB=%s", gh);

	if ((task = malloc(MAX_TASK_BYTES)) == NULL)
		lane_errx(EXIT_OSERR, "out of memory");
	if ((tasklen = lane_read_all(STDIN_FILENO, task, MAX_TASK_BYTES)) == -1)
		lane_errx(EXIT_USAGE, "cannot read the task from stdin, or it "
		    "is longer than %u bytes", (unsigned)MAX_TASK_BYTES);

	/* From here on a signal must not leave a job or files behind. */
	lane_catch_signals();
	make_spool(c.spool);
	r = snprintf(jobdir, sizeof jobdir, "%s/%s", c.spool, handle);
	if (r < 0 || (size_t)r >= sizeof jobdir - 16) {
		jobdir[0] = '\0';
		lane_errx(EXIT_SPOOL, "spool path too long");
	}
	if (mkdir(jobdir, 0700) == -1) {
		r = errno;
		jobdir[0] = '\0';
		lane_errx(EXIT_SPOOL, "mkdir %s/%s: %s", c.spool, handle,
		    strerror(r));
	}
	spool_path(path, sizeof path, "task");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 ||
	    lane_write_all(fd, task, (size_t)tasklen) == -1 ||
	    close(fd) == -1) {
		r = errno;
		cleanup();
		lane_errx(EXIT_SPOOL, "%s: %s", path, strerror(r));
	}
	free(task);

	/* Nothing is submitted once the server has asked us to end. */
	if (lane_signalled) {
		cleanup();
		lane_reraise(lane_signalled);
	}
	submit(&c, &a);
	if (lane_signalled)
		cancel_job(lane_signalled);

	start = lane_mono_ms();
	for (;;) {
		r = job_state(&js);
		if (lane_signalled)
			cancel_job(lane_signalled);
		if (r == 0 && job_ended(&js))
			finish(&js, 0);
		if (r == 1) {
			cleanup();
			lane_errx(EXIT_LOST, "job %s: Slurm no longer knows it "
			    "and it was not seen to end (MinJobAge too short?)",
			    jobid);
		}
		if (r == -1) {
			if (down_since == 0)
				down_since = lane_mono_ms();
			else if (lane_mono_ms() - down_since > DOWN_LIMIT_MS) {
				cancel(0);
				cleanup();
				lane_errx(EXIT_UNAVAILABLE, "job %s: Slurm "
				    "unreachable for %d s; cancel requested",
				    jobid, DOWN_LIMIT_MS / 1000);
			}
		} else
			down_since = 0;
		/* A signal cuts the sleep short. */
		lane_sleep_ms(poll_interval(lane_mono_ms() - start));
		if (lane_signalled)
			cancel_job(lane_signalled);
	}
}
