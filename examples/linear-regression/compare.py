"""Compares a trained linear model with the closed-form least-squares fit.

    compare.py DATA.h5 CHECKPOINT.h5 [--tolerance T]

Solves min ||[X 1] [w; b] - y||^2 on DATA's training split with numpy's lstsq (in
float64) and reads nn-mpi's weights (/model/layer_0/weights, (1, F)) and bias
(/model/layer_0/biases) from the checkpoint. Prints both side by side; exits 0 when every
coefficient agrees within T (absolute, default 1e-5), 1 otherwise.
"""
import argparse
import sys

import h5py
import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data")
parser.add_argument("checkpoint")
parser.add_argument("--tolerance", type=float, default=1e-5)
args = parser.parse_args()

with h5py.File(args.data, "r") as f:
    x = f["train/images"][...].astype(np.float64)
    y = f["train/targets"][...].astype(np.float64)
with h5py.File(args.checkpoint, "r") as f:
    if len(f["model"]) != 1:
        sys.exit(f"{args.checkpoint}: {len(f['model'])} layers, expected 1 (no hidden layer)")
    w = f["model/layer_0/weights"][...].astype(np.float64)
    b = f["model/layer_0/biases"][...].astype(np.float64)
if w.shape != (1, x.shape[1]) or b.shape != (1,):
    sys.exit(f"{args.checkpoint}: weights {w.shape} and biases {b.shape}, expected "
             f"(1, {x.shape[1]}) and (1,)")

design = np.hstack([x, np.ones((len(x), 1))])
exact, *_ = np.linalg.lstsq(design, y, rcond=None)
trained = np.concatenate([w[0], b])
names = [f"w{j}" for j in range(x.shape[1])] + ["b"]
print(f"{'':>4} {'nn-mpi':>12} {'lstsq':>12} {'difference':>12}")
for name, t, e in zip(names, trained, exact):
    print(f"{name:>4} {t:12.7f} {e:12.7f} {t - e:12.3e}")
worst = np.abs(trained - exact).max()
verdict = "agree" if worst <= args.tolerance else "DISAGREE"
print(f"largest difference {worst:.3e}, tolerance {args.tolerance:.0e}: {verdict}")
sys.exit(0 if worst <= args.tolerance else 1)
