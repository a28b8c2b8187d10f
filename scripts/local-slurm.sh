#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, from Debian's packages.
#
#   scripts/local-slurm.sh start    install (once) and start munge, slurmctld and slurmd
#   scripts/local-slurm.sh status   print the partition and node state
#   scripts/local-slurm.sh stop     stop the daemons this script started
#   scripts/local-slurm.sh check-key  check the munge key's owner and mode
#
# Idempotent: start on a running cluster and stop on a stopped one do nothing.
# A controller that start launches begins with an empty queue: jobs saved by an
# earlier controller (killed runs) are dropped, not recovered.
# It touches only what it installs: Debian's slurm-wlm and munge packages, the
# slurm.conf it writes (marked as ours; an existing foreign slurm.conf is never
# overwritten), and its state under /var/lib/sgdbench-slurm. No slurmdbd:
# Snakemake reads job states with squeue (MinJobAge keeps finished jobs visible).
#
# `stop` stops only the processes this script started: `start` records each
# daemon's PID under /run (a tmpfs, so a record never outlives a reboot), and
# `stop` signals that PID only if it is still the same daemon. A daemon of the
# same name that someone else started is never touched.
set -euo pipefail

STATE=/var/lib/sgdbench-slurm
# Where the PIDs of started daemons are recorded (overridable for the script's own test).
RUNDIR=${SGDBENCH_SLURM_RUNDIR:-/run/sgdbench-slurm}
MUNGE_KEY=${SGDBENCH_MUNGE_KEY:-/etc/munge/munge.key}
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

# munged refuses a key that others can read, and a key it cannot read stops it
# with a bare "failed to start"; say which, and how to fix it.
check_munge_key() {
    local key=$MUNGE_KEY owner mode
    owner=$($SUDO stat -c '%U' "$key")
    mode=$($SUDO stat -c '%a' "$key")
    if [ "$owner" != munge ] || [ $((8#$mode & 8#077)) -ne 0 ]; then
        log "$key is owned by $owner with mode $mode; munged needs owner munge and mode 400 or 600:"
        log "  sudo chown munge:munge $key && sudo chmod 400 $key"
        exit 1
    fi
}

# record NAME PIDFILE: the PID of the daemon just started, read from its PID file.
record() {
    local name=$1 pidfile=$2 pid=""
    for _ in $(seq 50); do
        pid=$($SUDO cat "$pidfile" 2>/dev/null || true)
        [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && break
        pid=""
        sleep 0.1
    done
    if [ -z "$pid" ]; then
        log "$name started but wrote no PID to $pidfile; it will not be stopped by this script"
        return
    fi
    $SUDO mkdir -p "$RUNDIR"
    echo "$pid $(started_at "$pid")" | $SUDO tee "$RUNDIR/$name.pid" >/dev/null
}

# started_at PID: the process's start time in clock ticks since boot (field 22 of
# /proc/PID/stat, read after the parenthesised command name), so that a recycled
# PID is not taken for the daemon that once had it.
started_at() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }

start() {
    install_packages
    write_config
    if ! running munged; then
        $SUDO mkdir -p /run/munge
        $SUDO chown munge:munge /run/munge 2>/dev/null || true
        if [ ! -f "$MUNGE_KEY" ]; then
            $SUDO /usr/sbin/mungekey --create --keyfile="$MUNGE_KEY"
            $SUDO chown munge:munge "$MUNGE_KEY"
            $SUDO chmod 400 "$MUNGE_KEY"
        fi
        check_munge_key
        $SUDO runuser -u munge -- /usr/sbin/munged
        record munged /run/munge/munged.pid
    fi
    # -c: start from a clear state. Without it slurmctld recovers the jobs saved by
    # the last controller, and a job whose run was killed (a timed-out test, a
    # session that ended) stays "running" on the one node and holds its CPUs, so
    # every new job waits behind it forever.
    running slurmctld || { $SUDO slurmctld -c && record slurmctld "$STATE/slurmctld.pid"; }
    running slurmd || { $SUDO slurmd && record slurmd "$STATE/slurmd.pid"; }
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

# alive NAME PID START: PID is a live process named NAME that started at START.
alive() { [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ] && [ "$(started_at "$2")" = "$3" ]; }

stop() {
    local daemon pid start
    for daemon in slurmd slurmctld munged; do
        [ -f "$RUNDIR/$daemon.pid" ] || continue # not started by this script
        read -r pid start <"$RUNDIR/$daemon.pid" || true
        if [ -n "${pid:-}" ] && alive "$daemon" "$pid" "${start:-}"; then
            $SUDO kill "$pid" || true
            for _ in $(seq 20); do
                alive "$daemon" "$pid" "$start" || break
                sleep 0.5
            done
        fi
        $SUDO rm -f "$RUNDIR/$daemon.pid"
    done
    log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) sinfo ;;
check-key) check_munge_key ;;
*)
    echo "usage: $0 start|stop|status|check-key" >&2
    exit 2
    ;;
esac
