#!/usr/bin/env bash
# nn-mpi plot and eval's pictures, on short real runs: two MNIST runs of a learning-rate
# sweep (one reproducible) and a regression run. plot draws both runs into one SVG, which
# rsvg-convert renders: every logged value is drawn where the plot area's axis ranges put it
# and its run's colour is in the rendered pixels there (tests/plot_check.py); a metrics file
# holding both runs and a resumed epoch (its latest event counts) works as RUN; a regression
# run's second panel is R^2. eval --confusion: the counts drawn equal eval --json's matrix,
# the diagonal is darker; eval --errors: the grid has the documented size for the number of
# misclassified rows, each tile is that row's image upscaled, and the pictures are the same
# bytes at -np 1 and 3; --json output is unchanged by the options. Refusals (exit 1, no
# file): a missing file, a line that is not JSON (file:line), no epoch events, --errors on
# data that are not images, --confusion of a regression model; bad usage exits 2.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c "import h5py, numpy" 2>/dev/null || skip "needs python3-h5py and python3-numpy"
command -v rsvg-convert >/dev/null || skip "needs rsvg-convert (Debian's librsvg2-bin)"
require_data
CHECK=("$PY" "$NN_SOURCE/tests/plot_check.py")

# no_output FILE: neither FILE nor a temporary file beside it exists.
no_output() {
    if [ -e "$1" ] || compgen -G "$1.tmp.*" >/dev/null; then fail "$1 (or a temporary file) was left behind"; fi
}

small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set data.validation=500
       --set train.epochs=3 --set checkpoint.every_steps=0 --set log.progress=none)
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set train.reproducible=yes --set train.chunk_size=8 \
    --set run.dir="$WORK/sweep/lr05"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set train.learning_rate=0.01 --set run.dir="$WORK/sweep/lr01"
run1=$WORK/sweep/lr05/version_0
run2=$WORK/sweep/lr01/version_0

# Both runs in one chart; legends named by the parts of the paths that differ.
expect_status 0 "$NN_MPI" plot "$run1" "$run2/" -o "$WORK/curves.svg"
expect_in "$WORK/out" "wrote $WORK/curves.svg: 2 runs, epochs 1 to 3"
rsvg-convert -o "$WORK/curves.png" "$WORK/curves.svg" || fail "rsvg-convert cannot render the chart"
"${CHECK[@]}" curves "$WORK/curves.svg" "$WORK/curves.png" \
    "lr05/version_0=$run1/metrics.jsonl" "lr01/version_0=$run2/metrics.jsonl" || fail "the chart"

# A metrics file as RUN, holding both runs, and run 1's epoch 2 logged again (as after a
# resume) with another test accuracy: the latest event counts.
cat "$run1/metrics.jsonl" "$run2/metrics.jsonl" >"$WORK/both.jsonl"
grep '"event":"epoch".*"epoch":2,' "$run1/metrics.jsonl" |
    sed -E 's/"test_accuracy":[^,]*/"test_accuracy":0.5/' >>"$WORK/both.jsonl"
expect_status 0 "$NN_MPI" plot "$WORK/both.jsonl" -o "$WORK/both.svg" --title "A sweep"
rsvg-convert -o "$WORK/both.png" "$WORK/both.svg" || fail "rsvg-convert cannot render the chart"
"${CHECK[@]}" curves "$WORK/both.svg" "$WORK/both.png" "both=$WORK/both.jsonl" \
    --expect 0:test_accuracy:2=0.5 || fail "the chart of a file with two runs"
grep -q '>A sweep</text>' "$WORK/both.svg" || fail "--title was not used"

# A regression run: R^2 in the second panel.
"$PY" - "$WORK/reg.h5" <<'EOF'
import sys, numpy as np, h5py
rng = np.random.default_rng(3)
with h5py.File(sys.argv[1], "w") as f:
    for split, n in (("train", 1200), ("test", 300)):
        x = rng.normal(size=(n, 8)).astype(np.float32)
        f[f"{split}/images"] = x
        f[f"{split}/targets"] = (np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] / 2).astype(np.float32)
EOF
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$WORK/reg.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set data.validation=200 \
    --set model.loss=squared_error --set model.activation=tanh --set train.epochs=3 \
    --set checkpoint.every_steps=0 --set log.progress=none --set run.dir="$WORK/reg"
expect_status 0 "$NN_MPI" plot "$WORK/reg/version_0" -o "$WORK/reg.svg"
rsvg-convert -o "$WORK/reg.png" "$WORK/reg.svg" || fail "rsvg-convert cannot render the chart"
"${CHECK[@]}" curves "$WORK/reg.svg" "$WORK/reg.png" "version_0=$WORK/reg/version_0/metrics.jsonl" \
    --second r2 || fail "the regression chart"

