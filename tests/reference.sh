#!/usr/bin/env bash
# nn-mpi against an independent implementation: bench/mlp_numpy.py (the classic numpy
# tutorial recipe), started from nn-mpi's initial weights and sample order, must compute
# the same first 5 step losses as nn-mpi at -np 3, for networks A (784-50-10 sigmoid,
# batch 100) and B (784-512-512-10 ReLU, momentum 0.9, batch 128), to 1e-5 relative.
source "$(dirname "$0")/lib.sh"
require_data
settings() {
    case $1 in
    A) echo "--set model.hidden=50 --set model.activation=sigmoid --set train.batch_size=100
             --set train.learning_rate=0.1 --set train.momentum=0 --set train.weight_decay=0
             --set data.train_samples=2000" ;;
    B) echo "--set model.hidden=512,512 --set model.activation=relu --set train.batch_size=128
             --set train.learning_rate=0.05 --set train.momentum=0.9 --set train.weight_decay=0
             --set data.train_samples=2560" ;;
    esac
}
for net in A B; do
    reference_losses $net 5 "$WORK/numpy"
    # shellcheck disable=SC2046 # the settings are words
    expect_status 0 mpi 3 "$NN_MPI" "$NN_SOURCE/configs/mnist.ini" --set data.path="$NN_DATA" \
        $(settings $net) --set train.lr_schedule=constant --set train.seed=1 --set train.epochs=1 \
        --set data.test_samples=100 --set log.every_steps=1 --set run.dir= \
        --set log.metrics="$WORK/nn$net.jsonl"
    metric "$WORK/nn$net.jsonl" train train_loss | head -n 5 >"$WORK/nn"
    lines_close "$WORK/numpy" "$WORK/nn" 1e-5 5 "network $net: nn-mpi's first step losses vs numpy's"
done
finish reference
