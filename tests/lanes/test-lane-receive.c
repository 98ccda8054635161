/*
 * dispatch-lane-receive's parsers against tables: every remote command
 * it must accept or refuse, its configuration file, and the escaping of
 * untrusted text in its log lines.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_escape),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
