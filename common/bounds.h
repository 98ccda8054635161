/*
 * Every size, count and time limit of dispatch-mcp, with its unit in the
 * name.  Both processes enforce these; the broker re-checks what the
 * frontend already checked, because it does not trust the frontend.
 */
#ifndef DISPATCH_BOUNDS_H
#define DISPATCH_BOUNDS_H

/* MCP input: one JSON-RPC message per line. */
#define MAX_LINE_BYTES		(4U * 1024 * 1024)
#define MAX_JSON_DEPTH		64
#define MAX_ID_BYTES		256
/* No message we send may pass this; clients kill a server at 10 MiB. */
#define MAX_OUT_MSG_BYTES	(1U * 1024 * 1024)
/* Stop reading stdin while this much output is queued for the client. */
#define MAX_OUT_QUEUE_BYTES	(8U * 1024 * 1024)
/* Requests waiting on the broker; past this, tool calls get -32000. */
#define MAX_INFLIGHT		1024
/* A string progressToken, echoed in every notification. */
#define MAX_PROGRESS_TOKEN_BYTES	256
/* The requested protocol version echoed in a -32022 error. */
#define MAX_ECHO_VERSION_BYTES	64
#define MAX_BATCH_ENTRIES	64

/* Tool arguments. */
#define MAX_TASK_CODEPOINTS	8000
#define MAX_TASK_BYTES		(MAX_TASK_CODEPOINTS * 4)
#define MAX_NAME_BYTES		128
#define HANDLE_PREFIX		"dsp-"
#define HANDLE_HEX_DIGITS	32
#define HANDLE_BYTES		(4 + HANDLE_HEX_DIGITS)
/*
 * A dispatch_result wait and its answer stay well under the 60 s after
 * which common clients give up on a request.
 */
#define MAX_WAIT_SECONDS	50
#define MAX_CLIENT_FIELD_BYTES	256
/* Raw arguments of a refused dispatch, as kept in the audit record. */
#define MAX_RAW_ARGS_BYTES	4096
#define MAX_REASON_BYTES	8192
/* Untrusted values quoted back inside error messages. */
#define MAX_ECHO_CHARS		64

/* Allowlist file. */
#define MAX_ALLOWLIST_BYTES	(1U * 1024 * 1024)
#define MAX_GITHUB_BYTES	(2 * MAX_NAME_BYTES + 1)
#define MAX_LISTED_REPOS	32

/* Lane output: a tail of each stream is kept, the rest is counted. */
#define MAX_CAPTURE_BYTES	(64U * 1024)
#define MAX_DETAIL_BYTES	(64U * 1024)
/* After the lane exits, wait this long for its pipes to reach EOF. */
#define DRAIN_GRACE_MS		200
/* Between SIGTERM and SIGKILL of a lane's process group. */
#define KILL_GRACE_MS		2000
/* At shutdown, running lanes get this long before SIGTERM. */
#define SHUTDOWN_GRACE_MS	1000

/* Records held per session, and lanes at once. */
#define MAX_RECORDS		65536
#define MAX_RUNNING_LIMIT	4096
#define DEFAULT_MAX_RUNNING	16
#define LIST_PAGE_RECORDS	100
/*
 * Dispatches of the audit log read back by handle: at most this many
 * are indexed per log file (64 bytes each in the broker), and a
 * line longer than this is no record of ours.
 */
#define MAX_HISTORY_DISPATCHES	1048576
#define MAX_HISTORY_LINE_BYTES	(1U * 1024 * 1024)
/* RLIMIT_NPROC of a lane: processes of its user, counted by the kernel. */
#define DEFAULT_LANE_NPROC	4096
#define MAX_LANE_NPROC		1000000

/* Configuration values. */
#define MAX_HOST_BYTES		253
#define MAX_ENV_PASS		32
#define MAX_ENV_NAME_BYTES	64
#define MAX_ENV_VALUE_BYTES	4096
#define MAX_ITERATIONS_LIMIT	100000
#define DEFAULT_MAX_ITERATIONS	50
#define MAX_TIMEOUT_SECONDS	86400
#define DEFAULT_TIMEOUT_MS	60000

/* IPC: one SOCK_SEQPACKET datagram per message. */
#define MAX_IPC_BYTES		(128U * 1024)
/* Answers queued for a peer that does not read them. */
#define MAX_CHAN_QUEUE_BYTES	(32U * 1024 * 1024)
/* Answers queued for a client that does not read them: past this the
 * client is taken to be gone, as on EPIPE. */
#define MAX_OUT_HARD_BYTES	(64U * 1024 * 1024)

#endif
