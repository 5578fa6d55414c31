#!/usr/bin/env bash
# Tabular training benchmark (issue 13): a 28-256-256 classifier on 1,000,000 rows of 28
# float features (a HIGGS-sized table, bench/tabular.py), at -np 2 on 2 cores:
#  - nn-mpi (mpirun -np 2, 1 BLAS thread per rank; plain and reproducible mode, the latter
#    also with chunk_size = 128) trains 28-256-256-2 softmax + cross-entropy
#    (bench/tabular.ini);
#  - PyTorch on CPU (bench/mlp_torch.py) trains the same 28-256-256-2 softmax and the
#    equivalent 28-256-256-1 logistic output (BCEWithLogitsLoss), with 2 threads in one
#    process (torch threads or OpenBLAS threads), DDP/gloo on 2 processes, and 1 thread;
#  - nn-mpi's MNIST network (configs/mnist.ini, 784-512-256-10) at -np 2 and the GEMM bound
#    of both networks (build/nn-mpi-gemm-bound), for throughput per parameter.
# On the tabular data, the same for all: batch 512, SGD (momentum 0.9, rate 0.05), float32,
# one epoch, data in memory before the clock starts; samples/s of the training loop and the test accuracy after the epoch.
# Interleaved rounds (the order reversed every other round); medians and ranges. Writes its
# section of bench/RESULTS.md ("Training on tabular data") and prints it.
#   bench/tabular.sh [ROUNDS] [BUILD_DIR]   (default 5 rounds, ./build, built first)
# Takes about 1.8 minutes of work a round on 2 cores (9 minutes for 5; waits for the lock
# come on top), plus about 40 s once to make the data: 1,000,000 training and 100,000 test
# rows as CSV and their HDF5 file (nn-mpi-data csv --standardize), kept with the last run's
# measurements (results.jsonl) in ${NN_BENCH_DIR:-/tmp/nn-bench-tabular} (about 500 MB).
# A BUILD_DIR given is used as it is (nn-mpi, nn-mpi-data, nn-mpi-gemm-bound); without one,
# scripts/build.sh builds ./build. On a shared machine, take the CPU lock around every build,
# data generation and measurement (others may run between them):
#   NN_BENCH_LOCK=/tmp/nn-cpu.lock bench/tabular.sh
# or hold it for the whole run: flock /tmp/nn-cpu.lock bench/tabular.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5 build=
for arg in "$@"; do
    if [[ $arg =~ ^[0-9]+$ ]]; then rounds=$arg; else build=$arg; fi
done
began=$(date +%s)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
results=$out/results.jsonl

source bench/lib.sh # the environment and locked

scripts/setup-deps.sh
if [ -z "$build" ]; then
    locked scripts/build.sh >/dev/null
    build=build
fi
for b in nn-mpi nn-mpi-data nn-mpi-gemm-bound; do
    [ -x "$build/$b" ] || { echo "tabular: $build/$b is missing" >&2; exit 1; }
done
locked scripts/get-mnist.sh

python=/usr/bin/python3 # Debian's interpreter, which has python3-torch

# The data, made once: rows 0 .. 999,999 of bench/tabular.py's stream for training (the same
# CSV as bench/convert.sh's) and the next 100,000 for the test split.
dir=${NN_BENCH_DIR:-/tmp/nn-bench-tabular}
mkdir -p "$dir"
data=$dir/tabular.h5
if [ ! -s "$data" ] || [ ! -s "$dir/data.jsonl" ]; then
    echo "tabular: making the data in $dir"
    locked $python bench/tabular.py csv "$dir/train.csv.part" 1000000 >"$dir/data.jsonl"
    locked $python bench/tabular.py csv "$dir/test.csv.part" 100000 1000000 >>"$dir/data.jsonl"
    mv "$dir/train.csv.part" "$dir/train.csv"
    mv "$dir/test.csv.part" "$dir/test.csv"
    locked "$build/nn-mpi-data" csv "$dir/train.csv" "$dir/test.csv" "$data.part" \
        --no-header --label 1 --standardize --source "bench/tabular.py rows 0-1099999" >/dev/null
    mv "$data.part" "$data"
