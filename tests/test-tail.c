/* Unit tests for broker/tail.c: the kept tail of a lane's output. */
#include "config.h"

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/lane.h"
#include "common/bounds.h"
#include "common/utf8.h"

#define CAP	MAX_CAPTURE_BYTES
#define DETAIL	(MAX_DETAIL_BYTES + 1)

static void
tail_free(struct tailbuf *t)
{
	free(t->buf);
	memset(t, 0, sizeof *t);
}

/* A printable stream whose every position is distinguishable. */
static char *
stream(size_t len)
{
	char	*s = malloc(len);
	size_t	 i;

	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = (char)('!' + (i * 7 + i / 94) % 94);
	return (s);
}

static char *
detail(const struct tailbuf *t, size_t outlen, size_t *lenp)
{
	char	*out = malloc(outlen);

	assert_non_null(out);
	*lenp = tail_detail(t, out, outlen);
	assert_int_equal(strlen(out), *lenp);
	assert_true(*lenp < outlen);
	assert_true(utf8_count(out, *lenp) >= 0);
	return (out);
}

static void
test_empty(void **state)
{
	struct tailbuf	 t;
	char		 out[8];

	memset(&t, 0, sizeof t);
	out[0] = 'Z';
	assert_int_equal(tail_detail(&t, out, sizeof out), 0);
	assert_string_equal(out, "");
	/* A zero-length append counts nothing and allocates nothing. */
	tail_append(&t, "", 0);
	assert_null(t.buf);
	assert_true(t.total == 0);
	/* outlen 0: nothing is written at all. */
	tail_append(&t, "abc", 3);
	out[0] = 'Z';
	assert_int_equal(tail_detail(&t, out, 0), 0);
	assert_int_equal(out[0], 'Z');
	tail_free(&t);
}

static void
test_under_capacity(void **state)
{
	struct tailbuf	 t;
	char		*out, *s;
	size_t		 len;

	memset(&t, 0, sizeof t);
	tail_append(&t, "hello ", 6);
	tail_append(&t, "world", 5);
	assert_true(t.total == 11);
	assert_int_equal(t.used, 11);
	out = detail(&t, DETAIL, &len);
	assert_string_equal(out, "hello world");
	free(out);
	tail_free(&t);

	/* Exactly the capacity: all kept, not yet wrapped. */
	s = stream(CAP);
	tail_append(&t, s, CAP);
	assert_int_equal(t.used, CAP);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, CAP);
	assert_memory_equal(out, s, CAP);
	free(out);
	free(s);
	tail_free(&t);
}

static void
test_over_capacity_one_append(void **state)
{
	struct tailbuf	 t;
	char		*out, *s;
	size_t		 len, n = CAP + 12345;

	memset(&t, 0, sizeof t);
	s = stream(n);
	tail_append(&t, s, n);
	assert_true(t.total == n);
	assert_int_equal(t.used, CAP);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, CAP);
	assert_memory_equal(out, s + n - CAP, CAP);
	free(out);
	free(s);
	tail_free(&t);
}

static void
test_over_capacity_chunks(void **state)
{
	static const size_t chunks[] = { 1, 7, 1000, 4096, 65535, 65536,
	    65537, 100000 };
	struct tailbuf	 t;
	char		*out, *s;
	size_t		 len, n = 3 * CAP + 777, off, i, c;

	s = stream(n);
	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		memset(&t, 0, sizeof t);
		for (off = 0; off < n; off += c) {
			c = chunks[i] < n - off ? chunks[i] : n - off;
			tail_append(&t, s + off, c);
		}
		assert_true(t.total == n);
		assert_int_equal(t.used, CAP);
		out = detail(&t, DETAIL, &len);
		assert_int_equal(len, CAP);
		if (memcmp(out, s + n - CAP, CAP) != 0)
			fail_msg("chunk size %zu: wrong tail", chunks[i]);
		free(out);
		tail_free(&t);
	}
	free(s);
}

