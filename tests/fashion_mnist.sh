#!/usr/bin/env bash
# The converter on Fashion-MNIST's real gzipped IDX files (Debian's dataset-fashion-mnist):
# the dataset file holds exactly the source's pixels and labels, in order, for train and
# test (read back with h5py, against the IDX files unpacked by Python's gzip module); then
# one epoch of training on the result at -np 2 reaches 80%.
source "$(dirname "$0")/lib.sh"
src=/usr/share/datasets/fashion-mnist
[ -r "$src/train-images-idx3-ubyte.gz" ] || skip "$src is missing: install dataset-fashion-mnist"
expect_status 0 "$NN_MPI_DATA" --source "Fashion-MNIST" "$src" "$WORK/fashion.h5"
expect_in "$WORK/out" "60000 train and 10000 test images of 28x28"
# shellcheck disable=SC2016 # Python's text
/usr/bin/python3 - "$src" "$WORK/fashion.h5" <<'PYTHON' || fail "the dataset file differs from the IDX source"
import gzip, sys
import h5py
import numpy as np

src, out = sys.argv[1:]

def idx(name, dims):
    """An IDX file's unsigned bytes, shaped from its header (magic 0x0000080N)."""
    with gzip.open(f"{src}/{name}-idx{dims}-ubyte.gz") as f:
        raw = f.read()
    assert raw[:3] == b"\0\0\x08" and raw[3] == dims, name
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    assert data.size == np.prod(shape), name
    return data.reshape(shape[0], -1) if dims == 3 else data

bad = 0
with h5py.File(out, "r") as f:
    for split, prefix in (("train", "train"), ("test", "t10k")):
        for what, dims in (("images", 3), ("labels", 1)):
            want = idx(f"{prefix}-{what}", dims)
            got = f[f"/{split}/{what}"][...]
            same = got.shape == want.shape and np.array_equal(got, want)
            print(f"/{split}/{what} {got.shape} {got.dtype}:", "equal to the source" if same else
                  f"DIFFERS from {prefix}-{what} {want.shape}")
            bad += not same
sys.exit(bad)
PYTHON
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-e2e.ini" --set data.path="$WORK/fashion.h5" \
    --set train.epochs=1 --set log.metrics="$WORK/m.jsonl"
accuracy=$(metric "$WORK/m.jsonl" epoch test_accuracy)
at_least "$accuracy" 0.80 "Fashion-MNIST test accuracy after one epoch"
echo "fashion_mnist: one epoch reaches test accuracy $accuracy"
finish fashion_mnist
