#!/usr/bin/env bash
# nn-mpi predict on a short real MNIST run (784-64-32-10, 2000 training rows, 1 epoch):
# - the test split of the dataset file: the predicted classes and probabilities are those of
#   an independent numpy forward pass over the checkpoint's arrays (h5py), to float
#   rounding; the labels are the file's and the accuracy of `predicted` is the checkpoint's
#   test_accuracy (the run evaluated the same 10000 rows); -o - writes the same bytes;
# - the same test images as .npy, IDX (raw and gzipped, with --labels), CSV (300 rows:
#   two blocks; with and without a header), PNG (8-bit gray, 16-bit gray, RGB, palette) and
#   PGM (P5, P2, 16-bit) give the same predictions;
# - --top 3: the columns, and the 3 best classes in order;
# - a float32 dataset with /mean and /std (written with h5py): its test split, and the same
#   raw rows as .npy and CSV, go through the standardization the checkpoint stored (numpy
#   computes it from the data, not from the checkpoint);
# - an mse and a squared_error model (tests/predict_fixture.c) and a short regression run
#   (2 targets): score and y columns equal numpy's sigmoid scores and linear values, --top
#   refused for the regression;
# - bad inputs exit 1 with a message naming the file and the row or size, bad usage exits 2,
#   and no output file (or temporary file) is left: a wrong feature count on row 3, a
#   non-numeric value, a bad row after a block was already written, a 27x28 PNG, a truncated
#   PNG, a damaged and a truncated checkpoint, a missing file, a directory.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
require_data
"$PY" -c "import h5py, numpy" 2>/dev/null || skip "needs Debian's python3-numpy and python3-h5py"
CHECK=("$PY" "$NN_SOURCE/tests/predict_check.py")

small=("$NN_SOURCE/configs/test-small.ini" --set data.train_samples=2000 --set train.epochs=1
       --set checkpoint.every_steps=0)
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set data.path="$NN_DATA" \
    --set data.test_samples=0 --set run.dir="$WORK/run"
ck=$(newest "$WORK/run")

# The test split and its copies in every input format, written by numpy and by hand.
mkdir -p "$WORK/in" "$WORK/img"
"$PY" - "$NN_DATA" "$WORK" <<'EOF'
import gzip, struct, sys, zlib
import h5py, numpy as np
data, work = sys.argv[1:]
with h5py.File(data, "r") as f:
    x, y = f["test/images"][()], f["test/labels"][()]
    xtr, ytr = f["train/images"][:2000], f["train/labels"][:2000]
np.save(f"{work}/in/x.npy", x)
np.save(f"{work}/in/x3d.npy", x.reshape(-1, 28, 28)[:100])
np.save(f"{work}/in/x_f64.npy", x[:100].astype(np.float64))
np.save(f"{work}/in/y.npy", y)
def idx(path, arr, opener=open):
    with opener(path, "wb") as f:
        f.write(struct.pack(">I", 0x800 | arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape))
        f.write(arr.astype(np.uint8).tobytes())
idx(f"{work}/in/t10k-images-idx3-ubyte", x.reshape(-1, 28, 28))
idx(f"{work}/in/t10k-labels-idx1-ubyte", y)
idx(f"{work}/in/t10k-images-idx3-ubyte.gz", x.reshape(-1, 28, 28), gzip.open)
with open(f"{work}/in/x300.csv", "w") as f:
    f.write(",".join(f"px{j}" for j in range(784)) + "\n")
    for r in x[:300]:
        f.write(",".join(map(str, r)) + "\n")
with open(f"{work}/in/x300_noheader.csv", "w") as f:
    for r in x[:300]:
        f.write(",".join(map(str, r)) + "\r\n")

def png(path, pixels, depth=8, color=0, palette=None, rows=28, cols=28):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + pixels[r * len(pixels) // rows:(r + 1) * len(pixels) // rows]
                   for r in range(rows))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, depth, color, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", palette)
    out += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)
