/*
 * Sandboxes: pledge-style promise words turned into seccomp filters, and
 * unveil-style Landlock rules.  The same builders serve loading and
 * --print-sandbox, so what is printed is what is loaded.
 *
 * Order, as minijail does it: drop ids, no_new_privs, Landlock, seccomp.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LINUX_LANDLOCK_H
#include <linux/landlock.h>
#endif

#include "common/log.h"
#include "common/sandbox.h"
#include "common/util.h"

#ifndef HAVE_LINUX_LANDLOCK_H
struct landlock_ruleset_attr {
	uint64_t	handled_access_fs;
};
struct landlock_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));
#define LANDLOCK_RULE_PATH_BENEATH		1
#define LANDLOCK_CREATE_RULESET_VERSION		(1U << 0)
#endif
/* Rights by ABI; defined here so older headers still build. */
#define LL_EXECUTE	(1ULL << 0)
#define LL_WRITE_FILE	(1ULL << 1)
#define LL_READ_FILE	(1ULL << 2)
#define LL_READ_DIR	(1ULL << 3)
#define LL_REMOVE_DIR	(1ULL << 4)
#define LL_MAKE_DIR	(1ULL << 7)
#define LL_MAKE_REG	(1ULL << 8)
#define LL_ABI1_ALL	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_REFER	(1ULL << 13)		/* ABI 2 */
#define LL_TRUNCATE	(1ULL << 14)		/* ABI 3 */
#define LL_IOCTL_DEV	(1ULL << 15)		/* ABI 5 */
#define LL_MAX_ABI	5
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset	444
#define SYS_landlock_add_rule		445
#define SYS_landlock_restrict_self	446
#endif

static int	log_mode;

void
sandbox_set_log(int on)
{
	log_mode = on;
}

/*
 * Every system call rule, one row each: the set it belongs to (a promise
 * word, or the lane layer), what happens, and the argument it is held
 * to.  Both the loaded filters and --print-sandbox are built from this
 * table alone, so a constraint cannot be printed without being loaded.
 *
 * "stdio" is what an event loop on descriptors it already holds needs;
 * nothing in it names a path.  There is no kill or tgkill, not even to
 * ourselves: abort() then ends in SIGSYS instead of SIGABRT, and the
 * filter stays the same for every pid, so it can be printed as loaded.
 *
 * The lane layer is the kernel surface no lane needs: it binds the
 * broker and everything it starts, as filters are inherited across fork
 * and exec.  Calls a lane's libraries may probe get EPERM; the rest kill.
 */
enum sc_action { SC_ALLOW, SC_VIOLATION, SC_EPERM, SC_ENOSYS };

struct sc_row {
	const char		*set;
	const char		*call;
	enum sc_action		 action;
	int			 arg;		/* -1: any arguments */
	enum scmp_compare	 op;
	uint64_t		 a, b;
	const char		*why;
};

#define ANY		-1, SCMP_CMP_EQ, 0, 0, NULL
#define STDIO(c)	{ "stdio", (c), SC_ALLOW, ANY }
#define LANE_KILL(c)	{ "lane", (c), SC_VIOLATION, ANY }
#define LANE_EPERM(c)	{ "lane", (c), SC_EPERM, ANY }
/* clone(2) makes namespaces too: refused flag by flag, as unshare is. */
#define LANE_NS(f)	{ "lane", "clone", SC_EPERM, 0, SCMP_CMP_MASKED_EQ, \
			    (f), (f), "no new namespace (" #f ")" }

