/* Unit tests for broker/allowlist.c. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/allowlist.h"
#include "common/bounds.h"

#define SEED \
	"{\"orgs\": {\"nash-forbes\": {\"git_user\": \"Nash Forbes\"}, " \
	"\"reid-max\": {}}, " \
	"\"repos\": {\"nash\": {\"org\": \"nash-forbes\", " \
	"\"github\": \"selamy-labs/nash\"}, " \
	"\"reid\": {\"org\": \"reid-max\", " \
	"\"github\": \"selamy-labs/reid\"}, " \
	"\"orphan\": {\"org\": \"ghost-user\"}, " \
	"\"malformed\": \"not-a-dict\"}}"

static char	tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-allowlist.XXXXXX");
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	static const char *const files[] = {
		"repos.json", "big.json", "trail.json"
	};
	char	path[128];
	size_t	i;

	/* What a failed test may have left behind. */
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return (0);
}

static int
parse(const char *json, struct allowlist *al, char *err, size_t errlen)
{
	err[0] = '\0';
	return (allowlist_parse("/cfg/repos.json", json, strlen(json), al, 0,
	    err, errlen));
}

static const struct target *
find(const struct allowlist *al, const char *repo)
{
	size_t	i;

	for (i = 0; i < al->ntargets; i++) {
		if (strcmp(al->targets[i].repo, repo) == 0)
			return (&al->targets[i]);
	}
	return (NULL);
}

static void
test_seed(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse(SEED, &al, err, sizeof err), 0);
	assert_int_equal(al.norgs, 2);
	assert_string_equal(al.orgs[0].name, "nash-forbes");
	assert_string_equal(al.orgs[1].name, "reid-max");
	/* orphan (undeclared org) and malformed (not an object) dropped. */
	assert_int_equal(al.ntargets, 2);
	assert_string_equal(al.targets[0].repo, "nash");
	assert_string_equal(al.targets[0].org, "nash-forbes");
	assert_string_equal(al.targets[0].github, "selamy-labs/nash");
	assert_string_equal(al.targets[1].repo, "reid");
	assert_string_equal(al.targets[1].org, "reid-max");
	assert_string_equal(al.targets[1].github, "selamy-labs/reid");
	assert_null(find(&al, "orphan"));
	assert_null(find(&al, "malformed"));
	allowlist_free(&al);
	assert_null(al.targets);
	assert_int_equal(al.ntargets, 0);
}

static void
test_github_default(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse("{\"orgs\": {\"o\": {}}, \"repos\": "
	    "{\"plain\": {\"org\": \"o\"}}}", &al, err, sizeof err), 0);
	assert_int_equal(al.ntargets, 1);
	assert_string_equal(al.targets[0].repo, "plain");
	assert_string_equal(al.targets[0].github, "plain");
	allowlist_free(&al);
}

/* A repo's host wins; else its org's; else none (DISPATCH_SSH_HOST). */
static void
test_hosts(void **state)
{
	struct allowlist	 al;
	const struct target	*t;
	char			 err[512];

	assert_int_equal(parse("{\"orgs\": {"
	    "\"o\": {\"host\": \"build.example.org\"}, \"p\": {}, "
	    "\"bad\": {\"host\": \"-oProxyCommand=sh\"}, "
	    "\"num\": {\"host\": 7}}, \"repos\": {"
	    "\"inherits\": {\"org\": \"o\"}, "
	    "\"own\": {\"org\": \"o\", \"host\": \"10.0.0.7\"}, "
	    "\"plain\": {\"org\": \"p\"}, "
	    "\"v6\": {\"org\": \"p\", \"host\": \"::1\"}, "
	    "\"spaced\": {\"org\": \"p\", \"host\": \"a b\"}, "
	    "\"empty\": {\"org\": \"p\", \"host\": \"\"}, "
	    "\"badorg\": {\"org\": \"bad\"}}}", &al, err, sizeof err), 0);
	/* An org with a bad host is skipped, and so are its repos. */
	assert_int_equal(al.norgs, 2);
	assert_int_equal(al.ntargets, 4);
	assert_non_null(t = find(&al, "inherits"));
	assert_string_equal(t->host, "build.example.org");
	assert_non_null(t = find(&al, "own"));
	assert_string_equal(t->host, "10.0.0.7");
	assert_non_null(t = find(&al, "plain"));
	assert_string_equal(t->host, "");
	assert_non_null(t = find(&al, "v6"));
	assert_string_equal(t->host, "::1");
	assert_null(find(&al, "spaced"));
	assert_null(find(&al, "empty"));
	assert_null(find(&al, "badorg"));
	allowlist_free(&al);
}

