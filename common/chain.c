/* The audit log's hash chain: hashing, parsing and finding the head. */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/chain.h"
#include "common/log.h"
#include "common/util.h"

void
chain_hash(const char *p, size_t len, char *hex)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[crypto_hash_sha256_BYTES];
	size_t			 i;

	/* libsodium's SHA-256: no configuration files, no providers. */
	if (crypto_hash_sha256(md, (const unsigned char *)p, len) != 0)
		fatalx("chain_hash: SHA-256 failed");
	for (i = 0; i < sizeof md; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * sizeof md] = '\0';
}

int
chain_parse(const char *line, size_t len, uint64_t *seq, char *prev)
{
	struct json_tokener	*tok;
	struct json_object	*o, *v;
	int			 rv = -1;
	int64_t			 s;

	if ((tok = json_tokener_new()) == NULL)
		return (-1);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o != NULL && json_tokener_get_parse_end(tok) == len &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "seq", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    (s = json_object_get_int64(v)) > 0 &&
	    json_object_object_get_ex(o, "prev", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) == CHAIN_HEX) {
		*seq = (uint64_t)s;
		memcpy(prev, json_object_get_string(v), CHAIN_HEX + 1);
		rv = 0;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return (rv);
}

int
chain_tail(int fd, off_t size, char **linep, size_t *lenp, size_t *torn)
{
	char	*buf;
	size_t	 want, end, start;
	off_t	 from;
	ssize_t	 n;

	*torn = 0;
	*linep = NULL;
	*lenp = 0;
	if (size == 0)
		return (0);
	/* Records are bounded, so the last one lies in the last megabyte. */
	want = size > 1024 * 1024 ? 1024 * 1024 : (size_t)size;
	from = size - (off_t)want;
	buf = xmalloc(want + 1);
	n = pread(fd, buf, want, from);
	if (n != (ssize_t)want) {
		free(buf);
		if (n >= 0)
			errno = EIO;
		return (-1);
	}
	end = want;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	*torn = want - end;
	if (end == 0) {
		free(buf);
		return (0);
	}
	end--;				/* the newline */
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	*linep = xstrndup(buf + start, end - start);
	*lenp = end - start;
	free(buf);
	return (1);
}

int
chain_head_of(int fd, off_t size, struct chain_head *h, size_t *torn)
{
	char		*line, prev[CHAIN_HEX + 1];
	size_t		 len;
	int		 rv;

	if ((rv = chain_tail(fd, size, &line, &len, torn)) == -1)
		return (-1);
	if (rv == 0) {
		h->seq = 0;
		strlcpy(h->hash, CHAIN_GENESIS, sizeof h->hash);
		return (0);
	}
	/* A line that is no chained record still gets linked to. */
	if (chain_parse(line, len, &h->seq, prev) == -1)
		h->seq = 0;
	chain_hash(line, len, h->hash);
	free(line);
	return (0);
}
