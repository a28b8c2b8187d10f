#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, from Debian's packages.
#
#   scripts/local-slurm.sh start    install (once) and start munge, slurmctld and slurmd
#   scripts/local-slurm.sh status   print the partition and node state
#   scripts/local-slurm.sh stop     stop the daemons this script started
#
# Idempotent: start on a running cluster and stop on a stopped one do nothing.
# It touches only what it installs: Debian's slurm-wlm and munge packages, the
# slurm.conf it writes (marked as ours; an existing foreign slurm.conf is never
# overwritten), and its state under /var/lib/sgdbench-slurm. No slurmdbd:
# Snakemake reads job states with squeue (MinJobAge keeps finished jobs visible).
set -euo pipefail

STATE=/var/lib/sgdbench-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by sgdbench scripts/local-slurm.sh"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { echo "local-slurm: $*" >&2; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return
    fi
    log "installing slurm-wlm and munge from Debian"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y --no-install-recommends slurm-wlm munge \
        || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends slurm-wlm munge; }
}

write_config() {
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        log "$CONF exists and was not written by this script; refusing to replace it"
        exit 1
    fi
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
    $SUDO mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$STATE/log"
    $SUDO tee "$CONF" >/dev/null <<EOF
$MARK
ClusterName=sgdbench-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SchedulerType=sched/backfill
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

running() { pgrep -x "$1" >/dev/null; }

start() {
    install_packages
    write_config
    if ! running munged; then
        $SUDO mkdir -p /run/munge
        $SUDO chown munge:munge /run/munge 2>/dev/null || true
        [ -f /etc/munge/munge.key ] || $SUDO /usr/sbin/mungekey --create
        $SUDO runuser -u munge -- /usr/sbin/munged
        touch_flag munged
    fi
    running slurmctld || { $SUDO slurmctld && touch_flag slurmctld; }
    running slurmd || { $SUDO slurmd && touch_flag slurmd; }
    for _ in $(seq 60); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            log "cluster up: $(sinfo -h -o '%P %D %T %c CPUs')"
            return
        fi
        scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
        sleep 1
    done
    log "the node did not become idle; see $STATE/log/"
    sinfo >&2 || true
    exit 1
}

touch_flag() { $SUDO touch "$STATE/started-$1"; }

stop() {
    for daemon in slurmd slurmctld munged; do
        if [ -f "$STATE/started-$daemon" ]; then # only what this script started
            $SUDO pkill -x "$daemon" || true
            $SUDO rm -f "$STATE/started-$daemon"
        fi
    done
    for _ in $(seq 20); do
        running slurmd || running slurmctld || break
        sleep 0.5
    done
    log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) sinfo ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
