#ifndef DISPATCH_IPC_H
#define DISPATCH_IPC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Typed binary messages over a SOCK_SEQPACKET socketpair.  One datagram is
 * one message: an 8-byte header (type, request id, both u32 in host
 * order) and a payload of fields.  Integers are fixed width; a string is a
 * u32 length and that many bytes, no NUL inside and none after.  Readers
 * take fields in order and must end with ipc_end(), which fails if anything
 * is left over.  Every getter bounds-checks against what is left.
 */
struct ipc_msg {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

struct ipc_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	uint32_t	 type;
	uint32_t	 id;
};

void	ipc_init(struct ipc_msg *, uint32_t, uint32_t);
void	ipc_free(struct ipc_msg *);
void	ipc_put_u32(struct ipc_msg *, uint32_t);
void	ipc_put_u64(struct ipc_msg *, uint64_t);
void	ipc_put_str(struct ipc_msg *, const char *, size_t);
void	ipc_put_cstr(struct ipc_msg *, const char *);

int	ipc_open(struct ipc_reader *, const void *, size_t);
int	ipc_get_u32(struct ipc_reader *, uint32_t *);
int	ipc_get_u64(struct ipc_reader *, uint64_t *);
/* Points into the message; fails if longer than max or holding a NUL. */
int	ipc_get_str(struct ipc_reader *, const char **, size_t *, size_t);
/* Copies into a NUL-terminated buffer of the given size. */
int	ipc_get_strbuf(struct ipc_reader *, char *, size_t);
int	ipc_end(struct ipc_reader *);
/* Set the socket buffers so a MAX_IPC_BYTES datagram fits. */
void	ipc_setbuf(int);

#endif
