/*
 * The audit log's index (broker/history.c): which lines it takes, where
 * it says they are, and how it follows a log that grows, is cut, is
 * replaced, ends in a torn line or holds a line too long to be ours.
 */
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

#include "broker/history.h"
#include "common/bounds.h"

#define SESS	"0123456789abcdef0123456789abcdef"
#define HA	"dsp-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB	"dsp-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HC	"dsp-cccccccccccccccccccccccccccccccc"
#define REC(ev, h) \
	"{\"seq\":1,\"prev\":\"x\",\"ts\":\"t\",\"event\":\"" ev "\"," \
	"\"session\":\"" SESS "\",\"uid\":0,\"user\":\"root\"," \
	"\"server_pid\":42,\"client\":{\"name\":\"n\",\"version\":\"v\"}," \
	"\"handle\":\"" h "\"}"

static char	path[] = "/tmp/test-history.XXXXXX";
static int	fd = -1;

static off_t
put(const char *s)
{
	off_t	at = lseek(fd, 0, SEEK_END);

	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	return (at);
}

static int
setup(void **state)
{
	history_reset();
	strcpy(path, "/tmp/test-history.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	return (0);
}

static int
teardown(void **state)
{
	close(fd);
	unlink(path);
	history_reset();
	return (0);
}

static void
expect_at(const char *h, off_t doff, size_t dlen, off_t eoff, size_t elen)
{
	off_t	d, e;
	size_t	dl, el;

	assert_int_equal(history_find(h, &d, &dl, &e, &el), 1);
	assert_int_equal(d, doff);
	assert_int_equal(dl, dlen);
	assert_int_equal(el, elen);
	if (elen != 0)
		assert_int_equal(e, eoff);
}

static void
test_lines_taken(void **state)
{
	struct history_stats	st;
	off_t			da, ea, db;

	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.dispatches, 0);
	assert_int_equal(st.scanned, 0);

	da = put(REC("dispatch", HA) "\n");
	/* An exit before its dispatch, and events that are not ours. */
	put(REC("exit", HC) "\n");
	put(REC("rejected", HB) "\n");
	put(REC("dispatchx", HB) "\n");
	/* Handles that are not handles; no session; no pid. */
	put(REC("dispatch", "dsp-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") "\n");
	put(REC("dispatch", "dsp-aaaa") "\n");
	put("{\"event\":\"dispatch\",\"server_pid\":1,\"handle\":\"" HB
	    "\"}\n");
	put("{\"event\":\"dispatch\",\"session\":\"" SESS "\",\"handle\":\""
	    HB "\"}\n");
	put("not json at all\n\n");
	ea = put(REC("exit", HA) "\n");
	/* A second exit of the same dispatch: the first counts. */
	put(REC("exit", HA) "\n");
	/* A second dispatch of a handle: the first counts. */
	put(REC("dispatch", HA) "\n");
	db = put(REC("dispatch", HB) "\n");
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.dispatches, 2);
	assert_int_equal(st.exits, 1);
	assert_int_equal(st.scanned, lseek(fd, 0, SEEK_END));
	expect_at(HA, da, strlen(REC("dispatch", HA)), ea,
	    strlen(REC("exit", HA)));
	expect_at(HB, db, strlen(REC("dispatch", HB)), 0, 0);
	{
		off_t	d, e;
		size_t	dl, el;

		assert_int_equal(history_find(HC, &d, &dl, &e, &el), 0);
		assert_int_equal(history_find("dsp-zz", &d, &dl, &e, &el), 0);
	}
}

static void
test_torn_and_growing(void **state)
{
	struct history_stats	st;
	const char		*exit_b = REC("exit", HB) "\n";
	off_t			end, eb;
	size_t			half = strlen(exit_b) / 2;

	put(REC("dispatch", HB) "\n");
	end = lseek(fd, 0, SEEK_END);
	eb = end;
	/* Half a record: being written, or torn by a crash. */
	assert_int_equal(write(fd, exit_b, half), (ssize_t)half);
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.scanned, end);
	assert_int_equal(st.exits, 0);
	expect_at(HB, 0, strlen(REC("dispatch", HB)), 0, 0);
	/* The rest comes: only the new bytes are read. */
	put(exit_b + half);
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.exits, 1);
	assert_int_equal(st.dispatches, 1);
	expect_at(HB, 0, strlen(REC("dispatch", HB)), eb,
	    strlen(REC("exit", HB)));
}

