"""The benchmark's numpy reference: an MLP in the classic tutorial style (vectorised
layers, sigmoid or ReLU, softmax + cross-entropy, plain backprop, SGD with momentum).
Prints one JSON line: samples/s, or with --check-steps the first steps' losses."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnref  # noqa: E402


def train(net, weights, biases, x, y, order, steps, lr, momentum, decay):
    act = net["act"]
    vw = [np.zeros_like(w) for w in weights]
    vb = [np.zeros_like(b) for b in biases]
    losses = []
    batch = net["batch"]
    for t in range(steps):
        idx = order[t * batch:(t + 1) * batch]
        a = [x[idx]]
        for layer, (w, b) in enumerate(zip(weights, biases)):
            z = a[-1] @ w.T + b
            if layer < len(weights) - 1:
                z = 1.0 / (1.0 + np.exp(-z)) if act == "sigmoid" else np.maximum(z, 0)
            a.append(z)
        z = a[-1]
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = len(idx)
        losses.append(float(np.mean(np.log(s[:, 0]) - z[np.arange(rows), y[idx]])))
        delta = e / s
        delta[np.arange(rows), y[idx]] -= 1.0
        delta /= rows
        for layer in range(len(weights) - 1, -1, -1):
            dw = delta.T @ a[layer]
            db = delta.sum(axis=0)
            if layer > 0:
                delta = delta @ weights[layer]
                h = a[layer]
                delta *= h * (1.0 - h) if act == "sigmoid" else (h > 0)
            vw[layer] = momentum * vw[layer] + dw + decay * weights[layer]
            vb[layer] = momentum * vb[layer] + db
            weights[layer] -= lr * vw[layer]
            biases[layer] -= lr * vb[layer]
    return losses


def main():
    args = nnref.arguments(__doc__).parse_args()
    net = nnref.NETWORKS[args.network]
    lr, momentum, decay = (np.float32(net[k]) for k in ("lr", "momentum", "decay"))
    if args.check_steps:
        x, y = nnref.load(args.data, 20 * net["batch"])
        weights, biases = nnref.init_weights(net["sizes"], net["act"], 1)
        order = nnref.epoch_order(1, 0, len(x))
        losses = train(net, weights, biases, x, y, order, args.check_steps, lr, momentum, decay)
        nnref.report("numpy", args.network, 1, 1, {"losses": losses})
        return
    x, y = nnref.load(args.data)
    rng = np.random.default_rng(1)
    weights = [rng.uniform(-0.05, 0.05, (o, i)).astype(np.float32)
               for i, o in zip(net["sizes"], net["sizes"][1:])]
    biases = [np.zeros(o, dtype=np.float32) for o in net["sizes"][1:]]
    steps = (len(x) + net["batch"] - 1) // net["batch"]
    start = nnref.now()
    for _ in range(args.epochs):
        train(net, weights, biases, x, y, rng.permutation(len(x)), steps, lr, momentum, decay)
    nnref.report("numpy", args.network, args.epochs * len(x), nnref.now() - start,
                 {"threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))})


if __name__ == "__main__":
    main()
