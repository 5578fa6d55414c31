#!/usr/bin/env bash
# "Your own data" (dataset format 2), on files written here with h5py: float32 features,
# int64 labels and no 'classes' attribute (3 classes of well separated Gaussian blobs in 20
# dimensions) train at -np 1 and -np 3 to well above chance, with a 20-32-3 model and a note
# that the classes were inferred; reproducible mode gives the same bits at -np 1 and 3 and a
# resume ends on them; /mean and /std are applied (a huge offset and scale, powers of two,
# undone by them train bitwise like the plain file); int8, uint16, int32 and uint64 labels
# and a stated 'classes' train bitwise like int64 labels; a label out of range names the
# dataset and row; float labels are refused. (MNIST, format 1, is covered by the others.)
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c "import h5py, numpy" 2>/dev/null || { echo "own_data: needs python3-h5py and python3-numpy: skipped"; exit 77; }

# make_data DIR: the files, each a variant of the same blobs.
"$PY" - "$WORK" <<'EOF'
import sys, numpy as np, h5py
out = sys.argv[1]
rng = np.random.default_rng(5)
F, K = 20, 3
centers = rng.normal(0.0, 3.0, (K, F))
def blobs(n):
    y = rng.integers(0, K, n)
    x = centers[y] + rng.normal(0.0, 1.0, (n, F))
    # multiples of 2^-8 below 16 in magnitude: x * 2^k + 2^26 is then exact in float32
    return np.clip(np.round(x * 256) / 256, -15.9, 15.9).astype(np.float32), y.astype(np.int64)
splits = {"train": blobs(3000), "test": blobs(600)}
def write(name, labels_dtype=np.int64, transform=None, attrs={}, extra=None, bad=None):
    with h5py.File(f"{out}/{name}.h5", "w") as f:
        f.attrs["format"] = "nn-mpi dataset"
        f.attrs["format_version"] = 2
        for k, v in attrs.items():
            f.attrs[k] = v
        for split, (x, y) in splits.items():
            y = y.astype(labels_dtype)
            if bad and split == "train":
                y = y.copy(); y[bad[0]] = bad[1]
            f[f"{split}/images"] = transform(x) if transform else x
            f[f"{split}/labels"] = y
        if extra:
            extra(f)
write("blobs")
for t in ["int8", "uint16", "int32", "uint64"]:
    write(f"labels_{t}", labels_dtype=getattr(np, t))
write("classes3", labels_dtype=np.uint8, attrs={"classes": 3})
# A huge offset and scale per feature (powers of two), undone exactly by /mean and /std.
std = (2.0 ** (16 + np.arange(F) % 5)).astype(np.float32)
mean = np.full(F, 2.0 ** 26, np.float32)
def mean_std(f):
    f["mean"] = mean
    f["std"] = std
write("offset", transform=lambda x: (x.astype(np.float64) * std + mean).astype(np.float32),
      extra=mean_std)
write("bad_label", labels_dtype=np.uint16, attrs={"classes": 3}, bad=(1234, 7))
write("float_labels", labels_dtype=np.float32)
EOF

base=("$NN_SOURCE/configs/test-small.ini" --set data.train_samples=0 --set data.test_samples=0
      --set model.hidden=32 --set checkpoint.keep=0)
rep=(--set train.reproducible=yes --set train.chunk_size=8)

# Plain mode at 1 and 3 ranks: well above chance (1/3), 3 outputs, the note.
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${base[@]}" --set data.path="$WORK/blobs.h5" \
        --set run.dir="$WORK/plain$np" --set log.metrics="$WORK/plain$np.jsonl"
    expect_in "$WORK/out" "model 20-32-3 relu/cross_entropy"
    expect_in "$WORK/out" "note: $WORK/blobs.h5 has no 'classes' attribute: 3 classes inferred from the labels (0..2)"
    acc=$(metric "$WORK/plain$np.jsonl" epoch test_accuracy | tail -n 1)
    awk -v a="$acc" 'BEGIN { exit !(a > 0.9) }' || fail "np $np: test accuracy $acc, expected > 0.9"
