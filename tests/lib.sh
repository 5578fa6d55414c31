# Sourced by the shell tests. CTest sets NN_BUILD (build tree), NN_SOURCE (source tree),
# NN_DATA (the MNIST dataset file) and the MPI launcher from FindMPI: NN_MPIEXEC,
# NN_MPIEXEC_NUMPROC_FLAG, NN_MPIEXEC_PREFLAGS.
set -euo pipefail

NN_MPI="$NN_BUILD/nn-mpi"
NN_MPI_DATA="$NN_BUILD/nn-mpi-data"
WORK=$(mktemp -d /tmp/nn-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# mpi NP PROGRAM ARGS...: runs PROGRAM on NP ranks, with a time limit so that a hang fails.
mpi() {
    local np=$1
    shift
    # shellcheck disable=SC2086 # the preflags are a list
    timeout 300 "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG "$np" $NN_MPIEXEC_PREFLAGS "$@"
}

# expect_status CODE COMMAND...: runs COMMAND, keeping its output in $WORK/out and
# $WORK/err, and fails unless it exits with CODE.
expect_status() {
    local want=$1 got=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" != "$want" ]; then
        cat "$WORK/out" "$WORK/err" >&2
        fail "expected exit status $want, got $got: $*"
    fi
}

# expect_in FILE TEXT: fails unless FILE contains TEXT (a fixed string).
expect_in() {
    grep -qF -- "$2" "$1" || {
        cat "$1" >&2
        fail "$1 does not contain: $2"
    }
}

require_data() {
    [ -r "$NN_DATA" ] || fail "$NN_DATA is missing: run scripts/get-mnist.sh first"
}

# metric FILE EVENT FIELD: the FIELD values of the EVENT lines of a JSON Lines metrics file.
metric() {
    grep "\"event\":\"$2\"" "$1" | sed -E "s/.*\"$3\":([-0-9.eE+naif]+).*/\1/"
}
