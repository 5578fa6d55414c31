#!/usr/bin/env bash
# The collective failure rule (nn_status.h): an allocation that fails on one rank at any
# start-up stage (test fault alloc_fail@RANK:STAGE, nn_fault.h) ends every rank of a -np 3
# run with exit status 1 and the failing rank's message naming what it was allocating,
# printed once, never a hang (60 s limit) or a crash. For every stage, on rank 0 and on
# rank 2. Rank 0 alone lists the hosts (the last stage): a fault there on rank 2 fires
# nowhere and the run finishes.
source "$(dirname "$0")/lib.sh"

# What each stage's message says (NnAllocStage order, from 1).
PHRASES=("out of memory for the config text"
         "out of memory for the canonical config text"
         "out of memory for"          # the dataset: "... bytes of train samples"
         "out of memory for the lists of"
         "out of memory for a model of"
         "out of memory for the gradient sums"
         "out of memory for the sample exchange ("
         "out of memory for the sample exchange's buffers"
         "out of memory for the list of hosts")
DATASET_DETAIL="bytes of train samples"

cd "$WORK"
idx_images train-images-idx3-ubyte 12 4 5
idx_labels train-labels-idx1-ubyte 12
idx_images t10k-images-idx3-ubyte 3 4 5
idx_labels t10k-labels-idx1-ubyte 3
"$NN_MPI_DATA" . tiny.h5 >/dev/null || fail "cannot make the test dataset"
# A validation split, so that the split's row lists are allocated (stage 4). The 3 ranks
# share one node, so the gradient sums' window is shared by all three (stage 7).
printf '[data]\npath = tiny.h5\nvalidation = 2\n[model]\nhidden = 3\n[train]\nepochs = 1\nbatch_size = 4\n[run]\ndir = run\n' >tiny.ini

# run_fault SPEC: nn-mpi on 3 ranks with NN_MPI_TEST_FAULT=SPEC; every rank's exit status in $WORK/exit.R, the output in
# $WORK/out and $WORK/err; returns mpirun's status (124: the time limit).
run_fault() {
    rm -rf run exit.*
    local got=0
    # shellcheck disable=SC2086 # the preflags are a list
    NN_MPI_TEST_FAULT=$1 timeout 60 \
        "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG 3 $NN_MPIEXEC_PREFLAGS \
        bash -c '"$0" "$@"; echo $? >"exit.$OMPI_COMM_WORLD_RANK"' "$NN_MPI" tiny.ini \
        >"$WORK/out" 2>"$WORK/err" || got=$?
    return $got
}

# every_rank_exited CODE SPEC: each rank's exit status (not mpirun's) was CODE.
every_rank_exited() {
    for r in 0 1 2; do
        [ -f "exit.$r" ] || { cat "$WORK/err" >&2; fail "$2: rank $r did not exit (crashed?)"; }
        [ "$(cat "exit.$r")" = "$1" ] ||
            { cat "$WORK/err" >&2; fail "$2: rank $r exited with $(cat "exit.$r"), expected $1"; }
    done
}

run_fault "" || { cat "$WORK/err" >&2; fail "the run without a fault failed"; }
every_rank_exited 0 "no fault"
for stage in $(seq 1 ${#PHRASES[@]}); do
    phrase=${PHRASES[$((stage - 1))]}
    for rank in 0 2; do
        spec=alloc_fail@$rank:$stage
        got=0
        run_fault "$spec" || got=$?
        [ $got != 124 ] || fail "$spec: the run hung (no end within 60 s)"
        if [ "$stage" = ${#PHRASES[@]} ] && [ "$rank" != 0 ]; then
            every_rank_exited 0 "$spec (rank 2 lists no hosts)"
            continue
        fi
        every_rank_exited 1 "$spec"
        expect_in "$WORK/err" "rank $rank: "
        expect_in "$WORK/err" "$phrase"
        [ "$stage" != 3 ] || expect_in "$WORK/err" "$DATASET_DETAIL"
        [ "$(grep -c "out of memory" "$WORK/err")" = 1 ] ||
            { cat "$WORK/err" >&2; fail "$spec: the message is not printed exactly once"; }
        echo "ok: $spec: every rank exited 1: $(grep "out of memory" "$WORK/err")"
    done
done
echo "alloc_fail: ok"
