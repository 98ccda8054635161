#!/bin/sh
# The lane programs' manual pages must be clean under mandoc's linter.
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed"; exit 77; }
dir=${TEST_SRCDIR:-.}/man
passed=0 failed=0
for page in "$dir"/dispatch-lane-ssh.8 "$dir"/dispatch-lane-receive.8 \
    "$dir"/dispatch-lane-slurm.8; do
	# Cross-references to pages not installed yet are not errors.
	out=$(mandoc -Tlint -W warning "$page" 2>&1 |
	    grep -v 'referenced manual not found')
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
