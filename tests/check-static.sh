#!/bin/sh
# Static analysis: cppcheck and clang-tidy must report nothing.
# Usage (from make check): TEST_SRCDIR and TEST_BUILDDIR are set.
src=${TEST_SRCDIR:-.}
build=${TEST_BUILDDIR:-.}
command -v cppcheck >/dev/null 2>&1 || { echo "cppcheck missing"; exit 77; }
command -v clang-tidy >/dev/null 2>&1 || { echo "clang-tidy missing"; exit 77; }
cd "$src" || exit 99
files="common/*.c broker/*.c frontend/*.c spawner/*.c audit/*.c lanes/*.c dispatch-mcp.c"
rc=0 passed=0 failed=0

queue=$(echo '#include <sys/queue.h>' | cpp -H -o /dev/null 2>&1 |
    awk '/queue.h/ { print $2; exit }')
# shellcheck disable=SC2086
if cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
    --enable=warning,portability,performance -I. -I"$build" \
    --include="$queue" --library=tests/cppcheck.cfg \
    --suppress=missingIncludeSystem --suppress=missingInclude $files; then
	passed=$((passed + 1))
else
	failed=$((failed + 1)) rc=1
fi

# Bug-finding checks; style is style(9)'s business, not the linter's.
checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,'
checks="${checks}-clang-analyzer-valist.Uninitialized,bugprone-*,"
checks="${checks}-bugprone-easily-swappable-parameters,"
checks="${checks}-bugprone-reserved-identifier,"
checks="${checks}-bugprone-assignment-in-if-condition,"
checks="${checks}-bugprone-implicit-widening-of-multiplication-result,"
checks="${checks}misc-redundant-expression,performance-*"
# shellcheck disable=SC2086
out=$(clang-tidy --quiet -checks="$checks" $files -- -I. -I"$build" \
    $(pkg-config --cflags json-c libevent_core libseccomp) -D_GNU_SOURCE \
    2>/dev/null | grep -E 'warning:|error:')
if [ -z "$out" ]; then
	passed=$((passed + 1))
else
	printf '%s\n' "$out"
	failed=$((failed + 1)) rc=1
fi
echo "static analysis: $passed passed, $failed failed"
exit $rc