done
final=version_0/ckpt-000000120.h5
"$NN_MPI" --inspect "$WORK/plain3/$final" >"$WORK/inspect" || fail "--inspect failed"
expect_in "$WORK/inspect" "model: 20-32-3 relu/cross_entropy"
expect_in "$WORK/inspect" "input: float32 * 1"
expect_in "$WORK/inspect" "feature type = float32"
expect_in "$WORK/inspect" "classes = 3"
h5dump -a /preprocessing/feature_type "$WORK/plain3/$final" | grep -q '"float32"' ||
    fail "no /preprocessing/feature_type in the checkpoint"

# Reproducible mode: the same bits at 1 and 3 ranks; a resume at 3 ranks ends on them.
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/blobs.h5" \
        --set run.dir="$WORK/rep$np"
done
same_state "$WORK/rep1/$final" "$WORK/rep3/$final"
expect_status 0 mpi 3 "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/blobs.h5" \
    --set run.dir="$WORK/resumed" --resume "$WORK/rep3/version_0/ckpt-000000040.h5"
expect_in "$WORK/out" "resuming from $WORK/rep3/version_0/ckpt-000000040.h5 at epoch 1 step 40"
same_state "$WORK/rep3/$final" "$WORK/resumed/$final"

# /mean and /std: features x * std + 2^26 with those as /mean and /std train bitwise like x
# (the same losses and weights); the checkpoint stores them.
expect_status 0 mpi 2 "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/offset.h5" \
    --set run.dir="$WORK/offset" --set log.metrics="$WORK/offset.jsonl"
expect_status 0 mpi 2 "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/blobs.h5" \
    --set run.dir="$WORK/plain_x" --set log.metrics="$WORK/plain_x.jsonl"
same_state "$WORK/plain_x/$final" "$WORK/offset/$final"
cmp -s <(metric "$WORK/plain_x.jsonl" train train_loss) <(metric "$WORK/offset.jsonl" train train_loss) ||
    fail "the offset file with /mean and /std logged other losses"
"$NN_MPI" --inspect "$WORK/offset/$final" >"$WORK/inspect" || fail "--inspect failed"
expect_in "$WORK/inspect" "input: float32 * 1 - mean / std (hash "
expect_in "$WORK/inspect" "input mean/std = "
h5dump -d /preprocessing/std "$WORK/offset/$final" | grep -q "65536, 131072, 262144, 524288, 1.04858e+06" ||
    fail "the checkpoint's /preprocessing/std is not the file's /std"

# Label types, and a stated 'classes': bitwise the int64 run (without the note).
for t in labels_int8 labels_uint16 labels_int32 labels_uint64 classes3; do
    expect_status 0 mpi 2 "$NN_MPI" "${base[@]}" "${rep[@]}" --set data.path="$WORK/$t.h5" \
        --set run.dir="$WORK/$t"
    expect_in "$WORK/out" "model 20-32-3"
    same_state "$WORK/plain_x/$final" "$WORK/$t/$final"
done
grep -q "inferred" "$WORK/out" && fail "a note although the file states its classes"

# Errors: one message, from the reader or the probe, naming the file, dataset and row.
expect_status 1 mpi 3 "$NN_MPI" "${base[@]}" --set data.path="$WORK/bad_label.h5" --set run.dir="$WORK/bad"
expect_in "$WORK/err" "$WORK/bad_label.h5: dataset /train/labels row 1234 holds label 7, expected 0..2"
[ "$(grep -c "holds label" "$WORK/err")" = 1 ] || fail "the error came more than once"
expect_status 1 mpi 3 "$NN_MPI" "${base[@]}" --set data.path="$WORK/float_labels.h5" --set run.dir="$WORK/bad"
expect_in "$WORK/err" "rank 0: $WORK/float_labels.h5: dataset /train/labels is float32; classification labels must be integers"
echo "own_data: all checks passed"
