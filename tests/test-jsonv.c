/* Unit tests for frontend/jsonv.c, the strict JSON syntax check. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/bounds.h"
#include "common/jsonv.h"

static int
check_len(const char *s, size_t len)
{
	struct jsonv	jv;
	int		rv;

	rv = jsonv_check(s, len, MAX_JSON_DEPTH, &jv);
	if (rv == 0)
		assert_null(jv.err);
	else {
		assert_int_equal(rv, -1);
		assert_non_null(jv.err);
		assert_true(jv.errpos <= len);
	}
	return (rv);
}

static int
check(const char *s)
{
	return (check_len(s, strlen(s)));
}

static void
ok(const char *s)
{
	if (check(s) != 0)
		fail_msg("refused: %s", s);
}

static void
bad(const char *s)
{
	if (check(s) != -1)
		fail_msg("accepted: %s", s);
}

static void
test_valid_kinds(void **state)
{
	ok("{}");
	ok("[]");
	ok("{\"a\":1}");
	ok("{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}");
	ok("[true,false,null]");
	ok("\"a string\"");
	ok("0");
	ok("-0");
	ok("123");
	ok("-1.5e10");
	ok("1E+2");
	ok("1e-2");
	ok("0.0001");
	ok("-0.0e-0");
	ok("true");
	ok("false");
	ok("null");
	ok(" \t\r\n{ \"a\" : [ 1 , 2 ] } \r\n\t ");
	ok("[[[]]]");
	ok("{\"\":\"\"}");
	ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	ok("\"\\u0041\\u00e9\\u20AC\"");
	ok("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	ok("\"\x7f\"");
	ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
}

static void
test_trailing(void **state)
{
	bad("{}x");
	bad("{} {}");
	bad("[]]");
	bad("1 2");
	bad("{}\"");
	bad("null,");
	bad("true false");
	/* A NUL after the value is trailing data. */
	assert_int_equal(check_len("{}\0", 3), -1);
}

static void
test_nonfinite(void **state)
{
	bad("NaN");
	bad("[NaN]");
	bad("{\"a\":NaN}");
	bad("Infinity");
	bad("-Infinity");
	bad("[-Infinity]");
	bad("{\"a\":Infinity}");
	bad("nan");
	bad("inf");
	bad("-inf");
}

static void
test_single_quotes(void **state)
{
	bad("{'a':1}");
	bad("{\"a\":'b'}");
	bad("['x']");
	bad("'x'");
}

static void
test_surrogates(void **state)
{
	bad("\"\\ud800\"");
	bad("\"\\udc00\"");
	bad("\"\\ud800\\u0041\"");
	bad("\"\\ud800\\ud800\"");
	bad("\"\\udbff\"");
	bad("\"\\udfff\"");
	bad("\"\\ud800x\"");
	bad("\"\\ud800\\n\"");
	bad("{\"\\ud800\":1}");
	ok("\"\\ud83d\\ude00\"");
	ok("\"\\uD83D\\uDE00\"");
	ok("\"\\udbff\\udfff\"");
	ok("\"\\ud7ff\\ue000\"");
	ok("{\"\\ud83d\\ude00\":\"\\ud800\\udc00\"}");
}

static void
test_control_chars(void **state)
{
	char	buf[8];
	int	c;

	for (c = 0; c < 0x20; c++) {
		buf[0] = '"';
		buf[1] = 'a';
		buf[2] = (char)c;
		buf[3] = '"';
		if (check_len(buf, 4) != -1)
			fail_msg("raw control 0x%02x accepted", c);
	}
	bad("\"line\nbreak\"");
	bad("\"tab\there\"");
	ok("\"tab\\there\"");
}

static void
test_bad_escapes(void **state)
{
	bad("\"\\x41\"");
	bad("\"\\a\"");
	bad("\"\\u12\"");
	bad("\"\\u12G4\"");
	bad("\"\\U0041\"");
	bad("\"\\'\"");
	bad("\"\\");
	bad("\"abc");
}

