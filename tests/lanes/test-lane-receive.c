/*
 * dispatch-lane-receive's parsers against tables: every remote command
 * it must accept or refuse, its configuration file, and the escaping of
 * untrusted text in its log lines; and, as root, the lines the real
 * program sends to syslog, caught on a /dev/log of a private mount
 * namespace.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanes/receive.h"

static void
test_accepted(void **state)
{
	static const struct {
		const char	*cmd;
		const char	*repo;
		uint32_t	 max;
	} ok[] = {
		{ "dispatch nash --max 50", "nash", 50 },
		{ "dispatch a --max 1", "a", 1 },
		{ "dispatch Repo.name_1-x --max 100000", "Repo.name_1-x",
		    100000 },
		{ "dispatch 9lives --max 7", "9lives", 7 },
	};
	struct rcv_request	req;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (rcv_parse(ok[i].cmd, &req, err, sizeof err) != 0)
			fail_msg("'%s' refused: %s", ok[i].cmd, err);
		assert_string_equal(req.repo, ok[i].repo);
		assert_int_equal(req.max, ok[i].max);
	}
}

static void
test_refused(void **state)
{
	static char	 long_cmd[RCV_MAX_COMMAND_BYTES + 2];
	static char	 long_repo[200];
	static const struct {
		const char	*cmd;
		const char	*why;
	} bad[] = {
		{ NULL, "no command" },
		{ "", "empty word" },
		{ "sh -c id", "expected 'dispatch'" },
		{ "/bin/sh", "expected 'dispatch'" },
		{ "bash -i", "expected 'dispatch'" },
		{ "scp -t /tmp/x", "expected 'dispatch'" },
		{ "scp -f .", "expected 'dispatch'" },
		{ "internal-sftp", "expected 'dispatch'" },
		{ "/usr/lib/openssh/sftp-server", "expected 'dispatch'" },
		{ "rsync --server -e.LsfxC . /", "expected 'dispatch'" },
		{ "git-upload-pack 'nash'", "expected 'dispatch'" },
		{ "dispatch", "expected 4 words" },
		{ "dispatch nash", "expected 4 words" },
		{ "dispatch nash --max", "expected 4 words" },
		{ "dispatch nash --max 50 extra", "expected 4 words" },
		{ "dispatch nash --max 50 --max 60", "expected 4 words" },
		{ "dispatch nash --max 50 ", "empty word" },
		{ " dispatch nash --max 50", "empty word" },
		{ "dispatch  nash --max 50", "empty word" },
		{ "dispatch nash  --max 50", "empty word" },
		{ "dispatch\tnash --max 50", "control" },
		{ "dispatch nash --max 50\n", "control" },
		{ "dispatch nash\n--max 50", "control" },
		{ "dispatch na\xc3\xa9sh --max 50", "non-ASCII" },
		{ "DISPATCH nash --max 50", "expected 'dispatch'" },
		{ "'dispatch' nash --max 50", "expected 'dispatch'" },
		{ "dispatch 'nash' --max 50", "invalid repo" },
		{ "dispatch \"nash\" --max 50", "invalid repo" },
		{ "dispatch nash;id --max 50", "invalid repo" },
		{ "dispatch $(id) --max 50", "invalid repo" },
		{ "dispatch `id` --max 50", "invalid repo" },
		{ "dispatch ../etc --max 50", "invalid repo" },
		{ "dispatch -rf --max 50", "invalid repo" },
		{ ".dispatch nash --max 50", "expected 'dispatch'" },
		{ "dispatch org/nash --max 50", "invalid repo" },
		{ "dispatch nash --max=50 x", "expected '--max'" },
		{ "dispatch nash -max 50", "expected '--max'" },
		{ "dispatch nash --host 50", "expected '--max'" },
		{ "dispatch nash --max 0", "--max must be" },
		{ "dispatch nash --max 100001", "--max must be" },
		{ "dispatch nash --max 050", "--max must be" },
		{ "dispatch nash --max +5", "--max must be" },
		{ "dispatch nash --max -5", "--max must be" },
		{ "dispatch nash --max 5x", "--max must be" },
		{ "dispatch nash --max 99999999999999999999", "--max must be" },
		{ "dispatch nash --max 0x10", "--max must be" },
		{ long_repo, "invalid repo" },
		{ long_cmd, "longer than" },
	};
	struct rcv_request	req;
	char			err[256];
	size_t			i;

	memset(long_cmd, 'a', sizeof long_cmd - 1);
	snprintf(long_repo, sizeof long_repo, "dispatch %0129d --max 5", 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (rcv_parse(bad[i].cmd, &req, err, sizeof err) != -1)
			fail_msg("'%s' accepted", bad[i].cmd);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i].cmd, err,
			    bad[i].why);
		/* One line, for stderr and syslog alike. */
		assert_null(strchr(err, '\n'));
	}
}

