#ifndef DISPATCH_ALLOWLIST_H
#define DISPATCH_ALLOWLIST_H

#include <stddef.h>

#include "common/bounds.h"

/*
 * The allowlist (.repos.json), read afresh for every dispatch so edits
 * take effect without a restart.  Entries that cannot be dispatched to
 * (undeclared org, not an object, bad names) are dropped and logged once
 * per version of the file.
 */
struct target {
	char	repo[MAX_NAME_BYTES + 1];
	char	org[MAX_NAME_BYTES + 1];
	char	github[MAX_GITHUB_BYTES + 1];
	char	host[MAX_HOST_BYTES + 1];	/* "": DISPATCH_SSH_HOST */
};

struct org {
	char	name[MAX_NAME_BYTES + 1];
	char	host[MAX_HOST_BYTES + 1];	/* its repos' default */
};

struct allowlist {
	struct org	 *orgs;
	size_t		  norgs;
	size_t		 *orgslot;	/* hash of orgs: index + 1, 0 free */
	size_t		  orgmask;
	struct target	 *targets;
	size_t		  ntargets;
};

const struct allowlist *allowlist_current(const char *, char *, size_t);
int	allowlist_load(const char *, struct allowlist *, char *, size_t);
int	allowlist_parse(const char *, const char *, size_t, struct allowlist *,
	    int, char *, size_t);
const struct target *allowlist_resolve(const struct allowlist *,
	    const char *, const char *, char *, size_t);
void	allowlist_free(struct allowlist *);

#endif
