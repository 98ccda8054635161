/*
 * dispatch-mcp-audit: check and read dispatch-mcp's audit log offline.
 * It reads no server configuration beyond the log's path, starts no
 * server and opens only the files it is given, so it may be run by an
 * auditor as anyone who can read the logs.
 */
#include "config.h"

#include "audit/audit-tool.h"

int
main(int argc, char *argv[])
{
	return (audit_main(argc - 1, argv + 1));
}
