# Sourced by the shell tests. CTest sets NN_BUILD (build tree), NN_SOURCE (source tree),
# NN_DATA (the MNIST dataset file) and the MPI launcher from FindMPI: NN_MPIEXEC,
# NN_MPIEXEC_NUMPROC_FLAG, NN_MPIEXEC_PREFLAGS.
set -euo pipefail

NN_MPI="$NN_BUILD/nn-mpi"
NN_MPI_DATA="$NN_BUILD/nn-mpi-data"
WORK=$(mktemp -d /tmp/nn-test.XXXXXX)
JOB=
# On exit, also end a background job a failed check left running (it may hold files open).
trap '[ -z "$JOB" ] || pkill -KILL -s "$JOB" 2>/dev/null || true; rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# mpi NP PROGRAM ARGS...: runs PROGRAM on NP ranks, with a time limit so that a hang fails.
mpi() {
    mpi_within 300 "$@"
}

# mpi_within SECONDS NP PROGRAM ARGS...: the same with another time limit (status 124 when
# it runs out), for what must end promptly.
mpi_within() {
    local limit=$1 np=$2
    shift 2
    # shellcheck disable=SC2086 # the preflags are a list
    timeout "$limit" "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG "$np" $NN_MPIEXEC_PREFLAGS "$@"
}

# expect_status CODE COMMAND...: runs COMMAND, keeping its output in $WORK/out and
# $WORK/err, and fails unless it exits with CODE.
expect_status() {
    local want=$1 got=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" != "$want" ]; then
        cat "$WORK/out" "$WORK/err" >&2
        fail "expected exit status $want, got $got: $*"
    fi
}

# expect_in FILE TEXT: fails unless FILE contains TEXT (a fixed string).
expect_in() {
    grep -qF -- "$2" "$1" || {
        cat "$1" >&2
        fail "$1 does not contain: $2"
    }
}

