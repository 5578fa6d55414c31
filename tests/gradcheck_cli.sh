#!/usr/bin/env bash
# nn-mpi gradcheck on real data: the MNIST test network (relu, cross-entropy), tanh with the
# tutorial's sigmoid/MSE output, and a regression network (squared_error, two targets)
# agree with the numerical gradients within the tolerance, with one row per layer and kind;
# a checkpoint's weights are checked (and one of another network refused); an impossible
# tolerance exits 1 saying so; under mpirun one report comes from rank 0; bad usage exits 2.
source "$(dirname "$0")/lib.sh"
require_data
PY=/usr/bin/python3
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA")

expect_status 0 "$NN_MPI" gradcheck "${small[@]}"
expect_in "$WORK/out" "gradcheck: 784-64-32-10 relu/cross_entropy, 8 samples of $NN_DATA"
for row in "0 weights        20" "0 biases         20" "2 weights        20" "2 biases         10"; do
    grep -qE "^ +$row " "$WORK/out" || fail "no row '$row' in the report"
done
expect_in "$WORK/out" "backprop agrees"

expect_status 0 mpi 2 "$NN_MPI" gradcheck "${small[@]}" --set model.activation=tanh \
    --set model.loss=mse --samples 4 --params 5
[ "$(grep -c "backprop agrees" "$WORK/out")" = 1 ] || fail "not one report under mpirun -np 2"
expect_in "$WORK/out" "784-64-32-10 tanh/mse, 4 samples"
grep -qE "^ +1 weights +5 " "$WORK/out" || fail "--params 5 not applied"

"$PY" - "$WORK/reg.h5" <<'PYEOF'
import sys, numpy as np, h5py
rng = np.random.default_rng(3)
x = rng.normal(size=(64, 6)).astype(np.float32)
t = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], 1).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    for s in ["train", "test"]:
        f[s + "/images"], f[s + "/targets"] = x, t
PYEOF
expect_status 0 "$NN_MPI" gradcheck "${small[@]}" --set data.path="$WORK/reg.h5" \
    --set model.loss=squared_error --set model.activation=sigmoid
expect_in "$WORK/out" "gradcheck: 6-64-32-2 sigmoid/squared_error"
expect_in "$WORK/out" "backprop agrees"

# A trained checkpoint's weights; one of another network is refused.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set train.epochs=1 --set run.dir="$WORK/run"
expect_status 0 "$NN_MPI" gradcheck "${small[@]}" --checkpoint "$(newest "$WORK/run")"
expect_in "$WORK/out" "backprop agrees"
expect_status 1 "$NN_MPI" gradcheck "${small[@]}" --set model.hidden=16 --checkpoint "$(newest "$WORK/run")"
expect_in "$WORK/err" "its model is not the network the config describes"

expect_status 1 "$NN_MPI" gradcheck "${small[@]}" --tolerance 1e-15
expect_in "$WORK/out" "BACKPROP DISAGREES"
expect_in "$WORK/err" "gradcheck: the largest error is above the tolerance"
expect_status 2 "$NN_MPI" gradcheck
expect_in "$WORK/err" "no config file given"
expect_status 2 "$NN_MPI" gradcheck "${small[@]}" --samples 0
expect_in "$WORK/err" "--samples 0: expected a whole number from 1 to 4096"
expect_status 2 "$NN_MPI" gradcheck "${small[@]}" --set train.epochs=0
expect_in "$WORK/err" "--set train.epochs=0: must be >= 1"
echo "gradcheck_cli: all checks passed"
