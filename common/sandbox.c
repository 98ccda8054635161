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
#define LL_MAKE_REG	(1ULL << 8)
#define LL_ABI1_ALL	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_REFER	(1ULL << 13)		/* ABI 2 */
#define LL_TRUNCATE	(1ULL << 14)		/* ABI 3 */
#define LL_IOCTL_DEV	(1ULL << 15)		/* ABI 5 */
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

int
sandbox_log_mode(void)
{
	return (log_mode);
}

/*
 * Promise words and their system calls.  "stdio" is what an event loop
 * on descriptors it already holds needs; nothing in it names a path.
 */
static const char *const p_stdio[] = {
	"read", "readv", "pread64", "write", "writev", "pwrite64", "close",
	"lseek", "poll", "ppoll", "brk", "munmap", "mremap", "madvise",
	"futex", "clock_gettime", "clock_getres", "gettimeofday",
	"nanosleep", "clock_nanosleep", "getpid", "gettid", "getuid",
	"geteuid", "getgid", "getegid", "exit", "exit_group",
	"rt_sigreturn", "rt_sigprocmask", "sendto", "recvfrom",
	"getrandom", "restart_syscall", "sched_yield",
	/* Argument-checked below: */
	"mmap", "mprotect", "fstat", "newfstatat", "fcntl",
	NULL
};
/* Open and stat files; the file set is what Landlock allows. */
static const char *const p_rpath[] = { "openat", "newfstatat", NULL };
static const char *const p_wpath[] = { "fdatasync", "fsync", "flock",
	"ftruncate", NULL };
static const char *const p_proc[] = { "kill", "wait4", "waitid",
	"pidfd_open", "pidfd_send_signal", "pipe2", "epoll_wait",
	"epoll_pwait", "epoll_ctl", NULL };
static const char *const p_sendfd[] = { "sendmsg", "recvmsg", NULL };

static const struct {
	const char		 *word;
	const char *const	 *calls;
} promises[] = {
	{ "stdio", p_stdio },
	{ "rpath", p_rpath },
	{ "wpath", p_wpath },
	{ "proc", p_proc },
	{ "sendfd", p_sendfd },
};

/*
 * The kernel surface no lane needs.  These are denied to the broker and
 * to everything it starts: the layer is inherited across fork and exec.
 * Calls a lane's libraries may probe get EPERM; the rest kill.
 */
static const char *const lane_kill[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff", "acct", "iopl",
	"ioperm", "open_by_handle_at", "pivot_root", NULL
};
static const char *const lane_eperm[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "bpf",
	"perf_event_open", "mount", "umount2", "move_mount", "fsopen",
	"fsconfig", "fsmount", "fspick", "open_tree", "mount_setattr",
	"quotactl", "quotactl_fd", "keyctl", "add_key", "request_key",
	"userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "unshare", "setns", "personality", "syslog",
	"lookup_dcookie", "uselib", "vhangup", "nfsservctl", "name_to_handle_at",
	NULL
};

/* Namespace flags of clone(2); CLONE_NEWTIME is the exit signal there. */
static const uint64_t ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET
};