static void
test_bounded_memory(void **state)
{
	struct tailbuf	 t;
	char		*chunk, *buf, *out;
	size_t		 i, len, n = 16384;
	size_t		 rounds = 100U * 1000 * 1000 / 16384;

	chunk = malloc(n);
	assert_non_null(chunk);
	memset(chunk, 'm', n);
	memset(&t, 0, sizeof t);
	tail_append(&t, chunk, n);
	buf = t.buf;
	assert_non_null(buf);
	/* One allocation of the capacity, never grown. */
	assert_true(malloc_usable_size(buf) >= CAP);
	assert_true(malloc_usable_size(buf) < CAP + 4096);
	for (i = 1; i < rounds; i++) {
		chunk[0] = (char)('a' + i % 26);
		tail_append(&t, chunk, n);
		if (t.buf != buf || t.used > CAP)
			fail_msg("buffer changed at round %zu", i);
	}
	/* 6103 rounds of 16 KiB: every byte counted, 64 KiB kept. */
	assert_true(t.total == (uint64_t)rounds * n);
	assert_true(t.total >= 100U * 1000 * 1000 - n);
	assert_int_equal(t.used, CAP);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, CAP);
	/* The last chunk starts 16 KiB from the end. */
	assert_int_equal(out[CAP - n], 'a' + (rounds - 1) % 26);
	free(out);
	free(chunk);
	tail_free(&t);
}

static void
test_invalid_utf8(void **state)
{
	struct tailbuf	 t;
	char		*out;
	size_t		 len;

	memset(&t, 0, sizeof t);
	tail_append(&t, "ab\xff" "cd\0ef\xc0\xaf", 10);
	out = detail(&t, DETAIL, &len);
	assert_string_equal(out, "ab\xef\xbf\xbd" "cd\xef\xbf\xbd" "ef"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	free(out);
	tail_free(&t);

	/* Unwrapped output that starts mid-character is the lane's: kept. */
	tail_append(&t, "\xa9" "x", 2);
	out = detail(&t, DETAIL, &len);
	assert_string_equal(out, "\xef\xbf\xbd" "x");
	free(out);
	tail_free(&t);
}

static void
test_invalid_expands(void **state)
{
	struct tailbuf	 t;
	char		*s, *out;
	size_t		 len;

	/* 64 KiB of bad bytes triples in size; the end is kept. */
	s = malloc(CAP);
	assert_non_null(s);
	memset(s, 0xff, CAP);
	s[CAP - 1] = 'E';
	memset(&t, 0, sizeof t);
	tail_append(&t, s, CAP);
	out = detail(&t, DETAIL, &len);
	assert_true(len <= MAX_DETAIL_BYTES);
	assert_true(len > MAX_DETAIL_BYTES - 4);
	assert_int_equal(out[len - 1], 'E');
	assert_memory_equal(out, "\xef\xbf\xbd", 3);
	free(out);
	free(s);
	tail_free(&t);
}

/*
 * The ring ends up holding the last clen - k bytes of ch, then whole
 * copies of ch, then 'Y' padding; ASCII and the first k bytes of ch
 * went before it and fell off.  Those clen - k bytes must be dropped.
 */
static void
wrapped_mid_char(const char *ch, size_t k)
{
	struct tailbuf	 t;
	size_t		 clen = strlen(ch), part = clen - k;
	size_t		 n, pad, len, i;
	char		*s, *out, *p;

	n = (CAP - part) / clen - 1;
	pad = CAP - part - n * clen;
	s = malloc(10 + clen + n * clen + pad);
	assert_non_null(s);
	memcpy(s, "0123456789", 10);
	p = s + 10;
	memcpy(p, ch, clen);
	p += clen;
	for (i = 0; i < n; i++, p += clen)
		memcpy(p, ch, clen);
	memset(p, 'Y', pad);
	p += pad;
	memset(&t, 0, sizeof t);
	tail_append(&t, s, (size_t)(p - s));
	assert_int_equal(t.used, CAP);
	assert_true(t.total > CAP);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, n * clen + pad);
	assert_memory_equal(out, s + 10 + clen, n * clen + pad);
	/* No replacement character anywhere. */
	assert_null(strstr(out, "\xef\xbf\xbd"));
	free(out);
	free(s);
	tail_free(&t);
}

