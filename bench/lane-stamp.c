/*
 * A lane that records when it began: the first thing it does is read
 * CLOCK_MONOTONIC, which it writes in nanoseconds to the file named by
 * BENCH_STAMP (passed to it with DISPATCH_ENV_PASS).  Without
 * BENCH_STAMP it writes to STAMP_FILE if built with one (-DSTAMP_FILE=
 * '"path"': the far end of a lane over ssh or Slurm, which no variable
 * of ours reaches), or else exits at once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(void)
{
	struct timespec	 ts;
	const char	*path;
	char		 buf[32];
	int		 fd, len;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((path = getenv("BENCH_STAMP")) == NULL || *path == '\0')
#ifdef STAMP_FILE
		path = STAMP_FILE;
#else
		return (0);
#endif
	len = snprintf(buf, sizeof buf, "%lld\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return (1);
	/* One write: a reader sees the whole line or none of it. */
	if (write(fd, buf, (size_t)len) != len) {
		close(fd);
		return (1);
	}
	close(fd);
	return (0);
}
