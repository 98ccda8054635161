/*
 * The client configuration examples in README.md are JSON that users
 * paste; each must parse, as strict JSON, and name a server command.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "common/jsonv.h"

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	long	 len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return (buf);
}

static void
test_readme_json(void **state)
{
	const char		*dir = getenv("TEST_SRCDIR");
	char			 path[1024], *text, *p, *end;
	struct json_object	*o, *servers, *s;
	struct jsonv		 jv;
	int			 blocks = 0, keyed;

	snprintf(path, sizeof path, "%s/README.md", dir != NULL ? dir : ".");
	text = slurp(path);
	for (p = text; (p = strstr(p, "```json\n")) != NULL; p = end + 3) {
		p += 8;
		end = strstr(p, "```");
		assert_non_null(end);
		if (jsonv_check(p, (size_t)(end - p), 64, &jv) == -1)
			fail_msg("README JSON block %d: %s at byte %zu",
			    blocks + 1, jv.err, jv.errpos);
		o = json_tokener_parse(p);
		assert_non_null(o);
		/* Claude Desktop says mcpServers; VS Code says servers. */
		keyed = json_object_object_get_ex(o, "mcpServers", &servers) ||
		    json_object_object_get_ex(o, "servers", &servers);
		assert_true(keyed);
		assert_true(json_object_object_get_ex(servers, "dispatch", &s));
		assert_true(json_object_object_get_ex(s, "command", NULL));
		json_object_put(o);
		blocks++;
	}
	assert_int_equal(blocks, 2);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_json),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
