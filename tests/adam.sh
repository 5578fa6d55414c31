#!/usr/bin/env bash
# Adam and AdamW on real MNIST (configs/test-small.ini: 784-64-32-10, 3000 training rows, 2
# epochs of 60 steps, a checkpoint every 20): an Adam and an AdamW run learn (test accuracy
# at least 85% after 2 epochs; SGD's config reaches 88%); checkpoints hold the moments and
# the step count (format 4) and inspect shows them; in reproducible mode, with every other
# option of issue 16 on too (dropout, max-norm, label smoothing, augmentation, clipping,
# warm-up), -np 1 and 3 give bitwise the same weights, moments and logged results, and
# resumes mid-epoch at another rank count end on the uninterrupted run's bits; a plain resume at the same rank count
# does too; a resume that changes the optimizer, beta1, beta2 or epsilon is refused (status
# 2) naming the setting, one that changes the learning rate is not.
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0
       --set train.learning_rate=0.002 --set train.lr_schedule=constant)
adam=("${small[@]}" --set train.optimizer=adam)

# Plain mode at 2 ranks: Adam (with the config's weight decay as L2) and AdamW learn.
expect_status 0 mpi 2 "$NN_MPI" "${adam[@]}" --set run.dir="$WORK/plain" \
    --set log.metrics="$WORK/plain.jsonl"
at_least "$(metric "$WORK/plain.jsonl" epoch test_accuracy | tail -n 1)" 0.85 \
    "Adam's test accuracy after 2 epochs"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set train.optimizer=adamw \
    --set train.weight_decay=0.01 --set run.dir="$WORK/adamw" --set log.metrics="$WORK/adamw.jsonl"
at_least "$(metric "$WORK/adamw.jsonl" epoch test_accuracy | tail -n 1)" 0.85 \
    "AdamW's test accuracy after 2 epochs"
echo "test accuracy after 2 epochs: adam $(metric "$WORK/plain.jsonl" epoch test_accuracy | tail -n 1), adamw $(metric "$WORK/adamw.jsonl" epoch test_accuracy | tail -n 1)"

# The checkpoint: format 4, the optimizer's attributes and moments per layer, no velocity.
final=version_0/ckpt-000000120.h5
h5dump -A "$WORK/plain/$final" >"$WORK/dump" || fail "h5dump cannot read an Adam checkpoint"
for text in 'ATTRIBUTE "beta1"' 'ATTRIBUTE "beta2"' 'ATTRIBUTE "epsilon"' 'ATTRIBUTE "step"' \
    'DATASET "weights_exp_avg"' 'DATASET "biases_exp_avg"' 'DATASET "weights_exp_avg_sq"' \
    'DATASET "biases_exp_avg_sq"' '"adam"'; do
    expect_in "$WORK/dump" "$text"
done
! grep -q velocity "$WORK/dump" || fail "an Adam checkpoint holds a velocity"
h5dump -a /format_version "$WORK/plain/$final" | grep -q '(0): 4' || fail "not format version 4"
expect_status 0 "$NN_MPI" inspect "$WORK/plain/$final"
expect_in "$WORK/out" "optimizer: adam (beta1 0.9, beta2 0.999, epsilon 1e-08, weight_decay 0.0001) after 120 steps"
expect_in "$WORK/out" "[train] optimizer = adam"

# Plain mode resumes at the same rank count bitwise, mid-epoch.
expect_status 0 mpi 2 "$NN_MPI" "${adam[@]}" --set run.dir="$WORK/plain40" \
    --resume "$WORK/plain/version_0/ckpt-000000040.h5"
same_state "$WORK/plain/$final" "$WORK/plain40/$final"

# Reproducible mode, with the regularizers, augmentation, clipping and warm-up on: -np 1
# and 3 agree bit for bit; resumed mid-epoch (steps 20, in the warm-up, and 100 of epochs
# of 60) at another rank count, the run ends on the same bits.
exact=("${adam[@]}" --set train.reproducible=yes --set train.chunk_size=8
       --set model.dropout=0.2 --set model.max_norm=3 --set train.label_smoothing=0.1
       --set data.augment=2 --set train.clip_grad_norm=1 --set train.warmup_epochs=0.5)
events() {
    grep "\"event\":\"$2\"" "$1" | sed -E 's/,"run":"[^"]*"//; s/,"samples_per_sec".*//'
}
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${exact[@]}" --set run.dir="$WORK/np$np" \
        --set log.metrics="$WORK/np$np.jsonl"
done
same_state "$WORK/np1/$final" "$WORK/np3/$final"
cmp -s <(events "$WORK/np1.jsonl" train) <(events "$WORK/np3.jsonl" train) ||
    fail "np 3 logged other training losses than np 1"
cmp -s <(events "$WORK/np1.jsonl" epoch) <(events "$WORK/np3.jsonl" epoch) ||
    fail "np 3 logged other epoch results than np 1"
expect_status 0 mpi 2 "$NN_MPI" "${exact[@]}" --set run.dir="$WORK/r20" \
    --resume "$WORK/np3/version_0/ckpt-000000020.h5"
expect_in "$WORK/out" "resuming from $WORK/np3/version_0/ckpt-000000020.h5 at epoch 1 step 20 (written by 3 ranks)"
same_state "$WORK/np1/$final" "$WORK/r20/$final"
expect_status 0 mpi 3 "$NN_MPI" "${exact[@]}" --set run.dir="$WORK/r100" \
    --resume "$WORK/np1/version_0/ckpt-000000100.h5"
same_state "$WORK/np1/$final" "$WORK/r100/$final"

# Settings the moments depend on cannot change on resume (status 2, before any data is
# loaded); the learning rate can.
from="$WORK/np1/version_0/ckpt-000000060.h5"
refused() { # refused SETTING WHAT: the resume with --set SETTING is refused, naming WHAT
    expect_status 2 mpi 1 "$NN_MPI" "${exact[@]}" --set "$1" --set run.dir="$WORK/y" --resume "$from"
    expect_in "$WORK/err" "rank 0: $from: $2; it cannot change on resume"
}
refused train.optimizer=sgd "[train] optimizer is adam in the checkpoint but sgd in this run"
refused train.optimizer=adamw "[train] optimizer is adam in the checkpoint but adamw in this run"
refused train.beta1=0.8 "[train] beta1 is 0.9 in the checkpoint but 0.8 in this run"
refused train.beta2=0.99 "[train] beta2 is 0.999 in the checkpoint but 0.99 in this run"
refused train.epsilon=1e-6 "[train] epsilon is 1e-08 in the checkpoint but 1e-06 in this run"
expect_status 0 mpi 1 "$NN_MPI" "${exact[@]}" --set train.learning_rate=0.001 \
    --set run.dir="$WORK/lr" --resume "$from"
# An SGD checkpoint (format 3, before the choice existed) does not continue as Adam.
old=(--set model.hidden=4 --set data.train_samples=100 --set data.test_samples=50
     --set train.epochs=2 --set train.batch_size=50 --set checkpoint.every_steps=0)
expect_status 2 mpi 1 "$NN_MPI" "${adam[@]}" "${old[@]}" --set run.dir="$WORK/v3" \
    --resume "$NN_SOURCE/tests/data/ckpt-v3-step2.h5"
expect_in "$WORK/err" "[train] optimizer is sgd in the checkpoint but adam in this run"
finish adam
