#!/usr/bin/env bash
# The benchmark, in one command: nn-mpi against a numpy and a PyTorch implementation of the
# same networks and against the GEMM bound, on real MNIST, interleaved so that noise on
# this shared machine affects all alike. Writes bench/RESULTS.md and prints it.
#   bench/run.sh [ROUNDS]          (default 3 rounds; about 3 minutes a round on 2 cores)
# Networks (bench/nnref.py): A = 784-50-10 sigmoid, batch 100; B = 784-512-512-10 ReLU,
# batch 128; default = configs/mnist.ini's 784-512-256-10 ReLU, batch 128.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
scripts/setup-deps.sh # python3-torch, numpy and h5py among them
scripts/build.sh >/dev/null
scripts/get-mnist.sh

python=/usr/bin/python3 # Debian's interpreter, which has python3-torch
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
results=$out/results.jsonl
source bench/lib.sh # the environment and the networks

# nn NAME NETWORK NP [nn-mpi options]: one nn-mpi run; records its metrics.
nn() {
    local name=$1 net=$2 np=$3
    shift 3
    rm -f "$out/m.jsonl" # nn-mpi appends to a metrics file: one run's events only
    # shellcheck disable=SC2046 # the settings are words
    OPENBLAS_NUM_THREADS=1 mpirun -np "$np" build/nn-mpi configs/mnist.ini $(nn_settings "$net") \
        --set train.epochs="$(epochs "$net")" --set run.dir= \
        --set log.metrics="$out/m.jsonl" "$@" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
    $python bench/report.py nn-metrics "$name" "$net" "$np" "$out/m.jsonl" >>"$results"
}

# py NAME NETWORK THREADS SCRIPT [options]: one run of a reference.
py() {
    local name=$1 net=$2 threads=$3 script=$4
    shift 4
    OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads $python "bench/$script" \
        --network "$net" --threads "$threads" --epochs "$(epochs "$net")" "$@" |
        $python bench/report.py tag "$name" >>"$results"
}

echo "bench: agreement of the first 5 steps"
for net in A B default; do
    for script in mlp_numpy.py mlp_torch.py; do
        $python "bench/$script" --network "$net" --check-steps 5 | $python bench/report.py tag check >>"$results"
    done
    rm -f "$out/check.jsonl"
    # shellcheck disable=SC2046
    OPENBLAS_NUM_THREADS=1 mpirun -np 2 build/nn-mpi configs/mnist.ini $(nn_settings "$net") \
        --set train.lr_schedule=constant --set data.train_samples=$((20 * $(batch "$net"))) \
        --set train.epochs=1 --set log.every_steps=1 --set run.dir= \
        --set log.metrics="$out/check.jsonl" >/dev/null 2>&1
    $python bench/report.py nn-check "$net" "$out/check.jsonl" >>"$results"
done

for round in $(seq "$rounds"); do
    for net in A B default; do
        echo "bench: round $round/$rounds, network $net"
        OPENBLAS_NUM_THREADS=1 build/nn-mpi-gemm-bound "$(sizes "$net")" "$(batch "$net")" 1 |
            $python bench/report.py gemm gemm-bound "$net" >>"$results"
        OPENBLAS_NUM_THREADS=1 build/nn-mpi-gemm-bound "$(sizes "$net")" $(($(batch "$net") / 2)) 1 |
            $python bench/report.py gemm gemm-bound-half "$net" >>"$results"
        # plain mode (float sums) named so; reproducible mode as configured by default
        # (reproducible = auto, chunk_size = auto: on at -np 1 and 2 for these batches)
        nn nn-mpi-np1 "$net" 1 --set train.reproducible=no
        nn nn-mpi-np2 "$net" 2 --set train.reproducible=no
        nn nn-mpi-reproducible-np1 "$net" 1 --set train.reproducible=yes
        nn nn-mpi-reproducible-np2 "$net" 2 --set train.reproducible=yes
        nn nn-mpi-adam-np2 "$net" 2 --set train.reproducible=no --set train.optimizer=adam \
            --set train.learning_rate=0.001
        for threads in 1 2; do
            py "numpy-t$threads" "$net" "$threads" mlp_numpy.py
            py "torch-t$threads" "$net" "$threads" mlp_torch.py
        done
        py torch-ddp2 "$net" 1 mlp_torch.py --processes 2
    done
    echo "bench: round $round/$rounds, oversubscribed"
    nn nn-mpi-np4 B 4 --set train.reproducible=no
    nn nn-mpi-np8 B 8 --set train.reproducible=no
done

echo "bench: time to 98% test accuracy with configs/mnist.ini"
for np in 2 1; do
    OPENBLAS_NUM_THREADS=1 mpirun -np "$np" build/nn-mpi configs/mnist.ini --set run.dir= \
        --set log.metrics="$out/full$np.jsonl" >/dev/null 2>&1
    $python bench/report.py nn-full "$np" "$out/full$np.jsonl" >>"$results"
done

# bench/convert.sh's and bench/tabular.sh's sections stay at the end.
convert_section=$(sed -n '/^## \(Converting a CSV\|Training on tabular data\)/,$p' bench/RESULTS.md 2>/dev/null || true)
$python bench/report.py table "$results" "bench/run.sh $rounds" >bench/RESULTS.md
[ -z "$convert_section" ] || printf '\n%s\n' "$convert_section" >>bench/RESULTS.md
cat bench/RESULTS.md
