/* Unit tests for common/conf.c. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/bounds.h"

static const char *const dispatch_vars[] = {
	"DISPATCH_REPOS_JSON", "DISPATCH_SSH_HOST", "DISPATCH_MAX_ITERATIONS",
	"DISPATCH_TIMEOUT", "DISPATCH_MAX_RUNNING", "DISPATCH_TASK_ARG",
	"DISPATCH_ENV_PASS", "DISPATCH_AUDIT_LOG", "DISPATCH_COMMAND",
	"DISPATCH_CGROUP", "DISPATCH_LANE_MEMORY_MAX", "DISPATCH_LANE_PIDS_MAX",
	"DISPATCH_LANE_CPU_MAX",
};

/* A scratch directory with an executable, a plain file and a link. */
static char	tmpdir[64];
static char	realdir[PATH_MAX];
static char	exe[PATH_MAX];		/* tmpdir/mylane, mode 0755 */
static char	plain[PATH_MAX];	/* tmpdir/plain, mode 0644 */
static char	link_[PATH_MAX];	/* tmpdir/link -> mylane */
static char	subdir[PATH_MAX];	/* tmpdir/sub, a directory */
static char	*saved_path;

static void
make_file(const char *path, mode_t mode)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	const char	*p;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-conf.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || realpath(tmpdir, realdir) == NULL)
		return (-1);
	snprintf(exe, sizeof exe, "%s/mylane", tmpdir);
	snprintf(plain, sizeof plain, "%s/plain", tmpdir);
	snprintf(link_, sizeof link_, "%s/link", tmpdir);
	snprintf(subdir, sizeof subdir, "%s/sub", tmpdir);
	make_file(exe, 0755);
	make_file(plain, 0644);
	if (symlink("mylane", link_) == -1 || mkdir(subdir, 0755) == -1)
		return (-1);
	if ((p = getenv("PATH")) != NULL)
		saved_path = strdup(p);
	return (0);
}

static int
teardown(void **state)
{
	unlink(exe);
	unlink(plain);
	unlink(link_);
	rmdir(subdir);
	rmdir(tmpdir);
	if (saved_path != NULL)
		setenv("PATH", saved_path, 1);
	free(saved_path);
	return (0);
}

static void
test_host_ok(void **state)
{
	static const char *const good[] = {
		"localhost", "a.b-c.d", "10.0.0.1", "::1", "fe80::1",
		"build-01.example.org", "a", "1a", "A.B",
	};
	char	out[MAX_HOST_BYTES + 1];
	size_t	i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		memset(out, 0, sizeof out);
		assert_int_equal(config_parse_host(good[i], out, sizeof out),
		    0);
		assert_string_equal(out, good[i]);
	}
}

static void
test_host_bad(void **state)
{
	static const char *const bad[] = {
		"-oProxyCommand=x", "a..b", "a_b", "", "host name", "a;b",
		"-x", "a-", "a-.b", "a.-b", ".a", "a.", "a/b", "a@b", "$(id)",
		"h\xc3\xa9st", "a\tb", "a\nb",
	};
	char	out[MAX_HOST_BYTES + 1];
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(config_parse_host(bad[i], out, sizeof out),
		    -1);
}

static void
test_host_length(void **state)
{
	char	host[300], out[MAX_HOST_BYTES + 1];

	/* Four labels, 63 + 63 + 63 + 61 and three dots: 253 bytes. */
	memset(host, 'a', sizeof host);
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	assert_int_equal(config_parse_host(host, out, sizeof out), 0);
	assert_string_equal(out, host);
	host[253] = 'a';
	host[254] = '\0';
	assert_int_equal(config_parse_host(host, out, sizeof out), -1);

	/* A label of 64 is too long; 63 is fine. */
	memset(host, 'b', 64);
	host[64] = '\0';
	assert_int_equal(config_parse_host(host, out, sizeof out), -1);
	host[63] = '\0';
	assert_int_equal(config_parse_host(host, out, sizeof out), 0);
}

