#!/usr/bin/env bash
# Elastic resume (configs/test-small.ini): a checkpoint written mid-epoch at -np 4 resumes
# at -np 1, 2 and 3, and at -np 4 with the ranks grouped as two nodes of 2 (so that the
# restored weights travel between "nodes", nn_reduce.h); each run visits the samples in the
# same order (its logged losses match the uninterrupted -np 4 run's) and ends with the same
# weights up to float rounding.
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0)

expect_status 0 mpi 4 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/np4" \
    --set log.metrics="$WORK/np4.jsonl"
metric "$WORK/np4.jsonl" train train_loss | tail -n +5 >"$WORK/loss4" # after step 40
for np in 1 2 3 4; do
    if [ $np = 4 ]; then export NN_MPI_TEST_RANKS_PER_NODE=2; fi
    cp "$WORK/np4/version_0/ckpt-000000040.h5" "$WORK/start$np.h5"
    expect_status 0 mpi $np "$NN_MPI" "${small[@]}" --set run.dir="$WORK/np${np}b" \
        --set log.metrics="$WORK/np${np}b.jsonl" --resume "$WORK/start$np.h5"
    expect_in "$WORK/out" "at epoch 1 step 40 (written by 4 ranks)"
    metric "$WORK/np${np}b.jsonl" train train_loss >"$WORK/resumed$np"
    lines_close "$WORK/loss4" "$WORK/resumed$np" 1e-4 8 "losses resumed at np $np vs np 4"
    h5diff -d 1e-4 "$WORK/np4/version_0/ckpt-000000120.h5" "$WORK/np${np}b/version_0/ckpt-000000120.h5" /model /model \
        >/dev/null || fail "np $np ended with other weights than np 4"
done
finish elastic
