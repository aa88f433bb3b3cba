"""One thread pool for a step: the threads symnet's own work splits over
(``conv_threads.py``, ``pool_fused.py``, the dense products of ``dot``),
and numpy's BLAS held at one thread while a step that uses them runs.

Why (the finding is in ``threads.py``'s docstring): after a BLAS call on
two threads OpenBLAS's worker keeps spinning on the other core, so our
second thread, started right after, shares that core with it and the
split gains nothing.  With BLAS on one thread for the whole step, no BLAS
worker wakes, and every parallel part of the step is ours.

* ``hold()`` / ``release(token)``: the generated driver of a function
  whose plan has an op that uses the pool (``uses_pool``) calls them
  around its whole body (``try``/``finally``: also when the call raises;
  visible in ``f.source``).  Reentrant and thread-safe: the first hold
  saves BLAS's count and sets one thread, the last release sets it back.
  Nothing happens with ``SYMNET_NUM_THREADS=1`` or a single CPU
  (``threads.pool_threads()``), or where BLAS's count cannot be set.
* ``run(fn, nt, *args)``: ``fn(*args, t)`` for ``t < nt`` at once on the
  pool (``t = 0`` on the calling thread), BLAS held meanwhile (a direct
  call outside a step holds it itself).
* ``dot(a, b)``: a dense product as row blocks of the output (column
  blocks for a product with fewer rows than columns; row blocks of
  ``W @ g.T``, each written transposed, for ``g @ W.T`` with few rows),
  each a one-thread BLAS GEMM on
  its own thread; the driver of such a step calls
  it for ``Dot`` (``blas.py``).  Measured against one-thread BLAS for
  them (``DOT_MIN_MACS`` at 2^40), interleaved in one process, medians of
  medians of 5 rounds, 2 cores under load 3-4 from other work: W4's step
  9.99 / 9.09 ms against 11.62 / 11.75 ms (two runs), W7's 87.3 against
  102.9 ms.  Other BLAS calls of such a step (``BatchedDot``, a Scan's
  products, 3-D convolutions) run on one thread.
* ``lazy_dot(a, b)``: a product that only the step's update tail reads (a
  weight gradient), left for the tail to compute in row blocks, each right
  before the update of those rows, over the pool's threads (``LazyDot``,
  ``inplace._lazy_products``, ``gemm_split.ptail``).

The pool is plain daemon threads, each handed its job through two locks
(``_Worker``), kept per process: a forked child makes its own, and
forgets a hold its parent's other threads had (``os.register_at_fork``).
While one call uses the pool, another (a second Python thread's step, or
a job's own) runs its calls one after another on its own thread.

Tried in round 15 and dropped: ``run`` on ``gemm_split``'s crew (one set of
threads for the whole step, each part claimed by whichever thread asks
first, the crew not spinning after the pool's jobs).  W4's step,
alternating processes under the bench lock, load 3-4 from other work,
medians of 60 steps in ms, this pool / the crew: 13.0, 11.1, 11.5 / 12.6,
11.2, 12.5; with one more busy process 20.8, 18.9, 16.5 / 20.7, 25.9, 23.1;
the crew left spinning 1 ms after each job made W2 slower beside other
work (medians 0.85-1.08 / 1.09-1.55 ms).  No gain the noise lets us see.
"""
import os
import threading

import numpy as np

from . import threads

__all__ = ["hold", "release", "run", "dot", "lazy_dot", "LazyDot", "tail", "uses_pool", "blas_count",
           "DOT_MIN_MACS", "LAZY_ROWS", "DRIVER_LINES"]

_LOCK = [threading.Lock()]
_HELD = [0, None]        # holds open now; BLAS's count to set back (None: left alone)
_FNS = []                # [(get, set) of numpy's OpenBLAS, or None]
_POOL = []               # [(workers, pid, lock held while they work)]

#: multiply-adds of a product (rows * inner * columns) from which ``dot``
#: splits it over the pool; below, one BLAS call.  Handing work to the
#: pool and waiting for it costs ~30 us (``run`` of a no-op on 2 threads,
#: minimum of 2,000).  float32, BLAS held at one thread, minimum / median
#: of 300 calls in us, one BLAS call against ``dot`` on 2 threads (2 cores
#: with 3-4 other processes busy: what a split gains here is a floor):
#: 64x256x256 (4.2M) 87/88 -> 94/98; 64x512x512 (16.8M) 359/365 -> 263/279;
#: 128x500x500 (32M) 617/643 -> 378/473; 256x1024x256 (67M, W7's dense
#: layer) 1300/1385 -> 744/997
DOT_MIN_MACS = 1 << 23