static void
test_conf(void **state)
{
	static const char good[] =
	    "# the lane host\n"
	    "\n"
	    "program   /usr/local/bin/lane-work  \n"
	    "\trepo nash\r\n"
	    "repo reid\n";
	static const struct {
		const char	*text;
		const char	*why;
	} bad[] = {
		{ "", "no program line" },
		{ "# only a comment\n", "no program line" },
		{ "program lane-work\n", "absolute path" },
		{ "program /a b\n", "absolute path" },
		{ "program\n", "needs a value" },
		{ "program /a\nprogram /b\n", "given twice" },
		{ "program /a\nrepo ../x\n", "line 2: repo must be" },
		{ "program /a\nrepo a b\n", "repo must be" },
		{ "program /a\nexec /bin/sh\n", "line 2: unknown keyword" },
		{ "Program /a\n", "unknown keyword" },
	};
	struct rcv_conf	*c = malloc(sizeof *c);
	char		 err[256];
	size_t		 i;

	assert_non_null(c);
	assert_int_equal(rcv_conf_parse(good, sizeof good - 1, c, err,
	    sizeof err), 0);
	assert_string_equal(c->program, "/usr/local/bin/lane-work");
	assert_int_equal(c->n_repos, 2);
	assert_true(rcv_conf_allows(c, "nash"));
	assert_true(rcv_conf_allows(c, "reid"));
	assert_false(rcv_conf_allows(c, "other"));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (rcv_conf_parse(bad[i].text, strlen(bad[i].text), c, err,
		    sizeof err) != -1)
			fail_msg("'%s' accepted", bad[i].text);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': got '%s'", bad[i].text, err);
	}
	assert_int_equal(rcv_conf_parse("program /a\0x\n", 13, c, err,
	    sizeof err), -1);
	/* Without repo lines every valid name is served. */
	assert_int_equal(rcv_conf_parse("program /a\n", 11, c, err,
	    sizeof err), 0);
	assert_true(rcv_conf_allows(c, "anything"));
	free(c);
}

static void
test_escape(void **state)
{
	char			buf[64];
	static const char	raw[] = "a\nb\"c\\d\x1b[1m\xc3\xa9";

	lane_escape(buf, sizeof buf, raw, sizeof raw - 1);
	assert_string_equal(buf,
	    "a\\x0ab\\x22c\\x5cd\\x1b[1m\\xc3\\xa9");
	/* Cut, and said to be cut, never past the buffer. */
	lane_escape(buf, 12, "\n\n\n\n\n\n", 6);
	assert_true(strlen(buf) < 12);
	assert_null(strchr(buf, '\n'));
}

/*
 * Run the receiver with cmd and task in a private mount namespace whose
 * /dev is a fresh tmpfs holding our own /dev/log; return the datagrams it
 * sent there, one per line, or NULL if this cannot be done here.
 */