# Skips (tests/CMakeLists.txt gives every test SKIP_RETURN_CODE 77): what cannot run here
# is skipped and said so, never passed. skip REASON: skips the whole test now.
# skip_part REASON: the part cannot run here; the test goes on with its other parts and
# finish then exits 77, naming it. finish NAME: the test's last line.
SKIPPED=()
skip() {
    echo "SKIP (status 77): $*"
    exit 77
}
skip_part() {
    echo "skipped: $*"
    SKIPPED+=("$*")
}
finish() {
    if [ ${#SKIPPED[@]} -gt 0 ]; then
        skip "$1: the other checks passed; skipped: $(IFS=';'; echo "${SKIPPED[*]}")"
    fi
    echo "$1: all checks passed"
}

# require_data: skips the test when the MNIST dataset file is missing.
require_data() {
    [ -r "$NN_DATA" ] || skip "$NN_DATA is missing: run scripts/get-mnist.sh first"
}

# Numeric comparisons, in awk so that 1e-5 and 0.97 mean what they say:
# close_enough A B REL: succeeds when |A - B| <= REL * |A| (A is the reference).
# at_least VALUE MIN WHAT: fails unless VALUE >= MIN, naming WHAT.
# lines_close REFERENCE FILE REL COUNT WHAT: fails unless both files hold COUNT numbers,
# one a line, and each of FILE's is close_enough to REFERENCE's on the same line.
close_enough() {
    awk -v a="$1" -v b="$2" -v rel="$3" 'BEGIN { d = a - b; m = a < 0 ? -a : a
        exit !(a != "" && b != "" && (d < 0 ? -d : d) <= rel * m) }'
}
at_least() {
    awk -v v="$1" -v min="$2" 'BEGIN { exit !(v != "" && v + 0 >= min + 0) }' ||
        fail "$3 is ${1:-missing}, less than $2"
}
lines_close() {
    local ref=$1 file=$2 rel=$3 count=$4 what=$5 a b line=0 bad=0
    if [ "$(wc -l <"$ref")" != "$count" ] || [ "$(wc -l <"$file")" != "$count" ]; then
        fail "$what: expected $count values in each of $ref and $file, got $(wc -l <"$ref") and $(wc -l <"$file")"
    fi
    while read -r a b; do
        line=$((line + 1))
        close_enough "$a" "$b" "$rel" || { echo "$what: line $line: $b, expected $a" >&2; bad=1; }
    done < <(paste "$ref" "$file")
    [ $bad = 0 ] || fail "$what: differs by more than $rel relative"
    echo "$what: $count values agree to $rel relative"
}

# reference_losses NETWORK STEPS OUT: the first STEPS step losses of bench/mlp_numpy.py's
# NETWORK (bench/nnref.py), started like nn-mpi with seed 1 on the first 20 batches of
# $NN_DATA, into OUT, one a line.
reference_losses() {
    /usr/bin/python3 "$NN_SOURCE/bench/mlp_numpy.py" --data "$NN_DATA" --network "$1" \
        --check-steps "$2" >"$3.json" || fail "the numpy reference failed"
    sed -E 's/.*"losses": \[([^]]*)\].*/\1/' "$3.json" | tr ',' '\n' | tr -d ' ' >"$3"
}

# metric FILE EVENT FIELD: the FIELD values of the EVENT lines of a JSON Lines metrics file.
metric() {
    grep "\"event\":\"$2\"" "$1" | sed -E "s/.*\"$3\":([-0-9.eE+naif]+).*/\1/"
}

# events FILE EVENT: the EVENT lines of a metrics file without the run id and the timings,
# to compare runs.
events() {
    grep "\"event\":\"$2\"" "$1" | sed -E 's/,"run":"[^"]*"//; s/,"samples_per_sec".*//'
}

# ckpt_attr CKPT NAME: a /train attribute of a checkpoint, as Python's repr of the double;
# json_number FILE NAME: a top-level number of a JSON object (nn-mpi eval --json), the same.
# Both need python3-h5py.
ckpt_attr() {
    /usr/bin/python3 -c "import h5py, sys; print(repr(float(h5py.File(sys.argv[1])['train'].attrs[sys.argv[2]])))" "$1" "$2"
}
json_number() {
    /usr/bin/python3 -c "import json, sys; print(repr(float(json.load(open(sys.argv[1]))[sys.argv[2]])))" "$1" "$2"
}

# IDX input for nn-mpi-data (nn_idx.h), written byte by byte:
# idx_images FILE COUNT ROWS COLS [zeros]: pixel k of image i is (i * 7 + k) mod 256, or
# every pixel 0 with "zeros" (fast, for large files); idx_labels FILE COUNT: label i is
# i mod 10.
idx_byte() { printf "\\x$(printf %02x "$1")"; }
idx_be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
idx_images() {
    local i k
    { printf '\x00\x00\x08\x03'; idx_be32 "$2"; idx_be32 "$3"; idx_be32 "$4"
      if [ "${5:-}" = zeros ]; then
          head -c $(($2 * $3 * $4)) /dev/zero
      else
          for ((i = 0; i < $2; i++)); do for ((k = 0; k < $3 * $4; k++)); do idx_byte $(((i * 7 + k) % 256)); done; done
      fi
    } >"$1"
}
idx_labels() {
    local i
    { printf '\x00\x00\x08\x01'; idx_be32 "$2"
      for ((i = 0; i < $2; i++)); do idx_byte $((i % 10)); done
    } >"$1"
}

# start_job NP LOG ARGS...: starts nn-mpi on NP ranks in the background, in a session of
# its own (so that the whole job can be signalled or killed), with output in LOG. Sets JOB
# to mpirun's pid, which is also the session id.
start_job() {
    local np=$1 log=$2
    shift 2
    # shellcheck disable=SC2086 # the preflags are a list
    setsid "$NN_MPIEXEC" $NN_MPIEXEC_NUMPROC_FLAG "$np" $NN_MPIEXEC_PREFLAGS "$NN_MPI" "$@" \
        >"$log" 2>&1 &
    JOB=$!
}

# wait_job: waits for the job started last (at most 300 s) and sets JOB_STATUS.
wait_job() {
    local waited=0
    while kill -0 "$JOB" 2>/dev/null && [ $waited -lt 3000 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$JOB" 2>/dev/null; then
        pkill -KILL -s "$JOB" || true
        fail "the job did not end within 300 s"
    fi
    JOB_STATUS=0
    wait "$JOB" || JOB_STATUS=$?
}

# kill_job SIGNAL: sends SIGNAL to every process of the job (mpirun and the ranks).
kill_job() {
    pkill "-$1" -s "$JOB" || true
}

# wait_for FILE TEXT: waits (at most 60 s) until FILE contains TEXT.
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$JOB" 2>/dev/null || { cat "$1" >&2; fail "the job ended before printing: $2"; }
        sleep 0.1
    done
    fail "$1 did not show within 60 s: $2"
}

# same_state A B: two checkpoints hold bitwise identical weights and optimizer state.
same_state() {
    h5diff "$1" "$2" /model /model >/dev/null || fail "weights differ: $1 $2"
    h5diff "$1" "$2" /optimizer /optimizer >/dev/null || fail "optimizer state differs: $1 $2"
}

# newest DIR: the newest checkpoint of the newest run (version_N) in the run directory DIR.
newest() {
    local run
    run=$(ls -d "$1"/version_* | sort -V | tail -n 1)
    ls "$run"/ckpt-*.h5 | tail -n 1
}
