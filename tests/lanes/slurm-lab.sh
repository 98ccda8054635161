#!/bin/sh
# A one-node Slurm cluster for the lane tests: munged, slurmctld and
# slurmd on loopback, from configuration written to DIR, stopped by pid.
#   slurm-lab.sh start DIR [CTLD-PORT SLURMD-PORT]
#       exit 0 ready, 77 cannot run here (reason on stdout), anything else
#       a failure; the ports default to 16817 and 16818
#   slurm-lab.sh stop-ctld DIR   stop slurmctld only
#   slurm-lab.sh stop DIR
# DIR must exist; SLURM_CONF for clients is DIR/slurm.conf.
set -u
cmd=$1 D=$2 ctld_port=${3:-16817} slurmd_port=${4:-16818}

skip() { echo "slurm-lab: $*"; exit 77; }

# Waits until PID is gone or a zombie: kill -0 succeeds on a zombie.
wait_gone() {
	i=0
	while [ -r "/proc/$1/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && { kill -KILL "$1" 2>/dev/null; }
		[ $i -gt 300 ] && return 1
		sleep 0.05
	done
	return 0
}

stop_pid() {
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill "$pid" 2>/dev/null && wait_gone "$pid"
	rm -f "$1"
}

case $cmd in
stop-ctld)
	stop_pid "$D/slurmctld.run.pid"
	exit 0 ;;
stop)
	stop_pid "$D/slurmd.run.pid"
	stop_pid "$D/slurmctld.run.pid"
	stop_pid "$D/munged.run.pid"
	exit 0 ;;
start) ;;
*)	echo "usage: slurm-lab.sh start|stop|stop-ctld DIR" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || skip "not root"
for p in /usr/sbin/munged /usr/sbin/mungekey /usr/sbin/slurmctld \
    /usr/sbin/slurmd /usr/bin/sbatch /usr/bin/scontrol /usr/bin/sinfo; do
	[ -x "$p" ] || skip "$p missing (apt-get install slurmctld slurmd slurm-client munge)"
done
id munge >/dev/null 2>&1 || skip "no munge user"
host=$(hostname -s)
getent hosts "$host" >/dev/null || skip "host name $host does not resolve"
# Ports of our own, so that another Slurm on this machine is no matter;
# refuse to start over a running one (it would answer in our place).
if ss -Hltn "( sport = :$ctld_port or sport = :$slurmd_port )" |
    grep -q .; then
	echo "slurm-lab: ports $ctld_port/$slurmd_port busy"
	exit 1
fi
cpus=$(nproc)

chmod 0755 "$D"
mkdir -p "$D/state" "$D/spool" "$D/log"
install -d -o munge -g munge -m 0755 "$D/munge"
/usr/sbin/mungekey --create --keyfile="$D/munge/munge.key" 2>/dev/null ||
    dd if=/dev/urandom of="$D/munge/munge.key" bs=128 count=1 2>/dev/null
chown munge:munge "$D/munge/munge.key"
chmod 0400 "$D/munge/munge.key"
setsid runuser -u munge -- /usr/sbin/munged -F --socket="$D/munge/sock" \
    --key-file="$D/munge/munge.key" --pid-file="$D/munge/munged.pid" \
    --log-file="$D/munge/munged.log" --seed-file="$D/munge/seed" \
    </dev/null >>"$D/log/munged.stderr" 2>&1 &
echo $! > "$D/munged.run.pid"
i=0
until [ -S "$D/munge/sock" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { cat "$D/log/munged.stderr"; exit 1; }
	sleep 0.02
done

cat > "$D/slurm.conf" <<CONF
ClusterName=lanetest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/sock
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
KillWait=2
MessageTimeout=2
MinJobAge=600
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$host CPUs=$cpus RealMemory=500 State=UNKNOWN
PartitionName=lanes Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=$host MaxTime=1 State=UP
EnforcePartLimits=ALL
CONF
export SLURM_CONF="$D/slurm.conf"
setsid /usr/sbin/slurmctld -D -i >>"$D/log/slurmctld.stderr" 2>&1 </dev/null &
echo $! > "$D/slurmctld.run.pid"
i=0
until /usr/bin/scontrol ping 2>/dev/null | grep -q UP; do
	i=$((i + 1)); [ $i -gt 200 ] && { tail -5 "$D/log/slurmctld.log"; exit 1; }
	sleep 0.05
done
setsid /usr/sbin/slurmd -D >>"$D/log/slurmd.stderr" 2>&1 </dev/null &
echo $! > "$D/slurmd.run.pid"
i=0
until [ "$(/usr/bin/sinfo -h -N -p lanes -o %T 2>/dev/null)" = idle ]; do
	i=$((i + 1)); [ $i -gt 200 ] && { tail -5 "$D/log/slurmd.log"; exit 1; }
	sleep 0.05
done
exit 0
