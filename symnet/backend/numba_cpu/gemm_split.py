"""Opt-in "one pool" for a graph's matrix products: numpy's BLAS held at one
thread for the whole call, each large GEMM split in two (by rows or by
columns of its result) over numba's own thread pool, one CBLAS call a half.

Why it exists: after a GEMM on two threads, OpenBLAS's worker thread keeps
spinning on the other core for a while, so threaded work of ours right
after it (round 6's threaded update tail, ``threads.tail_threads``) shared
that core with the spinner and made W1 b=64 take 8 ms instead of 1.6-1.9.
JAX runs its GEMMs and its split update loops on one pool; this is that
arrangement for the numba backend: with ``SYMNET_GEMM_SPLIT=1``

* ``Dot``'s driver lines (``blas.py``) call ``pdot`` (``_gsdot``) instead of ``np.dot``
  (a step on the pool, ``step_pool.py``, calls its own ``dot`` instead);
* the linker wraps the driver in ``hold_blas``: BLAS at one thread for the
  call, its previous count restored afterwards (also when the call raises,
  a Ctrl-C included);
* ``SYMNET_TAIL_THREADS=1`` then threads the large in-place updates on the
  same (numba's) pool.

Off by default, for now (``bench/w1_pool.py``; 2 cores shared with other
developers' runs, so medians, ms, each configuration in a process of its
own, alternating):

* load ~1.2, 8 pairs, default against split + threaded tail: b=64
  1.50/1.45, 3.55/2.51, 1.86/1.62, 1.68/1.57, 1.45/1.42, 1.61/1.43,
  1.96/1.84, 2.23/1.73 (faster in 8 of 8, minimums too); b=512
  10.33/10.16, 13.29/9.89, 10.50/10.44, 11.01/10.25, 9.59/10.11,
  10.15/9.85, 10.53/10.72, 11.61/10.14 (faster in 6 of 8); the split
  alone was mixed (b=64 2.18, 2.61, 1.62 against 1.50, 3.55, 1.86);
* load 1-2 right after, 4 pairs: b=64 1.98/2.03, 1.87/1.81, 3.28/2.52
  (one pair lost to contention), b=512 10.67/27.6, 10.48/10.47,
  12.73/11.04: under contention the threaded steps lose most;
* load 0.1-0.6 (the box nearly idle), 4 pairs: b=64 1.56/1.60,
  1.73/1.42, 1.63/1.50, 1.46/1.35 (minimums 1.41/1.40, 1.51/1.30,
  1.47/1.35, 1.40/1.30); b=512 9.61/11.51, 12.58/9.72, 10.12/9.35,
  9.32/9.35 (minimums 9.29/9.24, 9.68/9.02, 9.41/8.94, 9.11/8.79);
* load 0.02-0.6, 4 more pairs: b=64 1.91/2.67, 1.54/1.35, 1.64/1.38,
  1.56/1.35; b=512 10.75/10.02, 9.68/9.30, 10.14/8.96, 11.95/9.08.

So split + threaded tail measured faster at both batches where the box
was near idle (b=64 in 14 of 16 pairs, b=512 in 12 of 16 by medians;
near idle, b=64 medians ~1.35-1.50 against ~1.55-1.65 ms, b=512 ~9.0-9.4
against ~9.7-10.1 ms).  It stays opt-in because it changes BLAS threading
for every graph with a ``Dot`` (W4/W7's dense layers beside the
convolutions' own policy, W8's scan steps), which was not measured.  In
ONE process the comparison is wrong (``bench/w1_pool.py`` says why).

A hand-off to numba's OpenMP pool costs 3-4 us while its threads spin,
against 12-50 us for a Python ``ThreadPoolExecutor`` round trip; with
another process on the second core every split waits for that core
(milliseconds).

The step-level hook is the same idea as the convolution steps' "BLAS at one
thread for this call" (``threads.py``, round 7): the two can be merged into
one policy there.
"""
import os

import numpy as np

__all__ = ["ENV", "MIN_MACS", "requested", "available", "pdot", "hold_blas"]

ENV = "SYMNET_GEMM_SPLIT"

#: products of fewer multiply-adds (m * n * k) stay one CBLAS call: W1's
#: 10-wide ones (320,000 at b=64) are not worth a hand-off
MIN_MACS = 1 << 21

def requested():
    """Whether ``SYMNET_GEMM_SPLIT`` asks for split GEMMs (``1``; ``0`` or
    unset: no).  Never with the njit driver (its products are CBLAS calls
    inside numba code already)."""
    raw = os.environ.get(ENV, "").strip()
    if raw not in ("", "0", "1"):
        raise ValueError(f"{ENV}: expected 0 or 1 (split GEMMs over numba's threads with "
                         f"BLAS at one thread), got {raw!r}")
    if raw != "1":
        return False
    from . import njit_driver
    return not njit_driver.requested(None)


def available():
    """Whether the split can run here: a CBLAS gemm and OpenBLAS's thread
    count reachable (another BLAS could not be held at one thread; found
    once, by ``step_pool``, whose hold ``hold_blas`` takes)."""
    from . import step_pool
    from .lib import cblas
    return cblas.AVAILABLE and step_pool._blas() is not None


def hold_blas(run):
    """``run`` wrapped: numpy's BLAS at one thread during each call, the
    previous count restored afterwards, whatever the call does: the same
    reentrant hold as a step on the pool (``step_pool.hold``), so the two
    never restore each other's count."""
    from . import step_pool

    def held(*args):
        token = step_pool._hold()
        try:
            return run(*args)
        finally:
            step_pool.release(token)
    return held


_SPLIT = []


def _splitter():
    if not _SPLIT:
        from .lib.gemm_split_loops import split_gemm
        _SPLIT.append(split_gemm)
    return _SPLIT[0]


def pdot(a, b):
    """``np.dot(a, b)``; 2-D float32/float64 products of one dtype with at
    least ``MIN_MACS`` multiply-adds run as two CBLAS calls on numba's
    threads, each writing half of the (new, C-contiguous) result: by rows
    when it has at least as many rows as columns, else by columns."""
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or \
            a.dtype not in (np.float32, np.float64):
        return np.dot(a, b)
    m, k = a.shape
    k2, n = b.shape
    if k != k2 or m * n * k < MIN_MACS:
        return np.dot(a, b)     # numpy's own error for mismatched shapes
    out = np.empty((m, n), a.dtype)
    _splitter()(a, b, out, m >= n)
    return out
