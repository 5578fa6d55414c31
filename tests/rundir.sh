#!/usr/bin/env bash
# Run directories ([run] dir: version_N per run, a lock, resume auto, retention, metrics)
# on real MNIST (configs/test-small.ini, 2 epochs of 60 steps at -np 2, a checkpoint every
# 20 steps and every epoch):
#  1. a fresh start in a directory that holds a run is refused (status 2) before any data
#     is read, and changes nothing there;
#  2. --new-run starts version_1 beside it; its retention never touches version_0;
#  3. --resume auto picks the newest run with this config's fixed settings, skipping newer
#     runs of another config, and names the difference when none matches;
#  4. of two runs started at once in one directory, one runs and the other is refused at
#     once naming the live holder (run id, pid);
#  5. --resume auto while a run is live is refused and touches none of its files (its
#     temporary file included); the live run finishes;
#  6. a damaged newest checkpoint and stray entries named ckpt-*.h5 (a directory, a
#     dangling link) are skipped, and retention (keep = 1) deletes none of them;
#  7. FIFOs as dataset, checkpoint, --inspect argument, config and a ckpt-*.h5 in a run:
#     refused at once, no hang;
#  8. an unwritable run directory (a read-only bind mount): status 2 before any data;
#  9. the metrics file: appended to, never truncated; the run id on every event; the same
#     id in the checkpoints and version_N/run_id, kept by a resume;
# 10. validation, keep_best and early stopping in reproducible mode at -np 1 and -np 3:
#     the same stopping epoch and best checkpoint, bit for bit; the best survives retention;
#     a later resume has nothing to do.
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA")

# snapshot DIR: every entry under DIR (path, type, mode, size, link target) and the md5sum
# of every regular file, sorted: equal snapshots mean nothing in DIR changed. The lock's
# text is left out: it names the lock's last holder, which a refused run is for a moment.
snapshot() {
    (cd "$1" && find . -mindepth 1 \( -path ./lock -printf '%p %y\n' -o -printf '%p %y %m %s %l\n' \) |
        sort && find . -type f ! -path ./lock -exec md5sum {} + | sort)
}

# unchanged DIR BEFORE: fails unless DIR's snapshot equals the one saved in file BEFORE.
unchanged() {
    snapshot "$1" >"$WORK/after.snap"
    diff "$2" "$WORK/after.snap" >&2 || fail "$1 changed"
}

# no_data: the run of $WORK/out never got as far as loading the data (the header line).
no_data() {
    if grep -qE '^nn-mpi [0-9.]+:' "$WORK/out"; then
        cat "$WORK/out" >&2
        fail "the refused run loaded the data"
    fi
}

# run_id_of CHECKPOINT: the run_id attribute, as h5dump reads it.
run_id_of() {
    h5dump -a run_id "$1" | sed -n 's/.*(0): "\(.*\)".*/\1/p'
}

# listing DIR: DIR's names on one line.
listing() {
    ls "$1" | tr '\n' ' '
}

# 1. A fresh 1-epoch start in a directory holding a finished 2-epoch run.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/done"
[ "$(listing "$WORK/done")" = "lock version_0 " ] || fail "$WORK/done holds: $(listing "$WORK/done")"
cp -a "$WORK/done" "$WORK/done.copy" # for later parts
snapshot "$WORK/done" >"$WORK/done.snap"
start=$(date +%s)
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/done" --set train.epochs=1
expect_in "$WORK/err" "$WORK/done holds another run ($WORK/done/version_0); a fresh start there is refused. Continue it with --resume auto, start a new run beside it with --new-run, or choose another [run] dir"
no_data
[ $(($(date +%s) - start)) -lt 20 ] || fail "the refusal took $(($(date +%s) - start)) s"
unchanged "$WORK/done" "$WORK/done.snap"
echo "1. a fresh start in a used directory: status 2 before the data, nothing changed"

# 2. --new-run beside it, keeping 1 checkpoint.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/done" --new-run \
    --set checkpoint.keep=1
