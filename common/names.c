/* The syntax of names and handles, with nothing to report but yes or no. */
#include "config.h"

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
