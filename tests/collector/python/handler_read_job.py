"""A job whose signal handler calls read() while its main thread is inside read(): a C SIGALRM
handler (programs/reading_handler.c, loaded with ctypes) opens and reads a file every 100 us
while the main thread reads files in a loop for half a second.

Usage: handler_read_job.py HANDLER_LIB DATA_DIR. Prints "handler read" when the handler
completed reads. Exits 77 when torch is not installed.
"""
import ctypes
import os
import sys
import time

try:
    import torch  # noqa: F401  (a real torch job: libtorch loaded, its threads started)
except ImportError:
    print("torch is not installed")
    sys.exit(77)


def main():
    lib = ctypes.CDLL(sys.argv[1])
    data = sys.argv[2]
    files = sorted(os.path.join(data, f) for f in os.listdir(data) if f.endswith(".bin"))
    lib.teye_test_stop_reading_handler.restype = ctypes.c_long
    if lib.teye_test_start_reading_handler(files[0].encode(), 100) != 0:
        print("cannot start the handler")
        return 1
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for path in files:
            with open(path, "rb", buffering=0) as f:
                while f.read(512):
                    pass
    reads = lib.teye_test_stop_reading_handler()
    print("handler read" if reads > 0 else "no handler reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
