"""A tiny training loop with a real torch DataLoader (2 workers reading files) and SGD.

Usage: dataloader_job.py DATA_DIR [--context fork|spawn] [--epochs N] [--chdir DIR]
  --context   how the DataLoader starts its workers (default fork)
  --epochs    passes over the data (default 2), each with 2 fresh workers
  --chdir     change the working directory to DIR before training, and back to / after the
              first epoch (a job that moves around while it is recorded)
Exits 77 when torch is not installed (the test then skips).
"""
import argparse
import os
import sys

try:
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError:
    print("torch is not installed")
    sys.exit(77)


class Files(Dataset):
    def __init__(self, root):
        self.paths = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".bin"))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            data = f.read()
        return torch.tensor([float(len(data))])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--context", default="fork")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--chdir")
    args = parser.parse_args()
    data = os.path.abspath(args.data)
    if args.chdir:
        os.chdir(args.chdir)
    loader = DataLoader(Files(data), batch_size=4, num_workers=2,
                        multiprocessing_context=args.context)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    batches = 0
    for epoch in range(args.epochs):
        for batch in loader:
            loss = model(batch).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches += 1
        if args.chdir and epoch == 0:
            os.chdir("/")
    print("batches %d" % batches)


if __name__ == "__main__":
    main()
