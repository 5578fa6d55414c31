#!/usr/bin/env bash
# Regression ([model] loss = squared_error) on files written here with h5py: 8 float32
# features ~ N(0, 1) and a smooth target y = sin(2 x0) + x1 x2 / 2 + x3^2 / 4 - x4 / 2 with
# no noise, so that a network that learns it reaches R^2 near 1 (a linear fit reaches about
# 0.3). Checks: test R^2 >= 0.95 at -np 1 and -np 3 (plain mode); the logged RMSE, MAE and
# R^2 equal numpy's from the final checkpoint's weights; reproducible mode gives the same
# bits at -np 1 and 3 (weights and every logged number) and a resume at another rank count
# ends on them; two targets per row train too (R^2 over both); mismatched loss and data,
# the accuracy monitor, a NaN target and missing targets in a split are refused with a
# message naming the file, dataset and row.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c "import h5py, numpy" 2>/dev/null || { echo "regression: needs python3-h5py and python3-numpy: skipped"; exit 77; }

"$PY" - "$WORK" <<'EOF'
import sys, numpy as np, h5py
out = sys.argv[1]
rng = np.random.default_rng(11)
F = 8
def target(x):
    return np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] / 2 + x[:, 3] ** 2 / 4 - x[:, 4] / 2
def rows(n):
    x = rng.normal(0.0, 1.0, (n, F)).astype(np.float32)
    return x, target(x.astype(np.float64))
splits = {"train": rows(8000), "test": rows(1000)}
def write(name, targets=lambda x, y: y.astype(np.float32), mutate=None):
    with h5py.File(f"{out}/{name}.h5", "w") as f:
        f.attrs["format"] = "nn-mpi dataset"
        f.attrs["format_version"] = 2
        for split, (x, y) in splits.items():
            f[f"{split}/images"] = x
            f[f"{split}/targets"] = targets(x, y)
        if mutate:
            mutate(f)
write("smooth")
# Two targets: the smooth one and a second, 1 - x5 x6 / 2 (float64 on disk: read as float32).
write("two", targets=lambda x, y: np.stack([y, 1 - x[:, 5].astype(np.float64) * x[:, 6] / 2], 1))
def nan_target(f):
    t = f["train/targets"][...]; t[4321] = np.nan
    del f["train/targets"]; f["train/targets"] = t
write("nan", mutate=nan_target)
def no_test_targets(f):
    y = f["test/targets"][...]; del f["test/targets"]
    f["test/labels"] = np.zeros(len(y), np.int64)
write("mixed", mutate=no_test_targets)
EOF

base=("$NN_SOURCE/configs/test-small.ini" --set data.train_samples=0 --set data.test_samples=0
      --set model.hidden=64,64 --set model.activation=tanh --set model.loss=squared_error
      --set train.epochs=8 --set train.batch_size=64 --set train.learning_rate=0.05
      --set checkpoint.every_steps=0 --set checkpoint.keep=0 --set log.every_steps=1000)
rep=(--set train.reproducible=yes --set train.chunk_size=16)
final=version_0/ckpt-000001000.h5

# numpy_errors CHECKPOINT DATA: "rmse mae r2" of the checkpoint's weights on the test split,
# computed with numpy in float64 from the HDF5 arrays (an independent forward pass).
numpy_errors() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, numpy as np, h5py
with h5py.File(sys.argv[1]) as ck, h5py.File(sys.argv[2]) as data:
    a = data["test/images"][...].astype(np.float64)
    t = data["test/targets"][...].astype(np.float64).reshape(len(a), -1)
    layers = len(ck["model"]) 
    for l in range(layers):
        w = ck[f"model/layer_{l}/weights"][...].astype(np.float64)
        b = ck[f"model/layer_{l}/biases"][...].astype(np.float64)
        a = a @ w.T + b
        if l < layers - 1:
            a = np.tanh(a)
    e = a - t
    r2 = 1 - (e ** 2).sum() / ((t - t.mean(0)) ** 2).sum()
    print(f"{np.sqrt((e ** 2).mean()):.9g} {np.abs(e).mean():.9g} {r2:.9g}")
EOF
}