static void
test_uint(void **state)
{
	uint32_t	v = 7;
	char		err[256];

	assert_int_equal(config_parse_uint("X", "1", 1, 100, &v, err,
	    sizeof err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(config_parse_uint("X", "100", 1, 100, &v, err,
	    sizeof err), 0);
	assert_int_equal(v, 100);
	assert_int_equal(config_parse_uint("X", "0", 0, 1, &v, err,
	    sizeof err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_uint("X", "007", 1, 100, &v, err,
	    sizeof err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(config_parse_uint("X", "4294967295", 0, UINT32_MAX,
	    &v, err, sizeof err), 0);
	assert_true(v == UINT32_MAX);
}

static void
test_uint_bad(void **state)
{
	static const char *const bad[] = {
		"1x", "-1", "", "0x10", " 1", "1 ", "+1", "1.0", "1e2", "0",
		"101", "99999999999999999999999", "18446744073709551617",
	};
	uint32_t	v = 7;
	char		err[256], want[256];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_uint("DISPATCH_MAX_ITERATIONS",
		    bad[i], 1, 100, &v, err, sizeof err), -1);
		snprintf(want, sizeof want, "DISPATCH_MAX_ITERATIONS must be "
		    "an integer from 1 to 100, not '%s'", bad[i]);
		assert_string_equal(err, want);
		assert_int_equal(v, 7);
	}
	/* Past UINT32_MAX with a 64-bit intermediate. */
	assert_int_equal(config_parse_uint("X", "4294967296", 0, UINT32_MAX,
	    &v, err, sizeof err), -1);
}

static void
test_limits(void **state)
{
	static const struct {
		const char	*var;
		const char	*v;
		int		 ok;
	} cases[] = {
		{ "DISPATCH_LANE_MEMORY_MAX", "max", 1 },
		{ "DISPATCH_LANE_MEMORY_MAX", "67108864", 1 },
		{ "DISPATCH_LANE_MEMORY_MAX", "64M", 1 },
		{ "DISPATCH_LANE_MEMORY_MAX", "2G", 1 },
		{ "DISPATCH_LANE_MEMORY_MAX", "64m", 0 },
		{ "DISPATCH_LANE_MEMORY_MAX", "64MB", 0 },
		{ "DISPATCH_LANE_MEMORY_MAX", "-1", 0 },
		{ "DISPATCH_LANE_MEMORY_MAX", "", 0 },
		{ "DISPATCH_LANE_MEMORY_MAX", " 64M", 0 },
		{ "DISPATCH_LANE_MEMORY_MAX", "9999999999999999999", 0 },
		{ "DISPATCH_LANE_PIDS_MAX", "max", 1 },
		{ "DISPATCH_LANE_PIDS_MAX", "64", 1 },
		{ "DISPATCH_LANE_PIDS_MAX", "0", 0 },
		{ "DISPATCH_LANE_PIDS_MAX", "64K", 0 },
		{ "DISPATCH_LANE_PIDS_MAX", "maxx", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "max", 1 },
		{ "DISPATCH_LANE_CPU_MAX", "50000", 1 },
		{ "DISPATCH_LANE_CPU_MAX", "50000 100000", 1 },
		{ "DISPATCH_LANE_CPU_MAX", "max 100000", 1 },
		{ "DISPATCH_LANE_CPU_MAX", "999", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "50000 999", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "50000 1000001", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "50000  100000", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "50000 100000 1", 0 },
		{ "DISPATCH_LANE_CPU_MAX", "50%", 0 },
	};
	char	out[32], err[512];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		if (config_parse_limit(cases[i].var, cases[i].v, out,
		    sizeof out, err, sizeof err) != (cases[i].ok ? 0 : -1))
			fail_msg("%s='%s': %s", cases[i].var, cases[i].v, err);
		if (cases[i].ok)
			assert_string_equal(out, cases[i].v);
		else
			assert_non_null(strstr(err, cases[i].var));
	}
}

static void
test_timeout(void **state)
{
	uint64_t	ms = 0;
	char		err[256];

	assert_int_equal(config_parse_timeout("0.5", &ms, err, sizeof err), 0);
	assert_true(ms == 500);
	assert_int_equal(config_parse_timeout("60", &ms, err, sizeof err), 0);
	assert_true(ms == 60000);
	assert_int_equal(config_parse_timeout("86400", &ms, err, sizeof err),
	    0);
	assert_true(ms == 86400000ULL);
	assert_int_equal(config_parse_timeout("1.25", &ms, err, sizeof err),
	    0);
	assert_true(ms == 1250);
	/* A tiny positive value rounds up, never to 0. */
	assert_int_equal(config_parse_timeout("0.0001", &ms, err, sizeof err),
	    0);
	assert_true(ms == 1);
}

static void
test_timeout_bad(void **state)
{
	static const char *const bad[] = {
		"0", "-1", "nan", "NaN", "inf", "infinity", "86401", "",
		"0x10", "0x1p3", " 60", "60 ", "60s", ".5", "+5", "0.0",
		"86400.001", "1e999",
	};
	uint64_t	ms = 42;
	char		err[256], want[256];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_timeout(bad[i], &ms, err,
		    sizeof err), -1);
		snprintf(want, sizeof want, "DISPATCH_TIMEOUT must be a number "
		    "of seconds > 0 and <= 86400, not '%s'", bad[i]);
		assert_string_equal(err, want);
		assert_true(ms == 42);
	}
}

