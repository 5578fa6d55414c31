"""Checks of nn-mpi predict's output for tests/predict.sh, independent of nn-mpi's code:
a numpy forward pass over a checkpoint's HDF5 arrays (h5py), and comparisons of outputs.

  predict_check.py forward CKPT X.npy OUT.csv [--labels Y.npy] [--mean M.npy --std S.npy
                   --scale S] [--accuracy] [--rows N]
      OUT.csv (default columns) holds, for the first N rows of X (stored features), numpy's
      predicted class and probabilities (or scores, or values) to float rounding; the input
      preprocessing is S * x (S defaults to 1/255 for uint8 X, 1 otherwise) minus M over S
      when given (a std of 0 counts as 1), not the checkpoint's; with --labels the label
      column holds Y; with --accuracy, the accuracy of `predicted` is the checkpoint's
      test_accuracy.
  predict_check.py same REF.csv OUT.csv [--names PREFIX]
      OUT.csv's predictions (predicted and p columns) equal REF.csv's first rows to 1e-6; its
      first column holds PREFIX000, PREFIX001, ... (file names) or the row numbers.
  predict_check.py top FULL.csv TOP.csv K
      TOP.csv holds the K most probable classes of FULL.csv, best first, ties to the lower
      class, and their probabilities as FULL.csv prints them.
"""
import csv
import os
import sys

import h5py
import numpy as np


