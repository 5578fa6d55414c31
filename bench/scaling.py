"""Projects nn-mpi's step time and parallel efficiency to 16-1024 ranks on an InfiniBand
cluster and prints bench/SCALING.md's tables.
  python3 bench/scaling.py [RESULTS.md]      (after scripts/build.sh; about 30 s)

Compute: the step's GEMMs timed on this machine's core (build/nn-mpi-gemm-bound) at each
per-rank batch (made non-decreasing in the batch), times the share of the GEMM bound nn-mpi
reached at -np 1 in bench/RESULTS.md, so that small per-rank batches pay for their slower
GEMMs. Communication: nn-mpi's gradient sum (nn_reduce.h) on nodes of RANKS_PER_NODE ranks:
the node's ranks sum slices in shared memory and update their slice, then every slice is
allreduced across the nodes, all slices sharing the node's link, by the faster of a ring and
recursive halving and doubling (latency-bandwidth model)."""

import math
import os
import re
import subprocess
import sys

NETWORKS = {  # name in RESULTS.md: (sizes, description)
    "A": ("784,50,10", "784-50-10 sigmoid"),
    "B": ("784,512,512,10", "784-512-512-10 ReLU"),
    "default": ("784,512,256,10", "configs/mnist.ini, 784-512-256-10 ReLU"),
}
RANKS_PER_NODE = 32     # a typical two-socket cluster node, one rank per core
LATENCY = 2.0e-6        # seconds per inter-node message: MPI over InfiniBand HDR
BANDWIDTH = 12.0e9      # bytes/s per node link: HDR 100 Gb/s, about 12 GB/s achieved
MEMORY = 100.0e9        # bytes/s of a node's memory, shared by its ranks
NODE_BARRIER = 2.0e-6   # seconds per shared-memory barrier of a node (two per step)
RANKS = [16, 32, 64, 128, 256, 512, 1024]
BATCHES = [1024, 4096, 16384, 65536]
GEMM_ROWS = [8, 16, 32, 64, 128, 256, 512, 1024]
HERE = os.path.dirname(os.path.abspath(__file__))


def params(sizes):
    s = [int(v) for v in sizes.split(",")]
    return sum(s[i] * s[i + 1] + s[i + 1] for i in range(len(s) - 1))


def gemm_rate(sizes, rows):
    """Samples/s the step's GEMMs allow on one core at `rows` per step (best of 3)."""
    best = 0.0
    for _ in range(3):
        out = subprocess.run([os.path.join(HERE, "..", "build", "nn-mpi-gemm-bound"), sizes,
                              str(rows), "0.3"], capture_output=True, text=True, check=True,
                             env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).stdout
        best = max(best, float(re.search(r": ([0-9.]+) samples/s", out).group(1)))
    return best


def share_of_bound(results, name):
    """nn-mpi -np 1's share of the GEMM bound for network `name` in RESULTS.md."""
    section = re.search(r"## Network %s \(.*?(?=\n## )" % re.escape(name), results, re.S)
    row = re.search(r"\| nn-mpi-np1 \|[^|]*\|[^|]*\| (\d+)% \|", section.group(0))
    return int(row.group(1)) / 100.0


def compute_seconds(rates, rows):
    """One rank's forward and backward over `rows` samples: rows at the rate of the nearest
    measured row count (the rate of 8 rows below it, of the largest above)."""
    if rows <= 0:
        return 0.0
    nearest = min(GEMM_ROWS, key=lambda r: abs(math.log(r / rows)))
    return rows / rates[nearest]


def reduce_seconds(ranks, nbytes):
    """nn_reduce_sum plus the slice update and the node barriers, for `ranks` ranks."""
    per_node = min(ranks, RANKS_PER_NODE)
    nodes = ranks // per_node
    # Each rank reads its slice in every row of its node (the node reads every row once)
    # and reads and writes its slice of weights, velocity and sums (about 5 vectors).
    node = (per_node + 5) * nbytes / MEMORY + 2 * NODE_BARRIER
    if nodes == 1:
        return node
    volume = 2 * (nodes - 1) / nodes * nbytes / BANDWIDTH
    ring = 2 * (nodes - 1) * LATENCY + volume
    halving = 2 * math.log2(nodes) * LATENCY + volume
    return node + min(ring, halving)


def main():
    results = open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "RESULTS.md")).read()
    print("Ranks per node %d; inter-node latency %.0f us, bandwidth %.0f GB/s per node; node "
          "memory %.0f GB/s.\n" % (RANKS_PER_NODE, LATENCY * 1e6, BANDWIDTH / 1e9, MEMORY / 1e9))
    smallest = {}
    for name, (sizes, description) in NETWORKS.items():
        share = share_of_bound(results, name)
        # More rows per step never make a step slower per sample (they could be split), so
        # noise that says otherwise is smoothed away: each rate is at least the ones below.
        rates, best = {}, 0.0
        for r in GEMM_ROWS:
            best = max(best, share * gemm_rate(sizes, r))
            rates[r] = best
        nbytes = 4 * (params(sizes) + 8)  # float gradients and the step's extra slots
        print("### %s: %s, %d parameters\n" % (name, description, params(sizes)))
        print("nn-mpi on one core: %s samples/s at %s rows per step (%.0f%% of the GEMM bound)."
              "\n" % (", ".join("%.0f" % rates[r] for r in GEMM_ROWS),
                      ", ".join(str(r) for r in GEMM_ROWS), 100 * share))
        print("| global batch | " + " | ".join("P=%d" % p for p in RANKS) + " |")
        print("|---:|" + "---:|" * len(RANKS))

        def efficiency(batch, p):
            step = compute_seconds(rates, batch / p) + reduce_seconds(p, nbytes)
            return step, compute_seconds(rates, batch) / p / step

        for batch in BATCHES:
            cells = []
            for p in RANKS:
                step, eff = efficiency(batch, p)
                cells.append("%.2f ms, %.0f%%" % (1e3 * step, 100 * eff) if batch >= p else "-")
            print("| %d | %s |" % (batch, " | ".join(cells)))
        print()
        smallest[name] = []
        for p in RANKS:
            batch = p
            while batch < 2 ** 24 and efficiency(batch, p)[1] < 0.8:
                batch *= 2
            smallest[name].append(batch)
    print("### Smallest global batch (power of 2) with efficiency of 80% or more\n")
    print("| network | " + " | ".join("P=%d" % p for p in RANKS) + " |")
    print("|---|" + "---:|" * len(RANKS))
    for name, batches in smallest.items():
        print("| %s | %s |" % (name, " | ".join(str(b) for b in batches)))


if __name__ == "__main__":
    main()
