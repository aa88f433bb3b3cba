"""One pool for a dense training step's matrix products: numpy's BLAS held
at one thread for the whole call, each large GEMM split in two (by rows or
by columns of its result) over symnet's own Python threads, one BLAS call a
part, and the step's large update loops run in row blocks on the same
threads.

Why it exists: after a GEMM on two threads, OpenBLAS's worker thread keeps
spinning on the other core for a while, so threaded work of ours right
after it (round 6's threaded update tail, ``threads.tail_threads``) shared
that core with the spinner and made W1 b=64 take 8 ms instead of 1.6-1.9.
JAX runs its GEMMs and its split update loops on one pool; this is that
arrangement for the numba backend.  For a function where ``chosen`` says so

* ``Dot``'s driver lines (``blas.py``) call ``pdot`` (``_gsdot``) instead of
  ``np.dot``: a product of ``MIN_MACS`` or more as one ``np.dot`` (row
  block) or ``np.matmul`` (column block of the result) per thread, each
  releasing the GIL;
* the in-place update tail's loops of ``threads.TAIL_MIN_SIZE`` elements or
  more run through ``ptail`` (``_ptail``): the ordinary serial kernel (the
  one the unsplit step compiles) called on row blocks of its arrays, one
  block a thread;
* the linker wraps the driver in ``hold_blas``: BLAS at one thread for the
  call, its previous count restored afterwards (also when the call raises,
  a Ctrl-C included).

The threads (``_crew_run``) claim parts of a call one at a time, so a
thread that wakes late (its core busy with another process) takes nothing
and the caller never waits for it; after a job a thread keeps asking for
the next for ``SPIN_S`` before it blocks.  A Ctrl-C lands between two
parts, never inside one, and is raised once every part has run: an update
is written whole (each part's kernels run from one ``starmap``).

The policy, decided per function from its plan (``chosen``), with
``SYMNET_GEMM_SPLIT=auto`` (opt-in; see below for why not the
``DEFAULT``): a training step
with a large dense product (``large_dense_step``: it updates shared storage
in place, a ``Dot`` reads one of those shared matrices with ``MIN_SHARED``
elements or more, no Scan, no op of the step's own pool) where numpy's
BLAS runs two threads or more; ``SYMNET_GEMM_SPLIT=1`` forces it for any
function, ``0`` (or unset) turns it off, ``SYMNET_NUM_THREADS=1`` (or one CPU) keeps
everything serial.  A Scan's per-step products measured 1.8x slower at one
BLAS thread, so functions with a Scan keep two-thread BLAS; the
convolution steps (``step_pool.py``) keep their own pool.  Both take the
same reentrant hold (``step_pool._hold``), so they never restore each
other's BLAS count.

Round 9 (this arrangement, built as the default) against main's default
(two BLAS threads, serial tail), W1 through ``bench/w1_pool.py --configs default``
run from each tree, one process each, alternating, in the same bench lock;
medians (minimums) of 300 steps in ms, main / branch, load 1.3-2 from
other developers' work throughout:

* b=64: 5.82 (2.92) / 5.14 (3.21), 4.98 (4.23) / 4.03 (3.03), 5.18 (4.14) /
  4.04 (2.72); later (load 1.35-1.45) 4.76 (3.69) / 4.55 (3.07), 4.84 (4.17)
  / 4.02 (2.85), 4.04 (2.99) / 4.81 (3.04), 3.30 (2.52) / 4.30 (2.65), 4.24
  (2.80) / 4.64 (3.20): at a moderate load within the noise (medians faster
  in 5 of 8 pairs, minimums in 4 of 8);
* b=512 (100 steps): 21.5 (16.3) / 21.7 (15.6), 20.2 (16.8) / 20.3 (16.1),
  18.5 (12.9) / 18.8 (16.3): the same;
* with one more busy process (``while :; do :; done``), b=64, 100 steps:
  9.17 / 8.21, 13.14 / 7.93, 8.50 / 8.15: no multi-x loss; in one
  heavily loaded moment (load 2.5) main's two-thread BLAS took 65-83 ms a
  step (each GEMM 6-27 ms) against 5.5-7.7 ms here;
* cold compile, fresh ``SYMNET_CACHE_DIR`` and ``NUMBA_CACHE_DIR``, build
  to the first W1 b=64 step: 4.45 and 4.29 s (main) against 4.25 and 4.30
  s: nothing extra to compile (round 8's ``parallel=True`` split, opt-in
  until now, compiled for 25.9 s there).

Why it is not the default: the coordinator's runs after the merge, at a
lower load (1.0-1.3, the bench lock held, nobody else working),
``bench/w1_pool.py --batch 64 512`` from main with the split as default,
alternating ``default`` (split) and ``unsplit`` processes, medians
(minimums) in ms: b=64, 200 steps, split / unsplit: 4.22 (3.55) / 4.70
(4.18), 4.46 (2.94) / 3.23 (2.43), 4.66 (3.18) / 3.37 (2.97), 4.72 (4.20) /
4.02 (3.11); 300 steps: 4.94 (3.17) / 3.70 (2.89), 5.02 (2.77) / 4.69
(3.90), 4.96 (2.77) / 5.11 (3.60), 4.45 (2.67) / 4.15 (3.36); b=512: 18.5 /
17.7, 19.4 / 16.9, 17.9 / 17.7, 17.6 / 17.3.  Two-thread BLAS had the better
median in 6 of 8 b=64 pairs and in 4 of 4 at b=512; the split the better
minimum in 6 of 8: faster when its threads run undisturbed, more jitter
when they do not.  The bench reports medians, so the split stays opt-in:
``SYMNET_GEMM_SPLIT=auto`` on a machine where other processes load the
cores (there it avoids two-thread OpenBLAS's multi-x losses above).

The split's checks (``available``, BLAS's thread count) import numba, so
``function()`` of such a step in a fresh process imports it (+0.2-0.3 s
there, instead of at the first call).

In ONE process the comparison is wrong (``bench/w1_pool.py`` says why).
"""
import itertools
import os
import queue
import threading
import time
from itertools import repeat, starmap
from operator import call

