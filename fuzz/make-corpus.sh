#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ from real inputs: the configs, tiny IDX
# files (raw and gzipped), a dataset written by nn-mpi-data and a checkpoint written by
# nn-mpi from it (4x5 images, a 20-3-10 network).
#   fuzz/make-corpus.sh [BUILD_DIR]     (default build/; needs nn-mpi, nn-mpi-data, mpirun)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
corpus=$root/fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NN_BUILD=$build NN_SOURCE=$root NN_DATA=/dev/null NN_MPIEXEC=mpirun NN_MPIEXEC_NUMPROC_FLAG=-np \
    NN_MPIEXEC_PREFLAGS= source "$root/tests/lib.sh" # idx_images, idx_labels
rm -rf "$corpus"
mkdir -p "$corpus"/{config,idx,dataset,checkpoint}

for f in "$root"/configs/*.ini; do cp "$f" "$corpus/config/$(basename "$f")"; done
{ cat "$root/configs/test-small.ini"; printf '\0train.epochs=3'; } >"$corpus/config/set-epochs"
{ cat "$root/configs/tutorial.ini"; printf '\0model.hidden=8, 4'; } >"$corpus/config/set-hidden"
{ cat "$root/configs/test-small.ini"; printf '\0model.dropout=0.5, 0.25'; } >"$corpus/config/set-dropout"

cd "$work"
idx_images train-images-idx3-ubyte 12 4 5
idx_labels train-labels-idx1-ubyte 12
idx_images t10k-images-idx3-ubyte 3 4 5
idx_labels t10k-labels-idx1-ubyte 3
# The IDX target's first byte chooses images (0) or labels (1).
{ printf '\0'; cat t10k-images-idx3-ubyte; } >"$corpus/idx/images"
{ printf '\0'; gzip -c t10k-images-idx3-ubyte; } >"$corpus/idx/images.gz"
{ printf '\1'; cat train-labels-idx1-ubyte; } >"$corpus/idx/labels"
{ printf '\1'; gzip -c train-labels-idx1-ubyte; } >"$corpus/idx/labels.gz"

"$build/nn-mpi-data" --source "fuzz seed" . tiny.h5 >/dev/null
cp tiny.h5 "$corpus/dataset/tiny.h5"
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
printf '[data]\npath = tiny.h5\nvalidation = 2\n[model]\nhidden = 3\n[train]\nepochs = 1\nbatch_size = 5\n[run]\ndir = run\n' >tiny.ini
mpirun -np 1 "$build/nn-mpi" tiny.ini >/dev/null
cp "$(ls run/version_0/ckpt-*.h5 | tail -n 1)" "$corpus/checkpoint/tiny.h5"
ls -l "$corpus"/*