static void
test_bad_entries_dropped(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse("{\"orgs\": {\"o\": {}, \"bad org\": {}, "
	    "\"-x\": {}}, \"repos\": {"
	    "\"ok\": {\"org\": \"o\"}, "
	    "\"../etc\": {\"org\": \"o\"}, "
	    "\"gh-bad\": {\"org\": \"o\", \"github\": \"a/b/c\"}, "
	    "\"gh-num\": {\"org\": \"o\", \"github\": 5}, "
	    "\"org-num\": {\"org\": 1}, "
	    "\"no-org\": {}, "
	    "\"bad-org\": {\"org\": \"bad org\"}, "
	    "\"arr\": [], \"nul\": null}}", &al, err, sizeof err), 0);
	assert_int_equal(al.norgs, 1);
	assert_string_equal(al.orgs[0].name, "o");
	assert_int_equal(al.ntargets, 1);
	assert_string_equal(al.targets[0].repo, "ok");
	allowlist_free(&al);
}

static void
test_no_targets(void **state)
{
	static const char *const docs[] = {
		"{}",
		"{\"orgs\": [], \"repos\": []}",
		"{\"orgs\": \"x\", \"repos\": {\"nash\": {\"org\": \"x\"}}}",
		"{\"orgs\": {\"x\": {}}, \"repos\": [\"nash\"]}",
		"{\"orgs\": {\"x\": {}}, \"repos\": null}",
		"{\"orgs\": null, \"repos\": 5}",
		"{\"orgs\": {}, \"repos\": {}}",
	};
	struct allowlist	 al;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		assert_int_equal(parse(docs[i], &al, err, sizeof err), 0);
		assert_int_equal(al.ntargets, 0);
		assert_null(allowlist_resolve(&al, "x", "nash", err,
		    sizeof err));
		assert_string_equal(err, "unknown repo 'nash': not in the "
		    "dispatch allowlist (no targets configured)");
		allowlist_free(&al);
	}
}

static void
test_invalid_json(void **state)
{
	static const char *const docs[] = {
		"{\"orgs\": }", "nope", "{} x", "{}{}", "[1,]", "{\"a\" 1}",
		"{\"orgs\": {\"o\": {}},}",
	};
	struct allowlist	 al;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		assert_int_equal(parse(docs[i], &al, err, sizeof err), -1);
		if (strncmp(err, "config /cfg/repos.json is not valid JSON: ",
		    42) != 0)
			fail_msg("'%s': unexpected message '%s'", docs[i], err);
		assert_true(strlen(err) > 42);
		assert_int_equal(al.ntargets, 0);
	}
	/* Trailing whitespace is fine. */
	assert_int_equal(parse("{}\n\t \r\n", &al, err, sizeof err), 0);
	allowlist_free(&al);
}

static void
test_incomplete_json(void **state)
{
	static const char *const docs[] = { "", "{", "{\"orgs\": {" };
	struct allowlist	 al;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		assert_int_equal(parse(docs[i], &al, err, sizeof err), -1);
		assert_int_equal(strncmp(err, "config /cfg/repos.json is not "
		    "valid JSON: ", 42), 0);
		assert_null(strstr(err, "continue"));
	}
	assert_int_equal(parse("1", &al, err, sizeof err), -1);
	assert_string_equal(err,
	    "config /cfg/repos.json must be a JSON object");
	assert_int_equal(parse("true", &al, err, sizeof err), -1);
	assert_string_equal(err,
	    "config /cfg/repos.json must be a JSON object");
	assert_int_equal(parse("null\n", &al, err, sizeof err), -1);
	assert_string_equal(err,
	    "config /cfg/repos.json must be a JSON object");
}

static void
test_not_json_extensions(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse("{'orgs': {'o': {}}, 'repos': {'r': "
	    "{'org': \"o\"}}}", &al, err, sizeof err), -1);
	assert_int_equal(strncmp(err, "config /cfg/repos.json is not valid "
	    "JSON: ", 42), 0);
}

static void
test_not_object(void **state)
{
	static const char *const docs[] = {
		"[]", "[{\"orgs\": {}}]", "\"x\"", "1\n", "true\n",
		"[]\n",
	};
	struct allowlist	 al;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		assert_int_equal(parse(docs[i], &al, err, sizeof err), -1);
		assert_string_equal(err,
		    "config /cfg/repos.json must be a JSON object");
	}
}

static void
test_invalid_utf8(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse("{\"orgs\": {\"\xff\": {}}}", &al, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "is not valid JSON"));
}