id0=$(cat "$WORK/done/version_0/run_id")
id1=$(cat "$WORK/done/version_1/run_id")
expect_in "$WORK/out" "run $id1 in $WORK/done/version_1"
[ "$id0" != "$id1" ] || fail "the new run kept the old run's id $id0"
[ "$(listing "$WORK/done/version_1")" = "ckpt-000000120.h5 config.ini metrics.jsonl run_id " ] ||
    fail "version_1 holds: $(listing "$WORK/done/version_1")"
snapshot "$WORK/done/version_0" >"$WORK/v0.snap"
snapshot "$WORK/done.copy/version_0" | diff - "$WORK/v0.snap" >&2 ||
    fail "--new-run changed version_0"
echo "2. --new-run: version_1 with its newest checkpoint, version_0 untouched"

# 3. A relu run, then a newer tanh run beside it.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mix"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mix" --new-run \
    --set model.activation=tanh
snapshot "$WORK/mix/version_1" >"$WORK/tanh.snap"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mix" --resume auto \
    --set train.epochs=3
expect_in "$WORK/err" "rank 0: warning: not resuming $WORK/mix/version_1: $WORK/mix/version_1/ckpt-000000120.h5: [model] activation is tanh in the checkpoint but relu in this run"
expect_in "$WORK/out" "resuming from $WORK/mix/version_0/ckpt-000000120.h5 at epoch 3 step 0"
[ -f "$WORK/mix/version_0/ckpt-000000180.h5" ] || fail "the relu run did not continue in version_0"
unchanged "$WORK/mix/version_1" "$WORK/tanh.snap"
snapshot "$WORK/mix" >"$WORK/mix.snap"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mix" --resume auto \
    --set model.activation=sigmoid
expect_in "$WORK/err" "[model] activation is tanh in the checkpoint but sigmoid in this run"
expect_in "$WORK/err" "no run in $WORK/mix can continue with this config"
no_data
unchanged "$WORK/mix" "$WORK/mix.snap"
echo "3. --resume auto: the relu run past a newer tanh one; no match: status 2, the difference named"

# 4. Two runs started at once in one directory, first fresh, then both resuming.
# pair ARGS...: runs two nn-mpi jobs at once (output in $WORK/p1.log and $WORK/p2.log)
# and sets WINNER and LOSER to the log of the one that ended 0 and the one that ended 2.
# The second starts 0.3 s after the first: two starts in step to the microsecond can
# still find the lock taken but its text not yet rewritten, and name the last ended run.
pair() {
    local s1=0 s2=0 p1 p2
    mpi_within 120 2 "$NN_MPI" "$@" >"$WORK/p1.log" 2>&1 &
    p1=$!
    sleep 0.3
    mpi_within 120 2 "$NN_MPI" "$@" >"$WORK/p2.log" 2>&1 &
    p2=$!
    wait $p1 || s1=$?
    wait $p2 || s2=$?
    case "$s1 $s2" in
    "0 2") WINNER=$WORK/p1.log LOSER=$WORK/p2.log ;;
    "2 0") WINNER=$WORK/p2.log LOSER=$WORK/p1.log ;;
    *) cat "$WORK/p1.log" "$WORK/p2.log" >&2; fail "two runs at once ended with $s1 and $s2, expected 0 and 2" ;;
    esac
}
# names_holder DIR: $LOSER names the run that held DIR's lock, which now names it: its pid
# and host, and its run id or, when it had not yet chosen its run, "(starting)".
names_holder() {
    local id host pid
    id=$(cat "$(ls -d "$1"/version_* | sort -V | tail -n 1)/run_id")
    host=$(sed -n 's/.*, host \([^,]*\), pid.*/\1/p' "$1/lock")
    pid=$(sed -n 's/.*, pid \([0-9]*\), started.*/\1/p' "$1/lock")
    [ -n "$pid" ] || fail "the lock does not name its holder: $(cat "$1/lock")"
    grep -qE "^rank 0: $1 is in use by another live run \(run ($id in $1/version_[0-9]+|\(starting\) in $1), host $host, pid $pid, started [-0-9T:]+Z\); one run at a time per directory" "$LOSER" ||
        { cat "$LOSER" >&2; fail "the refused run does not name the live one: $(cat "$1/lock")"; }
}
pair "${small[@]}" --set run.dir="$WORK/pair" --set train.epochs=40
names_holder "$WORK/pair"
grep -qE '^nn-mpi [0-9.]+:' "$LOSER" && fail "the refused run loaded the data"
expect_in "$WINNER" "epoch 40/40 done"
[ "$(listing "$WORK/pair")" = "lock version_0 " ] || fail "$WORK/pair holds: $(listing "$WORK/pair")"
[ "$(listing "$WORK/pair/version_0")" = "ckpt-000002360.h5 ckpt-000002380.h5 ckpt-000002400.h5 config.ini metrics.jsonl run_id " ] ||
    fail "the live run's directory holds: $(listing "$WORK/pair/version_0")"
