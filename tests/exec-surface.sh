#!/bin/sh
# The exec surface, counted: every line of spawner/ (the spawner process
# and the lane child, the only execve) and of common/lanecmd.[ch] (the
# policy and the argv and environment built from it), and every other
# function of common/ those can reach, as GNU cflow finds the calls.  Prints each
# part with its lines and the total; fails above the budget that
# doc/DESIGN.md states.  Run from anywhere: sh tests/exec-surface.sh
set -eu
BUDGET=985
src=${TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"
if ! command -v cflow >/dev/null 2>&1; then
	echo "exec-surface: cflow(1) is not installed (apt-get install cflow)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
whole="spawner/*.c spawner/*.h common/lanecmd.c common/lanecmd.h"
roots=$(sed -n 's/^\([a-z_][a-z_0-9]*\)(.*/\1/p' spawner/*.c common/lanecmd.c |
    sort -u)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for r in $roots; do
	cflow --omit-arguments -s __attribute__:wrapper -m "$r" \
	    spawner/*.c common/*.c 2>/dev/null
done | sed -n 's/.*<.* at \(common\/[a-z0-9_]*\.c\):\([0-9]*\)>.*/\1 \2/p' |
    grep -v '^common/lanecmd\.c ' | sort -u >"$tmp"
total=0
for f in $whole; do
	n=$(wc -l <"$f")
	printf '%5d  %s\n' "$n" "$f"
	total=$((total + n))
done
# A function runs from its return type (the line before its name, as
# style(9) writes it) to the first closing brace in column one.
while read -r f line; do
	n=$(awk -v s="$line" 'NR >= s && /^}/ { print NR - s + 2; exit }' "$f")
	name=$(sed -n "${line}s/(.*//p" "$f")
	printf '%5d  %s %s()\n' "$n" "$f" "$name"
	total=$((total + n))
done <"$tmp"
printf '%5d  total (budget %d)\n' "$total" "$BUDGET"
[ "$total" -le "$BUDGET" ]
