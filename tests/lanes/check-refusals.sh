#!/bin/sh
# What the lane programs refuse without any daemon: dispatch-lane-ssh's
# checks before it connects, dispatch-lane-receive run as a forced command
# would be (SSH_ORIGINAL_COMMAND set, the task on stdin) refusing and
# running nothing, and dispatch-lane-slurm's configuration checks.  Each
# refusal is one line on stderr with its documented exit status.
build=${TEST_BUILDDIR:-.}
ssh_lane=$build/dispatch-lane-ssh
receive=$build/dispatch-lane-receive
slurm_lane=$build/dispatch-lane-slurm
command -v ssh-keygen >/dev/null 2>&1 || { echo "ssh-keygen missing"; exit 77; }
T=$(mktemp -d /tmp/dispatch-lane-refusals.XXXXXX) || exit 99
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

# expect STATUS TEXT COMMAND...: exit status, one stderr line holding TEXT.
expect() {
	want=$1 text=$2
	shift 2
	"$@" <"$T/task" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ -z "$text" ]; then
		ok=$([ "$lines" -eq 0 ] && echo y)
	else
		ok=$([ "$lines" -le 1 ] && grep -qF -- "$text" "$T/err" && echo y)
	fi
	if [ "$rc" -eq "$want" ] && [ "$ok" = y ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $* -> $rc (want $want, '$text'): $(cat "$T/err")"
	fi
}

# --- dispatch-lane-ssh ------------------------------------------------
S=$T/ssh
mkdir -m 0700 "$S" "$S/keys"
ssh-keygen -q -t ed25519 -N '' -f "$S/keys/alice" || exit 99
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || exit 99
rm -f "$S/keys/alice.pub"
# Port 9 (discard): nothing listens, so a connection would fail with 255.
printf '[127.0.0.1]:9 %s\n' "$(cut -d' ' -f1,2 "$T/hostkey.pub")" \
    >"$S/known_hosts"
printf 'task' >"$T/task"
export LANE_SSH_DIR="$S" LANE_SSH_PORT=9

expect 64 "usage:" "$ssh_lane"
expect 64 "usage:" "$ssh_lane" alice nash --host 127.0.0.1 --max 5 extra
expect 64 "usage:" "$ssh_lane" alice nash --max 5 --host 127.0.0.1
expect 64 "invalid orguser 'a;b'" "$ssh_lane" 'a;b' nash --host 127.0.0.1 --max 5
expect 64 "invalid orguser" "$ssh_lane" -oProxyCommand=sh nash --host 127.0.0.1 --max 5
expect 64 "invalid repo '../x'" "$ssh_lane" alice ../x --host 127.0.0.1 --max 5
expect 64 "--max must be" "$ssh_lane" alice nash --host 127.0.0.1 --max 0
expect 64 "--max must be" "$ssh_lane" alice nash --host 127.0.0.1 --max 100001
expect 65 "invalid host name '-oProxyCommand=sh'" \
    "$ssh_lane" alice nash --host -oProxyCommand=sh --max 5
expect 65 "invalid host name" "$ssh_lane" alice nash --host bad_host --max 5
expect 65 "invalid host name" "$ssh_lane" alice nash --host 'a b' --max 5
expect 65 "invalid host name" "$ssh_lane" alice nash --host 'user@host' --max 5
expect 66 "no key for orguser 'bob'" "$ssh_lane" bob nash --host 127.0.0.1 --max 5
expect 67 "no known host key for 'otherhost' port 9" \
    "$ssh_lane" alice nash --host otherhost --max 5
expect 67 "no known host key for '127.0.0.1' port 22" env LANE_SSH_PORT=22 \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
expect 78 "LANE_SSH_PORT must be" env LANE_SSH_PORT=0 \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
expect 78 "LANE_SSH_PORT must be" env LANE_SSH_PORT=22x \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
expect 78 "must be an absolute path" env LANE_SSH_DIR=relative/dir \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
expect 78 "No such file" env LANE_SSH_DIR=$T/none \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
chmod 0644 "$S/keys/alice"
expect 78 "mode 0600" "$ssh_lane" alice nash --host 127.0.0.1 --max 5
chmod 0600 "$S/keys/alice"
chmod 0770 "$S"
expect 78 "closed to group and world writes" \
    "$ssh_lane" alice nash --host 127.0.0.1 --max 5
chmod 0700 "$S"
# All checks pass: now ssh runs, and fails to connect.
expect 255 "Connection refused" "$ssh_lane" alice nash --host 127.0.0.1 --max 5
unset LANE_SSH_DIR LANE_SSH_PORT

# --- dispatch-lane-receive --------------------------------------------
R=$T/recv
mkdir -m 0755 "$R"
cat >"$R/program" <<EOF
#!/bin/sh
: > "$R/ran"
cat > "$R/stdin"
env > "$R/env"
t=\$(cat "$R/stdin")
case \$t in "exit "*) exit "\${t#exit }" ;; esac
exit 0
EOF
chmod 0755 "$R/program"
printf 'program %s\n' "$R/program" >"$R/conf"
printf 'program %s\nrepo nash\n' "$R/program" >"$R/conf-nash"
chmod 0644 "$R/conf" "$R/conf-nash"
ran() { [ -e "$R/ran" ]; }

