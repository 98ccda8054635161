#ifndef DISPATCH_DISPATCH_H
#define DISPATCH_DISPATCH_H

#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>

#include "broker/lane.h"
#include "common/proto.h"

/* A dispatch_result long-poll waiting for its lane to end. */
struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	uint32_t		 id;
	struct event		 timer;
	struct dispatch		*d;
};

/* One unit of work: the record the broker keeps for the session. */
struct dispatch {
	struct dispatch		*hnext;
	char			 handle[HANDLE_BYTES + 1];
	char			 orguser[MAX_NAME_BYTES + 1];
	char			 repo[MAX_NAME_BYTES + 1];
	char			 github[MAX_GITHUB_BYTES + 1];
	struct client_info	 client;
	uint32_t		 status;	/* enum dstatus */
	uint64_t		 requested_ms;
	uint64_t		 finished_ms;
	char			*detail;	/* once final */
	size_t			 detail_len;
	struct lane		 lane;
	TAILQ_HEAD(, waiter)	 waiters;
};

#endif
