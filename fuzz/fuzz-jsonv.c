/*
 * The strict JSON check against json-c: whatever jsonv accepts, json-c
 * must parse to the end; and sanitised UTF-8 is always valid.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonv.h"
#include "common/utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	struct jsonv		 jv;
	char			*buf;
	size_t			 n;

	buf = malloc(size * 3 + 1);
	if (buf == NULL)
		return (0);
	n = utf8_sanitize(buf, size * 3 + 1, (const char *)data, size);
	if (utf8_count(buf, n) < 0)
		abort();
	free(buf);

	if (jsonv_check((const char *)data, size, 64, &jv) == -1)
		return (0);
	tok = json_tokener_new_ex(65);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success)
		abort();	/* we said valid; json-c disagrees */
	json_object_put(o);
	json_tokener_free(tok);
	return (0);
}
