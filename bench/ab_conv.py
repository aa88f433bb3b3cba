"""A/B of the convolution knobs (issue #16) on W7 (LeNet b=256) and W4 (CNN
b=64), interleaved in one process, optionally beside PyTorch eager:

    python bench/ab_conv.py "conv.SPLIT_PER_IMAGE=0" "conv.SPLIT_PER_IMAGE=1"
    python bench/ab_conv.py "env:SYMNET_NUMBA_EMITTER=numba" "env:SYMNET_NUMBA_EMITTER=llvm"
    python bench/ab_conv.py A B --only W7 --reps 30 --torch --cpu
    OPENBLAS_NUM_THREADS=1 python bench/ab_conv.py - --torch --one-thread --cpu

Each setting is a comma-separated list of ``module.NAME=value`` (a constant
of ``symnet.backend.numba_cpu.<module>``, set while that setting's steps
compile and run: ``conv.SPLIT_PER_IMAGE``, ``threads.LIB_THREADS``,
``pool_fused.MIN_BYTES``, ``step_pool.DOT_MIN_MACS``...) or ``env:NAME=value`` (an environment
variable, e.g. the emitter); ``-`` is the defaults.  Values are Python
literals (``0``, ``True``, ``1048576``).  Every setting compiles its own
function; each round times one step of every system in turn; medians and
minimums (ms) are printed, and with ``--cpu`` the process's CPU time per
step beside them (all threads: the work done, less disturbed by other
processes than wall time, which is what threads shorten).
"""
import argparse
import ast
import importlib
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.peers import Symnet, Torch  # noqa: E402
from bench.run import LR, MOM, cnn_data  # noqa: E402
from bench.w7_lenet import lenet_data, symnet_step, torch_step  # noqa: E402


class Setting:
    """One side of the A/B: module constants and environment variables,
    applied for the duration of a ``with`` block."""

    def __init__(self, text):
        self.text = text
        self.items = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            if part == "-":
                continue
            name, _, raw = part.partition("=")
            if not _:
                raise SystemExit(f"setting {part!r}: expected NAME=value")
            if name.startswith("env:"):
                self.items.append(("env", name[4:], raw))
                continue
            mod, _, attr = name.rpartition(".")
            module = importlib.import_module(f"symnet.backend.numba_cpu.{mod}")
            if not hasattr(module, attr):
                raise SystemExit(f"setting {part!r}: {module.__name__} has no {attr}")
            self.items.append((module, attr, ast.literal_eval(raw)))

    def __enter__(self):
        self.saved = []
        for target, name, value in self.items:
            if target == "env":
                self.saved.append((target, name, os.environ.get(name)))
                os.environ[name] = value
            else:
                self.saved.append((target, name, getattr(target, name)))
                setattr(target, name, value)
        return self

    def __exit__(self, *exc):
        for target, name, value in reversed(self.saved):
            if target != "env":
                setattr(target, name, value)
            elif value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def make_step(workload, setting=None):
    """One training step of ``workload`` (symnet under ``setting``, or
    PyTorch eager with None)."""
    import symnet
    if workload == "W4":
        params, x, y = cnn_data(64)
        if setting is None:
            return Torch().cnn([p.copy() for p in params], x, y, LR, MOM)
        return Symnet(symnet.Mode("numba", tiered=False)).cnn(
            [p.copy() for p in params], x, y, LR, MOM)
    params, x, y = lenet_data(256)
    if setting is None:
        return torch_step(params, x, y)
    return symnet_step(params, x, y, symnet.Mode("numba", tiered=False))[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="+", help="one per side (see the module doc)")
    ap.add_argument("--only", default="W7,W4")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--torch", action="store_true", help="PyTorch eager alongside")
    ap.add_argument("--cpu", action="store_true", help="also the process CPU time a step")
    ap.add_argument("--one-thread", action="store_true",
                    help="PyTorch on one thread (run with OPENBLAS_NUM_THREADS=1 too): "
                         "compares the work done on a busy machine")
    args = ap.parse_args(argv)
    if args.one_thread and args.torch:
        import torch
        torch.set_num_threads(1)
    settings = [Setting(s) for s in args.settings]
    for w in args.only.split(","):
        fns = {}
        for s in settings:
            with s:
                fns[s.text] = (s, make_step(w, s))
        if args.torch:
            fns["torch"] = (None, make_step(w))
        losses = {}
        for k, (s, f) in fns.items():        # compile / first steps
            with s or Setting("-"):
                losses[k] = float(f())
                f()
        wall = {k: [] for k in fns}
        cpu = {k: [] for k in fns}
        for _ in range(args.reps):
            for k, (s, f) in fns.items():
                with s or Setting("-"):
                    c, t = time.process_time(), time.perf_counter()
                    f()
                    wall[k].append(time.perf_counter() - t)
                    cpu[k].append(time.process_time() - c)
        print(f"{w}: first losses " + ", ".join(f"{k}: {v:.6f}" for k, v in losses.items()))
        for k in fns:
            line = (f"  {k:40s} median {np.median(wall[k]) * 1e3:8.2f} ms  "
                    f"min {min(wall[k]) * 1e3:8.2f} ms")
            if args.cpu:
                line += f"  cpu median {np.median(cpu[k]) * 1e3:8.2f} ms"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