static const struct sc_row rows[] = {
	STDIO("read"), STDIO("readv"), STDIO("pread64"), STDIO("write"),
	STDIO("writev"), STDIO("pwrite64"), STDIO("close"), STDIO("lseek"),
	STDIO("poll"), STDIO("ppoll"), STDIO("brk"), STDIO("munmap"),
	STDIO("mremap"), STDIO("madvise"), STDIO("futex"),
	STDIO("clock_gettime"), STDIO("clock_getres"), STDIO("gettimeofday"),
	STDIO("nanosleep"), STDIO("clock_nanosleep"), STDIO("getpid"),
	STDIO("gettid"), STDIO("getuid"), STDIO("geteuid"), STDIO("getgid"),
	STDIO("getegid"), STDIO("exit"), STDIO("exit_group"),
	STDIO("rt_sigreturn"), STDIO("rt_sigprocmask"), STDIO("sendto"),
	STDIO("recvfrom"), STDIO("getrandom"), STDIO("restart_syscall"),
	STDIO("sched_yield"), STDIO("fstat"),
	{ "stdio", "mmap", SC_ALLOW, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0,
	    "never PROT_EXEC: a parser bug cannot become shellcode" },
	{ "stdio", "mprotect", SC_ALLOW, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0,
	    "never PROT_EXEC" },
	{ "stdio", "newfstatat", SC_ALLOW, 3, SCMP_CMP_MASKED_EQ,
	    AT_EMPTY_PATH, AT_EMPTY_PATH,
	    "AT_EMPTY_PATH: fstat(2) on a descriptor, never a path lookup" },
	{ "stdio", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_GETFL, 0, "F_GETFL" },
	{ "stdio", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_SETFL, 0, "F_SETFL" },
	{ "stdio", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_GETFD, 0, "F_GETFD" },
	{ "stdio", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_SETFD, 0, "F_SETFD" },

	/* Open and stat files; the file set is what Landlock allows. */
	{ "rpath", "openat", SC_ALLOW, ANY },
	{ "rpath", "newfstatat", SC_ALLOW, ANY },
	{ "wpath", "fdatasync", SC_ALLOW, ANY },
	{ "wpath", "fsync", SC_ALLOW, ANY },
	{ "wpath", "flock", SC_ALLOW, ANY },
	{ "wpath", "ftruncate", SC_ALLOW, ANY },
	{ "wpath", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_OFD_SETLK, 0,
	    "F_OFD_SETLK: the lock that shows a server alive" },
	{ "wpath", "fcntl", SC_ALLOW, 1, SCMP_CMP_EQ, F_OFD_GETLK, 0,
	    "F_OFD_GETLK: is another server alive" },
	{ "proc", "kill", SC_ALLOW, ANY },
	{ "proc", "wait4", SC_ALLOW, ANY },
	{ "proc", "waitid", SC_ALLOW, ANY },
	{ "proc", "pidfd_open", SC_ALLOW, ANY },
	{ "proc", "pidfd_send_signal", SC_ALLOW, ANY },
	{ "proc", "pipe2", SC_ALLOW, ANY },
	{ "proc", "epoll_wait", SC_ALLOW, ANY },
	{ "proc", "epoll_pwait", SC_ALLOW, ANY },
	{ "proc", "epoll_ctl", SC_ALLOW, ANY },
	{ "sendfd", "sendmsg", SC_ALLOW, ANY },
	{ "sendfd", "recvmsg", SC_ALLOW, ANY },
	/* Lanes' cgroups: made and removed beneath this server's own. */
	{ "cgroup", "mkdirat", SC_ALLOW, ANY },
	{ "cgroup", "unlinkat", SC_ALLOW, 2, SCMP_CMP_EQ, AT_REMOVEDIR, 0,
	    "AT_REMOVEDIR: an empty cgroup, never a file" },

	LANE_KILL("kexec_load"), LANE_KILL("kexec_file_load"),
	LANE_KILL("init_module"), LANE_KILL("finit_module"),
	LANE_KILL("delete_module"), LANE_KILL("reboot"), LANE_KILL("swapon"),
	LANE_KILL("swapoff"), LANE_KILL("acct"), LANE_KILL("iopl"),
	LANE_KILL("ioperm"), LANE_KILL("open_by_handle_at"),
	LANE_KILL("pivot_root"),
	LANE_EPERM("ptrace"), LANE_EPERM("process_vm_readv"),
	LANE_EPERM("process_vm_writev"), LANE_EPERM("bpf"),
	LANE_EPERM("perf_event_open"), LANE_EPERM("mount"),
	LANE_EPERM("umount2"), LANE_EPERM("move_mount"), LANE_EPERM("fsopen"),
	LANE_EPERM("fsconfig"), LANE_EPERM("fsmount"), LANE_EPERM("fspick"),
	LANE_EPERM("open_tree"), LANE_EPERM("mount_setattr"),
	LANE_EPERM("quotactl"), LANE_EPERM("quotactl_fd"),
	LANE_EPERM("keyctl"), LANE_EPERM("add_key"),
	LANE_EPERM("request_key"), LANE_EPERM("userfaultfd"),
	LANE_EPERM("io_uring_setup"), LANE_EPERM("io_uring_enter"),
	LANE_EPERM("io_uring_register"), LANE_EPERM("unshare"),
	LANE_EPERM("setns"), LANE_EPERM("personality"), LANE_EPERM("syslog"),
	LANE_EPERM("lookup_dcookie"), LANE_EPERM("uselib"),
	LANE_EPERM("vhangup"), LANE_EPERM("nfsservctl"),
	LANE_EPERM("name_to_handle_at"),
	/* CLONE_NEWTIME is the exit signal's place in clone(2). */
	LANE_NS(CLONE_NEWNS), LANE_NS(CLONE_NEWCGROUP), LANE_NS(CLONE_NEWUTS),
	LANE_NS(CLONE_NEWIPC), LANE_NS(CLONE_NEWUSER), LANE_NS(CLONE_NEWPID),
	LANE_NS(CLONE_NEWNET),
	/* Its flags are in memory a filter cannot read: not there at all,
	 * so libc falls back to clone(2).  The spawner needs it (a lane is
	 * born in its cgroup), so each lane loads this before its exec. */
	{ "tail", "clone3", SC_ENOSYS, -1, SCMP_CMP_EQ, 0, 0,
	    "flags out of the filter's sight; libc falls back to clone" },
};
#define NROWS	(sizeof rows / sizeof rows[0])
static const char *const promise_words[] = {
	"stdio", "rpath", "wpath", "proc", "sendfd", "cgroup", NULL
};

