#!/usr/bin/env bash
# The converter benchmark: `nn-mpi-data csv` against pandas.read_csv + an h5py write
# (bench/convert_pandas.py, the same dataset) on a HIGGS-sized slice: 1,000,000 rows of a
# 0/1 label and 28 float features ('%.9g', float32 round-trip precision; bench/tabular.py's
# table, whose label is a learnable function of the features), 10% held out.
# Interleaved rounds; reports the median wall time (with the range) and peak memory (max
# RSS, from /usr/bin/time) of each, checks that both wrote the same data (h5diff), and puts
# the figures in their own section at the end of bench/RESULTS.md.
#   bench/convert.sh [ROUNDS]        (default 5; about 10 s a round on 2 cores)
# The CSV is made once (about 15 s) in ${NN_BENCH_DIR:-/tmp/nn-bench-convert}.
# On a shared machine run it under the lock: flock /tmp/nn-cpu.lock bench/convert.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
scripts/setup-deps.sh
scripts/build.sh >/dev/null
python=/usr/bin/python3 # Debian's interpreter, with python3-pandas and python3-h5py
dir=${NN_BENCH_DIR:-/tmp/nn-bench-convert}
mkdir -p "$dir"
csv=$dir/higgs-1m.csv
if [ ! -s "$csv" ]; then
    $python bench/tabular.py csv "$csv.part" 1000000 >/dev/null
    mv "$csv.part" "$csv"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measure NAME COMMAND...: one timed run; appends "NAME seconds max-rss-KiB" to $out/times.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$out/time" "$@" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
    echo "$name $(cat "$out/time")" >>"$out/times"
}
for ((r = 1; r <= rounds; r++)); do
    # Alternate who goes first, so that neither always gets the warmer page cache.
    if ((r % 2)); then order="nn pandas"; else order="pandas nn"; fi
    for who in $order; do
        case $who in
        nn) measure nn-mpi-data build/nn-mpi-data csv "$csv" "$out/nn.h5" --no-header \
                --label 1 --test-fraction 0.1 --seed 1 ;;
        pandas) measure pandas+h5py $python bench/convert_pandas.py "$csv" "$out/pd.h5" 0.1 1 ;;
        esac
    done
    echo "round $r/$rounds done" >&2
done
for g in /train /test; do
    h5diff "$out/nn.h5" "$out/pd.h5" $g $g >/dev/null || { echo "the outputs differ in $g" >&2; exit 1; }
done
measure nn-mpi-data-standardize build/nn-mpi-data csv "$csv" "$out/nn.h5" --no-header \
    --label 1 --test-fraction 0.1 --seed 1 --standardize

size=$(stat -c %s "$csv")
section=$($python - "$out/times" "$rounds" "$size" <<'EOF'
import statistics, sys
times, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for line in open(times):
    name, sec, rss = line.split()
    runs.setdefault(name, []).append((float(sec), int(rss)))
med = {n: statistics.median(s for s, _ in r) for n, r in runs.items()}
print("## Converting a CSV (nn-mpi-data csv)\n")
print(f"Command: `bench/convert.sh {rounds}`. Input: 1,000,000 rows x (label + 28 float "
      f"features), {size / 1e6:.0f} MB of CSV, 10% held out as test. Wall time: median of "
      f"{rounds} interleaved rounds (one run with --standardize); peak memory: max RSS. "
      "Both write the same dataset (checked with h5diff).\n")
print("| contender | seconds | range | MB/s | rows/s | peak memory | vs nn-mpi-data |")
print("|---|---:|---:|---:|---:|---:|---:|")
for n, r in runs.items():
    s = [x for x, _ in r]
    print(f"| {n} | {med[n]:.2f} | {min(s):.2f}–{max(s):.2f} | {size / 1e6 / med[n]:.0f} | "
          f"{1e6 / med[n]:,.0f} | {max(m for _, m in r) / 1024:.0f} MiB | "
          f"{med[n] / med['nn-mpi-data']:.2f}x |")
EOF
)
# RESULTS.md: this section in place of the last run's, else at the end.
printf '%s\n' "$section" | $python bench/report.py section bench/RESULTS.md
echo "$section"
