"""Checks what `nn-mpi export` wrote against the checkpoint it came from, with nothing of
nn-mpi's: the ONNX file is run by a small numpy interpreter of its nodes, the checkpoint
is read with h5py (layout: include/nnmpi/nn_checkpoint.h) and run by a numpy forward pass
of its own, both in float32, on raw stored feature rows.

usage: export_check.py CKPT ONNX NPZ DATA|- SPLIT ROWS [run-test-split]
  DATA: a dataset file whose SPLIT/images rows 0..ROWS-1 are the inputs, or - for ROWS
  random raw rows (uint8 values, or normal floats, after the checkpoint's feature type).
  run-test-split: those rows are the run's whole test split, so the ONNX outputs' accuracy
  on their labels (regression: mean loss 1/2 sum (a - t)^2 on their targets) must be the
  test_accuracy (test_loss) nn-mpi stored in the checkpoint.
Prints one line per check; exits 1 naming the first failure.
"""
import sys

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

OPSET, IR_VERSION = 13, 7  # include/nnmpi/nn_export_onnx.h
TOLERANCE = 1e-5


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_checkpoint(path):
    """The model and preprocessing as stored, numpy arrays and strings."""
    with h5py.File(path, "r") as f:
        m = f["model"]
        sizes = [int(s) for s in m.attrs["layer_sizes"]]
        ck = {
            "sizes": sizes,
            "activation": text(m.attrs["activation"]),
            "loss": text(m.attrs["loss"]),
            "run_id": text(f.attrs["run_id"]) if "run_id" in f.attrs else "",
            "weights": [m[f"layer_{l}/weights"][()] for l in range(len(sizes) - 1)],
            "biases": [m[f"layer_{l}/biases"][()] for l in range(len(sizes) - 1)],
            # No /preprocessing: uint8 scaled by 1/255, no mean or std (nn_preprocess.h).
            "feature_type": "uint8", "scale": np.float32(1.0) / np.float32(255.0),
            "mean": None, "std": None,
        }
        if "preprocessing" in f:
            p = f["preprocessing"]
            ck["feature_type"] = text(p.attrs["feature_type"])
            ck["scale"] = np.float32(p.attrs["scale"])
            ck["mean"] = p["mean"][()] if "mean" in p else None
            ck["std"] = p["std"][()] if "std" in p else None
    for a in ck["weights"] + ck["biases"]:
        assert a.dtype == np.float32
    return ck


def preprocess(ck, raw):
    """nn_preprocess.h: each step rounded to float32; a std of 0 counts as 1."""
    x = raw.astype(np.float32) * ck["scale"]
    if ck["mean"] is not None:
        x = x - ck["mean"]
    if ck["std"] is not None:
        x = x / np.where(ck["std"] == 0, np.float32(1), ck["std"])
    return x


