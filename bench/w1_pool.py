"""W1's step with its matrix products on one thread pool (issue #12, rounds
7-9): numpy's BLAS held at one thread for the call, each large GEMM split
over symnet's threads and the large update loops in row blocks on them
(``SYMNET_GEMM_SPLIT=auto``, numba_cpu/gemm_split.py: opt-in; built as
the default in round 9 and measured not to earn it), against two-thread
BLAS and a serial tail (``unsplit``, the default) and the
split alone (``split``: ``SYMNET_TAIL_THREADS=0``).  To compare two
trees (main against a branch), run ``--configs default`` from each, one
process each, alternating.

    python bench/w1_pool.py [--batch 64 512] [--steps 100] [--rounds 5]

Each configuration runs in a process of its own (``--configs NAME`` runs
one in this process), the configurations alternating, ``--rounds`` times;
each prints its median and minimum step time (the loss of the first step
is checked against the float64 numpy reference).  Not interleaved in one
process: OpenBLAS's worker thread, once woken by a two-thread GEMM, keeps
spinning on the second core for a long time after the count is set to one,
so a split step right after a default one shares that core with it (in one
process the split measured slower at b=512, 14.8 against 9.2 ms minimum; in
processes of their own it was faster, see gemm_split.py).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
os.environ.setdefault("SYMNET_TIERED", "0")

CONFIGS = {
    "default": {},
    "auto": {"SYMNET_GEMM_SPLIT": "auto"},
    "unsplit": {"SYMNET_GEMM_SPLIT": "0"},
    "split": {"SYMNET_GEMM_SPLIT": "1", "SYMNET_TAIL_THREADS": "0"},
    "split+tail": {"SYMNET_GEMM_SPLIT": "1", "SYMNET_TAIL_THREADS": "1"},
    "tail only": {"SYMNET_GEMM_SPLIT": "0", "SYMNET_TAIL_THREADS": "1"},
}


def _seconds(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_one(name, batches, steps):
    """Build and time W1 in this process with configuration ``name``."""
    os.environ.update(CONFIGS[name])
    from bench import peers, run
    for batch in batches:
        params, x, y = run.mlp_data(batch)
        step = peers.Symnet().mlp([p.copy() for p in params], x, y, run.LR, run.MOM)
        run.check_loss(name, "W1", float(step()), run.mlp_loss_ref(params, x, y))
        for _ in range(5):
            step()
        ts = [_seconds(step) for _ in range(steps)]
        print(f"W1 b={batch} {name:11s} median {statistics.median(ts) * 1e3:7.3f} ms  "
              f"min {min(ts) * 1e3:7.3f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--configs", default="auto,unsplit")
    args = ap.parse_args()
    names = args.configs.split(",")
    if len(names) == 1:
        return run_one(names[0], args.batch, args.steps)
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--configs", name,
                            "--steps", str(args.steps), "--batch", *map(str, args.batch)],
                           check=True)


if __name__ == "__main__":
    main()
