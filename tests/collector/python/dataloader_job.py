"""A tiny training loop with a real torch DataLoader (2 forked workers reading files) and SGD.

Usage: dataloader_job.py DATA_DIR. Exits 77 when torch is not installed (the test then skips).
"""
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
    loader = DataLoader(Files(sys.argv[1]), batch_size=4, num_workers=2,
                        multiprocessing_context="fork")
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    batches = 0
    for _ in range(2):
        for batch in loader:
            loss = model(batch).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches += 1
    print("batches %d" % batches)


if __name__ == "__main__":
    main()