expect_status 0 "$NN_MPI" --inspect "$WORK/pair/version_0/ckpt-000002400.h5"
# The lock now names the process that ended; the refused one of the next pair must name
# the live one.
dead=$(cat "$WORK/pair/lock")
pair "${small[@]}" --set run.dir="$WORK/pair" --set train.epochs=80 --resume auto
[ "$(cat "$WORK/pair/lock")" != "$dead" ] || fail "the lock still names the ended run: $dead"
names_holder "$WORK/pair"
expect_in "$WINNER" "epoch 80/80 done"
echo "4. two runs at once: one ran, the other ended 2 at once naming the live holder"

# 5. --resume auto while another run is live in the directory.
# (a) The live run stalls halfway through writing checkpoint 60 (its temporary file stays).
export NN_MPI_TEST_FAULT=stall_checkpoint@60
start_job 2 "$WORK/stall.log" "${small[@]}" --set run.dir="$WORK/live" --set checkpoint.keep=0
for ((i = 0; i < 300; i++)); do
    ls "$WORK/live/version_0"/ckpt-000000060.h5.tmp.* >/dev/null 2>&1 && break
    sleep 0.1
done
ls "$WORK/live/version_0"/ckpt-000000060.h5.tmp.* >/dev/null 2>&1 || fail "the stalled checkpoint write never started"
sleep 0.3
unset NN_MPI_TEST_FAULT
snapshot "$WORK/live" >"$WORK/live.snap"
grep -q 'ckpt-000000060.h5.tmp' "$WORK/live.snap" || fail "no temporary file to protect"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/live" --resume auto
expect_in "$WORK/err" "rank 0: $WORK/live is in use by another live run ($(cat "$WORK/live/lock"))"
expect_in "$WORK/err" "(run $(cat "$WORK/live/version_0/run_id") in $WORK/live/version_0, host "
no_data
unchanged "$WORK/live" "$WORK/live.snap"
kill -0 "$JOB" 2>/dev/null || fail "the live run ended"
# The stall never ends (nn_fault.h): kill the run; now its temporary file is an ended
# process's, which the next --resume auto removes before continuing to the end.
kill_job KILL
wait_job
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/live" --resume auto
expect_in "$WORK/err" "warning: removed 1 unfinished checkpoint file(s) of an ended process from $WORK/live/version_0"
expect_in "$WORK/out" "resuming from $WORK/live/version_0/ckpt-000000040.h5"
same_state "$WORK/done/version_0/ckpt-000000120.h5" "$WORK/live/version_0/ckpt-000000120.h5"
# (b) The live run, held still (SIGSTOP) between checkpoints, then let go: it finishes.
start_job 2 "$WORK/held.log" "${small[@]}" --set run.dir="$WORK/held" --set train.epochs=30 \
    --set checkpoint.keep=2
for ((i = 0; i < 300; i++)); do
    ls "$WORK/held/version_0"/ckpt-*.h5 >/dev/null 2>&1 && break
    sleep 0.1
