#!/usr/bin/env bash
# Dropout, max-norm and label smoothing on real MNIST (configs/test-small.ini):
# - reproducible mode with all three on: -np 1, 3 and 4 end with bitwise the same weights,
#   optimizer state and logged losses (a sample's dropout mask does not depend on the rank
#   that computes it), with a batch of 52 that 3 and 4 do not divide; the hidden units'
#   incoming weights end at norms of at most max_norm, some at it;
# - evaluation has no dropout and no smoothing: nn-mpi eval of that run's checkpoint gives
#   the bits of its logged test loss at -np 1 and 3, and numpy's plain cross-entropy of a
#   forward pass of its weights without dropout gives that loss to float rounding;
# - a plain-mode run with all three on, resumed mid-epoch (in either epoch), ends on the
#   bits of the uninterrupted run;
# - dropout 0.2 still learns: above 80% test accuracy after the config's 2 epochs (85.1% here);
# - label smoothing's loss and gradient (tests/smoothing_fixture.c) equal numpy's
#   -sum q log softmax(z), q = (1 - e) onehot + e/K, and PyTorch's
#   CrossEntropyLoss(label_smoothing=e) (that part skipped without python3-torch);
# - nn-mpi gradcheck agrees with dropout and smoothing on; the refusals (exit 2).
source "$(dirname "$0")/lib.sh"
require_data
PY=/usr/bin/python3
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0
       --set log.progress=none)
regularized=(--set model.dropout=0.2,0.1 --set model.max_norm=1 --set train.label_smoothing=0.1)
have_h5py=1
"$PY" -c "import h5py, numpy" 2>/dev/null || have_h5py=0

# Reproducible mode at 1, 3 and 4 ranks: 2968 = 57 * 52 + 4 rows, 116 steps.
exact=(--set train.reproducible=yes --set train.chunk_size=8 --set train.batch_size=52
       --set data.train_samples=2968)
for np in 1 3 4; do
    expect_status 0 mpi $np "$NN_MPI" "${small[@]}" "${regularized[@]}" "${exact[@]}" \
        --set run.dir="$WORK/np$np" --set log.metrics="$WORK/np$np.jsonl"
    if [ $np != 1 ]; then
        same_state "$(newest "$WORK/np1")" "$(newest "$WORK/np$np")"
        cmp -s <(events "$WORK/np1.jsonl" train) <(events "$WORK/np$np.jsonl" train) ||
            fail "np $np logged other training losses than np 1"
        cmp -s <(events "$WORK/np1.jsonl" epoch) <(events "$WORK/np$np.jsonl" epoch) ||
            fail "np $np logged other epoch results than np 1"
    fi
done
ck=$(newest "$WORK/np1")
echo "reproducible with dropout, max-norm and label smoothing: the same bits at -np 1, 3, 4 ($ck)"

if [ $have_h5py = 1 ]; then
    # Evaluation: the logged test loss is nn-mpi eval's, bit for bit, and numpy's.
    want=$(ckpt_attr "$ck" test_loss)
    for np in 1 3; do
        expect_status 0 mpi $np "$NN_MPI" eval "$ck" --json
        [ "$(json_number "$WORK/out" loss)" = "$want" ] ||
            fail "np $np: eval loss $(json_number "$WORK/out" loss), the run logged $want"
    done
    "$PY" - "$ck" "$NN_DATA" "$want" <<'EOF' || fail "the checkpoint's weights differ from numpy's view of them"
import sys, numpy as np, h5py
ck, data, logged = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), float(sys.argv[3])
x = data["test/images"][:1000].astype(np.float64) / 255
y = data["test/labels"][:1000].astype(np.int64)
layers = len(ck["model"])
for l in range(layers):
    w = ck[f"model/layer_{l}/weights"][...].astype(np.float64)
    if l < layers - 1:  # max-norm: every hidden row at most 1, some at 1
        norms = np.sqrt((w * w).sum(1))
        assert norms.max() <= 1 + 1e-6, (l, norms.max())
        assert (norms > 1 - 1e-6).sum() >= 1, (l, np.sort(norms)[-3:])
        print(f"layer {l}: {(norms > 1 - 1e-6).sum()} of {len(norms)} rows at max_norm 1")
    x = x @ w.T + ck[f"model/layer_{l}/biases"][...]
    if l < layers - 1:
        x = np.maximum(x, 0)
z = x - x.max(1, keepdims=True)
loss = (np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]).mean()
assert abs(loss - logged) <= 1e-5 * logged, (loss, logged)
print(f"test loss {logged}: numpy's plain cross-entropy without dropout {loss:.9f}")
EOF
else
    skip_part "eval and numpy checks of the dropout run: no python3-h5py or python3-numpy"
