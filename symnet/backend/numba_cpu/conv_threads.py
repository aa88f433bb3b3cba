"""The per-chunk convolution (``conv.py``'s GEMM layout for layers with few
output positions: W7's conv2, 8x8 outputs, 32x5x5 column rows) with the
batch split over threads instead of each GEMM: every thread runs im2col,
a one-thread BLAS GEMM and the pass after it (``lib/conv_par.py``) on its
own chunks of images.  The per-image layout (many output positions: a
first layer) does the same with ``per_image`` where ``conv.SPLIT_PER_IMAGE``
says so (one GEMM per image into its own output block), and
``pool_fused.py`` splits the pooling gradient's images on the same pool.

``chunk_threads()`` says when, and on how many threads: when numpy's BLAS
would run its GEMMs on two or more threads (its default; ``symnet train``
sets one), on as many, unless ``SYMNET_NUM_THREADS=1`` or the convolution
is small.  Around the call numpy's BLAS is set to one thread (and set
back), so the threads' GEMMs run at once, each on its own core (a BLAS
call from two threads at once would queue on BLAS's thread pool).  The
threads are Python threads of a pool kept for the process (the loops
release the GIL): the same loops as one numba ``prange`` took 35 s to
compile cold against 13 s (the serial path's: 4 s; all at load 5.5).

Measured on W7's conv2 (batch 256, 2 cores; two BLAS threads against two
threads here, interleaved in one process, best of 5; every number under
contention): at load 5.4, forward 90-109 ms -> 59-64 ms, filter gradient
66-78 -> 51-70, input gradient 89-97 -> 53-63; the prange form at load
1.9: forward 23.5 -> 20-23 ms, filter gradient 23-26 -> 19-24, input
gradient 29-31 -> 21-23, and the forward alone on 1 and 2 threads 22 ->
11-12 ms.  W7's step (interleaved, medians of 8, load 9-11): 650 -> 448
ms, CPU time 263 -> 174 ms a step.  With BLAS threading each GEMM, the
fifth of the time outside it (im2col, col2im, the transposed copy into
the output) ran on one thread, and its chunks of 160 images left L2.

``conv.py`` sizes the chunks and allocates the threads' column buffers
(``conv._split``): each thread holds ``SERIAL_CHUNK`` bytes of columns at
most (in L2 between im2col, the GEMM and col2im), all of them within the
column budget, so a large batch still never allocates its whole column
matrix.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .threads import _requested

__all__ = ["chunk_threads", "forward", "grad_weights", "grad_inputs"]

_SETTER = []


def _blas_setter():
    """numpy's OpenBLAS ``set_num_threads``, or None (not found)."""
    if not _SETTER:
        from .lib import cblas
        _SETTER.append(cblas.openblas_threads_fn("set"))
    return _SETTER[0]


#: bytes of a batch's whole column matrix below which the serial path
#: runs: waking the pool's thread and BLAS's two thread-count calls cost
#: tens of microseconds (more when the other core is busy), which a
#: convolution this small does not win back (a guess, as
#: ``conv.THREAD_MIN_BYTES``; not measured)
MIN_BYTES = 1 << 20


def chunk_threads(blas, nbytes):
    """How many threads the per-chunk convolution whose whole column matrix
    would hold ``nbytes`` runs on when numpy's BLAS runs ``blas`` threads
    now (``conv.blas_threads()``; None: unknown): 0 (the serial path of
    ``conv.py``) unless that is two or more, its thread count can be set,
    ``SYMNET_NUM_THREADS`` is not 1 and ``nbytes`` is at least
    ``MIN_BYTES``; at most the CPUs this process may run on."""
    if blas is None or blas < 2 or nbytes < MIN_BYTES or _requested() == 1 \
            or _blas_setter() is None:
        return 0
    n = min(blas, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1)
    return n if n >= 2 else 0


_POOL = []


def _pool(n):
    """A thread pool of at least ``n`` workers, kept for the process.  A
    forked child makes its own: the parent's workers do not exist there,
    and work handed to them would wait forever."""
    if not _POOL or _POOL[0][1] != os.getpid() or _POOL[0][0]._max_workers < n:
        _POOL[:] = [(ThreadPoolExecutor(max_workers=n, thread_name_prefix="symnet-conv"),
                     os.getpid())]
    return _POOL[0][0]