def pgm_p5(path, img, maxval=255):
    with open(path, "wb") as f:
        f.write(b"P5\n# an MNIST digit\n28 28\n%d\n" % maxval)
        f.write(img.astype(">u2").tobytes() if maxval > 255 else img.tobytes())
for i in range(40):
    img = x[i]
    png(f"{work}/img/png{i:03d}.png", img.tobytes())
    pgm_p5(f"{work}/img/pgm{i:03d}.pgm", img)
    # every fourth image in another encoding that holds the same gray values
    kind = ["g16", "rgb", "pal", "p2"][i % 4]
    if kind == "g16":
        png(f"{work}/img/mix{i:03d}.png", (img.astype(np.uint32) * 257).astype(">u2").tobytes(), depth=16)
        pgm_p5(f"{work}/img/mixpgm{i:03d}.pgm", img.astype(np.uint32) * 257, maxval=65535)
    elif kind == "rgb":
        png(f"{work}/img/mix{i:03d}.png", np.repeat(img, 3).tobytes(), color=2)
        pgm_p5(f"{work}/img/mixpgm{i:03d}.pgm", img)
    elif kind == "pal":
        png(f"{work}/img/mix{i:03d}.png", img.tobytes(), color=3,
            palette=bytes(v for g in range(256) for v in (g, g, g)))
        pgm_p5(f"{work}/img/mixpgm{i:03d}.pgm", img)
    else:
        png(f"{work}/img/mix{i:03d}.png", np.stack([img, np.full(784, 255, np.uint8)], 1).tobytes(), color=4)
        with open(f"{work}/img/mixpgm{i:03d}.pgm", "w") as f:
            f.write("P2\n28 28 255\n" + "\n".join(" ".join(map(str, img[r * 28:(r + 1) * 28])) for r in range(28)) + "\n")

