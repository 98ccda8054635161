/*
 * The floor of a cold start: a trivial C program that reads one line
 * and answers one JSON-RPC line, as an MCP server's initialize would.
 */
#include <errno.h>
#include <unistd.h>

static const char answer[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{},\"serverInfo\":{\"name\":"
    "\"echo1\",\"version\":\"1\"}}}\n";

int
main(void)
{
	char	 c;
	size_t	 off;
	ssize_t	 n;

	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (1);
		if (c == '\n')
			break;
	}
	for (off = 0; off < sizeof answer - 1; off += (size_t)n) {
		n = write(STDOUT_FILENO, answer + off, sizeof answer - 1 - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return (1);
	}
	return (0);
}
