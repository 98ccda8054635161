/*
 * The client configuration examples in README.md are what users paste
 * into their clients' files, so each must be valid in its format and
 * have the shape its client reads: the JSON blocks as strict JSON
 * (Claude Desktop, Claude Code and Cursor say mcpServers, VS Code says
 * servers, Zed says context_servers), the TOML block of Codex CLI and
 * the YAML block of Goose by small parsers of the subset of each format
 * that README uses (anything outside it fails the test, so a new example
 * cannot slip past unchecked), and the "claude mcp add" command by its
 * argument syntax.
 */
#include "config.h"

#include <ctype.h>
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

static char *readme;

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

static int
setup(void **state)
{
	const char	*dir = getenv("TEST_SRCDIR");
	char		 path[1024];

	snprintf(path, sizeof path, "%s/README.md", dir != NULL ? dir : ".");
	readme = slurp(path);
	return (0);
}

static int
teardown(void **state)
{
	free(readme);
	return (0);
}

/* The next fenced block of language lang after *pos, NUL-terminated. */
static char *
next_block(const char *lang, const char **pos)
{
	char		 fence[32];
	const char	*p, *end;
	char		*b;

	snprintf(fence, sizeof fence, "```%s\n", lang);
	if ((p = strstr(*pos, fence)) == NULL)
		return (NULL);
	p += strlen(fence);
	end = strstr(p, "\n```");
	assert_non_null(end);
	*pos = end + 4;
	b = strndup(p, (size_t)(end - p) + 1);
	assert_non_null(b);
	return (b);
}

static struct json_object *
strict_json(const char *text, size_t len, const char *what)
{
	struct json_tokener	*tok = json_tokener_new_ex(64);
	struct json_object	*o = NULL;
	struct jsonv		 jv;
	enum jsonv_result	 r;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	r = jsonv_parse(tok, text, len, 64, 1, &jv, &o);
	if (r != JV_OK)
		fail_msg("%s: not strict JSON (%d: %s at byte %zu): %.*s", what,
		    (int)r, r == JV_SYNTAX ? jv.err : "", jv.errpos, (int)len,
		    text);
	json_tokener_free(tok);
	return (o);
}

static struct json_object *
member(struct json_object *o, const char *key, json_type type,
    const char *what)
{
	struct json_object	*v;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		fail_msg("%s: no \"%s\" of the right type", what, key);
	return (v);
}

/*
 * A server entry: an absolute command, optional args (strings), and an
 * environment of strings that names the allowlist and the lane program.
 */
static void
check_server(struct json_object *s, const char *cmdkey, const char *envkey,
    const char *what)
{
	struct json_object	*v, *env;
	size_t			 i;

	v = member(s, cmdkey, json_type_string, what);
	if (json_object_get_string(v)[0] != '/')
		fail_msg("%s: the command is not an absolute path", what);
	if (json_object_object_get_ex(s, "args", &v)) {
		assert_true(json_object_is_type(v, json_type_array));
		for (i = 0; i < json_object_array_length(v); i++)
			assert_true(json_object_is_type(
			    json_object_array_get_idx(v, i), json_type_string));
	}
	env = member(s, envkey, json_type_object, what);
	json_object_object_foreach(env, k, ev) {
		if (!json_object_is_type(ev, json_type_string))
			fail_msg("%s: %s is not a string", what, k);
	}
	member(env, "DISPATCH_REPOS_JSON", json_type_string, what);
	member(env, "DISPATCH_COMMAND", json_type_string, what);
}

static void
test_readme_json(void **state)
{
	static const char *const keys[] = {
		"mcpServers", "servers", "context_servers"
	};
	const char		*pos = readme;
	struct json_object	*o, *servers, *s, *v;
	char			*b, what[64];
	int			 blocks = 0, n[3] = { 0, 0, 0 };
	size_t			 k;

	while ((b = next_block("json", &pos)) != NULL) {
		snprintf(what, sizeof what, "README JSON block %d", ++blocks);
		o = strict_json(b, strlen(b), what);
		servers = NULL;
		for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			if (json_object_object_get_ex(o, keys[k], &servers)) {
				n[k]++;
				break;
			}
		}
		if (servers == NULL || json_object_object_length(o) != 1)
			fail_msg("%s: not one of %s, %s, %s", what, keys[0],
			    keys[1], keys[2]);
		s = member(servers, "dispatch", json_type_object, what);
		check_server(s, "command", "env", what);
		/* VS Code needs the type; Claude Code takes it. */
		if (json_object_object_get_ex(s, "type", &v))
			assert_string_equal(json_object_get_string(v), "stdio");
		else
			assert_int_not_equal(k, 1);
		json_object_put(o);
		free(b);
	}
	/* Claude Desktop, .mcp.json, Cursor; VS Code; Zed. */
	assert_int_equal(n[0], 3);
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], 1);
}

/* Set path.key (dotted) in root, creating tables; refuse a redefinition. */
static void
toml_set(struct json_object *root, const char *path, const char *key,
    struct json_object *val)
{
	struct json_object	*t = root, *next;
	char			*dup, *part, *save;

