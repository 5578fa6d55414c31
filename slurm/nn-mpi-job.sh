# Shared by the batch scripts in slurm/ (sourced, not run): launches nn-mpi for the job,
# forwards stop signals to it, and requeues the job when nn-mpi stopped at a checkpoint.
#
# Environment (all optional):
#   NN_MPI_HOME      the nn-mpi checkout (default: the directory sbatch was run from)
#   NN_MPI           the nn-mpi binary (default: $NN_MPI_HOME/build/nn-mpi)
#   NN_LAUNCHER      srun (default; PMIx) or mpirun (Open MPI's, inside the allocation)
#   NN_MAX_RESTARTS  requeue at most this many times (default 20)
#   NN_RUN_NAME      the run to start or continue in [run] dir (default job-<job id>)

# nn_job_run CONFIG [NN-MPI OPTIONS...]: runs nn-mpi as the run named job-<job id> in the
# config's [run] dir (DIR/job-<id>), with --resume auto: the first run of a job starts it,
# every requeue of the job continues it from its newest valid checkpoint, and a new
# submission (a new job id) starts a run of its own, so a changed setting never meets an
# old run's checkpoints. NN_RUN_NAME=job-1234 continues job 1234's run instead. A stop signal to
# the batch shell (sbatch --signal=B:USR1@SECONDS, scancel --signal=USR1 --batch, or
# SIGTERM at preemption or requeue) is forwarded to nn-mpi as SIGUSR1: it writes a checkpoint
# and exits 75, and the job requeues itself. Any other failure (a bad config: 2; a failed
# run: 1) ends the job with that status and no requeue. Never returns.
nn_job_run() {
    local config=$1
    shift
    local home=${NN_MPI_HOME:-$SLURM_SUBMIT_DIR}
    local bin=${NN_MPI:-$home/build/nn-mpi}
    local threads=${SLURM_CPUS_PER_TASK:-1}
    local restart=${SLURM_RESTART_COUNT:-0}
    local max=${NN_MAX_RESTARTS:-20}
    local run_name=${NN_RUN_NAME:-job-$SLURM_JOB_ID}
    # One BLAS thread per CPU that Slurm gives each rank.
    export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
    echo "nn-mpi job $SLURM_JOB_ID run $restart: $SLURM_NTASKS ranks on $SLURM_JOB_NUM_NODES node(s) ($SLURM_JOB_NODELIST), $threads BLAS thread(s) per rank, run $run_name, $(date -u +%FT%TZ)"

    local launch
    case ${NN_LAUNCHER:-srun} in
    srun) launch=(srun --mpi=pmix --kill-on-bad-exit=1) ;;
    mpirun)
        # mpirun reads the allocation: one rank per Slurm task.
        [ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
        launch=(mpirun -np "$SLURM_NTASKS")
        ;;
    *) echo "nn-mpi job: NN_LAUNCHER must be srun or mpirun" >&2; exit 2 ;;
    esac

    # Bash runs a trap only between commands: run nn-mpi in the background and wait.
    local child signals=0 seen status
    trap 'signals=$((signals + 1)); kill -USR1 "$child" 2>/dev/null' USR1 TERM
    "${launch[@]}" "$bin" "$config" --resume auto --run-name "$run_name" \
        --set train.blas_threads="$threads" "$@" &
    child=$!
    while :; do
        seen=$signals
        wait "$child"
        status=$?
        [ "$signals" != "$seen" ] || break # wait was cut short by a signal: wait again
    done
    trap - USR1 TERM

    case $status in
    0)
        echo "nn-mpi job $SLURM_JOB_ID: training finished"
        exit 0
        ;;
    75)
        if [ "$restart" -ge "$max" ]; then
            echo "nn-mpi job $SLURM_JOB_ID: stopped at a checkpoint; not requeued: $restart restarts reached NN_MAX_RESTARTS" >&2
            exit 75
        fi
        echo "nn-mpi job $SLURM_JOB_ID: stopped at a checkpoint; requeueing"
        # Fails harmlessly when Slurm is requeueing the job itself (preemption, requeue).
        scontrol requeue "$SLURM_JOB_ID" 2>/dev/null || echo "nn-mpi job $SLURM_JOB_ID: Slurm is requeueing it already"
        exit 0
        ;;
    *)
        echo "nn-mpi job $SLURM_JOB_ID: nn-mpi failed with status $status; not requeued" >&2
        exit "$status"
        ;;
    esac
}
