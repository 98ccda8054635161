#!/bin/sh
# The manual pages must be clean under mandoc's linter, fit an 80-column
# terminal (a literal display is never wrapped, so a long line of one
# overflows), and dispatch-mcp(8) must stay within its word budget: what
# is not its synopsis, configuration, lane contract and security model
# belongs on a page of its own.
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed"; exit 77; }
dir=${TEST_SRCDIR:-.}/man
budget=4350
rc=0
for page in "$dir"/*.8 "$dir"/*.5; do
	# Cross-references to pages not installed yet are not errors.
	out=$(mandoc -Tlint -W warning "$page" 2>&1 |
	    grep -v 'referenced manual not found')
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		rc=1
	fi
	# Strip the overstrikes that make bold and underline.
	out=$(mandoc -T ascii -O width=80 "$page" |
	    awk -v bs="$(printf '\b')" '{ gsub("." bs, "") }
	    length($0) > 80 { printf "%d columns: %s\n", length($0), $0 }')
	if [ -n "$out" ]; then
		printf '%s: wider than 80 columns:\n%s\n' "$page" "$out"
		rc=1
	fi
done
words=$(mandoc -T ascii "$dir/dispatch-mcp.8" | wc -w)
if [ "$words" -gt "$budget" ]; then
	printf '%s: %d words rendered, over its budget of %d: move detail ' \
	    "$dir/dispatch-mcp.8" "$words" "$budget"
	echo 'to the page it belongs on, or cut repetition'
	rc=1
fi
[ $rc -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $rc
