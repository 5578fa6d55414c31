"""Collects the benchmark's measurements (bench/run.sh) as JSON lines and writes the
results table. Subcommands:
  nn-metrics NAME NETWORK NP METRICS   one nn-mpi run, from its metrics file
  nn-check NETWORK METRICS             nn-mpi's first step losses
  nn-full NP METRICS                   a full configs/mnist.ini run: time to 98%
  gemm NAME NETWORK                    nn-mpi-gemm-bound's output line, from stdin
  tag NAME                             a reference's JSON line, from stdin, named
  table RESULTS COMMAND                the markdown table
  reproducible RESULTS COMMAND DATE CHUNK EXTRA BUSY WALL
                                       bench/reproducible.sh's section (the k-th run of a
                                       contender is its round k; CHUNK: the reproducible
                                       runs' chunk_size; EXTRA: their NN_BENCH_EXTRA; BUSY:
                                       the seconds the runs took; WALL: with the lock waits)
  section FILE                         puts the section on stdin ("## TITLE" and what follows
                                       up to the next "## ") into FILE: in place of the one
                                       with the same title, else at the end (bench/convert.sh
                                       and bench/tabular.sh write theirs so)"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

NETWORKS = {"A": "784-50-10 sigmoid, batch 100", "B": "784-512-512-10 ReLU, batch 128",
            "default": "configs/mnist.ini: 784-512-256-10 ReLU, batch 128"}
TRAIN_SAMPLES = 60000


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def emit(record):
    print(json.dumps(record))


def nn_metrics(name, network, np, path):
    events = lines(path)
    epochs = [e for e in events if e["event"] == "epoch"]
    train_time = sum(TRAIN_SAMPLES / e["samples_per_sec"] for e in epochs)
    start = [e["startup_sec"] for e in events if e["event"] == "start"]
    end = [e["peak_rss_mib"] for e in events if e["event"] == "end"]
    emit({"name": name, "network": network, "np": int(np),
          "samples_per_sec": len(epochs) * TRAIN_SAMPLES / train_time,
          "exchange_frac": sum(e["exchange_sec"] for e in epochs) / train_time,
          "allreduce_frac": sum(e["allreduce_sec"] for e in epochs) / train_time,
          "startup_sec": start[0] if start else None, "peak_rss_mib": end[0] if end else None})


def nn_check(network, path):
    losses = [e["train_loss"] for e in lines(path) if e["event"] == "train"][:5]
    emit({"name": "check", "framework": "nn-mpi", "network": network, "losses": losses})


def nn_full(np, path):
    epochs = [e for e in lines(path) if e["event"] == "epoch"]
    reached = [e for e in epochs if e["test_accuracy"] >= 0.98]
    emit({"name": "to98", "np": int(np), "seconds": reached[0]["elapsed_sec"] if reached else None,
          "epoch": reached[0]["epoch"] if reached else None,
          "final_accuracy": epochs[-1]["test_accuracy"], "total_sec": epochs[-1]["elapsed_sec"]})


def gemm(name, network):
    text = sys.stdin.read()
    rate = float(re.search(r"([0-9.]+) samples/s", text).group(1))
    core = re.search(r"\(([A-Za-z0-9]+)\)\s*$", text).group(1)
    emit({"name": name, "network": network, "samples_per_sec": rate, "blas_core": core})


def tag(name):
    record = json.loads(sys.stdin.read().strip().splitlines()[-1])
    record["name"] = name
    emit(record)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    blas = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libopenblas0-pthread"],
                          capture_output=True, text=True).stdout or "?"
    return "%s, %d cores, %s, OpenBLAS %s" % (model, os.cpu_count(), platform.platform(), blas)


def table(path, command):
    records = lines(path)
    runs = {}
    for r in records:
        if "samples_per_sec" in r and r["name"] not in ("check",):
            runs.setdefault((r.get("network"), r["name"]), []).append(r)

    def rate(network, name):
        rs = runs.get((network, name))
        return statistics.median(r["samples_per_sec"] for r in rs) if rs else None

    out = ["# nn-mpi benchmark results", "",
           "Command: `%s`, run %s." % (command, datetime.date.today().isoformat()),
           "Machine: %s; BLAS kernels: %s (OPENBLAS_CORETYPE=%s)." % (
               machine(), next((r["blas_core"] for r in records if "blas_core" in r), "?"),
               os.environ.get("OPENBLAS_CORETYPE", "auto")), "",
           "Training samples per second on real MNIST: median over the rounds, with the range. "
           "`gemm-bound`: the step's sgemm calls alone on one core (`-half`: at half the batch, "
           "one rank's share at -np 2). numpy and PyTorch ran with 1 and 2 threads; "
           "`torch-ddp2`: DistributedDataParallel, gloo, 2 processes. `nn-mpi-npN`: plain "
           "mode (`reproducible = no`, float sums); `nn-mpi-reproducible-npN`: exact sums "
           "(`reproducible = yes`, `chunk_size = auto`: 2 chunks of 50 or 64, as the defaults "
           "run at -np 1 and 2); `nn-mpi-adam-np2`: Adam (learning rate 0.001), plain mode.", ""]
    targets = []
    for network, title in NETWORKS.items():
        bound = rate(network, "gemm-bound")
        np1, np2 = rate(network, "nn-mpi-np1"), rate(network, "nn-mpi-np2")
        out += ["## Network %s (%s)" % (network, title), "",
                "| contender | samples/s | range | of GEMM bound | nn-mpi -np 2 is |",
                "|---|---:|---:|---:|---:|"]
        for (net, name), rs in sorted(runs.items(), key=lambda kv: -rate(*kv[0])):
            if net != network:
                continue
            values = [r["samples_per_sec"] for r in rs]
            median = statistics.median(values)
            out.append("| %s | %.0f | %.0f–%.0f | %s | %s |" % (
                name, median, min(values), max(values),
                "%.0f%%" % (100 * median / bound) if bound else "",
                "%.2fx" % (np2 / median) if np2 else ""))
        details = [r for (net, name), rs in runs.items() if net == network and name == "nn-mpi-np2"
                   for r in rs]
        details1 = [r for (net, name), rs in runs.items() if net == network and name == "nn-mpi-np1"
                    for r in rs]
        if details:
            out += ["", "nn-mpi at -np 2: sample exchange %.2f%% and gradient sums %.1f%% of the "
                        "epoch's training time; start-up to the first step %.2f s; peak memory "
                        "per rank %.0f MiB (at -np 1: %.0f MiB)." % (
                        100 * statistics.median(r["exchange_frac"] for r in details),
                        100 * statistics.median(r["allreduce_frac"] for r in details),
                        statistics.median(r["startup_sec"] for r in details),
                        max(r["peak_rss_mib"] for r in details),
                        max(r["peak_rss_mib"] for r in details1))]
        best_ref = max((rate(network, n) or 0) for n in ("numpy-t1", "numpy-t2", "torch-t1", "torch-t2"))
        ddp = rate(network, "torch-ddp2")
        r1, r2 = rate(network, "nn-mpi-reproducible-np1"), rate(network, "nn-mpi-reproducible-np2")
        want = {"A": (0.70, 1.6, 2.0), "B": (0.85, 1.8, 1.5)}.get(network)
        if want and bound and np1 and np2:
            targets += [
                ("%s: -np 1 of GEMM bound" % network, np1 / bound, want[0], "%.0f%%"),
                ("%s: -np 2 / -np 1" % network, np2 / np1, want[1], "%.2fx"),
                ("%s: -np 2 / best numpy or PyTorch" % network, np2 / best_ref, want[2], "%.2fx"),
                ("%s: -np 2 / PyTorch DDP" % network, np2 / ddp, 4.0, "%.2fx")]
        if np1 and r1:
            targets.append(("%s: reproducible mode's cost at -np 1" % network, 1 - r1 / np1, -0.10, "%.0f%%"))
        if np2 and r2:
            targets.append(("%s: reproducible mode's cost at -np 2" % network, 1 - r2 / np2, -0.10, "%.0f%%"))
        if details:
            targets.append(("%s: exchange share of an epoch at -np 2" % network,
                            statistics.median(r["exchange_frac"] for r in details), -0.02, "%.2f%%"))
        out.append("")
    over = [(n, rate("B", "nn-mpi-np%d" % n)) for n in (4, 8)]
    out += ["## Oversubscribed (network B; more ranks than cores)", "",
            "| ranks | samples/s |", "|---:|---:|"]
    out += ["| %d | %.0f |" % (n, v) for n, v in over if v]
    out += ["", "## First steps agree", "",
            "The references start from nn-mpi's initial weights and sample order (bench/nnref.py) "
            "on 20 batches; largest relative difference of the first 5 step losses from nn-mpi's "
            "(at -np 2):", "", "| network | numpy | PyTorch |", "|---|---:|---:|"]
    checks = [r for r in records if r["name"] == "check"]
    for network in NETWORKS:
        ref = next((r["losses"] for r in checks if r["network"] == network and r["framework"] == "nn-mpi"), None)
        cells = []
        for fw in ("numpy", "torch"):
            other = next((r["losses"] for r in checks if r["network"] == network and r["framework"] == fw), None)
            cells.append("%.1e" % max(abs(a - b) / abs(a) for a, b in zip(ref, other)) if ref and other else "?")
        out.append("| %s | %s | %s |" % (network, cells[0], cells[1]))
    out += ["", "## Time to 98% test accuracy (configs/mnist.ini)", "",
            "| ranks | seconds to 98% | at epoch | final accuracy | whole run |", "|---:|---:|---:|---:|---:|"]
    for r in records:
        if r["name"] == "to98":
            out.append("| %d | %s | %s | %.2f%% | %.1f s |" % (
                r["np"], "%.1f" % r["seconds"] if r["seconds"] else "not reached", r["epoch"],
                100 * r["final_accuracy"], r["total_sec"]))
    out += ["", "## Targets", "", "| target | measured | wanted | met |", "|---|---:|---:|---|"]
    for name, value, want, fmt in targets:
        scale = 100 if fmt.endswith("%%") else 1
        if want < 0:  # an upper bound
            met, wanted = value <= -want, "at most " + fmt % (-want * scale)
        else:
            met, wanted = value >= want, "at least " + fmt % (want * scale)
        out.append("| %s | %s | %s | %s |" % (name, fmt % (value * scale), wanted, "yes" if met else "**no**"))
    print("\n".join(out))


def reproducible(path, command, date, chunk, extra, busy, wall):
    records = lines(path)
    runs = {}
    for r in records:
        runs.setdefault((r["network"], r["name"]), []).append(r["samples_per_sec"])
    rounds = max(len(v) for v in runs.values())

    def med(network, name):
        values = runs.get((network, name))
        return statistics.median(values) if values else None

    def pct(x):
        return "%.0f%%" % (100 * x)

    def costs(network, np):
        """The cost of the medians, the paired cost and the range of the rounds' costs."""
        plain, repro = runs.get((network, "plain-np%d" % np)), runs.get((network, "reproducible-np%d" % np))
        if not plain or not repro:
            return None
        ratios = [b / a for a, b in zip(plain, repro)]  # the k-th runs of both: round k
        return (1 - statistics.median(repro) / statistics.median(plain),
                1 - statistics.median(ratios), 1 - max(ratios), 1 - min(ratios))

    settings = "`--set train.reproducible=yes%s`" % (" " + extra if extra else "")
    out = ["## Reproducible mode's cost", "",
           "Command: `%s`, run %s; %s, %.1f minutes of work (%.1f of wall time with the waits "
           "for the CPU lock)." % (command, date, "%d interleaved rounds" % rounds if rounds > 1
                                   else "1 round", int(busy) / 60, int(wall) / 60),
           "Machine: %s; BLAS kernels: %s (OPENBLAS_CORETYPE=%s)." % (
               machine(), next((r["blas_core"] for r in records if "blas_core" in r), "?"),
               os.environ.get("OPENBLAS_CORETYPE", "auto")), "",
           "Training samples per second on real MNIST (the epochs' training loops, from nn-mpi's "
           "metrics file, as in bench/run.sh): median over the rounds, with the range. Network A "
           "ran 3 epochs, B and the default 1. `plain`: `--set train.reproducible=no`; "
           "`reproducible`: %s (chunk_size: %s). `gemm-bound`: the step's sgemm calls alone on "
           "one core at the whole batch (`build/nn-mpi-gemm-bound SIZES BATCH 1`); `of GEMM "
           "bound`: the median's share of its median. Each round ran every contender once, a "
           "network's plain and reproducible runs at one rank count back to back, in an order "
           "rotated from round to round." % (
               settings, chunk if chunk and not chunk.startswith("auto") else
               "`auto`, the batch in 2 chunks: of 50 samples for A, of 64 for B and the default"), "",
           "Two costs: **of the medians**, 1 - median(reproducible) / median(plain); **paired**, "
           "1 - the median over the rounds of each round's reproducible / plain ratio (the two "
           "ran back to back, so a slow phase of the shared machine hits both), with the range "
           "of the rounds' costs.", ""]
    summary = []
    for network, title in NETWORKS.items():
        bound = med(network, "gemm-bound")
        out += ["### Network %s (%s)" % (network, title), "",
                "| contender | samples/s | range | of GEMM bound | cost of the medians | paired cost |",
                "|---|---:|---:|---:|---:|---:|"]
        names = ["plain-np1", "reproducible-np1", "plain-np2", "reproducible-np2"]
        names += ["gemm-bound"] if bound else []
        for name in names:
            values = runs.get((network, name))
            if not values:
                continue
            median = statistics.median(values)
            cells = ["", ""]
            if name.startswith("reproducible"):
                c = costs(network, int(name[-1]))
                if c:
                    cells = [pct(c[0]), "%s (%s to %s)" % (pct(c[1]), pct(c[2]), pct(c[3]))]
            out.append("| %s | %.0f | %.0f–%.0f | %s | %s | %s |" % (
                name, median, min(values), max(values),
                pct(median / bound) if bound and (name.endswith("np1") or name == "gemm-bound") else "",
                cells[0], cells[1]))
        out.append("")
        c1, c2 = costs(network, 1), costs(network, 2)
        summary.append("| %s | %s | %s | %s | %s |" % (
            network, pct(c1[0]) if c1 else "", pct(c1[1]) if c1 else "",
            pct(c2[0]) if c2 else "", pct(c2[1]) if c2 else ""))
    out += ["### All three", "",
            "| network | -np 1: cost of the medians | -np 1: paired | -np 2: cost of the medians | -np 2: paired |",
            "|---|---:|---:|---:|---:|"] + summary
    print("\n".join(out))


def section(path):
    new = sys.stdin.read().strip("\n").split("\n")
    title = new[0]
    assert title.startswith("## "), "a section starts with '## TITLE'"
    old = open(path).read().rstrip("\n").split("\n") if os.path.exists(path) else []
    start = next((i for i, line in enumerate(old) if line == title), None)
    if start is None:
        text = old + ([""] if old else []) + new
    else:
        end = next((i for i in range(start + 1, len(old)) if old[i].startswith("## ")), len(old))
        text = old[:start] + new + ([""] + old[end:] if end < len(old) else [])
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(path + ".tmp", path)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    {"nn-metrics": nn_metrics, "nn-check": nn_check, "nn-full": nn_full, "gemm": gemm,
     "tag": tag, "table": table, "section": section,
     "reproducible": reproducible}[command](*args)


if __name__ == "__main__":
    main()
