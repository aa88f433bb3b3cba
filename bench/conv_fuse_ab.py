"""A/B of the conv epilogue fusion (``conv_epilogue``, issue #16) on W4 and
W7, interleaved in one process beside PyTorch eager:

    python bench/conv_fuse_ab.py [--reps 15] [--only W4,W7]

A: symnet's numba backend with the rewrite excluded (main's graph); B: with
it (the default).  Each round times one step of every system in turn; the
median and minimum per system are printed (ms); ``--cpu`` times the
calling thread's CPU (with ``OPENBLAS_NUM_THREADS=1``).
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.peers import Symnet, Torch  # noqa: E402
from bench.run import LR, MOM, cnn_data  # noqa: E402
from bench.w7_lenet import lenet_data, symnet_step, torch_step  # noqa: E402


def _modes():
    import symnet
    base = symnet.Mode("numba", tiered=False)
    return {"A (unfused)": base.excluding("conv_epilogue"), "B (fused)": base}


def steps(workload):
    if workload == "W4":
        params, x, y = cnn_data(64)
        out = {k: Symnet(m).cnn([p.copy() for p in params], x, y, LR, MOM)
               for k, m in _modes().items()}
        out["torch"] = Torch().cnn([p.copy() for p in params], x, y, LR, MOM)
        return out
    params, x, y = lenet_data(256)
    out = {k: symnet_step(params, x, y, m)[0] for k, m in _modes().items()}
    out["torch"] = torch_step(params, x, y)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--only", default="W4,W7")
    ap.add_argument("--cpu", action="store_true",
                    help="thread CPU time (run with one BLAS/torch thread): the work "
                         "done, less disturbed by other processes than wall time")
    args = ap.parse_args(argv)
    clock = time.thread_time if args.cpu else time.perf_counter
    if args.cpu:
        import torch
        torch.set_num_threads(1)
    for w in args.only.split(","):
        fns = steps(w)
        losses = {k: float(f()) for k, f in fns.items()}     # compile, first step
        for f in fns.values():
            f()
        times = {k: [] for k in fns}
        for _ in range(args.reps):
            for k, f in fns.items():
                t = clock()
                f()
                times[k].append(clock() - t)
        print(f"{w}: first losses {losses}")
        for k, ts in times.items():
            print(f"  {k:12s} median {np.median(ts) * 1e3:8.2f} ms  min {min(ts) * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
