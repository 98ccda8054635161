/*
 * cgroup v2 containment of lanes.  main() finds or checks the parent,
 * closes what a dead server left, and makes this server's directory; the
 * broker then creates, signals, kills, measures and removes each lane's
 * cgroup through descriptors and names beneath that directory (Landlock
 * allows it nothing else of the hierarchy).  The spawner clones each lane
 * into its cgroup (clone3 CLONE_INTO_CGROUP, through the directory's
 * descriptor the broker sends): it is born there and cannot fork outside.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/cgroup.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "common/validate.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* How long a dead server's lane may take to die once killed. */
#define ORPHAN_WAIT_MS	5000
/* Processes signalled one by one per round; the rest get cgroup.kill. */
#define SIGNAL_BATCH	512

static struct {
	int			 on;
	const struct config	*conf;
	char			 parent[PATH_MAX];
	char			 dir[PATH_MAX];		/* this server's */
	int			 fd;			/* dir, flock(2)ed */
	char			 avail[128];		/* parent's controllers */
	char			 ctl[64];		/* enabled for lanes */
	char			 tag[17];		/* of the audit log */
} tree = { .fd = -1 };

/* Each limit, its controller and its file; the value is in the config. */
static const struct limit {
	const char	*var;
	const char	*ctl;
	const char	*file;
	size_t		 off;
} limits[] = {
	{ "DISPATCH_LANE_MEMORY_MAX", "memory", "memory.max",
	    offsetof(struct config, mem_max) },
	{ "DISPATCH_LANE_PIDS_MAX", "pids", "pids.max",
	    offsetof(struct config, pids_max) },
	{ "DISPATCH_LANE_CPU_MAX", "cpu", "cpu.max",
	    offsetof(struct config, cpu_max) },
};
#define NLIMITS	(sizeof limits / sizeof limits[0])

static const char *
limit_value(const struct limit *lm)
{
	return ((const char *)tree.conf + lm->off);
}

/* Read a small file beneath dfd, NUL-terminated; -1 on error. */
static ssize_t
read_at(int dfd, const char *name, char *buf, size_t len)
{
	ssize_t	n, got = 0;
	int	fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return (got);
}

