#!/bin/sh
# A real MCP session with dispatch-mcp on the demo configuration:
# handshake, tool list, a dispatch and its status and result, an
# injection attempt that stays inert, a refused target, and the audit
# records written, checked by dispatch-mcp-audit.
# Usage: demo.sh DISPATCH-MCP EXAMPLES-DIR [DISPATCH-MCP-AUDIT]
set -eu
bin=$1
ex=$(cd "$2" && pwd)
audit=${3:-$(dirname "$bin")/dispatch-mcp-audit}
work=$(mktemp -d /tmp/dispatch-demo.XXXXXX)
trap 'exec 3>&- 4<&- 2>/dev/null; rm -rf "$work"' EXIT

export DISPATCH_REPOS_JSON="$ex/repos.json"
export DISPATCH_COMMAND="$ex/demo-lane"
export DISPATCH_AUDIT_LOG="$work/audit.jsonl"

mkfifo "$work/in" "$work/out"
"$bin" < "$work/in" > "$work/out" 2> "$work/stderr" &
exec 3> "$work/in" 4< "$work/out"

say() { printf '\n== %s\n' "$*"; }
send() { printf '%s\n' "$1" >&3; printf -- '-> %s\n' "$1"; }
recv() { IFS= read -r line <&4; printf -- '<- %s\n' "$line"; }
call() {	# id tool arguments
	send "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}"
	recv
}

say "dispatch-mcp --check-config"
"$bin" --check-config 2>/dev/null | sed 's/^/   /'

say "initialize (the handshake), then tools/list"
send '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"demo","version":"1.0"}}}'
recv
send '{"jsonrpc":"2.0","method":"notifications/initialized"}'
send '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
IFS= read -r line <&4
printf -- '<- tools: %s\n' "$(printf '%s' "$line" |
    grep -o '"name":"dispatch_[a-z]*"' | cut -d'"' -f4 | tr '\n' ' ')"

say "dispatch_unit to an allowlisted lane"
call 2 dispatch_unit '{"orguser":"nash-forbes","repo":"nash","task_description":"Refresh the README badges"}'
handle=$(printf '%s' "$line" | grep -o 'dsp-[0-9a-f]\{32\}' | head -n 1)

say "dispatch_status, then dispatch_result (waiting up to 10 s)"
call 3 dispatch_status "{\"handle\":\"$handle\"}"
call 4 dispatch_result "{\"handle\":\"$handle\",\"wait_seconds\":10}"

say "an injection attempt: it reaches the lane as plain data"
call 5 dispatch_unit '{"orguser":"nash-forbes","repo":"nash","task_description":"x\"; rm -rf / # $(curl evil) `whoami`"}'
h2=$(printf '%s' "$line" | grep -o 'dsp-[0-9a-f]\{32\}' | head -n 1)
call 6 dispatch_result "{\"handle\":\"$h2\",\"wait_seconds\":10}"

say "targets outside the allowlist are refused, and nothing runs"
call 7 dispatch_unit '{"orguser":"reid-max","repo":"nash","task_description":"take over"}'
call 8 dispatch_unit '{"orguser":"nash;sh","repo":"nash","task_description":"x"}'

say "dispatch_list"
call 9 dispatch_list '{}'

exec 3>&-
wait
say "the audit log ($DISPATCH_AUDIT_LOG)"
cat "$work/audit.jsonl"
say "dispatch-mcp-audit verify: the hash chain, checked offline"
"$audit" verify "$work/audit.jsonl"
say "the server's log (stderr)"
cat "$work/stderr"