	dup = strdup(path);
	assert_non_null(dup);
	for (part = strtok_r(dup, ".", &save); part != NULL;
	    part = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(t, part, &next)) {
			next = json_object_new_object();
			json_object_object_add(t, part, next);
		}
		assert_true(json_object_is_type(next, json_type_object));
		t = next;
	}
	free(dup);
	if (key != NULL) {
		if (json_object_object_get_ex(t, key, NULL))
			fail_msg("README TOML: %s.%s defined twice", path, key);
		json_object_object_add(t, key, val);
	}
}

static int
bare_key_char(int c)
{
	return (isalnum(c) || c == '_' || c == '-');
}

/*
 * A TOML value of README's subset (basic strings, arrays, inline tables,
 * booleans and integers), rewritten as JSON: bare keys are quoted and
 * "=" becomes ":"; strings are copied, their escapes being JSON's.
 */
static struct json_object *
toml_value(const char *v)
{
	struct json_object	*j;
	char			*out, *o;
	const char		*p;
	int			 instr = 0;

	o = out = malloc(strlen(v) * 3 + 1);
	assert_non_null(out);
	for (p = v; *p != '\0'; p++) {
		if (instr) {
			if (*p == '\\' && p[1] != '\0')
				*o++ = *p++;
			else if (*p == '"')
				instr = 0;
			*o++ = *p;
		} else if (*p == '"') {
			instr = 1;
			*o++ = *p;
		} else if (*p == '=') {
			*o++ = ':';
		} else if (isalpha((unsigned char)*p) &&
		    strncmp(p, "true", 4) != 0 && strncmp(p, "false", 5) != 0) {
			*o++ = '"';
			while (bare_key_char((unsigned char)*p))
				*o++ = *p++;
			*o++ = '"';
			p--;
		} else
			*o++ = *p;
	}
	*o = '\0';
	j = strict_json(out, strlen(out), v);
	free(out);
	return (j);
}

static struct json_object *
parse_toml(const char *text)
{
	struct json_object	*root = json_object_new_object();
	char			*dup, *line, *save, *eq, *k, *e;
	char			 table[256] = "";

	dup = strdup(text);
	assert_non_null(dup);
	for (line = strtok_r(dup, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '[') {
			e = strchr(line, ']');
			if (e == NULL || e[1] != '\0' || line[1] == '[')
				fail_msg("README TOML: bad table: %s", line);
			*e = '\0';
			for (k = line + 1; *k != '\0'; k++)
				if (!bare_key_char((unsigned char)*k) &&
				    *k != '.')
					fail_msg("README TOML: table: %s", line);
			snprintf(table, sizeof table, "%s", line + 1);
			toml_set(root, table, NULL, NULL);
			continue;
		}
		if ((eq = strstr(line, " = ")) == NULL)
			fail_msg("README TOML: not key = value: %s", line);
		*eq = '\0';
		for (k = line; *k != '\0'; k++)
			if (!bare_key_char((unsigned char)*k))
				fail_msg("README TOML: bad key: %s", line);
		if (table[0] == '\0')
			fail_msg("README TOML: key outside a table: %s", line);
		toml_set(root, table, line, toml_value(eq + 3));
	}
	free(dup);
	return (root);
}

static void
test_readme_toml(void **state)
{
	const char		*pos = readme;
	struct json_object	*root, *s;
	char			*b;
	int			 blocks = 0;

	while ((b = next_block("toml", &pos)) != NULL) {
		root = parse_toml(b);
		s = member(member(root, "mcp_servers", json_type_object,
		    "README TOML"), "dispatch", json_type_object,
		    "README TOML mcp_servers");
		check_server(s, "command", "env", "README TOML");
		json_object_put(root);
		free(b);
		blocks++;
	}
	assert_int_equal(blocks, 1);	/* Codex CLI */
}

/*
 * README's subset of YAML: block mappings indented by spaces, each line
 * "key: value" or "key:" opening a mapping; a value is a flow sequence
 * or mapping in JSON syntax, true, false, an integer, or a plain scalar.
 */
