#!/usr/bin/env bash
# Runs at -np 1, 3 and 4 from the same seed log the same loss trajectory up to float
# rounding (configs/test-small.ini: 120 steps, a loss line every 10 steps).
source "$(dirname "$0")/lib.sh"
require_data
for np in 1 3 4; do
    expect_status 0 mpi $np "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" \
        --set run.dir= --set log.metrics="$WORK/np$np.jsonl"
    metric "$WORK/np$np.jsonl" train train_loss >"$WORK/loss$np"
    metric "$WORK/np$np.jsonl" epoch test_accuracy >"$WORK/acc$np"
done
for np in 3 4; do
    lines_close "$WORK/loss1" "$WORK/loss$np" 1e-4 12 "losses at np $np vs np 1"
    # 0.25% of an accuracy near 0.9: 2 of the 1000 test images.
    lines_close "$WORK/acc1" "$WORK/acc$np" 0.0025 2 "test accuracy at np $np vs np 1"
done
finish trajectory
