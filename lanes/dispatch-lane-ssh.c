/*
 * dispatch-lane-ssh: the lane program that hands a dispatch to another
 * machine.  Run by dispatch-mcp as PROGRAM ORGUSER REPO --host HOST --max
 * N with the task on stdin, it runs the system OpenSSH client with a fixed
 * option set, no user configuration, a pinned known_hosts file and one key
 * per org-user, and the fixed remote command "dispatch REPO --max N".  The
 * task travels on the channel's stdin, never in a command line, ended by
 * a NUL byte so that the far end can tell it whole from cut short.  On the
 * lane host, dispatch-lane-receive is the forced command that answers.
 *
 * It stays ssh's parent: when the server ends the lane, it ends ssh at
 * once, so that the connection closes and the receiver, which sees the
 * channel go, ends the remote work (sshd sends it no signal).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanes/lane.h"

#define SSH_PATH		"/usr/bin/ssh"
#define SSH_KEYGEN_PATH		"/usr/bin/ssh-keygen"
#define SSH_DIR_DEFAULT		"/etc/dispatch-mcp/ssh"
#define SSH_DIR_ENV		"LANE_SSH_DIR"
#define SSH_PORT_ENV		"LANE_SSH_PORT"
/* After SIGTERM, how long ssh gets before SIGKILL. */
#define SSH_TERM_GRACE_MS	500

/* Exit statuses of our own; anything else is ssh's (the remote's). */
#define EXIT_USAGE		64
#define EXIT_BADHOST		65
#define EXIT_NOKEY		66
#define EXIT_NOHOSTKEY		67
#define EXIT_OSERR		71
#define EXIT_CONFIG		78

/*
 * The reviewed option set.  With -F none no ssh_config is read, so none
 * of these can be undone by a file, and nothing (ProxyCommand,
 * LocalCommand, Match exec) can run a shell.
 */
static const char *const ssh_options[] = {
	"BatchMode=yes",
	"StrictHostKeyChecking=yes",	/* no trust on first use */
	"GlobalKnownHostsFile=none",
	"CheckHostIP=no",
	"UpdateHostKeys=no",
	"VerifyHostKeyDNS=no",
	"KnownHostsCommand=none",
	"HashKnownHosts=no",
	"IdentitiesOnly=yes",
	"IdentityAgent=none",
	"CertificateFile=none",
	"PKCS11Provider=none",
	"AddKeysToAgent=no",
	"PubkeyAuthentication=yes",
	"PreferredAuthentications=publickey",
	"PasswordAuthentication=no",
	"KbdInteractiveAuthentication=no",
	"HostbasedAuthentication=no",
	"GSSAPIAuthentication=no",
	"ForwardAgent=no",
	"ForwardX11=no",
	"ForwardX11Trusted=no",
	"ClearAllForwardings=yes",
	"ExitOnForwardFailure=yes",
	"Tunnel=no",
	"PermitLocalCommand=no",
	"ProxyCommand=none",
	"ProxyJump=none",
	"ControlMaster=no",
	"ControlPath=none",
	"RequestTTY=no",
	"EnableEscapeCommandline=no",
	"CanonicalizeHostname=no",
	"ConnectTimeout=10",
	"ConnectionAttempts=1",
	"ServerAliveInterval=15",
	"ServerAliveCountMax=3",
	"TCPKeepAlive=yes",
	"LogLevel=ERROR",
	NULL
};

static void
check_dir(const char *dir)
{
	struct stat	st;

	if (dir[0] != '/')
		lane_errx(EXIT_CONFIG, "%s must be an absolute path, not '%s'",
		    SSH_DIR_ENV, dir);
	if (stat(dir, &st) == -1)
		lane_errx(EXIT_CONFIG, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || !lane_trusted(&st))
		lane_errx(EXIT_CONFIG, "%s: not a directory owned by root or "
		    "uid %ld and closed to group and world writes", dir,
		    (long)getuid());
}

static void
check_key(const char *path, const char *orguser)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		lane_errx(EXIT_NOKEY, "no key for orguser '%s': %s: %s",
		    orguser, path, strerror(errno));
	/* ssh would ignore such a key and fail later, less clearly. */
	if (!S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0)
		lane_errx(EXIT_CONFIG, "%s: the key must be a regular file "
		    "of uid %ld with mode 0600 or stricter", path,
		    (long)getuid());
}

/* ssh-keygen -F knows hashed names and [host]:port forms as ssh does. */
static void
check_known_host(const char *file, const char *host, unsigned long port)
{
	struct lane_vec	 argv = { { NULL }, 0 }, env = { { NULL }, 0 };
	struct stat	 st;
	pid_t		 pid;
	int		 status;

	if (stat(file, &st) == -1)
		lane_errx(EXIT_NOHOSTKEY, "no known host key for '%s': %s: "
		    "%s", host, file, strerror(errno));
	if (!S_ISREG(st.st_mode) || !lane_trusted(&st))
		lane_errx(EXIT_CONFIG, "%s: not a regular file owned by root "
		    "or uid %ld and closed to group and world writes", file,
		    (long)getuid());
	lane_vec_add(&argv, "ssh-keygen");
	lane_vec_add(&argv, "-F");
	if (port == 22)
		lane_vec_add(&argv, host);
	else
		lane_vec_addf(&argv, "[%s]:%lu", host, port);
	lane_vec_add(&argv, "-f");
	lane_vec_add(&argv, file);
	lane_vec_add(&env, LANE_PATH_ENV);
	if ((pid = lane_spawn(SSH_KEYGEN_PATH, &argv, &env, -1, -1, -1,
	    0)) == -1)
		lane_errx(EXIT_OSERR, "cannot run %s: %s", SSH_KEYGEN_PATH,
		    strerror(errno));
	lane_vec_free(&argv);
	lane_vec_free(&env);
	if (lane_waitpid(pid, &status, NULL) == -1)
		lane_errx(EXIT_OSERR, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		lane_errx(EXIT_NOHOSTKEY, "no known host key for '%s' port "
		    "%lu in %s; add it there (no key is trusted on first use)",
		    host, port, file);
	lane_errx(EXIT_NOHOSTKEY, "%s cannot read %s", SSH_KEYGEN_PATH, file);
}

static unsigned long
ssh_port(void)
{
	const char	*s = getenv(SSH_PORT_ENV);
	char		*end;
	unsigned long	 port;

	if (s == NULL)
		return (22);
	errno = 0;
	port = strtoul(s, &end, 10);
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    port > 65535)
		lane_errx(EXIT_CONFIG, "%s must be a port number from 1 to "
		    "65535, not '%.16s'", SSH_PORT_ENV, s);
	return (port);
}

