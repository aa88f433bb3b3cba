"""One pool for a dense training step's matrix products: numpy's BLAS held
at one thread for the whole call, each large GEMM split in two (by rows or
by columns of its result) over numba's own thread pool, one CBLAS call a
half, and the step's large update loops threaded on the same pool.

Why it exists: after a GEMM on two threads, OpenBLAS's worker thread keeps
spinning on the other core for a while, so threaded work of ours right
after it (round 6's threaded update tail, ``threads.tail_threads``) shared
that core with the spinner and made W1 b=64 take 8 ms instead of 1.6-1.9.
JAX runs its GEMMs and its split update loops on one pool; this is that
arrangement for the numba backend.  For a function where ``chosen`` says so

* ``Dot``'s driver lines (``blas.py``) call ``pdot`` (``_gsdot``) instead of ``np.dot``;
* the linker wraps the driver in ``hold_blas``: BLAS at one thread for the
  call, its previous count restored afterwards (also when the call raises,
  a Ctrl-C included);
* the in-place update loops of ``threads.TAIL_MIN_SIZE`` elements or more
  get their threaded copy (``threads.tail_threads``).

The policy, decided per function from its plan (``chosen``, round 8),
with ``SYMNET_GEMM_SPLIT=auto``: a training step with a large dense product
(``large_dense_step``: it updates shared storage in place, a ``Dot`` reads
one of those shared matrices with ``MIN_SHARED`` elements or more, no
Scan, no op of the step's own pool) where numpy's BLAS runs two threads or
more; ``SYMNET_GEMM_SPLIT=1`` forces it for any function, ``0`` (or unset:
``DEFAULT``, see below) turns it off, ``SYMNET_NUM_THREADS=1`` (or one numba
thread) keeps everything
serial.  A Scan's per-step products measured 1.8x slower at one BLAS
thread, so functions with a Scan keep two-thread BLAS; the convolution
steps (``step_pool.py``) keep their own Python-thread pool, whose hand-off
(6-10 us) costs more than numba's (3-4 us below) but which their nogil
library loops need.  Both take the same reentrant hold
(``step_pool._hold``), so they never restore each other's BLAS count.

Measured for the default (W1, ``bench/w1_pool.py --configs default`` run
from main f6351bd and from this branch, one process each, alternating, in
the same bench lock; medians of 300 steps in ms, main / branch; the box
was never quiet, load 1.3-1.6 from other developers' work during the lock):

* b=64: 2.47/1.68, 2.81/1.74, 3.41/2.99, 3.02/3.43 (minimums 2.15/1.62,
  2.29/1.62, 2.70/2.27, 2.58/2.79);
* b=512: 13.2/10.5, 14.5/11.2, 14.7/14.0, 15.4/15.1 (minimums 11.3/10.1,
  12.4/10.0, 12.6/11.6, 12.7/12.4);
* with one more busy process (``while :; do :; done``, load ~1.8), 100
  steps: b=64 5.98/6.47, 6.59/7.16; b=512 25.3/26.8, 28.9/31.1: both
  slow, the split ~8% slower than two-thread BLAS, no multi-x loss;
* later, load 0.9-1.6 (another developer's process busy outside the lock):
  b=64 1.90/2.30, 2.39/2.28, 2.01/3.09, 3.76/2.96, then 6 pairs of 400
  steps 2.86/2.61, 3.17/2.40, 3.47/2.61, 3.07/3.12, 2.35/1.92, 2.36/2.62
  (faster in 6 of 10); b=512 6 pairs of 200 steps 13.39/12.23,
  12.30/12.19, 11.50/11.63, 11.31/11.52, 11.54/10.41, 10.73/10.41;
* ``bench/run.py --only W1``, one run each (load 1.2-1.3): b=64 main
  3.51 ms (1.11x the best peer, 2.28x its floor) against 2.96 ms (0.89x,
  1.80x); b=512 16.1 ms (1.03x) against 15.7 ms (0.89x).

The split's checks (``available``, BLAS's thread count) import numba, so
``function()`` of such a step in a fresh process now imports it (+0.2-0.3
s there, instead of at the first call; the compiled tier was ready 0.86 /
1.15 s and 0.93 / 0.93 s after the build, main / this, in tiered auto mode).

Round 7's opt-in measurements of the same arrangement (``SYMNET_GEMM_SPLIT=1``
with ``SYMNET_TAIL_THREADS=1`` against two-thread BLAS, in processes of
their own):

* load ~1.2, 8 pairs: b=64 1.50/1.45, 3.55/2.51, 1.86/1.62, 1.68/1.57,
  1.45/1.42, 1.61/1.43, 1.96/1.84, 2.23/1.73 (faster in 8 of 8); b=512
  10.33/10.16, 13.29/9.89, 10.50/10.44, 11.01/10.25, 9.59/10.11,
  10.15/9.85, 10.53/10.72, 11.61/10.14 (faster in 6 of 8); the split
  alone (serial tail) was mixed;
* load 1-2 right after, 4 pairs: b=64 1.98/2.03, 1.87/1.81, 3.28/2.52,
  b=512 10.67/27.6 (one pair lost to contention), 10.48/10.47, 12.73/11.04;
* near idle (load 0.02-0.6), 8 pairs: b=64 medians ~1.35-1.50 against
  ~1.55-1.65 ms, b=512 ~9.0-9.4 against ~9.7-10.1 ms.

Why ``auto`` is not the default (yet): its cold compile.  The split and
the threaded update loops are ``parallel=True`` numba functions, compiled
once per operand layout (C or F: three for W1) and cached afterwards.
With empty caches (a fresh install: numba's cache of ``lib/`` and
symnet's kernel cache both new) the first W1 b=64 step took 25.9 s to
compile in the tenth session's bench run with ``auto`` (the same run's
second command, caches warm, 0.82 s), and, both measured beside a CI run
(load ~5), 88.7 s with ``auto`` against 12.5 s with the split off; one
``split_gemm`` layout alone compiled for 16-20 s there.  The step-time
gain (below) is ~0.15 ms a W1 b=64 step near idle: over a hundred
thousand steps to earn 25 s back.  Making it the default
needs a split whose compile is small (no ``parallel=True``: halves of a
non-parallel cached kernel on ``step_pool``'s threads, one operand layout).

In ONE process the comparison is wrong (``bench/w1_pool.py`` says why).
A hand-off to numba's OpenMP pool costs 3-4 us while its threads spin,
against 12-50 us for a Python ``ThreadPoolExecutor`` round trip; with
another process on the second core every split waits for that core.
"""
import os

