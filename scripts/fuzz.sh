#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DNN_FUZZ=ON: ASan and UBSan) into build-fuzz/ and,
# for each target, first replays its regression inputs (fuzz/regressions/TARGET/: every
# crash found so far, now fixed), then fuzzes it for SECONDS from a copy of its seed corpus
# (fuzz/corpus/TARGET/, left unmodified). Exits non-zero on any crash, leak, timeout or
# memory blow-up, naming the input that caused it (kept in build-fuzz/crashes/).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 15 s each, every target
# Targets: fuzz_config fuzz_idx fuzz_checkpoint fuzz_dataset (fuzz/*.c). Without clang the
# script exits 77 (CTest's skip) and says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NN_FUZZ_BUILD:-$root/build-fuzz}
seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_config fuzz_idx fuzz_checkpoint fuzz_dataset)

if ! command -v clang >/dev/null; then
    echo "fuzz: SKIPPED: clang is not installed (scripts/setup-deps.sh installs it)" >&2
    exit 77
fi
echo "fuzz: building into $build"
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNN_FUZZ=ON >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null

work=$(mktemp -d /tmp/nn-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/crashes"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0
# options TARGET: the sanitizer settings and libFuzzer flags for one target. The HDF5
# targets: libhdf5 itself asks for absurd sizes on some malformed files (up to 2^48 bytes
# in H5C_protect) and copes with malloc returning NULL, as it does in production, so such
# requests fail instead of counting as crashes; what counts is the memory actually used
# (-rss_limit_mb). HDF5's own leaks on malformed files are suppressed (fuzz/lsan-hdf5.supp).
options() {
    case $1 in
    fuzz_checkpoint | fuzz_dataset)
        export ASAN_OPTIONS=$ASAN_BASE:allocator_may_return_null=1
        export LSAN_OPTIONS=suppressions=$root/fuzz/lsan-hdf5.supp:print_suppressions=0
        flags=(-rss_limit_mb=2048 -malloc_limit_mb=1073741824 -timeout=20) ;;
    *)
        export ASAN_OPTIONS=$ASAN_BASE
        unset LSAN_OPTIONS
        flags=(-rss_limit_mb=2048 -timeout=20) ;;
    esac
}
ASAN_BASE=halt_on_error=1:detect_leaks=1

# classify TARGET INPUT: replays INPUT and prints "hdf5" when the failure happens inside
# libhdf5 (of the report's stack frames in libhdf5 or in nn-mpi's sources, src/ and fuzz/,
# the first is in libhdf5), "flaky" when it does not fail on its own, else "ours". The
# replay's output stays in $work/replay.log.
classify() {
    if "$build/fuzz/$1" "${flags[@]}" "$2" >"$work/replay.log" 2>&1; then
        echo flaky
        return
    fi
    local frame
    frame=$(grep -E '^ +#[0-9]+ ' "$work/replay.log" |
        grep -E 'libhdf5|/src/nn_[a-z0-9_]+\.c|/fuzz/fuzz_[a-z]+\.c' | head -n 1)
    case $frame in
    *libhdf5*) echo hdf5 ;;
    *) echo ours ;;
    esac
}

for t in "${targets[@]}"; do
    name=${t#fuzz_}
    bin=$build/fuzz/$t
    options "$t"
    regressions=$root/fuzz/regressions/$name
    if compgen -G "$regressions/*" >/dev/null; then
        echo "fuzz: $t: replaying $(ls "$regressions" | wc -l) regression input(s)"
        if ! "$bin" "${flags[@]}" "$regressions"/* >"$work/$t-replay.log" 2>&1; then
            tail -n 40 "$work/$t-replay.log" >&2
            echo "fuzz: FAIL: $t crashes on a regression input" >&2
            failed=1
            continue
        fi
    fi
    mkdir -p "$work/$name" "$work/$name-artifacts"
    cp "$root/fuzz/corpus/$name"/* "$work/$name/"
    echo "fuzz: $t: fuzzing for $seconds s"
    # Fork mode keeps going after a crash, so that every crash of the run is collected and
    # sorted below: libhdf5's own from nn-mpi's.
    # (It then exits 1 when any input crashed; each one left an artifact.)
    rc=0
    "$bin" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" "${flags[@]}" -print_final_stats=1 \
        -artifact_prefix="$work/$name-artifacts/" "$work/$name" >"$work/$t.log" 2>&1 || rc=$?
    if [ $rc != 0 ] && ! compgen -G "$work/$name-artifacts/*" >/dev/null; then
        tail -n 60 "$work/$t.log" >&2
        echo "fuzz: FAIL: $t: libFuzzer itself failed (status $rc)" >&2
        failed=1
        continue
    fi
    # The last progress line: runs, coverage, corpus, speed, ooms/timeouts/crashes.
    grep -E '^#[0-9]+: cov:' "$work/$t.log" | tail -n 1 | sed "s/^/fuzz: $t: /"
    hdf5=0
    for a in "$work/$name-artifacts"/*; do
        [ -e "$a" ] || continue
        case $(classify "$t" "$a") in
        hdf5)
            mkdir -p "$build/hdf5-crashes"
            cp "$a" "$build/hdf5-crashes/$t-$(basename "$a")"
            hdf5=$((hdf5 + 1)) ;;
        flaky)
            echo "fuzz: $t: NOTE: $(basename "$a") did not reproduce on its own" ;;
        *)
            cp "$a" "$build/crashes/$t-$(basename "$a")"
            cat "$work/replay.log" >&2
            echo "fuzz: FAIL: $t: $(basename "$a"), kept in $build/crashes/ (make it a" \
                 "regression: fuzz/regressions/$name/, and fix the code)" >&2
            failed=1 ;;
        esac
    done
    [ $hdf5 = 0 ] || echo "fuzz: $t: NOTE: $hdf5 crash(es) inside libhdf5 itself on malformed" \
        "files, not in nn-mpi's code (kept in $build/hdf5-crashes/; see README, Sanitizers" \
        "and fuzzing)"
done
[ $failed = 0 ] || exit 1
echo "fuzz: ok: no crash"