static uint32_t
violation(void)
{
	return (log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
}

static uint32_t
row_action(const struct sc_row *r)
{
	switch (r->action) {
	case SC_ALLOW:
		return (SCMP_ACT_ALLOW);
	case SC_VIOLATION:
		return (violation());
	case SC_EPERM:
		return (SCMP_ACT_ERRNO(EPERM));
	default:
		return (SCMP_ACT_ERRNO(ENOSYS));
	}
}

static void
add_row(scmp_filter_ctx ctx, const struct sc_row *r, int *count)
{
	struct scmp_arg_cmp	cmp;
	int			nr = seccomp_syscall_resolve_name(r->call);

	/* A call this architecture lacks needs no rule. */
	if (nr == __NR_SCMP_ERROR)
		return;
	memset(&cmp, 0, sizeof cmp);
	cmp.arg = (unsigned)(r->arg < 0 ? 0 : r->arg);
	cmp.op = r->op;
	cmp.datum_a = r->a;
	cmp.datum_b = r->b;
	if (seccomp_rule_add_array(ctx, row_action(r), nr, r->arg < 0 ? 0 : 1,
	    &cmp) != 0)
		fatalx("sandbox: cannot add a rule for %s", r->call);
	(*count)++;
}

static scmp_filter_ctx
new_ctx(uint32_t def)
{
	scmp_filter_ctx	ctx;

	if ((ctx = seccomp_init(def)) == NULL)
		fatalx("sandbox: seccomp_init");
	/*
	 * 32-bit and x32 entry points would walk around any list; and the
	 * default only kills the thread.  No call of ours comes from another
	 * ABI, so a bad arch kills the process, in log mode too.
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0)
		fatalx("sandbox: cannot set the bad-arch action");
	return (ctx);
}

static int
in_words(const char *words, const char *w)
{
	size_t	len = strlen(w);
	const char *p;

	for (p = words; (p = strstr(p, w)) != NULL; p += len) {
		if ((p == words || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

/* Build the filter for a promise string such as "stdio rpath". */
static scmp_filter_ctx
pledge_ctx(const char *words, int *count)
{
	scmp_filter_ctx	 ctx;
	char		 buf[128], *w, *save = NULL;
	const char	*const *p;
	size_t		 i;

	strlcpy(buf, words, sizeof buf);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		for (p = promise_words; *p != NULL && strcmp(*p, w) != 0; p++)
			;
		if (*p == NULL)
			fatalx("sandbox: unknown promise '%s'", w);
	}
	*count = 0;
	ctx = new_ctx(violation());
	for (i = 0; i < NROWS; i++) {
		if (in_words(words, rows[i].set))
			add_row(ctx, &rows[i], count);
	}
	return (ctx);
}

static scmp_filter_ctx
set_ctx(const char *set, int *count)
{
	scmp_filter_ctx	ctx;
	size_t		i;

	*count = 0;
	ctx = new_ctx(SCMP_ACT_ALLOW);
	for (i = 0; i < NROWS; i++) {
		if (strcmp(rows[i].set, set) == 0)
			add_row(ctx, &rows[i], count);
	}
	return (ctx);
}

static scmp_filter_ctx
lane_ctx(int *count)
{
	return (set_ctx("lane", count));
}

/*
 * The filter each lane loads itself before its exec, as BPF: the
 * spawner holds it and runs no libseccomp.  Returns its length in
 * bytes, 0 if it does not fit.
 */
size_t
sandbox_lane_tail(void *buf, size_t len)
{
	scmp_filter_ctx	ctx;
	ssize_t		n;
	int		fd, count;

	ctx = set_ctx("tail", &count);
	if ((fd = memfd_create("bpf", MFD_CLOEXEC)) == -1)
		fatal("sandbox: memfd_create");
	if (seccomp_export_bpf(ctx, fd) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (n = read(fd, buf, len)) <= 0 || (size_t)n == len)
		n = 0;
	close(fd);
	seccomp_release(ctx);
	return ((size_t)n);
}

#define BROKER_PROMISES		"stdio rpath wpath proc sendfd"
#define BROKER_CG_PROMISES	BROKER_PROMISES " cgroup"

static const char *
broker_promises(const struct sandbox_paths *sp)
{
	return (sp->cgroup_dir != NULL ? BROKER_CG_PROMISES : BROKER_PROMISES);
}
#define FRONTEND_PROMISES	"stdio"

static void
load(scmp_filter_ctx ctx, const char *what)
{
	int	rv;

	if ((rv = seccomp_load(ctx)) != 0)
		fatalx("sandbox: cannot load the %s filter: %s", what,
		    strerror(-rv));
	seccomp_release(ctx);
}

int
sandbox_landlock_abi(void)
{
	long	abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return (abi < 0 ? 0 : (int)abi);
}

static uint64_t
ll_all(int abi)
{
	uint64_t	all = LL_ABI1_ALL;

	if (abi >= 2)
		all |= LL_REFER;
	if (abi >= 3)
		all |= LL_TRUNCATE;
	if (abi >= 5)
		all |= LL_IOCTL_DEV;
	return (all);
}

static int
ll_ruleset(uint64_t handled)
{
	struct landlock_ruleset_attr	attr;
	int				fd;

	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = handled;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof attr.handled_access_fs, 0);
	if (fd == -1)
		fatal("sandbox: landlock_create_ruleset");
	return (fd);
}

