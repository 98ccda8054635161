/* Unit tests for common/utf8.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"

#define S(x)	(x), (sizeof (x) - 1)

static void
test_count_ascii(void **state)
{
	assert_int_equal(utf8_count(S("")), 0);
	assert_int_equal(utf8_count(S("hello")), 5);
	/* An explicit length: NUL is a code point like any other. */
	assert_int_equal(utf8_count("a\0b", 3), 3);
}

static void
test_count_multibyte(void **state)
{
	/* U+00E9, U+20AC, U+1F600: 2, 3 and 4 bytes. */
	assert_int_equal(utf8_count(S("\xc3\xa9")), 1);
	assert_int_equal(utf8_count(S("\xe2\x82\xac")), 1);
	assert_int_equal(utf8_count(S("\xf0\x9f\x98\x80")), 1);
	assert_int_equal(utf8_count(S("a\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80z")), 5);
	/* The extremes: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF. */
	assert_int_equal(utf8_count(S("\xc2\x80")), 1);
	assert_int_equal(utf8_count(S("\xdf\xbf")), 1);
	assert_int_equal(utf8_count(S("\xe0\xa0\x80")), 1);
	assert_int_equal(utf8_count(S("\xef\xbf\xbf")), 1);
	assert_int_equal(utf8_count(S("\xf0\x90\x80\x80")), 1);
	assert_int_equal(utf8_count(S("\xf4\x8f\xbf\xbf")), 1);
	/* Just outside the surrogates: U+D7FF and U+E000. */
	assert_int_equal(utf8_count(S("\xed\x9f\xbf")), 1);
	assert_int_equal(utf8_count(S("\xee\x80\x80")), 1);
}

static void
test_count_overlong(void **state)
{
	/* '/' as 2, 3 and 4 bytes, and NUL as 2 bytes. */
	assert_int_equal(utf8_count(S("\xc0\xaf")), -1);
	assert_int_equal(utf8_count(S("\xe0\x80\xaf")), -1);
	assert_int_equal(utf8_count(S("\xf0\x80\x80\xaf")), -1);
	assert_int_equal(utf8_count(S("\xc0\x80")), -1);
	assert_int_equal(utf8_count(S("\xc1\xbf")), -1);
	/* U+07FF as 3 bytes, U+FFFF as 4. */
	assert_int_equal(utf8_count(S("\xe0\x9f\xbf")), -1);
	assert_int_equal(utf8_count(S("\xf0\x8f\xbf\xbf")), -1);
}

static void
test_count_surrogates(void **state)
{
	assert_int_equal(utf8_count(S("\xed\xa0\x80")), -1);	/* D800 */
	assert_int_equal(utf8_count(S("\xed\xbf\xbf")), -1);	/* DFFF */
	assert_int_equal(utf8_count(S("\xed\xb0\x80")), -1);	/* DC00 */
	/* A CESU-8 pair for U+1F600. */
	assert_int_equal(utf8_count(S("\xed\xa0\xbd\xed\xb8\x80")), -1);
}

static void
test_count_too_large(void **state)
{
	assert_int_equal(utf8_count(S("\xf4\x90\x80\x80")), -1);
	assert_int_equal(utf8_count(S("\xf7\xbf\xbf\xbf")), -1);
	/* Five- and six-byte forms, and bytes that never appear. */
	assert_int_equal(utf8_count(S("\xf8\x88\x80\x80\x80")), -1);
	assert_int_equal(utf8_count(S("\xfc\x84\x80\x80\x80\x80")), -1);
	assert_int_equal(utf8_count(S("\xfe")), -1);
	assert_int_equal(utf8_count(S("\xff")), -1);
}

static void
test_count_truncated(void **state)
{
	assert_int_equal(utf8_count(S("\xc3")), -1);
	assert_int_equal(utf8_count(S("\xe2\x82")), -1);
	assert_int_equal(utf8_count(S("\xf0\x9f\x98")), -1);
	assert_int_equal(utf8_count(S("abc\xf0\x9f")), -1);
	/* A lone continuation byte, and a lead followed by ASCII. */
	assert_int_equal(utf8_count(S("\x80")), -1);
	assert_int_equal(utf8_count(S("a\xbf")), -1);
	assert_int_equal(utf8_count(S("\xc3" "a")), -1);
	assert_int_equal(utf8_count(S("\xe2\x82" "a")), -1);
	/* The length given cuts a valid sequence short. */
	assert_int_equal(utf8_count("\xe2\x82\xac", 2), -1);
}