#: the driver lines of a step whose ops use the pool (``codegen.py``): the
#: import in ``make_run``, the hold before ``try``, the release in ``finally``
DRIVER_LINES = (
    "    from symnet.backend.numba_cpu.step_pool import dot as _pdot, hold as _hold, "
    "release as _release, lazy_dot as _plazy, tail as _pltail",
    "        _held = _hold()   # numpy's BLAS on one thread: our threads use both cores",
    "        finally:",
    "            _release(_held)")


def _blas():
    """``(get, set)``: numpy's OpenBLAS thread-count functions, or None."""
    if not _FNS:
        from .lib import cblas
        get, put = cblas.openblas_threads_fn("get"), cblas.openblas_threads_fn("set")
        _FNS.append((get, put) if get is not None and put is not None else None)
    return _FNS[0]


def blas_count():
    """How many threads numpy's BLAS runs now, or None (cannot be asked)."""
    fns = _blas()
    return None if fns is None else int(fns[0]())


def _hold():
    """Count one hold; the first sets BLAS to one thread.  True if counted."""
    fns = _blas()
    if fns is None:
        return False
    with _LOCK[0]:
        if _HELD[0] == 0:
            n = int(fns[0]())
            _HELD[1] = n if n > 1 else None
            if n > 1:
                fns[1](1)
        _HELD[0] += 1
    return True


def hold():
    """Numpy's BLAS on one thread until ``release`` of the token returned
    (the driver's first line); nothing where the pool has one thread."""
    return _hold() if threads.pool_threads() >= 2 else False


def release(token):
    """End the hold ``token`` (``hold``'s result); the last one open sets
    BLAS's count back to what it was."""
    if not token:
        return
    with _LOCK[0]:
        _HELD[0] -= 1
        if _HELD[0] == 0 and _HELD[1] is not None:
            _blas()[1](_HELD[1])
            _HELD[1] = None


def _after_fork():
    """In a forked child: no hold is open there (the parent's other threads
    do not exist), the lock may have been taken mid-fork, the pool's
    workers are gone."""
    _LOCK[0] = threading.Lock()
    if _HELD[0] and _HELD[1] is not None and _FNS and _FNS[0] is not None:
        _FNS[0][1](_HELD[1])
    _HELD[:] = [0, None]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class _Worker:
    """One pool thread: waits on ``go``, runs its job, releases ``done``.
    Two plain locks hand work over in ~6 us (minimum of 3,000, 2 cores
    under load 1-2) against ~12-17 us for a ``ThreadPoolExecutor``'s
    submit and result (medians 29-63 against 54-80 us).  Whole steps
    (alternating processes, the other core busy: wall = CPU) showed no
    readable difference: W4 medians 12.1-16.7 against 11.0-15.3 ms, W7
    99-103 against 97-100 ms."""

    def __init__(self):
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.job, self.error = None, None
        threading.Thread(target=self._loop, name="symnet-pool", daemon=True).start()

    def _loop(self):
        while True:
            self.go.acquire()
            fn, args = self.job
            self.job = None
            try:
                fn(*args)
            except BaseException as exc:     # raised again on the calling thread
                self.error = exc
            self.done.release()

    def start(self, fn, args):
        self.job, self.error = (fn, args), None
        self.go.release()

    def wait(self):
        """Wait for the job; its error, or None."""
        self.done.acquire()
        return self.error


def _pool(n):
    """``n`` pool threads and the lock held while they work, kept for the
    process (a forked child makes its own: its parent's threads do not
    exist there)."""
    if not _POOL or _POOL[0][1] != os.getpid():
        _POOL[:] = [([], os.getpid(), threading.Lock())]
    workers = _POOL[0][0]
    while len(workers) < n:
        workers.append(_Worker())
    return workers[:n], _POOL[0][2]


