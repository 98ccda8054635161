#!/bin/bash
# Run each libFuzzer harness for a bounded time on its seed corpus (copied,
# since the source tree may be read-only) with the MCP dictionary.
# Usage: run.sh FUZZER-DIR SOURCE-FUZZ-DIR SECONDS
set -u
bin=$1 src=$2 secs=$3
work=$(mktemp -d /tmp/dispatch-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
for h in mcp ipc allowlist jsonv audit conf; do
	mkdir -p "$work/$h"
	cp -r "$src/corpus/$h/." "$work/$h/" 2>/dev/null
	echo "== fuzz-$h for ${secs}s"
	if "$bin/fuzz-$h" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -dict="$src/mcp.dict" -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work/$h" > "$work/$h.log" 2>&1; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		tail -40 "$work/$h.log"
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$work/$h.log"
	grep -E '^#[0-9]+.*(DONE|cov:)' "$work/$h.log" | tail -1
done
echo "fuzz-smoke: $passes passed, $fails failed"
[ $fails -eq 0 ]
