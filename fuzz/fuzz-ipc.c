/*
 * The broker's view of the socket: a compromised frontend writes these
 * bytes.  Every decoder must reject what it cannot read exactly, and
 * what it accepts must pass the broker's own checks or be refused by
 * them; nothing may read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/bounds.h"
#include "common/proto.h"
#include "common/validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_reader		 r;
	struct req_dispatch	 d;
	struct req_reject	 j;
	struct dview		 v;
	const char		*p;
	size_t			 n;
	char			 h[HANDLE_BYTES + 1], err[MAX_REASON_BYTES];
	uint32_t		 u;

	if (size > MAX_IPC_BYTES || ipc_open(&r, data, size) == -1)
		return (0);
	switch (r.type % 8) {
	case 0:
		if (proto_get_dispatch(&r, &d) == 0) {
			p = d.task;
			n = d.task_len;
			(void)check_task(&p, &n, err, sizeof err);
			p = d.orguser;
			n = d.orguser_len;
			(void)check_name("orguser", &p, &n, err, sizeof err);
		}
		break;
	case 1:
		(void)proto_get_reject(&r, &j);
		break;
	case 2:
		if (proto_get_handle(&r, h, &u) == 0 &&
		    check_handle(h, strlen(h)) == -1)
			abort();	/* the decoder let a bad handle by */
		break;
	case 3:
		if (proto_get_view(&r, &v) == 0 && (v.status >= DS_MAX ||
		    !is_valid_name(v.orguser, strlen(v.orguser))))
			abort();
		break;
	case 4:
		(void)proto_get_tool_error(&r, &p, &n);
		break;
	default:
		while (ipc_get_str(&r, &p, &n, MAX_TASK_BYTES) == 0)
			if (memchr(p, '\0', n) != NULL)
				abort();
		(void)ipc_end(&r);
	}
	return (0);
}
