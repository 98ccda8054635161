#ifndef DISPATCH_UTIL_H
#define DISPATCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
#ifndef HAVE_STRLCPY
size_t	 strlcpy(char *, const char *, size_t);
#endif

/* Milliseconds since the epoch, and on the monotonic clock. */
uint64_t	 now_ms(void);
uint64_t	 mono_ms(void);
#define TIME_STR_BYTES	32
/* RFC 3339 UTC with milliseconds: 2026-11-25T17:13:13.123Z */
void	 fmt_time_ms(uint64_t, char *, size_t);

/* Fill with random bytes from getrandom(2); fatal on failure. */
void	 random_bytes(void *, size_t);
/* Lowercase hex of n random bytes into buf (2n + 1 bytes). */
void	 random_hex(char *, size_t);

/*
 * Name of a signal: "SIGTERM", "SIGRTMIN+3" for a real-time one, and
 * "SIG32" for a number with no name (glibc's own 32 and 33); never NULL.
 * The last two kinds live in a static buffer until the next call.
 */
const char	*signal_name(int);

#endif
