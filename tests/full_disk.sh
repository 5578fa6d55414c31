#!/usr/bin/env bash
# A full disk while writing a checkpoint or a dataset: the program ends with status 1 (not
# a crash in HDF5 at exit), the message names the temporary file and "No space left on
# device", no temporary file is left, and what was written before stays valid.
# (a) The test fault write_enospc@N (nn_fault.h): nn-mpi (configs/test-small.ini, 2 ranks,
#     a checkpoint every 20 steps) whose third checkpoint write fails; nn-mpi-data
#     overwriting a dataset, from IDX files and through the streaming CSV converter. (b) A real 1 MiB tmpfs in a private mount namespace (where
#     root may mount one, as in tests/shm_room.sh): the checkpoints are 428 KiB, so two fit
#     and the third does not; a small dataset fits and a 1.5 MiB one does not (IDX), or a
#     2.2 MiB one (CSV, streamed).
source "$(dirname "$0")/lib.sh"
require_data
small=("$NN_SOURCE/configs/test-small.ini" --set data.path="$NN_DATA" --set checkpoint.keep=0)
enospc="cannot write: No space left on device"

# after_failed_checkpoint DIR [HELD]: the run failed writing DIR/ckpt-000000060.h5 and said
# so ($WORK/err) naming the temporary file; DIR (or its copy HELD), the run's version_0,
# holds the checkpoints of steps 20 and 40, both valid, and nothing else but the run's
# config, metrics and id.
after_failed_checkpoint() {
    local held=${2:-$1} step
    grep -qE "^rank 0: $1/ckpt-000000060\.h5\.tmp\.[0-9]+: $enospc\$" "$WORK/err" ||
        { cat "$WORK/err" >&2; fail "the message does not name the temporary file and ENOSPC"; }
    [ "$(ls -A "$held" | tr '\n' ' ')" = "ckpt-000000020.h5 ckpt-000000040.h5 config.ini metrics.jsonl run_id " ] ||
        fail "$held holds: $(ls -A "$held" | tr '\n' ' ')"
    for step in 20 40; do
        "$NN_MPI" --inspect "$held/ckpt-0000000$step.h5" >"$WORK/inspect" ||
            fail "ckpt-0000000$step.h5 is not valid: $(cat "$WORK/inspect")"
    done
}

# after_failed_dataset DIR [HELD]: nn-mpi-data failed overwriting DIR/out.h5 and said so
# naming the temporary file; DIR (or its copy HELD) holds only out.h5, still the same bytes
# as $WORK/ref.h5.
after_failed_dataset() {
    local held=${2:-$1}
    grep -qE "^nn-mpi-data: $1/out\.h5\.tmp\.[0-9]+: $enospc\$" "$WORK/err" ||
        { cat "$WORK/err" >&2; fail "the message does not name the temporary file and ENOSPC"; }
    [ "$(ls -A "$held")" = out.h5 ] || fail "$held holds: $(ls -A "$held" | tr '\n' ' ')"
    cmp -s "$held/out.h5" "$WORK/ref.h5" || fail "the earlier out.h5 was changed"
}

# Converter input: a small dataset and a 1.5 MiB one.
for set in small:12:4 big:2000:28; do
    IFS=: read -r name count side <<<"$set"
    mkdir -p "$WORK/$name"
    for split in train t10k; do
        idx_images "$WORK/$name/$split-images-idx3-ubyte" "$count" "$side" "$side" zeros
        idx_labels "$WORK/$name/$split-labels-idx1-ubyte" "$count"
    done
done

# Streaming converter input (nn-mpi-data csv): 20 rows, and 20,000 rows (2.2 MiB as float32).
csv_rows() {
    awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) { printf "%d", i % 2
        for (j = 0; j < 28; j++) printf ",%d.25", (i + j) % 97; print "" } }'
}
csv_rows 20 >"$WORK/small.csv"
csv_rows 20000 >"$WORK/big.csv"

# (a) The test fault.
# The run's atomic writes: run_id, config.ini, then the checkpoints of steps 20, 40, 60.
NN_MPI_TEST_FAULT=write_enospc@5 expect_status 1 mpi 2 "$NN_MPI" "${small[@]}" \
    --set run.dir="$WORK/fault"
