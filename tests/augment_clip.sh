#!/usr/bin/env bash
# Augmentation, gradient clipping and warm-up on real MNIST (configs/test-small.ini with
# [data] augment = 2, [train] clip_grad_norm = 1, warmup_epochs = 0.5): in reproducible mode
# runs at -np 1, 3 and 4 end on bitwise the same weights and optimizer state and log the
# same losses, rates and gradient norms; the shifts change the run; the test loss the run
# logged is the one nn-mpi eval computes from its checkpoint (evaluation is not shifted);
# a resume in the middle of an epoch, during the warm-up, is bitwise exact, in reproducible
# mode at another rank count and in plain mode at the same one. warmup_epochs and
# warmup_steps together are refused.
source "$(dirname "$0")/lib.sh"

expect_status 2 "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set train.warmup_epochs=1 \
    --set train.warmup_steps=10
expect_in "$WORK/err" "rank 0: [train] warmup_epochs = 1 and warmup_steps = 10: give one of them"

require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0
       --set data.augment=2 --set train.clip_grad_norm=1 --set train.warmup_epochs=0.5)
exact=("${small[@]}" --set train.reproducible=yes --set train.chunk_size=8)
# 2 epochs of 60 steps, checkpoints every 20 steps; the warm-up is the first 30.
final=version_0/ckpt-000000120.h5

# events NAME EVENT: the metrics' EVENT lines without the run id and the timings.
events() {
    grep "\"event\":\"$2\"" "$WORK/$1.jsonl" | sed -E 's/,"run":"[^"]*"//; s/,"samples_per_sec".*//'
}
for np in 1 3 4; do
    expect_status 0 mpi $np "$NN_MPI" "${exact[@]}" --set run.dir="$WORK/np$np" \
        --set log.metrics="$WORK/np$np.jsonl"
    if [ $np != 1 ]; then
        same_state "$WORK/np1/$final" "$WORK/np$np/$final"
        cmp -s <(events np1 train) <(events np$np train) ||
            fail "np $np logged other training losses, rates or gradient norms than np 1"
        cmp -s <(events np1 epoch) <(events np$np epoch) ||
            fail "np $np logged other epoch results than np 1"
    fi
done
[ "$(events np1 train | grep -c '"grad_norm":')" = 12 ] || fail "the train events lack grad_norm"
# The rate rises over the warm-up: step 10 of 30 has 10/30 of the cosine schedule's rate,
# 0.05 (1 + cos(pi 9/120)) / 2 = 0.0493.
metric "$WORK/np1.jsonl" train lr | head -n 1 | grep -q '^0.01643' ||
    fail "step 10's rate is $(metric "$WORK/np1.jsonl" train lr | head -n 1), not 0.0493 * 10/30"
echo "reproducible with augment, clipping and warm-up: np 1, 3 and 4 agree bit for bit"

# The shifts change the run.
expect_status 0 mpi 1 "$NN_MPI" "${exact[@]}" --set data.augment=0 --set run.dir="$WORK/still"
if h5diff "$WORK/np1/$final" "$WORK/still/$final" /model /model >/dev/null; then
    fail "[data] augment = 2 trained the same weights as augment = 0"
fi

# Evaluation is not shifted: the run's logged test loss is nn-mpi eval's, to the bit.
logged=$(h5dump -m '%.17g' -a /train/test_loss "$WORK/np1/$final" | sed -n 's/^ *(0): //p')
expect_status 0 mpi 3 "$NN_MPI" eval "$WORK/np1/$final" --json
evaluated=$(sed -E 's/.*"loss":([-0-9.eE+]+).*/\1/' "$WORK/out")
[ -n "$logged" ] && [ "$logged" = "$evaluated" ] ||
    fail "the run logged test loss ${logged:-?}, nn-mpi eval computes $evaluated"
echo "test loss $logged: logged by the run and computed by nn-mpi eval"

# Resume mid-epoch during the warm-up (step 20 of 60): reproducible at 3 ranks from the
# 4-rank run's checkpoint, plain at 2 ranks from its own run's.
expect_status 0 mpi 3 "$NN_MPI" "${exact[@]}" --set run.dir="$WORK/resumed" \
    --resume "$WORK/np4/version_0/ckpt-000000020.h5"
expect_in "$WORK/out" "at epoch 1 step 20 (written by 4 ranks)"
same_state "$WORK/np1/$final" "$WORK/resumed/$final"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/plain"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/plain2" \
    --resume "$WORK/plain/version_0/ckpt-000000020.h5"
same_state "$WORK/plain/$final" "$WORK/plain2/$final"
echo "resumed at step 20 of 60: bitwise the uninterrupted runs (reproducible and plain)"
finish augment_clip