static void
test_resolve(void **state)
{
	struct allowlist	 al;
	const struct target	*t;
	char			 err[512];

	assert_int_equal(parse(SEED, &al, err, sizeof err), 0);

	t = allowlist_resolve(&al, "nash-forbes", "nash", err, sizeof err);
	assert_non_null(t);
	assert_string_equal(t->github, "selamy-labs/nash");
	t = allowlist_resolve(&al, "reid-max", "reid", err, sizeof err);
	assert_non_null(t);
	assert_string_equal(t->repo, "reid");

	assert_null(allowlist_resolve(&al, "nash-forbes", "x", err,
	    sizeof err));
	assert_string_equal(err, "unknown repo 'x': not in the dispatch "
	    "allowlist (['nash', 'reid'])");
	/* Dropped entries are unknown too. */
	assert_null(allowlist_resolve(&al, "ghost-user", "orphan", err,
	    sizeof err));
	assert_string_equal(err, "unknown repo 'orphan': not in the dispatch "
	    "allowlist (['nash', 'reid'])");

	assert_null(allowlist_resolve(&al, "ghost", "nash", err, sizeof err));
	assert_string_equal(err, "unknown orguser 'ghost': not declared in "
	    "the dispatch allowlist");
	assert_null(allowlist_resolve(&al, "reid-max", "nash", err,
	    sizeof err));
	assert_string_equal(err, "orguser 'reid-max' does not own repo "
	    "'nash'; that repo dispatches to 'nash-forbes'");
	allowlist_free(&al);
}

static void
test_resolve_case(void **state)
{
	struct allowlist	 al;
	char			 err[512];

	assert_int_equal(parse(SEED, &al, err, sizeof err), 0);
	assert_null(allowlist_resolve(&al, "nash-forbes", "Nash", err,
	    sizeof err));
	assert_string_equal(err, "unknown repo 'Nash': not in the dispatch "
	    "allowlist (['nash', 'reid'])");
	assert_null(allowlist_resolve(&al, "Nash-Forbes", "nash", err,
	    sizeof err));
	assert_string_equal(err, "unknown orguser 'Nash-Forbes': not declared "
	    "in the dispatch allowlist");
	/* A prefix is not a match. */
	assert_null(allowlist_resolve(&al, "nash-forbes", "nas", err,
	    sizeof err));
	assert_null(allowlist_resolve(&al, "nash", "nash", err, sizeof err));
	assert_string_equal(err, "unknown orguser 'nash': not declared in "
	    "the dispatch allowlist");
	allowlist_free(&al);
}

/* {"orgs": {"o": {}}, "repos": {"r0": {"org": "o"}, ...}} */
static char *
many_repos(int n)
{
	char	*buf;
	size_t	 cap = 64 + (size_t)n * 32, off;
	int	 i;

	buf = malloc(cap);
	assert_non_null(buf);
	off = (size_t)snprintf(buf, cap,
	    "{\"orgs\": {\"o\": {}}, \"repos\": {");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off,
		    "%s\"r%d\": {\"org\": \"o\"}", i > 0 ? ", " : "", i);
	snprintf(buf + off, cap - off, "}}");
	return (buf);
}

static void
test_resolve_many(void **state)
{
	struct allowlist	 al;
	char			 err[MAX_REASON_BYTES], want[1024], *doc;
	size_t			 off;
	int			 i;

	/* 32 repos are all listed. */
	doc = many_repos(32);
	assert_int_equal(parse(doc, &al, err, sizeof err), 0);
	assert_int_equal(al.ntargets, 32);
	assert_null(allowlist_resolve(&al, "o", "x", err, sizeof err));
	off = (size_t)snprintf(want, sizeof want, "unknown repo 'x': not in "
	    "the dispatch allowlist ([");
	for (i = 0; i < 32; i++)
		off += (size_t)snprintf(want + off, sizeof want - off,
		    "%s'r%d'", i > 0 ? ", " : "", i);
	snprintf(want + off, sizeof want - off, "])");
	assert_string_equal(err, want);
	allowlist_free(&al);
	free(doc);

	/* 40: the first 32 and ", ...". */
	doc = many_repos(40);
	assert_int_equal(parse(doc, &al, err, sizeof err), 0);
	assert_int_equal(al.ntargets, 40);
	assert_null(allowlist_resolve(&al, "o", "x", err, sizeof err));
	off = (size_t)snprintf(want, sizeof want, "unknown repo 'x': not in "
	    "the dispatch allowlist ([");
	for (i = 0; i < 32; i++)
		off += (size_t)snprintf(want + off, sizeof want - off,
		    "%s'r%d'", i > 0 ? ", " : "", i);
	snprintf(want + off, sizeof want - off, ", ...])");
	assert_string_equal(err, want);
	/* Every entry still resolves. */
	assert_non_null(allowlist_resolve(&al, "o", "r39", err, sizeof err));
	allowlist_free(&al);
	free(doc);
}

