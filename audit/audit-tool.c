/*
 * The commands of dispatch-mcp-audit, in one table.  audit_main is
 * apart from main so that the fuzzer, which brings its own main, drives
 * exactly what the program runs.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit-tool.h"

static const struct audit_cmd {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
} audit_cmds[] = {
	{ "verify", audit_verify, "verify [--syslog FILE] [LOG ...]" },
	{ "show", audit_show, "show [--handle H] [--since T] [--json] "
	    "[LOG ...]" },
};

#define NCMDS	(sizeof audit_cmds / sizeof audit_cmds[0])

static int
usage(void)
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		fprintf(stderr, "%s dispatch-mcp-audit %s\n",
		    i == 0 ? "usage:" : "      ", audit_cmds[i].usage);
	return (AUDIT_USAGE);
}

int
audit_main(int argc, char **argv)
{
	size_t	i;

	if (argc < 1)
		return (usage());
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(argv[0], audit_cmds[i].name) == 0)
			return (audit_cmds[i].run(argc - 1, argv + 1));
	}
	return (usage());
}