/* The server ended us: end ssh now, so the receiver sees the channel go. */
static void __attribute__((noreturn))
end_ssh(pid_t pid, int sig)
{
	uint64_t	deadline;
	int		status;

	kill(pid, SIGTERM);
	deadline = lane_mono_ms() + SSH_TERM_GRACE_MS;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (lane_mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			(void)lane_waitpid(pid, &status, NULL);
			break;
		}
		lane_sleep_ms(10);
	}
	lane_reraise(sig);
}

int
main(int argc, char *argv[])
{
	static struct lane_vec	 sargv, env;
	static char		 task[MAX_TASK_BYTES + 1];
	struct lane_args	 a;
	const char		*dir;
	char			 err[512], key[PATH_MAX], known[PATH_MAX];
	unsigned long		 port;
	size_t			 i;
	ssize_t			 n;
	pid_t			 pid;
	int			 in[2], r, status;

	lane_init("dispatch-lane-ssh");
	umask(077);
	if ((r = lane_parse_args(argc, argv, &a, err, sizeof err)) != 0)
		lane_errx(r == -2 ? EXIT_BADHOST : EXIT_USAGE, "%s", err);

	/* Everything is checked before any connection is tried. */
	if ((dir = getenv(SSH_DIR_ENV)) == NULL)
		dir = SSH_DIR_DEFAULT;
	if (strlen(dir) > PATH_MAX - 256)
		lane_errx(EXIT_CONFIG, "%s too long", SSH_DIR_ENV);
	check_dir(dir);
	port = ssh_port();
	snprintf(key, sizeof key, "%s/keys/%s", dir, a.orguser);
	snprintf(known, sizeof known, "%s/known_hosts", dir);
	check_key(key, a.orguser);
	check_known_host(known, a.host, port);

	lane_vec_add(&sargv, "ssh");
	lane_vec_add(&sargv, "-F");
	lane_vec_add(&sargv, "none");
	lane_vec_add(&sargv, "-T");
	lane_vec_add(&sargv, "-a");
	lane_vec_add(&sargv, "-x");
	lane_vec_add(&sargv, "-e");
	lane_vec_add(&sargv, "none");
	for (i = 0; ssh_options[i] != NULL; i++) {
		lane_vec_add(&sargv, "-o");
		lane_vec_add(&sargv, ssh_options[i]);
	}
	lane_vec_add(&sargv, "-o");
	lane_vec_addf(&sargv, "UserKnownHostsFile=%s", known);
	lane_vec_add(&sargv, "-o");
	lane_vec_addf(&sargv, "IdentityFile=%s", key);
	lane_vec_add(&sargv, "-p");
	lane_vec_addf(&sargv, "%lu", port);
	lane_vec_add(&sargv, "-l");
	lane_vec_add(&sargv, a.orguser);
	/* After "--" the host cannot be read as an option. */
	lane_vec_add(&sargv, "--");
	lane_vec_add(&sargv, a.host);
	/* Fixed words only; the receiver accepts exactly these. */
	lane_vec_add(&sargv, "dispatch");
	lane_vec_add(&sargv, a.repo);
	lane_vec_add(&sargv, "--max");
	lane_vec_add(&sargv, a.max_str);

	lane_vec_add(&env, LANE_PATH_ENV);
	lane_env_keep(&env, "HOME");
	lane_env_keep(&env, "USER");
	lane_env_keep(&env, "LOGNAME");
	lane_env_keep(&env, "LANG");

	/* The task and its NUL fit a pipe's buffer (64 KiB): no deadlock. */
	if ((n = lane_read_all(STDIN_FILENO, task, MAX_TASK_BYTES)) == -1)
		lane_errx(EXIT_USAGE, "cannot read the task from stdin, or it "
		    "is longer than %u bytes", (unsigned)MAX_TASK_BYTES);
	task[n] = '\0';
	if (pipe2(in, O_CLOEXEC) == -1 ||
	    lane_write_all(in[1], task, (size_t)n + 1) == -1 ||
	    close(in[1]) == -1)
		lane_errx(EXIT_OSERR, "task pipe: %s", strerror(errno));

	lane_catch_signals();
	/* In our process group: the server's group kill reaches it too. */
	if ((pid = lane_spawn(SSH_PATH, &sargv, &env, in[0], 1, 2, 0)) == -1)
		lane_errx(EXIT_OSERR, "cannot run %s: %s", SSH_PATH,
		    strerror(errno));
	close(in[0]);
	switch (lane_wait_or_signal(pid, &status, -1)) {
	case 0:
		return (lane_status(status));
	case 1:
		end_ssh(pid, lane_signalled);
	default:
		lane_errx(EXIT_OSERR, "wait for ssh: %s", strerror(errno));
	}
}
