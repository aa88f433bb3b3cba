"""W1's step line by line (issue #12): each statement of the generated
driver's ``run`` timed inside the step as ``bench/run.py`` builds it (the
clock read before each statement; no profile hooks, so the driver is the
bench's own), per line the median and minimum over ``--calls`` steps, in
microseconds, and the sums by kind (products, small kernels, the update
tail, other driver lines).

    python bench/w1_lines.py [--batch 64] [--calls 300]

Run it under the bench lock, from the tree to measure (``PYTHONPATH``).
``bench/w1_products.py`` compares the products with their floor shares.

What it showed at b=64 (round 16, main at 7db343f, 2 cores, the bench
lock, load 1.7), median (min) in us:

    x @ W1 324 (277)   L0 relu(v1 + b1) 13.7 (9.2)   h1 @ W2 195 (178)
    L0 relu(v4 + b2) 10.2 (5.5)   h2 @ W3 12.2 (10.4)   L1 logits + b3 2.5 (1.4)
    k2 softmax+xent+grad 11.2 (5.5)   g3 @ W3.T 18.1 (15.3)
    L2 relu grad + col sum 11.4 (8.2)   g2 @ W2.T 239 (227)
    L2 relu grad + col sum 12.7 (10.9)   k5 col sum of g3 3.9 (1.8)
    h2.T @ g3 13.0 (9.7)   h1.T @ g2 215 (193)   x.T @ g1 324 (292)
    update tail 280 (175)   scalars k0 k1 k3 k4 and shape line 7.0 (2.4)
    step 1,798 (1,497); sum of line minimums 1,435

The small kernels (L0, L1, k2, L2, k5 and the scalars) add up to ~45 us
of minimum, ~75 of median.  The relu-forward and relu-gradient kernels run
at their memory traffic (64x500 float32 is 128 KB: L0 reads and writes
256 KB in 5.5 us, ~46 GB/s; L2 384 KB plus its float64 column sums in
8-11 us); bias add and relu are already one loop (L0), the relu gradient
and the bias gradient too (L2), and the softmax, crossentropy and
gradient one kernel (k2).  The driver's own kernels alone, hot (minimum
of 2,000 calls, load 8.7): L0 3.3 us, L2 7.3, k2 4.5, k5 0.8 at b=64;
25, 52, 30 and 2.9 at b=512, where L0 takes 85-108 inside the step: it
reads a product BLAS's two threads have just written (likely half of it
in the other core's cache).  Measured in round 16 and dropped (bench lock;
the box at load 1.4-9 from other developers, step medians 1.8-150 ms, so
only per-line minimums and medians of lines read):

* the three 64x500x10 products as numba kernels (numba 0.65, fastmath,
  one thread, alone, hot, median us against ``np.dot``): ``h2 @ W3`` 18
  (dots against a transposed copy of W3), 39 (4 rows at once, W3 padded
  to 16 columns), 97-124 (row in an accumulator) against 9.9;
  ``g3 @ W3.T`` 10.7 (the 10 terms written out, W3.T copied) against
  11.4; ``h2.T @ g3`` 20 against 8.8.  Each is 640k FLOPs: 7.3 us at one
  core's half of the big-GEMM rate (177 GFLOP/s for two cores), so
  OpenBLAS's one thread runs ``h2 @ W3`` at ~75 % of that; the 3.6 us
  floor share assumes both cores, which these products would reach only
  split over two threads (not measured: OpenBLAS keeps them on one);
* ``g3 @ W3.T`` fused into the relu-gradient kernel (the 10-term dot
  computed per element, no 64x500 intermediate): alone, hot 18.0 against
  18.5 us for ``np.dot`` + the same kernel apart (after 32 MB of other
  traffic 52 against 75); inside the step (five processes fused, six
  apart, alternating, load 3-9) the fused line 20.0-31.3 us minimum, 32-53
  median, against 24-35 minimum and 40-58 median for the two lines
  apart: no difference the noise shows, not worth a new fused kernel;
* ``g3 @ W3.T`` with W3.T copied to C order first: alone 10.1 against 11.6
  us; in the step 14.7-15.6 against 15.2-22.6 us minimum (three processes
  each way, load 3-5.7): within the noise;
* ``(g3.T @ h2).T``: 6.7 us as a view, but the update kernel after it
  needs C order: 9.4 with the copy against 8.9 for ``h2.T @ g3``;
* k2 (softmax + crossentropy + gradient, 64x10 and 512x10, alone, hot):
  4.1 and 24 us; with its exp left out 2.8 and 21, its log left out 3.7
  and 25, the row maximum in float32 4.1-4.9 and 30: the kernel's cost is
  its call and its rows' short loops, 1-3 us at stake at b=64.

At b=512 (same main, load 2, one process): the products 8,883 us of
minimum, the small kernels ~430 (L0 108 and 85, L2 62 and 113, k2 49,
k5 10), the tail 372.  Under other developers' load a step's two-thread
GEMMs take ~8 ms each instead of 0.1-2.2 (numpy's hand-written step the
same: 40-160 ms steps in the same minutes, against ~10 ms quiet): the
likeliest cause of W1 b=512's spread against its peers across runs (not
shown for the 12.25 ms row of round 15, whose load is not known); at load 1.4,
alternating blocks of 20 steps in one process, symnet 9.6-10.6 ms median
against numpy 10.2-12.3.  L0 on the pool's two threads at b=512
(``SYMNET_LOOP_SPLIT=100000``, two processes each way, load 6-7):
216-325 us minimum against 80-101 on one (OpenBLAS's worker still
spinning on the second core after each product, as round 15 found for
the tail).  At load 10 (b=64, ``OPENBLAS_NUM_THREADS`` per process, two
processes each way, alternating): two BLAS threads 80 and 91 ms step
median (products 27-40 ms of it; minimum 1.7-1.9 ms), one thread 13 and
15 ms (minimum 2.9 ms): a two-thread GEMM waits for whichever of its
threads the scheduler left out, so bench rows taken while other jobs run
measure that wait, not the step.
"""
import argparse
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("SYMNET_TIERED", "0")