import numpy as np

from . import step_pool, threads

__all__ = ["ENV", "DEFAULT", "MIN_MACS", "MIN_SHARED", "setting", "chosen",
           "large_dense_step", "available", "pdot", "ptail", "hold_blas"]

ENV = "SYMNET_GEMM_SPLIT"

#: what an unset ``SYMNET_GEMM_SPLIT`` means: off (module doc: the split
#: compiles nothing of its own, but its medians lost to two-thread BLAS at
#: a low load)
DEFAULT = "0"

#: products of fewer multiply-adds (m * n * k) stay one BLAS call: W1's
#: 10-wide ones (320,000 at b=64) are not worth a hand-off
MIN_MACS = 1 << 21

#: the smallest shared weight matrix (elements, static shape) of a ``Dot``
#: that makes a training step split under ``auto`` (``large_dense_step``): W1's
#: 784x500 and 500x500; the threaded update loops' bound, so a split step's
#: large weights also get the threaded update
MIN_SHARED = threads.TAIL_MIN_SIZE

#: chunks a thread of a split product or update takes when all threads are
#: on time (more would let a late thread take fewer; 2 measured no better
#: than 1, ``SPIN_S``)
CHUNKS = 1


def setting():
    """What ``SYMNET_GEMM_SPLIT`` asks for: True (``1``), False (``0``), or
    None for ``auto`` (the function's plan decides, ``chosen``); unset
    means ``DEFAULT``."""
    raw = os.environ.get(ENV, "").strip().lower() or DEFAULT
    if raw not in ("0", "1", "auto"):
        raise ValueError(f"{ENV}: expected 0, 1 or auto (split GEMMs over symnet's threads "
                         f"with BLAS at one thread), got {raw!r}")
    return None if raw == "auto" else raw == "1"


def chosen(plan, mode=None):
    """Whether the function of ``plan`` runs its products split, BLAS held
    at one thread and its large update loops threaded (module doc):
    ``SYMNET_GEMM_SPLIT=1``/``0``, or with ``auto`` (unset: ``DEFAULT``)
    a training step with a large dense product (``large_dense_step``) where
    numpy's BLAS runs two threads or more (``OPENBLAS_NUM_THREADS=1``, as an
    MPI rank per core sets, keeps the step serial); never with the njit
    driver, ``SYMNET_NUM_THREADS=1`` or a single CPU."""
    from . import njit_driver
    want = setting()
    if want is False or njit_driver.requested(mode) or threads.pool_threads() < 2:
        return False
    if want is None and not (large_dense_step(plan) and _blas_threads() >= 2):
        return False
    return available()


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
    """Whether the split can run here: OpenBLAS's thread count reachable
    (another BLAS could not be held at one thread; found once, by
    ``step_pool``, whose hold ``hold_blas`` takes)."""
    from . import step_pool
    return step_pool._blas() is not None


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