static void
test_invalid_utf8(void **state)
{
	bad("\"\xff\"");
	bad("\"\xfe\"");
	bad("\"\x80\"");
	bad("\"\xc3\"");
	bad("\"\xc3" "a\"");
	bad("\"\xe2\x82\"");
	/* Overlong '/', overlong NUL, a surrogate, past U+10FFFF. */
	bad("\"\xc0\xaf\"");
	bad("\"\xe0\x80\xaf\"");
	bad("\"\xf0\x80\x80\xaf\"");
	bad("\"\xc0\x80\"");
	bad("\"\xed\xa0\x80\"");
	bad("\"\xf4\x90\x80\x80\"");
	/* Outside strings, any non-ASCII byte is an error. */
	bad("[1,\xc3\xa9]");
	bad("{\xc2\xa0}");
}

static void
test_bom(void **state)
{
	struct jsonv	jv;

	assert_int_equal(jsonv_check("\xef\xbb\xbf{}", 5, MAX_JSON_DEPTH, &jv),
	    -1);
	assert_string_equal(jv.err, "byte order mark");
	assert_int_equal(jv.errpos, 0);
	/* Inside a string it is just U+FEFF. */
	ok("\"\xef\xbb\xbf\"");
}

static char *
nested(size_t n, int close)
{
	char	*s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, '[', n);
	if (close)
		memset(s + n, ']', n);
	s[close ? 2 * n : n] = '\0';
	return (s);
}

static void
test_depth(void **state)
{
	struct jsonv	 jv;
	char		*s;

	s = nested(64, 1);
	assert_int_equal(jsonv_check(s, strlen(s), 64, &jv), 0);
	free(s);
	s = nested(65, 1);
	assert_int_equal(jsonv_check(s, strlen(s), 64, &jv), -1);
	assert_string_equal(jv.err, "nested too deeply");
	assert_int_equal(jv.errpos, 64);
	free(s);

	/* Objects count the same way; mixed nesting too. */
	{
		char	buf[1024];
		size_t	off = 0, i;

		for (i = 0; i < 63; i++)
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "{\"a\":");
		off += (size_t)snprintf(buf + off, sizeof buf - off, "[1]");
		for (i = 0; i < 63; i++)
			buf[off++] = '}';
		buf[off] = '\0';
		assert_int_equal(jsonv_check(buf, off, 64, &jv), 0);
		assert_int_equal(jv.members, 63);
		assert_int_equal(jsonv_check(buf, off, 63, &jv), -1);
		assert_string_equal(jv.err, "nested too deeply");
	}
}

