/* Logging to stderr, one sanitised line per event. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char	*log_role = "main";
static int		 log_debugging;

void
log_init(const char *role, int verbose)
{
	log_role = role;
	log_debugging = verbose;
}

int
log_verbose(void)
{
	return (log_debugging);
}

static void	log_emit(const char *, int, int, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

static void
log_emit(const char *level, int with_errno, int saved_errno,
    const char *fmt, va_list ap)
{
	char	 msg[2048], line[4096];
	size_t	 i, n;
	int	 len;

	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		strcpy(msg, "(unformattable message)");
	len = snprintf(line, sizeof line, "dispatch-mcp[%s]: %s", log_role,
	    level);
	if (len < 0)
		return;
	n = (size_t)len;
	for (i = 0; msg[i] != '\0' && n + 5 < sizeof line; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(line + n, sizeof line - n,
			    "\\x%02x", c);
		} else
			line[n++] = (char)c;
	}
	if (with_errno) {
		len = snprintf(line + n, sizeof line - n, ": %s",
		    strerror(saved_errno));
		if (len > 0)
			n += (size_t)len;
		if (n >= sizeof line - 1)
			n = sizeof line - 2;
	}
	line[n++] = '\n';
	/* Best effort: there is nowhere else to report a failed log write. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_debugging)
		return;
	va_start(ap, fmt);
	log_emit("debug: ", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit("", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_emit("warning: ", 1, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit("warning: ", 0, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_emit("fatal: ", 1, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit("fatal: ", 0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
