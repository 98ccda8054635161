/* Unit tests for common/validate.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bounds.h"
#include "common/utf8.h"
#include "common/validate.h"

#define S(x)	(x), (sizeof (x) - 1)
#define NAME_RULE	"must match " NAME_PATTERN " (letters, digits, " \
	"dot, dash, underscore)"

/* n copies of unit, between pre and post; the caller frees it. */
static char *
repeat(const char *pre, const char *unit, size_t n, const char *post,
    size_t *lenp)
{
	size_t	 plen = strlen(pre), ulen = strlen(unit);
	size_t	 qlen = strlen(post), len = plen + ulen * n + qlen, i;
	char	*s = malloc(len + 1);

	assert_non_null(s);
	memcpy(s, pre, plen);
	for (i = 0; i < n; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	memcpy(s + plen + n * ulen, post, qlen);
	s[len] = '\0';
	*lenp = len;
	return (s);
}

static int
task(const char *in, size_t len, const char **out, size_t *outlen, char *err,
    size_t errlen)
{
	*out = in;
	*outlen = len;
	err[0] = '\0';
	return (check_task(out, outlen, err, errlen));
}

static void
test_task_empty(void **state)
{
	const char	*s;
	size_t		 len;
	char		 err[256];

	assert_int_equal(task(S(""), &s, &len, err, sizeof err), -1);
	assert_string_equal(err, "task_description must not be empty");
	assert_int_equal(task(S(" \t\r\n "), &s, &len, err, sizeof err), -1);
	assert_string_equal(err, "task_description must not be empty");
	/* U+3000, U+00A0 and U+2028 are whitespace too. */
	assert_int_equal(task(S("\xe3\x80\x80\xc2\xa0\xe2\x80\xa8"), &s, &len,
	    err, sizeof err), -1);
	assert_string_equal(err, "task_description must not be empty");
}

static void
test_task_stripped(void **state)
{
	const char	*s;
	size_t		 len;
	char		 err[256];

	assert_int_equal(task(S("  fix the build\n"), &s, &len, err,
	    sizeof err), 0);
	assert_int_equal(len, 13);
	assert_memory_equal(s, "fix the build", 13);
	/* Newlines, tabs and other controls inside are data. */
	assert_int_equal(task(S("\tline 1\nline 2\x01\x1b[0m\ttab\r\n"), &s,
	    &len, err, sizeof err), 0);
	assert_int_equal(len, sizeof "line 1\nline 2\x01\x1b[0m\ttab" - 1);
	assert_memory_equal(s, "line 1\nline 2\x01\x1b[0m\ttab", len);
	/* A leading '-' is the broker's business in argv mode, not ours. */
	assert_int_equal(task(S("--help"), &s, &len, err, sizeof err), 0);
}

static void
test_task_limit(void **state)
{
	const char	*s;
	char		*t, err[256];
	size_t		 len, tlen;

	t = repeat("", "x", MAX_TASK_CODEPOINTS, "", &tlen);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), 0);
	assert_int_equal(len, 8000);
	free(t);

	/* 8000 four-byte characters: 32000 bytes, still 8000 characters. */
	t = repeat("", "\xf0\x9f\x98\x80", 8000, "", &tlen);
	assert_int_equal(tlen, 32000);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), 0);
	assert_int_equal(len, 32000);
	free(t);

	t = repeat("", "x", 8001, "", &tlen);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), -1);
	assert_string_equal(err,
	    "task_description too long: 8001 > 8000 characters");
	free(t);

	t = repeat("", "\xe2\x82\xac", 8001, "", &tlen);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), -1);
	assert_string_equal(err,
	    "task_description too long: 8001 > 8000 characters");
	free(t);
}

static void
test_task_counted_after_strip(void **state)
{
	const char	*s;
	char		*t, err[256];
	size_t		 len, tlen;

	/* 8000 characters padded with 100 spaces of each kind: accepted. */
	t = repeat("   \xe3\x80\x80\n", "y", 8000, "\xc2\xa0  \t", &tlen);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), 0);
	assert_int_equal(len, 8000);
	assert_int_equal(s[0], 'y');
	free(t);

	t = repeat(" ", "y", 8001, " ", &tlen);
	assert_int_equal(task(t, tlen, &s, &len, err, sizeof err), -1);
	assert_string_equal(err,
	    "task_description too long: 8001 > 8000 characters");
	free(t);
}