_KERNEL = re.compile(r"\b[kL]\d+\(")


def timed_driver(linker):
    """``linker``'s driver with the clock read before each statement of
    ``run``'s body: ``(run, labels, stamps)``; after a call ``stamps`` holds
    one time per label and the time at the end of the body is appended by
    the caller.  A label is the statement's ``# node`` comment where it has
    one, else the statement."""
    out, labels, inrun, note = [], [], False, None
    for line in linker.driver_source.split("\n"):
        s = line.strip()
        top = line.startswith(" " * 12) and not line.startswith(" " * 13)
        if line.startswith("    def run("):
            inrun = True
        elif inrun and line.startswith("        except"):
            inrun = False
        elif inrun and top and s.startswith("# node"):
            note = note or s[2:]
        elif inrun and top and s and not s.startswith(("#", "else", "elif")):
            out.append(" " * 12 + "_stamps.append(_clock())")
            # the tail's comments name each update's nodes; its one line runs them all
            labels.append(("update tail: " + s if "_starmap" in s else note or s, s))
            note = None
        out.append(line)
    stamps = []
    ns = dict(linker.ns, _stamps=stamps, _clock=time.perf_counter)
    exec(compile("\n".join(out), "<w1_lines driver>", "exec"), ns)
    return ns["make_run"](linker.consts, linker._perform, linker._recover), labels, stamps


def _kind(label, statement):
    if "Dot(" in label:
        return "products"
    if "_starmap" in statement:
        return "update tail"
    if _KERNEL.search(statement):
        return "small kernels"
    return "other driver lines"


def line_times(batch, calls):
    """Per statement of W1's step at ``batch`` rows: ``(labels, seconds per
    call per statement, step seconds per call)``."""
    from bench.w1_products import w1_step
    return step_lines(*w1_step(batch), calls)


def step_lines(step, f, calls, clock=time.perf_counter, warmup=5):
    """``step()`` (which calls the symnet ``Function`` ``f``) run ``warmup``
    + ``calls`` times with ``f``'s driver timed line by line
    (``timed_driver``, read with ``clock``): ``(labels, seconds per call per
    statement, step seconds per call)`` of the last ``calls``."""
    from bench import run
    timed, labels, stamps = timed_driver(f.thunk.linker)
    timed.__globals__["_clock"] = clock
    per = []

    def wrapped(*args, **kw):
        stamps.clear()
        res = timed(*args, **kw)
        stamps.append(clock())
        per.append([b - a for a, b in zip(stamps, stamps[1:])])
        return res

    original = f.thunk
    wrapped.__dict__.update(vars(original))
    f.thunk = wrapped
    try:
        totals = run.call_times(step, calls, warmup=warmup)
    finally:
        f.thunk = original
    return labels, list(zip(*per[-calls:])), totals


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    labels, cols, totals = line_times(args.batch, args.calls)
    print(f"batch {args.batch}: step median {statistics.median(totals) * 1e6:.0f} us "
          f"(min {min(totals) * 1e6:.0f}), load "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"{'median':>9s} {'min':>8s}  line (us)")
    kinds = {}
    for (label, statement), ts in zip(labels, cols):
        med, low = statistics.median(ts) * 1e6, min(ts) * 1e6
        acc = kinds.setdefault(_kind(label, statement), [0.0, 0.0])
        acc[0] += med
        acc[1] += low
        print(f"{med:9.1f} {low:8.1f}  {label[:90]}")
    for kind, (med, low) in kinds.items():
        print(f"{kind:>20s}: medians {med:8.1f}, minimums {low:8.1f}")


if __name__ == "__main__":
    main()
