#!/usr/bin/env python3
"""PyTorch reference for `glider bench train-speed`: training throughput (rows/s) of DeepFM,
AutoInt, AutoInt+ and xDeepFM on Criteo-format data (13 dense + 26 categorical fields, about 1M
categorical values in all), batch 1024, embedding 16, binary cross-entropy, the settings of
ALGORITHMS.md section 3.4 (DeepFM: FM + DNN 400-400-400; AutoInt: 3 attention layers, 2 heads,
64 wide, residual; AutoInt+: AutoInt + DNN 400-400; xDeepFM: first-order term + CIN 200-200-200
(a 1x1 convolution over the outer products, identity activation, every layer sum-pooled) +
DNN 400-400). Written for this repository from the spec (no code copied).

PyTorch at its best on a CPU with few cores: sparse embedding gradients with SparseAdam for
the embedding table, Adam for the dense parameters, and one thread per process; `--procs`
processes train at the same time and the summed throughput is reported. Each process times
`--batches` steps after `--warmup` untimed ones. Optional, not part of CI: `pip install torch`.

Prints one JSON object on stdout.
"""
import argparse
import json
import multiprocessing as mp
import time


def cardinalities(vocab, fields=26):
    # Field sizes from 10 up, growing geometrically so they sum to about `vocab`.
    import math

    ratio = (vocab / 10.0) ** (1.0 / (fields - 1))
    sizes = [max(2, int(10 * ratio**i)) for i in range(fields)]
    scale = vocab / sum(sizes)
    return [max(2, int(s * scale)) for s in sizes]


def build(torch, kind, num_rows, fields, k):
    nn = torch.nn
    width = k + 1 if kind in ("deepfm", "xdeepfm") else k

    def dnn(d, hidden):
        layers = []
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        layers.append(nn.Linear(d, 1))
        return nn.Sequential(*layers)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(num_rows, width, sparse=True)
            nn.init.normal_(self.emb.weight, std=0.01)
            if kind == "deepfm":
                self.dnn = dnn(fields * k, (400, 400, 400))
                self.bias = nn.Parameter(torch.zeros(1))
            elif kind == "xdeepfm":
                self.cin = nn.ModuleList()
                prev = fields
                for h in (200, 200, 200):
                    self.cin.append(nn.Conv1d(prev * fields, h, 1))
                    prev = h
                self.cin_out = nn.Linear(600, 1)
                self.dnn = dnn(fields * k, (400, 400))
                self.bias = nn.Parameter(torch.zeros(1))
            else:
                self.q = nn.ModuleList()
                self.k = nn.ModuleList()
                self.v = nn.ModuleList()
                self.r = nn.ModuleList()
                d = k
                for _ in range(3):
                    self.q.append(nn.Linear(d, 64, bias=False))
                    self.k.append(nn.Linear(d, 64, bias=False))
                    self.v.append(nn.Linear(d, 64, bias=False))
                    self.r.append(nn.Linear(d, 64, bias=False))
                    d = 64
                self.out = nn.Linear(fields * 64, 1)
                self.dnn = dnn(fields * k, (400, 400)) if kind == "autoint+" else None

        def forward(self, ids, scales):
            e = self.emb(ids) * scales.unsqueeze(2)  # [b, f, width]
            b, f, _ = e.shape
            if kind == "deepfm":
                linear = e[:, :, 0].sum(1, keepdim=True)
                v = e[:, :, 1:]
                s = v.sum(1)
                fm = 0.5 * (s * s - (v * v).sum(1)).sum(1, keepdim=True)
                return linear + fm + self.dnn(v.reshape(b, -1)) + self.bias
            if kind == "xdeepfm":
                linear = e[:, :, 0].sum(1, keepdim=True)
                v = e[:, :, 1:]  # [b, f, k]
                x, pooled = v, []
                for conv in self.cin:
                    z = torch.einsum("bhd,bmd->bhmd", x, v).reshape(b, -1, v.shape[2])
                    x = conv(z)  # [b, H, k]
                    pooled.append(x.sum(2))
                cin = self.cin_out(torch.cat(pooled, 1))
                return linear + cin + self.dnn(v.reshape(b, -1)) + self.bias
            x = e
            for q, kk, vv, r in zip(self.q, self.k, self.v, self.r):
                def heads(t):
                    return t.view(b, f, 2, 32).transpose(1, 2)

                a = torch.softmax(heads(q(x)) @ heads(kk(x)).transpose(2, 3), dim=3)
                out = (a @ heads(vv(x))).transpose(1, 2).reshape(b, f, 64)
                x = torch.relu(out + r(x))
            logit = self.out(x.reshape(b, -1))
            if self.dnn is not None:
                logit = logit + self.dnn(e.reshape(b, -1))
            return logit

    return Net()


def worker(args, kind, seed, queue):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    cards = cardinalities(args.vocab)
    fields = 13 + len(cards)
    num_rows = 13 + sum(cards)
    offsets = [13]
    for c in cards[:-1]:
        offsets.append(offsets[-1] + c)
    n = args.batch * (args.batches + args.warmup)
    # Zipf-like ids per field (as in click logs), dense scales N(0, 1).
    cat = torch.stack(
        [
            (torch.rand(n) ** 3 * c).long().clamp(max=c - 1) + o
            for c, o in zip(cards, offsets)
        ],
        1,
    )
    ids = torch.cat([torch.arange(13).expand(n, 13), cat], 1)
    scales = torch.cat([torch.randn(n, 13), torch.ones(n, len(cards))], 1)
    y = (torch.rand(n, 1) < 0.25).float()
    net = build(torch, kind, num_rows, fields, 16)
    sparse = [net.emb.weight]
    dense = [p for name, p in net.named_parameters() if not name.startswith("emb")]
    opt_s = torch.optim.SparseAdam(sparse, lr=1e-3)
    opt_d = torch.optim.Adam(dense, lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step(i):
        sl = slice(i * args.batch, (i + 1) * args.batch)
        opt_s.zero_grad()
        opt_d.zero_grad()
        loss = loss_fn(net(ids[sl], scales[sl]), y[sl])
        loss.backward()
        opt_s.step()
        opt_d.step()

    for i in range(args.warmup):
        step(i)
    t0 = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.batches):
        step(i)
    seconds = time.perf_counter() - t0
    queue.put(args.batch * args.batches / seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["deepfm", "autoint", "autoint+", "xdeepfm"], required=True)
    ap.add_argument("--vocab", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--procs", type=int, default=mp.cpu_count())
    args = ap.parse_args()
    import torch

    queue = mp.Queue()
    procs = [
        mp.Process(target=worker, args=(args, args.model, s, queue))
        for s in range(args.procs)
    ]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    print(
        json.dumps(
            {
                "framework": f"pytorch {torch.__version__}",
                "model": args.model,
                "procs": args.procs,
                "threads_per_proc": 1,
                "batch": args.batch,
                "rows_per_second": sum(rates),
                "per_proc": rates,
            }
        )
    )


if __name__ == "__main__":
    main()