static void
test_timeout_exponent(void **state)
{
	uint64_t	ms = 42;
	char		err[256];

	assert_int_equal(config_parse_timeout("1e3", &ms, err, sizeof err),
	    -1);
	assert_int_equal(config_parse_timeout("6E1", &ms, err, sizeof err),
	    -1);
	assert_true(ms == 42);
}

static void
test_env_pass(void **state)
{
	struct config	c;
	char		err[256];

	memset(&c, 0, sizeof c);
	assert_int_equal(config_parse_env_pass("GITHUB_TOKEN,TERM,_X,a1",
	    &c, err, sizeof err), 0);
	assert_int_equal(c.n_env_pass, 4);
	assert_string_equal(c.env_pass[0], "GITHUB_TOKEN");
	assert_string_equal(c.env_pass[1], "TERM");
	assert_string_equal(c.env_pass[2], "_X");
	assert_string_equal(c.env_pass[3], "a1");

	/* "PATH" is refused but names that only start with it are not. */
	assert_int_equal(config_parse_env_pass("PATHX,LD,DISPATCH", &c, err,
	    sizeof err), 0);
	assert_int_equal(c.n_env_pass, 3);

	assert_int_equal(config_parse_env_pass("", &c, err, sizeof err), 0);
	assert_int_equal(c.n_env_pass, 0);
}

static void
test_env_pass_bad(void **state)
{
	static const struct {
		const char	*in;
		const char	*err;
	} bad[] = {
		{ "PATH", "DISPATCH_ENV_PASS: 'PATH' may not be passed to "
		    "the lane" },
		{ "TERM,PATH", "DISPATCH_ENV_PASS: 'PATH' may not be passed "
		    "to the lane" },
		{ "LD_PRELOAD", "DISPATCH_ENV_PASS: 'LD_PRELOAD' may not be "
		    "passed to the lane" },
		{ "LD_LIBRARY_PATH", "DISPATCH_ENV_PASS: 'LD_LIBRARY_PATH' may "
		    "not be passed to the lane" },
		{ "DISPATCH_X", "DISPATCH_ENV_PASS: 'DISPATCH_X' may not be "
		    "passed to the lane" },
		{ "1BAD", "DISPATCH_ENV_PASS: '1BAD' is not a variable name" },
		{ "A-B", "DISPATCH_ENV_PASS: 'A-B' is not a variable name" },
		{ ",A,\n", "DISPATCH_ENV_PASS: '\\x0a' is not a variable name" },
		{ "A B", "DISPATCH_ENV_PASS: 'A B' is not a variable name" },
		{ "A=B", "DISPATCH_ENV_PASS: 'A=B' is not a variable name" },
		{ "\xc3\x89T\xc3\x89", "DISPATCH_ENV_PASS: '\xc3\x89T\xc3\x89' "
		    "is not a variable name" },
	};
	struct config	c;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&c, 0, sizeof c);
		err[0] = '\0';
		assert_int_equal(config_parse_env_pass(bad[i].in, &c, err,
		    sizeof err), -1);
		assert_string_equal(err, bad[i].err);
	}
	/* Empty entries name nothing, wherever they are. */
	memset(&c, 0, sizeof c);
	assert_int_equal(config_parse_env_pass(",A,,B,", &c, err, sizeof err),
	    0);
	assert_int_equal(c.n_env_pass, 2);
	assert_string_equal(c.env_pass[0], "A");
	assert_string_equal(c.env_pass[1], "B");
}