fi

# Resume mid-epoch (plain mode, 2 ranks): from steps 40 (epoch 1) and 100 (epoch 2).
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" "${regularized[@]}" --set run.dir="$WORK/a"
for from in 040 100; do
    expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" "${regularized[@]}" --set run.dir="$WORK/r$from" \
        --resume "$WORK/a/version_0/ckpt-000000$from.h5"
    same_state "$WORK/a/version_0/ckpt-000000120.h5" "$WORK/r$from/version_0/ckpt-000000120.h5"
done
echo "resumed at steps 40 and 100: the bits of the uninterrupted run"

# Dropout 0.2 alone still learns.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set model.dropout=0.2 --set run.dir="$WORK/d" \
    --set log.metrics="$WORK/d.jsonl"
accuracy=$(metric "$WORK/d.jsonl" epoch test_accuracy | tail -n 1)
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.80) }' ||
    fail "dropout 0.2: test accuracy $accuracy after 2 epochs, not above 0.80"
echo "dropout 0.2: test accuracy $accuracy after 2 epochs"

# Label smoothing against numpy's formula and PyTorch.
if "$PY" -c "import numpy" 2>/dev/null; then
    torch=1
    "$PY" -c "import torch" 2>/dev/null || torch=0
    for e in 0 0.1 0.35; do
        "$NN_BUILD/tests/smoothing_fixture" $e >"$WORK/smooth$e.json" || fail "smoothing_fixture $e"
        "$PY" - "$WORK/smooth$e.json" $torch <<'EOF' || fail "label smoothing $e: the loss or gradient differs"
import sys, json, numpy as np
d, use_torch = json.load(open(sys.argv[1])), sys.argv[2] == "1"
e, rows = d["epsilon"], d["rows"]
z = np.array([r["logits"] for r in rows], np.float64)
y = np.array([r["label"] for r in rows])
loss = np.array([r["loss"] for r in rows])
grad = np.array([r["grad"] for r in rows])
K = z.shape[1]
logp = z - z.max(1, keepdims=True)
logp -= np.log(np.exp(logp).sum(1, keepdims=True))
q = np.full(z.shape, e / K)
q[np.arange(len(y)), y] += 1 - e
tol = 1e-6 * (1 + np.abs(z).max(1))  # float32 logits up to 60
assert (np.abs(loss - -(q * logp).sum(1)) <= tol).all(), (loss, -(q * logp).sum(1))
assert np.abs(grad - (np.exp(logp) - q)).max() <= 1e-6, grad - (np.exp(logp) - q)
print(f"label smoothing {e}: {len(rows)} rows agree with numpy")
if use_torch:
    import torch
    zt = torch.tensor(z, requires_grad=True)
    per_row = torch.nn.functional.cross_entropy(zt, torch.tensor(y), label_smoothing=e,
                                                reduction="none")
    per_row.sum().backward()
    assert (np.abs(loss - per_row.detach().numpy()) <= tol).all(), (loss, per_row)
    assert np.abs(grad - zt.grad.numpy()).max() <= 1e-6, grad - zt.grad.numpy()
    print(f"label smoothing {e}: {len(rows)} rows agree with torch {torch.__version__}")
EOF
    done
    [ $torch = 1 ] || skip_part "label smoothing against PyTorch: no python3-torch"
else
    skip_part "label smoothing against numpy: no python3-numpy"
fi

# The gradient check with a dropout mask and smoothing; refusals.
expect_status 0 "$NN_MPI" gradcheck "${small[@]}" "${regularized[@]}"
expect_in "$WORK/out" "with dropout 0.2, 0.1 (the first epoch's masks) and label smoothing 0.1"
expect_in "$WORK/out" "backprop agrees"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set model.loss=mse --set train.label_smoothing=0.1 \
    --set run.dir="$WORK/refused"
expect_in "$WORK/err" "rank 0: [train] label_smoothing = 0.1 needs [model] loss = cross_entropy (it is mse)"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set model.dropout=0.5,0.5,0.5 --set run.dir="$WORK/refused"
expect_in "$WORK/err" "[model] dropout = 0.5, 0.5, 0.5 gives 3 rates but [model] hidden has 2 layers"
expect_status 2 "$NN_MPI" "${small[@]}" --set model.dropout=1
expect_in "$WORK/err" "--set model.dropout=1: must be < 1"
[ ! -e "$WORK/refused" ] || fail "a refused run wrote $WORK/refused"
finish regularize
