#!/usr/bin/env bash
# Runs a short training at two rank counts and reports whether they agree bit for bit:
# every epoch's losses, accuracy and parameter hash, and the final weights and optimizer
# state. Reproducible mode is on unless the options turn it off.
#   scripts/verify-determinism.sh [-a NP] [-b NP] CONFIG [nn-mpi options...]
#   scripts/verify-determinism.sh -a 1 -b 4 configs/mnist.ini --set train.epochs=1
# Ranks default to 1 and 3. Exit status: 0 identical, 1 different, 2 a run failed.
# Environment: NN_MPI (default build/nn-mpi), MPIEXEC (default mpirun).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a=1
b=3
while getopts a:b: opt; do
    case $opt in
    a) a=$OPTARG ;;
    b) b=$OPTARG ;;
    *) echo "usage: $0 [-a NP] [-b NP] CONFIG [nn-mpi options...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
config=${1:?usage: $0 [-a NP] [-b NP] CONFIG [nn-mpi options...]}
shift
nn_mpi=${NN_MPI:-$root/build/nn-mpi}
mpiexec=${MPIEXEC:-mpirun}
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for np in "$a" "$b"; do
    "$mpiexec" -n "$np" "$nn_mpi" "$config" --set train.reproducible=yes "$@" \
        --set run.dir="$work/np$np" --set checkpoint.keep=1 --set checkpoint.resume=no \
        --set log.metrics="$work/np$np.jsonl" >"$work/np$np.log" 2>&1 || {
        cat "$work/np$np.log" >&2
        echo "verify-determinism: the run at $np ranks failed" >&2
        exit 2
    }
    # Everything but the run id and the timings.
    grep '"event":"epoch"' "$work/np$np.jsonl" | sed -E 's/,"run":"[^"]*"//; s/,"samples_per_sec".*//' >"$work/np$np.epochs"
done

same=1
echo "epoch lines at $a ranks | at $b ranks:"
paste -d'|' "$work/np$a.epochs" "$work/np$b.epochs"
cmp -s "$work/np$a.epochs" "$work/np$b.epochs" || same=0
final_a=$(ls "$work/np$a"/version_0/ckpt-*.h5 | tail -n 1)
final_b=$(ls "$work/np$b"/version_0/ckpt-*.h5 | tail -n 1)
for group in /model /optimizer; do
    h5diff -q "$final_a" "$final_b" "$group" "$group" >/dev/null || { same=0; echo "$group differs"; }
done
if [ $same = 1 ]; then
    echo "verify-determinism: $a and $b ranks agree bit for bit"
    exit 0
fi
echo "verify-determinism: $a and $b ranks DIFFER"
exit 1
