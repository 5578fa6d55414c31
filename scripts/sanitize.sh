#!/usr/bin/env bash
# The sanitizer build: builds nn-mpi with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DNN_SANITIZE=address,undefined, UBSan errors fatal) into build-sanitize/ and runs, each
# of which must finish cleanly:
#   - the serial unit tests: config, sampler, schedule, fixed, gradcheck, regularize,
#     checkpoint, fault, and test_adam's steps;
#   - nn-mpi-data on small IDX files made here (raw, gzipped, and a truncated one);
#   - a short training run at -np 1 and -np 3 (one epoch, 600 samples), one at -np 3 with
#     dropout, max-norm and label smoothing, a resume at -np 3, an AdamW run at -np 3 and
#     its resume, and a run that fails (a missing dataset) at -np 3;
#   - nn-mpi --inspect on a checkpoint the run wrote, and on a damaged copy;
#   - nn-mpi export of that checkpoint to .onnx and .npz, of the damaged copy, and to a
#     directory that does not exist;
#   - nn-mpi plot of both runs' metrics, and of a file with a line that is not JSON;
#   - nn-mpi eval --confusion --errors of the checkpoint at -np 3.
# Leaks: checked in full (detect_leaks=1) for the programs that do not start MPI (the unit
# tests, nn-mpi-data, nn-mpi --inspect, export and plot). The MPI runs check leaks too, with the
# suppressions in tests/lsan-mpi.supp, which name only Open MPI's, PMIx's, hwloc's,
# libevent's and HDF5's own libraries (full allocation stacks: fast_unwind_on_malloc=0).
#   scripts/sanitize.sh            (about 1 minute on 2 cores)
# Environment: NN_SANITIZE_BUILD (default build-sanitize), NN_MPIEXEC (default mpirun),
# NN_MPIEXEC_NUMPROC_FLAG, NN_MPIEXEC_PREFLAGS (CTest passes FindMPI's).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NN_SANITIZE_BUILD:-$root/build-sanitize}
mpiexec=${NN_MPIEXEC:-mpirun}
np_flag=${NN_MPIEXEC_NUMPROC_FLAG:--np}
preflags=${NN_MPIEXEC_PREFLAGS:-}
work=$(mktemp -d /tmp/nn-sanitize.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "sanitize: FAIL: $*" >&2
    exit 1
}
step() { echo "sanitize: $*"; }

step "building into $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNN_SANITIZE=address,undefined >/dev/null
unit_tests=(config sampler schedule fixed gradcheck regularize checkpoint fault)
cmake --build "$build" -j2 --target nn-mpi nn-mpi-data "${unit_tests[@]/#/test_}" test_adam \
    >/dev/null

if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SERIAL_ASAN=halt_on_error=1:detect_leaks=1
MPI_ASAN=halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0
MPI_LSAN=suppressions=$root/tests/lsan-mpi.supp:print_suppressions=0

