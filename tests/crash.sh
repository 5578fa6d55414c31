#!/usr/bin/env bash
# Crashes and damage (configs/test-small.ini at -np 2, a checkpoint every 20 steps):
# - the whole job killed with SIGKILL while rank 0 is halfway through writing a checkpoint
#   (a test-only hook stalls the write): the previous checkpoints stay valid and auto-resume
#   continues from the newest one to the uninterrupted run's final state, bitwise;
# - a stop signal while the write hangs: the grace period, or a second signal, end the
#   job at once with status 76;
# - truncated and bit-flipped checkpoints are reported and skipped for older ones;
# - retention keeps exactly the newest N and every M-th epoch's checkpoint.
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0)

expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/ref"
reference=$WORK/ref/version_0/ckpt-000000120.h5

# wait_for_temp DIR: waits until the stalled write of step 60 has left its temporary file.
wait_for_temp() {
    local i
    for ((i = 0; i < 300; i++)); do
        ls "$1"/ckpt-000000060.h5.tmp.* >/dev/null 2>&1 && { sleep 0.3; return 0; }
        sleep 0.1
    done
    fail "the stalled checkpoint write never started"
}

# SIGKILL mid-write.
export NN_MPI_TEST_FAULT=stall_checkpoint@60
start_job 2 "$WORK/stall.log" "${small[@]}" --set run.dir="$WORK/k"
wait_for_temp "$WORK/k/version_0"
kill_job KILL
wait_job
[ ! -e "$WORK/k/version_0/ckpt-000000060.h5" ] || fail "a half-written checkpoint got its final name"
expect_status 0 "$NN_MPI" --inspect "$WORK/k/version_0/ckpt-000000040.h5"
expect_in "$WORK/out" "ckpt-000000040.h5: valid"
expect_in "$WORK/out" "position: 0 epochs done, 40 steps into the next"

# A stop signal while the write hangs: the grace period ends it.
start=$(date +%s)
start_job 2 "$WORK/grace.log" "${small[@]}" --set run.dir="$WORK/g" \
    --set checkpoint.grace_seconds=2
wait_for_temp "$WORK/g/version_0"
kill -USR1 "$JOB"
wait_job
[ "$JOB_STATUS" = 76 ] || fail "grace period: exit status $JOB_STATUS, expected 76"
[ $(($(date +%s) - start)) -lt 30 ] || fail "the grace period did not end the job"
# A second signal ends it at once (not a duplicate that arrives with the first).
start_job 2 "$WORK/second.log" "${small[@]}" --set run.dir="$WORK/s" \
    --set checkpoint.grace_seconds=0
wait_for_temp "$WORK/s/version_0"
kill -USR1 "$JOB"
sleep 0.3
kill -USR1 "$JOB" # a duplicate of the first: ignored
sleep 2.5
kill -0 "$JOB" 2>/dev/null || fail "a duplicate signal ended the job"
kill -USR1 "$JOB" # a second request: stop now
wait_job
[ "$JOB_STATUS" = 76 ] || fail "second signal: exit status $JOB_STATUS, expected 76"
unset NN_MPI_TEST_FAULT

for dir in k g s; do
    expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/$dir" --resume auto
    expect_in "$WORK/err" "warning: removed 1 unfinished checkpoint file(s) of an ended process from $WORK/$dir/version_0"
    expect_in "$WORK/out" "resuming from $WORK/$dir/version_0/ckpt-000000040.h5"
    same_state "$reference" "$WORK/$dir/version_0/ckpt-000000120.h5"
done

# Damaged checkpoints: the newest truncated, the next with a bit flipped in its weights.
cp -r "$WORK/ref" "$WORK/d"
truncate -s 30000 "$WORK/d/version_0/ckpt-000000120.h5"
offset=$(h5dump -p -H -d /model/layer_0/weights "$WORK/d/version_0/ckpt-000000100.h5" | awk '/OFFSET/ { print $2 }')
printf '\x55' | dd of="$WORK/d/version_0/ckpt-000000100.h5" bs=1 seek=$((offset + 1000)) conv=notrunc 2>/dev/null
expect_status 1 "$NN_MPI" --inspect "$WORK/d/version_0/ckpt-000000100.h5"
expect_in "$WORK/out" "INVALID: $WORK/d/version_0/ckpt-000000100.h5: checksum mismatch"
expect_status 1 "$NN_MPI" --inspect "$WORK/d/version_0/ckpt-000000120.h5"
expect_in "$WORK/out" "INVALID"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/d" --resume auto
expect_in "$WORK/err" "rank 0: warning: skipping $WORK/d/version_0/ckpt-000000120.h5: not an HDF5 file, or damaged"
expect_in "$WORK/err" "rank 0: warning: skipping $WORK/d/version_0/ckpt-000000100.h5: checksum mismatch"
expect_in "$WORK/out" "resuming from $WORK/d/version_0/ckpt-000000080.h5 at epoch 2 step 20"
same_state "$reference" "$WORK/d/version_0/ckpt-000000120.h5"

# An empty directory: auto-resume starts from the beginning.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/fresh" --resume auto
expect_in "$WORK/out" "no valid checkpoint in $WORK/fresh: starting run "
same_state "$reference" "$WORK/fresh/version_0/ckpt-000000120.h5"

# Retention: the newest 2, and each epoch's end (steps 60 and 120).
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/r" \
    --set checkpoint.keep=2 --set checkpoint.keep_every_epochs=1
[ "$(ls "$WORK/r/version_0" | tr '\n' ' ')" = "ckpt-000000060.h5 ckpt-000000100.h5 ckpt-000000120.h5 config.ini metrics.jsonl run_id " ] ||
    fail "retention kept: $(ls "$WORK/r/version_0" | tr '\n' ' ')"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/r1" --set checkpoint.keep=1
[ "$(ls "$WORK/r1/version_0" | grep ckpt)" = "ckpt-000000120.h5" ] || fail "keep = 1 kept: $(ls "$WORK/r1/version_0")"
finish crash
