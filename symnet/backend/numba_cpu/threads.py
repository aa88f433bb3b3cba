"""The numba backend's threading policy: whether elementwise loops and fused
runs get a threaded copy (a ``prange`` taken above ``PARALLEL_MIN_SIZE``
elements), and on how many threads.

The default is one thread, decided by measurement (2 cores shared with
other work, numba 0.68):

* a threaded kernel takes about twice as long to compile (W2's fused
  kernel: 3.0 s -> 6.0 s cold), for every elementwise kernel of every graph,
  since sizes are known only at run time;
* two threads pay only while the second core is idle: W2 (1e6 elements)
  went from 1.2 ms to 0.6-0.7 ms then, but with another process busy the
  medians of the threaded kernel were 1.1x-10x *slower* than one thread
  (OpenMP layer; workqueue less so), and below ~250,000 elements the
  thread start-up cost more than it saved even at best.

The in-place update tail (``backend/update_tail.py``) has a policy of its
own, ``tail_threads``: its large loops (``TAIL_MIN_SIZE`` elements or more,
known from the shared value's static shape) may get the threaded copy while
every other kernel stays serial, so only those few kernels pay the compile
time.  That is what XLA's CPU backend does with W1's step (its optimized
HLO, JAX 0.10.2: the 784x500 and 500x500 update loops split in two,
``outer_dimension_partitions=2``, the 500- and 10-wide ones not).  On
in a step whose products are split (``gemm_split.py``, the default since
round 9), where the serial kernel runs in row blocks on the split's
threads, no threaded copy compiled; elsewhere off (``TAIL_THREADS``);
``SYMNET_TAIL_THREADS=1`` turns the threaded copy on, ``0`` off.

Symnet's own threads (``pool_threads``: the convolutions' image chunks,
``conv_threads.py``; the pooling gradient, ``pool_fused.py``; the dense
products of a step that uses them, ``step_pool.dot``) are one pool of
Python threads running ``nogil`` library loops and one-thread BLAS calls,
as many as the CPUs this process may run on (``SYMNET_NUM_THREADS``
overrides it; ``1``: everything serial and numpy's BLAS left alone),
whatever numpy's BLAS runs.  A step that uses them holds numpy's BLAS at
one thread from its first line to its last (``step_pool.hold``), because
of what was measured on these 2-core machines (OpenBLAS 0.3 of numpy's
wheel): after every BLAS call on two threads, OpenBLAS's worker keeps
spinning on the other core (a ``sched_yield`` loop until its
THREAD_TIMEOUT, about 2^28 cycles, some 0.1 s, by default), so our second
thread, started right after, shares that core with it.  W7's conv2
forward alone: 11-13 ms on our 2 threads, 20-24 ms serial, and 22-26 ms
on our 2 threads right after one (256, 1024) @ (1024, 256) ``np.dot`` on
BLAS's two; inside W7's step the threads gained nothing (conv2's three
ops 26 / 25 / 25 ms with or without them).  Holding BLAS at one thread
for the whole step took W7 from 101 / 105 / 99 ms to 58 / 62 / 61 ms
(interleaved in one process, a quiet moment).  With the step's pool
(dense products split over it too), main against this, alternating
processes, 2 cores under load 3-4 from other work: W7 medians 196-206 ->
96-150 ms, CPU 190-206 -> 90-106 ms a step (the spinning worker's CPU
gone); W4 48-90 -> 19-23 ms, CPU 34-54 -> 14-16 ms.  One pool, not two:
BLAS's threads and ours never run at once (numba's OpenMP threads neither:
``LIB_THREADS``).

A large llvm loop (W2's, 1e6 elements) is not a threaded copy but the
serial loop called on row blocks at once on that pool
(``loop_split.py``: on by default above measured sizes, nothing more to
compile; ``SYMNET_LOOP_SPLIT=0`` off, and off with ``SYMNET_NUM_THREADS=1``).

``Mode('numba', parallel=True)`` turns threaded loops on; ``SYMNET_NUM_THREADS``
overrides the mode for every numba function: ``1`` turns threaded loops
off, ``N >= 2`` turns them on.  The loops run on numba's thread pool,
``NUMBA_NUM_THREADS`` threads (all cores by default): numba's count is
process-wide and a kernel that set it itself could not be cached, so a
different N is reported once (set ``NUMBA_NUM_THREADS`` to choose it).
"""
import os
import warnings

