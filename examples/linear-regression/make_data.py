"""Writes the linear-regression example's dataset: y = X w + b + noise.

    make_data.py OUT.h5 [--rows N] [--seed S]

X holds N rows of 3 features drawn from N(0, 1); w = (2, -3, 0.5), b = 1 and the noise
is N(0, 0.5^2), so that no line fits exactly and the least-squares answer (what the
trained weights are compared with) differs a little from (w, b). The first 80% of the rows
are /train, the rest /test, in the nn-mpi dataset format (README: Regression).
"""
import argparse

import h5py
import numpy as np

W_TRUE = np.array([2.0, -3.0, 0.5])
B_TRUE = 1.0
NOISE = 0.5

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out")
parser.add_argument("--rows", type=int, default=2000)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
x = rng.normal(0.0, 1.0, (args.rows, len(W_TRUE))).astype(np.float32)
y = x.astype(np.float64) @ W_TRUE + B_TRUE + rng.normal(0.0, NOISE, args.rows)
train = args.rows * 8 // 10
with h5py.File(args.out, "w") as f:
    f.attrs["format"] = "nn-mpi dataset"
    f.attrs["format_version"] = 2
    f["train/images"], f["train/targets"] = x[:train], y[:train].astype(np.float32)
    f["test/images"], f["test/targets"] = x[train:], y[train:].astype(np.float32)
print(f"{args.out}: {train} train and {args.rows - train} test rows of y = x . {W_TRUE} + "
      f"{B_TRUE} + N(0, {NOISE}^2)")