def _run(fn, blas, nt, *args):
    """``fn(*args, t)`` for ``t`` in ``range(nt)`` at once (``t = 0`` on this
    thread), with numpy's BLAS on one thread, then on ``blas`` again (also
    on error; left as it is where it cannot be set: tests).  An error of
    any call is raised once all have ended."""
    setter = _blas_setter() if blas is not None else None
    if setter is not None:
        setter(1)
    try:
        pool = _pool(max(1, nt - 1))
        others = [pool.submit(fn, *args, t) for t in range(1, nt)]
        try:
            fn(*args, 0)
        finally:
            for f in others:
                f.result()
    finally:
        if setter is not None:
            setter(blas)


def _loops():
    """``lib/conv_par.py``, imported on first use (building a graph never
    imports numba)."""
    from .lib import conv_par
    return conv_par


def forward(x, wf, out, cols, m, loop, blas, epilogue, per_image=False):
    """``out`` (B, K, Ho, Wo): ``x`` convolved with the flat filters ``wf``
    on ``cols.shape[0]`` threads, ``m`` images a chunk (``cols``: each
    thread's column buffer; ``loop``: ``conv._loop_args``; ``blas``: BLAS's
    thread count to restore); ``epilogue`` (``conv_fused._Epilogue``: ``b``,
    ``code``, ``keep``) applied in the same pass, its sign array set on it."""
    b, k = out.shape[:2]
    out3 = out.reshape(b, k, -1)
    if epilogue is None:
        bias, code, keep, s = np.zeros(k, wf.dtype), 0, False, None
    else:
        bias, code, keep = epilogue.b, epilogue.code, epilogue.keep
        s = np.empty(out.shape, np.int8) if keep else None
        epilogue.s = s
    s3 = np.empty((1, 1, 1), np.int8) if s is None else s.reshape(out3.shape)
    x = np.ascontiguousarray(x, wf.dtype)
    if per_image:     # (``lib/conv_par.py``: the GEMMs write ``out`` in place)
        _run(_loops().forward_image_chunks, blas, cols.shape[0], x, wf, out3, cols, m, *loop,
             bias, code, s3, epilogue is not None, keep)
        return out
    res = np.empty((cols.shape[0], k * m * out3.shape[2]), wf.dtype)
    _run(_loops().forward_chunks, blas, cols.shape[0], x, wf,
         out3, cols, res, m, *loop, bias, code, s3, epilogue is not None, keep)
    return out


def grad_weights(x, gz3, cols, m, loop, blas, per_image=False):
    """The filters' gradient as a (C*kh*kw, K) matrix, or with ``per_image``
    (K, C*kh*kw) (``gz3``: (B, K, Ho*Wo); the other arguments as
    ``forward``'s)."""
    nt, k, npos = cols.shape[0], gz3.shape[1], gz3.shape[2]
    rows = cols.shape[1] // (m * npos)
    if per_image:
        acc = np.zeros((nt, k, rows), gz3.dtype)
        _run(_loops().grad_weights_image_chunks, blas, nt, np.ascontiguousarray(x, gz3.dtype),
             gz3, acc, cols, m, *loop)
        return acc.sum(axis=0)
    acc = np.zeros((nt, rows, k), gz3.dtype)
    g = np.empty((nt, k * m * npos), gz3.dtype)
    _run(_loops().grad_weights_chunks, blas, nt, np.ascontiguousarray(x, gz3.dtype), gz3, acc,
         cols, g, m, *loop)
    return acc.sum(axis=0)


def grad_inputs(wf, gz3, out, cols, m, loop, blas):
    """``out`` (B, C, H, W): the input's gradient (``gz3``: (B, K, Ho*Wo);
    the other arguments as ``forward``'s)."""
    k, npos = gz3.shape[1], gz3.shape[2]
    g = np.empty((cols.shape[0], k * m * npos), wf.dtype)
    _run(_loops().grad_inputs_chunks, blas, cols.shape[0], wf, gz3, out, cols, g, m, *loop)
    return out
