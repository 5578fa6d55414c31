#!/usr/bin/env bash
# nn-mpi eval on the checkpoints of short MNIST runs. Reproducible mode: the loss and
# accuracy on the test and validation splits are the bits the run stored in its checkpoint
# (its logged values), at -np 1, 2 and 3; the confusion matrix equals one counted from an
# independent numpy forward pass over the checkpoint's arrays, sums to the split's size and
# its diagonal to the correct count; per-class precision, recall and F1 follow from it.
# Plain mode agrees across rank counts to rounding. --split train visits the rows training
# visits; --data evaluates another file's whole split. The table's layout; regression
# models report RMSE, MAE and R^2 (the logged ones); refusals: a damaged checkpoint, a
# missing validation split, data that does not fit the model, bad usage.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c "import h5py, numpy" 2>/dev/null || { echo "eval: needs python3-h5py and python3-numpy: skipped"; exit 77; }
require_data

small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set data.validation=500 --set checkpoint.every_steps=0)
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set train.reproducible=yes --set train.chunk_size=8 \
    --set run.dir="$WORK/rep"
ck=$(newest "$WORK/rep")

for split in test validation; do
    want_loss=$(ckpt_attr "$ck" ${split}_loss)
    want_acc=$(ckpt_attr "$ck" ${split}_accuracy)
    for np in 1 2 3; do
        expect_status 0 mpi $np "$NN_MPI" eval "$ck" --split $split --json
        cp "$WORK/out" "$WORK/$split$np.json"
        [ "$(json_number "$WORK/out" loss)" = "$want_loss" ] ||
            fail "np $np $split: eval loss $(json_number "$WORK/out" loss), the run logged $want_loss"
        [ "$(json_number "$WORK/out" accuracy)" = "$want_acc" ] ||
            fail "np $np $split: eval accuracy $(json_number "$WORK/out" accuracy), the run logged $want_acc"
    done
    cmp -s "$WORK/${split}1.json" <(sed 's/"ranks":3/"ranks":1/' "$WORK/${split}3.json") ||
        fail "$split: eval --json differs between 1 and 3 ranks"
    echo "$split: loss $want_loss accuracy $want_acc, the same bits at -np 1, 2, 3"
done

# The confusion matrix and per-class scores against numpy's forward pass of the weights.
"$PY" - "$ck" "$NN_DATA" "$WORK/test3.json" <<'EOF' || fail "eval's confusion matrix or scores differ from numpy's"
import sys, json, numpy as np, h5py
ck, data, report = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), json.load(open(sys.argv[3]))
x = data["test/images"][:1000].astype(np.float64) / 255
y = data["test/labels"][:1000].astype(np.int64)
layers = len(ck["model"])
for l in range(layers):
    x = x @ ck[f"model/layer_{l}/weights"][...].T.astype(np.float64) + ck[f"model/layer_{l}/biases"][...]
    if l < layers - 1:
        x = np.maximum(x, 0)
pred = x.argmax(1)
confusion = np.zeros((10, 10), np.int64)
np.add.at(confusion, (y, pred), 1)
got = np.array(report["confusion"])
assert got.sum() == report["samples"] == 1000, got.sum()
assert np.trace(got) == round(report["accuracy"] * 1000), (np.trace(got), report["accuracy"])
# float32 against float64 may flip a near tie: allow one row to move.
assert np.abs(got - confusion).sum() <= 2, (got, confusion)
top5 = (np.argsort(-x, 1)[:, :5] == y[:, None]).any(1).mean()
assert abs(report["top_k_accuracy"] - top5) <= 0.002, (report["top_k_accuracy"], top5)
for c, s in enumerate(report["classes"]):
    tp = got[c, c]
    p, r = tp / got[:, c].sum(), tp / got[c].sum()
    assert abs(s["precision"] - p) < 1e-12 and abs(s["recall"] - r) < 1e-12
    assert abs(s["f1"] - 2 * p * r / (p + r)) < 1e-12 and s["support"] == got[c].sum()
