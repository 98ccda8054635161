/* The syntax of names and handles, with nothing to report but yes or no. */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <string.h>

#include "bounds.h"
#include "names.h"

int
is_valid_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > MAX_NAME_BYTES)
		return (0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		/* The first character may not be punctuation: "-x", "..". */
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return (0);
	}
	return (1);
}

int
check_handle(const char *s, size_t len)
{
	size_t	i, plen = sizeof HANDLE_PREFIX - 1;

	if (len != HANDLE_BYTES || memcmp(s, HANDLE_PREFIX, plen) != 0)
		return (-1);
	for (i = plen; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (-1);
	}
	return (0);
}

int
check_github(const char *s, size_t len)
{
	const char	*slash;

	if ((slash = memchr(s, '/', len)) == NULL)
		return (is_valid_name(s, len) ? 0 : -1);
	if (!is_valid_name(s, (size_t)(slash - s)))
		return (-1);
	return (is_valid_name(slash + 1, len - (size_t)(slash - s) - 1) ?
	    0 : -1);
}

/*
 * A host name (RFC 1123 labels) or an IPv4 or IPv6 address, as --host
 * and the allowlist carry it.  A leading dash would be read by ssh as an
 * option, so no label may start with one.
 */
int
is_valid_host(const char *s, size_t len)
{
	unsigned char	addr[16];
	char		buf[MAX_HOST_BYTES + 1];
	size_t		i, label = 0;

	if (len == 0 || len > MAX_HOST_BYTES || memchr(s, '\0', len) != NULL)
		return (0);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1 ||
	    inet_pton(AF_INET6, buf, addr) == 1)
		return (1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (!isascii(c) || !(isalnum(c) || c == '-') ||
		    (label == 0 && c == '-') || ++label > 63)
			return (0);
	}
	return (label != 0 && s[len - 1] != '-');
}
