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

``--perf-loop N`` writes ``/tmp/perf-<pid>.map`` (the entry of each
numba-compiled function of the process, so ``perf report`` names the
loops and kernels instead of ``[JIT]`` addresses), prints ``ready`` and
runs N steps; attach ``perf record -g -p <pid> -- sleep 5`` meanwhile.

Round 18 (main at 47f33f9, load 2.4-3.8 from other work, 5 s of the
steady state, share of samples of the whole process): OpenBLAS 61 %
(``sgemm_kernel`` 38.5, packing ``oncopy``/``itcopy`` 11: W2 read as B by
the forward product and as A by the input gradient, the conv GEMMs'
small-matrix kernels 11); numba code 23 % (``forward_image_chunks`` 6,
``pool_grad_weights_images`` 5, the momentum update 5, ``tcopy_into``
4.5); the interpreter 7.7 %; ``memset`` 2.3 % (half numpy's dot zeroing
its output before the GEMM, half OpenBLAS's beta of 0); futex wakes and
switches ~2.5 %; no thread spinning (OpenBLAS's server absent under the
step's hold).  The tail's Python (its chunks' calls built under the GIL,
then ~10 us a block) is 30-60 us a chunk, so one nogil numba call per
thread would save at most that.  Tried and dropped: the forward product
split over its inner dimension (each thread half of ``h`` and a
contiguous half of W2, the two partial products summed), both halves on
one thread, thread CPU, minimums of 30, 4 rounds: hot 1,807-1,945 us
against 1,639-1,848 for the column split, after 24 MB of other traffic
1,907-1,997 against 1,933-2,007; ``np.matmul`` for the input gradient's
blocks (2304x256 @ (64x256).T): 773-805 against 765-793 us.
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


def perf_map(path=None):
    """Write ``perf``'s map of this process's numba-compiled functions
    (``/tmp/perf-<pid>.map``: entry address, size up to the next entry,
    module.function); the number written."""
    import gc
    from numba.core.dispatcher import Dispatcher
    ents = set()
    for o in gc.get_objects():
        if isinstance(o, Dispatcher):
            for cres in list(o.overloads.values()):
                addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
                if addr:
                    ents.add((addr, f"{o.py_func.__module__.rsplit('.', 1)[-1]}."
                                    f"{o.py_func.__name__}"))
    ents = sorted(ents)
    with open(path or f"/tmp/perf-{os.getpid()}.map", "w") as fh:
        for (addr, name), nxt in zip(ents, ents[1:] + [(ents[-1][0] + 65536, "")] if ents else []):
            fh.write(f"{addr:x} {min(nxt[0] - addr, 1 << 20):x} {name}\n")
    return len(ents)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--cpu", action="store_true", help="time lines by the process's CPU")
    ap.add_argument("--all", action="store_true", help="every line, not only those over 15 us")
    ap.add_argument("--perf-loop", type=int, metavar="N",
                    help="write perf's map of the numba functions, then run N steps")
    args = ap.parse_args()
    if args.perf_loop:
        step, _ = w4_step()
        for _ in range(30):
            step()
        print(f"pid {os.getpid()}: {perf_map()} functions mapped; ready", flush=True)
        t = time.perf_counter()
        for _ in range(args.perf_loop):
            step()
        print(f"{(time.perf_counter() - t) / args.perf_loop * 1e3:.3f} ms a step")
        return
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
