#!/usr/bin/env bash
# Installs the Debian packages nn-mpi needs to build, run and test, if any are missing.
set -euo pipefail

PACKAGES=(gcc make cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
          libopenblas-dev libinih-dev zlib1g-dev curl ca-certificates gzip dataset-fashion-mnist
          slurmctld slurmd slurm-client munge python3-numpy python3-h5py
          libcsv-dev libzip-dev python3-pandas)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
