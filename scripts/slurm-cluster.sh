#!/usr/bin/env bash
# A throw-away Slurm cluster on this machine, for the tests of slurm/:
#   scripts/slurm-cluster.sh start DIR [NODES]   # NODES 1 (default) or 2 fake nodes
#   scripts/slurm-cluster.sh stop DIR
# start installs munge, slurmctld and slurmd if missing, writes DIR/slurm.conf (state,
# spool, logs and pid files all under DIR, wiped first), starts munged (unless running),
# slurmctld and one slurmd per node, and waits until every node is idle. Clients find the
# cluster through SLURM_CONF=DIR/slurm.conf. stop ends every daemon it started, by PID.
# Partitions: "low" (default) and "high"; a job in "high" preempts and requeues one in "low".
# Each node offers 4 CPUs, more than the cores, so that 4-rank jobs fit on 2 cores.
set -euo pipefail
cmd=${1:?usage: slurm-cluster.sh start|stop DIR [NODES]}
dir=${2:?usage: slurm-cluster.sh start|stop DIR [NODES]}
nodes=${3:-1}

stop() {
    for pidfile in "$dir"/slurmd-*.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi
[ "$cmd" = start ] || { echo "slurm-cluster: unknown command $cmd" >&2; exit 2; }

missing=()
for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null || {
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >/dev/null
    }
fi

stop
rm -rf "$dir"
mkdir -p "$dir/state"
host=$(hostname -s)

# munge: started here only when no munged answers already.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge /run/munge
    runuser -u munge -- munged --force
    for _ in $(seq 50); do [ -f /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"
    munge -n | unmunge >/dev/null || { echo "slurm-cluster: munge does not work" >&2; exit 1; }
fi

hardware=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //; s/CPUs=[0-9]+/CPUs=4/;
    s/CoresPerSocket=[0-9]+/CoresPerSocket=4/; s/ThreadsPerCore=[0-9]+/ThreadsPerCore=1/;
    s/RealMemory=[0-9]+//')
{
    cat <<CONF
ClusterName=nntest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=5
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
JobRequeue=1
KillWait=5
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=bf_interval=1,sched_interval=1
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
SlurmctldParameters=preempt_send_user_signal
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
TmpFS=$dir/tmp-%n
CONF
    if [ "$nodes" = 1 ]; then
        echo "NodeName=$host NodeAddr=127.0.0.1 $hardware State=UNKNOWN"
        names=$host
    else
        echo "NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=16821 $hardware State=UNKNOWN"
        echo "NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=16822 $hardware State=UNKNOWN"
        names="n1 n2"
    fi
    echo "PartitionName=low Nodes=ALL Default=YES PriorityTier=1 MaxTime=INFINITE State=UP"
    echo "PartitionName=high Nodes=ALL PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
for n in $names; do mkdir -p "$dir/spool-$n" "$dir/tmp-$n"; done

export SLURM_CONF=$dir/slurm.conf
slurmctld
if [ "$nodes" = 1 ]; then
    slurmd
else
    for n in $names; do slurmd -N "$n"; done
fi
for _ in $(seq 100); do
    states=$(sinfo -h -N -o %T 2>/dev/null | sort -u | tr '\n' ' ')
    [ "$states" = "idle " ] && [ "$(sinfo -h -N -o %N | sort -u | wc -l)" = "$nodes" ] && exit 0
    sleep 0.2
done
echo "slurm-cluster: nodes did not become idle: $(sinfo -N 2>&1)" >&2
tail -n 20 "$dir"/*.log >&2
exit 1
