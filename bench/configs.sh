#!/usr/bin/env bash
# The shipped configs' accuracy and time: trains configs/mnist-best.ini and
# configs/fashion-mnist.ini to the end at -np 2 (2 cores) and reports, from each run's
# metrics, the final and best test accuracy, the first epoch at the config's target (99.0%
# and 90.0%), and the wall time of the whole run (start-up, loading and evaluations
# included). Writes the section "## Shipped configs" of bench/RESULTS.md and prints it.
#   bench/configs.sh [NP]        (default NP = 2; about 10 minutes on 2 cores)
# Environment: NN_BENCH_LOCK=FILE holds this CPU lock (flock FILE) during each run.
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:-2}
python=/usr/bin/python3
scripts/setup-deps.sh
scripts/build.sh >/dev/null
scripts/get-mnist.sh
scripts/get-fashion-mnist.sh
source bench/lib.sh # the environment
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
lock=()
[ -z "${NN_BENCH_LOCK:-}" ] || lock=(flock "$NN_BENCH_LOCK")

rows=""
for spec in mnist-best:0.990 fashion-mnist:0.900; do
    name=${spec%:*} target=${spec#*:}
    echo "configs: configs/$name.ini at -np $np"
    # The wall time is measured inside the lock: the wait for it is not the run's.
    # shellcheck disable=SC2016 # expanded by the inner bash
    "${lock[@]}" bash -c 'start=$(date +%s.%N)
        OPENBLAS_NUM_THREADS=1 mpirun -np "$1" build/nn-mpi "configs/$2.ini" --set run.dir= \
            --set log.metrics="$3/$2.jsonl" >"$3/$2.log" 2>&1 || { cat "$3/$2.log" >&2; exit 1; }
        echo "$start $(date +%s.%N)" >"$3/$2.time"' _ "$np" "$name" "$out"
    rows+=$($python - "$out/$name.jsonl" "$out/$name.time" "$name" "$target" <<'PY'
import json, sys
path, timing, name, target = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
epochs = [e for e in map(json.loads, open(path)) if e.get("event") == "epoch"]
acc = [e["test_accuracy"] for e in epochs]
start, end = map(float, open(timing).read().split())
first = next((i + 1 for i, a in enumerate(acc) if a >= target), None)
best = max(range(len(acc)), key=lambda i: acc[i])
wall = end - start
print(f"| configs/{name}.ini | {100 * target:.1f}% | {100 * acc[-1]:.2f}% | "
      f"{100 * acc[best]:.2f}% (epoch {best + 1}) | {first if first else 'not reached'} | "
      f"{len(acc)} | {int(wall // 60)} min {wall % 60:.0f} s | "
      f"{'yes' if acc[-1] >= target else '**no**'} |")
PY
)$'\n'
done

section="## Shipped configs

Command: \`bench/configs.sh $np\`, run $(date -u '+%Y-%m-%d %H:%M UTC') at -np $np.
Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores.

Each config trained to its end (\`--set run.dir=\`, so nothing is kept); test accuracy from
its metrics file after each epoch; wall time of the whole run (start-up, data loading,
evaluations included). Data: data/mnist.h5 (scripts/get-mnist.sh) and
data/fashion-mnist.h5 (scripts/get-fashion-mnist.sh, from Debian's dataset-fashion-mnist).

| config | target | final test accuracy | best | first epoch at target | epochs | wall time | final >= target |
|---|---:|---:|---:|---:|---:|---:|---|
${rows%$'\n'}"
printf '%s\n' "$section" | $python bench/report.py section bench/RESULTS.md
echo "$section"
