#ifndef DISPATCH_TEST_HARNESS_H
#define DISPATCH_TEST_HARNESS_H

#include <sys/types.h>

#include <json-c/json.h>
#include <stddef.h>

/*
 * Drives the real dispatch-mcp binary over pipes: its stdin, its stdout
 * (every line of which must be JSON), and its stderr in a file.  Each
 * server gets its own temporary directory holding the allowlist, the
 * audit log, and what the test lanes record.
 */
struct srv {
	pid_t	 pid;
	int	 in;
	int	 out;
	char	 dir[256];
	char	 audit[300];
	char	 repos[300];
	char	 errpath[300];
	char	*rbuf;
	size_t	 rlen;
	size_t	 rcap;
	int	 next_id;
	int	 exited;
	int	 status;
};

/* Path of a test lane script, or of the binaries under test. */
const char	*lane_path(const char *);
const char	*bin_path(void);
const char	*audit_bin_path(void);

/* For the next srv_start only: run as this uid, with this RLIMIT_FSIZE. */
extern long	harness_uid;
extern long	harness_fsize;

/* env: NULL-terminated "NAME=value" overrides; "NAME=" unsets. */
struct srv	*srv_start(const char *const *);
struct srv	*srv_start_init(const char *const *);
void		 srv_send(struct srv *, const char *);
void		 srv_send_raw(struct srv *, const void *, size_t);
/* The next message, or NULL after timeout_ms or at EOF. */
struct json_object *srv_recv(struct srv *, int);
/* A request with a fresh integer id; waits for the matching response. */
struct json_object *srv_request(struct srv *, const char *, const char *);
/* tools/call; returns the result object (owned by the returned root). */
struct json_object *srv_call(struct srv *, const char *, const char *);
/* Close stdin and wait; returns the exit status (as from waitpid). */
int		 srv_close(struct srv *, int);
int		 srv_wait(struct srv *, int);
void		 srv_free(struct srv *);
pid_t		 srv_frontend_pid(struct srv *);
char		*srv_stderr(struct srv *);

/* Result helpers. */
int		 result_is_error(struct json_object *);
const char	*result_text(struct json_object *);
struct json_object *result_struct(struct json_object *);
const char	*jget_str(struct json_object *, const char *);
int64_t		 jget_int(struct json_object *, const char *);
struct json_object *jget(struct json_object *, const char *);

/* The audit log as an array of records; count of one event kind. */
struct json_object *audit_records(struct srv *);
int		 audit_count(struct srv *, const char *);
/* A file the lanes wrote in the server's directory, or NULL. */
char		*read_file(const char *, size_t *);
char		*srv_file(struct srv *, const char *, const char *, size_t *);
pid_t		 srv_file_pid(struct srv *, const char *, const char *);
int		 srv_count_files(struct srv *, const char *);
void		 write_file(const char *, const char *);
/* Poll until the dispatch's status is no longer running. */
struct json_object *wait_final(struct srv *, const char *, int);
/* Dispatch to the test allowlist; returns the handle (static buffer). */
const char	*dispatch_ok(struct srv *, const char *, const char *,
		    const char *);
int		 pid_alive(pid_t);

/* cgroup v2: the parents DISPATCH_CGROUP=auto takes when run as root. */
#define CG_AUTO_PARENT		"/sys/fs/cgroup/unified/dispatch-mcp"
#define CG_AUTO_PARENT_V2	"/sys/fs/cgroup/dispatch-mcp"
/* Kill and remove what servers of that audit log left beneath parent. */
void		 cg_sweep(const char *, const char *);
int		 cg_populated_path(const char *);
int		 write_cg(const char *, const char *, const char *);
long		 rss_kib(pid_t);
void		 sleep_ms(int);

#define TEST_REPOS_JSON \
	"{\"orgs\":{\"nash-forbes\":{\"git_user\":\"Nash Forbes\"}," \
	"\"reid-max\":{}},\"repos\":{" \
	"\"nash\":{\"org\":\"nash-forbes\",\"github\":\"selamy-labs/nash\"}," \
	"\"reid\":{\"org\":\"reid-max\",\"github\":\"selamy-labs/reid\"}," \
	"\"orphan\":{\"org\":\"ghost-user\"},\"malformed\":\"not-a-dict\"}}"

#endif
