#ifndef DISPATCH_FRONTEND_H
#define DISPATCH_FRONTEND_H

#include <sys/queue.h>

#include <json-c/json.h>
#include <stdint.h>

#include "common/imsg.h"
#include "common/proto.h"

/* JSON-RPC 2.0 and MCP error codes. */
#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define MCP_UNSUPPORTED_VERSION	-32022

/* Protocol revisions we speak, oldest first. */
#define MCP_V20241105	"2024-11-05"
#define MCP_V20250326	"2025-03-26"
#define MCP_V20250618	"2025-06-18"
#define MCP_V20251125	"2025-11-25"
#define MCP_LATEST	MCP_V20251125

/* What a request is waiting on the broker for. */
enum pend_kind {
	PEND_DISPATCH,		/* VIEW or TOOL_ERROR */
	PEND_REJECT,		/* ACK, then the stored error is sent */
	PEND_STATUS,
	PEND_RESULT,
	PEND_LIST,
};

/* Per-request context: what the reply must look like. */
struct rpc_ctx {
	struct json_object	*id;		/* echoed exactly; owned */
	char			 version[16];	/* protocol revision */
};

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	uint32_t		 reqid;
	enum pend_kind		 kind;
	struct rpc_ctx		 ctx;
	char			*error;		/* PEND_REJECT: the message */
	uint32_t		 offset;	/* PEND_LIST: first record */
	int			 cancelled;
};

/* frontend.c */
struct config;
void	frontend_main(int, const struct config *) __attribute__((noreturn));
/* Queue one message for stdout (consumes the reference). */
void	out_send(struct json_object *);
void	rpc_result(const struct rpc_ctx *, struct json_object *);
void	rpc_error(struct json_object *, int, const char *);
struct pending	*pending_new(enum pend_kind, const struct rpc_ctx *);
void	broker_send(struct mbuf *);
extern struct client_info	client_info;

/* mcp.c */
void	mcp_init(void);
void	mcp_handle_line(const char *, size_t);
int	mcp_version_at_least(const char *, const char *);

/* tools.c */
void	tools_init(void);
struct json_object *tools_list(const char *);
void	tools_call(const struct rpc_ctx *, struct json_object *);
void	tools_reply(struct pending *, struct mreader *);
void	tool_error(const struct rpc_ctx *, const char *);

#endif
