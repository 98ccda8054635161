/*
 * The allowlist loader on arbitrary file contents: what it keeps is
 * always a valid target, and resolution never misbehaves.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "broker/allowlist.h"
#include "common/validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist	 al;
	char			 err[MAX_REASON_BYTES];
	size_t			 i;

	if (size > MAX_ALLOWLIST_BYTES)
		return (0);
	if (allowlist_parse("fuzz.json", (const char *)data, size, &al, 0,
	    err, sizeof err) == -1)
		return (0);
	for (i = 0; i < al.ntargets; i++) {
		if (!is_valid_name(al.targets[i].repo,
		    strlen(al.targets[i].repo)) ||
		    check_github(al.targets[i].github,
		    strlen(al.targets[i].github)) == -1)
			__builtin_trap();
		(void)allowlist_resolve(&al, al.targets[i].org,
		    al.targets[i].repo, err, sizeof err);
	}
	(void)allowlist_resolve(&al, "nash-forbes", "nash", err, sizeof err);
	allowlist_free(&al);
	return (0);
}