after_failed_checkpoint "$WORK/fault/version_0"
mkdir "$WORK/data"
expect_status 0 "$NN_MPI_DATA" "$WORK/small" "$WORK/data/out.h5"
cp "$WORK/data/out.h5" "$WORK/ref.h5"
NN_MPI_TEST_FAULT=write_enospc expect_status 1 "$NN_MPI_DATA" "$WORK/big" "$WORK/data/out.h5"
after_failed_dataset "$WORK/data"
# A misspelt fault is a usage error, not silently no fault.
NN_MPI_TEST_FAULT=write_enospc@0 expect_status 2 "$NN_MPI_DATA" "$WORK/small" "$WORK/x.h5"
expect_in "$WORK/err" "NN_MPI_TEST_FAULT: 'write_enospc@0': expected write_enospc or write_enospc@N with N >= 1"
NN_MPI_TEST_FAULT=full_disk expect_status 2 mpi 1 "$NN_MPI" "${small[@]}"
expect_in "$WORK/err" "nn-mpi: NN_MPI_TEST_FAULT: 'full_disk': unknown fault point"
# The streaming writer (its own HDF5 file on disk, not an image in memory) the same way.
mkdir "$WORK/cdata"
expect_status 0 "$NN_MPI_DATA" csv "$WORK/small.csv" "$WORK/cdata/out.h5" --test-fraction 0.5 --label 1
cp "$WORK/cdata/out.h5" "$WORK/ref.h5"
NN_MPI_TEST_FAULT=write_enospc expect_status 1 "$NN_MPI_DATA" csv "$WORK/big.csv" \
    "$WORK/cdata/out.h5" --test-fraction 0.5 --label 1
after_failed_dataset "$WORK/cdata"
echo "test fault: status 1, the temporary file and ENOSPC named, earlier files intact"

# (b) A real full tmpfs.
# on_small_disk SIZE DIR COMMAND...: runs COMMAND in a private mount namespace with a tmpfs
# of SIZE mounted at DIR, then copies what DIR holds to DIR.after (the mount ends with the
# namespace). Exits with COMMAND's status (99: the mount failed).
on_small_disk() {
    mkdir -p "$2"
    # shellcheck disable=SC2016 # the script's variables are its own
    unshare -m sh -c 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99
        dir=$2; shift 2; "$@"; status=$?; cp -a "$dir" "$dir.after"; exit $status' \
        sh "$@"
}
mkdir "$WORK/probe"
if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount -t tmpfs -o size=4k tmpfs "$1"' sh "$WORK/probe" \
    2>/dev/null; then
    # shellcheck disable=SC2086 # the preflags are a list
    expect_status 1 on_small_disk 1m "$WORK/disk" timeout 300 "$NN_MPIEXEC" \
        $NN_MPIEXEC_NUMPROC_FLAG 2 $NN_MPIEXEC_PREFLAGS "$NN_MPI" "${small[@]}" \
        --set run.dir="$WORK/disk/c"
    after_failed_checkpoint "$WORK/disk/c/version_0" "$WORK/disk.after/c/version_0"
    # The small dataset, then the big one over it.
    # shellcheck disable=SC2016
    expect_status 1 on_small_disk 1m "$WORK/ddisk" sh -c \
        '"$1" "$2" "$4" >/dev/null && cp "$4" "$5" && exec "$1" "$3" "$4"' sh \
        "$NN_MPI_DATA" "$WORK/small" "$WORK/big" "$WORK/ddisk/out.h5" "$WORK/ref.h5"
    after_failed_dataset "$WORK/ddisk" "$WORK/ddisk.after"
    # The streaming writer: HDF5 itself meets the full disk (in a write, a flush or the
    # close); still status 1 and the errno named, never a crash at exit.
    # shellcheck disable=SC2016
    expect_status 1 on_small_disk 1m "$WORK/cdisk" sh -c \
        '"$1" csv "$2" "$4" --test-fraction 0.5 --label 1 >/dev/null && cp "$4" "$5" &&
         exec "$1" csv "$3" "$4" --test-fraction 0.5 --label 1' sh \
        "$NN_MPI_DATA" "$WORK/small.csv" "$WORK/big.csv" "$WORK/cdisk/out.h5" "$WORK/ref.h5"
    after_failed_dataset "$WORK/cdisk" "$WORK/cdisk.after"
    echo "a full 1 MiB tmpfs: status 1, the temporary file and ENOSPC named, earlier files intact"
    else
    skip_part "the real full disk: mounting a private tmpfs needs root and unshare -m"
fi
finish full_disk