fi

# nn NAME NETWORK SAMPLES CONFIG [nn-mpi options]: one nn-mpi run at -np 2; records it.
nn() {
    local name=$1 net=$2 samples=$3 config=$4
    shift 4
    rm -f "$out/m.jsonl"
    OPENBLAS_NUM_THREADS=1 locked mpirun -np 2 "$build/nn-mpi" "$config" \
        --set train.epochs=1 --set train.blas_threads=1 --set run.dir= \
        --set log.metrics="$out/m.jsonl" "$@" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
    $python bench/tabular.py nn "$name" "$net" 2 "$samples" "$out/m.jsonl" >>"$results"
}

# torch NAME NETWORK TORCH_THREADS BLAS_THREADS [options]: one PyTorch run; records it.
torch() {
    local name=$1 net=$2 threads=$3 blas=$4
    shift 4
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$blas locked $python bench/mlp_torch.py \
        --data "$data" --network "$net" --threads "$threads" --test "$@" >"$out/log" 2>&1 ||
        { cat "$out/log" >&2; exit 1; }
    $python bench/tabular.py tag "$name" "blas_threads=$blas" <"$out/log" >>"$results"
}

# gemm NETWORK SIZES ROWS: the GEMM bound on one core at one rank's share of the batch, and
# at reproducible mode's chunks of 32 rows.
gemm() {
    OPENBLAS_NUM_THREADS=1 locked "$build/nn-mpi-gemm-bound" "$2" "$3" 1 |
        $python bench/tabular.py gemm gemm-bound-half "$1" >>"$results"
    OPENBLAS_NUM_THREADS=1 locked "$build/nn-mpi-gemm-bound" "$2" 32 1 |
        $python bench/tabular.py gemm gemm-bound-chunk "$1" >>"$results"
}

run() {
    case $1 in
    gemm) gemm tabular 28,256,256,2 256
          gemm mnist 784,512,256,10 64 ;;
    nn) nn nn-mpi-np2 tabular 1000000 bench/tabular.ini --set data.path="$data"
        nn nn-mpi-reproducible-np2 tabular 1000000 bench/tabular.ini --set data.path="$data" \
            --set train.reproducible=yes
        nn nn-mpi-reproducible-c128-np2 tabular 1000000 bench/tabular.ini \
            --set data.path="$data" --set train.reproducible=yes --set train.chunk_size=128 ;;
    mnist) nn nn-mpi-np2 mnist 60000 configs/mnist.ini
           nn nn-mpi-reproducible-np2 mnist 60000 configs/mnist.ini --set train.reproducible=yes ;;
    torch) for net in tabular tabular-bce; do
               torch torch-t2 "$net" 2 1
               torch torch-t1-blas2 "$net" 1 2
               torch torch-ddp2 "$net" 1 1 --processes 2
               torch torch-t1 "$net" 1 1
           done
           torch torch-t2-blas2 tabular 2 2 ;;
    esac
}

order=(nn torch mnist gemm)
for ((r = 1; r <= rounds; r++)); do
    echo "tabular: round $r/$rounds"
    if ((r % 2)); then items=("${order[@]}"); else items=(gemm mnist torch nn); fi
    for item in "${items[@]}"; do run "$item"; done
done

cp "$results" "$dir/results.jsonl" # the last run's measurements, to look at again
busy=$(awk '{ s += $2 - $1 } END { printf "%.0f", s }' "$out/busy")
section=$($python bench/tabular.py table "$results" "$dir/data.jsonl" \
    "NN_BENCH_LOCK=/tmp/nn-cpu.lock bench/tabular.sh $rounds" "$busy" $(($(date +%s) - began)))
printf '%s\n' "$section" | $python bench/report.py section bench/RESULTS.md
echo "$section"