done
kill_job STOP
ls "$WORK/held/version_0"/ckpt-*.h5 >/dev/null 2>&1 || fail "the run to hold wrote no checkpoint"
grep -q "epoch 30/30 done" "$WORK/held.log" && fail "the run to hold ended before it was held"
snapshot "$WORK/held" >"$WORK/held.snap"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/held" --resume auto
expect_in "$WORK/err" "rank 0: $WORK/held is in use by another live run ($(cat "$WORK/held/lock"))"
unchanged "$WORK/held" "$WORK/held.snap"
kill_job CONT
wait_job
[ "$JOB_STATUS" = 0 ] || { cat "$WORK/held.log" >&2; fail "the live run ended with $JOB_STATUS"; }
expect_in "$WORK/held.log" "epoch 30/30 done"
[ "$(listing "$WORK/held/version_0")" = "ckpt-000001780.h5 ckpt-000001800.h5 config.ini metrics.jsonl run_id " ] ||
    fail "the held run's directory holds: $(listing "$WORK/held/version_0")"
for step in 1780 1800; do
    expect_status 0 "$NN_MPI" --inspect "$WORK/held/version_0/ckpt-00000$step.h5"
done
echo "5. --resume auto beside a live run: status 2, its files (temporary one included) untouched; it finishes 0"

# 6. A damaged newest checkpoint and stray entries in a finished run, keep = 1.
cp -a "$WORK/done.copy" "$WORK/stray"
v=$WORK/stray/version_0
head -c 20000 "$v/ckpt-000000120.h5" >"$v/ckpt-000000999.h5"
mkdir "$v/ckpt-000000998.h5"
ln -s nowhere.h5 "$v/ckpt-000000997.h5"
strays() { (cd "$v" && find ckpt-000000997.h5 ckpt-000000998.h5 ckpt-000000999.h5 -printf '%p %y %m %s %l\n' && md5sum ckpt-000000999.h5); }
strays >"$WORK/strays.before"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/stray" --resume auto \
    --set train.epochs=3 --set checkpoint.keep=1
expect_in "$WORK/err" "rank 0: warning: skipping $v/ckpt-000000999.h5: not an HDF5 file, or damaged"
expect_in "$WORK/err" "rank 0: warning: skipping $v/ckpt-000000998.h5: cannot open checkpoint: not a regular file"
expect_in "$WORK/err" "rank 0: warning: skipping $v/ckpt-000000997.h5: cannot open checkpoint: No such file or directory"
expect_in "$WORK/out" "resuming from $v/ckpt-000000120.h5 at epoch 3 step 0"
[ "$(listing "$v")" = "ckpt-000000180.h5 ckpt-000000997.h5 ckpt-000000998.h5 ckpt-000000999.h5 config.ini metrics.jsonl run_id " ] ||
    fail "after keep = 1: $(listing "$v")"
strays | diff "$WORK/strays.before" - >&2 || fail "retention touched the stray entries"
expect_status 0 "$NN_MPI" --inspect "$v/ckpt-000000180.h5"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/stray" --resume auto \
    --set train.epochs=3 --set checkpoint.keep=1
expect_in "$WORK/out" "resuming from $v/ckpt-000000180.h5"
expect_in "$WORK/out" "nothing to do: the checkpoint has 3 of 3 epochs done"
echo "6. damaged and stray ckpt-*.h5 entries skipped and kept; the newest valid checkpoint kept"

# 7. FIFOs, at -np 2 and within 20 s (a reader that opened one would wait forever).
mkfifo "$WORK/fifo.h5" "$WORK/fifo.ini"
expect_status 1 mpi_within 20 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/f1" \
    --set data.path="$WORK/fifo.h5"
expect_in "$WORK/err" "rank 0: $WORK/fifo.h5: cannot open: not a regular file"
expect_status 1 mpi_within 20 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/f2" \
    --resume "$WORK/fifo.h5"