# Bad inputs.
bad = f"{work}/bad"
import os; os.makedirs(bad)
lines = [",".join(map(str, r)) for r in x[:5]]
lines[3] = ",".join(map(str, x[3][:783]))
open(f"{bad}/count.csv", "w").write("\n".join(lines) + "\n")
lines = [",".join(map(str, r)) for r in x[:5]]
fields = [str(v) for v in x[1]]; fields[4] = "abc"; lines[1] = ",".join(fields)
open(f"{bad}/text.csv", "w").write("\n".join(lines) + "\n")
lines = [",".join(map(str, r)) for r in x[:300]]
fields = [str(v) for v in x[280]]; fields[9] = "256"
lines[280] = ",".join(fields)
open(f"{bad}/late.csv", "w").write("\n".join(lines) + "\n")
png(f"{bad}/small.png", x[0][:756].tobytes(), rows=28, cols=27)
full = open(f"{work}/img/png000.png", "rb").read()
open(f"{bad}/cut.png", "wb").write(full[:len(full) // 2])
EOF

# The dataset's test split against numpy; the accuracy is the run's.
expect_status 0 "$NN_MPI" predict "$ck" "$NN_DATA" -o "$WORK/test.csv"
expect_in "$WORK/out" "10000 rows to $WORK/test.csv"
"${CHECK[@]}" forward "$ck" "$WORK/in/x.npy" "$WORK/test.csv" --labels "$WORK/in/y.npy" --accuracy ||
    fail "predict on the test split differs from numpy"
expect_status 0 "$NN_MPI" predict "$ck" "$NN_DATA" --split test -o -
cmp -s "$WORK/out" "$WORK/test.csv" || fail "-o - wrote other bytes than -o FILE"
expect_status 0 "$NN_MPI" predict "$ck" "$NN_DATA" --split train -o "$WORK/train.csv"
[ "$(wc -l <"$WORK/train.csv")" = 60001 ] || fail "--split train: not 60000 rows"

# The same rows in every other format.
same() { "${CHECK[@]}" same "$WORK/test.csv" "$@" || fail "predict on $1 differs from the dataset's"; }
for input in x.npy t10k-images-idx3-ubyte t10k-images-idx3-ubyte.gz x300.csv x300_noheader.csv \
             x3d.npy x_f64.npy; do
    expect_status 0 "$NN_MPI" predict "$ck" "$WORK/in/$input" -o "$WORK/$input.out.csv"
    same "$WORK/$input.out.csv"
done
expect_status 0 "$NN_MPI" predict "$ck" "$WORK/in/x300_noheader.csv" --no-header -o "$WORK/nh.csv"
cmp -s "$WORK/nh.csv" "$WORK/x300_noheader.csv.out.csv" || fail "--no-header changed the output"
expect_status 0 "$NN_MPI" predict "$ck" "$WORK/in/t10k-images-idx3-ubyte" \
    --labels "$WORK/in/t10k-labels-idx1-ubyte" -o "$WORK/idx_labels.csv"
cmp -s "$WORK/idx_labels.csv" "$WORK/test.csv" || fail "IDX images and labels differ from the dataset's output"
for kind in png pgm mix mixpgm; do
    expect_status 0 "$NN_MPI" predict "$ck" "$WORK"/img/$kind[0-9]* -o "$WORK/$kind.csv"
    same "$WORK/$kind.csv" --names "$kind"
done
head -n 2 "$WORK/png.csv" | grep -q "^file,predicted,p0,.*,p9$" || fail "image output header"

# --top 3.
expect_status 0 "$NN_MPI" predict "$ck" "$NN_DATA" --top 3 -o "$WORK/top3.csv"
"${CHECK[@]}" top "$WORK/test.csv" "$WORK/top3.csv" 3 || fail "--top 3"
head -n 1 "$WORK/top3.csv" | grep -qx "row,top1,p1,top2,p2,top3,p3,label" || fail "--top 3 header"

# A float32 dataset with /mean and /std: the stored standardization applies to raw rows.
"$PY" - "$NN_DATA" "$WORK" <<'EOF'
import sys
import h5py, numpy as np
data, work = sys.argv[1:]
with h5py.File(data, "r") as f:
    xtr, ytr = f["train/images"][:2000], f["train/labels"][:2000]
    xte, yte = f["test/images"][:1000], f["test/labels"][:1000]
raw = lambda x: x.astype(np.float32) * np.float32(0.01) + np.float32(3.0)
xtr, xte = raw(xtr), raw(xte)
mean, std = xtr.mean(0).astype(np.float32), xtr.std(0).astype(np.float32)  # std 0 at the borders
with h5py.File(f"{work}/float.h5", "w") as f:
    f.attrs["format"] = "nn-mpi dataset"
    f.attrs["format_version"] = 2
    f.attrs["classes"] = 10
    f["train/images"], f["train/labels"] = xtr, ytr
    f["test/images"], f["test/labels"] = xte, yte
    f["mean"], f["std"] = mean, std
np.save(f"{work}/in/f_x.npy", xte)
np.save(f"{work}/in/f_y.npy", yte)
np.save(f"{work}/in/f_mean.npy", mean)
np.save(f"{work}/in/f_std.npy", std)
with open(f"{work}/in/f_x.csv", "w") as f:
    for r in xte[:100]:
        f.write(",".join("%.9g" % v for v in r) + "\n")
EOF
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set data.path="$WORK/float.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set run.dir="$WORK/frun"
fck=$(newest "$WORK/frun")
"$NN_MPI" inspect "$fck" | grep -q "input: float32 \* 1 - mean / std" || fail "no mean/std in $fck"
fstd=(--mean "$WORK/in/f_mean.npy" --std "$WORK/in/f_std.npy")
expect_status 0 "$NN_MPI" predict "$fck" "$WORK/float.h5" -o "$WORK/ftest.csv"
"${CHECK[@]}" forward "$fck" "$WORK/in/f_x.npy" "$WORK/ftest.csv" --labels "$WORK/in/f_y.npy" \
    "${fstd[@]}" --accuracy || fail "the float dataset differs from numpy's standardization"
for input in f_x.npy f_x.csv; do
    expect_status 0 "$NN_MPI" predict "$fck" "$WORK/in/$input" -o "$WORK/$input.out.csv"
    "${CHECK[@]}" forward "$fck" "$WORK/in/f_x.npy" "$WORK/$input.out.csv" "${fstd[@]}" \
        --rows "$(($(wc -l <"$WORK/$input.out.csv") - 1))" || fail "raw rows of $input: not standardized"
done
# A uint8 model takes only pixel values; a float model takes uint8 images as 0.0 .. 255.0.
expect_status 1 "$NN_MPI" predict "$ck" "$WORK/in/f_x.npy" -o "$WORK/no.csv"
expect_in "$WORK/err" "$WORK/in/f_x.npy: row 0, column "
expect_in "$WORK/err" "(the model takes uint8 features: integers 0..255)"

# Models of the other losses: mse's sigmoid scores, squared_error's values.
for loss in mse squared_error; do
    "$NN_BUILD/tests/predict_fixture" "$WORK/$loss.h5" $loss || fail "predict_fixture $loss"
done
"$PY" -c "
import numpy as np
x = np.random.default_rng(3).normal(0, 2, (30, 6)).astype(np.float32)
np.save('$WORK/in/six.npy', x)
open('$WORK/in/six.csv', 'w').write('a,b,c,d,e,f\n' + ''.join(','.join('%.9g' % v for v in r) + '\n' for r in x))"
expect_status 0 "$NN_MPI" predict "$WORK/mse.h5" "$WORK/in/six.csv" -o "$WORK/mse.csv"
"${CHECK[@]}" forward "$WORK/mse.h5" "$WORK/in/six.npy" "$WORK/mse.csv" --scale 0.5 || fail "mse scores"
expect_status 0 "$NN_MPI" predict "$WORK/mse.h5" "$WORK/in/six.csv" --top 2 -o "$WORK/mse_top.csv"
head -n 1 "$WORK/mse_top.csv" | grep -qx "row,top1,score1,top2,score2" || fail "mse --top header"
expect_status 0 "$NN_MPI" predict "$WORK/squared_error.h5" "$WORK/in/six.npy" -o "$WORK/reg.csv"
"${CHECK[@]}" forward "$WORK/squared_error.h5" "$WORK/in/six.npy" "$WORK/reg.csv" --scale 0.5 ||
    fail "squared_error values"
# A regression run (2 targets, /test/targets): predict on its dataset and on the raw rows.
"$PY" - "$WORK" <<'EOF'
import sys, h5py, numpy as np
work = sys.argv[1]
rng = np.random.default_rng(5)
def rows(n):
    x = rng.normal(0.0, 1.0, (n, 5)).astype(np.float32)
    return x, np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2], x[:, 3] - x[:, 4] / 2], 1).astype(np.float32)
