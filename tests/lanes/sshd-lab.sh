#!/bin/sh
# A loopback sshd for the lane tests, with its own host key and a forced
# command for one lane user, from configuration written to DIR.
#   sshd-lab.sh start DIR PORT USER FORCED-COMMAND
#       exit 0 ready, 77 cannot run here (reason on stdout), else failure.
#       Writes DIR/client/known_hosts and DIR/client/keys/USER, the layout
#       dispatch-lane-ssh reads from LANE_SSH_DIR.
#   sshd-lab.sh stop DIR
# DIR must pass sshd's StrictModes: every component owned by root and not
# group or world writable (so not beneath /tmp).  The lane user is made
# if missing (a system account, no home, shell /bin/sh) and left in place.
set -u
cmd=$1 D=$2

skip() { echo "sshd-lab: $*"; exit 77; }

wait_gone() {
	i=0
	while [ -r "/proc/$1/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && kill -KILL "$1" 2>/dev/null
		[ $i -gt 300 ] && return 1
		sleep 0.02
	done
	return 0
}

case $cmd in
stop)
	if [ -s "$D/sshd.run.pid" ]; then
		pid=$(cat "$D/sshd.run.pid")
		kill "$pid" 2>/dev/null && wait_gone "$pid"
		rm -f "$D/sshd.run.pid"
	fi
	exit 0 ;;
start) ;;
*)	echo "usage: sshd-lab.sh start DIR PORT USER COMMAND | stop DIR" >&2
	exit 2 ;;
esac
port=$3 user=$4 forced=$5

[ "$(id -u)" -eq 0 ] || skip "not root"
[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd missing (apt-get install openssh-server)"
[ -x /usr/bin/ssh ] || skip "/usr/bin/ssh missing"
# The lane user: a login that only the forced command can use.
if ! id "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir / --shell /bin/sh \
	    --user-group "$user" || skip "cannot create user $user"
fi
# useradd leaves '!' (locked), which sshd refuses even for keys.
usermod -p '*' "$user" || exit 1

chmod 0755 "$D"
mkdir -p "$D/auth" "$D/client/keys"
chmod 0755 "$D/auth"
chmod 0700 "$D/client" "$D/client/keys"
/usr/bin/ssh-keygen -q -t ed25519 -N '' -C lane-host -f "$D/host_key" || exit 1
/usr/bin/ssh-keygen -q -t ed25519 -N '' -C dispatcher \
    -f "$D/client/keys/$user" || exit 1
printf 'restrict,command="%s" %s\n' "$forced" \
    "$(cat "$D/client/keys/$user.pub")" > "$D/auth/$user"
rm -f "$D/client/keys/$user.pub"
chmod 0644 "$D/auth/$user"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$D/host_key.pub")" \
    > "$D/client/known_hosts"
cat > "$D/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/auth/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $user
UsePAM no
StrictModes yes
PermitUserEnvironment no
AllowTcpForwarding no
AllowStreamLocalForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTunnel no
PermitTTY no
PrintMotd no
PrintLastLog no
ClientAliveInterval 5
ClientAliveCountMax 3
LogLevel VERBOSE
CONF
install -d -m 0755 /run/sshd
/usr/sbin/sshd -t -f "$D/sshd_config" || exit 1
setsid /usr/sbin/sshd -D -e -f "$D/sshd_config" 2>>"$D/sshd.log" \
    </dev/null >/dev/null &
echo $! > "$D/sshd.run.pid"
i=0
until ss -Hltn "( sport = :$port )" | grep -q .; do
	i=$((i + 1))
	if [ $i -gt 250 ] || ! kill -0 "$(cat "$D/sshd.run.pid")" 2>/dev/null; then
		cat "$D/sshd.log"
		exit 1
	fi
	sleep 0.02
done
exit 0