static void
test_env_pass_count(void **state)
{
	struct config	c;
	char		list[MAX_ENV_PASS * 8 + 16], err[256];
	size_t		off = 0;
	int		i;

	for (i = 0; i < MAX_ENV_PASS; i++)
		off += (size_t)snprintf(list + off, sizeof list - off, "%sV%d",
		    i > 0 ? "," : "", i);
	memset(&c, 0, sizeof c);
	assert_int_equal(config_parse_env_pass(list, &c, err, sizeof err), 0);
	assert_int_equal(c.n_env_pass, MAX_ENV_PASS);
	assert_string_equal(c.env_pass[MAX_ENV_PASS - 1], "V31");

	snprintf(list + off, sizeof list - off, ",V32");
	assert_int_equal(config_parse_env_pass(list, &c, err, sizeof err), -1);
	assert_string_equal(err, "DISPATCH_ENV_PASS: more than 32 names");
}

static void
test_env_pass_name_length(void **state)
{
	struct config	c;
	char		name[MAX_ENV_NAME_BYTES + 2], err[256];

	memset(name, 'N', MAX_ENV_NAME_BYTES);
	name[MAX_ENV_NAME_BYTES] = '\0';
	assert_int_equal(config_parse_env_pass(name, &c, err, sizeof err), 0);
	assert_string_equal(c.env_pass[0], name);
	name[MAX_ENV_NAME_BYTES] = 'N';
	name[MAX_ENV_NAME_BYTES + 1] = '\0';
	assert_int_equal(config_parse_env_pass(name, &c, err, sizeof err), -1);
}

static void
test_resolve_in_path(void **state)
{
	char	out[PATH_MAX], err[512], want[PATH_MAX + 16];

	setenv("PATH", tmpdir, 1);
	err[0] = '\0';
	assert_int_equal(config_resolve_command("mylane", out, sizeof out, err,
	    sizeof err), 0);
	snprintf(want, sizeof want, "%s/mylane", realdir);
	assert_string_equal(out, want);
	assert_int_equal(out[0], '/');

	/* Later entries are searched; a plain file is skipped. */
	setenv("PATH", "/nonexistent:/also-not", 1);
	assert_int_equal(config_resolve_command("mylane", out, sizeof out, err,
	    sizeof err), -1);
	{
		char	p[PATH_MAX * 2];

		snprintf(p, sizeof p, "/nonexistent:%s", tmpdir);
		setenv("PATH", p, 1);
	}
	assert_int_equal(config_resolve_command("mylane", out, sizeof out, err,
	    sizeof err), 0);
	assert_string_equal(out, want);
}