static uint32_t
violation(void)
{
	return (log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
}

static void
add(scmp_filter_ctx ctx, uint32_t act, const char *name, unsigned n,
    const struct scmp_arg_cmp *args, int *count)
{
	int	nr = seccomp_syscall_resolve_name(name);

	/* A call this architecture lacks needs no rule. */
	if (nr == __NR_SCMP_ERROR)
		return;
	if (seccomp_rule_add_array(ctx, act, nr, n, args) != 0)
		fatalx("sandbox: cannot add a rule for %s", name);
	if (count != NULL)
		(*count)++;
}

static void
add_plain(scmp_filter_ctx ctx, uint32_t act, const char *name, int *count)
{
	add(ctx, act, name, 0, NULL, count);
}

/*
 * stdio's argument-checked calls.  There is no kill or tgkill, not even
 * to ourselves: abort() then ends in SIGSYS instead of SIGABRT, and the
 * filter stays the same for every pid, so it can be printed as loaded.
 */
static void
add_stdio_special(scmp_filter_ctx ctx, int *count)
{
	struct scmp_arg_cmp	a[2];

	/* No executable mappings: a parser bug cannot become shellcode. */
	a[0] = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	add(ctx, SCMP_ACT_ALLOW, "mmap", 1, a, count);
	add(ctx, SCMP_ACT_ALLOW, "mprotect", 1, a, count);
	add_plain(ctx, SCMP_ACT_ALLOW, "fstat", count);
	/* fstat(2) on a descriptor, never a path lookup. */
	a[0] = SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
	add(ctx, SCMP_ACT_ALLOW, "newfstatat", 1, a, count);
	a[0] = SCMP_A1(SCMP_CMP_EQ, F_GETFL);
	add(ctx, SCMP_ACT_ALLOW, "fcntl", 1, a, count);
	a[0] = SCMP_A1(SCMP_CMP_EQ, F_SETFL);
	add(ctx, SCMP_ACT_ALLOW, "fcntl", 1, a, count);
	a[0] = SCMP_A1(SCMP_CMP_EQ, F_GETFD);
	add(ctx, SCMP_ACT_ALLOW, "fcntl", 1, a, count);
	a[0] = SCMP_A1(SCMP_CMP_EQ, F_SETFD);
	add(ctx, SCMP_ACT_ALLOW, "fcntl", 1, a, count);
}

static int
in_list(const char *const *list, const char *name)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, name) == 0)
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
	size_t		 i;
	const char	*const *c;

	*count = 0;
	if ((ctx = seccomp_init(violation())) == NULL)
		fatalx("sandbox: seccomp_init");
	/*
	 * The default only kills the thread: make a bad arch kill all,
	 * in log mode too, as no call of ours comes from another ABI.
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0)
		fatalx("sandbox: cannot set the bad-arch action");
	strlcpy(buf, words, sizeof buf);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < sizeof promises / sizeof promises[0]; i++) {
			if (strcmp(promises[i].word, w) == 0)
				break;
		}
		if (i == sizeof promises / sizeof promises[0])
			fatalx("sandbox: unknown promise '%s'", w);
		for (c = promises[i].calls; *c != NULL; c++) {
			if (promises[i].calls == p_stdio && in_list((const
			    char *const []){ "mmap", "mprotect", "fstat",
			    "newfstatat", "fcntl", NULL }, *c))
				continue;
			add_plain(ctx, SCMP_ACT_ALLOW, *c, count);
		}
		if (promises[i].calls == p_stdio)
			add_stdio_special(ctx, count);
	}
	return (ctx);
}

static scmp_filter_ctx
lane_ctx(int *count)
{
	scmp_filter_ctx		 ctx;
	const char *const	*c;
	struct scmp_arg_cmp	 a;
	size_t			 i;

	*count = 0;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		fatalx("sandbox: seccomp_init");
	/* 32-bit and x32 entry points would walk around the list. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0)
		fatalx("sandbox: cannot set the bad-arch action");
	for (c = lane_kill; *c != NULL; c++)
		add_plain(ctx, log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS,
		    *c, count);
	for (c = lane_eperm; *c != NULL; c++)
		add_plain(ctx, SCMP_ACT_ERRNO(EPERM), *c, count);
	/*
	 * unshare(2) refused is not enough: clone(2) makes namespaces as
	 * well.  clone3(2) keeps its flags in memory a filter cannot read,
	 * so it is not there at all (ENOSYS), and libc falls back to clone.
	 */
	for (i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
		a = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &a, count);
	}
	add_plain(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", count);
	return (ctx);
}

#define BROKER_PROMISES		"stdio rpath wpath proc sendfd"
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

/* Allow access beneath path; a path that does not exist is skipped. */
static void
ll_allow(int rs, const char *path, uint64_t access, int abi)
{
	struct landlock_path_beneath_attr	pb;
	struct stat				st;
	int					fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return;
	/* A rule on a file may only carry file rights. */
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE |
		    (abi >= 3 ? LL_TRUNCATE : 0) | (abi >= 5 ? LL_IOCTL_DEV :
		    0);
	memset(&pb, 0, sizeof pb);
	pb.allowed_access = access & ll_all(abi);
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1)
		fatal("sandbox: landlock_add_rule %s", path);
	close(fd);
}

static void
ll_enforce(int rs)
{
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1)
		fatal("sandbox: landlock_restrict_self");
	close(rs);
}

/* Where a lane may exec from: the system's program directories. */
static const char *const exec_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/opt", NULL
};

static void
no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}

static void
set_limit(int res, rlim_t v, const char *name)
{
	struct rlimit	rl = { v, v };

	if (setrlimit(res, &rl) == -1)
		fatal("sandbox: setrlimit %s", name);
}

