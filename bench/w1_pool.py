"""W1's step with its matrix products on one thread pool (issue #12, round 7):
numpy's BLAS held at one thread for the call and each large GEMM split
over numba's threads (``SYMNET_GEMM_SPLIT=1``, numba_cpu/gemm_split.py),
with or without the threaded update tail (``SYMNET_TAIL_THREADS=1``),
against the default (two BLAS threads, serial tail), all built in one
process from the same initial weights and run interleaved.

    python bench/w1_pool.py [--batch 64 512] [--steps 200]

Prints each configuration's median and minimum step time.  Run it on a
quiet machine: with another process on the second core, every threaded
configuration waits for that core (medians of milliseconds).  Round 7
could not find a quiet moment; its numbers (load 3-5) are in
``symnet/backend/numba_cpu/gemm_split.py``.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("SYMNET_TIERED", "0")

from bench import peers, run  # noqa: E402

CONFIGS = {
    "default": {},
    "split": {"SYMNET_GEMM_SPLIT": "1"},
    "split+tail": {"SYMNET_GEMM_SPLIT": "1", "SYMNET_TAIL_THREADS": "1"},
    "tail only": {"SYMNET_TAIL_THREADS": "1"},
}


def build(batch, env):
    """W1's step function built with ``env`` set (it is read at compile time)."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        params, x, y = run.mlp_data(batch)
        return peers.Symnet().mlp([p.copy() for p in params], x, y, run.LR, run.MOM)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    args = ap.parse_args()
    names = args.configs.split(",")
    for batch in args.batch:
        steps = {name: build(batch, CONFIGS[name]) for name in names}
        first = {name: float(s()) for name, s in steps.items()}
        ref = first["default"] if "default" in first else next(iter(first.values()))
        for name, loss in first.items():
            if abs(loss - ref) > 1e-5 * abs(ref):
                raise SystemExit(f"W1 b={batch}: {name}'s loss {loss} differs from {ref}")
        for s in steps.values():
            for _ in range(5):
                s()
        times = {name: [] for name in names}
        for i in range(args.steps):
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                t = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - t)
        for name in names:
            ts = times[name]
            print(f"W1 b={batch} {name:11s} median {statistics.median(ts) * 1e3:7.3f} ms  "
                  f"min {min(ts) * 1e3:7.3f} ms")


if __name__ == "__main__":
    main()