static struct json_object *
yaml_scalar(const char *v)
{
	const char	*p;

	if (v[0] == '[' || v[0] == '{' || v[0] == '"')
		return (strict_json(v, strlen(v), v));
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return (json_object_new_boolean(v[0] == 't'));
	for (p = v; isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0' && p != v)
		return (json_object_new_int64(strtoll(v, NULL, 10)));
	if (strchr("'&*!|>%@`#-?:,", v[0]) != NULL || strstr(v, ": ") ||
	    strstr(v, " #"))
		fail_msg("README YAML: outside the checked subset: %s", v);
	return (json_object_new_string(v));
}

static struct json_object *
parse_yaml(const char *text)
{
	struct json_object	*stack[16], *m;
	int			 indent[16], depth = 0, n;
	char			*dup, *line, *save, *colon, *k;

	stack[0] = json_object_new_object();
	indent[0] = 0;
	dup = strdup(text);
	assert_non_null(dup);
	for (line = strtok_r(dup, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strchr(line, '\t') != NULL)
			fail_msg("README YAML: a tab: %s", line);
		for (n = 0; line[n] == ' '; n++)
			;
		if (line[n] == '\0' || line[n] == '#')
			continue;
		while (depth > 0 && n < indent[depth])
			depth--;
		if (n != indent[depth])
			fail_msg("README YAML: bad indentation: %s", line);
		k = line + n;
		if ((colon = strchr(k, ':')) == NULL || colon == k)
			fail_msg("README YAML: not key: value: %s", line);
		*colon = '\0';
		for (; *k != '\0'; k++)
			if (!bare_key_char((unsigned char)*k))
				fail_msg("README YAML: bad key: %s", line + n);
		k = line + n;
		if (json_object_object_get_ex(stack[depth], k, NULL))
			fail_msg("README YAML: %s twice", k);
		if (colon[1] == '\0') {
			/* A nested mapping: its lines are indented by 2. */
			m = json_object_new_object();
			json_object_object_add(stack[depth], k, m);
			assert_true(depth + 1 < 16);
			stack[++depth] = m;
			indent[depth] = n + 2;
		} else if (colon[1] == ' ' && colon[2] != '\0') {
			json_object_object_add(stack[depth], k,
			    yaml_scalar(colon + 2));
		} else
			fail_msg("README YAML: not key: value: %s", line);
	}
	free(dup);
	return (stack[0]);
}

static void
test_readme_yaml(void **state)
{
	const char		*pos = readme;
	struct json_object	*root, *s, *v;
	char			*b;
	int			 blocks = 0;

	while ((b = next_block("yaml", &pos)) != NULL) {
		root = parse_yaml(b);
		s = member(member(root, "extensions", json_type_object,
		    "README YAML"), "dispatch", json_type_object,
		    "README YAML extensions");
		v = member(s, "type", json_type_string, "README YAML");
		assert_string_equal(json_object_get_string(v), "stdio");
		v = member(s, "enabled", json_type_boolean, "README YAML");
		assert_true(json_object_get_boolean(v));
		member(s, "name", json_type_string, "README YAML");
		check_server(s, "cmd", "envs", "README YAML");
		json_object_put(root);
		free(b);
		blocks++;
	}
	assert_int_equal(blocks, 1);	/* Goose */
}

/*
 * "claude mcp add [options] NAME -- COMMAND": options before the name
 * (-e KEY=VALUE, --scope local|user|project, --transport stdio).
 */
static void
check_claude_add(char *cmd)
{
	char	*tok[64], *p, *w;
	int	 n = 0, i, quote;

	/* Words, joining continuation lines and dropping quotes. */
	for (p = cmd; *p != '\0';) {
		while (*p == ' ' || *p == '\n' || *p == '\\')
			p++;
		if (*p == '\0')
			break;
		assert_true(n < 64);
		tok[n++] = w = p;
		for (quote = 0; *p != '\0' && (quote || (*p != ' ' &&
		    *p != '\n')); p++) {
			if (*p == '"')
				quote = !quote;
			else
				*w++ = *p;
		}
		if (*p != '\0')
			p++;
		*w = '\0';
	}
	assert_true(n >= 6);
	assert_string_equal(tok[0], "claude");
	assert_string_equal(tok[1], "mcp");
	assert_string_equal(tok[2], "add");
	for (i = 3; i < n && tok[i][0] == '-'; i += 2) {
		assert_true(i + 1 < n);
		if (strcmp(tok[i], "-e") == 0 || strcmp(tok[i], "--env") == 0) {
			for (p = tok[i + 1]; *p == '_' || isupper((unsigned
			    char)*p) || isdigit((unsigned char)*p); p++)
				;
			if (p == tok[i + 1] || *p != '=')
				fail_msg("claude mcp add: bad -e %s", tok[i + 1]);
		} else if (strcmp(tok[i], "--scope") == 0 ||
		    strcmp(tok[i], "-s") == 0) {
			assert_true(strcmp(tok[i + 1], "local") == 0 ||
			    strcmp(tok[i + 1], "user") == 0 ||
			    strcmp(tok[i + 1], "project") == 0);
		} else if (strcmp(tok[i], "--transport") == 0 ||
		    strcmp(tok[i], "-t") == 0) {
			assert_string_equal(tok[i + 1], "stdio");
		} else
			fail_msg("claude mcp add: unknown option %s", tok[i]);
	}
	assert_true(i + 2 < n);
	assert_string_equal(tok[i], "dispatch");
	assert_string_equal(tok[i + 1], "--");
	assert_true(tok[i + 2][0] == '/');
}

static void
test_readme_claude_add(void **state)
{
	const char	*pos = readme;
	char		*b, *c;
	int		 found = 0;

	while ((b = next_block("sh", &pos)) != NULL) {
		if ((c = strstr(b, "claude mcp add")) != NULL) {
			check_claude_add(c);
			found++;
		}
		free(b);
	}
	assert_int_equal(found, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_json),
		cmocka_unit_test(test_readme_toml),
		cmocka_unit_test(test_readme_yaml),
		cmocka_unit_test(test_readme_claude_add),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
