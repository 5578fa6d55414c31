"""bench/tabular.sh's data and figures, and the converter benchmark's CSV (bench/convert.sh).
Subcommands:
  csv OUT ROWS [FIRST]        write ROWS rows (from row FIRST of the stream, default 0) of the
                              HIGGS-sized table: a 0/1 label, then 28 float features; prints
                              the rows' positive fraction and Bayes-optimal accuracy (JSON)
  nn NAME NETWORK NP SAMPLES METRICS
                              one nn-mpi run, from its metrics file (SAMPLES training rows)
  gemm NAME NETWORK           nn-mpi-gemm-bound's output line, from stdin (NAME
                              gemm-bound-half: at one rank's share of the batch at -np 2;
                              gemm-bound-chunk: at reproducible mode's 32 rows)
  tag NAME [KEY=VALUE...]     a reference's JSON line (bench/mlp_torch.py), from stdin
  table RESULTS DATA COMMAND BUSY WALL
                              the markdown section of bench/RESULTS.md (BUSY: the seconds
                              the benchmark ran; WALL: with the waits for the CPU lock)
NETWORK: tabular (28-256-256-2), tabular-bce (28-256-256-1) or mnist (784-512-256-10).

The table: features x ~ N(0, 1) iid (float32, written '%.9g' so they read back exactly);
p_k = x . w_k for five fixed random unit vectors w_k (seed 13);
z = 1.5 p_1 + 1.5 (p_2^2 - 1) + 2 sin(2 p_3) + 2 p_4 p_5, and the label is 1 with
probability sigmoid(z): a logistic of a projection plus nonlinearities, which a linear model
gets only about 64% right and the Bayes-optimal classifier about 84%. Rows come in blocks of
100,000, block b drawn from the seed (0, b), so that any block reads the same in any file."""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

import numpy as np

BLOCK = 100000
FEATURES = 28


def block(b):
    """Block b of the stream: labels, features, and the labels' probabilities."""
    rng = np.random.default_rng((0, b))
    x = rng.standard_normal((BLOCK, FEATURES)).astype(np.float32)
    w = np.random.default_rng(13).standard_normal((FEATURES, 5))
    w /= np.linalg.norm(w, axis=0)
    p = x.astype(np.float64) @ w
    z = 1.5 * p[:, 0] + 1.5 * (p[:, 1] ** 2 - 1) + 2 * np.sin(2 * p[:, 2]) + 2 * p[:, 3] * p[:, 4]
    prob = 1 / (1 + np.exp(-z))
    y = (rng.random(BLOCK) < prob).astype(np.int64)
    return y, x, prob


def csv(out, rows, first=0):
    rows, first = int(rows), int(first)
    positive = bayes = 0.0
    with open(out, "w") as f:
        row = first
        while row < first + rows:
            b, skip = divmod(row, BLOCK)
            y, x, prob = block(b)
            n = min(BLOCK - skip, first + rows - row)
            y, x, prob = y[skip:skip + n], x[skip:skip + n], prob[skip:skip + n]
            np.savetxt(f, np.column_stack([y, x]), fmt=["%d"] + ["%.9g"] * FEATURES, delimiter=",")
            positive += y.sum()
            bayes += np.maximum(prob, 1 - prob).sum()
            row += n
    print(json.dumps({"name": "data", "rows": rows, "first": first,
                      "positive": positive / rows, "bayes_accuracy": bayes / rows}))


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def nn(name, network, np_, samples, path):
    events = lines(path)
    epochs = [e for e in events if e["event"] == "epoch"]
    # samples_per_sec covers each epoch's training loop (the sample exchange and the steps),
    # not the evaluation or the start-up.
    seconds = sum(int(samples) / e["samples_per_sec"] for e in epochs)
    print(json.dumps({"name": name, "network": network, "np": int(np_),
                      "samples_per_sec": len(epochs) * int(samples) / seconds,
                      "test_accuracy": epochs[-1]["test_accuracy"],
                      "exchange_frac": sum(e["exchange_sec"] for e in epochs) / seconds,
                      "allreduce_frac": sum(e["allreduce_sec"] for e in epochs) / seconds,
                      "startup_sec": next(e["startup_sec"] for e in events if e["event"] == "start")}))