def fail(msg):
    print(f"predict_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        fail(f"{path} is empty")
    return rows[0], rows[1:]


def model_forward(ckpt, x, scale, mean, std):
    with h5py.File(ckpt, "r") as f:
        m = f["model"]
        sizes = [int(s) for s in m.attrs["layer_sizes"]]
        act, loss = text(m.attrs["activation"]), text(m.attrs["loss"])
        layers = [(m[f"layer_{l}/weights"][()], m[f"layer_{l}/biases"][()])
                  for l in range(len(sizes) - 1)]
    a = x.astype(np.float32) * np.float32(scale)
    if mean is not None:
        a = a - mean
    if std is not None:
        a = a / np.where(std == 0, np.float32(1), std)
    for l, (w, b) in enumerate(layers):
        z = a @ w.T + b
        if l < len(layers) - 1:
            a = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[act](z)
        elif loss == "cross_entropy":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        elif loss == "mse":
            a = 1 / (1 + np.exp(-z))
        else:
            a = z
    return a.astype(np.float64), loss


def option(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def forward(args):
    ckpt, xpath, out = args[:3]
    x = np.load(xpath)
    x = x.reshape(len(x), -1)
    rows = int(option(args, "--rows", len(x)))
    x = x[:rows]
    scale = float(option(args, "--scale", 1 / 255 if x.dtype == np.uint8 else 1))
    mean = np.load(option(args, "--mean")) if "--mean" in args else None
    std = np.load(option(args, "--std")) if "--std" in args else None
    want, loss = model_forward(ckpt, x, scale, mean, std)
    header, body = read_csv(out)
    C = want.shape[1]
    prefix = {"cross_entropy": "p", "mse": "score", "squared_error": "y"}[loss]
    cols = [f"{prefix}{j}" for j in range(C)]
    expect = ["row"] + ([] if loss == "squared_error" else ["predicted"]) + cols
    labels = np.load(option(args, "--labels"))[:rows] if "--labels" in args else None
    if labels is not None:
        expect.append("label")
    if header != expect:
        fail(f"{out}: header {header[:4]}...{header[-2:]}, expected {expect[:4]}...{expect[-2:]}")
    if len(body) != rows:
        fail(f"{out}: {len(body)} rows, expected {rows}")
    got = np.array([[float(v) for v in r[len(expect) - C - (labels is not None):][:C]]
                    for r in body])
    if [int(r[0]) for r in body] != list(range(rows)):
        fail(f"{out}: the row column is not 0..{rows - 1}")
    diff = np.abs(got - want)
    tol = 1e-5 * np.maximum(1, np.abs(want))
    if (diff > tol).any():
        i, j = np.unravel_index(np.argmax(diff - tol), diff.shape)
        fail(f"{out}: row {i} {cols[j]} = {got[i, j]!r}, numpy says {want[i, j]!r}")
    note = f"{rows} rows x {C} outputs agree with numpy (largest difference {diff.max():.2g})"
    if loss != "squared_error":
        pred = np.array([int(r[1]) for r in body])
        top2 = np.sort(want, axis=1)[:, -2:]
        ties = top2[:, 1] - top2[:, 0] < 1e-5
        bad = (pred != want.argmax(axis=1)) & ~ties
        if bad.any():
            i = int(np.argmax(bad))
            fail(f"{out}: row {i} predicted {pred[i]}, numpy says {want[i].argmax()}")
        note += f"; predicted = numpy's argmax ({int(ties.sum())} near-ties)"
        if labels is not None:
            if [int(r[-1]) for r in body] != [int(v) for v in labels]:
                fail(f"{out}: the label column is not the input's labels")
            correct = int((pred == labels).sum())
            note += f"; accuracy {correct}/{rows}"
            if "--accuracy" in args:
                with h5py.File(ckpt, "r") as f:
                    stored = float(f["train"].attrs["test_accuracy"])
                if round(stored * rows) != correct or abs(stored - correct / rows) > 1e-12:
                    fail(f"{out}: accuracy {correct}/{rows} = {correct / rows}, the checkpoint's "
                         f"test_accuracy is {stored}")
                note += " = the checkpoint's test_accuracy"
    print(f"{out}: {note}")


def same(args):
    ref, out = args[:2]
    names = option(args, "--names")
    rh, rb = read_csv(ref)
    oh, ob = read_csv(out)
    cols = [c for c in rh if c == "predicted" or (c[0] == "p" and c[1:].isdigit())]
    if [c for c in oh if c in cols] != cols:
        fail(f"{out}: columns {oh}, expected {cols} among them")
    if oh[0] != ("file" if names else "row"):
        fail(f"{out}: first column {oh[0]}")
    if len(ob) > len(rb) or not ob:
        fail(f"{out}: {len(ob)} rows, {ref} has {len(rb)}")
    worst = 0.0
    for i, (r, o) in enumerate(zip(rb, ob)):
        first = f"{names}{i:03d}" if names else str(i)
        if not (os.path.basename(o[0]).startswith(first) if names else o[0] == first):
            fail(f"{out}: row {i} is named {o[0]}, expected {first}")
        rv = dict(zip(rh, r))
        ov = dict(zip(oh, o))
        if rv["predicted"] != ov["predicted"]:
            fail(f"{out}: row {i} predicted {ov['predicted']}, {ref} says {rv['predicted']}")
        for c in cols[1:]:
            d = abs(float(rv[c]) - float(ov[c]))
            worst = max(worst, d)
            if d > 1e-6:
                fail(f"{out}: row {i} {c} = {ov[c]}, {ref} says {rv[c]}")
    print(f"{out}: the same predictions as {ref} for {len(ob)} rows (largest difference {worst:.2g})")


def top(args):
    full, topf, k = args[0], args[1], int(args[2])
    fh, fb = read_csv(full)
    th, tb = read_csv(topf)
    pcols = [i for i, c in enumerate(fh) if c[0] == "p" and c[1:].isdigit()]
    expect = ["row"] + [c for n in range(1, k + 1) for c in (f"top{n}", f"p{n}")]
    if "label" in fh:
        expect.append("label")
    if th != expect:
        fail(f"{topf}: header {th}, expected {expect}")
    if len(tb) != len(fb):
        fail(f"{topf}: {len(tb)} rows, {full} has {len(fb)}")
    for i, (f, t) in enumerate(zip(fb, tb)):
        probs = [float(f[j]) for j in pcols]
        order = sorted(range(len(probs)), key=lambda c: (-probs[c], c))[:k]
        want = [f[0]] + [v for c in order for v in (str(c), f[pcols[c]])]
        if "label" in fh:
            want.append(f[-1])
        if t != want:
            fail(f"{topf}: row {i} is {t}, expected {want}")
        if t[1] != f[1]:
            fail(f"{topf}: row {i}: top1 {t[1]} but predicted {f[1]}")
    print(f"{topf}: the {k} best classes of every row of {full}, in order")


{"forward": forward, "same": same, "top": top}[sys.argv[1]](sys.argv[2:])