static void
test_task_bad_bytes(void **state)
{
	const char	*s;
	size_t		 len;
	char		 err[256];
	static const char want[] = "task_description must be valid UTF-8 "
	    "without NUL characters";

	assert_int_equal(task("do\0it", 5, &s, &len, err, sizeof err), -1);
	assert_string_equal(err, want);
	/* A trailing NUL would be stripped by nobody: still refused. */
	assert_int_equal(task("do it\0", 6, &s, &len, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(task(S("do \xff it"), &s, &len, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(task(S("\xc0\xaf"), &s, &len, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(task(S("x\xed\xa0\x80"), &s, &len, err, sizeof err),
	    -1);
	assert_string_equal(err, want);
	assert_int_equal(task(S("x\xf4\x90\x80\x80"), &s, &len, err,
	    sizeof err), -1);
	assert_string_equal(err, want);
}

static int
name(const char *what, const char *in, size_t len, const char **out,
    size_t *outlen, char *err, size_t errlen)
{
	*out = in;
	*outlen = len;
	err[0] = '\0';
	return (check_name(what, out, outlen, err, errlen));
}

static void
test_name_seed_refusals(void **state)
{
	static const char *const bad[] = {
		"nash;rm -rf /", "../etc", "selamy-labs/nash", "*"
	};
	const char	*s;
	size_t		 len, i;
	char		 err[512], want[512];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(name("orguser", bad[i], strlen(bad[i]), &s,
		    &len, err, sizeof err), -1);
		snprintf(want, sizeof want, "invalid orguser '%s': "
		    NAME_RULE, bad[i]);
		assert_string_equal(err, want);
	}
	assert_int_equal(name("repo", S("../etc"), &s, &len, err, sizeof err),
	    -1);
	assert_string_equal(err, "invalid repo '../etc': " NAME_RULE);
}

static void
test_name_length(void **state)
{
	const char	*s;
	char		*n, err[512], want[512];
	size_t		 len, nlen;

	n = repeat("", "a", 128, "", &nlen);
	assert_int_equal(name("orguser", n, nlen, &s, &len, err, sizeof err),
	    0);
	assert_int_equal(len, 128);
	free(n);

	/* 129: refused, and the echo is cut at 64 with an ellipsis. */
	n = repeat("", "a", 129, "", &nlen);
	assert_int_equal(name("orguser", n, nlen, &s, &len, err, sizeof err),
	    -1);
	assert_true(strncmp(err, "invalid orguser '", 17) == 0);
	snprintf(want, sizeof want, "invalid orguser '%.64s\xe2\x80\xa6': "
	    NAME_RULE, n);
	assert_string_equal(err, want);
	free(n);
}

static void
test_name_strip(void **state)
{
	const char	*s;
	size_t		 len;
	char		 err[512];

	assert_int_equal(name("orguser", S("  nash-forbes "), &s, &len, err,
	    sizeof err), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(s, "nash-forbes", 11);
	assert_int_equal(name("repo", S("\xe3\x80\x80nash\n"), &s, &len, err,
	    sizeof err), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(s, "nash", 4);
	assert_int_equal(name("repo", S("a.b_c-D9"), &s, &len, err,
	    sizeof err), 0);

	assert_int_equal(name("repo", S(""), &s, &len, err, sizeof err), -1);
	assert_string_equal(err, "repo must not be empty");
	assert_int_equal(name("orguser", S(" \t "), &s, &len, err, sizeof err),
	    -1);
	assert_string_equal(err, "orguser must not be empty");
}

static void
test_name_unicode(void **state)
{
	static const char *const bad[] = {
		"n\xd0\xb0sh",			/* Cyrillic a */
		/* Fullwidth "nash". */
		"\xef\xbd\x8e\xef\xbd\x81\xef\xbd\x93\xef\xbd\x88",
		"nash\xe2\x80\xae" "hsan",	/* RTL override */
		"na\xe2\x80\x8dsh",		/* zero-width joiner */
		"nash\xe2\x80\x8d",		/* ZWJ at the end */
		"\xe2\x80\x8bnash",		/* zero-width space */
		"caf\xc3\xa9",
	};
	const char	*s;
	size_t		 len, i;
	char		 err[512], want[512];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(name("repo", bad[i], strlen(bad[i]), &s, &len,
		    err, sizeof err), -1);
		snprintf(want, sizeof want, "invalid repo '%s': " NAME_RULE,
		    bad[i]);
		assert_string_equal(err, want);
	}
	/* Invalid bytes are echoed as U+FFFD, never raw. */
	assert_int_equal(name("repo", S("x\xff"), &s, &len, err, sizeof err),
	    -1);
	assert_string_equal(err, "invalid repo 'x\xef\xbf\xbd': " NAME_RULE);
}

static void
test_name_punctuation(void **state)
{
	static const char *const bad[] = {
		"-x", ".x", "_x", "..", ".", "a b", "a/b", "a\\b", "a:b",
		"a'b", "a\"b", "$x", "a\tb", "~"
	};
	const char	*s;
	size_t		 len, i;
	char		 err[512];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(name("repo", bad[i], strlen(bad[i]), &s,
		    &len, err, sizeof err), -1);
	assert_int_equal(name("repo", S("x-"), &s, &len, err, sizeof err), 0);
	assert_int_equal(name("repo", S("x.."), &s, &len, err, sizeof err),
	    0);
	assert_int_equal(name("repo", S("0"), &s, &len, err, sizeof err), 0);
	/* An embedded NUL is not a name character. */
	assert_int_equal(name("repo", "a\0b", 3, &s, &len, err, sizeof err),
	    -1);
}

static void
test_is_valid_name(void **state)
{
	assert_true(is_valid_name(S("nash")));
	assert_false(is_valid_name(S("")));
	assert_false(is_valid_name(S(" nash")));
	assert_false(is_valid_name(S("nash ")));
}

#define H(x)	check_handle(S(x))

static void
test_handle(void **state)
{
	assert_int_equal(H("dsp-0123456789abcdef0123456789abcdef"), 0);
	assert_int_equal(H("dsp-00000000000000000000000000000000"), 0);
	assert_int_equal(H("dsp-ffffffffffffffffffffffffffffffff"), 0);
	/* Uppercase hex, wrong prefix, 31 and 33 digits, non-hex. */
	assert_int_equal(H("dsp-0123456789ABCDEF0123456789abcdef"), -1);
	assert_int_equal(H("DSP-0123456789abcdef0123456789abcdef"), -1);
	assert_int_equal(H("dsq-0123456789abcdef0123456789abcdef"), -1);
	assert_int_equal(H("dsp_0123456789abcdef0123456789abcdef"), -1);
	assert_int_equal(H("dsp-0123456789abcdef0123456789abcde"), -1);
	assert_int_equal(H("dsp-0123456789abcdef0123456789abcdef0"), -1);
	assert_int_equal(H("dsp-0123456789abcdef0123456789abcdeg"), -1);
	assert_int_equal(H("xdsp-0123456789abcdef0123456789abcde"), -1);
	assert_int_equal(H(" dsp-0123456789abcdef0123456789abcde"), -1);
	assert_int_equal(H("dsp-0123456789abcdef0123456789abcde "), -1);
	assert_int_equal(H(""), -1);
	assert_int_equal(H("dsp-"), -1);
	/* An embedded NUL with the right length. */
	assert_int_equal(check_handle("dsp-0123456789abcdef0123456789abcd\0f",
	    36), -1);
}

static void
test_github(void **state)
{
	assert_int_equal(check_github(S("selamy-labs/nash")), 0);
	assert_int_equal(check_github(S("nash")), 0);
	assert_int_equal(check_github(S("a.b/c_d")), 0);
	assert_int_equal(check_github(S("")), -1);
	assert_int_equal(check_github(S("/nash")), -1);
	assert_int_equal(check_github(S("selamy-labs/")), -1);
	assert_int_equal(check_github(S("/")), -1);
	assert_int_equal(check_github(S("a/b/c")), -1);
	assert_int_equal(check_github(S("../etc")), -1);
	assert_int_equal(check_github(S("owner/..")), -1);
	assert_int_equal(check_github(S("owner/-x")), -1);
	assert_int_equal(check_github(S("own er/x")), -1);
	assert_int_equal(check_github(S("owner/n\xd0\xb0sh")), -1);
}

static void
test_github_length(void **state)
{
	char	buf[MAX_GITHUB_BYTES + 2];

	/* Each part may be 128 bytes; the whole is then 257. */
	memset(buf, 'o', 128);
	buf[128] = '/';
	memset(buf + 129, 'n', 128);
	buf[257] = '\0';
	assert_int_equal(check_github(buf, 257), 0);
	buf[257] = 'n';
	buf[258] = '\0';
	assert_int_equal(check_github(buf, 258), -1);
	memset(buf, 'o', 129);
	buf[129] = '/';
	buf[130] = 'n';
	assert_int_equal(check_github(buf, 131), -1);
}

static void
test_echo_short(void **state)
{
	char	buf[ECHO_BYTES];

	echo_value(buf, sizeof buf, S("nash"));
	assert_string_equal(buf, "nash");
	echo_value(buf, sizeof buf, S(""));
	assert_string_equal(buf, "");
	/* Invalid bytes become U+FFFD; NUL and other controls \xHH. */
	echo_value(buf, sizeof buf, "a\0b\xff", 4);
	assert_string_equal(buf, "a\\x00b\xef\xbf\xbd");
	echo_value(buf, sizeof buf, S("a\nb\rc\x1b[0m\x7f"));
	assert_string_equal(buf, "a\\x0ab\\x0dc\\x1b[0m\\x7f");
	/* C1 controls (U+0080-U+009F, here CSI) by their code point. */
	echo_value(buf, sizeof buf, S("x\xc2\x9by\xc3\xa9"));
	assert_string_equal(buf, "x\\x9by\xc3\xa9");
}

/* 64 controls, each four bytes escaped, and the ellipsis still fit. */
static void
test_echo_controls_fill(void **state)
{
	char	 buf[ECHO_BYTES], src[65], want[ECHO_BYTES];
	size_t	 i;

	memset(src, '\n', sizeof src);
	echo_value(buf, sizeof buf, src, sizeof src);
	for (i = 0; i < 64; i++)
		memcpy(want + 4 * i, "\\x0a", 4);
	memcpy(want + 4 * i, "\xe2\x80\xa6", 4);
	assert_string_equal(buf, want);
	assert_null(strchr(buf, '\n'));
}

static void
test_echo_truncation(void **state)
{
	char	 buf[ECHO_BYTES], want[ECHO_BYTES];
	char	*s;
	size_t	 len;

	/* Exactly 64 characters: kept whole, no ellipsis. */
	s = repeat("", "a", 64, "", &len);
	echo_value(buf, sizeof buf, s, len);
	assert_string_equal(buf, s);
	free(s);

	s = repeat("", "a", 65, "", &len);
	echo_value(buf, sizeof buf, s, len);
	snprintf(want, sizeof want, "%.64s\xe2\x80\xa6", s);
	assert_string_equal(buf, want);
	assert_int_equal(utf8_count(buf, strlen(buf)), 65);
	free(s);

	/* 100 two-byte characters: 64 of them and the ellipsis. */
	s = repeat("", "\xc3\xa9", 100, "", &len);
	echo_value(buf, sizeof buf, s, len);
	assert_int_equal(strlen(buf), 128 + 3);
	assert_memory_equal(buf, s, 128);
	assert_string_equal(buf + 128, "\xe2\x80\xa6");
	free(s);

	/* 200 invalid bytes: 64 replacement characters and the ellipsis. */
	s = repeat("", "\xff", 200, "", &len);
	echo_value(buf, sizeof buf, s, len);
	assert_int_equal(strlen(buf), 64 * 3 + 3);
	assert_int_equal(utf8_count(buf, strlen(buf)), 65);
	free(s);
}

static void
test_echo_truncation_4byte(void **state)
{
	char	 buf[ECHO_BYTES];
	char	*s;
	size_t	 len;

	s = repeat("", "\xf0\x9f\x98\x80", 100, "", &len);
	echo_value(buf, sizeof buf, s, len);
	assert_int_equal(strlen(buf), 256 + 3);
	assert_memory_equal(buf, s, 256);
	assert_string_equal(buf + 256, "\xe2\x80\xa6");
	free(s);
}

static void
test_echo_small_buffer(void **state)
{
	char	buf[8];

	/* Never past the buffer, never a split character. */
	memset(buf, 'Z', sizeof buf);
	echo_value(buf, 5, S("\xc3\xa9\xc3\xa9\xc3\xa9"));
	assert_string_equal(buf, "\xc3\xa9\xc3\xa9");
	assert_int_equal(buf[5], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_empty),
		cmocka_unit_test(test_task_stripped),
		cmocka_unit_test(test_task_limit),
		cmocka_unit_test(test_task_counted_after_strip),
		cmocka_unit_test(test_task_bad_bytes),
		cmocka_unit_test(test_name_seed_refusals),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_name_strip),
		cmocka_unit_test(test_name_unicode),
		cmocka_unit_test(test_name_punctuation),
		cmocka_unit_test(test_is_valid_name),
		cmocka_unit_test(test_handle),
		cmocka_unit_test(test_github),
		cmocka_unit_test(test_github_length),
		cmocka_unit_test(test_echo_short),
		cmocka_unit_test(test_echo_controls_fill),
		cmocka_unit_test(test_echo_truncation),
		cmocka_unit_test(test_echo_truncation_4byte),
		cmocka_unit_test(test_echo_small_buffer),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