def gemm(name, network):
    rate = float(re.search(r"([0-9.]+) samples/s", sys.stdin.read()).group(1))
    print(json.dumps({"name": name, "network": network, "samples_per_sec": rate}))


def tag(name, *settings):
    record = json.loads(sys.stdin.read().strip().splitlines()[-1])
    record["name"] = name
    record.update(s.split("=", 1) for s in settings)
    print(json.dumps(record))


def machine():
    model = re.search(r"Model name:\s*(.*)", subprocess.run(["lscpu"], capture_output=True,
                                                            text=True).stdout)
    version = {p: subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True,
                                 text=True).stdout or "?"
               for p in ("libopenblas0-pthread", "python3-torch")}
    return "%s (lscpu), %d cores, %s; OpenBLAS %s, kernels %s; PyTorch %s (Debian python3-torch)" % (
        model.group(1).strip() if model else "?", os.cpu_count(), platform.platform(),
        version["libopenblas0-pthread"], os.environ.get("OPENBLAS_CORETYPE", "auto"),
        version["python3-torch"])


SIZES = {"tabular": [28, 256, 256, 2], "tabular-bce": [28, 256, 256, 1],
         "mnist": [784, 512, 256, 10]}


def params(network):
    sizes = SIZES[network]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def flops(network):
    """GEMM FLOPs per training sample (nn-mpi-gemm-bound's count): forward and dW for every
    layer, dX for all but the first: 6 W - 2 W_1."""
    sizes = SIZES[network]
    w = [a * b for a, b in zip(sizes, sizes[1:])]
    return 6 * sum(w) - 2 * w[0]


# The contenders on the tabular data, in the table's order, with how they use the 2 cores.
CONTENDERS = [
    ("nn-mpi-np2", "mpirun -np 2, 1 BLAS thread per rank"),
    ("nn-mpi-reproducible-np2", "the same, `reproducible = yes`"),
    ("nn-mpi-reproducible-c128-np2", "the same, `reproducible = yes`, `chunk_size = 128`"),
    ("torch-t2", "1 process, torch.set_num_threads(2), OpenBLAS 1 thread"),
    ("torch-t1-blas2", "1 process, torch.set_num_threads(1), OpenBLAS 2 threads"),
    ("torch-t2-blas2", "1 process, torch 2 threads and OpenBLAS 2 threads (bench/run.sh's torch-t2)"),
    ("torch-ddp2", "DistributedDataParallel, gloo, 2 processes of 1 thread"),
    ("torch-t1", "1 process, 1 thread (one core)"),
]


