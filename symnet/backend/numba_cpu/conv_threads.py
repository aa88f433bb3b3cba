"""The per-chunk convolution (``conv.py``'s GEMM layout for layers with few
output positions: W7's conv2, 8x8 outputs, 32x5x5 column rows) with the
batch split over threads instead of each GEMM: every thread runs im2col,
a one-thread BLAS GEMM and the pass after it (``lib/conv_par.py``) on its
own chunks of images.  The per-image layout (many output positions: a
first layer) does the same with ``per_image`` where ``conv.SPLIT_PER_IMAGE``
says so (one GEMM per image into its own output block), and
``pool_fused.py`` splits the pooling gradient's images on the same pool.

``chunk_threads()`` says when, and on how many threads: on the step's
pool (``threads.pool_threads()``: the CPUs this process may run on, or
``SYMNET_NUM_THREADS``), whatever numpy's BLAS runs (``symnet train``
sets one), unless the convolution is small or numpy's BLAS thread count
cannot be set.  Meanwhile numpy's BLAS runs one thread (``step_pool.run``;
a step using the pool holds it there from its first line): the threads'
GEMMs run at once, each on its own core (a BLAS call from two threads at
once would queue on BLAS's thread pool), and no BLAS worker spins on the
core our second thread needs (``threads.py``).  The threads are Python
threads of the process's pool (``step_pool.py``; the loops release the
GIL): the same loops as one numba ``prange`` took 35 s to compile cold
against 13 s (the serial path's: 4 s; all at load 5.5).

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
import numpy as np

from . import step_pool, threads

__all__ = ["chunk_threads", "forward", "grad_weights", "grad_inputs", "MIN_BYTES"]


#: bytes of a batch's whole column matrix below which the serial path
#: runs: handing work to the pool costs ~30 us (``step_pool.DOT_MIN_MACS``'s
#: comment), more when the other core is busy.  Measured with BLAS held at
#: one thread, 2 cores under load 3-4 from other work (minimums of 5 x 20+
#: calls, serial against split, us): W7's conv2 geometry at 0.2 MB of
#: columns forward 119 -> 157, at 1 MB 426 -> 470, at 2 MB 819 -> 853; W7's
#: conv1 at 1 MB 212 -> 263, 2 MB 394 -> 435: with no idle core the split
#: costs its hand-over and gains nothing at these sizes, while whole steps
#: (W4's 3.7 MB conv1, below and ``conv.SPLIT_PER_IMAGE``) gain.  With an
#: idle core a 1 MB convolution's ~0.4 ms would halve for ~30 us, so 1 MiB
#: stays (not measured on an idle machine: none was idle this round)
MIN_BYTES = 1 << 20


def chunk_threads(nbytes):
    """How many threads a convolution whose whole column matrix would hold
    ``nbytes`` splits over: 0 (the serial path) below ``MIN_BYTES``, with a
    pool of one thread, or where numpy's BLAS thread count cannot be set
    (each thread's GEMM could not be made one-thread); else
    ``threads.pool_threads()``."""
    if nbytes < MIN_BYTES:
        return 0
    n = threads.pool_threads()
    return n if n >= 2 and step_pool.blas_count() is not None else 0


def _run(fn, nt, *args):
    """``fn(*args, t)`` for ``t`` in ``range(nt)`` on the pool (``step_pool.run``)."""
    step_pool.run(fn, nt, *args)


def _loops():
    """``lib/conv_par.py``, imported on first use (building a graph never
    imports numba)."""
    from .lib import conv_par
    return conv_par


def forward(x, wf, out, cols, m, loop, epilogue, per_image=False):
    """``out`` (B, K, Ho, Wo): ``x`` convolved with the flat filters ``wf``
    on ``cols.shape[0]`` threads, ``m`` images a chunk (``cols``: each
    thread's column buffer; ``loop``: ``conv._loop_args``); ``epilogue``
    (``conv_fused._Epilogue``: ``b``, ``code``, ``keep``) applied in the
    same pass, its sign array set on it."""
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
        # with ``epilogue.pool`` ((wh, ww), the offsets' dtype: conv_fused's
        # Conv2dBiasActPool) each image is max pooled right after its
        # epilogue, while in cache; ``epilogue.pooled`` says it was
        pool = getattr(epilogue, "pool", None)
        if pool is None:
            pooled, idx, ws = np.empty((1, 1, 1, 1), wf.dtype), np.empty((1, 1, 1, 1), np.uint8), \
                (0, 0)
        else:
            ws = pool[0]
            shape = (b, k, loop[-2] // ws[0], loop[-1] // ws[1])
            pooled, idx = np.empty(shape, wf.dtype), np.empty(shape, pool[1])
            epilogue.pooled = (pooled, idx)
        # with ``epilogue.shape_only`` each image's output goes to a
        # buffer of its thread (``out`` is never written)
        own = pool is not None and epilogue.shape_only
        scratch = np.empty((cols.shape[0] if own else 0, k, out3.shape[2]), wf.dtype)
        _run(_loops().forward_image_chunks, cols.shape[0], x, wf, out3, cols, m, *loop,
             bias, code, s3, epilogue is not None, keep, pooled, idx, *ws, scratch)
        return out
    res = np.empty((cols.shape[0], k * m * out3.shape[2]), wf.dtype)
    _run(_loops().forward_chunks, cols.shape[0], x, wf,
         out3, cols, res, m, *loop, bias, code, s3, epilogue is not None, keep)
    return out


def grad_weights(x, gz3, cols, m, loop, per_image=False):
    """The filters' gradient as a (C*kh*kw, K) matrix, or with ``per_image``
    (K, C*kh*kw) (``gz3``: (B, K, Ho*Wo); the other arguments as
    ``forward``'s)."""
    nt, k, npos = cols.shape[0], gz3.shape[1], gz3.shape[2]
    rows = cols.shape[1] // (m * npos)
    if per_image:
        acc = np.zeros((nt, k, rows), gz3.dtype)
        _run(_loops().grad_weights_image_chunks, nt, np.ascontiguousarray(x, gz3.dtype),
             gz3, acc, cols, m, *loop)
        return acc.sum(axis=0)
    acc = np.zeros((nt, rows, k), gz3.dtype)
    g = np.empty((nt, k * m * npos), gz3.dtype)
    _run(_loops().grad_weights_chunks, nt, np.ascontiguousarray(x, gz3.dtype), gz3, acc,
         cols, g, m, *loop)
    return acc.sum(axis=0)


def grad_inputs(wf, gz3, out, cols, m, loop):
    """``out`` (B, C, H, W): the input's gradient (``gz3``: (B, K, Ho*Wo);
    the other arguments as ``forward``'s)."""
    k, npos = gz3.shape[1], gz3.shape[2]
    g = np.empty((cols.shape[0], k * m * npos), wf.dtype)
    _run(_loops().grad_inputs_chunks, cols.shape[0], wf, gz3, out, cols, g, m, *loop)
    return out
