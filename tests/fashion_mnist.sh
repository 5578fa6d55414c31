#!/usr/bin/env bash
# The converter on Fashion-MNIST's real gzipped IDX files (Debian's dataset-fashion-mnist),
# then one epoch of training on the result at -np 2.
source "$(dirname "$0")/lib.sh"
src=/usr/share/datasets/fashion-mnist
[ -r "$src/train-images-idx3-ubyte.gz" ] || fail "$src is missing: install dataset-fashion-mnist"
expect_status 0 "$NN_MPI_DATA" --source "Fashion-MNIST" "$src" "$WORK/fashion.h5"
expect_in "$WORK/out" "60000 train and 10000 test images of 28x28"
h5dump -H "$WORK/fashion.h5" >"$WORK/dump"
expect_in "$WORK/dump" "( 60000, 784 )"
expect_in "$WORK/dump" "( 10000 )"
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-e2e.ini" --set data.path="$WORK/fashion.h5" \
    --set train.epochs=1 --set log.metrics="$WORK/m.jsonl"
accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy)
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.80) }' || fail "Fashion-MNIST accuracy $accuracy < 0.80"
echo "fashion_mnist: one epoch reaches test accuracy $accuracy"
