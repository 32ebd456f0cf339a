"""A CPU-only training job whose loading costs about as much as its step, for the input diagnosis.

Usage: cpu_input_job.py DATA_DIR NUM_WORKERS PROFILE_OUT [STEPS]

Each sample is a file read from DATA_DIR plus a storage latency and a decode; the training step is
an MLP sized to take about 80 ms. Loading a batch costs 0.8 of a training step (the loop shares its
measured step time with the loader), so on any machine and under any load: with 0 workers the loop
loads every batch itself and waits for input over 40% of the step; with 2 workers loading in
parallel, batches are ready before the loop asks (2 workers deliver one every 0.4 steps). It
writes a torch.profiler trace to PROFILE_OUT (torch's own Chrome-trace export) and, under
`teye record`, teye's collector writes its own.
Exits 77 when torch is not installed (the test then skips).
"""
import multiprocessing
import os
import sys
import time

try:
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError:
    print("torch is not installed")
    sys.exit(77)

BATCH = 4
STEP_S = 0.08  # the training step this job aims for
LOAD_PER_STEP = 0.8  # loading a batch costs this share of a training step


class Files(Dataset):
    """Samples whose loading costs LOAD_PER_STEP of the loop's current training step per batch.

    The loop publishes its step time in `step_s` (shared with forked workers), so the ratio holds
    however busy the machine gets while the job runs.
    """

    def __init__(self, root, step_s):
        self.paths = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".bin"))
        self.step_s = step_s

    def __len__(self):
        return 100000

    def __getitem__(self, i):
        with open(self.paths[i % len(self.paths)], "rb") as f:
            data = f.read()
        # The storage's latency, once per batch (it reads ahead): slow when one process waits
        # for it all, hidden by workers.
        if i % BATCH == 0:
            time.sleep(LOAD_PER_STEP * self.step_s.value)
        x = torch.frombuffer(bytearray(data[:3072]), dtype=torch.uint8).float()
        return (x - x.mean()) / (x.std() + 1e-6), i % 10


def make_model(hidden):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3072, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, 10))


def train_step(model, optimizer, x, y):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def timed_step(hidden):
    """A model of this width and the median time of its training step, in seconds."""
    model = make_model(hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(BATCH, 3072), torch.zeros(BATCH, dtype=torch.long)
    times = []
    for _ in range(8):
        start = time.perf_counter()
        train_step(model, optimizer, x, y)
        times.append(time.perf_counter() - start)
    return model, optimizer, sorted(times[3:])[2]  # the first calls warm the allocator up


def main():
    root, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    torch.set_num_threads(1)
    # Wide enough layers that a step takes about STEP_S whatever the machine: its few large ops
    # leave little Python time between them.
    _, _, probe_s = timed_step(64)
    hidden = max(16, min(8192, int(64 * STEP_S / max(probe_s, 1e-4))))
    model, optimizer, step_s = timed_step(hidden)
    shared_step_s = multiprocessing.get_context("fork").Value("d", step_s, lock=False)
    loader = DataLoader(Files(root, shared_step_s), batch_size=BATCH, num_workers=workers,
                        multiprocessing_context="fork" if workers else None, prefetch_factor=4
                        if workers else 2)
    schedule = torch.profiler.schedule(wait=0, warmup=2, active=steps)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], schedule=schedule,
                                on_trace_ready=lambda p: p.export_chrome_trace(out)) as prof:
        recent = [step_s] * 5
        for n, (x, y) in enumerate(loader):
            start = time.perf_counter()
            train_step(model, optimizer, x, y)
            # The median of the last steps: a step the machine's load slowed does not count.
            recent = recent[1:] + [time.perf_counter() - start]
            shared_step_s.value = sorted(recent)[2]
            prof.step()
            if n + 1 >= steps + 2:
                break
    print("steps %d hidden %d step_ms %.2f" % (steps, hidden, 1000 * shared_step_s.value))


if __name__ == "__main__":
    main()