static void
test_resolve_symlink(void **state)
{
	char	out[PATH_MAX], err[512], want[PATH_MAX + 16];

	/* Through PATH and by path, a link resolves to its target. */
	snprintf(want, sizeof want, "%s/mylane", realdir);
	setenv("PATH", tmpdir, 1);
	assert_int_equal(config_resolve_command("link", out, sizeof out, err,
	    sizeof err), 0);
	assert_string_equal(out, want);
	assert_int_equal(config_resolve_command(link_, out, sizeof out, err,
	    sizeof err), 0);
	assert_string_equal(out, want);
	/* "dir/../mylane" is made canonical too. */
	{
		char	p[PATH_MAX + 16];

		snprintf(p, sizeof p, "%s/sub/../mylane", tmpdir);
		assert_int_equal(config_resolve_command(p, out, sizeof out,
		    err, sizeof err), 0);
		assert_string_equal(out, want);
	}
}

static void
test_resolve_missing(void **state)
{
	char	out[PATH_MAX], err[512];

	setenv("PATH", tmpdir, 1);
	assert_int_equal(config_resolve_command("nope", out, sizeof out, err,
	    sizeof err), -1);
	assert_string_equal(err,
	    "DISPATCH_COMMAND 'nope' is not an executable file in PATH");
	assert_int_equal(config_resolve_command("/nonexistent/lane", out,
	    sizeof out, err, sizeof err), -1);
	assert_string_equal(err, "DISPATCH_COMMAND '/nonexistent/lane' is not "
	    "an executable file");
	assert_int_equal(config_resolve_command("", out, sizeof out, err,
	    sizeof err), -1);
	assert_string_equal(err, "DISPATCH_COMMAND must not be empty");
}

static void
test_resolve_not_executable(void **state)
{
	char	out[PATH_MAX], err[512];

	setenv("PATH", tmpdir, 1);
	/* A directory, by name in PATH and by path. */
	assert_int_equal(config_resolve_command("sub", out, sizeof out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "DISPATCH_COMMAND"));
	assert_int_equal(config_resolve_command(subdir, out, sizeof out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "is not an executable file"));
	/* A file without execute permission. */
	assert_int_equal(config_resolve_command("plain", out, sizeof out, err,
	    sizeof err), -1);
	assert_int_equal(config_resolve_command(plain, out, sizeof out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "DISPATCH_COMMAND"));
}

static void
test_resolve_relative_path_entries(void **state)
{
	char	out[PATH_MAX], err[512], cwd[PATH_MAX];

	/* Empty and relative PATH entries mean the cwd: never searched. */
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(tmpdir), 0);
	setenv("PATH", ":.:sub:", 1);
	assert_int_equal(config_resolve_command("mylane", out, sizeof out, err,
	    sizeof err), -1);
	assert_string_equal(err,
	    "DISPATCH_COMMAND 'mylane' is not an executable file in PATH");
	/* An explicit relative path is allowed and made absolute. */
	assert_int_equal(config_resolve_command("./mylane", out, sizeof out,
	    err, sizeof err), 0);
	assert_int_equal(out[0], '/');
	assert_non_null(strstr(out, "/mylane"));
	assert_int_equal(chdir(cwd), 0);
}

/* A clean slate for config_load(): only what each test sets. */
static void
env_reset(void)
{
	size_t	i;

	for (i = 0; i < sizeof dispatch_vars / sizeof dispatch_vars[0]; i++)
		unsetenv(dispatch_vars[i]);
	setenv("HOME", "/home/tester", 1);
	unsetenv("XDG_STATE_HOME");
	setenv("DISPATCH_COMMAND", exe, 1);
}

static void
test_load_cgroup(void **state)
{
	struct config	c;
	char		err[512];

	env_reset();
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_int_equal(c.cgroup_mode, CGROUP_AUTO);
	assert_string_equal(c.mem_max, "");
	setenv("DISPATCH_CGROUP", "none", 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_int_equal(c.cgroup_mode, CGROUP_NONE);
	setenv("DISPATCH_CGROUP", "/sys/fs/cgroup/x", 1);
	setenv("DISPATCH_LANE_PIDS_MAX", "128", 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_int_equal(c.cgroup_mode, CGROUP_PATH);
	assert_string_equal(c.cgroup_path, "/sys/fs/cgroup/x");
	assert_string_equal(c.pids_max, "128");
	setenv("DISPATCH_CGROUP", "relative/path", 1);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "DISPATCH_CGROUP must be"));
	setenv("DISPATCH_CGROUP", "", 1);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	unsetenv("DISPATCH_CGROUP");
	setenv("DISPATCH_LANE_MEMORY_MAX", "lots", 1);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "DISPATCH_LANE_MEMORY_MAX must be"));
	env_reset();
}

