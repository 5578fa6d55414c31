#!/usr/bin/env bash
# Converts Debian's Fashion-MNIST (package dataset-fashion-mnist: the four gzipped IDX
# files in /usr/share/datasets/fashion-mnist) to the nn-mpi dataset file
# data/fashion-mnist.h5, for configs/fashion-mnist.ini.
#   scripts/get-fashion-mnist.sh [OUT.h5]
# Does nothing when OUT.h5 already exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/data/fashion-mnist.h5}
src=/usr/share/datasets/fashion-mnist
converter=${NN_MPI_DATA:-$root/build/nn-mpi-data} # the converter: build/nn-mpi-data unless given
[ -f "$out" ] && exit 0
[ -x "$converter" ] || { echo "get-fashion-mnist: $converter is missing: run scripts/build.sh first" >&2; exit 1; }
[ -r "$src/train-images-idx3-ubyte.gz" ] ||
    { echo "get-fashion-mnist: $src is missing: install dataset-fashion-mnist (scripts/setup-deps.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$converter" --source "Fashion-MNIST (Debian dataset-fashion-mnist)" "$src" "$out"