# eval's pictures: the same bytes at -np 1 and 3 (reproducible mode), --json unchanged.
ck=$(newest "$WORK/sweep/lr05")
expect_status 0 mpi 1 "$NN_MPI" eval "$ck" --json
cp "$WORK/out" "$WORK/eval.json"
expect_status 0 mpi 3 "$NN_MPI" eval "$ck" --json --confusion "$WORK/c3.svg" --errors "$WORK/e3.png"
cmp -s "$WORK/eval.json" <(sed 's/"ranks":3/"ranks":1/' "$WORK/out") || fail "eval --json changed with --confusion and --errors"
expect_status 0 mpi 1 "$NN_MPI" eval "$ck" --confusion "$WORK/c1.svg" --errors "$WORK/e1.png"
expect_in "$WORK/out" "wrote $WORK/c1.svg: the confusion matrix of 10 classes"
expect_in "$WORK/out" "misclassified images"
expect_in "$WORK/out" "confusion matrix (rows: true class, columns: predicted class)"
cmp -s "$WORK/c1.svg" "$WORK/c3.svg" || fail "--confusion differs between 1 and 3 ranks"
cmp -s "$WORK/e1.png" "$WORK/e3.png" || fail "--errors differs between 1 and 3 ranks"
rsvg-convert -o "$WORK/c.png" "$WORK/c1.svg" || fail "rsvg-convert cannot render the heat map"
"${CHECK[@]}" confusion "$WORK/c1.svg" "$WORK/c.png" "$WORK/eval.json" || fail "the heat map"
"${CHECK[@]}" errors "$WORK/e1.png" "$NN_DATA" "$ck" "$WORK/eval.json" || fail "the error grid"

# Refusals: exit 1 with file (and line) named, nothing written.
expect_status 1 "$NN_MPI" plot "$run1" "$WORK/nope" -o "$WORK/x.svg"
expect_in "$WORK/err" "nn-mpi plot: $WORK/nope: cannot open metrics"
no_output "$WORK/x.svg"
{ head -n 2 "$run1/metrics.jsonl"; echo '{"event":"epoch", oops'; tail -n +3 "$run1/metrics.jsonl"; } >"$WORK/bad.jsonl"
expect_status 1 "$NN_MPI" plot "$WORK/bad.jsonl" -o "$WORK/x.svg"
expect_in "$WORK/err" "nn-mpi plot: $WORK/bad.jsonl:3: not JSON"
no_output "$WORK/x.svg"
line=$(grep -n '"event":"epoch"' "$run1/metrics.jsonl" | head -n 1 | cut -d: -f1)
sed -E "${line}s/\"train_loss\":[^,]*/\"train_loss\":\"low\"/" "$run1/metrics.jsonl" >"$WORK/str.jsonl"
expect_status 1 "$NN_MPI" plot "$WORK/str.jsonl" -o "$WORK/x.svg"
expect_in "$WORK/err" "nn-mpi plot: $WORK/str.jsonl:$line: an epoch event's \"train_loss\" is a string, expected a number or null"
no_output "$WORK/x.svg"
grep -v '"event":"epoch"' "$run1/metrics.jsonl" >"$WORK/none.jsonl"
expect_status 1 "$NN_MPI" plot "$WORK/none.jsonl" -o "$WORK/x.svg"
expect_in "$WORK/err" "nn-mpi plot: $WORK/none.jsonl: no epoch events"
no_output "$WORK/x.svg"
"$PY" -c "
import h5py, numpy as np
with h5py.File('$WORK/narrow.h5', 'w') as f:
    for s in ['train', 'test']:
        f[s + '/images'] = np.zeros((50, 20), np.float32); f[s + '/labels'] = np.arange(50) % 10
"
expect_status 1 mpi 2 "$NN_MPI" eval "$ck" --data "$WORK/narrow.h5" --errors "$WORK/x.png"
expect_in "$WORK/err" "rank 0: $WORK/narrow.h5: --errors draws images, but its rows of 20 features have no image_shape attribute"
no_output "$WORK/x.png"
expect_status 1 "$NN_MPI" eval "$(newest "$WORK/reg")" --confusion "$WORK/x.svg"
expect_in "$WORK/err" "is a regression model (loss squared_error): it has no classes to draw"
no_output "$WORK/x.svg"
expect_status 2 "$NN_MPI" plot "$run1"
expect_in "$WORK/err" "no output file given"
expect_status 2 "$NN_MPI" plot "$run1" -o "$WORK/x.png"
expect_in "$WORK/err" "plot writes SVG"
expect_status 2 "$NN_MPI" eval "$ck" --errors "$WORK/x.svg"
expect_in "$WORK/err" "name the file *.png"
expect_status 0 "$NN_MPI" plot --help
expect_in "$WORK/out" "usage: nn-mpi plot RUN... -o FILE.svg"
echo "plot: all checks passed"
