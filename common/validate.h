#ifndef DISPATCH_VALIDATE_H
#define DISPATCH_VALIDATE_H

#include <stddef.h>

#include "names.h"

/*
 * The argument rules of dispatch_unit and friends.  The frontend applies
 * them to decoded JSON; the broker applies them again to what arrives over
 * the socket, so a compromised frontend gains nothing by skipping them.
 * On failure each writes a caller-facing message to err and returns -1.
 * On success *sp and *lenp are narrowed to the stripped value.
 */
#define NAME_PATTERN	"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

int	check_task(const char **, size_t *, char *, size_t);
int	check_name(const char *, const char **, size_t *, char *, size_t);
/* Quote an untrusted value in a message: valid UTF-8, at most 64 chars. */
void	echo_value(char *, size_t, const char *, size_t);
#define ECHO_BYTES	(64 * 4 + 4)

#endif