static void
test_load_defaults(void **state)
{
	struct config	c;
	char		err[512], want[PATH_MAX + 16];

	env_reset();
	err[0] = '\0';
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.repos_path, "/home/tester/.repos.json");
	assert_string_equal(c.ssh_host, "localhost");
	assert_int_equal(c.max_iterations, 50);
	assert_true(c.timeout_ms == 60000);
	assert_int_equal(c.max_running, 16);
	assert_int_equal(c.task_arg, 0);
	assert_int_equal(c.n_env_pass, 0);
	assert_string_equal(c.audit_path,
	    "/home/tester/.local/state/dispatch-mcp/audit.jsonl");
	snprintf(want, sizeof want, "%s/mylane", realdir);
	assert_string_equal(c.command, want);

	/* An absolute XDG_STATE_HOME is used; a relative one ignored. */
	setenv("XDG_STATE_HOME", "/var/state", 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.audit_path,
	    "/var/state/dispatch-mcp/audit.jsonl");
	setenv("XDG_STATE_HOME", "state", 1);
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.audit_path,
	    "/home/tester/.local/state/dispatch-mcp/audit.jsonl");
	unsetenv("XDG_STATE_HOME");
}

static void
test_load_all_set(void **state)
{
	struct config	c;
	char		err[512], want[PATH_MAX + 16];

	env_reset();
	setenv("DISPATCH_REPOS_JSON", "/etc/dispatch/repos.json", 1);
	setenv("DISPATCH_SSH_HOST", "build.example.org", 1);
	setenv("DISPATCH_MAX_ITERATIONS", "7", 1);
	setenv("DISPATCH_TIMEOUT", "2.5", 1);
	setenv("DISPATCH_MAX_RUNNING", "4096", 1);
	setenv("DISPATCH_TASK_ARG", "1", 1);
	setenv("DISPATCH_ENV_PASS", "GITHUB_TOKEN,TERM", 1);
	setenv("DISPATCH_AUDIT_LOG", "/var/log/dispatch.jsonl", 1);
	setenv("PATH", tmpdir, 1);
	setenv("DISPATCH_COMMAND", "link", 1);
	err[0] = '\0';
	assert_int_equal(config_load(&c, err, sizeof err), 0);
	assert_string_equal(c.repos_path, "/etc/dispatch/repos.json");
	assert_string_equal(c.ssh_host, "build.example.org");
	assert_int_equal(c.max_iterations, 7);
	assert_true(c.timeout_ms == 2500);
	assert_int_equal(c.max_running, 4096);
	assert_int_equal(c.task_arg, 1);
	assert_int_equal(c.n_env_pass, 2);
	assert_string_equal(c.env_pass[1], "TERM");
	assert_string_equal(c.audit_path, "/var/log/dispatch.jsonl");
	snprintf(want, sizeof want, "%s/mylane", realdir);
	assert_string_equal(c.command, want);
	env_reset();
}

