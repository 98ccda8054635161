/*
 * dispatch-lane-ssh and dispatch-lane-receive end to end: the real
 * dispatch-mcp, over MCP, runs dispatch-lane-ssh, which connects to a real
 * sshd on loopback whose forced command is dispatch-lane-receive, which
 * runs a recording program as the lane user.  What that program was
 * given, the statuses that come back, refused remote commands, host key
 * pinning, and the end of the remote work when the dispatch times out.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lanes/lab.h"

static char	lab[256];	/* sshd, keys, receiver config */
static char	rec[300];	/* what the lane host's program records */
static char	sshdir[300];	/* LANE_SSH_DIR */
static char	envdir[340], envport[64];
static int	port;

/*
 * The lane host's program: it records its argv, stdin and environment
 * under its pid, then does what the task says.
 */
static const char fake_program[] =
    "#!/bin/sh\n"
    "# The lane host's program of the tests: records what it was given.\n"
    "d=%s\n"
    "cat > \"$d/$$.stdin\"\n"
    "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > \"$d/$$.argv\"\n"
    "env | LC_ALL=C sort > \"$d/$$.env\"\n"
    "case $(head -c 16 \"$d/$$.stdin\") in\n"
    "silent)\n"
    "\tsleep 1000 &\n"
    "\techo $! > \"$d/silent.child\"\n"
    "\techo $$ > \"$d/silent.pid\"\n"
    "\twhile :; do sleep 1; done ;;\n"
    "stubborn)\n"
    "\ttrap '' TERM\n"
    "\techo $$ > \"$d/stubborn.pid\"\n"
    "\twhile :; do sleep 1; done ;;\n"
    "\"exit \"*)\n"
    "\techo \"pid=$$\"\n"
    "\techo \"failing on purpose\" >&2\n"
    "\texit \"$(cut -c6- \"$d/$$.stdin\")\" ;;\n"
    "*)\n"
    "\techo \"pid=$$\" ;;\n"
    "esac\n"
    "exit 0\n";

