/* Helpers of the lane tests (see lab.h). */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lanes/lab.h"

const char *
lab_script(const char *name)
{
	static char	 buf[4][1024];
	static int	 n;
	const char	*src = getenv("TEST_SRCDIR");
	char		*p = buf[n++ % 4];

	snprintf(p, 1024, "%s/tests/lanes/%s", src != NULL ? src : ".", name);
	return (p);
}

const char *
lab_bin(const char *name)
{
	static char	 buf[4][1024];
	static int	 n;
	const char	*build = getenv("TEST_BUILDDIR");
	char		*p = buf[n++ % 4];

	snprintf(p, 1024, "%s/%s", build != NULL ? build : ".", name);
	return (p);
}

void
lab_skip(const char *fmt, ...)
{
	const char	*ci = getenv("CI");
	va_list		 ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (ci != NULL && strcmp(ci, "true") == 0) {
		printf("CI=true: a lane test may not skip\n");
		exit(1);
	}
	exit(77);
}

int
lab_sh(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;
	int	 st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		return (-1);
	va_end(ap);
	st = system(cmd);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return (-1);
	return (WEXITSTATUS(st));
}

int
lab_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return (-1);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/*
 * The one place that names the audit tool's command line: the program
 * in DISPATCH_MCP_AUDIT_BIN if the build names one (dispatch-mcp-audit
 * verify), else the server's own "dispatch-mcp audit verify".
 */
int
lab_audit_verify(struct srv *s)
{
	const char	*tool = getenv("DISPATCH_MCP_AUDIT_BIN");

	if (tool != NULL && tool[0] != '\0')
		return (lab_sh("'%s' verify '%s' >/dev/null", tool, s->audit));
	return (lab_sh("'%s' audit verify '%s' >/dev/null", bin_path(),
	    s->audit));
}

long long
lab_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct json_object *
lab_dispatch_wait(struct srv *s, const char *task, int timeout_ms,
    char *handle, size_t handlelen)
{
	const char	*h;

	h = dispatch_ok(s, LAB_USER, LAB_REPO, task);
	if (handle != NULL)
		snprintf(handle, handlelen, "%s", h);
	return (wait_final(s, h, timeout_ms));
}

struct json_object *
lab_expect(struct json_object *r, const char *status)
{
	struct json_object	*v = result_struct(r);
	const char		*st = jget_str(v, "status");

	if (st == NULL || strcmp(st, status) != 0)
		fail_msg("want status %s, got %s", status, r != NULL ?
		    json_object_to_json_string(r) : "no answer");
	return (v);
}

const char *
lab_str(struct json_object *v, const char *key)
{
	const char	*s = jget_str(v, key);

	return (s != NULL ? s : "(null)");
}