static void
test_load_bad_values(void **state)
{
	static const struct {
		const char	*var;
		const char	*value;
	} bad[] = {
		{ "DISPATCH_REPOS_JSON", "" },
		{ "DISPATCH_SSH_HOST", "-oProxyCommand=x" },
		{ "DISPATCH_SSH_HOST", "" },
		{ "DISPATCH_SSH_HOST", "a;b" },
		{ "DISPATCH_MAX_ITERATIONS", "0" },
		{ "DISPATCH_MAX_ITERATIONS", "100001" },
		{ "DISPATCH_MAX_ITERATIONS", "ten" },
		{ "DISPATCH_MAX_ITERATIONS", "" },
		{ "DISPATCH_TIMEOUT", "0" },
		{ "DISPATCH_TIMEOUT", "nan" },
		{ "DISPATCH_TIMEOUT", "86401" },
		{ "DISPATCH_TIMEOUT", "" },
		{ "DISPATCH_MAX_RUNNING", "0" },
		{ "DISPATCH_MAX_RUNNING", "4097" },
		{ "DISPATCH_MAX_RUNNING", "-1" },
		{ "DISPATCH_TASK_ARG", "2" },
		{ "DISPATCH_TASK_ARG", "yes" },
		{ "DISPATCH_TASK_ARG", "" },
		{ "DISPATCH_ENV_PASS", "PATH" },
		{ "DISPATCH_ENV_PASS", "LD_PRELOAD" },
		{ "DISPATCH_ENV_PASS", "1BAD" },
		{ "DISPATCH_AUDIT_LOG", "" },
		{ "DISPATCH_COMMAND", "" },
		{ "DISPATCH_COMMAND", "/nonexistent/lane" },
		{ "DISPATCH_COMMAND", "not-in-path" },
	};
	struct config	c;
	char		err[512];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		env_reset();
		setenv("PATH", tmpdir, 1);
		setenv(bad[i].var, bad[i].value, 1);
		err[0] = '\0';
		if (config_load(&c, err, sizeof err) != -1)
			fail_msg("%s='%s' was accepted", bad[i].var,
			    bad[i].value);
		if (strstr(err, bad[i].var) == NULL)
			fail_msg("%s='%s': message '%s' does not name it",
			    bad[i].var, bad[i].value, err);
	}
	env_reset();
}

static void
test_load_long_paths(void **state)
{
	static const char *const vars[] = {
		"DISPATCH_REPOS_JSON", "DISPATCH_AUDIT_LOG", "DISPATCH_COMMAND"
	};
	struct config	 c;
	char		 err[512], *big;
	size_t		 i;

	big = malloc(PATH_MAX + 10);
	assert_non_null(big);
	big[0] = '/';
	memset(big + 1, 'p', PATH_MAX + 8);
	big[PATH_MAX + 9] = '\0';
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		env_reset();
		setenv(vars[i], big, 1);
		err[0] = '\0';
		assert_int_equal(config_load(&c, err, sizeof err), -1);
		assert_non_null(strstr(err, vars[i]));
	}
	free(big);
	env_reset();
}

static void
test_load_default_command(void **state)
{
	struct config	c;
	char		err[512];

	/* Unset, the lane is dotfiles-dispatch, looked up in PATH. */
	env_reset();
	unsetenv("DISPATCH_COMMAND");
	setenv("PATH", tmpdir, 1);
	assert_int_equal(config_load(&c, err, sizeof err), -1);
	assert_string_equal(err, "DISPATCH_COMMAND 'dotfiles-dispatch' is not "
	    "an executable file in PATH");
	env_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_ok),
		cmocka_unit_test(test_host_bad),
		cmocka_unit_test(test_host_length),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_uint_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_bad),
		cmocka_unit_test(test_timeout_exponent),
		cmocka_unit_test(test_env_pass),
		cmocka_unit_test(test_env_pass_bad),
		cmocka_unit_test(test_env_pass_count),
		cmocka_unit_test(test_env_pass_name_length),
		cmocka_unit_test(test_resolve_in_path),
		cmocka_unit_test(test_resolve_symlink),
		cmocka_unit_test(test_resolve_missing),
		cmocka_unit_test(test_resolve_not_executable),
		cmocka_unit_test(test_resolve_relative_path_entries),
		cmocka_unit_test(test_load_defaults),
		cmocka_unit_test(test_load_cgroup),
		cmocka_unit_test(test_load_all_set),
		cmocka_unit_test(test_load_bad_values),
		cmocka_unit_test(test_load_long_paths),
		cmocka_unit_test(test_load_default_command),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