static int
count_files(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static void
lab_down(void)
{
	lab_sh("sh '%s' stop '%s'", lab_script("sshd-lab.sh"), lab);
	if (getenv("TEST_KEEP") == NULL)
		lab_sh("rm -rf '%s'", lab);
}

static void
lab_up(void)
{
	struct passwd	*pw;
	char		 path[400], text[2048], cmd[1024];
	int		 rc;

	if (geteuid() != 0)
		lab_skip("test-lane-ssh: not root: cannot start sshd as "
		    "another user's lane host");
	if (access("/usr/sbin/sshd", X_OK) == -1)
		lab_skip("test-lane-ssh: /usr/sbin/sshd missing (apt-get "
		    "install openssh-server)");
	/* Not beneath /tmp: sshd's StrictModes refuses a 1777 parent. */
	snprintf(lab, sizeof lab, "/run/dispatch-lane-ssh.XXXXXX");
	if (mkdtemp(lab) == NULL)
		lab_skip("test-lane-ssh: mkdtemp %s failed", lab);
	chmod(lab, 0755);
	snprintf(rec, sizeof rec, "%s/rec", lab);
	snprintf(sshdir, sizeof sshdir, "%s/client", lab);
	port = lab_free_port();
	/*
	 * The lane user runs the receiver: a copy beside its configuration,
	 * as the build tree may be beneath a home the user cannot enter.
	 */
	if (lab_sh("install -m 0755 '%s' '%s/dispatch-lane-receive'",
	    lab_bin("dispatch-lane-receive"), lab) != 0) {
		lab_down();
		fprintf(stderr, "cannot copy the receiver into %s\n", lab);
		exit(99);
	}
	snprintf(cmd, sizeof cmd, "%s/dispatch-lane-receive -f %s/receive.conf",
	    lab, lab);
	rc = lab_sh("sh '%s' start '%s' %d %s '%s'", lab_script("sshd-lab.sh"),
	    lab, port, LAB_USER, cmd);
	if (rc == 77) {
		lab_down();
		lab_skip("test-lane-ssh: sshd cannot run here");
	}
	if (rc != 0) {
		lab_down();
		fprintf(stderr, "sshd-lab.sh start failed (%d)\n", rc);
		exit(99);
	}
	if ((pw = getpwnam(LAB_USER)) == NULL)
		exit(99);
	mkdir(rec, 0755);
	if (chown(rec, pw->pw_uid, pw->pw_gid) == -1)
		exit(99);
	snprintf(path, sizeof path, "%s/program", lab);
	snprintf(text, sizeof text, fake_program, rec);
	write_file(path, text);
	chmod(path, 0755);
	snprintf(path, sizeof path, "%s/receive.conf", lab);
	snprintf(text, sizeof text, "# the tests' lane host\nprogram %s/"
	    "program\n", lab);
	write_file(path, text);
	chmod(path, 0644);
	snprintf(envdir, sizeof envdir, "LANE_SSH_DIR=%s", sshdir);
	snprintf(envport, sizeof envport, "LANE_SSH_PORT=%d", port);
}

static struct srv *
start_server(const char *dir, const char *timeout)
{
	static char	 cmd[1100], d[400], t[64];
	const char	*env[] = { cmd, "DISPATCH_SSH_HOST=127.0.0.1",
	    "DISPATCH_ENV_PASS=LANE_SSH_DIR,LANE_SSH_PORT", d, envport,
	    t, NULL };
	struct srv	*s;

	snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND=%s",
	    lab_bin("dispatch-lane-ssh"));
	snprintf(d, sizeof d, "LANE_SSH_DIR=%s", dir != NULL ? dir : sshdir);
	snprintf(t, sizeof t, "DISPATCH_TIMEOUT=%s",
	    timeout != NULL ? timeout : "30");
	s = srv_start_init(env);
	write_file(s->repos, LAB_REPOS_JSON);
	return (s);
}

/* The pid the program printed, and what it recorded under it. */
static char *
recorded(struct json_object *v, const char *what, size_t *lenp)
{
	const char	*detail = lab_str(v, "detail"), *p;
	char		 path[400];

	if (detail == NULL || (p = strstr(detail, "pid=")) == NULL)
		return (NULL);
	snprintf(path, sizeof path, "%s/%ld.%s", rec, strtol(p + 4, NULL, 10),
	    what);
	return (read_file(path, lenp));
}

