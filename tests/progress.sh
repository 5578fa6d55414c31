#!/usr/bin/env bash
# [log] progress on real runs at 2 ranks: on a pseudo-terminal (script(1)) the live line is
# redrawn in place (carriage return, erase line), its step count rises, and the epoch line replaces it;
# piped, the loss lines carry samples/s and ETAs and the output has no control characters;
# progress = none prints only the epoch lines, progress = bar forces the live line into a
# pipe. Each form ends with the same epoch lines and the same weights.
source "$(dirname "$0")/lib.sh"
require_data
command -v script >/dev/null || skip "progress: needs script(1) from util-linux"

# About 2 s of training, so that the bar (at most 5 redraws a second) is drawn a few times.
run=("$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA"
     --set data.train_samples=20000 --set model.hidden=256,128 --set train.epochs=2
     --set checkpoint.every_steps=100 --set log.every_steps=50)

# A terminal: script runs mpirun on a pty and copies what it printed. (mpirun gives its
# ranks pseudo-terminals even when its own output is a file: its own output decides.)
# shellcheck disable=SC2086 # the launcher's flags are lists
launch=("$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG 2 $NN_MPIEXEC_PREFLAGS)
script -qec "$(printf '%q ' "${launch[@]}" "${run[@]}" --set run.dir="$WORK/tty")" /dev/null >"$WORK/tty.out" ||
    fail "the run on a terminal failed: $(tail -n 3 "$WORK/tty.out")"
tr '\r' '\n' <"$WORK/tty.out" | grep -a $'^\033\\[Kepoch 1/2 \\[' | sed -E 's/.*\] ([0-9]+)\/400 .*/\1/' >"$WORK/steps"
[ "$(wc -l <"$WORK/steps")" -ge 3 ] || fail "the live line was drawn $(wc -l <"$WORK/steps") times in epoch 1"
sort -n -c "$WORK/steps" || fail "the live line's step count went back: $(tr '\n' ' ' <"$WORK/steps")"
[ "$(tail -n 1 "$WORK/steps")" = 400 ] || fail "the live line did not reach the epoch's last step"
grep -aq $'\r\033\\[Kepoch 1/2 done: ' "$WORK/tty.out" || fail "the epoch line does not erase the live line"
grep -aq $'\r\033\\[Kcheckpoint ' "$WORK/tty.out" || fail "a checkpoint line does not erase the live line"
grep -aq " samples/s ETA [0-9]*:[0-9][0-9] run [0-9]*:[0-9][0-9]" "$WORK/tty.out" || fail "no speed and ETA in the live line"
grep -aq "step 50/400 train_loss" "$WORK/tty.out" && fail "loss lines on a terminal besides the live line"

# A pipe, from mpirun: plain lines with the pace, nothing that moves the cursor.
expect_status 0 mpi 2 "${run[@]}" --set run.dir="$WORK/pipe"
grep -q $'[\r\033]' "$WORK/out" && fail "control characters in piped output"
grep -qE "^epoch 1/2 step 50/400 train_loss [0-9.]+ lr [0-9.e-]+ samples/s [0-9]+ eta [0-9]+:[0-9]{2} run_eta [0-9]+:[0-9]{2}$" "$WORK/out" ||
    fail "no loss line with samples/s and ETAs: $(grep -m1 step "$WORK/out")"
grep "done:" "$WORK/out" | sed 's/ samples\/s.*//' >"$WORK/pipe.epochs"
tr '\r' '\n' <"$WORK/tty.out" | grep -a "done:" | sed $'s/^\033\\[K//; s/ samples\\/s.*//' >"$WORK/tty.epochs"
cmp -s "$WORK/pipe.epochs" "$WORK/tty.epochs" || fail "the epoch lines differ between a terminal and a pipe"
same_state "$(newest "$WORK/tty")" "$(newest "$WORK/pipe")"

# One process without mpirun, piped: lines too.
expect_status 0 "${run[@]}" --set run.dir="$WORK/single" --set train.epochs=1
grep -q $'[\r\033]' "$WORK/out" && fail "control characters in piped output of one process"
grep -q "step 50/400 train_loss .* samples/s" "$WORK/out" || fail "no loss lines from one process"

# none: the epoch lines only; bar: the live line even into a pipe.
expect_status 0 "${run[@]}" --set run.dir="$WORK/none" --set log.progress=none
grep -q "step .*train_loss" "$WORK/out" && fail "progress = none printed loss lines"
[ "$(grep -c "done:" "$WORK/out")" = 2 ] || fail "progress = none lost the epoch lines"
expect_status 0 "${run[@]}" --set run.dir="$WORK/bar" --set log.progress=bar --set train.epochs=1
grep -aq $'\r\033\\[Kepoch 1/1 \\[' "$WORK/out" || fail "progress = bar drew no live line into a pipe"
echo "progress: all checks passed"