static void
test_wrapped_mid_char(void **state)
{
	struct tailbuf	 t;
	char		*s, *out;
	size_t		 len, i;

	/* U+00E9 x 32768 and "Y": the tail starts on its second byte. */
	s = malloc(CAP + 1);
	assert_non_null(s);
	for (i = 0; i < CAP / 2; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[CAP] = 'Y';
	memset(&t, 0, sizeof t);
	tail_append(&t, s, CAP + 1);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, CAP - 1);
	assert_memory_equal(out, s + 2, CAP - 2);
	assert_int_equal(out[len - 1], 'Y');
	free(out);
	free(s);
	tail_free(&t);

	/* Two-, three- and four-byte characters cut after each byte. */
	wrapped_mid_char("\xc3\xa9", 1);
	wrapped_mid_char("\xe2\x82\xac", 1);
	wrapped_mid_char("\xe2\x82\xac", 2);
	wrapped_mid_char("\xf0\x9f\x98\x80", 1);
	wrapped_mid_char("\xf0\x9f\x98\x80", 2);
	wrapped_mid_char("\xf0\x9f\x98\x80", 3);
}

static void
test_wrapped_exact(void **state)
{
	struct tailbuf	 t;
	char		*s, *out;
	size_t		 len;

	/* 2-byte chars, CAP + 2 bytes: the ring starts on a boundary. */
	s = malloc(CAP + 2);
	assert_non_null(s);
	for (len = 0; len < CAP + 2; len += 2)
		memcpy(s + len, "\xc3\xa9", 2);
	memset(&t, 0, sizeof t);
	tail_append(&t, s, CAP + 2);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, CAP);
	assert_memory_equal(out, s, CAP);
	free(out);
	free(s);
	tail_free(&t);
}

static void
test_stripped(void **state)
{
	struct tailbuf	 t;
	char		*out;
	size_t		 len;

	memset(&t, 0, sizeof t);
	tail_append(&t, "  \n\t", 4);
	tail_append(&t, "error: it broke\n", 16);
	tail_append(&t, "\n\xe3\x80\x80\r\n", 6);
	out = detail(&t, DETAIL, &len);
	assert_string_equal(out, "error: it broke");
	free(out);
	tail_free(&t);

	tail_append(&t, " \n \n", 4);
	out = detail(&t, DETAIL, &len);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
	tail_free(&t);
}

static void
test_outlen_keeps_end(void **state)
{
	struct tailbuf	 t;
	char		 out[16];
	size_t		 len;

	memset(&t, 0, sizeof t);
	tail_append(&t, "abcdefghij", 10);
	len = tail_detail(&t, out, 5);
	assert_int_equal(len, 4);
	assert_string_equal(out, "ghij");
	len = tail_detail(&t, out, 1);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	tail_free(&t);

	/* Never split a character to fit. */
	tail_append(&t, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
	memset(out, 'Z', sizeof out);
	len = tail_detail(&t, out, 4);
	assert_int_equal(len, 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(out[4], 'Z');
	len = tail_detail(&t, out, 5);
	assert_int_equal(len, 4);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
	tail_free(&t);

	tail_append(&t, "x\xf0\x9f\x98\x80", 5);
	len = tail_detail(&t, out, 4);
	assert_int_equal(len, 0);
	len = tail_detail(&t, out, 5);
	assert_int_equal(len, 4);
	assert_string_equal(out, "\xf0\x9f\x98\x80");
	tail_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_under_capacity),
		cmocka_unit_test(test_over_capacity_one_append),
		cmocka_unit_test(test_over_capacity_chunks),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_invalid_expands),
		cmocka_unit_test(test_wrapped_mid_char),
		cmocka_unit_test(test_wrapped_exact),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_outlen_keeps_end),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