static void
test_argv_and_task_exact(void **state)
{
	static const char *tasks[] = {
		"fix it; rm -rf / && $(id) `id` | sh -c 'x' > /etc/passwd "
		    "\"quoted\" 'single' \\back\\slash * ? [a] ~ # %s",
		"line one\nline two\n\n\tindented line\nlast",
	};
	static char	 big[8000 * 4 + 1];
	struct srv	*s = start_server(NULL, NULL);
	struct json_object *r, *v;
	char		*in, *argv, *envs;
	size_t		 i, len;

	for (i = 0; i < 8000; i++)
		memcpy(big + i * 4, "\xf0\x9f\x98\x80", 4);	/* U+1F600 */
	for (i = 0; i < 3; i++) {
		const char *task = i < 2 ? tasks[i] : big;

		r = lab_dispatch_wait(s, task, 20000, NULL, 0);
		v = lab_expect(r, "succeeded");
		in = recorded(v, "stdin", &len);
		assert_non_null(in);
		assert_int_equal(len, strlen(task));
		assert_memory_equal(in, task, len);
		argv = recorded(v, "argv", NULL);
		assert_string_equal(argv,
		    LAB_USER "\n" LAB_REPO "\n--max\n50\n");
		envs = recorded(v, "env", NULL);
		assert_non_null(strstr(envs, "\nUSER=" LAB_USER "\n"));
		assert_non_null(strstr(envs, "DISPATCH_REPO=" LAB_REPO "\n"));
		/* Nothing of the server's environment crosses over. */
		assert_null(strstr(envs, "TEST_CANARY"));
		assert_null(strstr(envs, "LANE_SSH_DIR"));
		free(in);
		free(argv);
		free(envs);
		json_object_put(r);
	}
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

static void
test_exit_status_comes_back(void **state)
{
	struct srv	*s = start_server(NULL, NULL);
	struct json_object *r, *v;

	r = lab_dispatch_wait(s, "exit 3", 20000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 3);
	assert_non_null(strstr(lab_str(v, "detail"), "failing on purpose"));
	json_object_put(r);
	r = lab_dispatch_wait(s, "exit 0", 20000, NULL, 0);
	(void)lab_expect(r, "succeeded");
	json_object_put(r);
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

/* Straight to sshd with the lane's key: the receiver must run nothing. */
static void
test_refused_commands_run_nothing(void **state)
{
	static const char *bad[] = {
		"sh -c id", "id", "scp -t /tmp", "internal-sftp",
		"dispatch " LAB_REPO " --max 0",
		"dispatch " LAB_REPO " --max 100001",
		"dispatch " LAB_REPO " --max 5 extra",
		"dispatch ../etc --max 5", "dispatch -rf --max 5",
		"dispatch " LAB_REPO "  --max 5", "dispatch;id " LAB_REPO,
		"'dispatch' " LAB_REPO " --max 5",
	};
	size_t	 i;
	int	 before = count_files(rec), rc;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = lab_sh("echo task | /usr/bin/ssh -F none -T -o "
		    "BatchMode=yes -o StrictHostKeyChecking=yes -o "
		    "UserKnownHostsFile=%s/known_hosts -o IdentitiesOnly=yes "
		    "-o IdentityAgent=none -i %s/keys/%s -p %d %s@127.0.0.1 "
		    "-- \"%s\" 2>%s/refused.err", sshdir, sshdir, LAB_USER,
		    port, LAB_USER, bad[i], lab);
		if (rc != 2)
			fail_msg("'%s' exited %d, not 2", bad[i], rc);
	}
	/* The right command, but a task cut short: no NUL at its end. */
	rc = lab_sh("printf 'a cut task' | /usr/bin/ssh -F none -T -o "
	    "BatchMode=yes -o UserKnownHostsFile=%s/known_hosts -o "
	    "IdentitiesOnly=yes -i %s/keys/%s -p %d %s@127.0.0.1 -- dispatch "
	    "%s --max 5 2>/dev/null", sshdir, sshdir, LAB_USER, port,
	    LAB_USER, LAB_REPO);
	assert_int_equal(rc, 2);
	/* A shell request: no command at all. */
	rc = lab_sh("/usr/bin/ssh -F none -T -o BatchMode=yes -o "
	    "UserKnownHostsFile=%s/known_hosts -o IdentitiesOnly=yes "
	    "-i %s/keys/%s -p %d %s@127.0.0.1 </dev/null 2>/dev/null",
	    sshdir, sshdir, LAB_USER, port, LAB_USER);
	assert_int_equal(rc, 2);
	assert_int_equal(count_files(rec), before);
}

static void
test_unknown_host_key_refused(void **state)
{
	char		 other[400], cmd[1200];
	struct srv	*s;
	struct json_object *r, *v;
	int		 before = count_files(rec);

	/* The same layout, but known_hosts pins another key for the host. */
	snprintf(other, sizeof other, "%s/other", lab);
	lab_sh("mkdir -p -m 0700 '%s/keys' && cp -p '%s/keys/%s' '%s/keys/' && "
	    "ssh-keygen -q -t ed25519 -N '' -f '%s/fake' && "
	    "printf '[127.0.0.1]:%d %%s\\n' "
	    "\"$(cut -d' ' -f1,2 '%s/fake.pub')\" > '%s/known_hosts'", other,
	    sshdir, LAB_USER, other, other, port, other, other);
	s = start_server(other, NULL);
	r = lab_dispatch_wait(s, "hello", 20000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 255);
	assert_non_null(strstr(lab_str(v, "detail"),
	    "Host key verification failed"));
	json_object_put(r);

	/* No entry at all: refused before any connection. */
	snprintf(cmd, sizeof cmd, "%s/known_hosts", other);
	write_file(cmd, "");
	r = lab_dispatch_wait(s, "hello", 20000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 67);
	assert_non_null(strstr(lab_str(v, "detail"), "no known host key"));
	json_object_put(r);
	assert_int_equal(count_files(rec), before);
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

static pid_t
read_pid(const char *name, int wait_ms)
{
	char		 path[400], *buf;
	long long	 until = lab_ms() + wait_ms;
	long		 pid;

	snprintf(path, sizeof path, "%s/%s", rec, name);
	while ((buf = read_file(path, NULL)) == NULL || buf[0] == '\0') {
		free(buf);
		if (lab_ms() > until)
			return (-1);
		sleep_ms(20);
	}
	pid = strtol(buf, NULL, 10);
	free(buf);
	return ((pid_t)pid);
}

static void
test_timeout_ends_remote_work(void **state)
{
	struct srv	*s = start_server(NULL, "2");
	struct json_object *r, *v;
	char		 h[2][64];
	pid_t		 pid, child, stubborn;
	long long	 t0, t, ts = -1;
	int		 i;

	/* One that writes nothing, one that also ignores SIGTERM. */
	t0 = lab_ms();
	snprintf(h[0], sizeof h[0], "%s", dispatch_ok(s, LAB_USER, LAB_REPO,
	    "silent"));
	snprintf(h[1], sizeof h[1], "%s", dispatch_ok(s, LAB_USER, LAB_REPO,
	    "stubborn"));
	pid = read_pid("silent.pid", 5000);
	child = read_pid("silent.child", 5000);
	stubborn = read_pid("stubborn.pid", 5000);
	assert_true(pid > 1 && child > 1 && stubborn > 1);
	assert_true(pid_alive(pid) && pid_alive(child) && pid_alive(stubborn));
	/* By pid, on the lane host's side, while the server still waits. */
	while ((pid_alive(pid) || pid_alive(child)) && lab_ms() - t0 < 10000) {
		if (ts == -1 && !pid_alive(stubborn))
			ts = lab_ms() - t0;
		sleep_ms(10);
	}
	t = lab_ms() - t0;
	while (pid_alive(stubborn) && lab_ms() - t0 < 10000)
		sleep_ms(10);
	if (ts == -1)
		ts = lab_ms() - t0;
	print_message("remote work ended %lld ms after the dispatch, one that "
	    "ignores SIGTERM %lld ms (DISPATCH_TIMEOUT=2)\n", t, ts);
	assert_false(pid_alive(pid));
	assert_false(pid_alive(child));
	assert_false(pid_alive(stubborn));
	assert_true(t < 3500);
	/* The receiver's grace between SIGTERM and SIGKILL is 2 s. */
	assert_true(ts > 3500 && ts < 5500);
	for (i = 0; i < 2; i++) {
		r = wait_final(s, h[i], 20000);
		v = lab_expect(r, "timed_out");
		if (strcmp(lab_str(v, "signal"), "SIGTERM") != 0)
			fail_msg("dispatch %d: %s", i,
			    json_object_to_json_string(v));
		json_object_put(r);
	}
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_and_task_exact),
		cmocka_unit_test(test_exit_status_comes_back),
		cmocka_unit_test(test_refused_commands_run_nothing),
		cmocka_unit_test(test_unknown_host_key_refused),
		cmocka_unit_test(test_timeout_ends_remote_work),
	};
	int	rc;

	lab_up();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	lab_down();
	return (rc);
}
