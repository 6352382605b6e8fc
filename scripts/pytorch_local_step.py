#!/usr/bin/env python3
"""PyTorch reference for `glider bench local-speed`: GLIDER's local step (spec 3.1) for one
instance, timed: 6,000 field masks (row 0 all ones, then k ~ U{1..p} fields switched off),
their targets from a planted function, and a surrogate MLP p -> 256 -> 128 -> 64 -> 1 (ReLU)
trained with MSE + L1 1e-4 on its weights, Adam lr 0.01, batch 100, on 5,000 masks for a fixed
number of epochs (no early stopping), validation loss computed each epoch on 500 masks — the
same work as glider's side. Then NID's pairwise strengths of the trained net (min averaging).
Written for this repository from ALGORITHMS.md sections 1 and 3.1 (no code copied).

PyTorch is fastest on few cores with one thread per process, so `--procs` single-threaded
processes share the instances. Optional, not part of CI: `pip install torch` first.

Prints one JSON object on stdout: instances, seconds, instances_per_second, and the top
pairwise interactions of instance 0.
"""
import argparse
import json
import multiprocessing as mp
import random
import time


def planted(m):
    # The same planted function as glider's bench: 2·x0x3 + 1.5·x1x4x5 + 0.5·x2 + 0.3·x6.
    return 2.0 * m[0] * m[3] + 1.5 * m[1] * m[4] * m[5] + 0.5 * m[2] + 0.3 * m[6]


def masks(p, n, seed):
    rng = random.Random(seed)
    rows = [[1.0] * p]
    for _ in range(n - 1):
        k = rng.randint(1, p)
        row = [1.0] * p
        for j in rng.sample(range(p), k):
            row[j] = 0.0
        rows.append(row)
    return rows


def nid_pairs(torch, net, p):
    ws = [m.weight.detach().abs() for m in net if isinstance(m, torch.nn.Linear)]
    z = ws[-1]
    for w in reversed(ws[1:-1]):
        z = z @ w
    z = z.reshape(-1)  # influence of each first-layer unit on the output
    w1 = ws[0]
    out = []
    for i in range(p):
        for j in range(i + 1, p):
            out.append((float((z * torch.minimum(w1[:, i], w1[:, j])).sum()), i, j))
    out.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [[i, j] for _, i, j in out]


def worker(args):
    instances, p, n, epochs, seed0 = args
    import torch
    # The clock starts after the import: process start-up is not the step's work.

    torch.set_num_threads(1)
    nn = torch.nn
    n_train, n_val = n * 5 // 6, n // 12
    first = None
    t0 = time.perf_counter()
    for inst in instances:
        torch.manual_seed(seed0 + inst)
        x = torch.tensor(masks(p, n, seed0 + inst))
        y = torch.tensor([planted(r) for r in x.tolist()]).unsqueeze(1)
        net = nn.Sequential(
            nn.Linear(p, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1),
        )
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        weights = [m.weight for m in net if isinstance(m, nn.Linear)]
        xt, yt = x[:n_train], y[:n_train]
        xv, yv = x[n_train:n_train + n_val], y[n_train:n_train + n_val]
        for _ in range(epochs):
            perm = torch.randperm(n_train)
            for s in range(0, n_train, 100):
                b = perm[s:s + 100]
                opt.zero_grad()
                loss = ((net(xt[b]) - yt[b]) ** 2).mean()
                loss = loss + 1e-4 * sum(w.abs().sum() for w in weights)
                loss.backward()
                opt.step()
            with torch.no_grad():
                ((net(xv) - yv) ** 2).mean().item()
        if inst == 0:
            first = nid_pairs(torch, net, p)[:10]
    return time.perf_counter() - t0, first


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", type=int, default=8)
    ap.add_argument("--fields", type=int, default=39)
    ap.add_argument("--perturbations", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    shares = [list(range(k, a.instances, a.procs)) for k in range(a.procs)]
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(a.procs) as pool:
        results = pool.map(
            worker, [(s, a.fields, a.perturbations, a.epochs, a.seed) for s in shares]
        )
    wall = time.perf_counter() - t0
    # The processes run side by side: the slowest one's working time is the run's.
    seconds = max(r[0] for r in results)
    top = next((r[1] for r in results if r[1] is not None), [])
    print(json.dumps({
        "instances": a.instances,
        "procs": a.procs,
        "seconds": seconds,
        "seconds_with_startup": wall,
        "instances_per_second": a.instances / seconds,
        "top_pairs_instance_0": top,
    }))


if __name__ == "__main__":
    main()