class _Job:
    """One split call: the chunks ``i < n`` of ``fn``, claimed one at a time
    by whichever thread asks first (``work``), so a thread that wakes late
    (its core busy with another process) finds less or nothing left, and
    the caller never waits for a thread that has not started: only for
    chunks that other threads are running.

    ``fn(*args, i, n)`` prepares chunk ``i`` (slices: no effect, so it may
    be run again) and returns its calls ``[(f, *f_args), ...]``; they run
    from one ``starmap`` together with the call that marks the chunk done,
    so an interrupt lands before all of them or after all of them."""
    __slots__ = ("fn", "args", "n", "claim", "fin", "ok", "acks", "done", "error", "linger")

    def __init__(self, fn, args, n, linger=True):
        self.fn, self.args, self.n, self.linger = fn, args, n, linger
        # itertools.count's next() is one C call: atomic under the GIL
        self.claim, self.fin = itertools.count(), itertools.count(1)
        self.ok = bytearray(n)           # chunks whose calls have all run, or failed
        self.acks = []                   # crew threads past this job
        self.done = threading.Lock()     # released by whoever ends the last chunk
        self.done.acquire()
        self.error = None

    def chunk(self, i):
        try:
            calls = self.fn(*self.args, i, self.n)
            calls.append((self.ok.__setitem__, i, 1))
            list(starmap(call, calls))
        except BaseException as exc:     # raised by the caller once all have ended
            if not isinstance(exc, KeyboardInterrupt):
                # a kernel's own error: some of the chunk's calls may have
                # written, so it is never run again (a Ctrl-C's re-run below),
                # and its error is the one raised, not a Ctrl-C's
                self.ok[i] = 1
                if isinstance(self.error, KeyboardInterrupt):
                    self.error = None
            if self.error is None:
                self.error = exc
        finally:
            if next(self.fin) == self.n:
                self.done.release()

    def work(self):
        """Run chunks until none is left."""
        n, claim = self.n, self.claim
        while True:
            i = next(claim)
            if i >= n:
                return
            self.chunk(i)


#: how long a crew thread keeps asking for its next job before it blocks
#: (yielding the GIL in between): the products and loops of one step come
#: 10-100 us apart, and a thread woken from a block reaches its chunk late
#: or not at all when the core is busy.  W1 b=64, alternating processes,
#: medians in ms (main's two-thread BLAS / no spin / 300 us / 1 ms): 5.6,
#: 4.5, 3.1, 5.0 / 6.1, 5.9, 5.3, 5.1 / 5.1, 5.0, 3.8, 5.8; later 5.8, 5.0,
#: 5.2 (main) / 5.6, 4.4, 4.1 (1 ms) / 5.1, 4.0, 4.0 (1 ms, ``CHUNKS`` 1)
SPIN_S = 1e-3


def _crew_loop(jobs):
    """A crew thread: the jobs posted to it, in order (``_crew_run``)."""
    get, nowait, clock, pause = jobs.get, jobs.get_nowait, time.perf_counter, time.sleep
    linger = True
    while True:
        job = None
        end = clock() + (SPIN_S if linger else 0.0)
        while clock() < end:
            try:
                job = nowait()
                break
            except queue.Empty:
                pause(0)
        if job is None:
            job = get()
        try:
            job.work()
        finally:
            job.acks.append(1)
        linger = job.linger


_CREW = []


def _crew(nt):
    """Queues of ``nt - 1`` crew threads, kept per process (a forked child
    makes its own: its parent's threads do not exist there)."""
    if not _CREW or _CREW[1] != os.getpid():
        _CREW[:] = [[], os.getpid()]
    queues = _CREW[0]
    while len(queues) < nt - 1:
        q = queue.SimpleQueue()
        threading.Thread(target=_crew_loop, args=(q,), name="symnet-split",
                         daemon=True).start()
        queues.append(q)
    return queues[:nt - 1]