static void
test_deep_fast(void **state)
{
	struct jsonv	 jv;
	struct timespec	 a, b;
	char		*s;
	double		 secs;

	/* A million '[': refused at depth 64, without recursing further. */
	s = nested(1000000, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(jsonv_check(s, 1000000, MAX_JSON_DEPTH, &jv), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(jv.err, "nested too deeply");
	assert_int_equal(jv.errpos, MAX_JSON_DEPTH);
	secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 0.5);
	free(s);
}

static void
test_numbers(void **state)
{
	bad("01");
	bad("-01");
	bad("00");
	bad("1.");
	bad(".5");
	bad("+1");
	bad("-");
	bad("1e");
	bad("1e+");
	bad("1.e5");
	bad("0x10");
	bad("1_000");
	bad("[1,]");
	bad("[,1]");
	bad("- 1");
	ok("[0,-0,0.5,10,1e5,1E-5]");
}

static void
test_structure(void **state)
{
	bad("");
	bad("   ");
	bad("{");
	bad("[");
	bad("{\"a\"}");
	bad("{\"a\":}");
	bad("{\"a\" 1}");
	bad("{1:2}");
	bad("{a:1}");
	bad("{\"a\":1,}");
	bad("{,}");
	bad("[1 2]");
	bad("tru");
	bad("nul");
	bad("True");
	bad("undefined");
	/* Form feed and vertical tab are not JSON whitespace, nor U+00A0. */
	bad("\f{}");
	bad("{}\v");
	bad("\xc2\xa0{}");
}

static void
test_bare_values(void **state)
{
	struct jsonv	jv;

	/* Syntax only: whether a bare value is a message is for mcp.c. */
	assert_int_equal(jsonv_check("42", 2, MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jsonv_check("\"x\"", 3, MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jsonv_check("null", 4, MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jsonv_check("[1]", 3, MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 0);
}

static void
test_members(void **state)
{
	struct jsonv	jv;
	const char	*s;

	s = "{\"a\":1,\"b\":{\"c\":2}}";
	assert_int_equal(jsonv_check(s, strlen(s), MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 3);
	s = "[{\"a\":1},{\"b\":2,\"c\":[{\"d\":{}}]}]";
	assert_int_equal(jsonv_check(s, strlen(s), MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 4);
	/* Duplicates are counted: json-c will collapse them to one. */
	s = "{\"a\":1,\"a\":2}";
	assert_int_equal(jsonv_check(s, strlen(s), MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 2);
	s = "{}";
	assert_int_equal(jsonv_check(s, strlen(s), MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 0);
	/* Keys in strings are not members. */
	s = "\"{\\\"a\\\":1}\"";
	assert_int_equal(jsonv_check(s, strlen(s), MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jv.members, 0);
}

static void
test_errpos(void **state)
{
	struct jsonv	jv;

	assert_int_equal(jsonv_check("[1,]", 4, MAX_JSON_DEPTH, &jv), -1);
	assert_int_equal(jv.errpos, 3);
	assert_int_equal(jsonv_check("{}x", 3, MAX_JSON_DEPTH, &jv), -1);
	assert_string_equal(jv.err, "trailing data after the value");
	assert_int_equal(jv.errpos, 2);
	assert_int_equal(jsonv_check("\"\\ud800\"", 8, MAX_JSON_DEPTH, &jv),
	    -1);
	assert_string_equal(jv.err, "lone high surrogate in \\u escape");
	assert_int_equal(jsonv_check("\"\\udc00\"", 8, MAX_JSON_DEPTH, &jv),
	    -1);
	assert_string_equal(jv.err, "lone low surrogate in \\u escape");
	assert_int_equal(jsonv_check("\"a\x01\"", 4, MAX_JSON_DEPTH, &jv), -1);
	assert_string_equal(jv.err, "control character in string");
	assert_int_equal(jv.errpos, 2);
	assert_int_equal(jsonv_check("\"\xff\"", 3, MAX_JSON_DEPTH, &jv), -1);
	assert_string_equal(jv.err, "invalid UTF-8 in string");
	assert_int_equal(jv.errpos, 1);
	/* Only the first error is kept. */
	assert_int_equal(jsonv_check("NaN", 3, MAX_JSON_DEPTH, &jv), -1);
	assert_string_equal(jv.err, "unexpected character");
	assert_int_equal(jv.errpos, 0);
}

static void
test_length_bound(void **state)
{
	struct jsonv	jv;

	/* Only len bytes are read: the rest of the buffer is not seen. */
	assert_int_equal(jsonv_check("{}garbage", 2, MAX_JSON_DEPTH, &jv), 0);
	assert_int_equal(jsonv_check("[1,2]", 4, MAX_JSON_DEPTH, &jv), -1);
	assert_int_equal(jsonv_check("\"ab\"", 3, MAX_JSON_DEPTH, &jv), -1);
	assert_int_equal(jsonv_check("\"\\ud83d\\ude00\"", 13, MAX_JSON_DEPTH,
	    &jv), -1);
	assert_int_equal(jsonv_check("\"\\u0041\"", 6, MAX_JSON_DEPTH, &jv),
	    -1);
	assert_int_equal(jsonv_check("true", 3, MAX_JSON_DEPTH, &jv), -1);
	assert_int_equal(jsonv_check("-", 1, MAX_JSON_DEPTH, &jv), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kinds),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_nonfinite),
		cmocka_unit_test(test_single_quotes),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_bad_escapes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_deep_fast),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_bare_values),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_errpos),
		cmocka_unit_test(test_length_bound),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