with h5py.File(f"{work}/reg_data.h5", "w") as f:
    f.attrs["format"] = "nn-mpi dataset"
    for split, n in (("train", 1000), ("test", 300)):
        x, t = rows(n)
        f[f"{split}/images"], f[f"{split}/targets"] = x, t
        if split == "test":
            np.save(f"{work}/in/reg_x.npy", x)
EOF
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$WORK/reg_data.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set model.hidden=16 \
    --set model.activation=tanh --set model.loss=squared_error --set train.epochs=1 \
    --set checkpoint.every_steps=0 --set run.dir="$WORK/rrun"
rck=$(newest "$WORK/rrun")
for input in "$WORK/reg_data.h5" "$WORK/in/reg_x.npy"; do
    expect_status 0 "$NN_MPI" predict "$rck" "$input" -o "$WORK/reg_run.csv"
    "${CHECK[@]}" forward "$rck" "$WORK/in/reg_x.npy" "$WORK/reg_run.csv" || fail "regression run: $input"
done
expect_status 2 "$NN_MPI" predict "$WORK/squared_error.h5" "$WORK/in/six.npy" --top 1 -o "$WORK/no.csv"
expect_in "$WORK/err" "--top: $WORK/squared_error.h5 is a regression model (loss squared_error)"

# Bad inputs: status 1, the file and the row or size named, nothing left in the output's
# directory (no OUT, no temporary file).
mkdir "$WORK/o"
bad_input() { # bad_input MESSAGE CHECKPOINT ARGS...
    local message=$1
    shift
    expect_status 1 "$NN_MPI" predict "$@" -o "$WORK/o/out.csv"
    expect_in "$WORK/err" "$message"
    [ -z "$(ls -A "$WORK/o")" ] || fail "left in the output directory: $(ls -A "$WORK/o")"
    expect_status 1 "$NN_MPI" predict "$@" -o -
    [ ! -s "$WORK/out" ] || fail "-o - wrote to stdout although it failed: $*"
}
B=$WORK/bad
bad_input "$B/count.csv:4: row 3: 783 values, expected 784 (the model's inputs)" "$ck" "$B/count.csv"
bad_input "$B/text.csv:2: row 1, column 5: not a number: 'abc'" "$ck" "$B/text.csv"
bad_input "$B/late.csv:281: row 280, column 10: not an integer 0..255 (the model takes uint8 features): '256'" "$ck" "$B/late.csv"
bad_input "$B/small.png: 27x28 pixels (756), expected 28x28 = 784 (the model's inputs)" "$ck" "$B/small.png"
bad_input "$B/cut.png: not a readable PNG image: truncated" "$ck" "$WORK/img/png001.png" "$B/cut.png"
bad_input "$B/missing.npy: cannot open: No such file or directory" "$ck" "$B/missing.npy"
bad_input "$WORK/img: cannot open: not a regular file" "$ck" "$WORK/img"
bad_input "$NN_DATA: no /validation split in this file" "$ck" "$NN_DATA" --split validation
bad_input "$WORK/in/f_x.npy: 784 features" "$WORK/mse.h5" "$WORK/in/f_x.npy"
cp "$ck" "$B/damaged.h5"
"$PY" -c "
import h5py
with h5py.File('$B/damaged.h5', 'r+') as f:
    f['model/layer_1/weights'][3, 5] += 0.25"
