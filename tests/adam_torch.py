#!/usr/bin/python3
"""nn-mpi's Adam and AdamW against PyTorch's: adam_torch.py TEST_ADAM runs the program
(tests/test_adam.c), which writes a small model's weights and, per step, the learning rate,
gradient scale and gradient sums with its weights, exp_avg and exp_avg_sq after the step;
this replays the same steps with torch.optim.Adam or AdamW (p.grad set by hand to
sums * scale in float32, the weights with the case's weight decay and the biases with none,
as nn-mpi decays only weights, the learning rate set per step) and compares weights and
moments after every step. Exit 77 (skip) without torch or numpy (Debian's python3-torch,
python3-numpy: scripts/setup-deps.sh)."""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"adam_torch: skipped: needs Debian's python3-torch and python3-numpy ({e})")
    sys.exit(77)

TOLERANCE = 1e-6  # largest relative difference accepted: float rounding over a few steps


def rel_diff(ours, theirs, floor):
    """Largest |ours - theirs| / max(|theirs|, floor), floor per entry: the magnitude of
    what the step added, so that an entry that a sum of opposite terms brought near zero
    is measured against its terms (torch's kernels may fuse a multiply-add where nn-mpi
    rounds twice)."""
    ours, theirs = ours.astype(np.float64), theirs.astype(np.float64)
    scale = np.maximum(np.maximum(np.abs(theirs), floor), 1e-30)
    return float(np.max(np.abs(ours - theirs) / scale))


def parse(path):
    """The cases test_adam wrote: dicts with the header, layer shapes, the initial weights
    and the steps."""
    cases, case = [], None
    for line in open(path):
        word, *rest = line.split()
        if word == "case":
            case = {"type": rest[0], "beta1": float(rest[1]), "beta2": float(rest[2]),
                    "eps": float(rest[3]), "wd": float(rest[4]), "layers": [], "steps": []}
            cases.append(case)
        elif word == "layer":
            case["layers"].append((int(rest[0]), int(rest[1])))
        elif word == "step":
            case["steps"].append({"lr": float(rest[0]), "scale": np.float32(rest[1])})
        elif word == "end":
            case = None
        else:
            values = np.array(rest, dtype=np.float32)
            if case["steps"]:
                case["steps"][-1][word] = values
            else:
                case[word] = values
    return cases


def views(flat, layers):
    """The flat array cut into (weights (out, in), biases (out)) per layer, as NnModel lays
    out its parameters."""
    parts, at = [], 0
    for n_in, n_out in layers:
        parts.append(flat[at:at + n_in * n_out].reshape(n_out, n_in))
        at += n_in * n_out
        parts.append(flat[at:at + n_out])
        at += n_out
    assert at == flat.size
    return parts


def replay(case):
    """Runs the case's steps with torch; returns the worst relative differences of the
    weights and the two moments."""
    params = [torch.tensor(p.copy()) for p in views(case["params"], case["layers"])]
    weights, biases = params[0::2], params[1::2]
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[case["type"]]
    opt = kind([{"params": weights, "weight_decay": case["wd"]},
                {"params": biases, "weight_decay": 0.0}],
               lr=1e-3, betas=(case["beta1"], case["beta2"]), eps=case["eps"],
               amsgrad=False, maximize=False, foreach=False)
    worst = {"params": 0.0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
    for step in case["steps"]:
        for group in opt.param_groups:
            group["lr"] = step["lr"]
        grads = views(step["grads"] * step["scale"], case["layers"])  # float32 products
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g.copy())
        opt.step()
        theirs = {"params": np.concatenate([p.detach().numpy().ravel() for p in params]),
                  "exp_avg": np.concatenate([opt.state[p]["exp_avg"].numpy().ravel()
                                             for p in params]),
                  "exp_avg_sq": np.concatenate([opt.state[p]["exp_avg_sq"].numpy().ravel()
                                                for p in params])}
        g = np.abs(step["grads"] * step["scale"]).astype(np.float64)
        for name, floor in (("params", 1e-3), ("exp_avg", g), ("exp_avg_sq", g * g)):
            worst[name] = max(worst[name], rel_diff(step[name], theirs[name], floor))
    return worst


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: adam_torch.py TEST_ADAM")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "steps.txt")
        if subprocess.run([sys.argv[1], path]).returncode != 0:
            sys.exit("adam_torch: test_adam failed")
        cases = parse(path)
    failed = 0
    for case in cases:
        worst = replay(case)
        bad = max(worst.values()) > TOLERANCE
        failed += bad
        print(f"{case['type']:5s} weight_decay {case['wd']:g} betas ({case['beta1']:g}, "
              f"{case['beta2']:g}) eps {case['eps']:g}, {len(case['steps'])} steps: max "
              f"relative difference to torch {torch.__version__}: weights "
              f"{worst['params']:.1e}, exp_avg {worst['exp_avg']:.1e}, exp_avg_sq "
              f"{worst['exp_avg_sq']:.1e}{'  ABOVE ' + str(TOLERANCE) if bad else ''}")
    if len(cases) != 5:
        sys.exit(f"adam_torch: expected 5 cases, read {len(cases)}")
    if failed:
        sys.exit(f"adam_torch: {failed} case(s) differ from PyTorch")
    print("adam_torch: ok")


main()
