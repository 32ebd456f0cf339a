"""A tiny training loop whose DataLoader is slow for a known reason.

Usage: input_job.py --source files DIR | --source http PORT  [--workers N] [--steps N] ...
  files: each sample is a .npy file (in the page cache), decoded and augmented on the CPU;
  http:  each sample is fetched from a loopback server, one connection per sample.
Exits 77 when torch or numpy is not installed (the test then skips).
"""
import argparse
import os
import socket
import sys
import time

try:
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError:
    print("torch is not installed")
    sys.exit(77)


class Files(Dataset):
    """Decode and augment on the CPU: blur, flip and normalise, `rounds` times."""

    def __init__(self, root, n, rounds):
        self.paths = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".npy"))
        self.n, self.rounds = n, rounds

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = np.load(self.paths[i % len(self.paths)]).astype(np.float32)
        for _ in range(self.rounds):
            x = (x + np.roll(x, 1, axis=0) + np.roll(x, 1, axis=1)) / 3.0
            x = x[:, ::-1].copy()
            x = (x - x.mean()) / (x.std() + 1e-6)
        return torch.from_numpy(x[:16, :16].reshape(-1).copy())


class Remote(Dataset):
    """Fetch each sample from a server on the loopback interface."""

    def __init__(self, port, n):
        self.port, self.n = port, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET %d\n" % i)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        s.close()
        x = np.frombuffer(b"".join(chunks), dtype=np.uint8)[:256].astype(np.float32)
        return torch.from_numpy(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", nargs=2, required=True)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--augment", type=int, default=10)
    p.add_argument("--compute", type=int, default=2, help="matmuls per step")
    p.add_argument("--train-ms", type=float, default=0,
                   help="the step also waits this long, as a GPU step's host waits for the GPU")
    a = p.parse_args()
    torch.set_num_threads(1)
    n = a.steps * a.batch
    if a.source[0] == "files":
        data = Files(a.source[1], n, a.augment)
    else:
        data = Remote(int(a.source[1]), n)
    extra = dict(multiprocessing_context="fork") if a.workers else {}
    loader = DataLoader(data, batch_size=a.batch, num_workers=a.workers, **extra)
    model = torch.nn.Linear(256, 256)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    w = torch.randn(256, 256)
    x0 = torch.randn(64, 256)
    steps = 0
    for batch in loader:
        h = x0 + batch.mean()
        for _ in range(a.compute):
            h = torch.tanh(h @ w)
        if a.train_ms:
            time.sleep(a.train_ms / 1000)
        loss = model(h).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
    print("steps %d" % steps)


if __name__ == "__main__":
    main()
