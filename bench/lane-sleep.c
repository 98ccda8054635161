/*
 * A lane that keeps running: it sleeps 60 s (long enough for 1,000
 * of them to be started and measured), and dies with its parent
 * (the broker), so that a benchmark that is killed leaves nothing behind.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_SECONDS	60

int
main(void)
{
	struct timespec	ts = { SLEEP_SECONDS, 0 };
	pid_t		parent = getppid();

	if (parent == 1 || prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
	    getppid() != parent)
		return (1);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return (0);
}