/*
 * A Landlock ruleset as data: the rights it handles, and the paths
 * beneath which some of them are allowed.  One plan is both applied and
 * printed, so the rules shown are the rules in force.
 */
struct ll_rule {
	char		path[PATH_MAX];
	uint64_t	access;
};

struct ll_plan {
	uint64_t	handled;
	struct ll_rule	rule[16];
	int		nrules;
};

/* Where a lane may exec from: the system's program directories. */
static const char *const exec_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/opt", NULL
};

static void
plan_add(struct ll_plan *p, const char *path, uint64_t access)
{
	if (p->nrules == (int)(sizeof p->rule / sizeof p->rule[0]))
		fatalx("sandbox: too many Landlock rules");
	strlcpy(p->rule[p->nrules].path, path, sizeof p->rule[0].path);
	p->rule[p->nrules++].access = access;
}

/* The directory a file is in: its rights cover a renamed successor. */
static void
plan_add_dir_of(struct ll_plan *p, const char *path, uint64_t access)
{
	char	buf[PATH_MAX], *slash;

	if (strlcpy(buf, path, sizeof buf) >= sizeof buf)
		return;
	if ((slash = strrchr(buf, '/')) == NULL)
		strlcpy(buf, ".", sizeof buf);
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
	plan_add(p, buf, access);
}

