"""W10 of the benchmark card: data-parallel W1 over MPI.

    python bench/w10_distributed.py            # full run (needs a quiet machine)
    python bench/w10_distributed.py --quick    # a few steps, to check it works

W1's MLP step (784-500-500-10, relu, softmax, mean cross-entropy, Nesterov
momentum lr 0.01 m 0.9) at batch 512 *per worker*, through
``symnet.distributed.distributed_function``, on 1 and 2 ranks (``mpiexec -n
1/2``, one BLAS thread per rank).  It reports the median step time, the
allreduce time per step (ONE Allreduce of all gradients and the loss; it
includes waiting for the slower rank), and
measures ``Allreduce`` alone over message sizes to fit the ring-allreduce
cost model

    T(p, n bytes) = 2 (p - 1) alpha + 2 (p - 1) / p * n * beta

(alpha: latency per message, beta: seconds per byte; on 2 ranks T = 2 alpha
+ n beta).  From the fit it projects the step time at 8 and 64 ranks:
one rank's compute time plus T(p) for W1's gradient bytes (no overlap,
weak scaling: every rank keeps 512 examples).  Needs ``pip install
'.[mpi]'``.  The rows are printed as a markdown table for bench/RESULTS.md.
"""
import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

LR, MOM, BATCH = 0.01, 0.9, 512


def rank_main(args):
    """One rank: time W1 steps and (on several ranks) Allreduce alone."""
    import symnet
    import symnet.tensor as T
    from symnet import distributed, updates
    from bench.run import mlp_data, mlp_loss_ref
    world = distributed.init()
    params, _, _ = mlp_data(BATCH)                       # the same weights on every rank
    _, x, y = mlp_data(BATCH, seed=1 + world.rank)        # this rank's own batch
    shared = [symnet.shared(p.copy(), name=f"p{i}") for i, p in enumerate(params)]
    X, Y = T.fmatrix("x"), T.ivector("y")
    h = X
    for i in range(0, len(shared), 2):
        h = T.dot(h, shared[i]) + shared[i + 1]
        if i < len(shared) - 2:
            h = T.nnet.relu(h)
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(h), Y).mean()
    update = functools.partial(updates.nesterov_momentum, learning_rate=LR, momentum=MOM)
    t0 = time.perf_counter()
    step = distributed.distributed_function([X, Y], loss, shared, update, mode=args.mode)
    compile_s = time.perf_counter() - t0
    first = float(step(x, y))
    # the first step's loss is the mean of every rank's loss on its batch
    refs = np.zeros(world.size)
    refs[world.rank] = mlp_loss_ref(params, x, y)
    world.allreduce_sum(refs)
    ref = float(refs.mean())
    if abs(first - ref) > 2e-3 * abs(ref):
        raise SystemExit(f"W10: loss {first} differs from the numpy reference {ref}")
    steps = 3 if args.quick else 30
    world.allreduce_seconds = 0.0
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step(x, y)
        times.append(time.perf_counter() - t)
    out = dict(ranks=world.size, step_ms=statistics.median(times) * 1e3,
               allreduce_ms=world.allreduce_seconds / steps * 1e3, compile_s=compile_s,
               grad_bytes=(step.n_grad + 1) * np.dtype(step.dtype).itemsize)
    if world.size > 1:
        out["allreduce_sizes"] = allreduce_sweep(world, args.quick)
    if world.is_root:
        print("W10RESULT " + json.dumps(out), flush=True)


def allreduce_sweep(world, quick):
    """Median seconds of one float32 Allreduce, by message size in bytes."""
    from mpi4py import MPI
    result = {}
    for n in (1, 1000, 100_000, 1_000_000) if quick else (1, 100, 10_000, 100_000, 300_000,
                                                           1_000_000, 3_000_000):
        buf = np.ones(n, "float32")
        times = []
        for _ in range(5 if quick else 30):
            world.comm.Barrier()
            t = time.perf_counter()
            world.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - t)
        result[4 * n] = statistics.median(times)
    return result


def ring_fit(sizes):
    """(alpha, beta) of the 2-rank ring model T = 2 alpha + n beta, least squares."""
    n = np.array([float(k) for k in sizes])
    t = np.array(list(sizes.values()))
    slope, intercept = np.polyfit(n, t, 1)
    return max(intercept, 0.0) / 2, max(slope, 0.0)


def ring_allreduce(p, nbytes, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--mode", default="numba")
    ap.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rank:
        return rank_main(args)
    from symnet.distributed.launch import mpiexec_command
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    runs = []
    for ranks in (1, 2):
        cmd, menv = mpiexec_command(ranks, [])
        cmd = cmd[:cmd.index(sys.executable)] + [sys.executable, os.path.abspath(__file__),
                                                 "--rank", "--mode", args.mode] + (
            ["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, env=dict(menv, **env), capture_output=True, text=True,
                              timeout=1800)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("W10RESULT ")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"W10 on {ranks} ranks failed:\n{proc.stdout}\n{proc.stderr}")
        runs.append(json.loads(lines[0][len("W10RESULT "):]))
    one, two = runs
    alpha, beta = ring_fit(two["allreduce_sizes"])
    nbytes = two["grad_bytes"]
    print(f"W10 data-parallel W1, batch {BATCH} per worker, mode {args.mode} "
          f"({'quick' if args.quick else 'full'} run)\n")
    print("| ranks | step ms (median) | allreduce ms/step | examples/s |")
    print("|---|---|---|---|")
    for r in runs:
        print(f"| {r['ranks']} | {r['step_ms']:.2f} | {r['allreduce_ms']:.3f} | "
              f"{r['ranks'] * BATCH / r['step_ms'] * 1e3:.0f} |")
    print(f"\nAllreduce fit on 2 ranks: alpha {alpha * 1e6:.1f} us, "
          f"bandwidth {1 / beta / 1e9 if beta else float('inf'):.2f} GB/s; "
          f"gradient buffer {nbytes / 1e6:.2f} MB\n")
    print("| ranks (projected) | allreduce ms | step ms | speed-up over 1 rank |")
    print("|---|---|---|---|")
    for p in (2, 8, 64):
        t_ar = ring_allreduce(p, nbytes, alpha, beta)
        step = one["step_ms"] / 1e3 + t_ar
        print(f"| {p} | {t_ar * 1e3:.3f} | {step * 1e3:.2f} | "
              f"{p * one['step_ms'] / 1e3 / step:.1f}x |")


if __name__ == "__main__":
    main()