expect_in "$WORK/err" "rank 0: $WORK/fifo.h5: cannot open checkpoint: not a regular file"
expect_status 1 timeout 20 "$NN_MPI" --inspect "$WORK/fifo.h5"
expect_in "$WORK/out" "$WORK/fifo.h5: INVALID: $WORK/fifo.h5: cannot open checkpoint: not a regular file"
expect_status 2 mpi_within 20 2 "$NN_MPI" "$WORK/fifo.ini"
expect_in "$WORK/err" "$WORK/fifo.ini: cannot open: not a regular file"
cp -a "$WORK/done.copy" "$WORK/fifo"
mkfifo "$WORK/fifo/version_0/ckpt-000000999.h5"
expect_status 0 mpi_within 20 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/fifo" --resume auto
expect_in "$WORK/err" "rank 0: warning: skipping $WORK/fifo/version_0/ckpt-000000999.h5: cannot open checkpoint: not a regular file"
expect_in "$WORK/out" "resuming from $WORK/fifo/version_0/ckpt-000000120.h5"
[ -p "$WORK/fifo/version_0/ckpt-000000999.h5" ] || fail "the FIFO named like a checkpoint is gone"
echo "7. FIFOs as dataset, checkpoint, --inspect, config and a run's ckpt-*.h5: refused or skipped at once"

# 8. An unwritable run directory: a read-only bind mount in a private mount namespace.
# read_only DIR [LOCK] COMMAND...: runs COMMAND with DIR bound read-only onto itself and,
# when LOCK is not "-", the file LOCK bound (writable) onto DIR/lock (status 99: a mount
# failed).
read_only() {
    # shellcheck disable=SC2016 # the script's variables are its own
    unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99
        if [ "$2" != - ]; then mount --bind "$2" "$1/lock" || exit 99; fi
        shift 2; exec "$@"' sh "$@"
}
mkdir "$WORK/probe"
if [ "$(id -u)" = 0 ] && read_only "$WORK/probe" - true 2>/dev/null; then
    mkdir "$WORK/ro" "$WORK/rolock"
    # The lock cannot be created.
    expect_status 2 read_only "$WORK/ro" - timeout 60 "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG 2 \
        $NN_MPIEXEC_PREFLAGS "$NN_MPI" "${small[@]}" --set run.dir="$WORK/ro"
    expect_in "$WORK/err" "rank 0: $WORK/ro/lock: cannot create the run directory's lock: Read-only file system"
    no_data
    # The directory cannot be created.
    expect_status 2 read_only "$WORK/ro" - timeout 60 "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG 2 \
        $NN_MPIEXEC_PREFLAGS "$NN_MPI" "${small[@]}" --set run.dir="$WORK/ro/runs"
    expect_in "$WORK/err" "rank 0: $WORK/ro/runs: cannot create directory: Read-only file system"
    no_data
    [ -z "$(ls -A "$WORK/ro")" ] || fail "$WORK/ro holds: $(ls -A "$WORK/ro")"
    # The lock can be taken (a writable file bound onto it) but nothing else written.
    touch "$WORK/rolock/lock" "$WORK/lock.rw"
    expect_status 2 read_only "$WORK/rolock" "$WORK/lock.rw" timeout 60 "$NN_MPIEXEC" \
        $NN_MPIEXEC_NUMPROC_FLAG 2 $NN_MPIEXEC_PREFLAGS "$NN_MPI" "${small[@]}" \
        --set run.dir="$WORK/rolock"
    expect_in "$WORK/err" "rank 0: $WORK/rolock: cannot write in the run directory: Read-only file system"
    no_data
    [ "$(ls -A "$WORK/rolock")" = lock ] || fail "$WORK/rolock holds: $(ls -A "$WORK/rolock")"
    echo "8. an unwritable run directory: status 2 before the data, the directory named"
else
    skip_part "8. the unwritable run directory: a read-only bind mount needs root and unshare -m"
fi

# 9. The metrics file: another run's lines first.
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/ma" --set train.epochs=1 \
    --set log.metrics="$WORK/m.jsonl"
cp "$WORK/m.jsonl" "$WORK/m.before"
ida=$(cat "$WORK/ma/version_0/run_id")
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mb" --set train.epochs=1 \
    --set log.metrics="$WORK/m.jsonl"
