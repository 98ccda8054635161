#!/bin/sh
# The Debian package, installed and used, as "make check-deb" runs it:
# dpkg -i; then, from the installed paths only, --version, --check-config
# with the example allowlist and lane, and one real dispatch through the
# installed binary (the demo session of README.md, whose audit chain
# dispatch-mcp-audit then verifies); then dpkg --purge, which must leave
# none of the package's files.  Needs root; refuses to touch a
# dispatch-mcp package that is already installed.
# Usage: deb-install.sh PACKAGE.deb
set -eu
deb=$1
fail() { echo "deb-install: FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "deb-install: SKIP: dpkg -i needs root"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
if dpkg-query -W -f='${Status}' dispatch-mcp 2>/dev/null |
    grep -q 'ok installed'; then
	fail "a dispatch-mcp package is installed already; not replacing it"
fi
work=$(mktemp -d /tmp/dispatch-deb.XXXXXX)
trap 'dpkg --purge dispatch-mcp >/dev/null 2>&1; rm -rf "$work"' EXIT

dpkg -i "$deb"
dpkg -L dispatch-mcp | sort >"$work/files"
version=$(dpkg-deb -f "$deb" Version)
for f in /usr/bin/dispatch-mcp /usr/bin/dispatch-mcp-audit \
    /usr/share/man/man8/dispatch-mcp.8.gz \
    /usr/share/man/man8/dispatch-mcp-audit.8.gz \
    /usr/share/man/man5/dispatch-mcp-repos.json.5.gz \
    /usr/share/man/man5/dispatch-mcp-audit.5.gz; do
	grep -qx "$f" "$work/files" || fail "$f is not in the package"
done

echo "== dispatch-mcp --version"
out=$(/usr/bin/dispatch-mcp --version)
echo "$out"
[ "$out" = "dispatch-mcp ${version%-*}" ] || fail "version: $out"

# The examples, as installed; a system whose dpkg excludes
# /usr/share/doc has none, and the package's programs must not need them.
ex=/usr/share/doc/dispatch-mcp/examples
[ -x "$ex/demo-lane" ] && [ -f "$ex/repos.json" ] ||
    fail "$ex is not installed (a dpkg path-exclude?)"
echo "== dispatch-mcp --check-config"
DISPATCH_REPOS_JSON=$ex/repos.json DISPATCH_COMMAND=$ex/demo-lane \
    DISPATCH_AUDIT_LOG=$work/check.jsonl \
    /usr/bin/dispatch-mcp --check-config >"$work/check" 2>&1 ||
    { cat "$work/check"; fail "--check-config"; }
cat "$work/check"
grep -q 'nash-forbes/nash' "$work/check" || fail "--check-config: no target"

echo "== a real dispatch through the installed binary"
sh "$ex/demo.sh" /usr/bin/dispatch-mcp "$ex" /usr/bin/dispatch-mcp-audit \
    >"$work/demo" 2>&1 || { cat "$work/demo"; fail "the demo session"; }
cat "$work/demo"
grep -q '"status":"succeeded"' "$work/demo" || fail "no dispatch succeeded"
grep -q 'task (25 bytes, delivered on stdin): Refresh the README badges' \
    "$work/demo" || fail "the lane's output is not in the result"

echo "== dpkg --purge"
dpkg --purge dispatch-mcp
while read -r f; do
	[ -d "$f" ] && continue
	[ -e "$f" ] && fail "$f is left after purge"
done <"$work/files"
echo "deb-install: PASS"
