"""teye's auto-instrumentation for Python jobs (put on PYTHONPATH by `teye record`).

Marks each DataLoader ``__next__``, each optimizer step and each training step as a range in
the trace that libteye_collector.so writes, without changes to the user's code. It:

* does nothing unless the collector library is loaded in this process;
* never imports torch itself: it waits for the job to import ``torch.utils.data.dataloader`` and
  ``torch.optim.optimizer`` and patches them then (so a job without torch is untouched);
* runs the user's own ``sitecustomize`` (the next one on ``sys.path``) as Python would have.

Ranges are sent to the collector with ``teye_record_range(category, name, start_ns, end_ns)``
(``time.time_ns()`` is CLOCK_REALTIME, the collector's clock). Names follow the PyTorch profiler:
``enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__`` and
``Optimizer.step#SGD.step``. Set TEYE_PYTHON_SHIM=0 to disable.

Training steps are written as ``ProfilerStep#N`` ranges (N from 0), as the PyTorch profiler
writes them when ``prof.step()`` is called once per iteration, so that HTA, Perfetto users and
teye find the same steps. A step starts when a DataLoader iteration starts with no step open and
ends when an optimizer step ends; in a process that has not run an optimizer step (inference, or
before the first step), the next DataLoader iteration ends it instead. An iteration that only
ends the epoch (StopIteration) does not start a step. Without a DataLoader (synthetic data),
steps run from one optimizer step's end to the next one's.
"""

import os
import sys


def _chain_user_sitecustomize():
    """Imports the next ``sitecustomize`` on sys.path, the one this file shadows."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    search = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", search)
    if spec is None or spec.loader is None:
        return
    ours = sys.modules.get("sitecustomize")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # what site.py does for a broken sitecustomize
        sys.modules["sitecustomize"] = ours
        if os.environ.get("PYTHONVERBOSE"):
            raise
        sys.stderr.write(
            "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
            "%s: %s\n" % (exc.__class__.__name__, exc))


def _collector_function():
    """teye_record_range from the loaded collector, or None."""
    try:
        import ctypes
    except ImportError:
        return None
    candidates = [None]  # the preloaded library is in the global namespace
    path = os.environ.get("TEYE_COLLECTOR_LIB")
    if path:
        candidates.append(path)
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(candidate) if candidate else ctypes.CDLL(None)
            fn = lib.teye_record_range
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64]
        fn.restype = ctypes.c_int
        return fn
    return None


_record = None
_time_ns = None


def _range(category, name, start_ns, end_ns=None):
    try:
        _record(category, name.encode("utf-8", "replace"), start_ns,
                _time_ns() if end_ns is None else end_ns)
    except Exception:  # the job must never see the shim fail
        pass


class _Steps(object):
    """ProfilerStep#N ranges from DataLoader iterations and optimizer steps (see the top)."""

    def __init__(self):
        self.number = 0
        self.start = None          # start of the open step, or None
        self.opened_by = None      # the iteration call that opened it
        self.last_end = None       # end of the last step written
        self.optimizer_seen = False
        self.optimizer_depth = 0   # a subclass's step calling its base's is one step

    def _emit(self, end_ns):
        _range(b"user_annotation", "ProfilerStep#%d" % self.number, self.start, end_ns)
        self.number += 1
        self.last_end = end_ns
        self.start = None
        self.opened_by = None

    def iteration_started(self, start_ns, call):
        if self.start is not None and not self.optimizer_seen:
            self._emit(start_ns)
        if self.start is None:
            self.start = start_ns
            self.opened_by = call

    def iteration_ended_epoch(self, call):
        if self.opened_by is call:  # no batch came: no step
            self.start = None
            self.opened_by = None

    def optimizer_step_ended(self, start_ns, end_ns):
        if self.start is None:
            self.start = self.last_end if self.optimizer_seen and self.last_end else start_ns
        self.optimizer_seen = True
        self._emit(end_ns)


_steps = _Steps()


def _patch_dataloader(module):
    base = getattr(module, "_BaseDataLoaderIter", None)
    if base is None or getattr(base.__next__, "_teye_wrapped", False):
        return
    original = base.__next__

    def __next__(self):
        start = _time_ns()
        call = object()
        try:
            _steps.iteration_started(start, call)
        except Exception:
            pass
        try:
            return original(self)
        except StopIteration:
            try:
                _steps.iteration_ended_epoch(call)
            except Exception:
                pass
            raise
        finally:
            name = getattr(self, "_profile_name", None) or (
                "enumerate(DataLoader)#%s.__next__" % type(self).__name__)
            _range(b"dataloader", name, start)

    __next__._teye_wrapped = True
    __next__.__wrapped__ = original
    base.__next__ = __next__


def _patch_optimizer(module):
    optimizer = getattr(module, "Optimizer", None)
    if optimizer is None or getattr(optimizer.__init__, "_teye_wrapped", False):
        return
    original_init = optimizer.__init__

    def wrap_step(cls):
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_teye_wrapped", False):
            return
        name = "Optimizer.step#%s.step" % cls.__name__

        def wrapped(*args, **kwargs):
            start = _time_ns()
            _steps.optimizer_depth += 1
            try:
                return step(*args, **kwargs)
            finally:
                end = _time_ns()
                _range(b"user_annotation", name, start, end)
                _steps.optimizer_depth -= 1
                if _steps.optimizer_depth == 0:
                    try:
                        _steps.optimizer_step_ended(start, end)
                    except Exception:
                        pass

        for attr in ("__name__", "__qualname__", "__doc__", "__dict__"):
            try:
                value = getattr(step, attr)
                if attr == "__dict__":
                    wrapped.__dict__.update(value)
                else:
                    setattr(wrapped, attr, value)
            except AttributeError:
                pass
        wrapped._teye_wrapped = True
        wrapped.__wrapped__ = step
        setattr(cls, "step", wrapped)

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        for cls in type(self).__mro__:
            if cls is optimizer or cls is object:
                break
            wrap_step(cls)

    __init__._teye_wrapped = True
    __init__.__wrapped__ = original_init
    optimizer.__init__ = __init__


_PATCHES = {
    "torch.utils.data.dataloader": _patch_dataloader,
    "torch.optim.optimizer": _patch_optimizer,
}


def _patching_loader(loader, patch):
    import importlib.abc

    class PatchingLoader(importlib.abc.Loader):
        """Runs the real loader, then the patch; everything else is the real loader's."""

        def create_module(self, spec):
            return loader.create_module(spec)

        def exec_module(self, module):
            loader.exec_module(module)
            try:
                patch(module)
            except Exception:
                pass

        def __getattr__(self, name):  # get_source, get_code, ... for inspect and linecache
            return getattr(loader, name)

    return PatchingLoader()


class _Finder(object):
    """Patches the watched modules right after they are first executed."""

    def find_spec(self, fullname, path=None, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _patching_loader(spec.loader, patch)
        return spec


def _install():
    global _record, _time_ns
    if os.environ.get("TEYE_PYTHON_SHIM", "1") in ("0", "false", "no", "off"):
        return
    _record = _collector_function()
    if _record is None:
        return
    import time
    _time_ns = time.time_ns
    for name, patch in _PATCHES.items():
        module = sys.modules.get(name)
        if module is not None:
            patch(module)
    sys.meta_path.insert(0, _Finder())


try:
    _install()
except Exception:
    pass
_chain_user_sitecustomize()
