/*
 * When seccomp kills a process, the kernel writes an audit record to its
 * log (type=1326, with pid= and syscall=), not to anyone's siginfo.  So
 * /dev/kmsg is opened before the fork, where the server may read it (as
 * root, or with kernel.dmesg_restrict 0), positioned at its end, and read
 * only after the frontend died of SIGSYS, to name the forbidden call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/kmsg.h"

static int	kmsg_fd = -1;

void
kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd != -1 && lseek(kmsg_fd, 0, SEEK_END) == -1) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
}

/*
 * The name of the call seccomp killed pid for, as "name (syscall N)", or
 * NULL.  The kernel's audit thread may write the record a moment after
 * the death is seen: wait up to 200 ms for it.
 */
char *
kmsg_seccomp_culprit(pid_t pid)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	char		 rec[8192], pat[32], out[128], *p, *a, *name;
	ssize_t		 n;
	unsigned long	 arch;
	long		 nr;
	int		 tries;

	if (kmsg_fd == -1)
		return (NULL);
	snprintf(pat, sizeof pat, " pid=%ld ", (long)pid);
	for (tries = 0; tries < 20; tries++) {
		/* One record per read; EPIPE: some were overwritten. */
		while ((n = read(kmsg_fd, rec, sizeof rec - 1)) > 0 ||
		    (n == -1 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = '\0';
			if (strstr(rec, "type=1326") == NULL ||
			    strstr(rec, pat) == NULL ||
			    (p = strstr(rec, " syscall=")) == NULL)
				continue;
			nr = strtol(p + 9, NULL, 10);
			/* libseccomp's arch tokens are the audit's arch=. */
			arch = (a = strstr(rec, " arch=")) != NULL ?
			    strtoul(a + 6, NULL, 16) : SCMP_ARCH_NATIVE;
			if (arch != seccomp_arch_native()) {
				snprintf(out, sizeof out, "system call %ld of "
				    "another architecture (audit arch %lx)",
				    nr, arch);
				return (strdup(out));
			}
			name = seccomp_syscall_resolve_num_arch(
			    (uint32_t)arch, (int)nr);
			snprintf(out, sizeof out, "%s (system call %ld)",
			    name != NULL ? name : "an unknown call", nr);
			free(name);
			return (strdup(out));
		}
		if (n == -1 && errno != EAGAIN)
			return (NULL);
		nanosleep(&ts, NULL);
	}
	return (NULL);
}