def run(fn, nt, *args):
    """``fn(*args, t)`` for ``t`` in ``range(nt)`` at once (``t = 0`` on this
    thread), numpy's BLAS held at one thread meanwhile.  An error of any
    call is raised once all have ended.  Where the pool is busy (another
    thread's step, or a call from inside a pool job) the calls run one
    after another on this thread: the same results, never a deadlock."""
    token = _hold()
    try:
        workers, busy = _pool(0)
        if nt < 2 or not busy.acquire(blocking=False):
            for t in range(nt):
                fn(*args, t)
            return
        try:
            workers, _ = _pool(nt - 1)
            for t, w in enumerate(workers, 1):
                w.start(fn, args + (t,))
            try:
                fn(*args, 0)
            finally:
                errors = [w.wait() for w in workers]
            for err in errors:
                if err is not None:
                    raise err
        finally:
            busy.release()
    finally:
        release(token)


def _rows(a, b, out, nt, t):
    """Thread ``t``'s row block of ``out = a @ b``."""
    m = a.shape[0]
    r0, r1 = m * t // nt, m * (t + 1) // nt
    np.dot(a[r0:r1], b, out=out[r0:r1])


def _cols(a, b, out, nt, t):
    """Thread ``t``'s column block of ``out = a @ b``, written in place by
    ``np.matmul`` (a column block of a C array has one unit stride, which
    numpy hands to BLAS as it is; ``np.dot`` writes only whole C-contiguous
    outputs).  Blocks are whole 16-element runs, so each starts on a 64-byte
    line of float32.

    Not ``lib.cblas.gemm``: called from Python with its default arguments
    left out, numba's dispatch takes its slow path, ~90 us a call (a 2x2
    product: 87-94 us; ~1 us with all seven passed; 116-156 us against
    numpy's 4 in the run below); W4's half of
    ``g @ W.T`` (which ran here until round 16: ``_rows_t``), 64x256 @
    256x2304, BLAS at one thread, minimums / medians
    of 30 calls in us, 4 rounds: 1,370/1,531, 1,431/1,526, 1,442/1,591,
    1,168/1,306 against 1,126/1,189, 1,180/1,245, 1,198/1,284,
    1,079/1,163."""
    n = out.shape[1]
    c0 = min(n, (n * t // nt + 15) // 16 * 16)
    c1 = n if t == nt - 1 else min(n, (n * (t + 1) // nt + 15) // 16 * 16)
    if c0 < c1:
        np.matmul(a, b[:, c0:c1], out=out[:, c0:c1])


def _rows_t(x, y, tmp, out, nt, t):
    """Thread ``t``'s row block of ``tmp = x @ y`` (a swapped product: ``x``
    is ``W``, ``y`` is ``g.T``), then its transpose written into its column
    block of ``out = tmp.T`` (``lib.transpose.tcopy_into``), C-ordered, while
    the block is still in this thread's cache.  Blocks are whole 16-row runs,
    so each column block of ``out`` starts on a 64-byte line of float32.

    Why: ``g @ W.T`` as it is (BLAS's transposed operand) ran slower than
    ``W @ g.T`` at a pool step's shapes.  W4's dense input gradient, one
    thread's half (64x256 @ (2304x256).T float32), BLAS at one thread, 24
    MB of other traffic before each call, medians (minimums) of 40 calls in
    ms, 4 rounds: ``g @ W.T`` written in place as a column block
    (``_cols``, round 13's rule for this product) 1.66 (1.47), 1.48 (1.29),
    1.73 (1.39), 1.67 (1.41); this 1.30 (1.20), 1.28 (1.13), 1.49 (1.25),
    1.32 (1.23); the same values bit for bit.  Round 13 had measured row
    blocks of the swapped product slower than the column blocks because
    one thread then copied the whole result to C order, one value a row
    (0.35-0.5 ms for W4's 4608x64; now each thread copies its block, 8
    values a row: 0.06 ms a half)."""
    m = x.shape[0]
    r0 = min(m, (m * t // nt + 15) // 16 * 16)
    r1 = m if t == nt - 1 else min(m, (m * (t + 1) // nt + 15) // 16 * 16)
    if r0 < r1:
        np.dot(x[r0:r1], y, out=tmp[r0:r1])
        _tcopy_into()(tmp[r0:r1], out[:, r0:r1])


def _swapped(a, b):
    """The first two conditions of ``blas._SWAP``, at run time: ``b`` a
    transposed view at least four times wider than ``a`` is tall, and an
    inner size of 128 or more: ``a @ b`` runs as ``(b.T @ a.T).T`` (see
    ``blas.py``), on the pool in row blocks of ``b.T @ a.T`` each written
    transposed into the result (``_rows_t``).  ``SWAP_MAX_ROWS`` is not
    applied here: it was measured off the pool (two BLAS threads)."""
    rule = _blas_py()
    return b.strides[0] == b.itemsize and a.shape[0] * rule.SWAP_RATIO <= b.shape[1] \
        and a.shape[1] >= rule.SWAP_MIN_INNER


_BLAS_PY = []     # [the module blas.py], imported on first use


def _blas_py():
    """``blas.py`` (its swap rule and ``tcopy``), imported on the first
    call (it imports the tensor ops, which this module does not need until
    a product runs), then kept: an import statement in ``dot``, which every
    product of a pool step calls, cost ~1 us each, paid on the driver's
    serial lines while the pool's other thread waits."""
    if not _BLAS_PY:
        from . import blas
        _BLAS_PY.append(blas)
    return _BLAS_PY[0]


def _wide(a, b, nt):
    """Whether ``a @ b`` with ``b`` in C order (a weight read as it is: a
    forward product) splits by column blocks: fewer rows than columns, so
    each thread reads all of ``a`` and its part of ``b`` instead of all of
    ``b`` (``gemm_split.pdot``'s rule).  W4's forward product, 64x4608 @
    4608x256 float32, 2 threads, 24 MB of other traffic before each call,
    8 alternating rounds of 30 calls, medians / minimums in us (bench lock,
    load 3.5 from other work): row blocks 3,005-3,691 / 2,756-3,244, column
    blocks 2,607-3,024 / 2,448-2,646, faster in every round.  W7's
    256x1024 @ 1024x256 (as many rows as columns) keeps row blocks."""
    return b.flags.c_contiguous and a.shape[0] < b.shape[1] and b.shape[1] >= 16 * nt


def dot(a, b):
    """``np.dot(a, b)``, split over the pool when both are 2-D float32/float64
    matrices of one dtype and the product has at least ``DOT_MIN_MACS``
    multiply-adds: into column blocks of the result (``_wide``), or else
    into row blocks of it, or of its transpose where ``_swapped`` (each
    written transposed into the result, ``_rows_t``), when there are a few
    rows a thread.  The driver of a step on the pool leaves the swap to this
    function (``blas.py``): a product not split is one numpy call, swapped
    by the same rule."""
    if a.ndim != 2 or b.ndim != 2:
        return np.dot(a, b)
    swap = _swapped(a, b)
    # the size first: W4's small products (64x256x10, 64x10x256) then skip
    # the thread count, which reads the environment and the CPU affinity
    if a.shape[0] * a.shape[1] * b.shape[1] >= DOT_MIN_MACS and a.dtype == b.dtype \
            and a.dtype in (np.float32, np.float64) and a.shape[1] == b.shape[0] \
            and (nt := threads.pool_threads()) >= 2:
        if not swap and _wide(a, b, nt):
            out = np.empty((a.shape[0], b.shape[1]), a.dtype)
            run(_cols, nt, a, b, out, nt)
            return out
        x, y = (b.T, a.T) if swap else (a, b)
        if x.shape[0] >= 8 * nt:
            out = np.empty((a.shape[0], b.shape[1]), a.dtype)
            if swap:
                run(_rows_t, nt, x, y, np.empty((x.shape[0], y.shape[1]), a.dtype), out, nt)
            else:
                run(_rows, nt, x, y, out, nt)
            return out
    return _blas_py().tcopy(np.dot(b.T, a.T)) if swap else np.dot(a, b)


#: rows of a ``LazyDot`` computed at a time by the update tail (``rows``):
#: 512 rows of W4's 256-wide weight gradient are 512 KB of float32, which
#: stay in L2 (1 MB a core) between the GEMM that writes them and the
#: update that reads them.  Round 11 swept it in W4's step (one process, 6
#: alternating rounds of 30 steps, bench lock, load 0.6-0.8), round medians
#: in ms: 32 rows 9.03-9.28, 64 8.15-8.90, 128 7.80-8.07, 256 7.77-7.92,
#: 512 7.67-7.96, and kept 128 (within the noise).  Round 17 timed the
#: tail's line alone by the process's CPU (``bench/w4_lines.py``'s way:
#: what the line costs both threads, which the load from other work
#: disturbs less than its wall time), alternating processes of 200 steps,
#: bench lock, load 4.5-6.6, minimums (medians) in ms: 128 rows 2.90
#: (3.96), 3.00 (3.49), 2.92 (4.01), 2.80 (3.51) against 512 2.53 (2.73),
#: 2.64 (3.19), 2.61 (3.68), 2.59 (3.36); 128 against 256 2.95 (3.93),
#: 3.01 (3.99), 3.14 (4.19), 2.99 (3.88) / 2.69 (3.48), 2.88 (3.64), 2.78
#: (3.78), 2.82 (3.60); 256, 512 and 1024 within 0.1 of each other.  W4's
#: 4608 rows are then 9 blocks instead of 36: a quarter of the Python
#: calls a block makes under the GIL (the staging copy, the GEMM, the
#: update kernel's dispatch) and of the GEMMs that each pack ``g`` again.
#: W7 (Adam, 1024 rows), two alternating pairs at load 6.2-6.6: CPU a step
#: 94.6, 92.0 ms (128) against 86.6, 83.6 (512)
LAZY_ROWS = 512


_TCOPY_INTO = []     # [lib.transpose.tcopy_into], imported (numba) on first use


def _tcopy_into():
    """``lib.transpose.tcopy_into``, imported (numba) on the first call."""
    if not _TCOPY_INTO:
        from .lib.transpose import tcopy_into
        _TCOPY_INTO.append(tcopy_into)
    return _TCOPY_INTO[0]


class LazyDot:
    """``a @ b`` not computed yet: a weight gradient that only the update
    tail reads (``inplace.py``), computed there in row blocks of
    ``LAZY_ROWS``, each right before the update loop over the same rows
    (``gemm_split.ptail``), so the whole product is never written to memory
    and read back.

    Why: on these machines only ~8 MB of cache serve a core (a copy of 4 MB
    ran at 42 GB/s, of 8 MB at 10 GB/s), so W4's 4608x256 gradient (4.7 MB),
    written by its GEMM and read by the momentum update beside the weights
    and velocities, went to memory and back: the update alone took 0.35 ms
    with its arrays in cache and 1.5 ms inside the step.  Measured (round
    10, 2 cores, load 1.3-1.5, bench lock): W4's product and update alone
    after 24 MB of other traffic, 4 rounds of 40 calls, main's ``dot`` then
    the update loop / this: minimums 3.99, 4.89, 3.92, 5.30 / 3.74, 3.69,
    3.43, 3.99 ms, medians 5.47, 5.77, 5.25, 7.29 / 4.57, 4.76, 5.14, 4.81;
    W4's whole step, 9 alternating pairs of processes of 150 steps: the
    minimum lower in 8 of 9 (medians of the minimums 15.2 / 14.6 ms), the
    median within the noise (lower in 5 of 9; medians of medians 22.0 /
    22.2 ms), CPU a step about the same (29.6-38.5 / 30.9-36.6 ms).

    Tried in round 15 and dropped: the input gradient ``g @ W.T`` computed
    in the same row blocks, from each block of ``W`` just before its update
    (one read of ``W`` less; the pooled filter gradient would then have to
    run inside the tail).  Modelled alone (the product, 3 MB of other
    traffic, the tail; against the blocks doing all three), 10 alternating
    rounds of 40 calls, load 3.5, medians (minimums) in ms: 7.2-12.3
    (5.5-7.3) against 6.5-12.0 (5.8-7.3): no gain to pay for it.  Nor did
    ``LAZY_ROWS`` of 64, 256 or 512 against 128 (medians of 6 rounds of
    the tail alone: 3.27, 3.11, 2.80 against 2.95 ms, each round's spread
    wider than that; round 17's timing by CPU made it 512: ``LAZY_ROWS``).

    ``shape``/``dtype``/``ndim`` are the product's (the tail's shape checks
    read them); ``rows(lo, hi, out)`` writes rows ``lo:hi`` into ``out``;
    ``np.asarray`` computes the whole product (``__array__``)."""

    __slots__ = ("a", "b", "shape", "dtype")
    ndim = 2

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.shape = (a.shape[0], b.shape[1])
        self.dtype = np.result_type(a.dtype, b.dtype)

    def staged(self):
        """Whether ``rows`` wants a staging buffer (``stage``) for its rows of
        ``a``: ``a`` is a transposed view (``h.T`` of a weight gradient)."""
        a = self.a
        return a.shape[1] > 1 and a.strides[0] == a.itemsize and a.strides[1] != a.itemsize

    def rows(self, lo, hi, out, stage=None):
        """Rows ``lo:hi`` of the product, written into ``out`` (C order).
        With ``stage`` (C order, at least ``hi - lo`` rows, ``a``'s columns;
        where ``staged``) ``a``'s rows are first copied there in C order.

        Why: OpenBLAS runs W4's 128x64 @ 64x256 blocks with the transposed
        ``h.T`` ~1.4x slower than with a C-ordered one.  One thread's half
        (18 blocks of 128 rows), BLAS at one thread, minimums of 40 calls
        in us, 4 rounds: ``h.T`` as it is 1,277-1,298; C-ordered 916-936;
        staged by ``lib.transpose.tcopy_into`` 1,042-1,046 (numpy's
        ``copyto`` of the transpose 1,274-1,301).  W4's step, alternating
        processes against main, bench lock, load 2.0-2.3, medians
        (minimums) in ms: 7.91 (7.58) / 7.64 (7.17), 8.00 (7.39) / 7.51
        (6.87), 7.82 (7.02) / 7.60 (6.89); W7's step (K = 256) unchanged:
        80.1, 78.3, 79.9 / 81.4, 78.0, 79.1."""
        a = self.a[lo:hi]
        if stage is not None:
            a = _tcopy_into()(a.T, stage[:hi - lo])
        # np.matmul, not np.dot: numpy's dot zeroes ``out`` before its GEMM
        # (one more pass over the block; OpenBLAS zeroes it again for its
        # beta of 0), matmul hands it to the GEMM as it is; the same values.
        # W4's 512x64 @ 64x256 block, one thread, minimums of 50 calls, 5
        # rounds: 173.5-173.6 us against 169.9-170.4.  Only for C-ordered
        # operands (the staged case): matmul runs a layout without a unit
        # stride by its own loop, not BLAS (np.dot copies it first), and a
        # transposed one by other BLAS flags than dot (values an ulp apart)
        if a.flags.c_contiguous and self.b.flags.c_contiguous:
            np.matmul(a, self.b, out=out)
        else:
            np.dot(a, self.b, out=out)
        return out

    def __array__(self, dtype=None, copy=None):
        out = np.dot(self.a, self.b)
        return out if dtype is None else out.astype(dtype, copy=False)


def lazy_dot(a, b):
    """``LazyDot(a, b)`` for 2-D ``a``, ``b`` of one float dtype whose
    shapes match (the driver of a pool step calls it, as ``_plazy``, for a
    product only its update tail reads); anything else ``dot(a, b)`` now,
    whose error a mismatch raises as before."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or a.dtype != b.dtype \
            or a.dtype not in (np.float32, np.float64):
        return dot(a, b)
    return LazyDot(a, b)


_TAIL = []      # [gemm_split.ptail], set by gemm_split (which the linker imports)


def tail(calls, rows, split):
    """The update tail of a step on the pool whose calls read ``LazyDot``
    products (the driver's ``_pltail``): ``gemm_split.ptail``, under the
    step's own hold (the ``hold()`` of its first line), so with one pool
    thread BLAS is left alone as in the rest of the step.

    Its crew thread does not linger (``gemm_split.SPIN_S``) after the tail:
    the tail is the crew's only job in such a step, the next one a whole
    step later, and polling meanwhile took a core from the pool's threads
    in the next step's first convolution (3 busy threads on 2 cores; W4's
    crew thread used 2.0 ms of CPU a step, 1 of them polling)."""
    return _TAIL[0](calls, rows, split, linger=False)


def uses_pool(nodes):
    """Whether any of ``nodes`` runs a numba implementation that splits its
    work over the pool (its driver template says ``uses_pool``)."""
    from ..registry import kernel_for
    return any(getattr(kernel_for("numba", type(n.op)), "uses_pool", False) for n in nodes)