refused() {
	cmd=$1 text=$2
	shift 2
	rm -f "$R/ran"
	if [ "$cmd" = UNSET ]; then
		expect 2 "$text" env -u SSH_ORIGINAL_COMMAND "$receive" -f "$R/conf" "$@"
	else
		expect 2 "$text" env SSH_ORIGINAL_COMMAND="$cmd" "$receive" -f "$R/conf" "$@"
	fi
	if ran; then
		failed=$((failed + 1))
		echo "FAIL: '$cmd' ran the program"
	fi
}

printf 'a task' >"$T/task"
refused UNSET "no command"
refused "sh -c id" "expected 'dispatch'"
refused "scp -t /tmp" "expected 'dispatch'"
refused "internal-sftp" "expected 'dispatch'"
refused "dispatch nash --max 5 extra" "expected 4 words"
refused "dispatch ../x --max 5" "invalid repo"
refused "dispatch nash --max 0" "--max must be"
refused "dispatch nash --max 100001" "--max must be"
# The task ends with one NUL byte; without it, it may have been cut short.
: >"$T/task"
refused "dispatch nash --max 5" "does not end with a NUL byte"
printf 'a cut tas' >"$T/task"
refused "dispatch nash --max 5" "does not end with a NUL byte"
printf ' \n\000' >"$T/task"
refused "dispatch nash --max 5" "task_description must not be empty"
printf 'bad \377 byte\000' >"$T/task"
refused "dispatch nash --max 5" "valid UTF-8"
printf 'nul \000 byte\000' >"$T/task"
refused "dispatch nash --max 5" "without NUL"
{ head -c 8001 /dev/zero | tr '\0' x; printf '\000'; } >"$T/task"
refused "dispatch nash --max 5" "too long: 8001 > 8000"
{ head -c 32001 /dev/zero | tr '\0' x; printf '\000'; } >"$T/task"
refused "dispatch nash --max 5" "longer than 32000 bytes"
printf 'a task\000' >"$T/task"
rm -f "$R/ran"
expect 2 "repo not served" env SSH_ORIGINAL_COMMAND="dispatch reid --max 5" \
    "$receive" -f "$R/conf-nash"
ran && { failed=$((failed + 1)); echo "FAIL: an unserved repo ran"; }
chmod 0664 "$R/conf"
expect 78 "closed to group and world writes" \
    env SSH_ORIGINAL_COMMAND="dispatch nash --max 5" "$receive" -f "$R/conf"
chmod 0644 "$R/conf"
expect 78 "No such file" env SSH_ORIGINAL_COMMAND="dispatch nash --max 5" \
    "$receive" -f "$R/missing"
expect 78 "usage" env SSH_ORIGINAL_COMMAND="dispatch nash --max 5" \
    "$receive" -f "$R/conf" extra
ran && { failed=$((failed + 1)); echo "FAIL: a refusal ran the program"; }
# Accepted: the status comes back; 255 is ssh's own, so it reads 254.
printf 'the task\000' >"$T/task"
expect 0 "" env SSH_ORIGINAL_COMMAND="dispatch nash --max 5" \
    "$receive" -f "$R/conf-nash"
if ! ran || [ "$(cat "$R/stdin")" != "the task" ]; then
	failed=$((failed + 1))
	echo "FAIL: the accepted task did not arrive"
fi
printf 'exit 7\000' >"$T/task"
expect 7 "" env LANE_CANARY=1 SSH_ORIGINAL_COMMAND="dispatch nash --max 5" \
    "$receive" -f "$R/conf"
if grep -q LANE_CANARY "$R/env"; then
	failed=$((failed + 1))
	echo "FAIL: the receiver passed its environment on"
fi
printf 'exit 255\000' >"$T/task"
expect 254 "" env SSH_ORIGINAL_COMMAND="dispatch nash --max 5" \
    "$receive" -f "$R/conf"

# --- dispatch-lane-slurm ----------------------------------------------
H=dsp-0123456789abcdef0123456789abcdef
printf 'script %s\n' "$R/program" >"$T/slurm.conf"
printf 'script %s\nqueue x\n' "$R/program" >"$T/slurm-bad.conf"
printf 'partition x\n' >"$T/slurm-noscript.conf"
chmod 0644 "$T"/slurm*.conf
printf 'a task' >"$T/task"
export LANE_SLURM_CONF="$T/slurm.conf"
expect 64 "usage:" "$slurm_lane" alice nash
expect 64 "DISPATCH_HANDLE" env -u DISPATCH_HANDLE \
    "$slurm_lane" alice nash --host localhost --max 5
expect 64 "DISPATCH_HANDLE" env DISPATCH_HANDLE=x \
    "$slurm_lane" alice nash --host localhost --max 5
expect 64 "invalid repo" env DISPATCH_HANDLE=$H \
    "$slurm_lane" alice 'a b' --host localhost --max 5
expect 78 "No such file" env LANE_SLURM_CONF=$T/none DISPATCH_HANDLE=$H \
    "$slurm_lane" alice nash --host localhost --max 5
expect 78 "unknown keyword 'queue'" env LANE_SLURM_CONF=$T/slurm-bad.conf \
    env DISPATCH_HANDLE=$H "$slurm_lane" alice nash --host localhost --max 5
expect 78 "no script line" env LANE_SLURM_CONF=$T/slurm-noscript.conf \
    env DISPATCH_HANDLE=$H "$slurm_lane" alice nash --host localhost --max 5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
