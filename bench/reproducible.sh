#!/usr/bin/env bash
# What reproducible mode costs (README, "Bitwise reproducibility"): nn-mpi's training
# samples/s on real MNIST with `--set train.reproducible=yes` against
# `--set train.reproducible=no`, at -np 1 and -np 2, for bench/run.sh's three networks
# (A = 784-50-10 sigmoid, batch 100, 3 epochs; B = 784-512-512-10 ReLU, batch 128, 1 epoch;
# default = configs/mnist.ini's 784-512-256-10 ReLU, batch 128, 1 epoch), and the GEMM bound
# of A and B on one core (build/nn-mpi-gemm-bound SIZES BATCH 1).
#   bench/reproducible.sh [ROUNDS]     (default 5 rounds; about half a minute of work a
#                                       round on 2 cores, waits for the CPU lock come on top)
# Interleaved rounds: each round runs every contender once; a network's plain and
# reproducible runs at one rank count go back to back (as do the two GEMM bounds), and the
# order rotates from round to round (the pairs by one place, and which of a pair goes first
# alternates), so that no contender always runs first. Reports, per network and rank count,
# the median samples/s with the range, the cost of the medians
# (1 - median(reproducible) / median(plain)) and the paired cost (1 - the median over the
# rounds of each round's reproducible / plain ratio: the pair ran back to back, so a slow
# phase of the shared machine hits both). Writes the section "## Reproducible mode's cost"
# of bench/RESULTS.md (in place of the one there, else at the end; the other sections stay
# as they are) and prints it.
# Environment:
#   NN_BENCH_LOCK=FILE   every run holds this CPU lock (flock FILE), e.g. /tmp/nn-cpu.lock;
#                        others may run between the runs
#   NN_BENCH_EXTRA=WORDS extra nn-mpi options, split at blanks, for the reproducible runs
#                        only, e.g. NN_BENCH_EXTRA='--set train.chunk_size=64'
# Uses build/nn-mpi and build/nn-mpi-gemm-bound as they are (scripts/build.sh builds them)
# and data/mnist.h5 (scripts/get-mnist.sh, run when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/reproducible.sh [ROUNDS]" >&2; exit 2; }
read -ra extra <<<"${NN_BENCH_EXTRA:-}"
for b in nn-mpi nn-mpi-gemm-bound; do
    [ -x "build/$b" ] || { echo "reproducible: build/$b is missing: run scripts/build.sh" >&2; exit 1; }
done
began=$(date +%s)
python=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
results=$out/results.jsonl
: >"$out/busy"

source bench/lib.sh # the environment, the networks and locked

[ -f data/mnist.h5 ] || locked scripts/get-mnist.sh


# nn MODE NETWORK NP: one nn-mpi run (MODE plain or reproducible); records its samples/s.
nn() {
    local mode=$1 net=$2 np=$3 opts=(--set train.reproducible=no)
    [ "$mode" = plain ] || opts=(--set train.reproducible=yes "${extra[@]}")
    rm -f "$out/m.jsonl"
    # shellcheck disable=SC2046 # the settings are words
    locked env OPENBLAS_NUM_THREADS=1 mpirun -np "$np" build/nn-mpi configs/mnist.ini \
        $(nn_settings "$net") --set train.epochs="$(epochs "$net")" --set run.dir= \
        --set log.metrics="$out/m.jsonl" "${opts[@]}" >"$out/log" 2>&1 ||
        { cat "$out/log" >&2; echo "reproducible: $mode $net -np $np failed" >&2; exit 1; }
    $python bench/report.py nn-metrics "$mode-np$np" "$net" "$np" "$out/m.jsonl" >>"$results"
}

# gemm NETWORK: the GEMM bound of one rank's step on one core at the whole batch.
gemm() {
    locked env OPENBLAS_NUM_THREADS=1 build/nn-mpi-gemm-bound "$(sizes "$1")" "$(batch "$1")" 1 |
        $python bench/report.py gemm gemm-bound "$1" >>"$results"
}

# pair SLOT FLIP: one slot's two contenders (a network's plain and reproducible runs at one
# rank count, NETWORK:NP, or the two GEMM bounds), the second first when FLIP is 1.
pair() {
    local net=${1%:*} np=${1#*:}
    case $1:$2 in
    gemm:0) gemm A; gemm B ;;
    gemm:1) gemm B; gemm A ;;
    *:0) nn plain "$net" "$np"; nn reproducible "$net" "$np" ;;
    *) nn reproducible "$net" "$np"; nn plain "$net" "$np" ;;
    esac
}

slots=(A:1 A:2 B:1 B:2 default:1 default:2 gemm)
n=${#slots[@]}
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((i = 0; i < n; i++)); do order+=("${slots[(r + i) % n]}"); done
    echo "reproducible: round $((r + 1))/$rounds: ${order[*]}"
    for slot in "${order[@]}"; do pair "$slot" $((r % 2)); done
done

command="bench/reproducible.sh $rounds"
[ -z "${NN_BENCH_LOCK:-}" ] || command="NN_BENCH_LOCK=$NN_BENCH_LOCK $command"
[ -z "${NN_BENCH_EXTRA:-}" ] || command="NN_BENCH_EXTRA='$NN_BENCH_EXTRA' $command"
busy=$(awk '{ s += $2 - $1 } END { printf "%.0f", s }' "$out/busy")
section=$($python bench/report.py reproducible "$results" "$command" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(grep -o 'chunk_size=[0-9a-z]*' <<<"${NN_BENCH_EXTRA:-}" | cut -d= -f2 || echo auto)" "${NN_BENCH_EXTRA:-}" "$busy" $(($(date +%s) - began)))
printf '%s\n' "$section" | $python bench/report.py section bench/RESULTS.md
echo "$section"
