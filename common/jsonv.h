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

/*
 * The whole strict parse, as both the frontend (requests) and the broker
 * (the allowlist) need it: jsonv_check, then json-c with tok, then the
 * checks json-c cannot make itself.  On JV_OK, *out is the value (NULL
 * for null).  With check_finite, numbers json-c made infinite are refused.
 */
enum jsonv_result {
	JV_OK = 0,
	JV_SYNTAX,	/* jv->err and jv->errpos say what and where */
	JV_PARSE,	/* json-c refused it: json_tokener_get_error(tok) */
	JV_RANGE,	/* a number too large for a double */
	JV_DUPLICATE,	/* a key twice in one object */
	JV_KEY_NUL,	/* a key holding \u0000, which json-c would cut */
};
struct json_object;
struct json_tokener;
enum jsonv_result jsonv_parse(struct json_tokener *, const char *, size_t,
	    int, int, struct jsonv *, struct json_object **);

#endif
