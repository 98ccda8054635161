/* The kept tail of a lane's output stream, and the text made from it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "broker/lane.h"
#include "common/bounds.h"
#include "common/utf8.h"
#include "common/util.h"

void
tail_append(struct tailbuf *t, const char *p, size_t len)
{
	size_t	n;

	t->total += len;
	if (len == 0)
		return;
	if (t->buf == NULL)
		t->buf = xmalloc(MAX_CAPTURE_BYTES);
	/* Only the last MAX_CAPTURE_BYTES can survive; skip the rest. */
	if (len > MAX_CAPTURE_BYTES) {
		p += len - MAX_CAPTURE_BYTES;
		len = MAX_CAPTURE_BYTES;
	}
	while (len > 0) {
		n = MAX_CAPTURE_BYTES - t->head;
		if (n > len)
			n = len;
		memcpy(t->buf + t->head, p, n);
		t->head = (t->head + n) % MAX_CAPTURE_BYTES;
		t->used += n;
		if (t->used > MAX_CAPTURE_BYTES)
			t->used = MAX_CAPTURE_BYTES;
		p += n;
		len -= n;
	}
}

/*
 * The kept tail as valid UTF-8, stripped, at most outlen - 1 bytes.  A
 * wrapped ring may begin inside a character; those bytes are dropped
 * rather than turned into replacement characters.
 */
size_t
tail_detail(const struct tailbuf *t, char *out, size_t outlen)
{
	char		*lin, *san;
	const char	*s;
	size_t		 start, first, len, skip = 0, n;

	if (t->used == 0 || outlen == 0) {
		if (outlen > 0)
			out[0] = '\0';
		return (0);
	}
	lin = xmalloc(t->used);
	start = (t->head + MAX_CAPTURE_BYTES - t->used) % MAX_CAPTURE_BYTES;
	first = MAX_CAPTURE_BYTES - start;
	if (first > t->used)
		first = t->used;
	memcpy(lin, t->buf + start, first);
	memcpy(lin + first, t->buf, t->used - first);
	if (t->total > t->used) {
		while (skip < 3 && skip < t->used &&
		    ((unsigned char)lin[skip] & 0xc0) == 0x80)
			skip++;
	}
	san = xmalloc(t->used * 3 + 1);
	n = utf8_sanitize(san, t->used * 3 + 1, lin + skip, t->used - skip);
	free(lin);
	s = san;
	len = n;
	utf8_strip(&s, &len);
	/* Keep the end: the last lines say why a lane failed. */
	while (len > outlen - 1) {
		s++;
		len--;
		while (len > 0 && ((unsigned char)*s & 0xc0) == 0x80) {
			s++;
			len--;
		}
	}
	memcpy(out, s, len);
	out[len] = '\0';
	free(san);
	return (len);
}
