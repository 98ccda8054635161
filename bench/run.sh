#!/bin/sh
# The dispatch-mcp benchmark: cold start, memory, latency and
# throughput, dispatch overhead and scale, against MCP servers a user
# might pick instead (the reference server-everything and
# server-memory, pinned in package.json) and against bare-C floors.
# Prints a table and writes BENCH_OUT (JSON).  Runs in a few minutes on
# 2 cores and stops by itself: every driver run is bounded by its own
# time limit.
#
# Environment: DISPATCH_MCP_BIN (required), BENCH_OUT (default
# ./bench-results.json), BENCH_DEPS (where npm installs the peers, kept
# between runs; default ./bench-deps), BENCH_LANES_DIR (where the lane
# programs dispatch-lane-ssh, -receive and -slurm are built; make bench
# sets it), CC (default cc), BENCH_NODE (default node).  Without npm or
# the registry, the peer columns are n/a.  The lanes over ssh and Slurm
# run against the test labs' daemons (tests/lanes/sshd-lab.sh and
# slurm-lab.sh: a loopback sshd, munged, slurmctld and slurmd, from
# configuration in a temporary directory, stopped by pid on exit; the
# lane user dlane-bench is made if missing and left in place); where
# they cannot start (not root, packages missing), those figures are n/a
# with the reason.  BENCH_SMOKE=1 runs every step of ours once, small
# and without the peers, in about twenty seconds: it checks that the
# benchmark works, and its figures mean nothing; with CI=true, a lab
# that cannot start fails it.
set -eu

