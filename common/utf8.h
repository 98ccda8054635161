#ifndef DISPATCH_UTF8_H
#define DISPATCH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Returns the number of code points, or -1 if invalid.
 */
long	utf8_count(const char *, size_t);
/* Length of the valid sequence at s (1-4), or 0 if it is not valid. */
size_t	utf8_seqlen(const unsigned char *, size_t, uint32_t *);
/*
 * Copy src to dst, replacing each invalid byte and each NUL with U+FFFD.
 * Never writes more than dstlen - 1 bytes and never splits a character;
 * dst is NUL-terminated.  Returns the bytes written.
 */
size_t	utf8_sanitize(char *, size_t, const char *, size_t);
/* Strip leading and trailing whitespace as Python's str.strip() does. */
void	utf8_strip(const char **, size_t *);
/* At most max bytes of s, cut where a character starts. */
size_t	utf8_cut(const char *, size_t, size_t);
/* Byte length of the first n code points of a valid string. */
size_t	utf8_prefix(const char *, size_t, size_t);

#endif
