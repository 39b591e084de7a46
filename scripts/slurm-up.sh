#!/usr/bin/env bash
# A single-node Slurm for the tests of slurm clusters (Debian 12's Slurm 22.05), as root, with nothing of
# the host's own: its own munge key and socket, config, spool and logs under $SHOAL_SLURM_DIR (default
# /tmp/shoal-slurm), daemons started by hand (no systemd here). Prints the line to export SLURM_CONF.
# Idempotent: a Slurm it started before that still answers is left as it is.
# Stop it with: scripts/slurm-up.sh --down
set -euo pipefail
dir=${SHOAL_SLURM_DIR:-/tmp/shoal-slurm}
export SLURM_CONF=$dir/etc/slurm.conf

stop_daemons() {
  for pidfile in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = --down ]; then stop_daemons; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "slurm-up.sh: run as root (slurmd starts jobs as their users)" >&2; exit 1; }

if [ -f "$SLURM_CONF" ] && [ "$(timeout 5 sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; then
  echo "export SLURM_CONF=$SLURM_CONF"
  exit 0
fi

packages="slurmctld slurmd slurm-client munge"
if ! dpkg -s $packages >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -q >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $packages >&2
fi
stop_daemons
mkdir -p "$dir"/{etc,munge,spool/ctld,spool/d,log,run}
if [ ! -f "$dir/munge/munge.key" ]; then
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
fi
# Commands of every uid must reach munge's socket.
chmod 755 "$dir/munge"
munged --force -S "$dir/munge/socket" --key-file="$dir/munge/munge.key" \
  --log-file="$dir/munge/munged.log" --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed"

cpus=${SHOAL_SLURM_CPUS:-64}   # virtual slots: elements mostly wait, they do not compute
memory_mb=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 8 / 10 ))
cat >"$SLURM_CONF" <<EOF
ClusterName=shoal-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=3600
MaxJobCount=1000000
MaxArraySize=100001
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,default_queue_depth=1000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmdParameters=config_overrides
NodeName=localhost CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
# -c: a fresh controller, without jobs of an earlier run.
slurmctld -c -i
slurmd -N localhost
for _ in $(seq 300); do
  [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ] && break
  sleep 0.1
done
[ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ] || {
  echo "slurm-up.sh: the node did not come up; see $dir/log" >&2
  exit 1
}
echo "export SLURM_CONF=$SLURM_CONF"
