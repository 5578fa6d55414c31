#!/usr/bin/env bash
# Runs at -np 1, 3 and 4 from the same seed log the same loss trajectory up to float
# rounding (configs/test-small.ini: 120 steps, a loss line every 10 steps).
source "$(dirname "$0")/lib.sh"
require_data
for np in 1 3 4; do
    expect_status 0 mpi $np "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" \
        --set run.dir= --set log.metrics="$WORK/np$np.jsonl"
    metric "$WORK/np$np.jsonl" train train_loss >"$WORK/loss$np"
    metric "$WORK/np$np.jsonl" epoch test_accuracy >"$WORK/acc$np"
done
[ "$(wc -l <"$WORK/loss1")" = 12 ] || fail "expected 12 loss lines at -np 1"
for np in 3 4; do
    paste "$WORK/loss1" "$WORK/loss$np" | awk -v np=$np '
        { d = $1 - $2; if (d < 0) d = -d; r = d / $1; if (r > worst) worst = r; n++ }
        END { printf "np 1 vs np %d: %d loss values, worst relative difference %.2e\n", np, n, worst
              exit !(n == 12 && worst < 1e-4) }' || fail "np $np loss trajectory differs from np 1"
    paste "$WORK/acc1" "$WORK/acc$np" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 0.002) bad = 1 }
        END { exit bad }' || fail "np $np test accuracy differs from np 1"
done
echo "trajectory: all checks passed"