static int
is_regular(int fd)
{
	struct stat	st;

	return (fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
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
	scmp_filter_ctx	ctx;
	int		abi, count, fd, maxfd = 0;

	set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
	/*
	 * FSIZE 0 would kill us on the first log line when stderr is a
	 * file; then the no-open filter alone keeps files out of reach.
	 */
	if (!is_regular(STDOUT_FILENO) && !is_regular(STDERR_FILENO))
		set_limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE");
	no_new_privs();
	if ((abi = sandbox_landlock_abi()) > 0)
		ll_enforce(ll_ruleset(ll_all(abi)));	/* no rule: no path */
	/* No new descriptor: the ones held are all we will ever have. */
	for (fd = 0; fd < 64; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			maxfd = fd;
	}
	set_limit(RLIMIT_NOFILE, (rlim_t)maxfd + 1, "RLIMIT_NOFILE");
	ctx = pledge_ctx(FRONTEND_PROMISES, &count);
	load(ctx, "frontend");
	log_debug("sandboxed: seccomp \"%s\" (%d rules), landlock ABI %d",
	    FRONTEND_PROMISES, count, abi);
}

void
sandbox_lane_layer(const struct sandbox_paths *sp)
{
	scmp_filter_ctx	 ctx;
	const char	*const *d;
	int		 abi, count, rs;

	set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	no_new_privs();
	if ((abi = sandbox_landlock_abi()) > 0) {
		/* Only exec is handled: lanes keep their files and network. */
		rs = ll_ruleset(LL_EXECUTE);
		for (d = exec_dirs; *d != NULL; d++)
			ll_allow(rs, *d, LL_EXECUTE, abi);
		ll_allow(rs, sp->lane_program, LL_EXECUTE, abi);
		ll_enforce(rs);
	}
	ctx = lane_ctx(&count);
	load(ctx, "lane");
}

static void
allow_dir_of(int rs, const char *path, uint64_t access, int abi)
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
	ll_allow(rs, buf, access, abi);
}

void
sandbox_broker(const struct sandbox_paths *sp)
{
	scmp_filter_ctx	ctx;
	char		real[PATH_MAX];
	int		abi, count, rs;

	if ((abi = sandbox_landlock_abi()) > 0) {
		/* No exec at all; read the allowlist wherever it lives. */
		rs = ll_ruleset(ll_all(abi));
		allow_dir_of(rs, sp->allowlist, LL_READ_FILE, abi);
		if (realpath(sp->allowlist, real) != NULL)
			allow_dir_of(rs, real, LL_READ_FILE, abi);
		/* The audit log is reopened after rotation. */
		allow_dir_of(rs, sp->audit, LL_READ_FILE | LL_WRITE_FILE |
		    LL_MAKE_REG | LL_TRUNCATE, abi);
		ll_enforce(rs);
	}
	ctx = pledge_ctx(BROKER_PROMISES, &count);
	load(ctx, "broker");
	log_debug("sandboxed: seccomp \"%s\" (%d rules), landlock ABI %d",
	    BROKER_PROMISES, count, abi);
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

static void
print_filter(FILE *f, const char *title, scmp_filter_ctx ctx, int count)
{
	fprintf(f, "  seccomp: %d rules; violations %s\n", count,
	    log_mode ? "are LOGGED (DISPATCH_SANDBOX=log)" : "kill the process");
	print_bpf_digest(f, ctx);
	fprintf(f, "  --- %s filter (libseccomp PFC) ---\n", title);
	fflush(f);
	seccomp_export_pfc(ctx, fileno(f));
	seccomp_release(ctx);
}

void
sandbox_print(FILE *f, const struct sandbox_paths *sp, uid_t uid, gid_t gid,
    int as_root)
{
	scmp_filter_ctx	 ctx;
	const char	*const *d;
	char		 real[PATH_MAX];
	int		 abi = sandbox_landlock_abi(), count;

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
	fprintf(f, "  rlimits: CORE 0, NPROC 0, FSIZE 0 (unless stdout or "
	    "stderr is a regular file), NOFILE = descriptors held\n");
	fprintf(f, "  no_new_privs: yes\n");
	fprintf(f, "  landlock: every filesystem right handled, no rule: no "
	    "path can be opened, executed or created\n");
	ctx = pledge_ctx(FRONTEND_PROMISES, &count);
	print_filter(f, "frontend", ctx, count);

	fprintf(f, "\nlayer lane (broker, spawner and every lane inherit it)\n");
	fprintf(f, "  rlimits: CORE 0\n  no_new_privs: yes\n");
	fprintf(f, "  landlock: only execute is handled; execute allowed "
	    "beneath:");
	for (d = exec_dirs; *d != NULL; d++)
		fprintf(f, " %s", *d);
	fprintf(f, " and the file %s\n", sp->lane_program);
	ctx = lane_ctx(&count);
	print_filter(f, "lane", ctx, count);

	fprintf(f, "\nprocess broker (audit, allowlist, lanes; promises \"%s\")"
	    "\n", BROKER_PROMISES);
	fprintf(f, "  identity: unchanged (uid %u)\n", (unsigned)getuid());
	fprintf(f, "  landlock: every filesystem right handled; read-file "
	    "allowed beneath the directory of %s", sp->allowlist);
	if (realpath(sp->allowlist, real) != NULL && strcmp(real,
	    sp->allowlist) != 0)
		fprintf(f, " and of %s", real);
	fprintf(f, "; read, write and create files beneath the directory "
	    "of %s (reopened after rotation); nothing may be executed\n",
	    sp->audit);
	ctx = pledge_ctx(BROKER_PROMISES, &count);
	print_filter(f, "broker", ctx, count);
}