__all__ = ["policy", "pool_threads", "lib_threads", "tail_threads", "ENV", "TAIL_ENV",
           "LIB_THREADS", "TAIL_THREADS", "TAIL_MIN_SIZE"]

ENV = "SYMNET_NUM_THREADS"
TAIL_ENV = "SYMNET_TAIL_THREADS"
_WARNED = set()

#: the default of ``lib_threads()`` with SYMNET_NUM_THREADS unset: off.
#: They are numba's threads (OpenMP), a second pool beside the step's: W4
#: with them on (and its first layer left to them, ``conv.SPLIT_PER_IMAGE``
#: off) against the step's pool, interleaved in one process, 2 cores under
#: load 3-4: median 15.0 ms, CPU 28.8 ms a step, against 10.0 ms, CPU 14.4
#: ms (their workers spin after each loop, as BLAS's do).  Under the pool
#: no 2-D convolution reaches them anyway: one smaller than
#: ``conv_threads.MIN_BYTES`` has chunks below ``conv.THREAD_MIN_BYTES``
LIB_THREADS = False

#: the default of ``tail_threads()`` with SYMNET_TAIL_THREADS unset outside
#: a split step (``gemm_split.chosen``): off.  Measured (W1, interleaved in
#: one process, 2 cores with other processes busy, load 6-7): the threaded
#: tail alone (two-thread BLAS) made the step slower, b=64 median 184 ms
#: against 78 ms (minimums 72 against 22), b=512 217 against 169 ms
TAIL_THREADS = False

#: the fewest elements (the shared value's static size) for which an
#: in-place update loop gets a threaded copy under ``tail_threads``: W1's
#: 500x500 (250,000) and 784x500 updates, not its 500-wide bias vectors
TAIL_MIN_SIZE = 1 << 17


def _requested():
    """The thread count ``SYMNET_NUM_THREADS`` asks for, or None when unset."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{ENV}: expected a positive integer (the threads symnet's "
                         f"own work and threaded loops may use), got {raw!r}")
    return n


def pool_threads():
    """How many threads symnet's own work (``step_pool.py``) may split over:
    ``SYMNET_NUM_THREADS`` where set, else the CPUs this process may run
    on; independent of numpy's BLAS's count."""
    n = _requested()
    if n is not None:
        return n
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def policy(mode):
    """Whether kernels compiled under ``mode`` get threaded loops."""
    n = _requested()
    if n is None:
        return bool(getattr(mode, "parallel", False))
    if n == 1:
        return False
    import numba
    have = numba.config.NUMBA_NUM_THREADS
    if n != have and (n, have) not in _WARNED:
        _WARNED.add((n, have))
        warnings.warn(f"{ENV}={n}: threaded loops run on numba's {have} threads "
                      f"(set NUMBA_NUM_THREADS={n} before numba is imported to change it)",
                      RuntimeWarning, stacklevel=2)
    return have > 1


def lib_threads():
    """Whether the fixed library loops of the convolution (im2col/col2im in
    ``lib/conv_loops.py``) take their threaded copies.  Unlike generated
    kernels they are compiled once per machine, so threads cost no compile
    time per graph; they follow ``SYMNET_NUM_THREADS`` (``1``: never) and
    otherwise ``LIB_THREADS`` (see its comment)."""
    n = _requested()
    if n == 1:
        return False
    if n is None and not LIB_THREADS:
        return False
    import numba
    return numba.config.NUMBA_NUM_THREADS > 1


def tail_threads(mode, split=False):
    """Whether the in-place update tail's loops of ``TAIL_MIN_SIZE``
    elements or more get a threaded copy (see the module docstring):
    ``SYMNET_TAIL_THREADS`` (``1`` on, ``0`` off), else ``TAIL_THREADS``
    or ``split`` (a function whose products are split over the same threads,
    ``gemm_split.chosen``); never with ``SYMNET_NUM_THREADS=1`` or a single
    numba thread."""
    raw = os.environ.get(TAIL_ENV, "").strip()
    if raw not in ("", "0", "1"):
        raise ValueError(f"{TAIL_ENV}: expected 0 or 1 (threads for the large in-place "
                         f"update loops), got {raw!r}")
    on = (TAIL_THREADS or split) if raw == "" else raw == "1"
    if not on or _requested() == 1:
        return False
    import numba
    return numba.config.NUMBA_NUM_THREADS > 1
