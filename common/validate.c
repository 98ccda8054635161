/* Argument validation, identical in both processes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "names.h"
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

void
echo_value(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t	cut, n;

	cut = utf8_prefix(s, len, MAX_ECHO_CHARS);
	n = utf8_sanitize(dst, dstlen, s, cut);
	if (cut < len && n + 4 <= dstlen)
		memcpy(dst + n, "\xe2\x80\xa6", 4);	/* U+2026 and NUL */
}