import numpy as np

from . import threads

__all__ = ["ENV", "DEFAULT", "MIN_MACS", "MIN_SHARED", "setting", "chosen",
           "large_dense_step", "available", "pdot", "hold_blas"]

ENV = "SYMNET_GEMM_SPLIT"

#: what an unset ``SYMNET_GEMM_SPLIT`` means: off (module doc: the cold
#: compile of the split costs more than the split gains)
DEFAULT = "0"

#: products of fewer multiply-adds (m * n * k) stay one CBLAS call: W1's
#: 10-wide ones (320,000 at b=64) are not worth a hand-off
MIN_MACS = 1 << 21

#: the smallest shared weight matrix (elements, static shape) of a ``Dot``
#: that makes a training step split under ``auto`` (``large_dense_step``): W1's
#: 784x500 and 500x500; the threaded update loops' bound, so a split step's
#: large weights also get the threaded update
MIN_SHARED = threads.TAIL_MIN_SIZE


def setting():
    """What ``SYMNET_GEMM_SPLIT`` asks for: True (``1``), False (``0``), or
    None for ``auto`` (the function's plan decides, ``chosen``); unset
    means ``DEFAULT``."""
    raw = os.environ.get(ENV, "").strip().lower() or DEFAULT
    if raw not in ("0", "1", "auto"):
        raise ValueError(f"{ENV}: expected 0, 1 or auto (split GEMMs over numba's threads "
                         f"with BLAS at one thread), got {raw!r}")
    return None if raw == "auto" else raw == "1"


def chosen(plan, mode=None):
    """Whether the function of ``plan`` runs its products split, BLAS held
    at one thread and its large update loops threaded (module doc):
    ``SYMNET_GEMM_SPLIT=1``/``0`` (unset: ``DEFAULT``), or with ``auto``
    a training step with a large dense product (``large_dense_step``) where numpy's BLAS runs two
    threads or more (``OPENBLAS_NUM_THREADS=1``, as an MPI rank per core
    sets, keeps the step serial); never with the njit driver,
    ``SYMNET_NUM_THREADS=1`` or a single numba thread."""
    from . import njit_driver
    want = setting()
    if want is False or njit_driver.requested(mode) or threads.pool_threads() < 2:
        return False
    if want is None and not (large_dense_step(plan) and _blas_threads() >= 2):
        return False
    import numba
    return numba.config.NUMBA_NUM_THREADS > 1 and available()


def _blas_threads():
    """Numpy's BLAS thread count outside any hold (a step running on another
    thread may hold it at one now), 0 where it cannot be asked."""
    from . import step_pool
    n = step_pool.blas_count()
    held, saved = step_pool._HELD
    return (saved or 1) if held else (n or 0)


def large_dense_step(plan):
    """Whether ``plan`` is a training step whose products the split pays
    for: it updates shared storage in place (``plan.tail``), a ``Dot``
    reads one of those shared matrices (or its transpose) of at least
    ``MIN_SHARED`` elements, and it has no op with an inner graph (a Scan:
    its per-step products measured 1.8x slower at one BLAS thread) and no
    op of the step's own pool (``step_pool.py``: its steps keep their
    policy)."""
    from ...tensor.ops.blas import Dot
    from ...tensor.ops.elemwise import DimShuffle
    from ..tail_order import static_size
    from . import step_pool
    updated = {v for run in plan.tail for v in run.into.values()}
    if not updated or any(hasattr(n.op, "inner_outputs") for n in plan.order) or \
            step_pool.uses_pool(plan.order):
        return False
    for node in plan.order:
        if not isinstance(node.op, Dot):
            continue
        for v in node.inputs:
            if v.owner is not None and isinstance(v.owner.op, DimShuffle):
                v = v.owner.inputs[0]
            if v in updated and v.type.ndim == 2 and (static_size(v) or 0) >= MIN_SHARED:
                return True
    return False


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
