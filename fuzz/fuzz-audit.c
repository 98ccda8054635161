/*
 * libFuzzer harness for "dispatch-mcp-audit verify" and "show":
 * an audit log is a file anyone with the user's rights may have edited,
 * so the offline reader takes whatever bytes it holds.  The input is the
 * log; the second half, when the input has a form feed, is a syslog
 * export for --syslog.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-tool.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	logpath[64], slpath[64];

static void
cleanup(void)
{
	unlink(logpath);
	unlink(slpath);
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	static char	 a_verify[] = "verify", a_show[] = "show";
	static char	 a_sl[] = "--syslog", a_json[] = "--json";
	const uint8_t	*ff;
	size_t		 n = size;
	char		*v1[] = { a_verify, logpath, NULL };
	char		*v2[] = { a_verify, a_sl, slpath, logpath, NULL };
	char		*v3[] = { a_show, a_json, logpath, NULL };
	char		*v4[] = { a_show, logpath, NULL };

	if (!init) {
		snprintf(logpath, sizeof logpath, "/tmp/fuzz-audit.%ld.log",
		    (long)getpid());
		snprintf(slpath, sizeof slpath, "/tmp/fuzz-audit.%ld.syslog",
		    (long)getpid());
		/* What the tool prints is not the point: where it reads. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
		atexit(cleanup);
		init = 1;
	}
	if ((ff = memchr(data, '\f', size)) != NULL)
		n = (size_t)(ff - data);
	put(logpath, data, n);
	put(slpath, ff != NULL ? ff + 1 : data, ff != NULL ? size - n - 1 : 0);
	audit_main(2, v1);
	audit_main(4, v2);
	audit_main(3, v3);
	audit_main(2, v4);
	fflush(stdout);
	return (0);
}
