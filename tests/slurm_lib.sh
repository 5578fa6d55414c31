# Sourced by the Slurm tests after lib.sh: a throw-away cluster (scripts/slurm-cluster.sh)
# for the duration of the test, and helpers to submit jobs and wait for them.
CLUSTER=$WORK/cluster
stop_cluster() {
    "$NN_SOURCE/scripts/slurm-cluster.sh" stop "$CLUSTER" || true
    rm -rf "$WORK"
}
trap stop_cluster EXIT
"$NN_SOURCE/scripts/slurm-cluster.sh" start "$CLUSTER" "${SLURM_NODES:-1}" ||
    fail "the test cluster did not start"
export SLURM_CONF=$CLUSTER/slurm.conf
# Jobs inherit this environment: the checkout and binary under test; Open MPI on loopback,
# yielding when idle (the test nodes offer more CPUs than there are cores).
export NN_MPI_HOME=$NN_SOURCE NN_MPI
export OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_mpi_yield_when_idle=1

# submit NAME SBATCH-ARGS... -- SCRIPT ARGS...: submits with output in $WORK/NAME.out; sets JOB.
submit() {
    local name=$1
    shift
    JOB=$(cd "$WORK" && sbatch --parsable --output="$WORK/$name.out" "$@") || fail "sbatch failed: $*"
}

# job_field NAME: a field of `scontrol show job` for JOB (JobState, Restarts, ExitCode, ...).
job_field() {
    scontrol show job -o "$JOB" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# wait_done [SECONDS]: waits until JOB has left the queue (at most SECONDS, default 240).
wait_done() {
    local i limit=$((${1:-240} * 5))
    for ((i = 0; i < limit; i++)); do
        [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    scancel "$JOB" || true
    fail "job $JOB did not finish: $(scontrol show job -o "$JOB")"
}

# wait_output NAME TEXT: waits (at most 120 s) until the job's output shows TEXT.
wait_output() {
    local i
    for ((i = 0; i < 600; i++)); do
        grep -qF -- "$2" "$WORK/$1.out" 2>/dev/null && return 0
        sleep 0.2
    done
    fail "$WORK/$1.out did not show: $2"
}

# expect_job STATE RESTARTS: JOB ended in STATE after RESTARTS requeues.
expect_job() {
    [ "$(job_field JobState)" = "$1" ] && [ "$(job_field Restarts)" = "$2" ] || {
        cat "$WORK"/*.out >&2
        fail "job $JOB: $(job_field JobState) after $(job_field Restarts) restarts, expected $1 after $2"
    }
}
