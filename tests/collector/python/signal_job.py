"""A training job for the collector's signal tests, run the same way with and without the
collector: what it prints and how it ends must not change.

Usage: signal_job.py MODE DATA_DIR
  getsignal   prints the job's view of SIGINT, SIGTERM, SIGHUP and SIGQUIT (signal.getsignal, and
              sigaction() through ctypes) before and after starting 2 DataLoader workers, exits 0
  interrupt   prints "ready" once 2 workers deliver batches, trains until Ctrl-C (SIGINT to the
              process group); on KeyboardInterrupt prints "interrupted" and exits 5
  terminate   as interrupt, without handling anything: SIGTERM to the group ends it
Exits 77 when torch is not installed.
"""
import ctypes
import os
import signal
import sys
import time

try:
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError:
    print("torch is not installed")
    sys.exit(77)

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")


class Files(Dataset):
    def __init__(self, root):
        self.paths = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".bin"))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            data = f.read()
        time.sleep(0.002)
        return torch.tensor([float(len(data))])


def kernel_view(name):
    """What sigaction() tells a C caller: the handler's address class."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # struct sigaction, handler first
    if libc.sigaction(getattr(signal, name), None, buf) != 0:
        return "error %d" % ctypes.get_errno()
    handler = ctypes.c_void_p.from_buffer(buf).value or 0
    return {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler, "a handler")


def show(when):
    for name in SIGNALS:
        print(when, name, repr(signal.getsignal(getattr(signal, name))), kernel_view(name))


def loader(data):
    return DataLoader(Files(data), batch_size=2, num_workers=2, multiprocessing_context="fork",
                      persistent_workers=True)


def train(data):
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    said = False
    batches = loader(data)
    while True:
        for batch in batches:
            loss = model(batch).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if not said:
                print("ready", flush=True)
                said = True


def main():
    mode, data = sys.argv[1], sys.argv[2]
    if mode == "getsignal":
        show("start")
        it = iter(loader(data))
        next(it)
        show("workers")
        del it
        return 0
    if mode == "interrupt":
        try:
            train(data)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            return 5
    if mode == "terminate":
        train(data)
    return 2


if __name__ == "__main__":
    sys.exit(main())
