"""Explain a PyTorch click model in-process with GLIDER (optional: torch is large).

    pip install ./python torch
    python examples/explain_pytorch.py

A small network with field embeddings is trained on a table whose clicks come from two
planted interactions (user × hour and item × device); GLIDER should put them first.
"""

from __future__ import annotations

import glider
import numpy as np
import pandas as pd

try:
    import torch
except ImportError:  # pragma: no cover - the example is optional
    raise SystemExit("this example needs PyTorch: pip install torch") from None


def make_data(n: int = 20000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "user": rng.integers(0, 50, n).astype(str),
            "item": rng.integers(0, 40, n).astype(str),
            "hour": rng.integers(0, 24, n).astype(str),
            "device": rng.choice(["ios", "android", "web"], n),
            "site": rng.integers(0, 10, n).astype(str),
        }
    )
    u = df["user"].astype(int).to_numpy()
    h = df["hour"].astype(int).to_numpy()
    i = df["item"].astype(int).to_numpy()
    d = df["device"].map({"ios": 0, "android": 1, "web": 2}).to_numpy()
    logit = 1.5 * np.where((u % 2) == (h % 2), 1, -1) + 1.5 * np.where((i % 3) == d, 1, -1) - 0.5
    df["click"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


class Net(torch.nn.Module):
    def __init__(self, vocab_sizes: list[int], dim: int = 8):
        super().__init__()
        self.embeddings = torch.nn.ModuleList(torch.nn.Embedding(v, dim) for v in vocab_sizes)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(dim * len(vocab_sizes), 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = torch.cat([e(ids[:, k]) for k, e in enumerate(self.embeddings)], dim=1)
        return self.mlp(x).squeeze(1)


def main() -> None:
    torch.manual_seed(0)
    df = make_data()
    fields = ["user", "item", "hour", "device", "site"]
    # Vocabulary per field; id 0 is "missing or switched off".
    vocab = {f: {v: k + 1 for k, v in enumerate(sorted(df[f].unique()))} for f in fields}

    def ids(frame: pd.DataFrame) -> torch.Tensor:
        cols = [frame[f].map(vocab[f]).fillna(0).to_numpy(dtype=np.int64) for f in fields]
        return torch.from_numpy(np.stack(cols, axis=1))

    net = Net([len(vocab[f]) + 1 for f in fields])
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = ids(df), torch.tensor(df["click"].to_numpy(), dtype=torch.float32)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
    print(f"training logloss {loss.item():.4f}")

    @torch.no_grad()
    def logits(frame: pd.DataFrame) -> np.ndarray:
        return net(ids(frame)).numpy()

    result = glider.detect(
        logits, df, label="click", output="logit", instances=100, perturbations=2000
    )
    print("Top global interactions:")
    for _, row in result.interactions.head(10).iterrows():
        print(f"  {' × '.join(row['fields']):<25} {row['count']:>4}  ({row['share']:.0%})")


if __name__ == "__main__":
    main()
