"""Shared by the reference implementations in bench/: the data from nn-mpi's dataset file
(MNIST, or bench/tabular.sh's float32 features), the benchmark networks, and nn-mpi's random streams (initial weights and sample
order), so that a reference started like nn-mpi computes the same first steps."""
import argparse
import json
import time

import h5py
import numpy as np

MASK = (1 << 64) - 1

# The benchmark networks: sizes, hidden activation, batch, learning rate, momentum, decay.
NETWORKS = {
    "A": dict(sizes=[784, 50, 10], act="sigmoid", batch=100, lr=0.1, momentum=0.0, decay=0.0),
    "B": dict(sizes=[784, 512, 512, 10], act="relu", batch=128, lr=0.05, momentum=0.9, decay=0.0),
    "default": dict(sizes=[784, 512, 256, 10], act="relu", batch=128, lr=0.1, momentum=0.9,
                    decay=0.0005),
    # configs/test-e2e.ini's network with a weight decay large enough to show in the first
    # steps' losses (tests/mnist_e2e.sh); not benchmarked.
    "e2e": dict(sizes=[784, 128, 10], act="relu", batch=64, lr=0.05, momentum=0.9, decay=0.005),
    # bench/tabular.sh (bench/tabular.ini): 28 float features, 2 classes; softmax over 2
    # units as nn-mpi trains it, and the same network with 1 logistic output (BCE).
    "tabular": dict(sizes=[28, 256, 256, 2], act="relu", batch=512, lr=0.05, momentum=0.9,
                    decay=0.0),
    "tabular-bce": dict(sizes=[28, 256, 256, 1], act="relu", batch=512, lr=0.05, momentum=0.9,
                        decay=0.0),
}


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Rng:
    """nn-mpi's SplitMix64 streams (src/nn_rng.c)."""

    def __init__(self, seed, stream, substream):
        self.state = mix64((mix64(mix64(seed) ^ stream) + substream) & MASK)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        return mix64(self.state)

    def below(self, n):
        m = self.next() * n
        if (m & MASK) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK) < threshold:
                m = self.next() * n
        return m >> 64


def init_weights(sizes, act, seed):
    """nn-mpi's initial weights (nn_model_init_weights with init = auto); biases 0."""
    rng = Rng(seed, 1, 0)
    weights, biases = [], []
    for layer in range(len(sizes) - 1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        he = act == "relu" and layer < len(sizes) - 2
        limit = np.sqrt(np.float32(6.0) / np.float32(n_in if he else n_in + n_out))
        bits = np.array([rng.next() >> 40 for _ in range(n_out * n_in)], dtype=np.float32)
        unit = bits * np.float32(1.0 / 16777216.0)
        w = (np.float32(2.0) * unit - np.float32(1.0)) * limit.astype(np.float32)
        weights.append(w.reshape(n_out, n_in))
        biases.append(np.zeros(n_out, dtype=np.float32))
    return weights, biases


def epoch_order(seed, epoch, n):
    """nn-mpi's sample order for an epoch (nn_sampler_permutation)."""
    rng = Rng(seed, 2, epoch)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm)


def load(path, train_samples=0, split="train"):
    """A split's features as the trainer decodes them, (x * scale - mean) / std in float32
    (scale: the images' attribute, else 1/255 for uint8 and 1 for floats; /mean and /std
    when the file has them), and its labels."""
    with h5py.File(path, "r") as f:
        images = f["/%s/images" % split]
        x = images[:train_samples] if train_samples else images[...]
        y = f["/%s/labels" % split][:len(x)]
        scale = images.attrs.get("scale", 1.0 / 255.0 if x.dtype == np.uint8 else 1.0)
        mean = f["/mean"][...].astype(np.float32) if "/mean" in f else None
        std = f["/std"][...].astype(np.float32) if "/std" in f else None
    x = x.astype(np.float32)
    if scale != 1.0:
        x *= np.float32(scale)
    if mean is not None:
        x -= mean
    if std is not None:
        x /= np.where(std == 0, np.float32(1), std)
    return x, y.astype(np.int64)


def arguments(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default="data/mnist.h5")
    p.add_argument("--network", choices=sorted(NETWORKS), default="A")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--check-steps", type=int, default=0,
                   help="instead of timing: start like nn-mpi (seed 1) and print the first "
                        "steps' losses, on the first 20 batches of the data")
    return p


def report(framework, network, samples, seconds, extra=None):
    out = {"framework": framework, "network": network, "samples_per_sec": samples / seconds}
    out.update(extra or {})
    print(json.dumps(out))


now = time.perf_counter