src=$(cd "$(dirname "$0")" && pwd)
bin=${DISPATCH_MCP_BIN:?set DISPATCH_MCP_BIN to the dispatch-mcp binary}
out=${BENCH_OUT:-$PWD/bench-results.json}
deps=${BENCH_DEPS:-$PWD/bench-deps}
lanes=${BENCH_LANES_DIR:-}
smoke=${BENCH_SMOKE:-}
cc=${CC:-cc}
node=${BENCH_NODE:-node}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
case $out in /*) ;; *) out=$PWD/$out ;; esac
case $deps in /*) ;; *) deps=$PWD/$deps ;; esac
case $lanes in ''|/*) ;; *) lanes=$PWD/$lanes ;; esac
labs=$(cd "$src/../tests/lanes" 2>/dev/null && pwd) || labs=
[ -x "$bin" ] || { echo "bench: $bin is not executable" >&2; exit 1; }

# A fixed server configuration: nothing inherited from the caller.
unset DISPATCH_SSH_HOST DISPATCH_MAX_ITERATIONS DISPATCH_TIMEOUT \
    DISPATCH_MAX_RUNNING DISPATCH_AUDIT_LOG DISPATCH_ENV_PASS \
    DISPATCH_TASK_ARG DISPATCH_SANDBOX DISPATCH_USER DISPATCH_COMMAND \
    DISPATCH_CGROUP DISPATCH_LANE_MEMORY_MAX DISPATCH_LANE_PIDS_MAX \
    DISPATCH_LANE_CPU_MAX \
    DISPATCH_REPOS_JSON BENCH_STAMP BENCH_SERVER_LOG LANE_SSH_DIR \
    LANE_SSH_PORT LANE_SLURM_CONF SLURM_CONF

started=$(date +%s)
child=
ssh_lab=
slurm_lab=
work=$(mktemp -d "${TMPDIR:-/tmp}/dispatch-bench.XXXXXX")
cleanup() {
	if [ -n "$child" ]; then
		kill "$child" 2>/dev/null || :
		wait "$child" 2>/dev/null || :
	fi
	if [ -n "$ssh_lab$slurm_lab" ]; then
		lab_down ssh
		lab_down slurm
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

res=$work/results.txt
failed=
: > "$res"
meta() {
	printf 'meta %s %s\n' "$1" "$2" >> "$res"
}

# Run one step in the background, so that the traps can stop it.  Its
# command goes in the results first, as the figures' way to reproduce.
run() {	# name command ...
	name=$1
	shift
	# (With no lab, its pattern is $work, gone by then.)
	printf 'cmd %s %s\n' "$name" "$*" | sed -e "s|$work/bin/||g" \
	    -e "s|$deps/node_modules/||g" -e "s|$work|\$WORK|g" \
	    -e "s|${ssh_lab:-$work}|\$SSH_LAB|g" \
	    -e "s|${slurm_lab:-$work}|\$SLURM_LAB|g" \
	    -e "s|$bin|dispatch-mcp|g" >> "$res"
	printf 'bench: %s\n' "$name"
	"$@" >> "$res" 2>> "$work/$name.err" &
	child=$!
	if wait "$child"; then
		child=
		return 0
	fi
	child=
	failed="$failed $name"
	printf 'bench: %s FAILED\n' "$name"
	tail -n 5 "$work/$name.err" | sed 's/^/    /'
	return 0
}

# The helpers, outside the build system.
mkdir "$work/bin"
for c in "$src"/*.c; do
	n=$(basename "$c" .c)
	"$cc" -O2 -Wall -Wextra -pthread -o "$work/bin/$n" "$c" -lm
done
drv=$work/bin/driver

# The labs of the lanes over ssh and Slurm.  lab_up NAME starts one and
# returns 0, or returns 1 with the reason in $why; lab_down NAME stops
# its daemons by pid and removes its directory.
lab_user=dlane-bench
lab_start() {	# name script args ...
	n=$1
	shift
	( exec timeout 120 sh "$@" ) > "$work/lab-$n.log" 2>&1 &
	child=$!
	rc=0
	wait "$child" || rc=$?
	child=
	case $rc in
	0)	return 0 ;;
	77)	why=$(tail -n 1 "$work/lab-$n.log") ;;
	*)	why="$(basename "$1") start failed ($rc): $(tail -n 3 \
		    "$work/lab-$n.log" | tr '\n' ' ')" ;;
	esac
	return 1
}
# The stamp lane of a lab's far end, where no variable of ours reaches:
# its stamp file built in, owned by root, 0755 (the receiver's rule).
lab_stamp_lane() {	# dir
	"$cc" -O2 -Wall -Wextra -DSTAMP_FILE="\"$1/stamp/stamp\"" \
	    -o "$1/lane-stamp" "$src/lane-stamp.c" &&
	    chmod 0755 "$1/lane-stamp" && return 0
	why="cannot build the lab's stamp lane"
	return 1
}
lab_up() {	# ssh|slurm
	why=
	if [ "$(id -u)" -ne 0 ]; then
		why="not root: cannot start the lab's daemons"
	elif [ -z "$lanes" ]; then
		why="no lane programs (BENCH_LANES_DIR unset: make bench sets"
		why="$why it)"
	elif [ -z "$labs" ]; then
		why="no tests/lanes beside bench/ (the lab scripts)"
	fi
	[ -z "$why" ] || return 1
	printf 'bench: starting the %s lab\n' "$1"
	case $1 in
	ssh)
		for p in dispatch-lane-ssh dispatch-lane-receive; do
			[ -x "$lanes/$p" ] || why="no $lanes/$p"
		done
		[ -z "$why" ] || return 1
		# Not beneath /tmp: sshd's StrictModes wants every component
		# of the path owned by root and closed to writes by others.
		ssh_lab=$(mktemp -d /run/dispatch-bench-ssh.XXXXXX) || {
			ssh_lab=
			why="cannot make a directory in /run"
			return 1
		}
		ssh_port=$("$drv" port)
		# The lane user runs the receiver: a copy it can reach, as a
		# checkout under a 0700 home is not.
		install -m 0755 "$lanes/dispatch-lane-receive" \
		    "$ssh_lab/dispatch-lane-receive" || {
			why="cannot copy the receiver into $ssh_lab"
			return 1
		}
		forced="$ssh_lab/dispatch-lane-receive -f $ssh_lab/receive.conf"
		lab_start ssh "$labs/sshd-lab.sh" start "$ssh_lab" "$ssh_port" \
		    "$lab_user" "$forced" || return 1
		install -d -m 0755 -o "$lab_user" "$ssh_lab/stamp" || {
			why="cannot make $ssh_lab/stamp for $lab_user"
			return 1
		}
		lab_stamp_lane "$ssh_lab" || return 1
		printf 'program %s\nrepo %s\n' "$ssh_lab/lane-stamp" \
		    "$BENCH_REPO" > "$ssh_lab/receive.conf"
		chmod 0644 "$ssh_lab/receive.conf"
		printf '{"orgs":{"%s":{}},"repos":{"%s":{"org":"%s"}}}\n' \
		    "$lab_user" "$BENCH_REPO" "$lab_user" \
		    > "$work/repos-ssh.json"
		meta lane_ssh "sshd on 127.0.0.1:$ssh_port\
 (tests/lanes/sshd-lab.sh), lane user $lab_user,\
 $(/usr/bin/ssh -V 2>&1 | head -n 1)"
		;;
	slurm)
		[ -x "$lanes/dispatch-lane-slurm" ] || {
			why="no $lanes/dispatch-lane-slurm"
			return 1
		}
		slurm_lab=$(mktemp -d \
		    "${TMPDIR:-/tmp}/dispatch-bench-slurm.XXXXXX") || {
			slurm_lab=
			why="cannot make a temporary directory"
			return 1
		}
		ports=$("$drv" port 2)
		lab_start slurm "$labs/slurm-lab.sh" start "$slurm_lab" \
		    "${ports% *}" "${ports#* }" || return 1
		mkdir "$slurm_lab/stamp" || {
			why="cannot make $slurm_lab/stamp"
			return 1
		}
		lab_stamp_lane "$slurm_lab" || return 1
		printf '#!/bin/sh\nexec %s\n' "$slurm_lab/lane-stamp" \
		    > "$slurm_lab/job.sh"
		chmod 0755 "$slurm_lab/job.sh"
		printf 'script %s\npartition lanes\ntime 5\nspool %s\n' \
		    "$slurm_lab/job.sh" "$slurm_lab/lane-spool" \
		    > "$slurm_lab/lane-slurm.conf"
		printf 'slurm-conf %s\n' "$slurm_lab/slurm.conf" \
		    >> "$slurm_lab/lane-slurm.conf"
		chmod 0644 "$slurm_lab/lane-slurm.conf"
		meta lane_slurm "one node, slurmctld on 127.0.0.1:${ports% *}\
 (tests/lanes/slurm-lab.sh), $(SLURM_CONF=$slurm_lab/slurm.conf \
		    /usr/bin/sinfo --version 2>/dev/null | head -n 1)"
		;;
	esac
}
lab_down() {	# ssh|slurm
	case $1 in
	ssh)
		d=$ssh_lab
		ssh_lab=
		script=sshd-lab.sh
		;;
	slurm)
		d=$slurm_lab
		slurm_lab=
		script=slurm-lab.sh
		;;
	esac
	[ -n "$d" ] || return 0
	timeout 60 sh "$labs/$script" stop "$d" > /dev/null 2>&1 || :
	rm -rf "$d"
}

# Dispatch to the lane's first instruction over ssh or Slurm: the real
# lane program, with the stamp lane at its far end; the limit is that
# program started alone.
lane_step() {	# ssh|slurm runs warm seconds
	if ! lab_up "$1"; then
		lab_down "$1"
		meta "lane_$1" "n/a: $why"
		printf 'bench: overhead-%s: n/a: %s\n' "$1" "$why"
		if [ -n "$smoke" ] && [ "${CI:-}" = true ]; then
			printf 'bench: CI=true: the %s lab may not be %s\n' \
			    "$1" skipped
			failed="$failed overhead-$1"
		fi
		return 0
	fi
	step "overhead-$1" lane-stamp
	case $1 in
	ssh)
		run overhead-ssh env BENCH_ORG="$lab_user" \
		    DISPATCH_REPOS_JSON="$work/repos-ssh.json" \
		    BENCH_STAMP="$ssh_lab/stamp/stamp" \
		    DISPATCH_COMMAND="$lanes/dispatch-lane-ssh" \
		    DISPATCH_SSH_HOST=127.0.0.1 \
		    DISPATCH_ENV_PASS=LANE_SSH_DIR,LANE_SSH_PORT \
		    LANE_SSH_DIR="$ssh_lab/client" LANE_SSH_PORT="$ssh_port" \
		    "$drv" overhead -L ssh -n "$2" -w "$3" -T "$4" -- "$bin"
		;;
	slurm)
		run overhead-slurm env BENCH_STAMP="$slurm_lab/stamp/stamp" \
		    DISPATCH_COMMAND="$lanes/dispatch-lane-slurm" \
		    DISPATCH_ENV_PASS=LANE_SLURM_CONF \
		    LANE_SLURM_CONF="$slurm_lab/lane-slurm.conf" \
		    "$drv" overhead -L slurm -n "$2" -w "$3" -T "$4" -- "$bin"
		;;
	esac
	lab_down "$1"
}

# The peers, pinned by package-lock.json and installed once into BENCH_DEPS
# (git-ignored); n/a if they cannot be installed.
peer=
peer2=
if [ -n "$smoke" ]; then
	printf 'bench: smoke run: ours only, one small run per step\n'
elif command -v npm >/dev/null 2>&1 && command -v "$node" >/dev/null 2>&1
then
	mkdir -p "$deps"
	if cmp -s "$src/package-lock.json" "$deps/package-lock.json" &&
	    [ -d "$deps/node_modules" ]; then
		printf 'bench: the peers are installed in %s\n' "$deps"
		ok=yes
	else
		rm -rf "$deps/node_modules"
		cp "$src/package.json" "$src/package-lock.json" \
		    "$src/.npmrc" "$deps/"
		printf 'bench: npm ci (the peers) in %s\n' "$deps"
		( cd "$deps" && exec timeout 300 npm ci --silent \
		    --fetch-retries=1 --fetch-timeout=30000 ) \
		    > "$work/npm.log" 2>&1 &
		child=$!
		if wait "$child"; then
			ok=yes
		else
			ok=
			rm -f "$deps/package-lock.json"
			tail -n 5 "$work/npm.log" | sed 's/^/    /'
			printf 'bench: npm could not install the peers: their columns are n/a\n'
		fi
		child=
	fi
	if [ -n "$ok" ]; then
		peer=$deps/node_modules/@modelcontextprotocol/server-everything
		peer2=$deps/node_modules/@modelcontextprotocol/server-memory
	fi
else
	printf 'bench: no npm or node: the peer columns are n/a\n'
fi

# The servers: an allowlist for one target, lanes in a private
# directory, each step with its own audit log.
export BENCH_ORG=bench-org BENCH_REPO=bench-repo
printf '{"orgs":{"%s":{}},"repos":{"%s":{"org":"%s"}}}\n' \
    "$BENCH_ORG" "$BENCH_REPO" "$BENCH_ORG" > "$work/repos.json"
export "DISPATCH_REPOS_JSON=$work/repos.json"
export DISPATCH_MAX_RUNNING=1000 DISPATCH_TIMEOUT=600
# A large valid allowlist: 30,000 orgs and 25,000 repos, under 1 MiB, the
# benchmark's own target last, so that finding it scans them all.
awk -v org="$BENCH_ORG" -v repo="$BENCH_REPO" 'BEGIN {
	printf "{\"orgs\":{\"%s\":{}", org
	for (i = 1; i < 30000; i++)
		printf ",\"o%05d\":{}", i
	printf "},\"repos\":{"
	for (i = 1; i < 25000; i++)
		printf "\"r%05d\":{\"org\":\"o%05d\"},", i, 30000 - i
	printf "\"%s\":{\"org\":\"%s\"}}}\n", repo, org
}' > "$work/repos-big.json"
allow() {	# runs limit
	run allow-small "$drv" allow -n "$1" -T "$2" -t small -- "$bin"
	run allow-big env DISPATCH_REPOS_JSON="$work/repos-big.json" \
	    "$drv" allow -n "$1" -T "$2" -t big -- "$bin"
}
# Dispatch overhead with the default DISPATCH_CGROUP (a cgroup per lane
# where one can be had; the meta says) and with none.
overhead() {	# runs limit
	meta cgroup "$("$bin" --check-config 2>/dev/null |
	    sed -n 's/^cgroup: *//p')"
	run overhead env BENCH_STAMP="$work/overhead/stamp" \
	    DISPATCH_ENV_PASS=BENCH_STAMP "$drv" overhead -n "$1" -T "$2" \
	    -a "$work/overhead/append.log" -- "$bin"
	run overhead-nocg env BENCH_STAMP="$work/overhead/stamp" \
	    DISPATCH_ENV_PASS=BENCH_STAMP DISPATCH_CGROUP=none "$drv" \
	    overhead -n "$1" -T "$2" -t nocg \
	    -a "$work/overhead/append.log" -- "$bin"
}
# dispatch_status for an earlier server's handle in a log of N records,
# beside one of the server's own; the log must verify as one chain.
history() {	# records rounds seq limit
	step history lane-stamp
	run history "$drv" history -N "$1" -n "$2" -k "$3" -T "$4" -- "$bin"
	if [ -x "$audit_bin" ]; then
		run history-verify sh -c '"$0" verify "$1" > /dev/null' \
		    "$audit_bin" "$DISPATCH_AUDIT_LOG"
	fi
}
audit_bin=$(dirname "$bin")/dispatch-mcp-audit
step() {	# name lane
	mkdir -p "$work/$1"
	DISPATCH_AUDIT_LOG=$work/$1/audit.jsonl
	BENCH_SERVER_LOG=$work/$1/server.log
	DISPATCH_COMMAND=$work/bin/$2
	export DISPATCH_AUDIT_LOG BENCH_SERVER_LOG DISPATCH_COMMAND
}

meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta kernel "$(uname -sr)"
meta cpus "$(getconf _NPROCESSORS_ONLN)"
meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta dispatch_mcp "$("$bin" --version 2>&1 | head -n 1)"
if [ -n "$peer" ]; then
	meta peer "@modelcontextprotocol/server-everything $(sed -n \
	    's/^ *"version": *"\([^"]*\)".*/\1/p' "$peer/package.json" |
	    head -n 1)"
	meta peer2 "@modelcontextprotocol/server-memory $(sed -n \
	    's/^ *"version": *"\([^"]*\)".*/\1/p' "$peer2/package.json" |
	    head -n 1)"
	meta node "$("$node" --version)"
	peer_argv="$node $peer/dist/index.js stdio"
	# server-memory keeps its graph in a file; this one is never written.
	export MEMORY_FILE_PATH="$work/memory.jsonl"
	peer2_argv="$node $peer2/dist/index.js"
fi

if [ -n "$smoke" ]; then
	step cold lane-stamp
	run cold-ours "$drv" cold -n 3 -T 30 -t ours -- "$bin"
	run cold-limit "$drv" cold -n 3 -T 30 -i -t limit -- \
	    "$work/bin/echo1"
	step mem lane-stamp
	run mem-ours "$drv" mem -s -n 1 -R 100 -T 60 -t ours -- "$bin"
	step lat lane-stamp
	run lat-ours "$drv" lat -s -n 1 -k 200 -p 2000 -T 60 -t ours -- \
	    "$bin"
	run lat-limit "$work/bin/sockpair" -r 1 -k 200 -p 2000 -s 64
	step overhead lane-stamp
	overhead 3 60
	step scale lane-stamp
	run scale "$drv" scale -n 1 -c 20 -k 1,16,256 -T 60 -- "$bin"
	step busy lane-sleep
	run busy "$drv" busy -l 50 -n 1 -k 200 -T 60 -- "$bin"
	step allow lane-stamp
	allow 3 60
	history 2000 1 200 60
	lane_step ssh 1 0 60
	lane_step slurm 1 0 60
	if [ -n "$failed" ]; then
		printf 'bench: smoke: failed steps:%s\n' "$failed"
		exit 1
	fi
	mkdir -p "$(dirname "$out")"
	"$drv" report -s "$res" "$out" > "$work/report.txt" || {
		cat "$work/report.txt"
		exit 1
	}
	printf 'bench: smoke run passed in %d s (figures not kept)\n' \
	    $(($(date +%s) - started))
	exit 0
fi

# 1. Cold start: process start -> initialize (and -> tools/list).
step cold lane-stamp
run cold-ours "$drv" cold -n 20 -T 120 -t ours -- "$bin"
run cold-limit "$drv" cold -n 20 -T 60 -i -t limit -- "$work/bin/echo1"
if [ -n "$peer" ]; then
	# shellcheck disable=SC2086
	run cold-peer "$drv" cold -n 10 -T 180 -t peer -- $peer_argv
	# shellcheck disable=SC2086
	run cold-peer2 "$drv" cold -n 10 -T 180 -t peer2 -- $peer2_argv
fi

# 2. Memory: idle, after 10,000 requests, with 1,000 records held.
step mem lane-stamp
run mem-ours "$drv" mem -s -n 3 -R 1000 -T 240 -t ours -- "$bin"
if [ -n "$peer" ]; then
	# shellcheck disable=SC2086
	run mem-peer "$drv" mem -n 3 -T 180 -t peer -- $peer_argv
	# shellcheck disable=SC2086
	run mem-peer2 "$drv" mem -n 3 -T 180 -t peer2 -- $peer2_argv
fi

# 3. Latency and throughput: ping, dispatch_status; the socketpair floor.
step lat lane-stamp
run lat-ours "$drv" lat -s -n 5 -k 2000 -p 20000 -T 240 -t ours -- "$bin"
if [ -n "$peer" ]; then
	# shellcheck disable=SC2086
	run lat-peer "$drv" lat -n 5 -k 2000 -p 20000 -T 180 -t peer -- \
	    $peer_argv
	# shellcheck disable=SC2086
	run lat-peer2 "$drv" lat -n 5 -k 2000 -p 20000 -T 180 -t peer2 -- \
	    $peer2_argv
fi
run lat-limit "$work/bin/sockpair" -r 5 -k 2000 -p 20000 -s 64

# 4. Dispatch overhead: to the lane's first instruction and to the
#    response; the floor, measured between the server's samples, is
#    posix_spawn of the same lane plus one fsync of a 1 KiB append
#    beside the audit log.  The same with DISPATCH_CGROUP=none beside
#    it: the difference is what a cgroup per lane costs.
step overhead lane-stamp
overhead 40 120

# 5. Scale: dispatches/s at 1, 16 and 256 in flight; ping with 1,000
#    lanes running.
step scale lane-stamp
run scale "$drv" scale -n 3 -c 500 -k 1,16,256 -T 240 -- "$bin"
step busy lane-sleep
run busy "$drv" busy -l 1000 -n 5 -k 2000 -T 180 -- "$bin"

# 6. Dispatch with a 25,000-repo allowlist, beside a one-target one: the
#    broker reads and resolves it on every dispatch.
step allow lane-stamp
allow 20 180

# 7. Handles of an earlier server, in an audit log of 100,000 records:
#    the first dispatch_status (which indexes the log) and the next ones,
#    beside a handle of the server's own; dispatch_list scope "log".
history 100000 5 2000 300

# 8. Dispatch to the lane's first instruction over loopback ssh and a
#    one-node Slurm, each against its lab, started for it and stopped
#    after it.
lane_step ssh 40 3 180
lane_step slurm 20 2 300

meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
elapsed=$(($(date +%s) - started))
meta elapsed_s "$elapsed"
meta failed_steps "${failed:-none}"
mkdir -p "$(dirname "$out")"
"$drv" report "$res" "$out"
printf '\nrun time %d s; load average %s at the start, %s at the end\n' \
    "$elapsed" "$(sed -n 's/^meta loadavg_start //p' "$res")" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'results: %s\n' "$out"
load=$(sed -n 's/^meta loadavg_start \([^ ]*\).*/\1/p' "$res")
if awk -v l="$load" -v c="$(getconf _NPROCESSORS_ONLN)" \
    'BEGIN { exit !(l > c / 2) }'
then
	printf 'bench: the machine was busy before the run (load %s on %s %s\n' \
	    "$load" "$(getconf _NPROCESSORS_ONLN)" 'CPUs): timings are noisy'
fi
if [ -n "$failed" ]; then
	printf 'bench: failed steps:%s\n' "$failed"
	exit 1
fi
