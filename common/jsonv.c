/* Strict JSON syntax validation, no allocation, bounded depth. */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/utf8.h"
#include "common/jsonv.h"

struct jv {
	int			 in_key;
	const unsigned char	*p;
	size_t			 len;
	size_t			 i;
	int			 maxdepth;
	struct jsonv		*out;
};

static int	jv_value(struct jv *, int);

static int
jv_fail(struct jv *v, const char *why)
{
	if (v->out->err == NULL) {
		v->out->err = why;
		v->out->errpos = v->i;
	}
	return (-1);
}

static void
jv_ws(struct jv *v)
{
	while (v->i < v->len && (v->p[v->i] == ' ' || v->p[v->i] == '\t' ||
	    v->p[v->i] == '\n' || v->p[v->i] == '\r'))
		v->i++;
}

static int
jv_hex4(struct jv *v, uint32_t *cp)
{
	size_t	k;
	int	c;

	if (v->len - v->i < 4)
		return (jv_fail(v, "truncated \\u escape"));
	*cp = 0;
	for (k = 0; k < 4; k++) {
		c = v->p[v->i + k];
		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*cp |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*cp |= (uint32_t)(c - 'A' + 10);
		else
			return (jv_fail(v, "bad \\u escape"));
	}
	v->i += 4;
	return (0);
}

static int
jv_string(struct jv *v)
{
	uint32_t	cp = 0, lo = 0;
	size_t		n;

	v->i++;		/* opening quote */
	for (;;) {
		if (v->i >= v->len)
			return (jv_fail(v, "unterminated string"));
		if (v->p[v->i] == '"') {
			v->i++;
			return (0);
		}
		if (v->p[v->i] < 0x20)
			return (jv_fail(v, "control character in string"));
		if (v->p[v->i] == '\\') {
			if (++v->i >= v->len)
				return (jv_fail(v, "unterminated string"));
			switch (v->p[v->i]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				v->i++;
				continue;
			case 'u':
				v->i++;
				if (jv_hex4(v, &cp) == -1)
					return (-1);
				if (cp == 0) {
					v->out->nuls++;
					v->out->key_nuls += v->in_key;
				}
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return (jv_fail(v, "lone low surrogate "
					    "in \\u escape"));
				if (cp < 0xd800 || cp > 0xdbff)
					continue;
				/* A high surrogate needs its low half. */
				if (v->len - v->i < 6 || v->p[v->i] != '\\' ||
				    v->p[v->i + 1] != 'u')
					return (jv_fail(v, "lone high surrogate "
					    "in \\u escape"));
				v->i += 2;
				if (jv_hex4(v, &lo) == -1)
					return (-1);
				if (lo < 0xdc00 || lo > 0xdfff)
					return (jv_fail(v, "lone high surrogate "
					    "in \\u escape"));
				continue;
			default:
				return (jv_fail(v, "bad escape in string"));
			}
		}
		if (v->p[v->i] < 0x80) {
			v->i++;
			continue;
		}
		if ((n = utf8_seqlen(v->p + v->i, v->len - v->i, NULL)) == 0)
			return (jv_fail(v, "invalid UTF-8 in string"));
		v->i += n;
	}
}

static int
jv_digits(struct jv *v)
{
	size_t	start = v->i;

	while (v->i < v->len && v->p[v->i] >= '0' && v->p[v->i] <= '9')
		v->i++;
	return (v->i > start ? 0 : jv_fail(v, "bad number"));
}

static int
jv_number(struct jv *v)
{
	if (v->p[v->i] == '-')
		v->i++;
	if (v->i >= v->len)
		return (jv_fail(v, "bad number"));
	if (v->p[v->i] == '0')
		v->i++;
	else if (jv_digits(v) == -1)
		return (-1);
	if (v->i < v->len && v->p[v->i] == '.') {
		v->i++;
		if (jv_digits(v) == -1)
			return (-1);
	}
	if (v->i < v->len && (v->p[v->i] == 'e' || v->p[v->i] == 'E')) {
		v->i++;
		if (v->i < v->len && (v->p[v->i] == '+' || v->p[v->i] == '-'))
			v->i++;
		if (jv_digits(v) == -1)
			return (-1);
	}
	return (0);
}

static int
jv_word(struct jv *v, const char *w)
{
	size_t	n = strlen(w);

	if (v->len - v->i < n || memcmp(v->p + v->i, w, n) != 0)
		return (jv_fail(v, "unexpected character"));
	v->i += n;
	return (0);
}

