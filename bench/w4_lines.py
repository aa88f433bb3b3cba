"""W4's step line by line (issue #16): each statement of the generated
driver's ``run`` timed inside the step as ``bench/run.py`` builds it
(``bench/w1_lines.py``'s ``timed_driver``: the clock read before each
statement), per line the median and minimum over ``--calls`` steps in
microseconds, and each thread's CPU time a step (the main thread, the
step pool's worker ``symnet-pool``, the update tail's crew thread
``symnet-split``).  With ``--cpu`` a line's time is the process's CPU time
(all threads) instead of the wall clock: what a line costs in work, which
other processes' load disturbs less than its wall time.

    python bench/w4_lines.py [--calls 200] [--cpu] [--all]

Run it under the bench lock, from the tree to measure (``PYTHONPATH``).

What it showed (round 17, main at 1855702, 2 cores, the bench lock, load
2.6-3.3 from other developers' tests; minimums of 150-300 steps, ms):

    line                                   wall     process CPU
    Conv2dBiasActPool (conv1+relu+pool)    0.88        1.27
    h @ W2 (64x4608 @ 4608x256)            1.10        2.23
    g @ W2.T (input gradient of dense1)    1.14        2.38
    PoolConvGradWeights (conv1's filters)  0.88        1.38
    update tail (lazy h.T @ g, updates)    1.79        3.30
    the other 20 lines together            ~0.3        ~0.3

Against each one's floor share on two cores (0.29, 0.73, 0.73, 0.29 and
0.73 ms + the update's memory traffic): the convolution ops 3x, the dense
ones 1.5x, the tail 2.4x.  The same products alone on one thread, hot
(thread CPU, minimums): 64x4608x128 0.87 ms (86 GFLOP/s), 2304x256x64
0.84, 18 blocks of 128x64x256 0.85, the conv GEMMs 0.79 (forward, K=25)
and 0.60 (filter gradient) for 64 images: 6.5 ms of CPU a step in GEMMs
against 11-13 measured, so ~4.5 ms is outside them (im2col, the
epilogue and pooling passes, the tail's memory-bound update, the
transposed copies, hand-overs).  The crew thread's CPU a step (1.0-1.2 ms
of 11-13) is its half of the tail: its 18 lazy GEMM blocks and their
updates, no polling since round 16's ``linger=False``.

Round 17 made ``step_pool.LAZY_ROWS`` 512 by ``--cpu`` timings of the
tail's line (its comment).  Measured and dropped: the sign kept in the
pooled layout (one int8 a window, made in the forward's pooling pass and
read by the filter gradient without its plane pass; numbers in
``pool_fused.py``'s ``pool_conv_grad_weights`` docstring); the tail in
``gemm_split.CHUNKS`` 4 parts a thread instead of 1 (one process
alternating blocks of 30 steps, 10 rounds, load 7.1: CPU a step 13.35
against 13.14 ms, a lower median in 6 of 10 rounds: no difference).
"""
import argparse
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("SYMNET_TIERED", "0")


def w4_step():
    """W4's step as ``bench/run.py`` builds it (``peers.Symnet().cnn``),
    called once, and the symnet ``Function`` it calls: ``(step, f)``."""
    from bench import peers, run
    params, x, y = run.cnn_data(64)
    step = peers.Symnet().cnn([p.copy() for p in params], x, y, run.LR, run.MOM)
    step()
    f = next(c.cell_contents for c in step.__closure__
             if hasattr(c.cell_contents, "thunk"))
    return step, f


def thread_cpu():
    """``{thread name: CPU seconds}`` of this process's Python threads."""
    out = {}
    for t in threading.enumerate():
        try:
            out[t.name] = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except (OSError, AttributeError):      # a thread gone meanwhile
            pass
    return out


def line_times(calls, cpu=False):
    """Per statement of W4's step: ``(labels, seconds per call per
    statement, step seconds per call, thread CPU seconds a step)``, the
    thread CPU over the 5 warm-up steps too."""
    from bench.w1_lines import step_lines
    step, f = w4_step()
    c0 = thread_cpu()
    labels, cols, totals = step_lines(step, f, calls, time.process_time if cpu
                                      else time.perf_counter)
    c1 = thread_cpu()
    threads = {k: (c1[k] - c0.get(k, 0.0)) / (calls + 5) for k in c1}
    return labels, cols, totals, threads


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--cpu", action="store_true", help="time lines by the process's CPU")
    ap.add_argument("--all", action="store_true", help="every line, not only those over 15 us")
    args = ap.parse_args()
    labels, cols, totals, threads = line_times(args.calls, args.cpu)
    print(f"step median {statistics.median(totals) * 1e3:.3f} ms (min "
          f"{min(totals) * 1e3:.3f}), load {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print("CPU a step, ms: " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in threads.items()))
    print(f"{'median':>9s} {'min':>8s}  line ({'process CPU' if args.cpu else 'wall'}, us)")
    for (label, statement), ts in zip(labels, cols):
        med, low = statistics.median(ts) * 1e6, min(ts) * 1e6
        if args.all or med > 15:
            print(f"{med:9.1f} {low:8.1f}  {statement[:100]}")


if __name__ == "__main__":
    main()