def table(path, data, command, busy, wall):
    records = lines(path)
    test = next((r for r in lines(data) if r["name"] == "data" and r["first"] > 0), None)
    runs = {}
    for r in records:
        runs.setdefault((r["network"], r["name"]), []).append(r)

    def values(network, name, key="samples_per_sec"):
        return [r[key] for r in runs.get((network, name), []) if r.get(key) is not None]

    def med(network, name, key="samples_per_sec"):
        v = values(network, name, key)
        return statistics.median(v) if v else None

    rounds = max(len(v) for v in runs.values())
    np2 = med("tabular", "nn-mpi-np2")
    out = ["## Training on tabular data (28 float features, 1,000,000 rows)", "",
           "Command: `%s`, run %s; %d interleaved rounds, %.1f minutes of work (%.1f of wall "
           "time with the waits for the CPU lock)." % (
               command, datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
               rounds, float(busy) / 60, float(wall) / 60),
           "Machine: %s." % machine(), "",
           "Data (`bench/tabular.py`): a HIGGS-sized table, 1,000,000 training and 100,000 test "
           "rows of 28 float32 features x ~ N(0, 1) and a 0/1 label that is 1 with probability "
           "sigmoid(z), z = 1.5 p1 + 1.5 (p2^2 - 1) + 2 sin(2 p3) + 2 p4 p5 for p_k = x . w_k "
           "and five fixed random unit vectors w_k (seed 13): a logistic of a projection plus "
           "nonlinear terms. A linear model gets about 64%% of it right; the Bayes-optimal "
           "classifier %s of the test rows. Converted once with `nn-mpi-data csv train.csv "
           "test.csv --standardize`; nn-mpi and PyTorch read the same HDF5 file and apply the "
           "same (x - mean) / std, and hold the data in memory before the clock starts." % (
               "%.2f%%" % (100 * test["bayes_accuracy"]) if test else "?"), "",
           "Training: one epoch over the 1,000,000 rows, global batch 512 (1,954 steps; 256 "
           "rows per rank at -np 2), SGD with momentum 0.9, learning rate 0.05 (constant), no "
           "weight decay, float32, ReLU hidden layers (`bench/tabular.ini`, network `tabular` "
           "of `bench/nnref.py`). samples/s: the training loop only, median of the rounds with "
           "the range: nn-mpi's epoch time from its metrics file (the epoch's sample exchange "
           "and its steps; not the start-up, the data loading or the test evaluation), "
           "PyTorch's shuffle and steps (`bench/mlp_torch.py`). Test accuracy after the epoch "
           "(median of the rounds).", "",
           "nn-mpi's output layer is a softmax over `classes` units, so nn-mpi trains "
           "28-256-256-2 with softmax + cross-entropy. That is the same model family as "
           "28-256-256-1 with a logistic output and binary cross-entropy (softmax(a, b) "
           "gives class 1 the probability sigmoid(b - a)); PyTorch trains both, the second "
           "with BCEWithLogitsLoss, to show that the difference is negligible.", "",
           "| contender | the 2 cores | 28-256-256-2 softmax: samples/s | range | test "
           "accuracy | 28-256-256-1 logistic (BCE): samples/s | range | test accuracy | "
           "nn-mpi -np 2 is (softmax) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, how in CONTENDERS:
        cells = []
        for network in ("tabular", "tabular-bce"):
            v = values(network, name)
            acc = med(network, name, "test_accuracy")
            cells += ["%.0f" % statistics.median(v), "%.0f–%.0f" % (min(v), max(v)),
                      "%.2f%%" % (100 * acc)] if v else ["", "", ""]
        if any(cells):
            best = med("tabular", name) or med("tabular-bce", name)
            out.append("| %s | %s | %s | %.2fx |" % (name, how, " | ".join(cells), np2 / best))
    torch2 = [(med(n, c), c, n) for n in ("tabular", "tabular-bce")
              for c in ("torch-t2", "torch-t1-blas2", "torch-t2-blas2", "torch-ddp2")
              if med(n, c)]
    best, best_name, best_net = max(torch2)
    one = max((med(n, "torch-t1") or 0, n) for n in ("tabular", "tabular-bce"))
    pairs = [med("tabular-bce", c) / med("tabular", c) for c, _ in CONTENDERS
             if c.startswith("torch") and med("tabular", c) and med("tabular-bce", c)]
    acc = [100 * (med("tabular-bce", c, "test_accuracy") - med("tabular", c, "test_accuracy"))
           for c, _ in CONTENDERS
           if c.startswith("torch") and med("tabular", c) and med("tabular-bce", c)]
    out += ["", "At -np 2 nn-mpi trains %.0f samples/s, %.2fx PyTorch's fastest way of using "
                "the same 2 cores (%s, %s, %.0f samples/s); in reproducible mode %.0f (%.2fx). "
                "PyTorch's 1-unit logistic network runs at %.2f–%.2fx the speed of its 2-unit "
                "softmax one and ends %+.2f to %+.2f points of test accuracy from it."
            % (np2, np2 / best, best_name, "1-unit BCE" if best_net.endswith("bce") else
               "2-unit softmax", best, med("tabular", "nn-mpi-reproducible-np2"),
               med("tabular", "nn-mpi-reproducible-np2") / best, min(pairs), max(pairs),
               min(acc), max(acc))]
    if one[0] > best:
        out[-1] += (" On one core (torch-t1) PyTorch is faster still, %.0f samples/s (%s): its "
                    "2-thread settings gain nothing over one thread on this machine; nn-mpi "
                    "-np 2 is %.2fx that." % (
                        one[0], "1-unit BCE" if one[1].endswith("bce") else "2-unit softmax",
                        np2 / one[0]))

    out += ["", "### Per parameter: against nn-mpi on MNIST", "",
            "The same build at -np 2, in the same rounds, on configs/mnist.ini's network "
            "(784-512-256-10 ReLU, batch 128, one epoch of the 60,000 MNIST training images, "
            "`--set train.epochs=1 --set run.dir=`). Parameter-samples/s: samples/s times the "
            "parameters (weights and biases), i.e. parameter updates' worth of gradient work "
            "per second. GFLOP/s: the GEMMs' floating-point operations per sample (forward, "
            "weight gradients, and input gradients above the first layer: 6W - 2W_1 for W "
            "weights, W_1 of them in the first layer), as `nn-mpi-gemm-bound` counts them. "
            "`GEMM bound x 2`: the step's sgemm calls alone on one core at one rank's share of "
            "the batch (256 and 64 rows), times 2 cores. `outside the GEMMs`: the step's time "
            "less the GEMM bound's (decoding the samples, activations, softmax, the gradient "
            "sums across the ranks and the waits in them, the SGD update). `gradient sums`: "
            "their share of the epoch, waits included.", "",
            "| network | mode | batch | parameters | FLOP per sample | samples/s | "
            "Mparameter-samples/s | GFLOP/s | of GEMM bound | step | outside the GEMMs | "
            "gradient sums |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rate = {}
    batch = {"tabular": 512, "mnist": 128}
    outside = {}
    for network, label in (("tabular", "28-256-256-2"), ("mnist", "784-512-256-10 (MNIST)")):
        bound = med(network, "gemm-bound-half")
        for name, mode in (("nn-mpi-np2", "plain"), ("nn-mpi-reproducible-np2", "reproducible"),
                           ("gemm-bound-half", "GEMM bound x 2")):
            r = med(network, name)
            if r is None:
                continue
            if name.startswith("gemm"):
                r *= 2
            rate[(network, name)] = r
            step = 1e6 * batch[network] / r
            if bound:
                outside[(network, name)] = step - 1e6 * batch[network] / (2 * bound)
            share = med(network, name, "allreduce_frac")
            out.append("| %s | %s | %d | %s | %s | %.0f | %.0f | %.1f | %s | %.0f µs | %s | %s |" % (
                label, mode, batch[network], format(params(network), ","),
                format(flops(network), ","), r, r * params(network) / 1e6,
                r * flops(network) / 1e9, "%.0f%%" % (100 * r / (2 * bound)) if bound else "",
                step, "%.0f µs" % outside[(network, name)] if bound and
                not name.startswith("gemm") else "",
                "%.1f%%" % (100 * share) if share is not None else ""))
    out.append("")
    for name, mode in (("nn-mpi-np2", "plain"), ("nn-mpi-reproducible-np2", "reproducible"),
                       ("gemm-bound-half", "the GEMM bound")):
        t, m = rate.get(("tabular", name)), rate.get(("mnist", name))
        if t and m:
            out.append("- %s: the tabular network does %.2fx MNIST's parameter-samples/s and "
                       "%.2fx its GFLOP/s." % (
                           mode[0].upper() + mode[1:], t * params("tabular") / (m * params("mnist")),
                           t * flops("tabular") / (m * flops("mnist"))))
    t, m = ("tabular", "nn-mpi-np2"), ("mnist", "nn-mpi-np2")
    if t in outside and m in outside:
        gt, gm = rate[("tabular", "gemm-bound-half")], rate[("mnist", "gemm-bound-half")]
        ratio = rate[t] * params("tabular") / (rate[m] * params("mnist"))

        def units(network):  # hidden and output units, per weight
            sizes = SIZES[network]
            return sum(sizes[1:]) / sum(a * b for a, b in zip(sizes, sizes[1:]))
        out += ["", "Why the ratio is what it is: the GEMMs alone run at %.0f and %.0f GFLOP/s on "
                "the 2 cores (tabular, MNIST): the tabular first layer's K = 28 costs little at "
                "256 rows per rank (it is %.0f%% of the network's FLOPs), and a tabular "
                "parameter carries more FLOPs (%.1f against %.1f: MNIST's first layer holds "
                "%.0f%% of its weights and needs no input gradient). Outside the GEMMs the two "
                "pay for different things, %.0f µs a step (%.0f%% of the step) on the tabular "
                "network and %.0f µs (%.0f%%) on MNIST. MNIST's is mostly work once per step "
                "and parameter (the SGD update of 535,818 parameters and the gradient sums), "
                "spread over 128 samples, %s parameters per sample against %s for the "
                "tabular batch of 512. The tabular network's is chiefly work per sample and "
                "unit (bias, ReLU and its gradient, softmax, decoding 28 floats with mean and "
                "std: it has one unit per %.0f weights against one per %.0f for MNIST, so per "
                "FLOP that work is %.1fx as large) and the ranks' waits for each other at "
                "every step, which weigh more in its short steps (%.2f ms). %s" % (
                    gt * flops("tabular") / 1e9, gm * flops("mnist") / 1e9,
                    100 * 4 * 28 * 256 / flops("tabular"),
                    flops("tabular") / params("tabular"), flops("mnist") / params("mnist"),
                    100 * 784 * 512 / sum(a * b for a, b in zip(SIZES["mnist"], SIZES["mnist"][1:])),
                    outside[t], 100 * outside[t] * rate[t] / 1e6 / batch["tabular"],
                    outside[m], 100 * outside[m] * rate[m] / 1e6 / batch["mnist"],
                    format(round(params("mnist") / batch["mnist"]), ","),
                    format(round(params("tabular") / batch["tabular"]), ","),
                    1 / units("tabular"), 1 / units("mnist"),
                    units("tabular") / units("mnist") * flops("mnist") / params("mnist") /
                    (flops("tabular") / params("tabular")), 1e3 * batch["tabular"] / rate[t],
                    "The two costs roughly cancel." if 0.85 < ratio < 1.18 else
                    "The %s network's costs weigh more here." % (
                        "tabular" if ratio < 1 else "MNIST"))]
        rt, rm = rate.get(("tabular", "nn-mpi-reproducible-np2")), rate.get(("mnist", "nn-mpi-reproducible-np2"))
        if rt and rm:
            c128 = med("tabular", "nn-mpi-reproducible-c128-np2")
            out += ["", "Reproducible mode keeps %.0f%% of the plain speed on the tabular network "
                    "and %.0f%% on MNIST. It computes each rank's rows in chunks of `chunk_size` "
                    "= 32 rows and adds every chunk's whole gradient into fixed-point sums: 8 "
                    "chunks a step per rank for the tabular batch (256 rows), 2 for MNIST's (64); "
                    "and at 32 rows the GEMMs run at %s (tabular) and %s (MNIST) of their speed "
                    "at a rank's whole share (`nn-mpi-gemm-bound`).%s" % (
                        100 * rt / rate[t], 100 * rm / rate[m],
                        *("%.0f%%" % (100 * med(n, "gemm-bound-chunk") / med(n, "gemm-bound-half"))
                          if med(n, "gemm-bound-chunk") else "?" for n in ("tabular", "mnist")),
                        " With `chunk_size = 128` (2 chunks a step per rank) the tabular network "
                        "keeps %.0f%% (still bit for bit the same at any rank count, but not "
                        "the same bits as with 32)." % (100 * c128 / rate[t]) if c128 else "")]
        out += ["", "A profile taken by hand (`perf record` of `mpirun -np 2 build/nn-mpi` over "
                "4 tabular and 12 MNIST epochs, 2026-11-29; not repeated by this script) agrees: "
                "tabular: OpenBLAS 73%, MPI progress (the ranks waiting for each other) 7%, "
                "`nn_model_forward`/`nn_model_backward` outside BLAS 7%, the samples' decode "
                "(`nn_exchange_batch`) 3%, the SGD update 2%, the gradient sums 1%; MNIST: "
                "OpenBLAS 68%, the SGD update 13%, the gradient sums 5%, MPI progress 5%, "
                "decode 2%, forward/backward outside BLAS 2%."]
    print("\n".join(out))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    {"csv": csv, "nn": nn, "gemm": gemm, "tag": tag, "table": table}[command](*args)


if __name__ == "__main__":
    main()
