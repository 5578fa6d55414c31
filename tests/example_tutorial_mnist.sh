#!/usr/bin/env bash
# configs/tutorial.ini, the tutorial's MNIST network (examples/README.md): the config is
# the tutorial's (784-50-10, sigmoid, softmax with cross-entropy, batch 100, rate 0.1, no
# momentum) and its 20 epochs reach at least 95% test accuracy at -np 1 and at -np 4 (4
# ranks on however many cores; 95.19% measured at both, 3 to 4 s each on 2 cores).
source "$(dirname "$0")/lib.sh"
require_data
CONFIG="$NN_SOURCE/configs/tutorial.ini"

for np in 1 4; do
    expect_status 0 mpi $np "$NN_MPI" "$CONFIG" --set data.path="$NN_DATA" \
        --set run.dir="$WORK/run$np" --set log.progress=none
    expect_in "$WORK/out" "model 784-50-10 sigmoid/cross_entropy (39760 parameters), 60000 train"
    expect_in "$WORK/out" "batch 100 (600 steps per epoch)"
    expect_in "$WORK/out" "epoch 20/20 done"
    for setting in "learning_rate = 0.1" "lr_schedule = constant" "momentum = 0" \
        "weight_decay = 0" "batch_size = 100" "epochs = 20"; do
        grep -qxF "$setting" "$WORK/run$np/version_0/config.ini" ||
            fail "np $np: the run's config.ini has no line '$setting'"
    done
    accuracy=$(metric "$WORK/run$np/version_0/metrics.jsonl" epoch test_accuracy | tail -n 1)
    at_least "$accuracy" 0.95 "np $np: test accuracy after 20 epochs"
    echo "np $np: test accuracy $accuracy after 20 epochs"
done
finish example_tutorial_mnist
