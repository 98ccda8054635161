#ifndef DISPATCH_FRONTEND_H
#define DISPATCH_FRONTEND_H

#include <sys/queue.h>

#include <event2/event_struct.h>
#include <json-c/json.h>
#include <stdint.h>

#include "common/chan.h"
#include "common/proto.h"

/* JSON-RPC 2.0 and MCP error codes. */
#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define RPC_SERVER_BUSY		-32000	/* implementation-defined */
#define MCP_MISSING_CAPABILITY	-32021
#define MCP_UNSUPPORTED_VERSION	-32022

/* Protocol revisions we speak, oldest first. */
#define MCP_V20241105	"2024-11-05"
#define MCP_V20250326	"2025-03-26"
#define MCP_V20250618	"2025-06-18"
#define MCP_V20251125	"2025-11-25"
#define MCP_V20260728	"2026-07-28"	/* stateless: per-request _meta */
#define MCP_LATEST	MCP_V20251125	/* newest with initialize */

/* Log levels of notifications/message, in order (RFC 5424 names). */
enum log_level {
	LOG_DEBUG_L, LOG_INFO_L, LOG_NOTICE_L, LOG_WARNING_L, LOG_ERROR_L,
	LOG_CRITICAL_L, LOG_ALERT_L, LOG_EMERGENCY_L, LOG_NONE_L
};

/* A JSON-RPC batch (2025-03-26 only): answered as one array. */
struct batch {
	struct json_object	*responses;
	int			 outstanding;	/* elements not yet answered */
	int			 sealed;	/* every element was read */
};

/*
 * Per-request context: what the answer must look like and where it goes.
 * In a stateless (2026-07-28) request everything comes from its _meta;
 * otherwise from the initialize of the session.
 */
struct rpc_ctx {
	struct json_object	*id;		/* echoed exactly */
	char			 version[16];
	int			 modern;
	enum log_level		 loglevel;	/* LOG_NONE_L: no messages */
	struct json_object	*progress;	/* progressToken, or NULL */
	struct client_info	 client;
	struct batch		*batch;
	int			 tasks_ext;	/* declared the tasks extension */
	int			 as_task;	/* this tools/call makes a task */
};

/* What a request is waiting on the broker for. */
enum pend_kind {
	PEND_DISPATCH,		/* VIEW or TOOL_ERROR */
	PEND_REJECT,		/* ACK, then the stored error is sent */
	PEND_STATUS,
	PEND_RESULT,
	PEND_LIST,
	PEND_STOP,		/* VIEW or TOOL_ERROR, as STATUS */
	/* Tasks: answered by tasks_reply(), not tools_reply(). */
	PEND_TASK_GET,		/* RESULT without a wait */
	PEND_TASK_RESULT,	/* RESULT waits, re-sent until final */
	PEND_TASK_LIST,
	PEND_TASK_CANCEL,	/* RESULT, STOP, then RESULT until final */
};

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	uint32_t		 reqid;
	enum pend_kind		 kind;
	struct rpc_ctx		 ctx;		/* holds its own references */
	char			*error;		/* PEND_REJECT: the message */
	uint32_t		 offset;	/* PEND_LIST: first record */
	int			 log_scope;	/* PEND_LIST: the audit log's */
	int			 step;		/* PEND_TASK_CANCEL: what is sent */
	int			 cancelled;
	/* Progress of a long-poll, when the caller asked for it. */
	struct event		 progress_ev;
	int			 progress_on;
	uint64_t		 started_ms;
	uint32_t		 wait_ms;
	char			 handle[HANDLE_BYTES + 1];
	/* Asking the broker again later: nothing is outstanding there. */
	struct event		 retry_ev;
	int			 retry_on;
	void			(*retry)(struct pending *);
};

/* frontend.c */
struct config;
void	frontend_main(int, const struct config *) __attribute__((noreturn));
void	out_send(struct json_object *);
/* Answer a request: a result, or an error (data may be NULL). */
void	rpc_result(const struct rpc_ctx *, struct json_object *);
void	rpc_fail(const struct rpc_ctx *, int, const char *,
	    struct json_object *);
/* An error with no request to tie it to: parse errors and the like. */
void	rpc_error(struct json_object *, int, const char *);
/* A notification sent now, ahead of any answer. */
void	rpc_notify(const char *, struct json_object *);
void	batch_skip(struct batch *);
int		 frontend_busy(void);
struct pending	*pending_new(enum pend_kind, const struct rpc_ctx *);
void	pending_progress(struct pending *, uint32_t, const char *);
int	pending_id_in_use(struct json_object *);
void	pending_cancel(struct json_object *);
void	pending_renew(struct pending *);
void	pending_retry(struct pending *, void (*)(struct pending *));
int	frontend_stopping(void);
void	send_to_broker(struct ipc_msg *);

/* mcp.c */
void	mcp_init(void);
void	mcp_handle_line(const char *, size_t);
int	mcp_version_at_least(const char *, const char *);
void	mcp_log(const struct rpc_ctx *, enum log_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
struct json_object *mcp_server_info(int);
#ifdef DISPATCH_FUZZING
void	mcp_fuzz_reset(void);
#endif

/* tools.c */
void	tools_init(void);
struct json_object *tools_list(const char *);
void	tools_call(const struct rpc_ctx *, struct json_object *);
void	tools_reply(struct pending *, struct ipc_reader *);
void	tool_error(const struct rpc_ctx *, const char *);
struct json_object *tool_view_result(const struct rpc_ctx *,
	    const struct dview *);

/* tasks.c */
#define TASKS_EXT	"io.modelcontextprotocol/tasks"
void	tasks_created(struct pending *, const struct dview *);
int	tasks_reply(struct pending *, struct ipc_reader *);
void	tasks_final(struct ipc_reader *);
int	tasks_session(const struct rpc_ctx *);
void	method_tasks_get(const struct rpc_ctx *, struct json_object *);
void	method_tasks_result(const struct rpc_ctx *, struct json_object *);
void	method_tasks_list(const struct rpc_ctx *, struct json_object *);
void	method_tasks_update(const struct rpc_ctx *, struct json_object *);
void	method_tasks_cancel(const struct rpc_ctx *, struct json_object *);
/* Ask the broker to end a lane; its answer goes to a pending of the kind. */
struct pending *stop_lane(const struct rpc_ctx *, enum pend_kind,
	    const char *);

#endif
