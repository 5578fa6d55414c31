#!/usr/bin/env bash
# Too little room in /dev/shm (NN_MPI_TEST_SHM_FREE stands in for its free space,
# nn_node.h, then a real 32 MiB one): instead of failing to create or fill a shared window
# (Open MPI aborts, or a rank dies with SIGBUS), the ranks keep private copies, rank 0 warns
# naming what did not fit, and training ends with bitwise the weights of a run with room
# (reproducible mode, configs/test-small.ini, 2 ranks).
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0
       --set train.reproducible=yes)
data_warning="MiB of shared training data"
model_warning="MiB of shared weights and gradients"

# With room (1 TB stands in for whatever this machine's /dev/shm has): no warning.
NN_MPI_TEST_SHM_FREE=1e12 expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" \
    --set run.dir="$WORK/room"
if grep -q "/dev/shm has" "$WORK/err"; then fail "a warning about /dev/shm with room to spare"; fi

# Room for the weights (1.2 MiB on the node) but not for the training data (2.2 MiB), with
# 64 MiB to spare; then room for neither.
for free in 68800000 1000; do
    NN_MPI_TEST_SHM_FREE=$free expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" \
        --set run.dir="$WORK/free$free"
    expect_in "$WORK/err" "rank 0: warning: /dev/shm has"
    expect_in "$WORK/err" "$data_warning"
    if [ $free = 1000 ]; then
        expect_in "$WORK/err" "$model_warning"
    elif grep -q "$model_warning" "$WORK/err"; then
        fail "warned about the weights, which fit in $free bytes"
    fi
    same_state "$(newest "$WORK/room")" "$(newest "$WORK/free$free")"
    echo "free $free bytes: warned, private copies, the same weights"
done
# A real /dev/shm of 32 MiB (a private mount, where root may make one), as in a container:
# the earlier build died here with Open MPI's "not enough space for /dev/shm/osc_sm...".
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    # shellcheck disable=SC2016,SC2086 # the script's "$@" is its own; the preflags are a list
    expect_status 0 unshare -m sh -c 'mount -t tmpfs -o size=32m tmpfs /dev/shm && exec "$@"' sh \
        timeout 300 "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG 2 $NN_MPIEXEC_PREFLAGS "$NN_MPI" \
        "${small[@]}" --set run.dir="$WORK/tmpfs"
    expect_in "$WORK/err" "$data_warning"
    same_state "$(newest "$WORK/room")" "$(newest "$WORK/tmpfs")"
    echo "a 32 MiB /dev/shm: warned, private copies, the same weights"
else
    skip_part "the 32 MiB /dev/shm check: mounting a private tmpfs needs root and unshare -m"
fi
finish shm_room
