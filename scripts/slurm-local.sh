#!/usr/bin/env bash
# A real one-node Slurm on this machine, for convlab's tests and for trying `convlab study --slurm`.
#
#   scripts/slurm-local.sh start    install (Debian's slurmctld, slurmd, slurm-client, munge) when missing,
#                                   write a one-node slurm.conf, start munged, slurmctld, slurmd
#   scripts/slurm-local.sh status   the node and the queue
#   scripts/slurm-local.sh stop     end exactly the daemons `start` started (their pid files)
#
# Needs root (it writes /etc/slurm/slurm.conf and starts system daemons). MaxArraySize is small
# (SLURM_LOCAL_MAX_ARRAY, default 4) so that convlab's splitting of large arrays is exercised.
set -euo pipefail
STATE=${SLURM_LOCAL_STATE:-/run/convlab-slurm}
MAX_ARRAY=${SLURM_LOCAL_MAX_ARRAY:-4}
CONF=/etc/slurm/slurm.conf
log() { echo "[slurm-local] $*" >&2; }

need_root() {
    [ "$(id -u)" = 0 ] || { log "needs root: it installs packages, writes $CONF and starts slurmctld/slurmd"; exit 1; }
}

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    log "installing slurmctld slurmd slurm-client munge (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
    mkdir -p /etc/slurm
    cat > "$CONF" <<EOF
# Written by convlab's scripts/slurm-local.sh: a one-node cluster for tests.
ClusterName=convlab-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MaxArraySize=$MAX_ARRAY
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

running() {  # name
    [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null
}

start() {
    need_root
    install
    mkdir -p "$STATE" /var/spool/slurmctld /var/spool/slurmd /run/munge
    chown munge:munge /run/munge 2>/dev/null || true
    # munged: ours unless one already runs (then it is left alone by stop, too).
    if ! running munged && ! pgrep -x munged >/dev/null; then
        munged --force
        pgrep -n -x munged > "$STATE/munged.pid"
    fi
    if running slurmctld && running slurmd; then
        log "already running"
        return
    fi
    write_conf
    running slurmctld || pgrep -x slurmctld >/dev/null || slurmctld
    running slurmd || pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 1 60); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
            log "up: $(sinfo -h -o '%N %c CPUs %T')"
            return
        fi
        sleep 0.5
    done
    log "slurmd did not come up; see 'sinfo' and /var/log/slurm*"
    exit 1
}

stop() {
    for d in slurmd slurmctld munged; do
        if running "$d"; then
            kill "$(cat "$STATE/$d.pid")" && log "stopped $d"
        fi
        rm -f "$STATE/$d.pid"
    done
}

status() {
    sinfo
    squeue
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
