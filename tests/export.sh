#!/usr/bin/env bash
# nn-mpi export CKPT -o FILE (.onnx, .npz), checked by tests/export_check.py with nothing of
# nn-mpi's: onnx.checker passes, opset 13 / IR 7, the nodes and initializers are the
# checkpoint's, and a numpy interpreter of the ONNX graph and the .npz's arrays give the
# outputs of a numpy forward pass of the checkpoint's HDF5 arrays on raw stored rows (max
# abs diff < 1e-5, same argmax), the preprocessing nodes bit for bit. Models: MNIST
# relu/cross_entropy (200 real test images as raw 0..255 floats) and tanh/mse; float32
# features with a `scale` attribute, /mean and /std (one std of 0) and sigmoid hidden
# units; regression (tanh/squared_error, two targets: linear outputs); the committed
# fixture tests/data/ckpt-v2-step2.h5 (no /preprocessing: the default 1/255). On each
# run's test split the ONNX outputs give nn-mpi's stored test accuracy (regression: test
# loss), and on MNIST's 10000 test images nn-mpi predict's probabilities. The same
# checkpoint exports to the same bytes.
# Refusals: a truncated and a bit-flipped checkpoint exit 1 with nn-mpi inspect's reason
# and leave no file; an unknown extension and a missing -o exit 2; an unwritable path
# exits 1 naming it.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's interpreter, with python3-numpy, python3-h5py, python3-onnx
"$PY" -c "import h5py, numpy, onnx" 2>/dev/null ||
    skip "export: needs Debian's python3-numpy, python3-h5py and python3-onnx (scripts/setup-deps.sh)"
require_data

# exported CKPT: $WORK/RUN-NAME for CKPT = .../RUN/version_N/NAME.h5 (or DIR/NAME.h5), the
# exports' path without the extension.
exported() {
    echo "$WORK/$(basename "$(dirname "$(dirname "$1")")")-$(basename "$1" .h5)"
}

# check CKPT DATA|- SPLIT ROWS [run-test-split]: exports CKPT both ways and checks the files.
check() {
    local name
    name=$(basename "$(exported "$1")")
    expect_status 0 "$NN_MPI" export "$1" -o "$WORK/$name.onnx"
    expect_in "$WORK/out" "wrote $WORK/$name.onnx: ONNX model (opset 13, IR version 7) of the"
    expect_status 0 "$NN_MPI" export "$1" --output "$WORK/$name.npz"
    expect_in "$WORK/out" "wrote $WORK/$name.npz: NumPy archive of the"
    "$PY" "$NN_SOURCE/tests/export_check.py" "$1" "$WORK/$name.onnx" "$WORK/$name.npz" "${@:2}" ||
        fail "$1: the exported files disagree with the checkpoint"
}

small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set data.train_samples=1000
       --set data.test_samples=200 --set train.epochs=1)

# MNIST, relu/cross_entropy: 200 real test images.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/relu"
relu=$(newest "$WORK/relu")
check "$relu" "$NN_DATA" test 200 run-test-split
# The same checkpoint, the same bytes.
for ext in onnx npz; do
    expect_status 0 "$NN_MPI" export "$relu" -o "$WORK/again.$ext"
    cmp -s "$WORK/again.$ext" "$(exported "$relu").$ext" || fail "two exports to .$ext differ"
done

# predict's probabilities on the 10000 test images equal the ONNX graph's, run by
# export_check.py's numpy interpreter (nothing of nn-mpi's), to float rounding.
expect_status 0 "$NN_MPI" predict "$relu" "$NN_DATA" -o "$WORK/predict.csv"
"$PY" - "$NN_SOURCE/tests" "$(exported "$relu").onnx" "$NN_DATA" "$WORK/predict.csv" <<'EOF' ||
import sys, csv, numpy as np, h5py, onnx
sys.path.insert(0, sys.argv[1])
from export_check import run_onnx
raw = h5py.File(sys.argv[3])["test/images"][...].astype(np.float32)
want, _ = run_onnx(onnx.load(sys.argv[2]), raw)
rows = list(csv.DictReader(open(sys.argv[4])))
got = np.array([[float(r[f"p{k}"]) for k in range(10)] for r in rows], np.float32)
assert got.shape == want.shape, (got.shape, want.shape)
diff = np.abs(got - want).max()
assert diff < 1e-5, diff
assert all(int(r["predicted"]) == k for r, k in zip(rows, want.argmax(1)))
print(f"predict and the ONNX graph agree on {len(rows)} test images (max diff {diff:.1e})")
EOF
    fail "predict's outputs differ from the exported ONNX graph's"

# MNIST, tanh/mse.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/tanh" \
    --set model.activation=tanh --set model.loss=mse
check "$(newest "$WORK/tanh")" "$NN_DATA" test 200 run-test-split

