#ifndef DISPATCH_LOG_H
#define DISPATCH_LOG_H

#include <stdarg.h>

/*
 * One line per event on stderr, prefixed "dispatch-mcp[role]: ".  Control
 * bytes in the formatted line are escaped, so an untrusted value cannot
 * forge a second log line.  Safe to call under either sandbox: the only
 * system call is write(2).
 */
void	log_init(const char *, int);
int	log_verbose(void);
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