print("confusion matrix and per-class scores agree with numpy")
EOF

# The table.
expect_status 0 "$NN_MPI" eval "$ck"
expect_in "$WORK/out" "data: $NN_DATA, test split, 1000 samples, 1 rank, exact (reproducible) sums"
expect_in "$WORK/out" "top-5 accuracy"
expect_in "$WORK/out" "   class  precision     recall         f1    support"
expect_in "$WORK/out" "confusion matrix (rows: true class, columns: predicted class)"
[ "$(grep -cE '^ {7}[0-9]( +[01]\.[0-9]{4}){3} +[0-9]+$' "$WORK/out")" = 10 ] || fail "the table lacks class rows"
[ "$(grep -cE '^ {5}[0-9]( +[0-9]+){10}$' "$WORK/out")" = 10 ] || fail "the table lacks confusion rows"

# --split train: the 2500 rows training visits (3000 minus the 500 held out); --data: the
# whole test split of another file (here the same file: 10000 rows); --top-k.
expect_status 0 mpi 2 "$NN_MPI" eval "$ck" --split train --json
[ "$(json_number "$WORK/out" samples)" = "2500.0" ] || fail "--split train evaluated $(json_number "$WORK/out" samples) rows"
expect_status 0 mpi 3 "$NN_MPI" eval "$ck" --data "$NN_DATA" --top-k 2 --json
[ "$(json_number "$WORK/out" samples)" = "10000.0" ] || fail "--data evaluated $(json_number "$WORK/out" samples) rows"
[ "$(json_number "$WORK/out" top_k)" = "2.0" ] || fail "--top-k 2 was not used"

# Plain mode: the same numbers at 1 and 3 ranks to rounding.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set data.validation=0 --set run.dir="$WORK/plain"
plain=$(newest "$WORK/plain")
expect_status 0 mpi 1 "$NN_MPI" eval "$plain" --json
a=$(json_number "$WORK/out" loss)
close_enough "$(ckpt_attr "$plain" test_loss)" "$a" 1e-6 || fail "plain: eval loss $a, the run logged $(ckpt_attr "$plain" test_loss)"
expect_status 0 mpi 3 "$NN_MPI" eval "$plain" --json
close_enough "$a" "$(json_number "$WORK/out" loss)" 1e-6 || fail "plain: eval loss differs at 3 ranks"

# Refusals.
head -c 20000 "$ck" >"$WORK/damaged.h5"
expect_status 1 mpi 2 "$NN_MPI" eval "$WORK/damaged.h5"
expect_in "$WORK/err" "rank 0: $WORK/damaged.h5"
[ "$(grep -c "damaged.h5" "$WORK/err")" = 1 ] || fail "the error came more than once"
expect_status 1 "$NN_MPI" eval "$plain" --split validation --data "$NN_DATA"
expect_in "$WORK/err" "has no validation split"
"$PY" -c "
import h5py, numpy as np
with h5py.File('$WORK/narrow.h5', 'w') as f:
    for s in ['train', 'test']:
        f[s + '/images'] = np.zeros((50, 20), np.float32); f[s + '/labels'] = np.arange(50) % 10
"
expect_status 1 mpi 2 "$NN_MPI" eval "$ck" --data "$WORK/narrow.h5"
expect_in "$WORK/err" "$WORK/narrow.h5 has 20 features and 10 classes per row, but the model takes 784 inputs and gives 10 outputs"
expect_status 2 "$NN_MPI" eval "$ck" --split bogus
expect_in "$WORK/err" "--split bogus: expected test, validation or train"
expect_status 2 "$NN_MPI" eval
expect_in "$WORK/err" "no checkpoint given"
expect_status 0 "$NN_MPI" eval --help
expect_in "$WORK/out" "usage: nn-mpi eval CHECKPOINT"
echo "eval: all checks passed"