# run WANT LOG COMMAND...: runs COMMAND (its output in LOG) and fails unless it exits with
# WANT and the log holds no sanitizer report.
run() {
    local want=$1 log=$2 got=0
    shift 2
    timeout 300 "$@" >"$log" 2>&1 || got=$?
    if [ "$got" != "$want" ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
        cat "$log" >&2
        fail "exit status $got (expected $want) or a sanitizer report: $*"
    fi
}
serial() { ASAN_OPTIONS=$SERIAL_ASAN run "$@"; }
# mpi WANT LOG NP ARGS...: nn-mpi on NP ranks.
mpi() {
    local want=$1 log=$2 np=$3
    shift 3
    # shellcheck disable=SC2086 # the preflags are a list
    ASAN_OPTIONS=$MPI_ASAN LSAN_OPTIONS=$MPI_LSAN run "$want" "$log" \
        "$mpiexec" $np_flag "$np" $preflags "$build/nn-mpi" "$@"
}

cd "$work"
for t in "${unit_tests[@]}"; do
    step "unit test $t"
    serial 0 "$work/$t.log" "$build/tests/test_$t"
done
step "unit test adam"
serial 0 "$work/adam-steps.log" "$build/tests/test_adam" "$work/adam-steps.txt"

# IDX files of random 28x28 images and labels 0..9.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
images() { { printf '\x00\x00\x08\x03'; be32 "$2"; be32 28; be32 28; head -c $(($2 * 784)) /dev/urandom; } >"$1"; }
labels() {
    { printf '\x00\x00\x08\x01'; be32 "$2"
      head -c "$2" /dev/urandom | od -An -v -tu1 | tr -s ' ' '\n' | grep . |
          while read -r b; do printf "\\x$(printf %02x $((b % 10)))"; done
    } >"$1"
}
mkdir idx
images idx/train-images-idx3-ubyte 600
labels idx/train-labels-idx1-ubyte 600
images idx/t10k-images-idx3-ubyte 200
labels idx/t10k-labels-idx1-ubyte 200
step "nn-mpi-data: raw, gzipped, truncated"
serial 0 "$work/data.log" "$build/nn-mpi-data" idx "$work/idx" "$work/data.h5"
for f in idx/*-ubyte; do gzip -c "$f" >"$f.gz"; done
serial 0 "$work/data-gz.log" "$build/nn-mpi-data" idx/train-images-idx3-ubyte.gz \
    idx/train-labels-idx1-ubyte.gz idx/t10k-images-idx3-ubyte.gz idx/t10k-labels-idx1-ubyte.gz \
    "$work/data-gz.h5"
head -c 1000 idx/t10k-images-idx3-ubyte >short-images
serial 1 "$work/data-bad.log" "$build/nn-mpi-data" idx/train-images-idx3-ubyte \
    idx/train-labels-idx1-ubyte short-images idx/t10k-labels-idx1-ubyte "$work/bad.h5"
grep -q truncated "$work/data-bad.log" || fail "nn-mpi-data did not report the truncated file"

settings=(--set "data.path=$work/data.h5" --set train.epochs=1 --set data.train_samples=600
          --set data.test_samples=200)
for np in 1 3; do
    step "training at -np $np"
    mpi 0 "$work/train$np.log" "$np" "$root/configs/test-small.ini" "${settings[@]}" \
        --set "run.dir=$work/run$np"
done
step "training at -np 3 with dropout, max-norm and label smoothing"
mpi 0 "$work/regularized.log" 3 "$root/configs/test-small.ini" "${settings[@]}" \
    --set "run.dir=$work/run-regularized" --set model.dropout=0.3,0.1 --set model.max_norm=1 \
    --set train.label_smoothing=0.1
step "resume at -np 3, a failing run at -np 3"
mpi 0 "$work/resume.log" 3 "$root/configs/test-small.ini" "${settings[@]}" \
    --set "run.dir=$work/run3" --set train.epochs=2 --resume auto
grep -q "resuming from" "$work/resume.log" || fail "the run did not resume"
step "AdamW at -np 3, resumed"
adam=(--set train.optimizer=adamw --set train.learning_rate=0.002 --set "run.dir=$work/run-adam")
mpi 0 "$work/adam.log" 3 "$root/configs/test-small.ini" "${settings[@]}" "${adam[@]}"
mpi 0 "$work/adam-resume.log" 3 "$root/configs/test-small.ini" "${settings[@]}" "${adam[@]}" \
    --set train.epochs=2 --resume auto
grep -q "resuming from" "$work/adam-resume.log" || fail "the AdamW run did not resume"
mpi 1 "$work/nodata.log" 3 "$root/configs/test-small.ini" "${settings[@]}" \
    --set "run.dir=$work/run-nodata" --set "data.path=$work/missing.h5"

step "nn-mpi --inspect"
ckpt=$(ls "$work"/run3/version_0/ckpt-*.h5 | tail -n 1)
serial 0 "$work/inspect.log" "$build/nn-mpi" --inspect "$ckpt"
grep -q ": valid" "$work/inspect.log" || fail "--inspect did not find $ckpt valid"
cp "$ckpt" damaged.h5
offset=$(h5dump -p -H -d /model/layer_0/weights damaged.h5 | awk '/OFFSET/ { print $2 }')
printf '\xff\xff\xff\xff' | dd of=damaged.h5 bs=1 seek=$((offset + 1000)) conv=notrunc 2>/dev/null
serial 1 "$work/inspect-bad.log" "$build/nn-mpi" --inspect damaged.h5
grep -q INVALID "$work/inspect-bad.log" || fail "--inspect did not reject a damaged checkpoint"

step "nn-mpi export"
for ext in onnx npz; do
    serial 0 "$work/export-$ext.log" "$build/nn-mpi" export "$ckpt" -o "$work/model.$ext"
    [ -s "$work/model.$ext" ] || fail "export wrote no $work/model.$ext"
    serial 1 "$work/export-bad-$ext.log" "$build/nn-mpi" export damaged.h5 -o "$work/bad.$ext"
    serial 1 "$work/export-nodir-$ext.log" "$build/nn-mpi" export "$ckpt" -o "$work/no/model.$ext"
done

step "nn-mpi plot, eval --confusion --errors"
serial 0 "$work/plot.log" "$build/nn-mpi" plot "$work/run1/version_0" "$work/run3/version_0" \
    -o "$work/curves.svg"
[ -s "$work/curves.svg" ] || fail "plot wrote no $work/curves.svg"
{ head -n 2 "$work/run1/version_0/metrics.jsonl"; echo '{"event":'; } >"$work/bad.jsonl"
tail -n +3 "$work/run1/version_0/metrics.jsonl" >>"$work/bad.jsonl"
serial 1 "$work/plot-bad.log" "$build/nn-mpi" plot "$work/bad.jsonl" -o "$work/bad.svg"
mpi 0 "$work/eval.log" 3 eval "$ckpt" --confusion "$work/confusion.svg" --errors "$work/errors.png"
[ -s "$work/confusion.svg" ] && [ -s "$work/errors.png" ] || fail "eval drew no pictures"
step "ok: no sanitizer reports"