static int
write_at(int dfd, const char *name, const char *s)
{
	ssize_t	n;
	int	fd, saved;

	if ((fd = openat(dfd, name, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, s, strlen(s));
	saved = errno;
	close(fd);
	errno = saved;
	return (n == (ssize_t)strlen(s) ? 0 : -1);
}

/* The number after "key " in a flat-keyed file such as cpu.stat. */
static int
keyed(const char *buf, const char *key, uint64_t *v)
{
	const char	*p = buf;
	size_t		 len = strlen(key);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p += p != NULL) {
		if (strncmp(p, key, len) == 0 && p[len] == ' ') {
			*v = strtoull(p + len + 1, NULL, 10);
			return (0);
		}
	}
	return (-1);
}

static int
has_word(const char *list, const char *w)
{
	size_t		 len = strlen(w);
	const char	*p;

	for (p = list; (p = strstr(p, w)) != NULL; p += len) {
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

static int
is_cgroup2_dir(const char *path)
{
	struct statfs	sf;
	struct stat	st;

	return (statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC &&
	    stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/*
 * Our own cgroup in the v2 hierarchy: its mount point (from mountinfo,
 * /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid
 * ones) and our path from /proc/self/cgroup.  *rootp says whether it is
 * the hierarchy's root.
 */
static int
discover(char *out, size_t outlen, int *rootp)
{
	char	 line[4096], mnt[PATH_MAX] = "", *f[10], *p, *save;
	FILE	*fp;
	int	 n;

	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (-1);
	while (mnt[0] == '\0' && fgets(line, sizeof line, fp) != NULL) {
		n = 0;
		for (p = strtok_r(line, " \n", &save); p != NULL && n < 10;
		    p = strtok_r(NULL, " \n", &save))
			f[n++] = p;
		/* id parent dev root mountpoint options [tags] - fstype */
		while (n > 6 && strcmp(f[6], "-") != 0) {
			memmove(&f[6], &f[7], (size_t)(n - 7) * sizeof f[0]);
			n--;
		}
		if (n > 7 && strcmp(f[7], "cgroup2") == 0 &&
		    strcmp(f[3], "/") == 0 && strchr(f[4], '\\') == NULL)
			strlcpy(mnt, f[4], sizeof mnt);
	}
	fclose(fp);
	if (mnt[0] == '\0' || (fp = fopen("/proc/self/cgroup", "re")) == NULL)
		return (-1);
	n = -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*rootp = strcmp(line + 3, "/") == 0;
		if (snprintf(out, outlen, "%s%s", mnt, *rootp ? "" :
		    line + 3) < (int)outlen)
			n = 0;
	}
	fclose(fp);
	return (n);
}

static const char *
first_limit(void)
{
	size_t	i;

	for (i = 0; i < NLIMITS; i++) {
		if (*limit_value(&limits[i]) != '\0')
			return (limits[i].var);
	}
	return (NULL);
}

/* The parent for auto: a writable subtree, or -1 with why in msg. */
static int
auto_parent(int check, char *msg, size_t len)
{
	char	own[PATH_MAX];
	int	root = 0;

	if (discover(own, sizeof own, &root) == -1) {
		snprintf(msg, len, "no cgroup v2 hierarchy is mounted");
		return (-1);
	}
	/* In the root cgroup (root's own), a subtree of our own. */
	if (root) {
		if (snprintf(tree.parent, sizeof tree.parent,
		    "%s/dispatch-mcp", own) >= (int)sizeof tree.parent) {
			snprintf(msg, len, "%s: path too long", own);
			return (-1);
		}
		if (!check && mkdir(tree.parent, 0755) == -1 &&
		    errno != EEXIST) {
			snprintf(msg, len, "cannot create %s: %s", tree.parent,
			    strerror(errno));
			return (-1);
		}
		if (check && access(tree.parent, F_OK) == -1) {
			if (access(own, W_OK) == 0)
				return (0);
			snprintf(msg, len, "%s is not writable", own);
			return (-1);
		}
	} else
		strlcpy(tree.parent, own, sizeof tree.parent);
	if (!is_cgroup2_dir(tree.parent) || access(tree.parent, W_OK) == -1) {
		snprintf(msg, len, "%s is not a writable cgroup v2 directory",
		    tree.parent);
		return (-1);
	}
	return (0);
}

/* Enable a controller for our lanes; -1 if it cannot be. */
static int
enable(const char *dir, const char *ctl)
{
	char	buf[32];
	int	dfd, rv;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	snprintf(buf, sizeof buf, "+%s", ctl);
	rv = write_at(dfd, "cgroup.subtree_control", buf);
	close(dfd);
	return (rv);
}

/* This server's directory, made and locked; a recoverer may race us. */
static int
make_dir(char *msg, size_t len)
{
	struct stat	a, b;
	uint32_t	r;
	int		tries;

	for (tries = 0; tries < 4; tries++) {
		if (getrandom(&r, sizeof r, 0) != sizeof r)
			r = (uint32_t)mono_ms();
		if (snprintf(tree.dir, sizeof tree.dir, "%s/dispatch-%s-%ld-%08x",
		    tree.parent, tree.tag, (long)getpid(), r) >=
		    (int)sizeof tree.dir ||
		    mkdir(tree.dir, 0755) == -1 ||
		    (tree.fd = open(tree.dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			snprintf(msg, len, "cannot create a cgroup in %s: %s",
			    tree.parent, strerror(errno));
			return (-1);
		}
		/* Held until we exit: the proof that these lanes are live. */
		if (flock(tree.fd, LOCK_EX) == 0 && fstat(tree.fd, &a) == 0 &&
		    stat(tree.dir, &b) == 0 && a.st_ino == b.st_ino)
			return (0);
		close(tree.fd);
		tree.fd = -1;
	}
	snprintf(msg, len, "cannot hold a cgroup in %s", tree.parent);
	return (-1);
}

/*
 * A cgroup without cgroup.kill is on a kernel before Linux 5.14, which
 * can neither kill a cgroup whole nor, before 5.7, clone into one: such
 * a lane could never be ended.  (A root cgroup has neither file.)
 */
static int
kernel_lacks_kill(const char *dir)
{
	char	path[PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/cgroup.events", dir);
	if (access(path, F_OK) == -1)
		return (0);
	snprintf(path, sizeof path, "%s/cgroup.kill", dir);
	return (access(path, F_OK) == -1);
}

#define NO_KILL	"this kernel has no cgroup.kill (Linux 5.14 or later)"

static void
add_ctl(const char *ctl)
{
	size_t	n = strlen(tree.ctl);

	snprintf(tree.ctl + n, sizeof tree.ctl - n, "%s%s", n > 0 ? " " : "",
	    ctl);
}

int
cg_setup(const struct config *conf, int check, char *msg, size_t len)
{
	static const char *const peaks[] = { "memory", "pids", NULL };
	const char	*lim;
	char		 why[PATH_MAX + 128];
	size_t		 i;

	tree.conf = conf;
	msg[0] = '\0';
	lim = first_limit();
	if (conf->cgroup_mode == CGROUP_NONE) {
		if (lim != NULL) {
			snprintf(msg, len, "%s is set, but DISPATCH_CGROUP=none "
			    "cannot enforce it", lim);
			return (-1);
		}
		return (0);
	}
	if (conf->cgroup_mode == CGROUP_PATH) {
		strlcpy(tree.parent, conf->cgroup_path, sizeof tree.parent);
		if (!is_cgroup2_dir(tree.parent) ||
		    access(tree.parent, W_OK) == -1) {
			echo_path(why, sizeof why, tree.parent);
			snprintf(msg, len, "DISPATCH_CGROUP %s is not a writable "
			    "cgroup v2 directory", why);
			return (-1);
		}
	} else if (auto_parent(check, why, sizeof why) == -1) {
		if (lim != NULL) {
			snprintf(msg, len, "%s is set, but no cgroup can enforce "
			    "it: %s", lim, why);
			return (-1);
		}
		snprintf(msg, len, "no writable cgroup (%s): lanes get process "
		    "groups only, which a setsid() descendant escapes", why);
		return (0);
	}
	if (kernel_lacks_kill(tree.parent)) {
		if (lim != NULL) {
			snprintf(msg, len, "%s is set, but %s", lim, NO_KILL);
			return (-1);
		}
		snprintf(msg, len, "%s: lanes get process groups only, which "
		    "a setsid() descendant escapes", NO_KILL);
		return (0);
	}
	snprintf(why, sizeof why, "%s/cgroup.controllers", tree.parent);
	if (read_at(AT_FDCWD, why, tree.avail, sizeof tree.avail) == -1) {
		/* Not made yet (--check-config): its parent's say. */
		snprintf(why, sizeof why, "%.*s/cgroup.controllers",
		    (int)(strrchr(tree.parent, '/') - tree.parent),
		    tree.parent);
		if (read_at(AT_FDCWD, why, tree.avail, sizeof tree.avail) ==
		    -1)
			tree.avail[0] = '\0';
	}
	tree.avail[strcspn(tree.avail, "\n")] = '\0';
	for (i = 0; i < NLIMITS; i++) {
		if (*limit_value(&limits[i]) == '\0')
			continue;
		if (!has_word(tree.avail, limits[i].ctl) || (!check &&
		    enable(tree.parent, limits[i].ctl) == -1)) {
			echo_path(why, sizeof why, tree.parent);
			snprintf(msg, len, "%s is set, but the %s controller is "
			    "not available in %s", limits[i].var,
			    limits[i].ctl, why);
			return (-1);
		}
		add_ctl(limits[i].ctl);
	}
	/* Peaks are measured where their controllers can be had. */
	for (i = 0; peaks[i] != NULL; i++) {
		if (has_word(tree.ctl, peaks[i]) ||
		    !has_word(tree.avail, peaks[i]) ||
		    (!check && enable(tree.parent, peaks[i]) == -1))
			continue;
		add_ctl(peaks[i]);
	}
	tree.on = 1;
	return (1);
}

/* After cg_recover(): this server's directory, and its controllers. */
int
cg_start(char *msg, size_t len)
{
	char	ctl[64], *w, *save = NULL;

	if (make_dir(msg, len) == -1)
		return (-1);
	if (kernel_lacks_kill(tree.dir)) {
		rmdir(tree.dir);
		close(tree.fd);
		tree.fd = -1;
		tree.on = 0;
		if (first_limit() != NULL) {
			snprintf(msg, len, "%s is set, but %s", first_limit(),
			    NO_KILL);
			return (-1);
		}
		snprintf(msg, len, "%s: lanes get process groups only, which "
		    "a setsid() descendant escapes", NO_KILL);
		return (1);
	}
	strlcpy(ctl, tree.ctl, sizeof ctl);
	for (w = strtok_r(ctl, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (enable(tree.dir, w) == -1) {
			snprintf(msg, len, "cannot enable the %s controller "
			    "in %s: %s", w, tree.dir, strerror(errno));
			return (-1);
		}
	}
	return (0);
}

const char *
cg_controllers(void)
{
	return (tree.avail);
}

const char *
cg_parent(void)
{
	return (tree.on ? tree.parent : NULL);
}

const char *
cg_dir(void)
{
	return (tree.on && tree.fd != -1 ? tree.dir : NULL);
}

int
cg_active(void)
{
	return (tree.on && tree.fd != -1);
}

/* Wait for a killed cgroup to empty, polling its events for a change. */
static int
wait_empty(int dfd, int ms)
{
	struct pollfd	pfd;
	uint64_t	end = mono_ms() + (uint64_t)ms, now;
	int		rv;

	if ((pfd.fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		return (-1);
	pfd.events = POLLPRI;
	while ((rv = cg_populated(pfd.fd)) == 1 && (now = mono_ms()) < end)
		poll(&pfd, 1, (int)(end - now));
	close(pfd.fd);
	return (rv == 0 ? 0 : -1);
}

/*
 * One dead server's directory: every lane killed.  If the server wrote
 * our audit log, its lanes are closed there and their cgroups removed;
 * another log's are left empty, for a server of that log to close.
 */
static void
recover_dir(int dfd, const char *name,
    void (*fn)(const char *, const struct cg_usage *))
{
	int	ours = strncmp(name + 9, tree.tag, 16) == 0 && name[25] == '-';

	struct cg_usage	 u;
	struct dirent	*de;
	DIR		*dp;
	int		 fd, lfd = -1, left = 0;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	/* Locked: its server lives, and these lanes are its own. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    (lfd = dup(fd)) == -1 || (dp = fdopendir(lfd)) == NULL) {
		if (lfd != -1)
			close(lfd);
		close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((lfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			continue;
		cg_lane_kill(lfd);
		if (wait_empty(lfd, ORPHAN_WAIT_MS) == -1)
			log_warnx("cgroup %s/%s/%s: still populated after "
			    "cgroup.kill", tree.parent, name, de->d_name);
		cg_lane_measure(lfd, &u);
		close(lfd);
		if (!ours) {
			left++;
			continue;
		}
		/* The lane's dispatch is closed once nothing of it is left. */
		if (check_handle(de->d_name, strlen(de->d_name)) == 0)
			fn(de->d_name, &u);
		if (unlinkat(fd, de->d_name, AT_REMOVEDIR) == -1)
			log_warn("cgroup %s/%s/%s: rmdir", tree.parent, name,
			    de->d_name);
	}
	closedir(dp);
	if (left == 0 && unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		log_warn("cgroup %s/%s: rmdir", tree.parent, name);
	close(fd);
}

void
cg_recover(const char *log, void (*fn)(const char *, const struct cg_usage *))
{
	struct dirent	*de;
	DIR		*dp;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	int		 dfd;

	/* Which log a server wrote is in its directory's name. */
	for (; *log != '\0'; log++) {
		h ^= (unsigned char)*log;
		h *= 0x100000001b3ULL;
	}
	snprintf(tree.tag, sizeof tree.tag, "%016llx", (unsigned long long)h);

	if (!tree.on || (dfd = open(tree.parent, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return;
	if ((dp = fdopendir(dup(dfd))) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_type == DT_DIR &&
		    strncmp(de->d_name, "dispatch-", 9) == 0)
			recover_dir(dfd, de->d_name, fn);
	}
	closedir(dp);
	close(dfd);
}

/*
 * A fresh cgroup for one lane, never reused: a cgroup that has had
 * cgroup.kill written kills what is later cloned into it (seen on
 * 6.18).  Returns its directory (the spawner clones the lane into it)
 * and its cgroup.events, or -1 with errno.
 */
int
cg_lane_create(const char *handle, int *dirp, int *evp)
{
	size_t	i;
	int	saved;

	*dirp = *evp = -1;
	if (mkdirat(tree.fd, handle, 0755) == -1)
		return (-1);
	if ((*dirp = openat(tree.fd, handle, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		goto fail;
	for (i = 0; i < NLIMITS; i++) {
		if (*limit_value(&limits[i]) != '\0' &&
		    write_at(*dirp, limits[i].file, limit_value(&limits[i])) ==
		    -1)
			goto fail;
	}
	if ((*evp = openat(*dirp, "cgroup.events", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		goto fail;
	return (0);
fail:
	saved = errno;
	if (*dirp != -1)
		close(*dirp);
	*dirp = -1;
	unlinkat(tree.fd, handle, AT_REMOVEDIR);
	errno = saved;
	return (-1);
}

static size_t
read_pids(int dfd, pid_t *pids, size_t max)
{
	static char	 buf[65536];
	char		*p, *end;
	size_t		 n = 0;
	long		 v;

	if (read_at(dfd, "cgroup.procs", buf, sizeof buf) <= 0)
		return (0);
	for (p = buf; *p != '\0' && n < max; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && v <= INT32_MAX)
			pids[n++] = (pid_t)v;
		end += strspn(end, "\n");
	}
	return (n);
}

static int
listed(const pid_t *pids, size_t n, pid_t pid)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (pids[i] == pid)
			return (1);
	}
	return (0);
}

/*
 * A signal to every process of the cgroup (cgroup.kill has SIGKILL
 * only).  A pid read from cgroup.procs may be gone and reused by the
 * time it is signalled, so each gets a pidfd first and is signalled only
 * if the list, read again after, still has it: the process that pidfd
 * holds was then in the cgroup, or it has died (and the signal fails).
 */
int
cg_lane_signal(int dfd, int sig)
{
	static pid_t	first[SIGNAL_BATCH], again[4 * SIGNAL_BATCH];
	static int	pfd[SIGNAL_BATCH];
	size_t		i, n, m;
	int		sent = 0;

	n = read_pids(dfd, first, SIGNAL_BATCH);
	for (i = 0; i < n; i++)
		pfd[i] = (int)syscall(SYS_pidfd_open, first[i], 0);
	m = read_pids(dfd, again, 4 * SIGNAL_BATCH);
	for (i = 0; i < n; i++) {
		if (pfd[i] == -1)
			continue;
		if (listed(again, m, first[i]) &&
		    syscall(SYS_pidfd_send_signal, pfd[i], sig, NULL, 0) == 0)
			sent++;
		close(pfd[i]);
	}
	return (sent);
}

int
cg_lane_kill(int dfd)
{
	return (write_at(dfd, "cgroup.kill", "1"));
}

/* 1 while a process is left, 0 once empty, -1 on error. */
int
cg_populated(int evfd)
{
	char	buf[256];
	ssize_t	n;
	uint64_t v;

	if ((n = pread(evfd, buf, sizeof buf - 1, 0)) <= 0)
		return (-1);
	buf[n] = '\0';
	if (keyed(buf, "populated", &v) == -1)
		return (-1);
	return (v != 0);
}

void
cg_lane_measure(int dfd, struct cg_usage *u)
{
	char		buf[4096];
	uint64_t	v;

	memset(u, 0, sizeof *u);
	if (read_at(dfd, "cpu.stat", buf, sizeof buf) > 0 &&
	    keyed(buf, "usage_usec", &u->cpu_usec) == 0)
		u->has_cpu = 1;
	if (read_at(dfd, "memory.peak", buf, sizeof buf) > 0) {
		u->mem_peak = strtoull(buf, NULL, 10);
		u->has_mem = 1;
	}
	if (read_at(dfd, "pids.peak", buf, sizeof buf) > 0) {
		u->pids_peak = strtoull(buf, NULL, 10);
		u->has_pids = 1;
	}
	if (read_at(dfd, "memory.events", buf, sizeof buf) > 0 &&
	    keyed(buf, "oom_kill", &v) == 0 && v > 0)
		u->oom = 1;
}

int
cg_lane_remove(const char *handle)
{
	return (unlinkat(tree.fd, handle, AT_REMOVEDIR));
}

/* At exit: this server's directory, if its lanes are gone. */
void
cg_finish(void)
{
	if (tree.fd == -1)
		return;
	if (unlinkat(AT_FDCWD, tree.dir, AT_REMOVEDIR) == -1)
		log_warn("cgroup %s: rmdir", tree.dir);
	close(tree.fd);
	tree.fd = -1;
}
