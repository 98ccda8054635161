/* UTF-8 checks shared by both processes. */
#include "config.h"

#include <string.h>

#include "utf8.h"

size_t
utf8_seqlen(const unsigned char *s, size_t len, uint32_t *cpp)
{
	uint32_t	cp, min;
	size_t		n, i;

	if (len == 0)
		return (0);
	if (s[0] < 0x80) {
		cp = s[0];
		n = 1;
		min = 0;
	} else if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		n = 2;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		n = 3;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		n = 4;
		min = 0x10000;
	} else
		return (0);
	if (n > len)
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms smuggle '/' or NUL past byte-level checks. */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	if (cpp != NULL)
		*cpp = cp;
	return (n);
}

long
utf8_count(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;
	long			 count = 0;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
		} else {
			if ((n = utf8_seqlen(p + i, len - i, NULL)) == 0)
				return (-1);
			i += n;
		}
		count++;
	}
	return (count);
}

size_t
utf8_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char	 repl[] = "\xef\xbf\xbd";
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 i = 0, o = 0, n;

	if (dstlen == 0)
		return (0);
	while (i < srclen) {
		n = utf8_seqlen(p + i, srclen - i, NULL);
		if (n == 0 || p[i] == '\0') {
			if (o + 3 > dstlen - 1)
				break;
			memcpy(dst + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		if (o + n > dstlen - 1)
			break;
		memcpy(dst + o, p + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return (o);
}

/* The code points Python's str.isspace() accepts. */
static int
is_space(uint32_t cp)
{
	switch (cp) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
	case 0x1c: case 0x1d: case 0x1e: case 0x1f: case 0x20:
	case 0x85: case 0xa0: case 0x1680:
	case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
		return (1);
	}
	return (cp >= 0x2000 && cp <= 0x200a);
}

void
utf8_strip(const char **sp, size_t *lenp)
{
	const unsigned char	*s = (const unsigned char *)*sp;
	size_t			 len = *lenp, n, i, last;
	uint32_t		 cp;

	while (len > 0) {
		if ((n = utf8_seqlen(s, len, &cp)) == 0 || !is_space(cp))
			break;
		s += n;
		len -= n;
	}
	/* Walk forward, remembering where the last non-space ended. */
	last = 0;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seqlen(s + i, len - i, &cp)) == 0) {
			last = len;
			break;
		}
		if (!is_space(cp))
			last = i + n;
	}
	*sp = (const char *)s;
	*lenp = last;
}

size_t
utf8_prefix(const char *s, size_t len, size_t ncp)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len && ncp > 0) {
		if ((n = utf8_seqlen(p + i, len - i, NULL)) == 0)
			n = 1;
		i += n;
		ncp--;
	}
	return (i);
}

size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return (len);
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return (len);
}
