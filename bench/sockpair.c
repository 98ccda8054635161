/*
 * The floor of a broker round trip: an AF_UNIX SOCK_SEQPACKET socketpair
 * between two processes, the child echoing every datagram.
 *
 * usage: sockpair [-r rounds] [-k sequential] [-p pipelined] [-s size]
 *
 * Prints, in the format of driver(1)'s results, per round the p50 and
 * p99 of k one-at-a-time round trips (µs), and the rate of p datagrams
 * sent by one thread while another reads their echoes (per second).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS	64
#define MAX_SIZE	4096

static int	 fd;
static size_t	 msgsize = 64;
static long	 npipe = 20000;

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

static void
echo_loop(int s)
{
	char	buf[MAX_SIZE];
	ssize_t	n;

	for (;;) {
		n = recv(s, buf, sizeof buf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		if (send(s, buf, (size_t)n, 0) != n)
			_exit(1);
	}
}

static void
xsend(const char *buf)
{
	while (send(fd, buf, msgsize, 0) != (ssize_t)msgsize)
		if (errno != EINTR)
			err(1, "send");
}

static void
xrecv(char *buf)
{
	ssize_t	n;

	while ((n = recv(fd, buf, MAX_SIZE, 0)) != (ssize_t)msgsize)
		if (n != -1 || errno != EINTR)
			errx(1, "recv: short or failed");
}

static void *
writer(void *arg)
{
	char	buf[MAX_SIZE];
	long	i;

	(void)arg;
	memset(buf, 'w', sizeof buf);
	for (i = 0; i < npipe; i++)
		xsend(buf);
	return (NULL);
}

int
main(int argc, char *argv[])
{
	pthread_t	 th;
	int64_t		*lat, t0, p50[MAX_ROUNDS], p99[MAX_ROUNDS];
	double		 rate[MAX_ROUNDS];
	char		 buf[MAX_SIZE];
	long		 rounds = 5, nseq = 2000, i, r;
	int		 sv[2], ch, status;
	pid_t		 pid;

	while ((ch = getopt(argc, argv, "k:p:r:s:")) != -1) {
		switch (ch) {
		case 'k':
			nseq = strtol(optarg, NULL, 10);
			break;
		case 'p':
			npipe = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtol(optarg, NULL, 10);
			break;
		case 's':
			msgsize = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: sockpair [-r rounds] "
			    "[-k sequential] [-p pipelined] [-s size]\n");
			return (2);
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || nseq < 100 ||
	    nseq > 1000000 || npipe < 1 || npipe > 10000000 ||
	    msgsize < 1 || msgsize > MAX_SIZE)
		errx(2, "a value is out of range");
	if ((lat = calloc((size_t)nseq, sizeof *lat)) == NULL)
		err(1, "calloc");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		err(1, "socketpair");
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		close(sv[0]);
		echo_loop(sv[1]);
	}
	close(sv[1]);
	fd = sv[0];
	memset(buf, 'r', sizeof buf);

	/* Warm up. */
	for (i = 0; i < 1000; i++) {
		xsend(buf);
		xrecv(buf);
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nseq; i++) {
			t0 = now_ns();
			xsend(buf);
			xrecv(buf);
			lat[i] = now_ns() - t0;
		}
		qsort(lat, (size_t)nseq, sizeof *lat, cmp_i64);
		p50[r] = lat[nseq / 2];
		p99[r] = lat[nseq * 99 / 100];

		t0 = now_ns();
		if ((errno = pthread_create(&th, NULL, writer, NULL)) != 0)
			err(1, "pthread_create");
		for (i = 0; i < npipe; i++)
			xrecv(buf);
		rate[r] = (double)npipe * 1e9 / (double)(now_ns() - t0);
		pthread_join(th, NULL);
	}
	close(fd);
	waitpid(pid, &status, 0);

	printf("limit.rt_p50 us");
	for (r = 0; r < rounds; r++)
		printf(" %.3f", (double)p50[r] / 1000.0);
	printf("\nlimit.rt_p99 us");
	for (r = 0; r < rounds; r++)
		printf(" %.3f", (double)p99[r] / 1000.0);
	printf("\nlimit.rt_rate per_s");
	for (r = 0; r < rounds; r++)
		printf(" %.0f", rate[r]);
	printf("\n");
	free(lat);
	return (0);
}