static int
jv_value(struct jv *v, int depth)
{
	jv_ws(v);
	if (v->i >= v->len)
		return (jv_fail(v, "unexpected end of input"));
	switch (v->p[v->i]) {
	case '{':
		if (depth >= v->maxdepth)
			return (jv_fail(v, "nested too deeply"));
		v->i++;
		jv_ws(v);
		if (v->i < v->len && v->p[v->i] == '}') {
			v->i++;
			return (0);
		}
		for (;;) {
			jv_ws(v);
			if (v->i >= v->len || v->p[v->i] != '"')
				return (jv_fail(v, "expected a string key"));
			v->in_key = 1;
			if (jv_string(v) == -1)
				return (-1);
			v->in_key = 0;
			jv_ws(v);
			if (v->i >= v->len || v->p[v->i] != ':')
				return (jv_fail(v, "expected ':'"));
			v->i++;
			if (jv_value(v, depth + 1) == -1)
				return (-1);
			v->out->members++;
			jv_ws(v);
			if (v->i < v->len && v->p[v->i] == ',') {
				v->i++;
				continue;
			}
			if (v->i < v->len && v->p[v->i] == '}') {
				v->i++;
				return (0);
			}
			return (jv_fail(v, "expected ',' or '}'"));
		}
	case '[':
		if (depth >= v->maxdepth)
			return (jv_fail(v, "nested too deeply"));
		v->i++;
		jv_ws(v);
		if (v->i < v->len && v->p[v->i] == ']') {
			v->i++;
			return (0);
		}
		for (;;) {
			if (jv_value(v, depth + 1) == -1)
				return (-1);
			jv_ws(v);
			if (v->i < v->len && v->p[v->i] == ',') {
				v->i++;
				continue;
			}
			if (v->i < v->len && v->p[v->i] == ']') {
				v->i++;
				return (0);
			}
			return (jv_fail(v, "expected ',' or ']'"));
		}
	case '"':
		return (jv_string(v));
	case 't':
		return (jv_word(v, "true"));
	case 'f':
		return (jv_word(v, "false"));
	case 'n':
		return (jv_word(v, "null"));
	default:
		if (v->p[v->i] == '-' ||
		    (v->p[v->i] >= '0' && v->p[v->i] <= '9'))
			return (jv_number(v));
		return (jv_fail(v, "unexpected character"));
	}
}

int
jsonv_check(const char *buf, size_t len, int maxdepth, struct jsonv *out)
{
	struct jv	v;

	memset(out, 0, sizeof *out);
	v.in_key = 0;
	v.p = (const unsigned char *)buf;
	v.len = len;
	v.i = 0;
	v.maxdepth = maxdepth;
	v.out = out;
	/* A UTF-8 byte order mark is not JSON text (RFC 8259 8.1). */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		return (jv_fail(&v, "byte order mark"));
	if (jv_value(&v, 0) == -1)
		return (-1);
	jv_ws(&v);
	if (v.i != len)
		return (jv_fail(&v, "trailing data after the value"));
	return (0);
}

/* Count object members, and with check_finite refuse infinite numbers. */
static int
tree_check(struct json_object *o, size_t *members, int check_finite,
    int depth, int maxdepth)
{
	size_t	i, n;

	if (depth > maxdepth)
		return (-1);
	switch (json_object_get_type(o)) {
	case json_type_object:
		*members += (size_t)json_object_object_length(o);
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (tree_check(v, members, check_finite, depth + 1,
			    maxdepth) == -1)
				return (-1);
		}
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (tree_check(json_object_array_get_idx(o, i),
			    members, check_finite, depth + 1, maxdepth) == -1)
				return (-1);
		}
		break;
	case json_type_double:
		if (check_finite && !isfinite(json_object_get_double(o)))
			return (-1);
		break;
	default:
		break;
	}
	return (0);
}

enum jsonv_result
jsonv_parse(struct json_tokener *tok, const char *buf, size_t len,
    int maxdepth, int check_finite, struct jsonv *jv, struct json_object **out)
{
	struct json_object	*o;
	size_t			 members = 0;

	*out = NULL;
	if (jsonv_check(buf, len, maxdepth, jv) == -1)
		return (JV_SYNTAX);
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	/* A bare number is only known to end at the terminating NUL. */
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		return (JV_PARSE);
	}
	if (o == NULL)
		return (JV_OK);		/* json-c's null */
	if (tree_check(o, &members, check_finite, 0, maxdepth) == -1) {
		json_object_put(o);
		return (JV_RANGE);
	}
	/* json-c keeps the last of two equal keys: the counts differ. */
	if (members != jv->members) {
		json_object_put(o);
		return (JV_DUPLICATE);
	}
	if (jv->key_nuls > 0) {
		json_object_put(o);
		return (JV_KEY_NUL);
	}
	*out = o;
	return (JV_OK);
}
