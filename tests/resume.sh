#!/usr/bin/env bash
# Checkpoint and resume on real MNIST (configs/test-small.ini): resuming at the same rank
# count, from the end of an epoch or mid-epoch, gives bitwise the weights and optimizer
# state of the uninterrupted run (compared with h5diff); checkpoints are readable by h5dump;
# a resume at another rank count continues; an incompatible resume is refused; older
# nn-mpi's checkpoints (formats 2 and 3) resume exactly.
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0)

# The uninterrupted run: 2 epochs of 60 steps, checkpoints every 20 steps.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/a" \
    --set log.metrics="$WORK/a.jsonl"
for s in 020 040 060 080 100 120; do [ -f "$WORK/a/version_0/ckpt-000000$s.h5" ] || fail "no checkpoint at step $s"; done
[ "$(ls "$WORK/a/version_0" | tr '\n' ' ')" = "ckpt-000000020.h5 ckpt-000000040.h5 ckpt-000000060.h5 ckpt-000000080.h5 ckpt-000000100.h5 ckpt-000000120.h5 config.ini run_id " ] ||
    fail "unexpected files in the run's directory: $(ls "$WORK/a/version_0")"

# h5dump reads every part of a checkpoint.
h5dump -A "$WORK/a/version_0/ckpt-000000060.h5" >"$WORK/dump" || fail "h5dump cannot read a checkpoint"
for text in 'GROUP "model"' 'GROUP "optimizer"' 'GROUP "train"' 'ATTRIBUTE "epochs_done"' \
    'ATTRIBUTE "format_version"' 'ATTRIBUTE "nranks"' '(0): 784, 64, 32, 10' 'hidden = 64, 32' \
    'DATASET "weights_velocity"'; do
    expect_in "$WORK/dump" "$text"
done
h5dump -d /model/layer_2/biases "$WORK/a/version_0/ckpt-000000060.h5" >/dev/null || fail "h5dump cannot read biases"

# Resume from several points: the middle of epoch 1 (steps 20 and 40 of 60), its end, and
# the middle of epoch 2.
for from in 020 060 100 040; do
    expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/r$from" \
        --resume "$WORK/a/version_0/ckpt-000000$from.h5"
    same_state "$WORK/a/version_0/ckpt-000000120.h5" "$WORK/r$from/version_0/ckpt-000000120.h5"
done
expect_in "$WORK/out" "resuming from $WORK/a/version_0/ckpt-000000040.h5 at epoch 1 step 40 (written by 2 ranks)"

# Literally 1 epoch, then resume with 2: with a constant rate the epoch count does not
# enter the updates, so this equals 2 epochs straight.
constant=(--set train.lr_schedule=constant --set checkpoint.every_steps=0)
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" "${constant[@]}" --set run.dir="$WORK/c2"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" "${constant[@]}" --set run.dir="$WORK/c1" \
    --set train.epochs=1 --set log.metrics="$WORK/c.jsonl"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" "${constant[@]}" --set run.dir="$WORK/c1" \
    --resume "$WORK/c1/version_0/ckpt-000000060.h5" --set log.metrics="$WORK/c.jsonl"
same_state "$WORK/c2/version_0/ckpt-000000120.h5" "$WORK/c1/version_0/ckpt-000000120.h5"
[ "$(metric "$WORK/c.jsonl" epoch epoch | tr '\n' ' ')" = "1 2 " ] || fail "resume did not append to the metrics file"

# A resume at another rank count continues the same sample order; the weights agree up to
# float rounding.
expect_status 0 mpi 3 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/e3" \
    --resume "$WORK/a/version_0/ckpt-000000040.h5"
h5diff -d 1e-4 "$WORK/a/version_0/ckpt-000000120.h5" "$WORK/e3/version_0/ckpt-000000120.h5" /model /model ||
    fail "a resume at 3 ranks drifted from the 2-rank run"

# More epochs than the checkpoint's run: training continues with epoch 3.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/x" \
    --set train.epochs=3 --resume "$WORK/a/version_0/ckpt-000000120.h5"
expect_in "$WORK/out" "epoch 3/3 done"
[ -f "$WORK/x/version_0/ckpt-000000180.h5" ] || fail "no checkpoint after the added epoch"
# Nothing left to do is not an error.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/x" \
    --resume "$WORK/a/version_0/ckpt-000000120.h5"
expect_in "$WORK/out" "nothing to do: the checkpoint has 2 of 2 epochs done"

# Refused before any data is loaded (status 2): another architecture, another seed; a
# damaged or missing file fails (status 1).
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set model.hidden=32 --set run.dir="$WORK/y" \
    --resume "$WORK/a/version_0/ckpt-000000060.h5"
expect_in "$WORK/err" "rank 0: $WORK/a/version_0/ckpt-000000060.h5: [model] hidden is 64, 32 in the checkpoint but 32 in this run; it cannot change on resume"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set train.seed=8 --set run.dir="$WORK/y" \
    --resume "$WORK/a/version_0/ckpt-000000060.h5"
expect_in "$WORK/err" "[train] seed is 7 in the checkpoint but 8 in this run"
head -c 20000 "$WORK/a/version_0/ckpt-000000060.h5" >"$WORK/cut.h5"
expect_status 1 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/y" --resume "$WORK/cut.h5"
expect_in "$WORK/err" "rank 0: $WORK/cut.h5: not an HDF5 file, or damaged"
expect_status 1 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/y" --resume "$WORK/none.h5"
expect_in "$WORK/err" "rank 0: $WORK/none.h5: cannot open checkpoint: No such file or directory"
# A checkpoint of an older nn-mpi (format 2, written by 97fc29f at step 2 of a 784-4-10 run
# with 100 training rows, batch 50) still loads and resumes bit for bit: the new run ends
# on the weights the older nn-mpi wrote at step 4, in a version_N with a new run id.
old=(--set model.hidden=4 --set data.train_samples=100 --set data.test_samples=50
     --set train.epochs=2 --set train.batch_size=50 --set checkpoint.every_steps=0)
expect_status 0 "$NN_MPI" --inspect "$NN_SOURCE/tests/data/ckpt-v2-step2.h5"
expect_in "$WORK/out" "position: 1 epochs done, 0 steps into the next"
expect_status 0 mpi 1 "$NN_MPI" "${small[@]}" "${old[@]}" --set run.dir="$WORK/v2" \
    --resume "$NN_SOURCE/tests/data/ckpt-v2-step2.h5"
same_state "$NN_SOURCE/tests/data/ckpt-v2-step4.h5" "$WORK/v2/version_0/ckpt-000000004.h5"
[ -s "$WORK/v2/version_0/run_id" ] || fail "the resumed older run got no run id"
# The same with format 3 (written by 1980978, the last nn-mpi before optimizer state
# beyond SGD's velocity, in the same run), into a format 4 checkpoint.
expect_status 0 mpi 1 "$NN_MPI" "${small[@]}" "${old[@]}" --set run.dir="$WORK/v3" \
    --resume "$NN_SOURCE/tests/data/ckpt-v3-step2.h5"
same_state "$NN_SOURCE/tests/data/ckpt-v3-step4.h5" "$WORK/v3/version_0/ckpt-000000004.h5"
h5dump -a /format_version "$WORK/v3/version_0/ckpt-000000004.h5" | grep -q '(0): 4' ||
    fail "the resumed run did not write format 4"
finish resume
