#!/usr/bin/env python3
"""PyTorch reference for `glider bench speed`: training throughput (samples/s) of NID's
interaction MLP (p -> 140 -> 100 -> 60 -> 20 -> 1, ReLU) with or without MLP-M's univariate
main-effect nets (1 -> 10 -> 10 -> 10 -> 1, no output bias), MSE + L1 5e-5 on the interaction
MLP's weights, Adam lr 0.01, batch 100, reshuffled every epoch: the same work as glider's
trainer. Written for this repository from ALGORITHMS.md section 1.1 (no code copied).

On CPUs with few cores PyTorch is fastest with one thread per process, so the script starts
`--procs` single-threaded processes that train at the same time and reports the summed
throughput. Optional, not part of CI: `pip install torch` first.

Prints one JSON object on stdout.
"""
import argparse
import json
import multiprocessing as mp
import time


def build(torch, p, hidden, main_effects):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            layers, d = [], p
            for h in hidden:
                layers += [nn.Linear(d, h), nn.ReLU()]
                d = h
            layers.append(nn.Linear(d, 1))
            self.interaction = nn.Sequential(*layers)
            self.univariate = nn.ModuleList(
                [
                    nn.Sequential(
                        nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(),
                        nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1, bias=False),
                    )
                    for _ in range(p if main_effects else 0)
                ]
            )

        def forward(self, x):
            out = self.interaction(x)
            for i, net in enumerate(self.univariate):
                out = out + net(x[:, i : i + 1])
            return out

    return Net()


def worker(args, seed, queue):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x = torch.rand(args.rows, args.p) * 2 - 1
    y = (x[:, 0] * x[:, 1] + x[:, 2]).unsqueeze(1)
    net = build(torch, args.p, args.hidden, args.main_effects == "univariate")
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    weights = [w for n, w in net.interaction.named_parameters() if "weight" in n]
    mse = torch.nn.MSELoss()

    def epoch():
        perm = torch.randperm(args.rows)
        for s in range(0, args.rows, args.batch):
            idx = perm[s : s + args.batch]
            opt.zero_grad()
            loss = mse(net(x[idx]), y[idx]) + 5e-5 * sum(w.abs().sum() for w in weights)
            loss.backward()
            opt.step()

    epoch()  # warm-up, not timed
    t = time.perf_counter()
    for _ in range(args.epochs):
        epoch()
    queue.put(time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--hidden", default="140,100,60,20")
    ap.add_argument("--main-effects", choices=["univariate", "none"], default="univariate")
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--procs", type=int, default=mp.cpu_count())
    args = ap.parse_args()
    args.hidden = [int(h) for h in args.hidden.split(",")]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(args, s, queue)) for s in range(args.procs)]
    for p in procs:
        p.start()
    times = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    import torch

    samples = args.rows * args.epochs
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "procs": args.procs,
                "threads_per_proc": 1,
                "samples_per_proc": samples,
                "seconds_per_proc": times,
                "samples_per_second": sum(samples / t for t in times),
            }
        )
    )


if __name__ == "__main__":
    main()