static void
test_long_line_skipped(void **state)
{
	struct history_stats	st;
	size_t			n = MAX_HISTORY_LINE_BYTES + 4096;
	char			*big = malloc(n + 1);
	off_t			da, start;

	assert_non_null(big);
	/* A dispatch line padded past the bound is no record of ours. */
	memset(big, ' ', n);
	memcpy(big, REC("dispatch", HC), strlen(REC("dispatch", HC)));
	big[n] = '\n';
	assert_int_equal(write(fd, big, n + 1), (ssize_t)n + 1);
	da = put(REC("dispatch", HA) "\n");
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.dispatches, 1);
	expect_at(HA, da, strlen(REC("dispatch", HA)), 0, 0);
	{
		off_t	d, e;
		size_t	dl, el;

		assert_int_equal(history_find(HC, &d, &dl, &e, &el), 0);
	}
	/* One at the end with no newline yet: not passed over. */
	start = lseek(fd, 0, SEEK_END);
	assert_int_equal(write(fd, big, n), (ssize_t)n);
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.scanned, start);
	put("\n");
	put(REC("dispatch", HB) "\n");
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.dispatches, 2);
	assert_int_equal(st.skipped, 2);
	free(big);
}

/* In steps of a budget, the same index as in one go. */
static void
test_in_steps(void **state)
{
	struct history_stats	st;
	char			h[40];
	int			i, steps = 0, rv;

	for (i = 0; i < 1000; i++) {
		snprintf(h, sizeof h, "dsp-%032x", i + 1);
		put("{\"seq\":1,\"prev\":\"x\",\"ts\":\"t\",\"event\":"
		    "\"dispatch\",\"session\":\"" SESS "\",\"server_pid\":7,"
		    "\"handle\":\"");
		put(h);
		put("\"}\n");
	}
	while ((rv = history_scan(fd, &st, 4096)) == 0)
		steps++;
	assert_int_equal(rv, 1);
	assert_true(steps > 10);
	assert_int_equal(st.dispatches, 1000);
	assert_int_equal(st.scanned, lseek(fd, 0, SEEK_END));
	snprintf(h, sizeof h, "dsp-%032x", 1000);
	{
		off_t	d, e;
		size_t	dl, el;

		assert_int_equal(history_find(h, &d, &dl, &e, &el), 1);
		assert_int_equal(el, 0);
	}
}

static void
test_cut_and_replaced(void **state)
{
	struct history_stats	st;
	char			other[] = "/tmp/test-history.XXXXXX";
	int			fd2;

	put(REC("dispatch", HA) "\n");
	put(REC("dispatch", HB) "\n");
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.dispatches, 2);
	/* Cut below what was read: read again from the start. */
	assert_int_equal(ftruncate(fd, 0), 0);
	put(REC("dispatch", HC) "\n");
	assert_int_equal(history_scan(fd, &st, 0), 1);
	assert_int_equal(st.dispatches, 1);
	expect_at(HC, 0, strlen(REC("dispatch", HC)), 0, 0);
	{
		off_t	d, e;
		size_t	dl, el;

		assert_int_equal(history_find(HA, &d, &dl, &e, &el), 0);
	}
	/* Another file (rotation): its own index. */
	assert_true((fd2 = mkstemp(other)) != -1);
	assert_int_equal(write(fd2, REC("dispatch", HB) "\n",
	    strlen(REC("dispatch", HB)) + 1),
	    (ssize_t)strlen(REC("dispatch", HB)) + 1);
	assert_int_equal(history_scan(fd2, &st, 0), 1);
	assert_int_equal(st.dispatches, 1);
	expect_at(HB, 0, strlen(REC("dispatch", HB)), 0, 0);
	close(fd2);
	unlink(other);
	/* Not a regular file: refused. */
	assert_true((fd2 = open("/dev/null", O_RDONLY)) != -1);
	assert_int_equal(history_scan(fd2, &st, 0), -1);
	close(fd2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_taken, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_and_growing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_line_skipped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_in_steps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cut_and_replaced, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
