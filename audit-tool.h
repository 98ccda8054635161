#ifndef DISPATCH_AUDIT_TOOL_H
#define DISPATCH_AUDIT_TOOL_H

/* "dispatch-mcp audit ...": verify and show, offline. */
int	audit_main(int, char **);

#endif
