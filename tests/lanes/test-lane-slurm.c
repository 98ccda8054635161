/*
 * dispatch-lane-slurm end to end: the real dispatch-mcp, over MCP, runs
 * dispatch-lane-slurm against a real one-node Slurm cluster (munged,
 * slurmctld and slurmd on loopback).  A dispatch becomes a job named by
 * its handle whose result comes back; a failing job is "failed"; a timed
 * out dispatch cancels its job, even one that traps SIGTERM and exits 0;
 * an unknown partition and a stopped slurmctld are clear errors.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
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

static char	lab[256];
static char	rec[300];
static char	spool[300];

static const char job_script[] =
    "#!/bin/sh\n"
    "# The job of the tests: records what it was given, then does the "
    "task.\n"
    "d=%s\n"
    "cat > \"$d/$SLURM_JOB_ID.stdin\"\n"
    "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > "
    "\"$d/$SLURM_JOB_ID.argv\"\n"
    "env | LC_ALL=C sort > \"$d/$SLURM_JOB_ID.env\"\n"
    "task=$(cat \"$d/$SLURM_JOB_ID.stdin\")\n"
    "echo \"job=$SLURM_JOB_ID name=$SLURM_JOB_NAME\"\n"
    "case $task in\n"
    "\"exit \"*)\n"
    "\techo \"failing on purpose\" >&2\n"
    "\texit \"${task#exit }\" ;;\n"
    "trap-term)\n"
    "\t# The worst case for sbatch --wait: SIGTERM, then exit 0.\n"
    "\ttrap 'echo got TERM; exit 0' TERM\n"
    "\tsleep 1000 &\n"
    "\techo $! > \"$d/trap.child\"\n"
    "\twait\n"
    "\texit 0 ;;\n"
    "*)\n"
    "\techo \"done: $task\" ;;\n"
    "esac\n";

static void
lab_down(void)
{
	lab_sh("sh '%s' stop '%s'", lab_script("slurm-lab.sh"), lab);
	if (getenv("TEST_KEEP") == NULL)
		lab_sh("rm -rf '%s'", lab);
}

static void
write_conf(const char *name, const char *partition, const char *time)
{
	char	path[400], text[2048];

	snprintf(path, sizeof path, "%s/%s", lab, name);
	snprintf(text, sizeof text, "# the tests' cluster\n"
	    "script %s/job.sh\npartition %s\ntime %s\nspool %s\n"
	    "slurm-conf %s/slurm.conf\n", lab, partition, time, spool, lab);
	write_file(path, text);
	chmod(path, 0644);
}

static void
lab_up(void)
{
	char	path[400], text[4096];
	int	rc, ctld, slurmd;

	if (geteuid() != 0)
		lab_skip("test-lane-slurm: not root: cannot start munged, "
		    "slurmctld and slurmd");
	snprintf(lab, sizeof lab, "/tmp/dispatch-lane-slurm.XXXXXX");
	if (mkdtemp(lab) == NULL)
		lab_skip("test-lane-slurm: mkdtemp failed");
	/* Ports of its own: another run of this test may be under way. */
	ctld = lab_free_port();
	while ((slurmd = lab_free_port()) == ctld)
		;
	rc = lab_sh("sh '%s' start '%s' %d %d", lab_script("slurm-lab.sh"), lab,
	    ctld, slurmd);
	if (rc == 77) {
		lab_down();
		lab_skip("test-lane-slurm: Slurm cannot run here");
	}
	if (rc != 0) {
		lab_down();
		fprintf(stderr, "slurm-lab.sh start failed (%d)\n", rc);
		exit(99);
	}
	snprintf(rec, sizeof rec, "%s/rec", lab);
	snprintf(spool, sizeof spool, "%s/lane-spool", lab);
	mkdir(rec, 0755);
	snprintf(path, sizeof path, "%s/job.sh", lab);
	snprintf(text, sizeof text, job_script, rec);
	write_file(path, text);
	chmod(path, 0755);
	write_conf("lane-slurm.conf", "lanes", "5");
	write_conf("bad-partition.conf", "nope", "5");
	/* Partition "short" allows 1 minute: Slurm refuses the job. */
	write_conf("too-long.conf", "short", "5");
}

