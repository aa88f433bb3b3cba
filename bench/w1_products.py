"""W1's eight matrix products (issue #12): each one's share of the GEMM
floor (``bench/run.py``'s: its FLOPs at numpy's big-GEMM rate, measured
now), its time alone (numpy, same shapes and transpositions, two and one
BLAS threads) and its time inside symnet's step (the driver's ``np.dot``
calls timed one by one), in microseconds.

    python bench/w1_products.py [--batch 64] [--calls 300]

Run it under the bench lock, from the tree to measure (``PYTHONPATH``).

What it showed at b=64 (round 14, main at f3f35a4, numpy 2.4's OpenBLAS,
2 cores, the bench lock, load 1.2; the rate 177 GFLOP/s), median (min):

    product       share   alone, 2 threads   alone, 1 thread   in the step
    x @ W1         284       322 (308)          582 (557)        336 (317)
    h1 @ W2        181       206 (200)          375 (369)        214 (202)
    h2 @ W3          3.6      14 (13)            14 (13)          16 (16)
    g3 @ W3.T        3.6      14 (14)            14 (14)          19 (17)
    g2 @ W2.T      181       214 (205)          394 (378)        219 (204)
    h2.T @ g3        3.6      14 (14)            14 (13)          21 (16)
    h1.T @ g2      181       228 (216)          399 (388)        233 (220)
    x.T @ g1       284       338 (330)          621 (604)        356 (335)
    sum           1123      1349               2412             1414 (step 1.80 ms)

One BLAS thread runs these 64-row products at half the big-GEMM rate, the
share of one core; two threads lose 10-20 % of that, and nothing measured
in round 14 got it back inside the step (same lock, alternating processes):

* each large product cut in two over numba's threads (a ``prange`` of two
  one-thread ``cblas.gemm`` calls, numpy's BLAS held at one thread for the
  step, ``SYMNET_GEMM_SPLIT=1``): in-step medians 335-350 against 327-330
  us for ``x @ W1``, 223-226 against 213-215 for ``h1 @ W2``;
* with it, the three weight gradients as one such call, their rows cut
  into two runs of equal work: 567-586 us in the step against 590-598 for
  the three in turn on two BLAS threads (alone, 498-507 us minimum against
  13.5 + 220 + 329 measured apart);
* the whole step with both, five alternating pairs of processes (400
  steps, load 1.4-1.5), medians 2.51 2.19 1.90 1.96 2.28 ms against 2.48
  1.95 2.08 2.16 2.51 on main's two BLAS threads: within the noise; and in
  2 of 12 processes under other developers' load it took 29-40 ms a step
  (main 2.9-3.6 ms in the same lock), not diagnosed further;
* the batch cut in two (32 rows, one BLAS thread: data-parallel halves of
  the step): 315 us for ``x @ W1``, 357 for ``x.T @ g1`` (minimums), no
  faster than 64 rows on two BLAS threads;
* other forms of the same products (``(W2 @ g2.T).T``, ``x.T`` copied to
  C order first, ``out=``): within 3 % of the plain ``np.dot``, none
  faster in both minimum and median once a copy to C order is counted.

The three small products take 14-21 us each in the step against 3.6 us of
floor (OpenBLAS runs them on one thread at either setting): about 40 us of
the 290 us gap.

Round 15 looked at the rest, the update tail (driver lines timed one by
one, minimums of 300 steps, load 2.2: the tail's starmap 181 us, W0's
update ``k6`` alone 58 us with its arrays in cache and 150-153 us after
32 MB of other traffic: it streams W0 and its velocity from memory).  W1
does not use W4's lazy weight gradients (``step_pool.LazyDot``) because
``inplace.emit_tail`` asks for them only in a step on the pool and
``blas.dot_driver`` records a lazy line only for ``_pdot``; W1 runs
``np.dot`` on two BLAS threads.  Measured and dropped (bench lock, load
2.5-6 from other developers' niced jobs, so step medians swung 1.7-90 ms
and only minimums, per-line minimums and blocks interleaved in one
process read):

* W0's gradient in row blocks, each block's update right after it (two
  BLAS threads, one thread updating), ``x.T @ g1`` plus the update after a
  step, minimums in us: whole 609; blocks of 392 rows 641, 256 669, 196
  696, 128 1,074, 98 932 (smaller GEMMs lose more than the cache gains);
* the same inside the step, interleaved in one process (12 blocks of 20
  steps each): ``x.T @ g1`` in 128-row blocks in the tail the best block
  in 1 of 12, ``h1.T @ g2`` and ``x.T @ g1`` whole in the tail, each
  right before its update, 3 of 12, the present driver 4 (and 4 for the
  last variant below);
* the tail's large updates on two threads right after two-thread BLAS
  (OpenBLAS's worker still spinning on the other core): step minimums
  1.77-3.05 ms (2.30-2.62 with W0's gradient made lazy too) against
  1.42-1.67 in the same processes' rounds; with OpenBLAS's worker thread
  reniced to 5 (so that ours would win its core) the tail line took
  556-613 us minimum against 206-329 (load 8);
* lazy products in a split step (``SYMNET_GEMM_SPLIT=1``, one BLAS
  thread, the tail on two threads in 128-row blocks): that tail line
  1,058-2,375 us minimum against 871-1,654 for the split step's two
  products and tail as now, and 658 for the same three lines of the
  default step;
* the tail's calls in reverse order (W0 last, its weights then warm for
  the next step's first product): best block in 8 of 15 against 7 (one
  BLAS thread, one process, pinned): no difference;
* W0, its velocity and gradient on transparent huge pages: the update
  after other traffic 211 us minimum either way.

Lines the driver could drop (the six shape checks, ``_owned``, the
unpacking of ``_t``, the batch-size scalars) add up to ~12 us of minimum
per step: under 1 %.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("SYMNET_TIERED", "0")

import numpy as np  # noqa: E402


def _times(fn, calls):
    """Median and minimum of ``calls`` calls of ``fn``, in us."""
    from bench import run
    ts = run.call_times(fn, calls, warmup=5)
    return statistics.median(ts) * 1e6, min(ts) * 1e6


def w1_step(batch):
    """W1's step as ``bench/run.py`` builds it (``peers.Symnet().mlp``),
    called once, and the symnet ``Function`` it calls: ``(step, f)``."""
    from bench import peers, run
    params, x, y = run.mlp_data(batch)
    step = peers.Symnet().mlp([p.copy() for p in params], x, y, run.LR, run.MOM)
    step()
    f = next(c.cell_contents for c in step.__closure__
             if hasattr(c.cell_contents, "thunk"))
    return step, f


def _in_step(batch, calls):
    """The step's products timed inside it: ``{(a shape, b shape, b
    transposed): [seconds...]}`` and the step's median in ms."""
    step, f = w1_step(batch)
    ns = f.thunk.linker.ns      # the driver's globals: its ``_np`` is looked up per call
    seen = {}

    class Timed:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def dot(a, b, out=None):
            t = time.perf_counter()
            r = np.dot(a, b, out=out)
            seen.setdefault((a.shape, b.shape, not b.flags.c_contiguous), []).append(
                time.perf_counter() - t)
            return r

    ns["_np"] = Timed()
    for _ in range(5):
        step()
    seen.clear()
    ts = []
    for _ in range(calls):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    return seen, statistics.median(ts) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    from bench import run
    from symnet.backend.numba_cpu import step_pool
    b = args.batch
    rng = np.random.RandomState(0)

    def r(*shape):
        return rng.randn(*shape).astype("float32")

    x, w1, w2, w3 = r(b, 784), r(784, 500), r(500, 500), r(500, 10)
    h1, h2, g3, g2, g1 = r(b, 500), r(b, 500), r(b, 10), r(b, 500), r(b, 500)
    products = [("x @ W1", x, w1), ("h1 @ W2", h1, w2), ("h2 @ W3", h2, w3),
                ("g3 @ W3.T", g3, w3.T), ("g2 @ W2.T", g2, w2.T),
                ("h2.T @ g3", h2.T, g3), ("h1.T @ g2", h1.T, g2), ("x.T @ g1", x.T, g1)]
    fns = step_pool._blas()
    before = fns[0]() if fns else None
    rate = run.gemm_rate()
    print(f"batch {b}: numpy's big-GEMM rate {rate / 1e9:.0f} GFLOP/s, load "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    alone = {}
    for threads in (2, 1):
        if fns is None and threads == 1:
            break
        if fns:
            fns[1](threads)
        for name, a, w in products:
            alone[name, threads] = _times(lambda: np.dot(a, w), args.calls)
    if fns:
        fns[1](before)
    seen, step_ms = _in_step(b, args.calls)
    print(f"{'product':12s} {'share':>7s} {'alone 2 thr':>17s} {'alone 1 thr':>17s} "
          f"{'in the step':>17s}   (us: median (min))")
    total = [0.0] * 4
    for name, a, w in products:
        share = 2.0 * a.shape[0] * a.shape[1] * w.shape[1] / rate * 1e6
        step_ts = seen.get((a.shape, w.shape, not w.flags.c_contiguous), [])
        cells = [alone.get((name, 2)), alone.get((name, 1)),
                 (statistics.median(step_ts) * 1e6, min(step_ts) * 1e6) if step_ts else None]
        total[0] += share
        for k, c in enumerate(cells):
            total[k + 1] += c[0] if c else 0.0
        print(f"{name:12s} {share:7.1f} " + " ".join(
            f"{c[0]:8.1f} ({c[1]:6.1f})" if c else f"{'-':>17s}" for c in cells))
    print(f"{'sum':12s} {total[0]:7.1f} " + " ".join(f"{t:8.1f}{'':9s}" for t in total[1:]))
    print(f"step median {step_ms:.3f} ms with its products timed; the floor "
          f"{total[0] / 1e3:.3f} ms")


if __name__ == "__main__":
    main()
