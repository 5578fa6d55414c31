#!/usr/bin/env bash
# nn-mpi train --dry-run: checks what a real run checks and writes nothing. On MNIST at 2
# ranks it prints the resolved config, the model's layers and parameters, memory, the
# splits, the schedule and a time estimate that is within 2x of the real epoch time (the
# same config trained for 2 epochs right after; the second epoch's wall time, evaluation and
# checkpoint included); the file system is untouched (a listing and checksums of the run
# directory and the working directory before and after); a resume is checked and named; a
# refused start (a directory holding another run) and a bad config exit as a real run would.
source "$(dirname "$0")/lib.sh"
require_data
AREA=$WORK/area # the working directory and the run directory's parent, watched
mkdir "$AREA"
cd "$AREA"
run=("$NN_SOURCE/configs/mnist.ini" --set data.path="$NN_DATA" --set run.dir="$AREA/runs"
     --set train.epochs=2)
snapshot() { find "$AREA" -print0 | xargs -0 ls -ld --time-style=+%s.%N | sort; find "$AREA" -type f -exec md5sum {} + | sort; }

snapshot >"$WORK/before"
expect_status 0 mpi 2 "$NN_MPI" train "${run[@]}" --dry-run
cp "$WORK/out" "$WORK/dry.out"
snapshot >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "the dry run touched the file system: $(diff "$WORK/before" "$WORK/after" | head -5)"
[ ! -e "$AREA/runs" ] || fail "the dry run created the run directory"
for text in "dry run: nothing is written" "resolved config:" "hidden = 512, 256" \
    "model: 784-512-256-10 relu/cross_entropy" "layer 0: 784 -> 512, relu, 401920 parameters" \
    "layer 2: 256 -> 10, softmax, 2570 parameters" "535818 parameters" "memory: " \
    "data: $NN_DATA: 60000 training samples (an epoch), 0 validation, 10000 test" \
    "schedule: 2 epochs of 469 steps of 128 samples (the global batch) on 2 ranks" \
    "run directory: $AREA/runs/version_0 would be created" "estimate: "; do
    expect_in "$WORK/dry.out" "$text"
done

# The real run, then the estimate against its second epoch.
expect_status 0 mpi 2 "$NN_MPI" train "${run[@]}" --set log.metrics="$WORK/m.jsonl"
estimate=$(sed -nE 's/^estimate: ([0-9.]+) s .*/\1/p' "$WORK/dry.out")
actual=$(metric "$WORK/m.jsonl" epoch elapsed_sec | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }')
awk -v e="$estimate" -v a="$actual" 'BEGIN { exit !(e > 0 && a > 0 && e <= 2 * a && a <= 2 * e) }' ||
    fail "the estimate of $estimate s per epoch is not within 2x of the real $actual s"
echo "estimate $estimate s per epoch, real $actual s"

# A resume is checked and named, still without writing.
snapshot >"$WORK/before"
expect_status 0 mpi 2 "$NN_MPI" train "${run[@]}" --set train.epochs=3 --resume auto --dry-run
expect_in "$WORK/out" "run directory: $AREA/runs/version_0, resuming from $AREA/runs/version_0/ckpt-000000938.h5 at epoch 3 step 0"
expect_in "$WORK/out" "for the 1 epoch to go"
snapshot >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "the dry resume touched the file system: $(diff "$WORK/before" "$WORK/after" | head -5)"

# Refusals exit as the real run would: a fresh start over another run (2), a bad key (2),
# a resume that changes a fixed setting (2), missing data (1).
expect_status 2 mpi 2 "$NN_MPI" train "${run[@]}" --dry-run
expect_in "$WORK/err" "holds another run"
expect_status 2 mpi 2 "$NN_MPI" train "${run[@]}" --set train.epoch=3 --dry-run
expect_status 2 mpi 2 "$NN_MPI" train "${run[@]}" --set model.hidden=128 --resume auto --dry-run
expect_in "$WORK/err" "[model] hidden"
expect_status 1 mpi 2 "$NN_MPI" train "${run[@]}" --set data.path="$WORK/none.h5" --dry-run
expect_in "$WORK/err" "$WORK/none.h5: cannot open"
snapshot >"$WORK/after2"
cmp -s "$WORK/after" "$WORK/after2" || fail "a refused dry run touched the file system"
echo "dry_run: all checks passed"