def _crew_run(fn, nt, n, *args, linger=True):
    """Every chunk ``i < n`` of ``fn`` (``_Job``) run, on this thread and
    ``nt - 1`` crew threads, whichever claims it first; returns once all
    have ended, raising the first error of any.  A Ctrl-C on this thread is
    raised after every chunk has run (an update is written whole or not at
    all): a chunk it kept from running runs then.  With ``linger`` False
    the crew threads block right after this job instead of asking for the
    next for ``SPIN_S`` (``step_pool.tail``)."""
    job = _Job(fn, args, n, linger)
    helpers = _crew(nt)
    for q in helpers:
        q.put(job)
    try:
        job.work()
        escaped = None
    except BaseException as exc:         # a Ctrl-C between two chunks of this thread
        escaped = exc
    if escaped is None:
        job.done.acquire()
    else:                                # its chunk may never end: wait for the crew
        while len(job.acks) < len(helpers):
            time.sleep(1e-4)
    if escaped is None and isinstance(job.error, KeyboardInterrupt):
        escaped, job.error = job.error, None
    if escaped is not None and not all(job.ok):
        for i in range(n):
            if not job.ok[i]:
                job.chunk(i)
    if job.error is not None:
        raise job.error
    if escaped is not None:
        raise escaped


def _bounds(size, nt, t):
    """Thread ``t``'s ``[lo, hi)`` of ``size`` rows or columns: parts of
    whole 16-element blocks, so each thread's columns start on a 64-byte
    line of float32 (the last part takes the rest)."""
    part = ((size + nt - 1) // nt + 15) // 16 * 16
    return min(t * part, size), (size if t == nt - 1 else min((t + 1) * part, size))


def _gemm_part(a, b, out, by_rows, i, n):
    """Chunk ``i`` of ``out = a @ b``: its rows (``np.dot`` into a
    C-contiguous row block) or its columns (``np.matmul``, which hands a
    column block of a C array to BLAS as it is); both release the GIL."""
    lo, hi = _bounds(out.shape[0] if by_rows else out.shape[1], n, i)
    if lo >= hi:
        return []
    if by_rows:
        return [(np.dot, a[lo:hi], b, out[lo:hi])]
    return [(np.matmul, a, b[:, lo:hi], out[:, lo:hi])]


def pdot(a, b):
    """``np.dot(a, b)``; 2-D float32/float64 products of one dtype with at
    least ``MIN_MACS`` multiply-adds run as one BLAS call a thread of the
    step's pool (``step_pool.run``), each writing its part of the (new,
    C-contiguous) result: by rows when it has at least as many rows as
    columns, else by columns."""
    nt = threads.pool_threads()
    if nt < 2 or a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or \
            a.dtype not in (np.float32, np.float64):
        return np.dot(a, b)
    m, k = a.shape
    k2, n = b.shape
    if k != k2 or m * n * k < MIN_MACS:
        return np.dot(a, b)     # numpy's own error for mismatched shapes
    out = np.empty((m, n), a.dtype)
    _crew_run(_gemm_part, nt, CHUNKS * nt, a, b, out, m >= n)
    return out


def _row_part(args, dest, i, n):
    """``args`` of an elementwise update kernel cut to chunk ``i`` of ``n``
    of ``dest``'s rows: the arrays with ``dest``'s rows (same rank, same
    first length); the others (scalars as (1, 1) arrays, rows broadcast
    from a shorter rank) as they are."""
    n0 = dest.shape[0]
    lo, hi = n0 * i // n, n0 * (i + 1) // n
    return tuple(a[lo:hi] if isinstance(a, np.ndarray) and a.ndim == dest.ndim and
                 a.shape[0] == n0 else a for a in args)


def _lazy(entry):
    """Whether a tail call's arguments include a product not computed yet
    (``step_pool.LazyDot``)."""
    lazy = step_pool.LazyDot
    return any(isinstance(a, lazy) for a in entry)


def _settle(calls, rows, blocks):
    """``calls`` with each ``LazyDot`` computed whole now, before any update
    is written, unless every call reading it runs in row blocks (its index
    in ``blocks``) and neither of its operands shares memory with a value
    the tail writes (a product of a weight the tail updates must read it
    before the update)."""
    lazy, may = step_pool.LazyDot, np.may_share_memory
    dests = [c[1 + p] for c, pos in zip(calls, rows) for p in pos]
    done = {}
    for k, c in enumerate(calls):
        for a in c:
            if isinstance(a, lazy) and id(a) not in done and (
                    k not in blocks or any(map(may, repeat(a.a), dests))
                    or any(map(may, repeat(a.b), dests))):
                done[id(a)] = np.asarray(a)
    if not done:
        return calls
    return [tuple(done.get(id(a), a) for a in c) for c in calls]


def _lazy_rows(entry, dest, i, n):
    """Chunk ``i`` of ``n`` of ``dest``'s rows of a tail call reading
    ``LazyDot`` products: per block of ``step_pool.LAZY_ROWS`` rows, each
    product's rows computed into a buffer of this chunk (its transposed
    operand staged in another, ``LazyDot.staged``), then the kernel on the
    block (its other arrays cut as ``_row_part`` cuts them).  Which
    arguments are products, which are cut and which pass as they are is
    found once for the chunk, not per block (the chunk's Python runs under
    the GIL, which the other thread's chunk waits for)."""
    lazy = step_pool.LazyDot
    n0 = dest.shape[0]
    lo, hi = n0 * i // n, n0 * (i + 1) // n
    step = min(step_pool.LAZY_ROWS, max(hi - lo, 1))
    # per argument: a product (its buffer and stage), rows to cut, or as is
    kinds = []
    for a in entry:
        if isinstance(a, lazy):
            kinds.append((np.empty((step, a.shape[1]), a.dtype),
                          np.empty((step, a.a.shape[1]), a.dtype) if a.staged() else None))
        elif isinstance(a, np.ndarray) and a.ndim == dest.ndim and a.shape[0] == n0:
            kinds.append(True)
        else:
            kinds.append(False)
    out = []
    for r0 in range(lo, hi, step):
        r1 = min(hi, r0 + step)
        args = []
        for a, kind in zip(entry, kinds):
            if kind is True:
                args.append(a[r0:r1])
            elif kind is False:
                args.append(a)
            else:
                buf = kind[0][:r1 - r0]
                out.append((a.rows, r0, r1, buf, kind[1]))
                args.append(buf)
        out.append(tuple(args))
    return out


def _tail_part(calls, rows, split, i, n):
    """Chunk ``i`` of the update tail ``calls`` (``ptail``): its rows of
    each call in ``split``; chunk 0 also every other call."""
    out = []
    for k, entry in enumerate(calls):
        if k in split and _lazy(entry):
            out += _lazy_rows(entry, entry[1 + rows[k][0]], i, n)
        elif k in split:
            out.append((entry[0],) + _row_part(entry[1:], entry[1 + rows[k][0]], i, n))
        elif i == 0:
            out.append(entry)
    return out


def ptail(calls, rows, split, linger=True):
    """The update tail's kernel calls ``calls`` (``(kernel, *args)`` each),
    which write their results into their arguments (``rows[k]``: the
    positions of call ``k``'s results among its arguments); those in
    ``split`` (indices) cut into row blocks over the step's threads.  The
    list of their results, as ``list(starmap(call, calls))`` would give.
    An argument may be a product not computed yet (``step_pool.LazyDot``:
    a pool step's weight gradient), computed block by block with the rows
    of its call in ``split`` (``_lazy_rows``), else whole first.
    ``linger``: ``_crew_run``'s."""
    nt = threads.pool_threads()
    big = {k for k in split if calls[k][1 + rows[k][0]].shape[0] >= CHUNKS * nt}
    if any(map(_lazy, calls)):
        calls = _settle(calls, rows, big if nt >= 2 else ())
    if nt < 2 or not big:
        return list(starmap(call, calls))
    _crew_run(_tail_part, nt, CHUNKS * nt, calls, rows, big, linger=linger)
    # (a kernel of one result returns it bare, as the driver's line expects)
    return [c[1 + pos[0]] if len(pos) == 1 else tuple(c[1 + p] for p in pos)
            for c, pos in zip(calls, rows)]


# a pool step's tail with lazy products (step_pool.tail) runs ptail: registered
# here, so step_pool needs no import of this module
step_pool._TAIL[:] = [ptail]