/* The frontend: every right handled and none allowed, so no path at all. */
static void
plan_frontend(struct ll_plan *p, int abi)
{
	memset(p, 0, sizeof *p);
	p->handled = ll_all(abi);
}

/* Lanes keep their files and network; only exec is handled. */
static void
plan_lane(struct ll_plan *p, const struct sandbox_paths *sp)
{
	const char	*const *d;

	memset(p, 0, sizeof *p);
	p->handled = LL_EXECUTE;
	for (d = exec_dirs; *d != NULL; d++)
		plan_add(p, *d, LL_EXECUTE);
	plan_add(p, sp->lane_program, LL_EXECUTE);
}

/* No exec at all; read the allowlist, keep the audit log's directory. */
static void
plan_broker(struct ll_plan *p, const struct sandbox_paths *sp, int abi)
{
	char	real[PATH_MAX];

	memset(p, 0, sizeof *p);
	p->handled = ll_all(abi);
	plan_add_dir_of(p, sp->allowlist, LL_READ_FILE);
	if (realpath(sp->allowlist, real) != NULL &&
	    strcmp(real, sp->allowlist) != 0)
		plan_add_dir_of(p, real, LL_READ_FILE);
	/* The audit log is reopened after rotation. */
	plan_add_dir_of(p, sp->audit, LL_READ_FILE | LL_WRITE_FILE |
	    LL_MAKE_REG | LL_TRUNCATE);
	/* Lanes' cgroups beneath our directory; it is removed at exit. */
	if (sp->cgroup_dir != NULL) {
		plan_add(p, sp->cgroup_dir, LL_READ_FILE | LL_WRITE_FILE |
		    LL_READ_DIR | LL_MAKE_DIR | LL_REMOVE_DIR);
		plan_add(p, sp->cgroup_parent, LL_REMOVE_DIR);
	}
}

/* The rights a rule may carry: a rule on a file only file rights. */
static uint64_t
rule_access(int fd, uint64_t access, int abi)
{
	struct stat	st;

	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE |
		    LL_TRUNCATE | LL_IOCTL_DEV;
	return (access & ll_all(abi));
}

/* Apply a plan; a path that does not exist is skipped. */
static void
ll_apply(const struct ll_plan *p, int abi)
{
	struct landlock_path_beneath_attr	pb;
	int					rs, fd, i;

	if (abi <= 0)
		return;
	rs = ll_ruleset(p->handled & ll_all(abi));
	for (i = 0; i < p->nrules; i++) {
		if ((fd = open(p->rule[i].path, O_PATH | O_CLOEXEC)) == -1)
			continue;
		memset(&pb, 0, sizeof pb);
		pb.allowed_access = rule_access(fd, p->rule[i].access, abi);
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1)
			fatal("sandbox: landlock_add_rule %s", p->rule[i].path);
		close(fd);
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1)
		fatal("sandbox: landlock_restrict_self");
	close(rs);
}

