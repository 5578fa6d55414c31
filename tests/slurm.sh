#!/usr/bin/env bash
# slurm/train.sbatch and slurm/sweep.sbatch on a real one-node Slurm cluster started for
# the test: a training job runs to completion at the expected accuracy; preemption by
# `scancel --signal=USR1 --batch`, a `scontrol requeue` from outside and a preemption by a
# higher-priority partition each end in a completed job whose final weights equal those of
# an uninterrupted run; a bad config fails the job once, with its message, without requeue;
# a job array runs one seed per task. Each job is a run of its own (DIR/job-<id>): a requeue
# resumes it, a resubmission with a changed setting starts a new run beside it.
source "$(dirname "$0")/lib.sh"
require_data
source "$(dirname "$0")/slurm_lib.sh"
# A wider hidden layer than test-e2e.ini's, so that a run lasts about 5 s and the signals
# below reach it mid-run.
train=("$NN_SOURCE/slurm/train.sbatch" "$NN_SOURCE/configs/test-e2e.ini" --set data.path="$NN_DATA"
       --set log.every_steps=100 --set model.hidden=512)

# The uninterrupted run, with mpirun outside Slurm, at the same rank count.
expect_status 0 mpi 2 "$NN_MPI" "${train[@]:1}" --set run.dir="$WORK/ref"
reference=$WORK/ref/version_0/ckpt-000003752.h5

# 1. A plain job: runs to completion, reaches 97%.
submit plain -n 2 "${train[@]}" --set run.dir="$WORK/plain" --set log.metrics="$WORK/plain.jsonl"
wait_done
expect_job COMPLETED 0
expect_in "$WORK/plain.out" "nn-mpi job $JOB run 0: 2 ranks on 1 node(s)"
expect_in "$WORK/plain.out" "training finished"
accuracy=$(metric "$WORK/plain.jsonl" epoch test_accuracy | tail -n 1)
at_least "$accuracy" 0.97 "test accuracy"
same_state "$reference" "$WORK/plain/job-$JOB/ckpt-000003752.h5"
first=$JOB

# 1b. Resubmitted into the same run directory with a changed setting: a new run of its own
# (not "nothing to do" on the first job's checkpoint), the first run's files untouched.
(cd "$WORK/plain" && find . -type f -exec md5sum {} + | sort) >"$WORK/plain.before"
submit plain2 -n 2 "${train[@]}" --set run.dir="$WORK/plain" --set train.learning_rate=0.01 \
    --set train.epochs=1
wait_done
expect_job COMPLETED 0
expect_in "$WORK/plain2.out" "run 20"
expect_in "$WORK/plain2.out" " in $WORK/plain/job-$JOB"
grep -q "nothing to do\|resuming from" "$WORK/plain2.out" && fail "the resubmission met the first run's checkpoints"
[ -f "$WORK/plain/job-$JOB/ckpt-000000938.h5" ] || fail "the resubmission wrote no checkpoint of its own"
(cd "$WORK/plain" && find "./job-$first" -type f -exec md5sum {} + | sort) >"$WORK/plain.after"
grep -F "./job-$first/" "$WORK/plain.before" | cmp -s - "$WORK/plain.after" ||
    fail "the resubmission changed the first run's files"

# interrupted NAME HOW SBATCH-ARGS...: a job interrupted by HOW once training is under way
# must be requeued, resume in its second run and end with the reference's weights.
interrupted() {
    local name=$1 how=$2
    shift 2
    submit "$name" "$@" "${train[@]}" --set run.dir="$WORK/$name"
    wait_output "$name" "epoch 1/4 step 300/938"
    $how
    wait_done
    expect_job COMPLETED 1
    expect_in "$WORK/$name.out" "nn-mpi job $JOB run 1:"
    expect_in "$WORK/$name.out" "resuming from $WORK/$name/job-$JOB/ckpt-"
    expect_in "$WORK/$name.out" "training finished"
    expect_in "$WORK/$name.out" "stopped at a checkpoint; requeueing"
    same_state "$reference" "$WORK/$name/job-$JOB/ckpt-000003752.h5"
    echo "$name: $(grep -m1 'stopped by' "$WORK/$name.out"), requeued once, same final weights"
}

# 2. The time-limit warning, as Slurm sends it: USR1 to the batch shell.
usr1_batch() { scancel --signal=USR1 --batch "$JOB"; }
interrupted usr1 usr1_batch -n 2
expect_in "$WORK/usr1.out" "stopped by SIGUSR1 at epoch"
expect_in "$WORK/usr1.out" "stopped at a checkpoint; requeueing"

# 3. A requeue from outside: Slurm sends SIGTERM to the job and requeues it itself.
requeue_outside() { scontrol requeue "$JOB"; }
interrupted requeue requeue_outside -n 2
# Slurm signals the steps (SIGTERM) and the batch shell, which forwards SIGUSR1: whichever
# reaches the ranks first names the stop.
grep -qE "stopped by SIG(TERM|USR1) at epoch" "$WORK/requeue.out" ||
    fail "$WORK/requeue.out does not say the run stopped on SIGTERM or SIGUSR1"

# 4. Preemption: a job in the "high" partition needs all 4 CPUs of the node.
preempt() { (cd "$WORK" && sbatch --parsable -p high -n 4 --output="$WORK/high.out" --wrap "echo high ran") >/dev/null; }
interrupted preempted preempt -n 2
expect_in "$WORK/preempted.out" "DUE TO PREEMPTION"
expect_in "$WORK/high.out" "high ran"

# 5. A bad config fails the job with the message, once.
printf '[train]\nbatch_size = 0\n' >"$WORK/bad.ini"
submit bad -n 2 "$NN_SOURCE/slurm/train.sbatch" "$WORK/bad.ini"
wait_done
expect_job FAILED 0
expect_in "$WORK/bad.out" "rank 0: $WORK/bad.ini:2: [train] batch_size = 0: must be >= 1"
expect_in "$WORK/bad.out" "nn-mpi failed with status 2; not requeued"
[ "$(grep -c 'run 0' "$WORK/bad.out")" = 1 ] || fail "the bad job ran more than once"

# 6. A job array: one seed per task.
NN_SWEEP_DIR=$WORK/sweep submit sweep -n 2 --array=1-2 "$NN_SOURCE/slurm/sweep.sbatch" \
    "$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA"
wait_done
for task in 1 2; do
    expect_in "$WORK/sweep.out" "sweep task $task: --set train.seed=$task"
    run=$(ls -d "$WORK/sweep/task-$task"/job-*)
    "$NN_MPI" --inspect "$run/ckpt-000000120.h5" >"$WORK/inspect$task" ||
        fail "task $task left no valid final checkpoint"
    expect_in "$WORK/inspect$task" "seed = $task"
    [ "$(metric "$run/metrics.jsonl" epoch epoch | tail -n 1)" = 2 ] ||
        fail "task $task did not log 2 epochs"
done
h5diff -q "$WORK"/sweep/task-1/job-*/ckpt-000000120.h5 "$WORK"/sweep/task-2/job-*/ckpt-000000120.h5 /model /model &&
    fail "two seeds gave the same weights"
finish slurm
