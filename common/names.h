#ifndef DISPATCH_NAMES_H
#define DISPATCH_NAMES_H

#include <stddef.h>

/* A valid name, unstripped: ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ exactly. */
int	is_valid_name(const char *, size_t);
/* A handle: "dsp-" and 32 lowercase hex digits, nothing else. */
int	check_handle(const char *, size_t);
/* "owner/name" or "name", each part a valid name. */
int	check_github(const char *, size_t);
/* A host name or an IP address, with no leading dash anywhere. */
int	is_valid_host(const char *, size_t);

#endif