static void
print_rights(FILE *f, uint64_t access, int abi)
{
	static const char *const names[] = {
		"execute", "write_file", "read_file", "read_dir",
		"remove_dir", "remove_file", "make_char", "make_dir",
		"make_reg", "make_sock", "make_fifo", "make_block",
		"make_sym", "refer", "truncate", "ioctl_dev"
	};
	const char	*sep = "";
	size_t		 i;

	if (access == ll_all(abi)) {
		fprintf(f, "every right");
		return;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (access & (1ULL << i)) {
			fprintf(f, "%s%s", sep, names[i]);
			sep = ",";
		}
	}
}

static void
ll_print(FILE *f, const struct ll_plan *p, int abi)
{
	int	i, applied = abi > 0;

	fprintf(f, "  landlock: handles ");
	if (abi <= 0)
		abi = LL_MAX_ABI;
	print_rights(f, p->handled & ll_all(abi), abi);
	if (p->nrules == 0)
		fprintf(f, "; no rule: no path can be opened, executed or "
		    "created");
	fprintf(f, "%s\n", applied ? "" : " (not applied: no Landlock)");
	for (i = 0; i < p->nrules; i++) {
		fprintf(f, "    allow ");
		print_rights(f, p->rule[i].access, abi);
		fprintf(f, " beneath %s\n", p->rule[i].path);
	}
}

/*
 * Resource limits as data, like the rules above.  NOFILE is set last,
 * to the descriptors held, once everything that makes one is done.
 */
enum rl_when { RL_ALWAYS, RL_UNLESS_FILE_OUTPUT, RL_HELD_FDS };

static const struct rl_row {
	const char	*proc;
	const char	*name;
	int		 res;
	enum rl_when	 when;
} rlimits[] = {
	{ "frontend", "CORE", RLIMIT_CORE, RL_ALWAYS },
	{ "frontend", "NPROC", RLIMIT_NPROC, RL_ALWAYS },
	/* FSIZE 0 would kill us at the first log line if stderr is a
	 * file; then the no-open filter alone keeps files out of reach. */
	{ "frontend", "FSIZE", RLIMIT_FSIZE, RL_UNLESS_FILE_OUTPUT },
	{ "frontend", "NOFILE", RLIMIT_NOFILE, RL_HELD_FDS },
	{ "lane", "CORE", RLIMIT_CORE, RL_ALWAYS },
};

static int
is_regular(int fd)
{
	struct stat	st;

	return (fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
}

static void
rl_apply(const char *proc, int held_fds)
{
	struct rlimit	rl;
	size_t		i;
	int		fd, maxfd = 0;

	for (i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
		if (strcmp(rlimits[i].proc, proc) != 0 ||
		    (rlimits[i].when == RL_HELD_FDS) != held_fds)
			continue;
		if (rlimits[i].when == RL_UNLESS_FILE_OUTPUT &&
		    (is_regular(STDOUT_FILENO) || is_regular(STDERR_FILENO)))
			continue;
		rl.rlim_cur = rl.rlim_max = 0;
		if (rlimits[i].when == RL_HELD_FDS) {
			/* No new descriptor: the ones held are all. */
			for (fd = 0; fd < 64; fd++) {
				if (fcntl(fd, F_GETFD) != -1)
					maxfd = fd;
			}
			rl.rlim_cur = rl.rlim_max = (rlim_t)maxfd + 1;
		}
		if (setrlimit(rlimits[i].res, &rl) == -1)
			fatal("sandbox: setrlimit RLIMIT_%s", rlimits[i].name);
	}
}

static void
rl_print(FILE *f, const char *proc)
{
	const char	*sep = "";
	size_t		 i;

	fprintf(f, "  rlimits: ");
	for (i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
		if (strcmp(rlimits[i].proc, proc) != 0)
			continue;
		fprintf(f, "%s%s %s", sep, rlimits[i].name,
		    rlimits[i].when == RL_HELD_FDS ? "= descriptors held "
		    "(set last)" : "0");
		if (rlimits[i].when == RL_UNLESS_FILE_OUTPUT)
			fprintf(f, " (unless stdout or stderr is a regular "
			    "file)");
		sep = ", ";
	}
	fprintf(f, "\n");
}

static void
no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}