static void
test_seqlen(void **state)
{
	uint32_t	cp = 0;

	assert_int_equal(utf8_seqlen((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xe2\x82\xac", 3,
	    &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xf4\x8f\xbf\xbf",
	    4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(utf8_seqlen((const unsigned char *)"x", 0, &cp), 0);
	assert_int_equal(utf8_seqlen((const unsigned char *)"\xc0\xaf", 2,
	    NULL), 0);
}

static void
test_sanitize_valid(void **state)
{
	char	dst[64];
	size_t	n;

	n = utf8_sanitize(dst, sizeof dst, S("h\xc3\xa9llo \xf0\x9f\x98\x80"));
	assert_int_equal(n, 11);
	assert_string_equal(dst, "h\xc3\xa9llo \xf0\x9f\x98\x80");
	n = utf8_sanitize(dst, sizeof dst, S(""));
	assert_int_equal(n, 0);
	assert_string_equal(dst, "");
}

static void
test_sanitize_invalid(void **state)
{
	char	dst[64];
	size_t	n;

	n = utf8_sanitize(dst, sizeof dst, S("a\xff" "b"));
	assert_string_equal(dst, "a\xef\xbf\xbd" "b");
	assert_int_equal(n, 5);
	/* NUL becomes U+FFFD too. */
	n = utf8_sanitize(dst, sizeof dst, "a\0b", 3);
	assert_string_equal(dst, "a\xef\xbf\xbd" "b");
	assert_int_equal(n, 5);
	/* Each byte of an overlong form is replaced on its own. */
	n = utf8_sanitize(dst, sizeof dst, S("\xc0\xaf"));
	assert_string_equal(dst, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_int_equal(n, 6);
	/* A surrogate: three bytes, three replacements. */
	n = utf8_sanitize(dst, sizeof dst, S("\xed\xa0\x80"));
	assert_string_equal(dst,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* A truncated sequence at the end. */
	n = utf8_sanitize(dst, sizeof dst, S("ok\xe2\x82"));
	assert_string_equal(dst, "ok\xef\xbf\xbd\xef\xbf\xbd");
	assert_int_equal(utf8_count(dst, n), 4);
}

static void
test_sanitize_bounds(void **state)
{
	char	dst[16];
	size_t	n;

	/* Guard bytes after the window show nothing is written past it. */
	memset(dst, 'Z', sizeof dst);
	n = utf8_sanitize(dst, 4, S("abcdef"));
	assert_int_equal(n, 3);
	assert_string_equal(dst, "abc");
	assert_int_equal(dst[4], 'Z');

	/* "a" and a 2-byte char in 3 bytes: the char would not fit. */
	memset(dst, 'Z', sizeof dst);
	n = utf8_sanitize(dst, 3, S("a\xc3\xa9"));
	assert_int_equal(n, 1);
	assert_string_equal(dst, "a");
	assert_int_equal(dst[3], 'Z');

	/* A 4-byte char needs 5 bytes of room. */
	n = utf8_sanitize(dst, 4, S("\xf0\x9f\x98\x80"));
	assert_int_equal(n, 0);
	assert_string_equal(dst, "");
	n = utf8_sanitize(dst, 5, S("\xf0\x9f\x98\x80"));
	assert_int_equal(n, 4);

	/* A replacement character is never split either. */
	memset(dst, 'Z', sizeof dst);
	n = utf8_sanitize(dst, 5, S("a\xff\xff"));
	assert_int_equal(n, 4);
	assert_string_equal(dst, "a\xef\xbf\xbd");
	assert_int_equal(dst[5], 'Z');
	n = utf8_sanitize(dst, 3, S("\xff"));
	assert_int_equal(n, 0);
	assert_string_equal(dst, "");

	/* dstlen 1 holds only the terminator; 0 writes nothing at all. */
	dst[0] = 'Z';
	assert_int_equal(utf8_sanitize(dst, 1, S("abc")), 0);
	assert_int_equal(dst[0], '\0');
	dst[0] = 'Z';
	assert_int_equal(utf8_sanitize(dst, 0, S("abc")), 0);
	assert_int_equal(dst[0], 'Z');
}

static void
strip(const char *in, size_t len, const char *want)
{
	const char	*s = in;
	size_t		 n = len;

	utf8_strip(&s, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
	/* The result is a window into the input. */
	assert_true(s >= in && s + n <= in + len);
}

static void
test_strip_ascii(void **state)
{
	strip(S(""), "");
	strip(S("abc"), "abc");
	strip(S("  abc  "), "abc");
	strip(S("\t\n\v\f\r abc \r\n"), "abc");
	strip(S("a b  c"), "a b  c");
	strip(S(" \t\n "), "");
	/* U+001C..U+001F are spaces to Python; other controls are not. */
	strip(S("\x1c\x1d\x1e\x1f" "x" "\x1f"), "x");
	strip(S("\x01x\x01"), "\x01x\x01");
	strip(S("\x7fx"), "\x7fx");
}

static void
test_strip_unicode(void **state)
{
	/* U+00A0, U+3000, U+2028, U+2029, U+0085, U+1680, U+2000..U+200A. */
	strip(S("\xc2\xa0x\xc2\xa0"), "x");
	strip(S("\xe3\x80\x80x\xe3\x80\x80"), "x");
	strip(S("\xe2\x80\xa8x\xe2\x80\xa9"), "x");
	strip(S("\xc2\x85x\xe1\x9a\x80"), "x");
	strip(S("\xe2\x80\x80\xe2\x80\x8ax\xe2\x80\xaf\xe2\x81\x9f"), "x");
	/* Inner spaces stay. */
	strip(S(" a\xe3\x80\x80" "b "), "a\xe3\x80\x80" "b");
}

static void
test_strip_nonspace(void **state)
{
	/* U+200B, U+FEFF, U+180E and U+200D are not spaces to Python 3. */
	strip(S("\xe2\x80\x8bx\xe2\x80\x8b"), "\xe2\x80\x8bx\xe2\x80\x8b");
	strip(S("\xef\xbb\xbfx"), "\xef\xbb\xbfx");
	strip(S("\xe1\xa0\x8ex"), "\xe1\xa0\x8ex");
	strip(S("x\xe2\x80\x8d"), "x\xe2\x80\x8d");
	/* Nor is U+00A9, one byte off U+00A0's neighbourhood. */
	strip(S("\xc2\xa9"), "\xc2\xa9");
	/*
	 * Invalid bytes are not spaces: leading stripping stops at them,
	 * and once one is seen the rest of the value is kept as it is.
	 */
	strip(S(" \xff"), "\xff");
	strip(S(" \xff "), "\xff ");
	strip(S(" x \xff "), "x \xff ");
	strip(S(" x\xc3 y "), "x\xc3 y ");
}

static void
test_prefix(void **state)
{
	const char	s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";

	assert_int_equal(utf8_prefix(S(s), 0), 0);
	assert_int_equal(utf8_prefix(S(s), 1), 1);
	assert_int_equal(utf8_prefix(S(s), 2), 3);
	assert_int_equal(utf8_prefix(S(s), 3), 6);
	assert_int_equal(utf8_prefix(S(s), 4), 10);
	assert_int_equal(utf8_prefix(S(s), 5), 11);
	assert_int_equal(utf8_prefix(S(s), 100), 11);
	assert_int_equal(utf8_prefix(S(""), 3), 0);
	/* An invalid byte counts as one character of one byte. */
	assert_int_equal(utf8_prefix(S("\xff\xffz"), 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_ascii),
		cmocka_unit_test(test_count_multibyte),
		cmocka_unit_test(test_count_overlong),
		cmocka_unit_test(test_count_surrogates),
		cmocka_unit_test(test_count_too_large),
		cmocka_unit_test(test_count_truncated),
		cmocka_unit_test(test_seqlen),
		cmocka_unit_test(test_sanitize_valid),
		cmocka_unit_test(test_sanitize_invalid),
		cmocka_unit_test(test_sanitize_bounds),
		cmocka_unit_test(test_strip_ascii),
		cmocka_unit_test(test_strip_unicode),
		cmocka_unit_test(test_strip_nonspace),
		cmocka_unit_test(test_prefix),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
