"""The benchmark's PyTorch reference (CPU): the same MLP with torch.nn, one process, or
DistributedDataParallel with gloo on --processes processes (started with
torch.multiprocessing; each takes an equal part of every global batch). Softmax +
cross-entropy, or for a network with 1 output unit a logistic output with BCEWithLogitsLoss.
Prints one JSON line: samples/s (and with --test the test accuracy after training, measured
outside the timed loop), or with --check-steps the first steps' losses."""
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnref  # noqa: E402


def build(net, weights=None):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(net["sizes"], net["sizes"][1:])):
        linear = torch.nn.Linear(n_in, n_out)
        if weights is not None:
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weights[i]))
                linear.bias.zero_()
        layers.append(linear)
        if i < len(net["sizes"]) - 2:
            layers.append(torch.nn.Sigmoid() if net["act"] == "sigmoid" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def optimizer(net, model):
    decayed = [p for n, p in model.named_parameters() if n.endswith("weight")]
    others = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.SGD([{"params": decayed, "weight_decay": net["decay"]},
                            {"params": others, "weight_decay": 0.0}],
                           lr=net["lr"], momentum=net["momentum"])


def run(rank, processes, args, results):
    torch.set_num_threads(args.threads)
    net = nnref.NETWORKS[args.network]
    if processes > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29571")
        dist.init_process_group("gloo", rank=rank, world_size=processes)
    if args.check_steps:
        x, y = nnref.load(args.data, 20 * net["batch"])
        weights, _ = nnref.init_weights(net["sizes"], net["act"], 1)
        order = nnref.epoch_order(1, 0, len(x))
        model = build(net, weights)
    else:
        x, y = nnref.load(args.data)
        model = build(net)
        order = None
    if processes > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = optimizer(net, model)
    logistic = net["sizes"][-1] == 1
    if logistic:
        bce = torch.nn.BCEWithLogitsLoss()
        loss_fn = lambda out, target: bce(out.squeeze(1), target)  # noqa: E731
        y = y.astype(np.float32)
    else:
        loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    batch, part = net["batch"], net["batch"] // processes
    steps = args.check_steps or (len(x) + batch - 1) // batch
    losses = []
    rng = np.random.default_rng(1)
    start = nnref.now()
    for _ in range(1 if args.check_steps else args.epochs):
        perm = torch.from_numpy(order if order is not None else rng.permutation(len(x)))
        for t in range(steps):
            idx = perm[t * batch:(t + 1) * batch][rank * part:(rank + 1) * part]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    seconds = nnref.now() - start
    accuracy = None
    if args.test and rank == 0:
        xt, yt = nnref.load(args.data, split="test")
        with torch.no_grad():
            out = model(torch.from_numpy(xt))
        guess = (out[:, 0] > 0).long() if logistic else out.argmax(1)
        accuracy = (guess == torch.from_numpy(yt)).double().mean().item()
    if rank == 0:
        results.put((losses, seconds, len(x) * (1 if args.check_steps else args.epochs), accuracy))
    if processes > 1:
        dist.destroy_process_group()


def main():
    p = nnref.arguments(__doc__)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--test", action="store_true",
                   help="report the test split's accuracy after training (not timed)")
    args = p.parse_args()
    name = "torch" if args.processes == 1 else "torch-ddp%d" % args.processes
    if args.processes == 1:
        queue = mp.get_context("fork").SimpleQueue()
        run(0, 1, args, queue)
    else:
        queue = mp.get_context("spawn").SimpleQueue()
        mp.spawn(run, args=(args.processes, args, queue), nprocs=args.processes, join=True)
    losses, seconds, samples, accuracy = queue.get()
    if args.check_steps:
        nnref.report(name, args.network, 1, 1, {"losses": losses})
    else:
        extra = {"threads": args.threads, "processes": args.processes}
        if accuracy is not None:
            extra["test_accuracy"] = accuracy
        nnref.report(name, args.network, samples, seconds, extra)


if __name__ == "__main__":
    main()
