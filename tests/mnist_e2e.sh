#!/usr/bin/env bash
# End to end on real MNIST at -np 2 (configs/test-e2e.ini: 784-128-10 ReLU, momentum 0.9):
# - the update itself: with weight decay on (0.005) and a constant learning rate, the first
#   5 step losses equal those of the independent numpy implementation (bench/mlp_numpy.py,
#   network "e2e", the documented v = momentum*v + g + weight_decay*w, w -= lr*v) to 1e-5
#   relative, so that a run that ignores momentum or weight decay fails here;
# - 4 epochs on all of MNIST reach 97% test accuracy.
source "$(dirname "$0")/lib.sh"
require_data
e2e=("$NN_SOURCE/configs/test-e2e.ini" --set data.path="$NN_DATA")

reference_losses e2e 5 "$WORK/numpy"
expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set train.weight_decay=0.005 \
    --set train.lr_schedule=constant --set train.epochs=1 --set data.train_samples=1280 \
    --set data.test_samples=100 --set log.every_steps=1 --set log.metrics="$WORK/steps.jsonl"
metric "$WORK/steps.jsonl" train train_loss | head -n 5 >"$WORK/nn"
lines_close "$WORK/numpy" "$WORK/nn" 1e-5 5 "first step losses with momentum and weight decay vs numpy"

expect_status 0 mpi 2 "$NN_MPI" "${e2e[@]}" --set log.metrics="$WORK/m.jsonl"
cat "$WORK/out"
[ "$(metric "$WORK/m.jsonl" epoch epoch | tail -n 1)" = 4 ] || fail "the run did not log 4 epochs"
accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy | tail -n 1)
at_least "$accuracy" 0.97 "test accuracy after 4 epochs"
echo "mnist_e2e: test accuracy $accuracy >= 0.97"
finish mnist_e2e
