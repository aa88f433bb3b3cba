"""A large elementwise loop split over the step pool's threads.

An llvm kernel (``llvm/kernel.py``) whose call is a CPython builtin and
whose axis 0 some input gives (``LoopKernel.splittable``) runs, when its
domain has ``min_size()`` elements or more, as ``nt`` calls of the same
compiled loop nest at once, one per contiguous block of axis 0
(``step_pool.run``: ``nt = threads.pool_threads()``, thread 0 the caller).
Each call gets sub-views of the arrays that axis 0 indexes and the whole
of the broadcast ones; the builtin releases the GIL for such a call
(``fastcall.define_entry``), so the chunks run at once.  Nothing is copied:
each chunk writes its own rows of the results.

Full sums and products: each chunk writes its unrounded accumulator
(float64 for float32 data, as the kernel's own) into its row of a
partials buffer; they are combined here, chunk 0 first, starting from the
reduction's initial value, then rounded once into the result.  A chunk of
a 1-d loop starts on a multiple of ``fused.FUSED_SUM_BLOCK``, so its
float32 block partials are the unsplit loop's; only the float64 additions
of the blocks group differently (by chunk).  The result is therefore the
same on every call with the same thread count, and within a float64
rounding of the unsplit loop's before the final rounding.  Column sums
(summing over axis 0) are never split: their per-column row order would
change.

When the pool is busy (a call from inside a pool job, or another Python
thread's step) the chunks run one after another on the calling thread:
the same values.

Why (issue #12, W2: ``sum(tanh(a*x+b) * exp(-x*x))`` and its gradient
over 1e6 float32 elements, one fused loop): JAX's XLA runs that fusion on
both cores.  Bench processes, alternating, the same lock, the second core
idle (load 1.2): JAX 1.94 / 1.22 ms median (1.90 / 0.90 min), with
``taskset -c 0`` 1.53-1.56 ms; symnet on one thread 1.87 / 1.91 ms, split
0.98 / 0.99 ms.  With one busy process beside it (``while True: pass``):
one thread 1.85 / 1.87 ms, split 1.90 / 1.88 ms (JAX 1.59-1.80); with two:
one thread 2.46 / 2.97 / 2.83 ms, split 2.39 / 1.90 / 1.90 ms.  The pool's
threads wait on locks, they do not spin, so a busy machine costs the
split a few percent at worst: on by default, thresholds at ``MIN_SIZE``.
(Measured before round 13's cheaper ``lib/fastmath32`` exp/tanh, which
brought W2's one-thread loop to about 1.47 ms; the thresholds were not
measured again.)
``SYMNET_LOOP_SPLIT=0`` turns the split off (every loop on
the calling thread, as before), ``1`` (the default) splits from the
thresholds of ``min_size``, a larger integer sets every loop's threshold
in elements; ``SYMNET_NUM_THREADS=1``
turns it off too.  The setting is read when a function is compiled.
"""
import os
import sys

import numpy as np

from . import threads

__all__ = ["Split", "min_size", "MIN_SIZE", "ENV"]

ENV = "SYMNET_LOOP_SPLIT"

#: the fewest elements of a loop's domain for which it is split, for a loop
#: computing one exp/log/tanh-like function an element
#: (``LoopKernel.heavy_ops``; ``k`` of them: ``MIN_SIZE // k``, at least
#: ``MIN_SIZE // 4``), and for a loop of arithmetic only (``LIGHT_MIN_SIZE``).
#: Measured here (2 cores, the other idle, minimums of 7 windows, us,
#: serial -> split): handing a loop to the pool and combining its sums
#: costs about 50 us (2 threads).  W2's loop (tanh and exp, about 1.8 ns an
#: element): 16k 32 -> 85, 32k 62 -> 94, 64k 122 -> 128, 128k 242 -> 187,
#: 1M 1,730 -> 920.  ``x * 2 + 1`` (memory bound): 256k 42 -> 87, 1M 135
#: -> 151, 4M 697 -> 607; ``sum(x * x)``: 1M 67 -> 134, 4M 291 -> 252.
MIN_SIZE = 1 << 18
LIGHT_MIN_SIZE = 1 << 22


def min_size(heavy=1):
    """The domain size from which a loop computing ``heavy`` exp/log/tanh-like
    functions an element, compiled now, is split; ``sys.maxsize`` (never)
    when the split is off (``SYMNET_LOOP_SPLIT=0``, or one thread:
    ``threads.pool_threads()``); a larger ``SYMNET_LOOP_SPLIT`` is the
    threshold of every loop."""
    raw = os.environ.get(ENV, "").strip()
    try:
        n = int(raw) if raw else 1
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"{ENV}: expected 0 (off), 1 (on: the measured thresholds) or a "
                         f"larger integer (the fewest elements split), got {raw!r}")
    if n == 0 or threads.pool_threads() < 2:
        return sys.maxsize
    if n > 1:
        return n
    return MIN_SIZE // min(heavy, 4) if heavy else LIGHT_MIN_SIZE


def _chunk(native, calls, t):
    native(*calls[t])


class Split:
    """How one kernel's call is cut: ``cut``, per call argument, whether
    axis 0 indexes it (else it is passed whole: broadcast inputs, the
    1-element arrays of full sums); ``accs``: per full sum or product,
    (call argument of its result, ``'sum'``/``'prod'``, accumulator dtype,
    its initial value as the kernel's source writes it: ``reduction._init``);
    ``align``: chunks of axis 0 start on multiples of it.  The threshold
    is the kernel's wrapper's (``LoopKernel.split_min``)."""

    def __init__(self, cut, accs, align, title=""):
        self.cut, self.align, self.title = tuple(cut), align, title
        self.accs = [(k, kind, np.dtype(dt), np.dtype(dt).type(init))
                     for k, kind, dt, init in accs]
        self.first = self.cut.index(True)

    def bounds(self, n, nt):
        """The (start, stop) of each chunk of ``range(n)``: ``nt`` of them
        or fewer, starts on multiples of ``align``."""
        a = self.align
        edges = [0] + [min(n, (n * t // nt + a - 1) // a * a) for t in range(1, nt)] + [n]
        return [(lo, hi) for lo, hi in zip(edges, edges[1:]) if lo < hi]

    def run(self, native, args):
        """``native(*args)`` as chunks on the pool (see the module doc)."""
        from .step_pool import run
        chunks = self.bounds(args[self.first].shape[0], threads.pool_threads())
        if len(chunks) < 2:
            native(*args)
            return
        # a row of 8-byte slots per chunk, one per full sum (each written in
        # its accumulator's dtype)
        part = np.empty((len(chunks), max(1, len(self.accs))), np.float64)
        calls = [tuple(a[lo:hi] if c else a for a, c in zip(args, self.cut)) + (part[t],)
                 for t, (lo, hi) in enumerate(chunks)]
        run(_chunk, len(chunks), native, calls)
        for k, (arg, kind, dt, acc) in enumerate(self.accs):
            if dt == np.float64:      # Python floats add as float64 does
                vals = part[:, k].tolist()
            else:
                vals = [row[k:k + 1].view(dt)[0] for row in part]
            for v in vals:      # chunk order: the same every call
                acc = acc + v if kind == "sum" else acc * v
            args[arg][0] = acc
