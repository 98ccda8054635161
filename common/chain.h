#ifndef DISPATCH_CHAIN_H
#define DISPATCH_CHAIN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * The audit log's hash chain.  Each record carries "seq", one more than
 * the record before it, and "prev", the SHA-256 (lowercase hex) of the
 * exact bytes of the previous record's line, without its newline.  The
 * first record of a new chain has seq 1 and prev CHAIN_GENESIS.
 */
#define CHAIN_HEX	64
#define CHAIN_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct chain_head {
	uint64_t	seq;
	char		hash[CHAIN_HEX + 1];
};

void	chain_hash(const char *, size_t, char *);
/* seq and prev of a record line; -1 if it is not a chained record. */
int	chain_parse(const char *, size_t, uint64_t *, char *);
/*
 * The last complete line of the file open on fd, of the given size.
 * Returns 1 with *line (malloc'd) and *len, 0 for a file with no
 * complete line, -1 on error.  *torn is set to the length of bytes after
 * the last newline: what a crash in the middle of a write leaves.
 */
int	chain_tail(int, off_t, char **, size_t *, size_t *);
/* The head a file's last line makes; 0, or -1 if unreadable. */
int	chain_head_of(int, off_t, struct chain_head *, size_t *);

#endif