# Plain mode at 1 and 3 ranks: the documented R^2, the model line, the errors numpy sees.
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${base[@]}" --set data.path="$WORK/smooth.h5" \
        --set run.dir="$WORK/plain$np" --set log.metrics="$WORK/plain$np.jsonl"
    expect_in "$WORK/out" "model 8-64-64-1 tanh/squared_error"
    expect_in "$WORK/out" "test_rmse"
    grep -q "accuracy" "$WORK/out" && fail "a regression run logged an accuracy"
    r2=$(metric "$WORK/plain$np.jsonl" epoch test_r2 | tail -n 1)
    at_least "$r2" 0.95 "np $np: test R^2"
    read -r rmse mae r2_numpy < <(numpy_errors "$WORK/plain$np/$final" "$WORK/smooth.h5")
    close_enough "$rmse" "$(metric "$WORK/plain$np.jsonl" epoch test_rmse | tail -n 1)" 1e-5 ||
        fail "np $np: logged RMSE differs from numpy's $rmse"
    close_enough "$mae" "$(metric "$WORK/plain$np.jsonl" epoch test_mae | tail -n 1)" 1e-5 ||
        fail "np $np: logged MAE differs from numpy's $mae"
    close_enough "$r2_numpy" "$r2" 1e-5 || fail "np $np: logged R^2 $r2, numpy's $r2_numpy"
    echo "np $np: test R^2 $r2 (numpy $r2_numpy), RMSE $rmse, MAE $mae"
done
"$NN_MPI" inspect "$WORK/plain3/$final" >"$WORK/inspect" || fail "inspect failed"
expect_in "$WORK/inspect" "model: 8-64-64-1 tanh/squared_error"
expect_in "$WORK/inspect" "targets = 1"

# Reproducible mode: the same bits at 1 and 3 ranks, every logged number included; a resume
# at 2 ranks from epoch 3 of the 3-rank run ends on the same bits.
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/smooth.h5" \
        --set run.dir="$WORK/rep$np" --set log.metrics="$WORK/rep$np.jsonl"
done
same_state "$WORK/rep1/$final" "$WORK/rep3/$final"
strip() { grep '"event":"epoch"' "$1" | sed -E 's/"run":"[^"]*",//; s/,"samples_per_sec".*//'; }
cmp -s <(strip "$WORK/rep1.jsonl") <(strip "$WORK/rep3.jsonl") ||
    fail "reproducible epochs differ between 1 and 3 ranks: $(diff <(strip "$WORK/rep1.jsonl") <(strip "$WORK/rep3.jsonl") | head -4)"
expect_status 0 mpi 2 "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/smooth.h5" \
    --set run.dir="$WORK/resumed" --resume "$WORK/rep3/version_0/ckpt-000000375.h5"
expect_in "$WORK/out" "resuming from $WORK/rep3/version_0/ckpt-000000375.h5"
same_state "$WORK/rep3/$final" "$WORK/resumed/$final"

# Two targets per row: 8-64-64-2, R^2 over both.
expect_status 0 mpi 2 "$NN_MPI" "${base[@]}" --set data.path="$WORK/two.h5" \
    --set run.dir="$WORK/two" --set log.metrics="$WORK/two.jsonl"
expect_in "$WORK/out" "model 8-64-64-2 tanh/squared_error"
at_least "$(metric "$WORK/two.jsonl" epoch test_r2 | tail -n 1)" 0.95 "two targets: test R^2"

# Refusals, each one message naming what is wrong.
expect_status 1 mpi 2 "$NN_MPI" "${base[@]}" --set model.loss=cross_entropy \
    --set data.path="$WORK/smooth.h5" --set run.dir="$WORK/bad1"
expect_in "$WORK/err" "$WORK/smooth.h5 holds regression targets (/train/targets) but [model] loss is cross_entropy: set [model] loss = squared_error"
require_data
expect_status 1 mpi 2 "$NN_MPI" "${base[@]}" --set data.path="$NN_DATA" --set run.dir="$WORK/bad2"
expect_in "$WORK/err" "[model] loss = squared_error needs regression targets, but $NN_DATA holds class labels"
expect_status 1 mpi 2 "$NN_MPI" "${base[@]}" --set checkpoint.monitor=validation_accuracy \
    --set data.validation=500 --set data.path="$WORK/smooth.h5" --set run.dir="$WORK/bad3"
expect_in "$WORK/err" "a regression run has no accuracy; monitor validation_loss"
expect_status 1 mpi 3 "$NN_MPI" "${base[@]}" --set data.path="$WORK/nan.h5" --set run.dir="$WORK/bad4"
expect_in "$WORK/err" "$WORK/nan.h5: dataset /train/targets row 4321 holds target nan, expected a finite number"
[ "$(grep -c "holds target" "$WORK/err")" = 1 ] || fail "the error came more than once"
expect_status 1 mpi 2 "$NN_MPI" "${base[@]}" --set data.path="$WORK/mixed.h5" --set run.dir="$WORK/bad5"
expect_in "$WORK/err" "$WORK/mixed.h5: dataset /test/targets is missing"
echo "regression: all checks passed"
