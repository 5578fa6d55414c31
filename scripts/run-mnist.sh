#!/usr/bin/env bash
# The run command: installs what is missing (Debian packages, MNIST), builds, and trains
# configs/mnist.ini (or the config given) with one rank per core. Each call is a new run
# (the next version_N in the config's [run] dir) unless the options say --resume or
# --run-name.
#   scripts/run-mnist.sh [CONFIG] [nn-mpi options...]     NP=4 scripts/run-mnist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh
scripts/get-mnist.sh
config=configs/mnist.ini
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    config=$1
    shift
fi
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OPENBLAS_NUM_THREADS=1
new=(--new-run)
for arg in "$@"; do
    case $arg in --resume | --new-run | --run-name) new=() ;; esac
done
exec mpirun -np "${NP:-$(nproc)}" build/nn-mpi "$config" "${new[@]}" "$@"
