/* Argument validation, identical in both processes. */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
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
echo_text(char *dst, size_t dstlen, const char *s, size_t len,
    size_t maxchars)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, n, chars = 0;
	uint32_t		 cp;

	if (dstlen == 0)
		return;
	while (i < len && chars < maxchars) {
		n = utf8_seqlen(p + i, len - i, &cp);
		if (n == 0) {
			/* An invalid byte: U+FFFD, as everywhere else. */
			if (o + 3 >= dstlen)
				break;
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			/* A newline breaks a one-line message; ESC, CR and
			 * CSI reach the operator's terminal. */
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, dstlen - o, "\\x%02x", (unsigned)cp);
			o += 4;
			i += n;
		} else {
			if (o + n >= dstlen)
				break;
			memcpy(dst + o, p + i, n);
			o += n;
			i += n;
		}
		chars++;
	}
	if (i < len && o + 3 < dstlen) {
		memcpy(dst + o, "\xe2\x80\xa6", 3);	/* U+2026 */
		o += 3;
	}
	dst[o] = '\0';
}

void
echo_value(char *dst, size_t dstlen, const char *s, size_t len)
{
	echo_text(dst, dstlen, s, len, MAX_ECHO_CHARS);
}

void
echo_path(char *dst, size_t dstlen, const char *path)
{
	echo_text(dst, dstlen, path, strlen(path), 1024);
}

const char *
file_kind(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return ("a regular file");
	case S_IFDIR:
		return ("a directory");
	case S_IFIFO:
		return ("a FIFO");
	case S_IFSOCK:
		return ("a socket");
	case S_IFCHR:
		return ("a character device");
	case S_IFBLK:
		return ("a block device");
	case S_IFLNK:
		return ("a symbolic link");
	}
	return ("a file of unknown type");
}