void
sandbox_drop_privileges(uid_t uid, gid_t gid)
{
	char	dir[] = "/tmp/dispatch-mcp.XXXXXX";
	uid_t	r, e, s;

	/*
	 * An empty root that cannot be filled: made, entered, removed.
	 * Nothing can be created inside a deleted directory.
	 */
	if (mkdtemp(dir) == NULL || chmod(dir, 0555) == -1 ||
	    chdir(dir) == -1 || rmdir(dir) == -1 ||
	    chroot(".") == -1 || chdir("/") == -1)
		fatal("sandbox_drop_privileges: empty chroot");
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("sandbox_drop_privileges: to uid %u gid %u",
		    (unsigned)uid, (unsigned)gid);
	/* Prove it cannot be undone. */
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("sandbox_drop_privileges: uid 0 is still reachable");
	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid)
		fatalx("sandbox_drop_privileges: ids did not change");
}

void
sandbox_frontend(void)
{
	struct ll_plan	plan;
	int		abi = sandbox_landlock_abi(), count;

	rl_apply("frontend", 0);
	no_new_privs();
	plan_frontend(&plan, abi);
	ll_apply(&plan, abi);
	rl_apply("frontend", 1);
	load(pledge_ctx(FRONTEND_PROMISES, &count), "frontend");
	log_debug("sandboxed: seccomp \"%s\" (%d rules), landlock ABI %d",
	    FRONTEND_PROMISES, count, abi);
}

void
sandbox_lane_layer(const struct sandbox_paths *sp)
{
	struct ll_plan	plan;
	int		count;

	rl_apply("lane", 0);
	no_new_privs();
	plan_lane(&plan, sp);
	ll_apply(&plan, sandbox_landlock_abi());
	load(lane_ctx(&count), "lane");
}

void
sandbox_broker(const struct sandbox_paths *sp)
{
	struct ll_plan	plan;
	int		abi = sandbox_landlock_abi(), count;

	plan_broker(&plan, sp, abi);
	ll_apply(&plan, abi);
	load(pledge_ctx(broker_promises(sp), &count), "broker");
	log_debug("sandboxed: seccomp \"%s\" (%d rules), landlock ABI %d",
	    broker_promises(sp), count, abi);
}

/*
 * FNV-1a over the BPF program as the kernel holds it; tests read the
 * loaded program back with PTRACE_SECCOMP_GET_FILTER and compare.
 */
uint64_t
sandbox_bpf_digest(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

static void
print_bpf_digest(FILE *f, scmp_filter_ctx ctx)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 fd;

	if ((fd = memfd_create("bpf", MFD_CLOEXEC)) == -1)
		fatal("sandbox: memfd_create");
	if (seccomp_export_bpf(ctx, fd) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (n = read(fd, buf, sizeof buf)) <= 0)
		fatalx("sandbox: cannot export the filter");
	close(fd);
	fprintf(f, "  bpf: %zd instructions, fnv1a64 %016llx\n", n / 8,
	    (unsigned long long)sandbox_bpf_digest(buf, (size_t)n));
}

