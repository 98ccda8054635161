/*
 * libFuzzer harness for the configuration parsers: every DISPATCH_*
 * value is read from an environment the operator, or a client's
 * configuration file, may have got wrong.  The first byte picks the
 * parser; the rest, up to a NUL, is the value.  A value is accepted or
 * refused with a message, and what is accepted is within its bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/bounds.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config	 c;
	char			*v, err[512], host[MAX_HOST_BYTES + 1];
	uint64_t		 ms;
	uint32_t		 u;

	if (size < 1)
		return (0);
	if ((v = malloc(size)) == NULL)
		abort();
	memcpy(v, data + 1, size - 1);
	v[size - 1] = '\0';
	err[0] = '\0';
	switch (data[0] % 4) {
	case 0:
		/* A host goes into ssh's argv: never an option, no oddity. */
		if (config_parse_host(v, host, sizeof host) == 0 &&
		    (memchr(host, '\0', sizeof host) == NULL ||
		    host[0] == '-' || host[0] == '\0' ||
		    strspn(host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != strlen(host)))
			abort();
		break;
	case 1:
		if (config_parse_uint("DISPATCH_TIMEOUT", v, 1, 86400, &u,
		    err, sizeof err) == 0 && (u < 1 || u > 86400))
			abort();
		break;
	case 2:
		if (config_parse_timeout(v, &ms, err, sizeof err) == -1 &&
		    err[0] == '\0')
			abort();
		break;
	case 3:
		memset(&c, 0, sizeof c);
		if (config_parse_env_pass(v, &c, err, sizeof err) == -1 &&
		    err[0] == '\0')
			abort();
		break;
	}
	free(v);
	return (0);
}
