#ifndef DISPATCH_JSONV_H
#define DISPATCH_JSONV_H

#include <stddef.h>

/*
 * A strict RFC 8259 syntax check run on every line before json-c sees it.
 * json-c's strict mode still takes NaN, Infinity, single-quoted keys and
 * lone surrogates; this refuses them, checks UTF-8 and nesting depth, and
 * counts object members so that duplicate keys (which json-c silently
 * collapses) can be found by comparing counts after the parse.
 */
struct jsonv {
	size_t		 members;	/* object members seen */
	size_t		 nuls;		/* \u0000 escapes seen */
	size_t		 key_nuls;	/* of those, inside object keys */
	size_t		 errpos;	/* byte offset of the first error */
	const char	*err;
};

int	jsonv_check(const char *, size_t, int, struct jsonv *);

#endif