static void
test_resolve_small_buffer(void **state)
{
	struct allowlist	 al;
	char			 err[64], big[MAX_REASON_BYTES], *doc;
	size_t			 len;

	doc = many_repos(40);
	assert_int_equal(parse(doc, &al, big, sizeof big), 0);
	/* Guard bytes after the window show nothing is written past it. */
	memset(err, 'Z', sizeof err);
	assert_null(allowlist_resolve(&al, "o", "x", err, 40));
	len = strnlen(err, 40);
	assert_true(len < 40);
	assert_int_equal(err[40], 'Z');
	assert_int_equal(strncmp(err, "unknown repo 'x'", 16), 0);
	allowlist_free(&al);
	free(doc);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_true(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

#define NEW_DOC	\
	"{\"orgs\": {\"o\": {}}, \"repos\": {\"n\": {\"org\": \"o\"}}}"

static void
test_load(void **state)
{
	struct allowlist	 al;
	char			 path[128], err[512];

	snprintf(path, sizeof path, "%s/repos.json", tmpdir);
	write_file(path, SEED "\n", strlen(SEED) + 1);
	err[0] = '\0';
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), 0);
	assert_int_equal(al.ntargets, 2);
	assert_string_equal(al.targets[1].github, "selamy-labs/reid");
	allowlist_free(&al);
	/* Loaded afresh each time: an edit takes effect. */
	write_file(path, NEW_DOC, sizeof NEW_DOC - 1);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), 0);
	assert_int_equal(al.ntargets, 1);
	assert_string_equal(al.targets[0].repo, "n");
	allowlist_free(&al);
	unlink(path);
}

static void
test_load_missing(void **state)
{
	struct allowlist	 al;
	char			 path[128], want[256], err[512];

	snprintf(path, sizeof path, "%s/absent.json", tmpdir);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), -1);
	snprintf(want, sizeof want, "config %s cannot be read: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(al.ntargets, 0);
}

static void
test_load_directory(void **state)
{
	struct allowlist	 al;
	char			 want[256], err[512];

	assert_int_equal(allowlist_load(tmpdir, &al, err, sizeof err), -1);
	snprintf(want, sizeof want, "config %s is not a regular file but a "
	    "directory", tmpdir);
	assert_string_equal(err, want);
	assert_int_equal(allowlist_load("/dev/null", &al, err, sizeof err),
	    -1);
	assert_string_equal(err, "config /dev/null is not a regular file but "
	    "a character device");
}

static void
test_load_too_large(void **state)
{
	struct allowlist	 al;
	char			 path[128], want[256], err[512], *buf;
	size_t			 len = MAX_ALLOWLIST_BYTES + 1;

	/* Valid JSON padded with whitespace to one byte over 1 MiB. */
	buf = malloc(len);
	assert_non_null(buf);
	memset(buf, ' ', len);
	memcpy(buf, "{}", 2);
	snprintf(path, sizeof path, "%s/big.json", tmpdir);
	write_file(path, buf, len);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), -1);
	snprintf(want, sizeof want, "config %s is larger than 1048576 bytes",
	    path);
	assert_string_equal(err, want);
	/* Exactly 1 MiB is allowed. */
	write_file(path, buf, len - 1);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), 0);
	allowlist_free(&al);
	unlink(path);
	free(buf);
}

static void
test_load_trailing_garbage(void **state)
{
	struct allowlist	 al;
	char			 path[128], want[256], err[512];
	const char		 doc[] = SEED "\n}";

	snprintf(path, sizeof path, "%s/trail.json", tmpdir);
	write_file(path, doc, sizeof doc - 1);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), -1);
	/* json-c's strict mode or our own check: either names the file. */
	snprintf(want, sizeof want, "config %s is not valid JSON: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_int_equal(al.ntargets, 0);
	/* A NUL after the object is garbage too. */
	write_file(path, "{}\0", 3);
	assert_int_equal(allowlist_load(path, &al, err, sizeof err), -1);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_github_default),
		cmocka_unit_test(test_bad_entries_dropped),
		cmocka_unit_test(test_no_targets),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_incomplete_json),
		cmocka_unit_test(test_not_json_extensions),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_case),
		cmocka_unit_test(test_resolve_many),
		cmocka_unit_test(test_resolve_small_buffer),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_trailing_garbage),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
