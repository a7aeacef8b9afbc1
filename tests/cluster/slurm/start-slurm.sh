#!/usr/bin/env bash
# A single-node SLURM on this machine for the cluster tests (`make slurm-tests`): installs
# slurm-wlm and munge when missing, creates the munge key, starts munged, writes a one-node
# /etc/slurm/slurm.conf (partition `grading`, no cgroups, several 1-core jobs side by side)
# and starts slurmctld and slurmd as plain daemons (no systemd). Needs root; idempotent:
# when the three daemons run and the node answers idle (or mixed, allocated) it does nothing.
# A slurm.conf that this script did not write is never replaced.
set -euo pipefail

MARK="# written by autograde's tests/cluster/slurm/start-slurm.sh"
CONF=/etc/slurm/slurm.conf
LOGS=/var/log/slurm
SPOOL=/var/spool/slurm
HOST=$(hostname -s)

node_up() {
    timeout 10 sinfo -h -o %T 2>/dev/null | grep -qxE 'idle|mixed|allocated|completing'
}

running() {
    pgrep -x "$1" >/dev/null 2>&1
}

if running munged && running slurmctld && running slurmd && node_up; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "start-slurm.sh: SLURM is not up here and only root can install or start it" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge: the key, its folders, the daemon
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
chown munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key --force
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
munge_works() {
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}
# a munged that was just stopped lingers a second or two: wait for it to go, then start one
deadline=$((SECONDS + 20))
until munge_works; do
    if ! running munged; then
        runuser -u munge -- /usr/sbin/munged
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "start-slurm.sh: munge does not work (munge -n | unmunge); its log:" >&2
        tail -n 20 /var/log/munge/munged.log >&2 || true
        exit 1
    fi
    sleep 0.5
done

# slurm.conf: one node, all its CPUs, its available memory less a headroom
if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    echo "start-slurm.sh: $CONF exists and was not written by this script; not replacing it" >&2
    exit 1
fi
cpus=$(nproc)
avail_mib=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
# 20% headroom (slurmd drains a node whose RealMemory it does not find), in whole GiB so
# that a rerun writes the same file
memory=$(( avail_mib * 8 / 10 / 1024 * 1024 ))
[ "$memory" -ge 1024 ] || memory=1024
mkdir -p /etc/slurm "$LOGS" "$SPOOL/ctld" "$SPOOL/d"
new=$(mktemp)
cat >"$new" <<EOF
$MARK
ClusterName=autograde
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=grading Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
if ! cmp -s "$new" "$CONF"; then
    install -m 0644 "$new" "$CONF"
    if running slurmctld; then
        scontrol reconfigure || true
    fi
fi
rm -f "$new"

# the daemons
if ! running slurmctld; then
    slurmctld
fi
if ! running slurmd; then
    slurmd
fi

deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
    if node_up; then
        echo "SLURM is up: partition grading on $HOST ($cpus CPUs, ${memory} MiB)"
        exit 0
    fi
    state=$(timeout 10 sinfo -h -o %T 2>/dev/null || true)
    case "$state" in
        drain*|down*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
echo "start-slurm.sh: the node did not become idle within 60 s (sinfo: $(timeout 10 sinfo -h -o '%T %E' 2>&1 || true))" >&2
for log in "$LOGS/slurmctld.log" "$LOGS/slurmd.log"; do
    echo "---- $log (last 20 lines)" >&2
    tail -n 20 "$log" >&2 || true
done
exit 1