def sigmoid(z):
    return np.float32(1) / (np.float32(1) + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


HIDDEN = {"relu": lambda z: np.maximum(z, np.float32(0)), "sigmoid": sigmoid, "tanh": np.tanh}
OUTPUT = {"cross_entropy": softmax, "mse": sigmoid, "squared_error": lambda z: z}


def forward(w, b, activation, loss, x):
    for l in range(len(w)):
        z = x @ w[l].T + b[l]
        x = HIDDEN[activation](z) if l < len(w) - 1 else OUTPUT[loss](z)
    return x


def expected_ops(ck):
    ops = ["Mul"] + (["Sub"] if ck["mean"] is not None else []) + (["Div"] if ck["std"] is not None else [])
    onnx_name = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    out = {"cross_entropy": ["Softmax"], "mse": ["Sigmoid"], "squared_error": []}[ck["loss"]]
    for l in range(len(ck["sizes"]) - 1):
        ops += ["Gemm"] + ([onnx_name[ck["activation"]]] if l < len(ck["sizes"]) - 2 else out)
    return ops


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_onnx(model, x):
    """Evaluates the graph node by node in float32; returns the output and every value."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = attributes(node)
        i = [env[n] for n in node.input]
        op = node.op_type
        if op == "Mul":
            y = i[0] * i[1]
        elif op == "Sub":
            y = i[0] - i[1]
        elif op == "Div":
            y = i[0] / i[1]
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = np.float32(a.get("alpha", 1.0)) * (A @ B)
            if len(i) > 2:
                y = y + np.float32(a.get("beta", 1.0)) * i[2]
        elif op == "Relu":
            y = np.maximum(i[0], np.float32(0))
        elif op == "Sigmoid":
            y = sigmoid(i[0])
        elif op == "Tanh":
            y = np.tanh(i[0])
        elif op == "Softmax":
            if a.get("axis", -1) not in (1, -1):
                fail(f"Softmax over axis {a['axis']}")
            y = softmax(i[0])
        else:
            fail(f"unexpected operator {op} in node {node.name}")
        if y.dtype != np.float32:
            fail(f"node {node.name} computed {y.dtype}")
        env[node.output[0]] = y
    return env[model.graph.output[0].name], env


def compare(what, got, want):
    if got.shape != want.shape:
        fail(f"{what}: shape {got.shape}, expected {want.shape}")
    diff = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
    if not diff < TOLERANCE:
        fail(f"{what}: differs from the checkpoint's forward pass by {diff}")
    if not np.array_equal(got.argmax(axis=1), want.argmax(axis=1)):
        fail(f"{what}: another argmax than the checkpoint's forward pass")
    print(f"{what}: {got.shape[0]} rows agree with the checkpoint's forward pass "
          f"(max abs diff {diff:.2e}, same argmax)")


def check_onnx(path, ck, raw, want):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    if model.ir_version != IR_VERSION:
        fail(f"{path}: ir_version {model.ir_version}, expected {IR_VERSION}")
    opsets = [(o.domain, o.version) for o in model.opset_import]
    if opsets != [("", OPSET)]:
        fail(f"{path}: opset_import {opsets}, expected [('', {OPSET})]")
    if model.producer_name != "nn-mpi" or not model.producer_version:
        fail(f"{path}: producer {model.producer_name!r} {model.producer_version!r}")
    meta = {p.key: p.value for p in model.metadata_props}
    arch = "-".join(map(str, ck["sizes"]))
    for key, value in (("layer_sizes", arch), ("activation", ck["activation"]),
                       ("loss", ck["loss"]), ("feature_type", ck["feature_type"]),
                       ("run_id", ck["run_id"]),
                       ("targets" if ck["loss"] == "squared_error" else "classes", str(ck["sizes"][-1]))):
        if meta.get(key) != value:
            fail(f"{path}: metadata {key} = {meta.get(key)!r}, expected {value!r}")
    g = model.graph
    (inp,), (out,) = g.input, g.output
    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    if inp.name != "input" or dims(inp) != ["N", ck["sizes"][0]] or inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        fail(f"{path}: input {inp.name} {dims(inp)}, expected input ['N', {ck['sizes'][0]}] float")
    if out.name != "output" or dims(out) != ["N", ck["sizes"][-1]]:
        fail(f"{path}: output {out.name} {dims(out)}, expected output ['N', {ck['sizes'][-1]}]")
    ops = [n.op_type for n in g.node]
    if ops != expected_ops(ck):
        fail(f"{path}: nodes {ops}, expected {expected_ops(ck)}")
    for n in g.node:
        if n.op_type == "Gemm" and attributes(n) != {"transB": 1}:
            fail(f"{path}: node {n.name} has attributes {attributes(n)}, expected transB = 1")
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for l in range(len(ck["weights"])):
        for kind, arr in (("weights", ck["weights"][l]), ("biases", ck["biases"][l])):
            got = inits.get(f"layer_{l}/{kind}")
            if got is None or got.dtype != np.float32 or not np.array_equal(got, arr):
                fail(f"{path}: initializer layer_{l}/{kind} is not the checkpoint's array")
    got, env = run_onnx(model, raw.astype(np.float32))
    # The preprocessing nodes: bit for bit the documented formula.
    first_gemm = next(n for n in g.node if n.op_type == "Gemm")
    if not np.array_equal(env[first_gemm.input[0]], preprocess(ck, raw)):
        fail(f"{path}: the preprocessing nodes do not give (v * scale - mean) / std bit for bit")
    print(f"{path}: check_model passes; opset {OPSET}, IR {IR_VERSION}; nodes {' '.join(ops)}; "
          f"initializers equal the checkpoint's arrays; preprocessing bit for bit")
    compare(f"{path} (numpy interpreter)", got, want)
    return got


def check_npz(path, ck, raw, want):
    z = np.load(path)  # allow_pickle is False by default: no object arrays
    n = len(ck["weights"])
    keys = {f"layer_{l}_{k}" for l in range(n) for k in ("weights", "biases")}
    keys |= {"layer_sizes", "activation", "loss", "feature_type", "run_id", "scale"}
    keys |= {k for k in ("mean", "std") if ck[k] is not None}
    if set(z.files) != keys:
        fail(f"{path}: keys {sorted(z.files)}, expected {sorted(keys)}")
    for l in range(n):
        for k in ("weights", "biases"):
            a = z[f"layer_{l}_{k}"]
            if a.dtype != np.float32 or not np.array_equal(a, ck[k][l]):
                fail(f"{path}: layer_{l}_{k} is not the checkpoint's array")
    if z["layer_sizes"].dtype != np.int64 or z["layer_sizes"].tolist() != ck["sizes"]:
        fail(f"{path}: layer_sizes {z['layer_sizes']!r}, expected {ck['sizes']}")
    for k in ("activation", "loss", "feature_type", "run_id"):
        if z[k].shape != () or z[k].dtype.kind != "U" or str(z[k]) != ck[k]:
            fail(f"{path}: {k} = {z[k]!r}, expected the 0-d string {ck[k]!r}")
    if z["scale"].dtype != np.float32 or z["scale"].shape != () or z["scale"] != ck["scale"]:
        fail(f"{path}: scale = {z['scale']!r}, expected float32 {ck['scale']!r}")
    for k in ("mean", "std"):
        if ck[k] is not None:
            want_k = np.where(ck[k] == 0, np.float32(1), ck[k]) if k == "std" else ck[k]
            if z[k].dtype != np.float32 or not np.array_equal(z[k], want_k):
                fail(f"{path}: {k} is not the checkpoint's")
    # The npz's own arrays, applied as its header comment says.
    x = raw.astype(np.float32) * z["scale"]
    if "mean" in z.files:
        x = x - z["mean"]
    if "std" in z.files:
        x = x / z["std"]
    got = forward([z[f"layer_{l}_weights"] for l in range(n)],
                  [z[f"layer_{l}_biases"] for l in range(n)],
                  str(z["activation"]), str(z["loss"]), x)
    print(f"{path}: numpy.load reads {len(z.files)} arrays without pickle; each equals the checkpoint's")
    compare(f"{path} (its arrays)", got, want)


def main():
    np.seterr(over="ignore")  # exp overflows to inf in sigmoid's tails: 1 / inf is right
    ckpt, onnx_path, npz_path, data, split, rows = sys.argv[1:7]
    whole_test_split = sys.argv[7:] == ["run-test-split"]
    rows = int(rows)
    ck = read_checkpoint(ckpt)
    truth = None
    if data == "-":
        rng = np.random.default_rng(1)
        shape = (rows, ck["sizes"][0])
        raw = (rng.integers(0, 256, shape).astype(np.uint8) if ck["feature_type"] == "uint8"
               else rng.normal(0, 3, shape).astype(np.float32))
    else:
        with h5py.File(data, "r") as f:
            raw = f[f"{split}/images"][:rows]
            kind = "targets" if ck["loss"] == "squared_error" else "labels"
            truth = f[f"{split}/{kind}"][:rows]
    want = forward(ck["weights"], ck["biases"], ck["activation"], ck["loss"], preprocess(ck, raw))
    if ck["loss"] != "squared_error" and len(set(want.argmax(axis=1).tolist())) < 2 and rows > 20:
        fail("the checkpoint predicts a single class: too weak a comparison")
    got = check_onnx(onnx_path, ck, raw, want)
    if whole_test_split:
        # nn-mpi's own evaluation of these rows, stored in the checkpoint.
        with h5py.File(ckpt, "r") as f:
            stored_accuracy = float(f["train"].attrs["test_accuracy"])
            stored_loss = float(f["train"].attrs["test_loss"])
        if ck["loss"] == "squared_error":
            t = truth.astype(np.float64).reshape(len(got), -1)
            loss = float(np.mean(0.5 * np.sum((got.astype(np.float64) - t) ** 2, axis=1)))
            if not abs(loss - stored_loss) <= 1e-5 * abs(stored_loss):
                fail(f"{onnx_path}: mean loss {loss} on the run's test split, nn-mpi stored {stored_loss}")
            print(f"{onnx_path}: mean loss {loss:.6g} on the run's {rows} test rows, as nn-mpi's evaluation")
        else:
            accuracy = float(np.mean(got.argmax(axis=1) == truth))
            if abs(accuracy - stored_accuracy) > 1e-9:
                fail(f"{onnx_path}: accuracy {accuracy} on the run's test split, nn-mpi stored {stored_accuracy}")
            print(f"{onnx_path}: accuracy {accuracy:.4f} on the run's {rows} test rows, as nn-mpi's evaluation")
    check_npz(npz_path, ck, raw, want)


if __name__ == "__main__":
    main()