static char *
syslog_of(const char *cmd, const char *task, size_t tasklen,
    const char *conf)
{
	static char		 lines[8192];
	struct sockaddr_un	 sun;
	const char		*build = getenv("TEST_BUILDDIR");
	char			 bin[1024], buf[2048];
	int			 out[2], in[2], fd, st;
	ssize_t			 n;
	size_t			 len = 0;
	pid_t			 pid, rpid;

	snprintf(bin, sizeof bin, "%s/dispatch-lane-receive",
	    build != NULL ? build : ".");
	if (pipe(out) == -1)
		return (NULL);
	if ((pid = fork()) == 0) {
		close(out[0]);
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1 ||
		    mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)) == -1)
			_exit(77);
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, "/dev/log");
		if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
		    pipe(in) == -1)
			_exit(99);
		if ((rpid = fork()) == 0) {
			dup2(in[0], 0);
			close(in[1]);
			if ((st = open("/dev/null", O_WRONLY)) != -1) {
				dup2(st, 1);
				dup2(st, 2);
			}
			if (cmd != NULL)
				setenv("SSH_ORIGINAL_COMMAND", cmd, 1);
			else
				unsetenv("SSH_ORIGINAL_COMMAND");
			setenv("SSH_CONNECTION", "192.0.2.1 5555 127.0.0.1 22",
			    1);
			execl(bin, "dispatch-lane-receive", "-f", conf,
			    (char *)NULL);
			_exit(98);
		}
		close(in[0]);
		if (write(in[1], task, tasklen) != (ssize_t)tasklen)
			_exit(99);
		close(in[1]);
		waitpid(rpid, &st, 0);
		/* Every datagram is queued on our socket by now. */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while ((n = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
			buf[n] = '\n';
			if (write(out[1], buf, (size_t)n + 1) != n + 1)
				_exit(99);
		}
		_exit(0);
	}
	close(out[1]);
	while (len < sizeof lines - 1 &&
	    (n = read(out[0], lines + len, sizeof lines - 1 - len)) > 0)
		len += (size_t)n;
	lines[len] = '\0';
	close(out[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return (NULL);
	return (lines);
}

static void
test_syslog_lines(void **state)
{
	char	 dir[] = "/tmp/dispatch-lane-syslog.XXXXXX", conf[128], *l;
	FILE	*f;
	int	 n;

	if (geteuid() != 0 || mkdtemp(dir) == NULL) {
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
			fail_msg("CI=true: the syslog test needs root");
		print_message("not root: no private /dev/log, skipped\n");
		skip();
	}
	snprintf(conf, sizeof conf, "%s/conf", dir);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "program /bin/true\n");
	fclose(f);
	chmod(conf, 0644);

	/* Refused: one line, LOG_AUTHPRIV|LOG_WARNING, the command escaped. */
	l = syslog_of("sh -c \"id\"\nforged: accepted user=root", "t", 1,
	    conf);
	if (l == NULL) {
		unlink(conf);
		rmdir(dir);
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
			fail_msg("CI=true: no private mount namespace");
		print_message("no private mount namespace here, skipped\n");
		skip();
	}
	for (n = 0; l[n] != '\0'; n++)
		;
	assert_non_null(strstr(l, "<84>"));
	assert_non_null(strstr(l, "dispatch-lane-receive["));
	assert_non_null(strstr(l, "refused user=root from=192.0.2.1 "
	    "command=\"sh -c \\x22id\\x22\\x0aforged: accepted user=root\": "
	    "command holds a control or non-ASCII byte"));
	assert_ptr_equal(strchr(l, '\n'), l + n - 1);	/* one line */

	/* Accepted, then done: two lines at LOG_AUTHPRIV|LOG_INFO. */
	l = syslog_of("dispatch nash --max 5", "the task", 9, conf);
	assert_non_null(l);
	assert_non_null(strstr(l, "<86>"));
	assert_non_null(strstr(l, "accepted user=root from=192.0.2.1 "
	    "repo=nash max=5 pid="));
	assert_non_null(strstr(l, "done user=root repo=nash pid="));
	assert_non_null(strstr(l, " status=0\n"));
	assert_null(strstr(l, "the task"));

	/* A shell request. */
	l = syslog_of(NULL, "", 0, conf);
	assert_non_null(l);
	assert_non_null(strstr(l, "refused user=root from=192.0.2.1 "
	    "command=\"(none)\": no command"));
	unlink(conf);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_syslog_lines),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
