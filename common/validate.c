/* Argument validation, identical in both processes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "utf8.h"
#include "validate.h"

int
check_task(const char **sp, size_t *lenp, char *err, size_t errlen)
{
	long	n;

	/* Before stripping: a NUL would truncate the task at the lane. */
	if (memchr(*sp, '\0', *lenp) != NULL || utf8_count(*sp, *lenp) < 0) {
		snprintf(err, errlen, "task_description must be valid UTF-8 "
		    "without NUL characters");
		return (-1);
	}
	utf8_strip(sp, lenp);
	if (*lenp == 0) {
		snprintf(err, errlen, "task_description must not be empty");
		return (-1);
	}
	n = utf8_count(*sp, *lenp);
	if (n > MAX_TASK_CODEPOINTS) {
		snprintf(err, errlen, "task_description too long: %ld > %d "
		    "characters", n, MAX_TASK_CODEPOINTS);
		return (-1);
	}
	return (0);
}

int
is_valid_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > MAX_NAME_BYTES)
		return (0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		/* The first character may not be punctuation: "-x", "..". */
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return (0);
	}
	return (1);
}

int
check_name(const char *what, const char **sp, size_t *lenp, char *err,
    size_t errlen)
{
	char	echo[ECHO_BYTES];

	utf8_strip(sp, lenp);
	if (*lenp == 0) {
		snprintf(err, errlen, "%s must not be empty", what);
		return (-1);
	}
	if (!is_valid_name(*sp, *lenp)) {
		echo_value(echo, sizeof echo, *sp, *lenp);
		snprintf(err, errlen, "invalid %s '%s': must match %s "
		    "(letters, digits, dot, dash, underscore)", what, echo,
		    NAME_PATTERN);
		return (-1);
	}
	return (0);
}

int
check_handle(const char *s, size_t len)
{
	size_t	i, plen = sizeof HANDLE_PREFIX - 1;

	if (len != HANDLE_BYTES || memcmp(s, HANDLE_PREFIX, plen) != 0)
		return (-1);
	for (i = plen; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (-1);
	}
	return (0);
}

int
check_github(const char *s, size_t len)
{
	const char	*slash;

	if ((slash = memchr(s, '/', len)) == NULL)
		return (is_valid_name(s, len) ? 0 : -1);
	if (!is_valid_name(s, (size_t)(slash - s)))
		return (-1);
	return (is_valid_name(slash + 1, len - (size_t)(slash - s) - 1) ?
	    0 : -1);
}

void
echo_value(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t	cut, n;

	cut = utf8_prefix(s, len, MAX_ECHO_CHARS);
	n = utf8_sanitize(dst, dstlen, s, cut);
	if (cut < len && n + 4 <= dstlen)
		memcpy(dst + n, "\xe2\x80\xa6", 4);	/* U+2026 and NUL */
}
