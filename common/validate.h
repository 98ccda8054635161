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
/*
 * Quote an untrusted value in a message: valid UTF-8 (U+FFFD for each
 * invalid byte), each control character (C0, DEL, C1) as \xHH, at most
 * the given number of characters, with an ellipsis when cut.  The
 * buffer holds four bytes per character, and four more.
 */
void	echo_text(char *, size_t, const char *, size_t, size_t);
/* echo_text of at most 64 characters. */
void	echo_value(char *, size_t, const char *, size_t);
#define ECHO_BYTES	(64 * 4 + 4)
/* A path from the environment: at most 1024 characters. */
void	echo_path(char *, size_t, const char *);
#define ECHO_PATH_BYTES	(1024 * 4 + 4)
/* "a FIFO", "a directory", ...: what a file that should be regular is. */
const char	*file_kind(unsigned int);

#endif