idb=$(cat "$WORK/mb/version_0/run_id")
[ "$ida" != "$idb" ] || fail "two runs share the id $ida"
[ "$(run_id_of "$WORK/mb/version_0/ckpt-000000060.h5")" = "$idb" ] ||
    fail "the checkpoint's run_id is '$(run_id_of "$WORK/mb/version_0/ckpt-000000060.h5")', version_0/run_id says $idb"
expect_in "$WORK/out" "run $idb in $WORK/mb/version_0"
[ ! -e "$WORK/mb/version_0/metrics.jsonl" ] || fail "metrics went to the run's directory, not [log] metrics"
cmp -s -n "$(stat -c %s "$WORK/m.before")" "$WORK/m.before" "$WORK/m.jsonl" ||
    fail "the other run's lines in the metrics file changed"
lines=$(wc -l <"$WORK/m.before")
[ "$(wc -l <"$WORK/m.jsonl")" -gt "$lines" ] || fail "nothing was appended to the metrics file"
grep -v "\"run\":\"$ida\"" "$WORK/m.before" && fail "the first run's lines lack its id $ida"
tail -n +$((lines + 1)) "$WORK/m.jsonl" | grep -v "\"run\":\"$idb\"" && fail "the second run's lines lack its id $idb"
version=$(mpi 1 "$NN_MPI" --version | sed -n 's/^nn-mpi //p')
start_line=$(tail -n +$((lines + 1)) "$WORK/m.jsonl" | grep '"event":"start"')
for text in "\"run\":\"$idb\"" "\"version\":\"$version\"" '"nranks":2' '"hosts":["' \
    '"config":"[data]\npath = '; do
    grep -qF -- "$text" <<<"$start_line" || fail "the start event lacks $text: $start_line"
done
for event in train epoch checkpoint end; do
    tail -n +$((lines + 1)) "$WORK/m.jsonl" | grep -q "\"event\":\"$event\"" || fail "no $event event"
done
# A resume of the same run appends, with the same id.
cp "$WORK/m.jsonl" "$WORK/m.before"
lines=$(wc -l <"$WORK/m.before")
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/mb" --set train.epochs=2 \
    --set log.metrics="$WORK/m.jsonl" --resume auto
cmp -s -n "$(stat -c %s "$WORK/m.before")" "$WORK/m.before" "$WORK/m.jsonl" ||
    fail "the resume changed the metrics file's earlier lines"
tail -n +$((lines + 1)) "$WORK/m.jsonl" | grep -v "\"run\":\"$idb\"" && fail "the resume's lines lack the run id $idb"
tail -n +$((lines + 1)) "$WORK/m.jsonl" | grep '"event":"resume"' | grep -qF "\"from\":\"$WORK/mb/version_0/ckpt-000000060.h5\"" ||
    fail "no resume event from ckpt-000000060.h5 with the run id"