# float32 features stored as (x * std + mean) / 0.5 with scale 0.5, /mean and /std (feature 3
# constant, its std 0): the preprocessing nodes undo that; sigmoid hidden units.
"$PY" - "$WORK/blobs.h5" <<'EOF'
import sys, numpy as np, h5py
rng = np.random.default_rng(11)
F, K = 12, 3
centers = rng.normal(0.0, 2.0, (K, F))
mean = rng.normal(0.0, 50.0, F).astype(np.float32)
std = rng.uniform(0.5, 20.0, F).astype(np.float32)
std[3] = 0
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "nn-mpi dataset"
    f.attrs["format_version"] = 2
    for split, n in (("train", 600), ("test", 200)):
        y = rng.integers(0, K, n)
        x = centers[y] + rng.normal(0.0, 1.0, (n, F))
        x[:, 3] = 0
        f[f"{split}/images"] = ((x * std + mean) / 0.5).astype(np.float32)
        f[f"{split}/images"].attrs["scale"] = np.float32(0.5)
        f[f"{split}/labels"] = y.astype(np.int64)
    f["mean"] = mean
    f["std"] = std
EOF
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set data.path="$WORK/blobs.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set model.hidden=16 \
    --set model.activation=sigmoid --set run.dir="$WORK/blobs"
blobs=$(newest "$WORK/blobs")
check "$blobs" "$WORK/blobs.h5" test 200 run-test-split
"$PY" - "$(exported "$blobs").onnx" <<'EOF' || fail "the preprocessing nodes of the float model are wrong"
import sys, onnx
g = onnx.load(sys.argv[1]).graph
pre = [(n.op_type, list(n.input)) for n in g.node[:3]]
assert pre == [("Mul", ["input", "preprocess/scale"]), ("Sub", ["preprocess/scaled", "preprocess/mean"]),
               ("Div", ["preprocess/centered", "preprocess/std"])], pre
meta = {p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}
assert meta["feature_type"] == "float32" and meta["classes"] == "3", meta
EOF

# Regression: 6 float features, two targets, linear outputs.
"$PY" - "$WORK/targets.h5" <<'EOF'
import sys, numpy as np, h5py
rng = np.random.default_rng(12)
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "nn-mpi dataset"
    f.attrs["format_version"] = 2
    for split, n in (("train", 600), ("test", 200)):
        x = rng.normal(0.0, 1.0, (n, 6)).astype(np.float32)
        f[f"{split}/images"] = x
        f[f"{split}/targets"] = np.stack([np.sin(x[:, 0]) + x[:, 1] / 2, x[:, 2] * x[:, 3]], 1).astype(np.float32)
EOF
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set data.path="$WORK/targets.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set model.hidden=16,8 \
    --set model.activation=tanh --set model.loss=squared_error --set run.dir="$WORK/targets"
expect_in "$WORK/out" "model 6-16-8-2 tanh/squared_error"
check "$(newest "$WORK/targets")" "$WORK/targets.h5" test 200 run-test-split

# The committed fixture without /preprocessing (uint8 / 255), on random raw rows.
check "$NN_SOURCE/tests/data/ckpt-v2-step2.h5" - - 50

# Refusals. A damaged checkpoint: nn-mpi inspect's reason, exit 1, no file, no temporary.
cp "$relu" "$WORK/truncated.h5"
truncate -s 30000 "$WORK/truncated.h5"
cp "$relu" "$WORK/flipped.h5"
offset=$(h5dump -p -H -d /model/layer_0/weights "$WORK/flipped.h5" | awk '/OFFSET/ { print $2 }')
printf '\x55' | dd of="$WORK/flipped.h5" bs=1 seek=$((offset + 1000)) conv=notrunc 2>/dev/null
for damaged in truncated flipped; do
    "$NN_MPI" inspect "$WORK/$damaged.h5" >"$WORK/inspect" && fail "inspect accepts $damaged.h5"
    reason=$(sed -n 's/.*: INVALID: //p' "$WORK/inspect")
    [ -n "$reason" ] || fail "no reason from inspect for $damaged.h5"
    for ext in onnx npz; do
        expect_status 1 "$NN_MPI" export "$WORK/$damaged.h5" -o "$WORK/out-$damaged.$ext"
        expect_in "$WORK/err" "nn-mpi export: $reason"
        ls "$WORK"/out-"$damaged".* >/dev/null 2>&1 && fail "a file was left for $damaged.h5"
    done
done
expect_in "$WORK/err" "checksum mismatch"
expect_status 1 "$NN_MPI" export "$WORK/missing.h5" -o "$WORK/m.onnx"
expect_in "$WORK/err" "$WORK/missing.h5"
# Bad usage: exit 2 before the checkpoint is read.
expect_status 2 "$NN_MPI" export "$relu" -o "$WORK/model.pt"
expect_in "$WORK/err" "$WORK/model.pt: unknown output format: the file name must end in .onnx or .npz"
expect_status 2 "$NN_MPI" export "$relu"
expect_in "$WORK/err" "no output file given"
expect_status 2 "$NN_MPI" export -o "$WORK/m.onnx"
expect_status 2 "$NN_MPI" export "$relu" -o
ls "$WORK"/model.* "$WORK"/m.* >/dev/null 2>&1 && fail "a refused export left a file"
# A path that cannot be written: exit 1 naming it, nothing left.
for ext in onnx npz; do
    expect_status 1 "$NN_MPI" export "$relu" -o "$WORK/no/such/dir/model.$ext"
    expect_in "$WORK/err" "$WORK/no/such/dir/model.$ext"
done
expect_status 0 "$NN_MPI" export --help
expect_in "$WORK/out" "opset 13"
expect_status 0 "$NN_MPI" --help
expect_in "$WORK/out" "nn-mpi export CHECKPOINT -o FILE.onnx|FILE.npz"
finish export
