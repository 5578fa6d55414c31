#!/usr/bin/env bash
# Stopping on request on real MNIST (configs/test-e2e.ini at -np 2): SIGUSR1, SIGTERM and a
# configured signal, the time limit and SLURM_JOB_END_TIME each make the run write a
# checkpoint and exit 75; resuming finishes with bitwise the weights and optimizer state
# of an uninterrupted run. Also time-based checkpoints, and a job killed with SIGKILL five
# times at random moments and auto-resumed each time.
source "$(dirname "$0")/lib.sh"
require_data
# A wider hidden layer than test-e2e.ini's, so that a run lasts about 5 s and the 2- and
# 3-second time limits land mid-run.
e2e=("$NN_SOURCE/configs/test-e2e.ini" --set data.path="$NN_DATA" --set log.every_steps=50
     --set model.hidden=512
     --set checkpoint.keep=2)

expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set run.dir="$WORK/ref"
reference=$WORK/ref/version_0/ckpt-000003752.h5
[ -f "$reference" ] || fail "no final checkpoint"

# stop_case NAME HOW [ARGS...]: starts a run, stops it with HOW once training is under
# way, expects exit status $want and the message $why, then resumes to the end and
# compares with the reference.
stop_case() {
    local name=$1 how=$2
    shift 2
    start_job 2 "$WORK/$name.log" "${e2e[@]}" --set run.dir="$WORK/$name" "$@"
    wait_for "$WORK/$name.log" "epoch 1/4 step 300/938"
    $how
    wait_job
    [ "$JOB_STATUS" = "$want" ] || { cat "$WORK/$name.log" >&2; fail "$name: exit status $JOB_STATUS, expected $want"; }
    expect_in "$WORK/$name.log" "$why"
    expect_in "$WORK/$name.log" ": resume to continue"
    local stopped
    stopped=$(newest "$WORK/$name")
    "$NN_MPI" --inspect "$stopped" >/dev/null || fail "$name: the stop checkpoint is not valid"
    SLURM_JOB_END_TIME= expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set run.dir="$WORK/$name" --resume auto
    expect_in "$WORK/out" "resuming from $stopped"
    same_state "$reference" "$WORK/$name/version_0/ckpt-000003752.h5"
    echo "$name: stopped at $(basename "$stopped"), resumed to the same final state"
}

want=75
usr1_to_mpirun() { kill -USR1 "$JOB"; }
why="stopped by SIGUSR1 at epoch" stop_case usr1 usr1_to_mpirun
term_to_ranks() { pkill -TERM -P "$JOB"; }
why="stopped by SIGTERM at epoch" stop_case term-ranks term_to_ranks
usr2_to_mpirun() { kill -USR2 "$JOB"; }
why="stopped by SIGUSR2 at epoch" stop_case usr2 usr2_to_mpirun --set checkpoint.signal=usr2
nothing() { :; }
why="stopped by the time limit at epoch" stop_case limit nothing \
    --set checkpoint.time_limit=2 --set checkpoint.time_margin=0
SLURM_JOB_END_TIME=$(($(date +%s) + 63)) why="stopped by the time limit at epoch" \
    stop_case slurm-end nothing
# SIGTERM sent to mpirun: mpirun forwards it and ends the job itself, so its own exit
# status is Open MPI's (1); the ranks still write the checkpoint and exit 75.
want=1
term_to_mpirun() { kill -TERM "$JOB"; }
why="stopped by SIGTERM at epoch" stop_case term-mpirun term_to_mpirun

# Time-based checkpoints, every 0.02 minutes (1.2 s) in a run of about 5 s: some land
# mid-epoch, and consecutive ones (the final checkpoint aside) are written 1.2 s apart, by
# their files' modification times: never sooner (less 10 ms for the file clock's
# granularity) and, on a loaded machine, at most twice that.
expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set run.dir="$WORK/minutes" \
    --set checkpoint.keep=0 --set checkpoint.every_epochs=0 --set checkpoint.every_minutes=0.02
mid=$(ls "$WORK/minutes/version_0" | grep ckpt | grep -vcE 'ckpt-0000(00938|01876|02814|03752)\.h5' || true)
[ "$mid" -ge 1 ] || fail "no time-based checkpoint was written"
timed=0
previous=
for step in $(metric "$WORK/minutes/version_0/metrics.jsonl" checkpoint step | grep -vx 3752); do
    written=$(stat -c %.9Y "$WORK/minutes/version_0/$(printf 'ckpt-%09d.h5' "$step")")
    if [ -n "$previous" ]; then
        gap=$(awk -v a="$written" -v b="$previous" 'BEGIN { printf "%.3f", a - b }')
        at_least "$gap" 1.19 "seconds from the previous time-based checkpoint to step $step's"
        close_enough 1.2 "$gap" 1 ||
            fail "step $step's time-based checkpoint came $gap s after the previous one, not about 1.2 s"
        echo "time-based checkpoint of step $step: $gap s after the previous one"
    fi
    previous=$written
    timed=$((timed + 1))
done
[ $timed -ge 3 ] || fail "$timed time-based checkpoint(s) in a run of about 5 s, every 1.2 s"

# SIGKILL of the whole job at five random moments of training, auto-resuming each time.
RANDOM=42
mid_run=0
for i in 1 2 3 4 5; do
    start_job 2 "$WORK/kill$i.log" "${e2e[@]}" --set run.dir="$WORK/killed" \
        --set checkpoint.every_steps=100 --resume auto
    wait_for "$WORK/kill$i.log" "steps per epoch)"
    sleep "0.$((RANDOM % 8 + 2))"
    kill_job KILL
    wait_job
    last=$(newest "$WORK/killed" 2>/dev/null || true)
    grep -q "train_loss" "$WORK/kill$i.log" && [ "$last" != "$WORK/killed/version_0/ckpt-000003752.h5" ] &&
        mid_run=$((mid_run + 1))
    echo "kill $i: newest checkpoint ${last##*/}"
done
[ $mid_run -ge 4 ] || fail "only $mid_run of 5 kills landed during training"
expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set run.dir="$WORK/killed" \
    --set checkpoint.every_steps=100 --resume auto
same_state "$reference" "$WORK/killed/version_0/ckpt-000003752.h5"
finish preempt
