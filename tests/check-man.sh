#!/bin/sh
# The manual pages must be clean under mandoc's linter.
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed"; exit 77; }
dir=${TEST_SRCDIR:-.}/man
rc=0
for page in "$dir"/*.8 "$dir"/*.5; do
	# Cross-references to pages not installed yet are not errors.
	out=$(mandoc -Tlint -W warning "$page" 2>&1 |
	    grep -v 'referenced manual not found')
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		rc=1
	fi
done
[ $rc -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $rc
