"""W8's two per-step products (#17), in the forms a scan step could run
them: the LSTM forward's ``h @ U`` (32x256 @ 256x1024) and BPTT's
``delta @ U.T`` (32x1024 @ 1024x256, ``U.T`` contiguous, as the loop head
makes it), at two and at one BLAS thread; microseconds a product, median
and minimum of the rounds' means.

    python bench/w8_products.py [--calls 200] [--rounds 7]

Run it under the bench lock, from the tree to measure (``PYTHONPATH``).
The forms:

* ``np.dot``: what the step runs on two BLAS threads.  OpenBLAS packs the
  whole weight (1 MB) into its panel layout on every call (``sgemm_itcopy``);
* ``swapped``: ``(U.T @ h.T).T`` copied back to C order (``blas.py``'s
  swap, ``lib/transpose.tcopy``; ``scan/swap_dot.py``'s rewrite, which
  leaves a weight of fewer than 512 rows alone);
* ``blocked``: what a scan step runs on one BLAS thread (``step_dot.py``):
  ``lib/cblas.gemm`` calls on column blocks of 64 of the weight, at most
  256 of its rows a call (128 where it has more; ``beta = 1`` after the
  first), each written into its column block of the result.  Each call is
  small enough (M*N*K under 10^6) for OpenBLAS's small-matrix kernel
  (``sgemm_small_kernel_b0_nn_SKYLAKEX`` in a perf profile), which packs
  nothing and runs on the calling thread;
* ``blocked, pool``: the same blocks split between two threads of symnet's
  step pool (``step_pool.run``, numpy's BLAS held at one thread).

Why (round 18, main at 47f33f9): a perf profile of the whole W8 step at
one BLAS thread (60 calls after warm-up, 2 shared cores) put 51 % of its
CPU time in ``sgemm_kernel_SKYLAKEX`` and 19 % in ``sgemm_itcopy_SKYLAKEX``
(the per-step repacking of the loops' weights and the weight gradients'
operands), 11 % in the Python interpreter, 7 % in the numba kernels and
5 % in libc's ``memmove``/``memset``.  The GEMM floor of a step is 5.9
GFLOP (forward 1.68 and BPTT 1.68 in 32-row products, 2.52 in the big
products before and after the loops).

What it showed then (this script, 22:12 UTC, load 5.2 from other
developers' niced jobs; median (minimum) us):

    BLAS 1 thread    np.dot         swapped        blocked        blocked, pool
    h @ U            268.6 (265.1)  224.9 (213.7)  183.6 (182.5)  213.8 (187.1)
    delta @ U.T      206.0 (203.1)  210.8 (204.2)  164.8 (152.3)  184.0 (180.9)

Other block shapes (one thread, CPU time, minimum of 7 x 200 calls):
``h @ U`` 64 columns x 128 rows 201 us, 128 x 128 169, 128 x 256 (over
the small-matrix limit) 292-299, 32 x 256 217-227; ``delta @ U.T`` 64 x
128 175, 32 x 512 183, 128 x 128 201, 128 x 1024 249.  At one BLAS thread,
then, ``blocked`` saves ~85 us of ``h @ U`` and ~45 us of ``delta @ U.T``
a step: ~13 ms of a W8 call's 200 steps (~95 ms of CPU at one thread).
Inside the step (``OPENBLAS_NUM_THREADS=1``, the forward loop's CPU time,
three alternating pairs of processes) the swap (``MIN_ROWS`` lowered to
256) took the forward loop from 31.6 / 30.9 / 33.9 to 26.9 / 28.2 / 27.6
ms (minimums); at two threads round 8 measured it slower there.  Two
BLAS threads could not be measured that day: the box's scheduler groups
processes by session (``/proc/sys/kernel/sched_autogroup_enabled`` = 1),
so the other developers' ``nice 19`` jobs, one session, got half of the
CPU against any timing process, and every two-thread form read 1.5-3x its
one-thread time (``np.dot`` 181-385 us, ``blocked, pool`` 202-294 us,
``blocked`` 166-192 us).  The round-8 and round-13 figures on a quieter
box (``scan/swap_dot.py``, ``blas.py``): ``h @ U`` ~130 us in the loop and
111-161 us alone on two threads, ``delta @ U.T`` 113-125 us; so
``blocked`` on one thread wins only where BLAS runs one thread (or the
second core is busy), and whether ``blocked, pool`` beats two-thread
``np.dot`` needs this script on a quiet box.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

SIZE = dict(batch=32, hidden=256)


def blocked_fn():
    """``blocked(x, w, out, cols, inner, nt, t)``: thread ``t`` of ``nt``
    writes its share of the column blocks of ``out = x @ w``
    (``step_dot.py``'s; njit, nogil, compiled on first use)."""
    from symnet.backend.numba_cpu import step_dot
    return step_dot._blocked()


def products(size=SIZE, seed=0):
    """``{name: (x, w)}``: the two products' operands, float32, ``w`` C-contiguous."""
    rng = np.random.RandomState(seed)
    b, n = size["batch"], size["hidden"]
    u = rng.randn(n, 4 * n).astype("float32")
    return {"h @ U": (rng.randn(b, n).astype("float32"), u),
            "delta @ U.T": (rng.randn(b, 4 * n).astype("float32"), np.ascontiguousarray(u.T))}


def forms(x, w, cols=None, inner=None):
    """``{form: fn}``, each ``fn()`` returning ``x @ w`` (module doc);
    ``cols`` and ``inner``: the blocks', ``step_dot``'s by default."""
    from symnet.backend.numba_cpu import step_dot, step_pool
    from symnet.backend.numba_cpu.blas import tcopy
    out = np.empty((x.shape[0], w.shape[1]), x.dtype)
    wt = np.ascontiguousarray(w.T)      # the swap's weight, passed transposed
    blocked = blocked_fn()
    cols = cols or step_dot.BLOCK_COLS
    inner = inner or step_dot.inner_block(x.shape[1])

    def plain():
        return np.dot(x, w, out=out)

    def swapped():
        return tcopy(np.dot(wt, x.T))

    def serial():
        blocked(x, w, out, cols, inner, 1, 0)
        return out

    def pooled():
        step_pool.run(blocked, 2, x, w, out, cols, inner, 2)
        return out
    return {"np.dot": plain, "swapped": swapped, "blocked": serial, "blocked, pool": pooled}


def _time(fn, calls, rounds):
    """Median and minimum over ``rounds`` of the mean of ``calls`` calls, in us."""
    fn()
    means = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        means.append((time.perf_counter() - t) / calls * 1e6)
    return statistics.median(means), min(means)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    from symnet.backend.numba_cpu import step_pool
    fns = step_pool._blas()
    before = int(fns[0]()) if fns is not None else None
    print(f"load {os.getloadavg()[0]:.2f}; numpy's BLAS threads {before}")
    try:
        for threads in ([before, 1] if before and before > 1 else [before]):
            if fns is not None and threads:
                fns[1](threads)
            for name, (x, w) in products().items():
                cells = [f"{form} {m:.1f} ({lo:.1f})" for form, fn in forms(x, w).items()
                         for m, lo in [_time(fn, args.calls, args.rounds)]]
                print(f"BLAS {threads}, {name}: " + "; ".join(cells))
    finally:
        if fns is not None and before:
            fns[1](before)


if __name__ == "__main__":
    main()