[ "$(run_id_of "$WORK/mb/version_0/ckpt-000000120.h5")" = "$idb" ] || fail "the resumed run's checkpoint has another run id"
[ "$(cat "$WORK/mb/version_0/run_id")" = "$idb" ] || fail "the resume changed version_0/run_id"
[ "$(grep -c . "$WORK/m.jsonl")" = "$(grep -c '"run":"[^"]' "$WORK/m.jsonl")" ] || fail "a metrics line lacks the run id"
echo "9. metrics appended, never truncated; every event with its run id, also in the checkpoints and run_id"

# 10. Validation, keep_best and early stopping (reproducible mode) at -np 1 and -np 3.
stopping=(--set train.reproducible=yes --set data.validation=500 --set checkpoint.keep_best=yes
    --set checkpoint.keep=1 --set train.early_stopping_patience=1 --set train.epochs=8)
for np in 1 3; do
    expect_status 0 mpi $np "$NN_MPI" "${small[@]}" "${stopping[@]}" --set run.dir="$WORK/es$np"
    cp "$WORK/out" "$WORK/es$np.out"
done
stop_epoch=$(sed -n 's/^early stopping after epoch \([0-9]*\): .*at epoch \([0-9]*\)$/\1 \2/p' "$WORK/es1.out")
[ -n "$stop_epoch" ] || { cat "$WORK/es1.out" >&2; fail "the -np 1 run did not stop early"; }
read -r epoch best_epoch <<<"$stop_epoch"
[ "$epoch" -lt 8 ] || fail "early stopping after the last epoch proves nothing"
[ "$(sed -n 's/^early stopping after epoch \([0-9]*\): .*at epoch \([0-9]*\)$/\1 \2/p' "$WORK/es3.out")" = "$stop_epoch" ] ||
    fail "-np 3 stopped otherwise: $(grep 'early stopping' "$WORK/es3.out")"
best=$(printf 'ckpt-%09d.h5' $((best_epoch * 50)))
last=$(printf 'ckpt-%09d.h5' $((epoch * 50)))
for np in 1 3; do
    d=$WORK/es$np/version_0
    [ "$(readlink "$d/best.h5")" = "$best" ] || fail "-np $np: best.h5 -> $(readlink "$d/best.h5"), expected $best"
    [ "$(listing "$d")" = "best.h5 $best $last config.ini metrics.jsonl run_id " ] ||
        fail "-np $np: retention left $(listing "$d")"
    h5dump -a /train/stopped_early "$d/$last" | grep -q '(0): 1$' || fail "-np $np: $last lacks stopped_early = 1"
    grep '"event":"early_stop"' "$d/metrics.jsonl" | grep -q "\"epoch\":$epoch,\"best_epoch\":$best_epoch," ||
        fail "-np $np: no early_stop event for epoch $epoch"
done
same_state "$WORK/es1/version_0/best.h5" "$WORK/es3/version_0/best.h5"
snapshot "$WORK/es3/version_0" >"$WORK/es3.snap"
expect_status 0 mpi 3 "$NN_MPI" "${small[@]}" "${stopping[@]}" --set run.dir="$WORK/es3" --resume auto
expect_in "$WORK/out" "nothing to do: the run stopped early at epoch $epoch (best epoch $best_epoch)"
[ "$(listing "$WORK/es3/version_0")" = "best.h5 $best $last config.ini metrics.jsonl run_id " ] ||
    fail "the resume with nothing to do left $(listing "$WORK/es3/version_0")"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/nv" --set checkpoint.keep_best=yes
expect_in "$WORK/err" "[checkpoint] keep_best and [train] early_stopping_patience need a validation split"
expect_status 2 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/nv2" --set train.early_stopping_patience=2
expect_in "$WORK/err" "need a validation split"
echo "10. early stopping after epoch $epoch (best $best_epoch) at -np 1 and 3, the best checkpoints bitwise equal and kept"

# 11. A run killed before its first checkpoint: --resume auto starts it again in place, with
# its run id (no version_1), and ends on the bits of a run never interrupted.
NN_MPI_TEST_FAULT=stall_checkpoint@20 start_job 2 "$WORK/early.log" "${small[@]}" \
    --set run.dir="$WORK/early"
for ((i = 0; i < 300; i++)); do
    ls "$WORK/early/version_0"/ckpt-000000020.h5.tmp.* >/dev/null 2>&1 && break
    sleep 0.1
done
kill_job KILL
wait_job
id=$(cat "$WORK/early/version_0/run_id")
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/early" --resume auto
expect_in "$WORK/out" "no valid checkpoint in $WORK/early: starting run $id in $WORK/early/version_0"
[ ! -e "$WORK/early/version_1" ] || fail "a run with no checkpoint was not started again in place"
expect_status 0 mpi 2 "$NN_MPI" "${small[@]}" --set run.dir="$WORK/early2"
same_state "$WORK/early2/version_0/ckpt-000000120.h5" "$WORK/early/version_0/ckpt-000000120.h5"
echo "11. a run killed before its first checkpoint starts again in place with its run id"
finish rundir
