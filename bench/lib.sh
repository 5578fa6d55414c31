# shellcheck shell=bash
# Sourced by the benchmark scripts (bash, from the repository's root): the environment every
# run shares, bench/run.sh's networks, and the CPU lock.

# MPI as root, and more ranks than cores.
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# Every contender gets the same BLAS kernels: OpenBLAS 0.3.21 does not recognise some newer
# CPUs and falls back to its slowest ones (nn-mpi corrects that itself; the others cannot).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=SkylakeX ||
        { grep -qw avx2 /proc/cpuinfo && export OPENBLAS_CORETYPE=Haswell; } || true
fi

# The networks (bench/nnref.py): A = 784-50-10 sigmoid, batch 100; B = 784-512-512-10 ReLU,
# batch 128; default = configs/mnist.ini's 784-512-256-10 ReLU, batch 128. nn_settings: the
# nn-mpi settings of each over configs/mnist.ini.
nn_settings() {
    case $1 in
    A) echo "--set model.hidden=50 --set model.activation=sigmoid --set train.batch_size=100
             --set train.learning_rate=0.1 --set train.momentum=0 --set train.weight_decay=0
             --set train.lr_schedule=constant" ;;
    B) echo "--set model.hidden=512,512 --set model.activation=relu --set train.batch_size=128
             --set train.learning_rate=0.05 --set train.momentum=0.9 --set train.weight_decay=0
             --set train.lr_schedule=constant" ;;
    default) echo "" ;;
    esac
}
sizes() { case $1 in A) echo 784,50,10 ;; B) echo 784,512,512,10 ;; default) echo 784,512,256,10 ;; esac; }
batch() { case $1 in A) echo 100 ;; *) echo 128 ;; esac; }
epochs() { case $1 in A) echo 3 ;; *) echo 1 ;; esac; }

# locked COMMAND...: runs COMMAND, holding $NN_BENCH_LOCK when set; adds the time it ran (not
# the wait for the lock) to $out/busy (the caller's scratch directory $out).
# shellcheck disable=SC2154 # $out is the caller's
locked() {
    local start rc=0
    start=$(date +%s.%N)
    if [ -n "${NN_BENCH_LOCK:-}" ]; then
        # shellcheck disable=SC2016 # expanded by the inner bash
        flock "$NN_BENCH_LOCK" bash -c 'date +%s.%N >"$0"; exec "$@"' "$out/held" "$@" || rc=$?
        start=$(cat "$out/held")
    else
        "$@" || rc=$?
    fi
    echo "$start $(date +%s.%N)" >>"$out/busy"
    return $rc
}
