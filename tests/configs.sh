#!/usr/bin/env bash
# The shipped configs run as shipped: each of configs/*.ini passes a dry run at -np 2 on its
# dataset (MNIST; Fashion-MNIST from Debian's dataset-fashion-mnist, converted by
# scripts/get-fashion-mnist.sh), and configs/mnist-best.ini and configs/fashion-mnist.ini
# train one short epoch with every feature they use (augmentation, dropout, max-norm,
# warm-up, label smoothing), in reproducible mode by default at -np 2 (2 chunks of 64),
# not at -np 3. Their full accuracy is bench/configs.sh's (bench/RESULTS.md).
source "$(dirname "$0")/lib.sh"
require_data
fashion=$WORK/fashion-mnist.h5
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    expect_status 0 env NN_MPI_DATA="$NN_MPI_DATA" "$NN_SOURCE/scripts/get-fashion-mnist.sh" "$fashion"
    [ -f "$fashion" ] || fail "scripts/get-fashion-mnist.sh wrote no $fashion"
else
    skip_part "configs/fashion-mnist.ini: /usr/share/datasets/fashion-mnist is missing"
fi

cd "$WORK"
for config in "$NN_SOURCE"/configs/*.ini; do
    name=$(basename "$config" .ini)
    data=$NN_DATA
    case $name in fashion-mnist) [ -f "$fashion" ] || continue; data=$fashion ;; esac
    expect_status 0 mpi 2 "$NN_MPI" train "$config" --set data.path="$data" --dry-run
    expect_in "$WORK/out" "dry run: nothing is written"
    echo "configs: $name passes the dry run"
done

# One short epoch of each: 4096 training and 1000 test samples.
short=(--set data.train_samples=4096 --set data.test_samples=1000 --set train.epochs=1
       --set run.dir= --set log.metrics="$WORK/m.jsonl")
expect_status 0 mpi 2 "$NN_MPI" train "$NN_SOURCE/configs/mnist-best.ini" --set data.path="$NN_DATA" "${short[@]}"
expect_in "$WORK/out" "model 784-1024-1024-10 relu/cross_entropy"
expect_in "$WORK/out" "reproducible: exact sums of 2 chunks of 64 samples a batch"
accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy)
at_least "$accuracy" 0.5 "configs/mnist-best.ini: test accuracy after one epoch on 4096 images (all of it warm-up)"
echo "configs: mnist-best, one epoch on 4096 images: test accuracy $accuracy"
rm -f "$WORK/m.jsonl"
expect_status 0 mpi 3 "$NN_MPI" train "$NN_SOURCE/configs/mnist-best.ini" --set data.path="$NN_DATA" \
    "${short[@]}" --set train.epochs=1
expect_in "$WORK/out" "not reproducible: float sums"
expect_in "$WORK/out" "sums exactly on up to 2 ranks"
if [ -f "$fashion" ]; then
    rm -f "$WORK/m.jsonl"
    expect_status 0 mpi 2 "$NN_MPI" train "$NN_SOURCE/configs/fashion-mnist.ini" --set data.path="$fashion" "${short[@]}"
    accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy)
    at_least "$accuracy" 0.70 "configs/fashion-mnist.ini: test accuracy after one epoch on 4096 images"
    echo "configs: fashion-mnist, one epoch on 4096 images: test accuracy $accuracy"
fi
finish configs
