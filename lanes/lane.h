/*
 * What the lane programs (dispatch-lane-ssh, dispatch-lane-receive,
 * dispatch-lane-slurm) share: the argument vector the server gives a
 * lane, one-line errors, a fixed environment, and spawning a fixed argv
 * with posix_spawn(3).  No shell is involved anywhere.
 */
#ifndef DISPATCH_LANE_H
#define DISPATCH_LANE_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

/* The server's limits; the only include of that header in lanes/. */
#include "common/bounds.h"

#define LANE_PATH_ENV	"PATH=/usr/local/bin:/usr/bin:/bin"
#define LANE_MAX_ENV	48
#define LANE_MAX_ARGV	160

/* ORGUSER REPO --host HOST --max N, as the server runs a lane. */
struct lane_args {
	const char	*orguser;
	const char	*repo;
	char		 host[MAX_HOST_BYTES + 1];
	uint32_t	 max;
	char		 max_str[16];
};

/* A NULL-terminated vector of strings, bounded, for argv and envp. */
struct lane_vec {
	char	*v[LANE_MAX_ARGV + 1];
	size_t	 n;
};

void	lane_init(const char *);
/* One line on stderr, "PROG: message", control bytes escaped. */
void	lane_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	lane_errx(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* 0, or -1 with a message in err: the server's own rules, reused. */
int	lane_parse_args(int, char **, struct lane_args *, char *, size_t);
int	lane_parse_max(const char *, uint32_t *);

void	lane_vec_add(struct lane_vec *, const char *);
void	lane_vec_addf(struct lane_vec *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	lane_vec_free(struct lane_vec *);
/* NAME=value from our environment, if set. */
void	lane_env_keep(struct lane_vec *, const char *);

#define LANE_SPAWN_SETSID	0x1	/* own session and process group */
#define LANE_SPAWN_PGROUP	0x2	/* own process group */
/*
 * Start path with exactly argv and envp; fds become 0, 1 and 2 (-1:
 * /dev/null), every other descriptor is closed and every signal has its
 * default disposition.  Returns the pid, or -1 with errno set.
 */
pid_t	lane_spawn(const char *, struct lane_vec *, struct lane_vec *, int,
	    int, int, int);
/* waitpid(2) that retries on EINTR unless *stop is set; -1 on error. */
int	lane_waitpid(pid_t, int *, volatile int *);
/*
 * Wait for pid to exit (0, *status set), a caught signal (1), or
 * timeout_ms (2; -1 waits for ever); -1 on error.
 */
int	lane_wait_or_signal(pid_t, int *, int);
/* A wait status as a shell reports it: the code, or 128 + signal. */
int	lane_status(int);

/* SIGTERM, SIGINT and SIGHUP set *lane_signalled and wake poll(2). */
extern volatile int	lane_signalled;
void	lane_catch_signals(void);
int	lane_signal_fd(void);
/* End by the signal we were sent, as a lane killed by it would. */
void	lane_reraise(int) __attribute__((noreturn));

/* Read fd to EOF, at most max bytes; -1 on error or if there is more. */
ssize_t	lane_read_all(int, char *, size_t);
/* Write all of buf; -1 on error. */
int	lane_write_all(int, const char *, size_t);
/* Untrusted text for a log line: printable ASCII, the rest as \xHH. */
void	lane_escape(char *, size_t, const char *, size_t);
/* Owned by root or by us, and closed to group and world writes. */
int	lane_trusted(const struct stat *);
/*
 * A configuration file's text (malloc'd, *lenp bytes): a trusted regular
 * file, not a symbolic link, at most max bytes, no NUL.  NULL and a
 * message in err otherwise.
 */
char	*lane_read_conf(const char *, size_t, size_t *, char *, size_t);
/*
 * The configuration files: "keyword value" lines, '#' comments, blank
 * lines.  lane_kv_next gives the next line's key and value (value may
 * be empty), or 0 at the end.
 */
struct lane_kv {
	const char	*p;
	const char	*end;
	int		 lineno;
	const char	*key;
	size_t		 klen;
	const char	*val;
	size_t		 vlen;
};
int	lane_kv_next(struct lane_kv *);
int	lane_kv_is(const struct lane_kv *, const char *);

/* Monotonic milliseconds. */
uint64_t	lane_mono_ms(void);
void		lane_sleep_ms(int);

#endif
