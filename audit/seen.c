/*
 * The dispatches verify has met, by handle, so that each exit can be
 * paired with its dispatch.  A log may hold millions of records, so the
 * lookup is a hash, not a scan.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit-tool.h"
#include "common/bounds.h"
#include "common/util.h"

struct handle_seen {
	char	handle[HANDLE_BYTES + 1];
	char	ts[TIME_STR_BYTES];
	int	exited;
};

struct seen_set {
	struct handle_seen	*seen;
	size_t			 n, cap;
	/* Open addressing, never over half full; index + 1, 0 is empty. */
	size_t			*slots;
	size_t			 nslots;
};

struct seen_set *
seen_new(void)
{
	return (xcalloc(1, sizeof (struct seen_set)));
}

void
seen_free(struct seen_set *s)
{
	if (s == NULL)
		return;
	free(s->seen);
	free(s->slots);
	free(s);
}

static size_t
handle_slot(const struct seen_set *s, const char *h)
{
	size_t	v = 5381;

	while (*h != '\0')
		v = v * 33 + (unsigned char)*h++;
	return (v & (s->nslots - 1));
}

/* The first free slot on h's probe path. */
static size_t
free_slot(const struct seen_set *s, const char *h)
{
	size_t	i;

	for (i = handle_slot(s, h); s->slots[i] != 0;
	    i = (i + 1) & (s->nslots - 1))
		;
	return (i);
}

/* Rebuilt in the order met, so a handle dispatched twice finds its first. */
static void
grow_slots(struct seen_set *s)
{
	size_t	j;

	free(s->slots);
	s->nslots = s->nslots == 0 ? 128 : s->nslots * 2;
	s->slots = xcalloc(s->nslots, sizeof *s->slots);
	for (j = 0; j < s->n; j++)
		s->slots[free_slot(s, s->seen[j].handle)] = j + 1;
}

void
seen_add(struct seen_set *s, const char *h, const char *ts)
{
	struct handle_seen	*hs;

	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->seen = xreallocarray(s->seen, s->cap, sizeof *s->seen);
	}
	hs = &s->seen[s->n++];
	memset(hs, 0, sizeof *hs);
	strlcpy(hs->handle, h, sizeof hs->handle);
	strlcpy(hs->ts, ts != NULL ? ts : "", sizeof hs->ts);
	if (s->n * 2 > s->nslots)
		grow_slots(s);
	else
		s->slots[free_slot(s, h)] = s->n;
}

static struct handle_seen *
seen_find(struct seen_set *s, const char *h)
{
	size_t	i;

	if (s->nslots == 0)
		return (NULL);
	for (i = handle_slot(s, h); s->slots[i] != 0;
	    i = (i + 1) & (s->nslots - 1)) {
		if (strcmp(s->seen[s->slots[i] - 1].handle, h) == 0)
			return (&s->seen[s->slots[i] - 1]);
	}
	return (NULL);
}

int
seen_exit(struct seen_set *s, const char *h)
{
	struct handle_seen	*hs;

	if ((hs = seen_find(s, h)) == NULL)
		return (0);
	hs->exited = 1;
	return (1);
}

int
seen_cancel(struct seen_set *s, const char *h)
{
	struct handle_seen	*hs;

	if ((hs = seen_find(s, h)) == NULL)
		return (-1);
	return (hs->exited);
}

void
seen_unexited(const struct seen_set *s, void (*fn)(const char *,
    const char *))
{
	size_t	j;

	for (j = 0; j < s->n; j++) {
		if (!s->seen[j].exited)
			fn(s->seen[j].handle, s->seen[j].ts);
	}
}