bad_input "$B/damaged.h5: checksum mismatch" "$B/damaged.h5" "$NN_DATA"
head -c 20000 "$ck" >"$B/short.h5"
bad_input "$B/short.h5: not an HDF5 file, or damaged" "$B/short.h5" "$NN_DATA"
expect_status 1 "$NN_MPI" predict "$ck" "$NN_DATA" -o "$WORK/nodir/out.csv"
expect_in "$WORK/err" "$WORK/nodir/out.csv.tmp."

# Bad usage: status 2.
expect_status 2 "$NN_MPI" predict "$ck" "$NN_DATA"
expect_in "$WORK/err" "no output file given"
expect_status 2 "$NN_MPI" predict "$ck" "$NN_DATA" --top 11 -o "$WORK/o/out.csv"
expect_in "$WORK/err" "--top 11: the model has 10 classes"
expect_status 2 "$NN_MPI" predict "$ck" "$NN_DATA" --top 0 -o "$WORK/o/out.csv"
expect_status 2 "$NN_MPI" predict "$ck" "$WORK/in/x.npy" --split test -o "$WORK/o/out.csv"
expect_in "$WORK/err" "--split applies to dataset files"
expect_status 2 "$NN_MPI" predict "$ck" "$WORK/in/x.npy" "$WORK/in/x.npy" -o "$WORK/o/out.csv"
expect_in "$WORK/err" "several inputs must all be PNG or PGM images"
[ -z "$(ls -A "$WORK/o")" ] || fail "left in the output directory: $(ls -A "$WORK/o")"
finish predict
