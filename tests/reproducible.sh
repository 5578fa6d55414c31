#!/usr/bin/env bash
# Reproducible mode on real MNIST (configs/test-small.ini, chunks of 8): runs at -np 1, 2,
# 3, 4, 5 and 8 give bitwise the same weights, optimizer state, logged losses, accuracy and
# parameter hashes, with a batch of 52 (divisible by neither 3 nor 5) and a last batch of 4
# samples, fewer than the ranks. A checkpoint written at -np 4 and resumed at -np 3 ends
# with the bits of the uninterrupted -np 1 run. scripts/verify-determinism.sh says so, and
# says when plain mode differs. By default, configs/mnist.ini is bitwise the same at -np 1
# and 2 (2 chunks of 64), and not at -np 3.
source "$(dirname "$0")/lib.sh"
require_data
run=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set train.reproducible=yes
     --set train.chunk_size=8 --set train.batch_size=52 --set data.train_samples=2968
     --set checkpoint.keep=0)
# 2968 = 57 * 52 + 4: 58 steps per epoch, the last of 4 samples; checkpoints every 20 steps.
final=version_0/ckpt-000000116.h5

epochs() {
    events "$WORK/np$1.jsonl" epoch
}
for np in 1 2 3 4 5 8; do
    expect_status 0 mpi $np "$NN_MPI" "${run[@]}" --set run.dir="$WORK/np$np" \
        --set log.metrics="$WORK/np$np.jsonl"
    if [ $np != 1 ]; then
        same_state "$WORK/np1/$final" "$WORK/np$np/$final"
        cmp -s <(events "$WORK/np1.jsonl" train) <(events "$WORK/np$np.jsonl" train) ||
            fail "np $np logged other training losses than np 1"
        cmp -s <(epochs 1) <(epochs $np) || fail "np $np logged other epoch results than np 1"
    fi
done
epochs 8
[ "$(epochs 1 | grep -c params_hash)" = 2 ] || fail "no parameter hash in the epoch lines"
hash=$("$NN_MPI" --inspect "$WORK/np1/$final" | sed -n 's/^params_hash: //p')
epochs 5 | tail -n 1 | grep -q "\"params_hash\":\"$hash\"" || fail "the checkpoint's params_hash differs from the log's"

# Elastic: written at 4 ranks (step 20), resumed at 3, ends on the 1-rank run's bits.
expect_status 0 mpi 3 "$NN_MPI" "${run[@]}" --set run.dir="$WORK/elastic" \
    --resume "$WORK/np4/version_0/ckpt-000000020.h5"
expect_in "$WORK/out" "(written by 4 ranks)"
same_state "$WORK/np1/$final" "$WORK/elastic/$final"

# The audit script: agreement in reproducible mode; plain mode's rounding shows.
expect_status 0 env NN_MPI="$NN_MPI" MPIEXEC="$NN_MPIEXEC" "$NN_SOURCE/scripts/verify-determinism.sh" \
    -a 2 -b 5 "${run[@]}"
expect_in "$WORK/out" "verify-determinism: 2 and 5 ranks agree bit for bit"
expect_status 1 env NN_MPI="$NN_MPI" MPIEXEC="$NN_MPIEXEC" "$NN_SOURCE/scripts/verify-determinism.sh" \
    -a 1 -b 3 "${run[@]}" --set train.reproducible=no
expect_in "$WORK/out" "verify-determinism: 1 and 3 ranks DIFFER"

# The defaults (reproducible = auto, chunk_size = auto): configs/mnist.ini's batch of 128 is
# 2 chunks of 64, summed exactly on 1 and 2 ranks; 3 ranks are more than the chunks, and
# sum floats (verify-determinism.sh sets reproducible = yes unless told otherwise).
default=("$NN_SOURCE/configs/mnist.ini" --set data.path="$NN_DATA" --set data.train_samples=2560
         --set data.test_samples=1000 --set train.epochs=1 --set train.reproducible=auto)
expect_status 0 env NN_MPI="$NN_MPI" MPIEXEC="$NN_MPIEXEC" "$NN_SOURCE/scripts/verify-determinism.sh" \
    -a 1 -b 2 "${default[@]}"
expect_in "$WORK/out" "verify-determinism: 1 and 2 ranks agree bit for bit"
expect_status 1 env NN_MPI="$NN_MPI" MPIEXEC="$NN_MPIEXEC" "$NN_SOURCE/scripts/verify-determinism.sh" \
    -a 2 -b 3 "${default[@]}"
expect_in "$WORK/out" "verify-determinism: 2 and 3 ranks DIFFER"
# A default run at -np 2 (exact) resumed at -np 3 (floats) says that it leaves the bits.
expect_status 0 mpi 2 "$NN_MPI" "${default[@]}" --set train.epochs=2 --set run.dir="$WORK/auto2"
expect_in "$WORK/out" "reproducible: exact sums of 2 chunks of 64 samples a batch"
expect_status 0 mpi 3 "$NN_MPI" "${default[@]}" --set train.epochs=2 --set run.dir="$WORK/auto3" \
    --resume "$WORK/auto2/version_0/ckpt-000000020.h5"
expect_in "$WORK/out" "note: the checkpoint's run summed exactly, this one sums floats"
finish reproducible
