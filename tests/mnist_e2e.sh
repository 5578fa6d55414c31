#!/usr/bin/env bash
# End to end on all of real MNIST at -np 2 (configs/test-e2e.ini, 4 epochs of 784-128-10):
# the final test accuracy must reach 97%.
source "$(dirname "$0")/lib.sh"
require_data
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-e2e.ini" --set data.path="$NN_DATA" \
    --set log.metrics="$WORK/m.jsonl"
cat "$WORK/out"
[ "$(metric "$WORK/m.jsonl" epoch epoch | tail -n 1)" = 4 ] || fail "the run did not log 4 epochs"
accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy | tail -n 1)
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.97) }' || fail "test accuracy $accuracy < 0.97"
echo "mnist_e2e: test accuracy $accuracy >= 0.97"
