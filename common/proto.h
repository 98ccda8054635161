#ifndef DISPATCH_PROTO_H
#define DISPATCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "ipc.h"

/*
 * Every message between the frontend, the broker and the spawner.
 * doc/DESIGN.md lists each with its fields; the encoders and decoders in
 * proto.c are the only code that knows a layout.  Each decoder bounds
 * every field, checks the syntax of handles and names, and ends with
 * ipc_end(), so a message with a byte too many or too few is refused.
 * Every frontend request carries a request id that the broker echoes in
 * exactly one reply; SHUTDOWN and BYE use id 0, and so does FINAL, which
 * the broker sends unasked when a dispatch of the session ends.
 */
enum ipc_type {
	/* frontend -> broker */
	IPC_DISPATCH = 1,	/* client, orguser, repo, task */
	IPC_REJECT,		/* client, reason, raw arguments: audit only */
	IPC_STATUS,		/* handle */
	IPC_RESULT,		/* handle, wait_ms */
	IPC_LIST,		/* offset */
	IPC_SHUTDOWN,		/* stdin closed: wind down and say BYE */
	IPC_CANCEL,		/* handle: end the RESULT wait of this id now */
	IPC_STOP,		/* client, handle: end the lane (dispatch_cancel) */
	IPC_LIST_LOG,		/* before: the audit log's dispatches */
	/* broker -> frontend */
	IPC_VIEW = 64,		/* one record, optionally with its result */
	IPC_LIST_PAGE,		/* total, count, that many views */
	IPC_TOOL_ERROR,		/* a message the caller can act on */
	IPC_ACK,		/* a REJECT is on disk */
	IPC_BYE,		/* every lane is accounted for */
	IPC_FINAL,		/* handle, status, finished_ms: now final */
	/* broker -> spawner, with the lane's stdin, stdout and stderr */
	IPC_SPAWN = 128,	/* handle, orguser, repo, github, host, task */
	/* spawner -> broker */
	IPC_SPAWNED,		/* pid, errno */
};

enum dstatus {
	DS_RUNNING = 0,
	DS_SUCCEEDED,
	DS_FAILED,
	DS_TIMED_OUT,
	DS_CANCELLED,
	/* Its server ended without recording its end: read from the log. */
	DS_LOST,
	DS_MAX
};
const char	*dstatus_name(uint32_t);

struct client_info {
	char	name[MAX_CLIENT_FIELD_BYTES + 1];
	char	version[MAX_CLIENT_FIELD_BYTES + 1];
};

/* Strings point into the received message; lengths are exact. */
struct req_dispatch {
	struct client_info	 client;
	const char		*orguser;
	size_t			 orguser_len;
	const char		*repo;
	size_t			 repo_len;
	const char		*task;
	size_t			 task_len;
};

struct req_reject {
	struct client_info	 client;
	const char		*reason;
	size_t			 reason_len;
	const char		*args;
	size_t			 args_len;
};

struct dview {
	char		 handle[HANDLE_BYTES + 1];
	char		 orguser[MAX_NAME_BYTES + 1];
	char		 repo[MAX_NAME_BYTES + 1];
	char		 github[MAX_GITHUB_BYTES + 1];
	uint32_t	 status;
	uint64_t	 requested_ms;
	/* Result part: only in views sent with with_result set. */
	int		 with_result;
	int		 has_returncode;
	int32_t		 returncode;
	uint32_t	 signal;
	uint64_t	 finished_ms;	/* 0 while running */
	uint64_t	 duration_ms;
	const char	*detail;
	size_t		 detail_len;
	/* What the lane's cgroup measured: which of these it holds. */
	uint32_t	 usage;		/* VIEW_CPU | VIEW_MEM | ... */
	uint64_t	 cpu_usec;
	uint64_t	 mem_peak;
	uint64_t	 pids_peak;
};
#define VIEW_CPU	0x1
#define VIEW_MEM	0x2
#define VIEW_PIDS	0x4
#define VIEW_OOM	0x8		/* killed by its memory limit */
#define VIEW_USAGE_ALL	0xf

/*
 * What the broker asks the spawner to start: the host is the target's
 * own from the allowlist, or empty for DISPATCH_SSH_HOST; the task is
 * there only in argv mode.
 */
struct spawn_order {
	char		 handle[HANDLE_BYTES + 1];
	char		 orguser[MAX_NAME_BYTES + 1];
	char		 repo[MAX_NAME_BYTES + 1];
	char		 github[MAX_GITHUB_BYTES + 1];
	char		 host[MAX_HOST_BYTES + 1];
	const char	*task;
	size_t		 task_len;
};

/* SHUTDOWN, ACK and BYE carry nothing. */
void	proto_empty(struct ipc_msg *, uint32_t, uint32_t);
int	proto_get_empty(struct ipc_reader *);

void	proto_dispatch(struct ipc_msg *, uint32_t, const struct client_info *,
	    const char *, size_t, const char *, size_t, const char *, size_t);
int	proto_get_dispatch(struct ipc_reader *, struct req_dispatch *);
void	proto_reject(struct ipc_msg *, uint32_t, const struct client_info *,
	    const char *, const char *, size_t);
int	proto_get_reject(struct ipc_reader *, struct req_reject *);
/* STATUS and CANCEL: a handle. */
void	proto_handle(struct ipc_msg *, uint32_t, uint32_t, const char *);
int	proto_get_handle(struct ipc_reader *, char *);
void	proto_result(struct ipc_msg *, uint32_t, const char *, uint32_t);
int	proto_get_result(struct ipc_reader *, char *, uint32_t *);
void	proto_list(struct ipc_msg *, uint32_t, uint32_t);
/* LIST_LOG has LIST's layout: one u32 (before), decoded alike. */
void	proto_list_log(struct ipc_msg *, uint32_t, uint32_t);
int	proto_get_list(struct ipc_reader *, uint32_t *);
/* STOP: who asks, and the handle of the lane to end. */
void	proto_stop(struct ipc_msg *, uint32_t, const struct client_info *,
	    const char *);
int	proto_get_stop(struct ipc_reader *, struct client_info *, char *);

void	proto_view(struct ipc_msg *, uint32_t, const struct dview *);
int	proto_get_view(struct ipc_reader *, struct dview *);
void	proto_list_page(struct ipc_msg *, uint32_t, uint32_t,
	    const struct dview *, uint32_t);
int	proto_get_list_page(struct ipc_reader *, uint32_t *, struct dview *,
	    uint32_t *);
void	proto_tool_error(struct ipc_msg *, uint32_t, const char *);
void	proto_final(struct ipc_msg *, const char *, uint32_t, uint64_t);
int	proto_get_final(struct ipc_reader *, char *, uint32_t *, uint64_t *);
int	proto_get_tool_error(struct ipc_reader *, const char **, size_t *);

void	proto_spawn(struct ipc_msg *, uint32_t, const struct spawn_order *);
int	proto_get_spawn(struct ipc_reader *, struct spawn_order *);
void	proto_spawned(struct ipc_msg *, uint32_t, uint32_t, uint32_t);
int	proto_get_spawned(struct ipc_reader *, uint32_t *, uint32_t *);

#endif