static struct srv *
start_server(const char *conf, const char *timeout)
{
	static char	 cmd[1100], c[400], t[64];
	const char	*env[] = { cmd, "DISPATCH_ENV_PASS=LANE_SLURM_CONF", c,
	    t, NULL };
	struct srv	*s;

	snprintf(cmd, sizeof cmd, "DISPATCH_COMMAND=%s",
	    lab_bin("dispatch-lane-slurm"));
	snprintf(c, sizeof c, "LANE_SLURM_CONF=%s/%s", lab,
	    conf != NULL ? conf : "lane-slurm.conf");
	snprintf(t, sizeof t, "DISPATCH_TIMEOUT=%s",
	    timeout != NULL ? timeout : "60");
	s = srv_start_init(env);
	write_file(s->repos, LAB_REPOS_JSON);
	return (s);
}

/* One field of the job named by handle, as Slurm reports it now. */
static char *
job_field(const char *handle, const char *fmt)
{
	static char	 buf[256];
	char		 cmd[1200];
	FILE		*p;
	size_t		 n;

	snprintf(cmd, sizeof cmd, "SLURM_CONF='%s/slurm.conf' /usr/bin/squeue "
	    "-h -t all -n '%s' -o '%s' 2>&1", lab, handle, fmt);
	buf[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		return (buf);
	n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	pclose(p);
	return (buf);
}

static int
spool_entries(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(spool)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static void
test_job_named_by_handle(void **state)
{
	static const char task[] = "build it; $(id) `id` \"q\" 'x'\nline 2";
	struct srv	*s = start_server(NULL, NULL);
	struct json_object *r, *v;
	char		 h[64], want[128], path[400], *p, *in, *argv, *envs;
	long		 job;

	r = lab_dispatch_wait(s, task, 30000, h, sizeof h);
	v = lab_expect(r, "succeeded");
	snprintf(want, sizeof want, "name=%s", h);
	assert_non_null(strstr(lab_str(v, "detail"), want));
	assert_non_null(strstr(lab_str(v, "detail"), "done: build it;"));
	/* Slurm's own record: the job bears the handle, and completed. */
	snprintf(want, sizeof want, "%s COMPLETED", h);
	assert_string_equal(job_field(h, "%j %T"), want);
	p = strstr(lab_str(v, "detail"), "job=");
	assert_non_null(p);
	job = strtol(p + 4, NULL, 10);
	snprintf(path, sizeof path, "%s/%ld.stdin", rec, job);
	in = read_file(path, NULL);
	assert_non_null(in);
	assert_string_equal(in, task);
	snprintf(path, sizeof path, "%s/%ld.argv", rec, job);
	argv = read_file(path, NULL);
	assert_string_equal(argv, LAB_USER "\n" LAB_REPO "\n--max\n50\n");
	snprintf(path, sizeof path, "%s/%ld.env", rec, job);
	envs = read_file(path, NULL);
	snprintf(want, sizeof want, "\nDISPATCH_HANDLE=%s\n", h);
	assert_non_null(strstr(envs, want));
	assert_non_null(strstr(envs, "\nDISPATCH_GITHUB=example/lanerepo\n"));
	assert_null(strstr(envs, "TEST_CANARY"));
	assert_null(strstr(envs, "LANE_SLURM_CONF"));
	/* The task, output and error files are gone. */
	assert_int_equal(spool_entries(), 0);
	free(in);
	free(argv);
	free(envs);
	json_object_put(r);
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

static void
test_failing_job_is_failed(void **state)
{
	struct srv	*s = start_server(NULL, NULL);
	struct json_object *r, *v;

	r = lab_dispatch_wait(s, "exit 3", 30000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 3);
	assert_non_null(strstr(lab_str(v, "detail"), "failing on purpose"));
	json_object_put(r);
	assert_int_equal(spool_entries(), 0);
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

static void
test_timeout_cancels_job(void **state)
{
	struct srv	*s = start_server(NULL, "3");
	struct json_object *r, *v;
	const char	*st;
	char		 h[64], path[400], *buf;
	long long	 t0;
	pid_t		 child = -1;

	snprintf(h, sizeof h, "%s", dispatch_ok(s, LAB_USER, LAB_REPO,
	    "trap-term"));
	r = wait_final(s, h, 30000);
	v = lab_expect(r, "timed_out");
	/* The lane cancelled its job, then ended by the server's SIGTERM. */
	if (strcmp(lab_str(v, "signal"), "SIGTERM") != 0)
		fail_msg("%s", json_object_to_json_string(v));
	print_message("detail: %s\n", lab_str(v, "detail"));
	json_object_put(r);
	snprintf(path, sizeof path, "%s/trap.child", rec);
	if ((buf = read_file(path, NULL)) != NULL) {
		child = (pid_t)strtol(buf, NULL, 10);
		free(buf);
	}
	/* Slurm says it ended, and not as a success. */
	t0 = lab_ms();
	for (;;) {
		st = job_field(h, "%T");
		if (strcmp(st, "PENDING") != 0 && strcmp(st, "RUNNING") != 0 &&
		    strcmp(st, "COMPLETING") != 0)
			break;
		if (lab_ms() - t0 > 10000)
			break;
		sleep_ms(100);
	}
	print_message("job state after the timeout: %s (after %lld ms)\n",
	    st, lab_ms() - t0);
	assert_string_equal(st, "CANCELLED");
	if (child > 1) {
		while (pid_alive(child) && lab_ms() - t0 < 10000)
			sleep_ms(50);
		assert_false(pid_alive(child));
	}
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

static void
test_unknown_partition(void **state)
{
	struct srv	*s = start_server("bad-partition.conf", NULL);
	struct json_object *r, *v;

	r = lab_dispatch_wait(s, "hello", 30000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 68);
	assert_non_null(strstr(lab_str(v, "detail"),
	    "unknown partition 'nope'"));
	json_object_put(r);
	assert_int_equal(spool_entries(), 0);
	srv_free(s);
}

static void
test_rejected_submission(void **state)
{
	struct srv	*s = start_server("too-long.conf", NULL);
	struct json_object *r, *v;

	r = lab_dispatch_wait(s, "hello", 30000, NULL, 0);
	v = lab_expect(r, "failed");
	assert_int_equal(jget_int(v, "returncode"), 65);
	assert_non_null(strstr(lab_str(v, "detail"), "submission rejected: "
	    "Batch job submission failed: Requested time limit is invalid"));
	json_object_put(r);
	assert_int_equal(spool_entries(), 0);
	srv_free(s);
}

static void
test_slurmctld_down(void **state)
{
	struct srv	*s;
	struct json_object *r, *v;
	const char	*nl;

	assert_int_equal(lab_sh("sh '%s' stop-ctld '%s'",
	    lab_script("slurm-lab.sh"), lab), 0);
	s = start_server(NULL, NULL);
	r = lab_dispatch_wait(s, "hello", 30000, NULL, 0);
	v = lab_expect(r, "failed");
	print_message("detail: %s\n", lab_str(v, "detail"));
	assert_int_equal(jget_int(v, "returncode"), 69);
	assert_non_null(strstr(lab_str(v, "detail"),
	    "Slurm is unavailable: "));
	/* One line. */
	nl = strchr(lab_str(v, "detail"), '\n');
	assert_true(nl == NULL || nl[1] == '\0');
	json_object_put(r);
	assert_int_equal(spool_entries(), 0);
	assert_int_equal(lab_audit_verify(s), 0);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_named_by_handle),
		cmocka_unit_test(test_failing_job_is_failed),
		cmocka_unit_test(test_timeout_cancels_job),
		cmocka_unit_test(test_unknown_partition),
		cmocka_unit_test(test_rejected_submission),
		/* Last: it stops slurmctld. */
		cmocka_unit_test(test_slurmctld_down),
	};
	int	rc;

	lab_up();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	lab_down();
	return (rc);
}