/* The table's rows of a set, as a reader checks them against the PFC. */
static void
print_rows(FILE *f, const char *words)
{
	static const char *const acts[] = { "allow", "violation", "EPERM",
		"ENOSYS" };
	size_t	i;

	for (i = 0; i < NROWS; i++) {
		if (!in_words(words, rows[i].set))
			continue;
		fprintf(f, "    %-6s %-18s %s", rows[i].set, rows[i].call,
		    acts[rows[i].action]);
		if (rows[i].arg >= 0 && rows[i].op == SCMP_CMP_MASKED_EQ)
			fprintf(f, " if (arg%d & 0x%llx) == 0x%llx",
			    rows[i].arg, (unsigned long long)rows[i].a,
			    (unsigned long long)rows[i].b);
		else if (rows[i].arg >= 0)
			fprintf(f, " if arg%d == 0x%llx", rows[i].arg,
			    (unsigned long long)rows[i].a);
		if (rows[i].why != NULL)
			fprintf(f, ": %s", rows[i].why);
		fprintf(f, "\n");
	}
}

static void
print_filter(FILE *f, const char *title, const char *words,
    scmp_filter_ctx ctx, int count)
{
	fprintf(f, "  seccomp: %d rules; violations %s\n", count,
	    log_mode ? "are LOGGED (DISPATCH_SANDBOX=log)" : "kill the process");
	print_bpf_digest(f, ctx);
	fprintf(f, "  --- %s rules (the table they are built from) ---\n",
	    title);
	print_rows(f, words);
	fprintf(f, "  --- %s filter (libseccomp PFC) ---\n", title);
	fflush(f);
	seccomp_export_pfc(ctx, fileno(f));
	seccomp_release(ctx);
}

void
sandbox_print(FILE *f, const struct sandbox_paths *sp, uid_t uid, gid_t gid,
    int as_root)
{
	struct ll_plan	plan;
	scmp_filter_ctx	ctx;
	int		abi = sandbox_landlock_abi(), count;

	fprintf(f, "landlock: %s\n", abi > 0 ? "available" :
	    "not available on this kernel: those rules are skipped");
	if (abi > 0)
		fprintf(f, "landlock ABI: %d\n", abi);

	fprintf(f, "\nprocess frontend (parses MCP; promises \"%s\")\n",
	    FRONTEND_PROMISES);
	if (as_root)
		fprintf(f, "  identity: uid %u gid %u, no supplementary "
		    "groups, chroot to an empty deleted directory\n",
		    (unsigned)uid, (unsigned)gid);
	else
		fprintf(f, "  identity: unchanged (uid %u); not started as "
		    "root\n", (unsigned)getuid());
	rl_print(f, "frontend");
	fprintf(f, "  no_new_privs: yes\n");
	plan_frontend(&plan, abi);
	ll_print(f, &plan, abi);
	ctx = pledge_ctx(FRONTEND_PROMISES, &count);
	print_filter(f, "frontend", FRONTEND_PROMISES, ctx, count);

	fprintf(f, "\nlayer lane (broker, spawner and every lane inherit it)\n");
	rl_print(f, "lane");
	fprintf(f, "  no_new_privs: yes\n");
	plan_lane(&plan, sp);
	ll_print(f, &plan, abi);
	ctx = lane_ctx(&count);
	print_filter(f, "lane", "lane", ctx, count);

	fprintf(f, "\nlayer lane's own (each lane loads it before its exec; "
	    "the spawner keeps clone3)\n");
	ctx = set_ctx("tail", &count);
	print_filter(f, "lane's own", "tail", ctx, count);

	fprintf(f, "\nprocess broker (audit, allowlist, lanes%s; promises "
	    "\"%s\")\n", sp->cgroup_dir != NULL ? ", lanes' cgroups" : "",
	    broker_promises(sp));
	fprintf(f, "  identity: unchanged (uid %u)\n", (unsigned)getuid());
	plan_broker(&plan, sp, abi);
	ll_print(f, &plan, abi);
	ctx = pledge_ctx(broker_promises(sp), &count);
	print_filter(f, "broker", broker_promises(sp), ctx, count);
}
