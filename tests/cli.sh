#!/usr/bin/env bash
# nn-mpi's command line and its failures: usage, config errors with file:line, overrides,
# a missing dataset, and a diverging run. Each failure exits with the documented status,
# prints one clear message (from one rank, prefixed with it) and never hangs, at 1 and 3
# ranks.
source "$(dirname "$0")/lib.sh"

expect_status 0 mpi 1 "$NN_MPI" --help
expect_in "$WORK/out" "usage: nn-mpi COMMAND"
expect_in "$WORK/out" "usage: nn-mpi train CONFIG"
expect_in "$WORK/out" "[train] batch_size (integer, default '64'"
for command in train inspect eval export predict gradcheck plot; do
    expect_status 0 "$NN_MPI" $command --help
    expect_in "$WORK/out" "usage: nn-mpi $command"
done
expect_status 2 "$NN_MPI" inspect
expect_in "$WORK/err" "nn-mpi inspect: no checkpoint given"
expect_status 0 mpi 1 "$NN_MPI" --version
expect_in "$WORK/out" "nn-mpi 0."

expect_status 1 "$NN_MPI" --inspect "$WORK/none.h5"
expect_in "$WORK/out" "$WORK/none.h5: INVALID: $WORK/none.h5: cannot open checkpoint: No such file or directory"
expect_status 2 mpi 1 "$NN_MPI"
expect_in "$WORK/err" "rank 0: nn-mpi: no config file given"
expect_status 2 mpi 1 "$NN_MPI" --frobnicate x.ini
expect_in "$WORK/err" "unknown option --frobnicate"
expect_status 2 mpi 1 "$NN_MPI" "$WORK/missing.ini"
expect_in "$WORK/err" "rank 0: $WORK/missing.ini: cannot open: No such file or directory"

cat >"$WORK/bad.ini" <<'INI'
[data]
path = nowhere.h5

[train]
epochs = 2
batch_size = 0
INI
for np in 1 3; do
    expect_status 2 mpi $np "$NN_MPI" "$WORK/bad.ini"
    expect_in "$WORK/err" "rank 0: $WORK/bad.ini:6: [train] batch_size = 0: must be >= 1"
    [ "$(grep -c batch_size "$WORK/err")" = 1 ] || fail "the config error was printed more than once"
done
sed 's/batch_size = 0/batch_size = 10/' "$WORK/bad.ini" >"$WORK/ok.ini"
expect_status 2 mpi 1 "$NN_MPI" "$WORK/ok.ini" --set train.batch_size=20 --set train.epoch=3
expect_in "$WORK/err" "--set train.epoch=3: unknown key 'epoch' in section [train] (did you mean 'epochs'?)"

# A missing dataset: status 1, one message naming the file, no checkpoint directory made.
for np in 1 3; do
    expect_status 1 mpi $np "$NN_MPI" "$WORK/ok.ini" --set run.dir="$WORK/ck"
    expect_in "$WORK/err" "rank 0: nowhere.h5: cannot open: No such file or directory"
    [ "$(grep -c nowhere "$WORK/err")" = 1 ] || fail "the data error was printed more than once"
done
[ ! -e "$WORK/ck" ] || fail "a failed start created the checkpoint directory"

# A run that diverges stops with status 1 at the first non-finite loss, on every rank.
require_data
cat >"$WORK/diverge.ini" <<INI
[data]
path = $NN_DATA
train_samples = 2000
test_samples = 100
[model]
hidden = 64, 64, 64
activation = relu
[train]
epochs = 1
batch_size = 50
learning_rate = 1000
momentum = 0.99
[checkpoint]
dir =
INI
expect_status 1 mpi 3 "$NN_MPI" "$WORK/diverge.ini"
expect_in "$WORK/err" "rank 0: training loss is NaN at epoch 1 step 4"
expect_in "$WORK/err" "lower [train] learning_rate?"
# Reproducible mode sees the gradients leave the range of its exact sums earlier.
expect_status 1 mpi 3 "$NN_MPI" "$WORK/diverge.ini" --set train.reproducible=yes --set train.chunk_size=16
expect_in "$WORK/err" "rank 0: 12843 gradient values are NaN, infinite or beyond +-1.04858e+06 (the range of reproducible mode's exact sums) at epoch 1 step 2"
[ "$(grep -c 'gradient values' "$WORK/err")" = 1 ] || fail "the divergence was reported more than once"
finish cli
