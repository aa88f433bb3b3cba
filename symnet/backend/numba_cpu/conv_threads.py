"""The per-chunk convolution (``conv.py``'s GEMM layout for layers with few
output positions: W7's conv2, 8x8 outputs, 32x5x5 column rows) with the
batch split over threads instead of each GEMM: every thread runs im2col,
a one-thread BLAS GEMM and the pass after it (``lib/conv_par.py``) on its
own chunks of images.

``chunk_threads()`` says when, and on how many threads: when numpy's BLAS
would run its GEMMs on two or more threads (its default; ``symnet train``
sets one), on as many of numba's threads, unless ``SYMNET_NUM_THREADS=1``.
Around the call numpy's BLAS is set to one thread (and set back), so two
GEMMs run at once, each on its own core.

Measured on W7's conv2 (batch 256, two BLAS threads against two numba
threads, the 2-core machine loaded by 2-3 other processes, interleaved,
best of 5): forward 47-60 ms -> 28-36 ms, filter gradient 40-52 -> 31-32
ms, input gradient 55-62 -> 31-36 ms.  With BLAS threading each GEMM, the
third of the time outside it (im2col, col2im, the transposed copy into the
output) ran on one thread.

Each thread holds ``SERIAL_CHUNK`` bytes of columns at most (``conv.py``:
they stay in L2 between im2col, the GEMM and col2im), and the column
buffers of all threads together fit the column budget, so a large batch
still never allocates its whole column matrix.
"""
import ctypes

import numpy as np

from . import conv
from .threads import _requested

__all__ = ["chunk_threads", "forward", "grad_weights", "grad_inputs"]

_SETTER = []


def _blas_setter():
    """numpy's OpenBLAS ``set_num_threads``, or None (not found)."""
    if not _SETTER:
        found = None
        from .lib import cblas
        if cblas.AVAILABLE:
            try:
                lib = ctypes.CDLL(cblas.LIBRARY)
            except OSError:
                lib = None
            for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                         "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
                found = getattr(lib, name, None) if lib is not None else None
                if found is not None:
                    found.argtypes, found.restype = [ctypes.c_int], None
                    break
        _SETTER.append(found)
    return _SETTER[0]


def chunk_threads():
    """How many threads the per-chunk convolution runs on: 0 (the serial
    path of ``conv.py``) unless BLAS runs two or more threads now, its
    thread count can be set, numba has two or more threads and
    ``SYMNET_NUM_THREADS`` is not 1."""
    blas = conv.blas_threads()
    if blas is None or blas < 2 or _requested() == 1 or _blas_setter() is None:
        return 0
    import numba
    n = min(blas, numba.get_num_threads())
    return n if n >= 2 else 0


def _run(fn, *args):
    """``fn(*args)`` with numpy's BLAS on one thread (restored after, also
    on error)."""
    setter, before = _blas_setter(), conv.blas_threads()
    setter(1)
    try:
        fn(*args)
    finally:
        setter(before)


def _buffers(geo, b, c, nt, dtype, budget):
    """``(m, cols)``: images per chunk and the (nt, C*kh*kw*m*Ho*Wo) column
    buffers of the ``nt`` threads, all of them within the budget."""
    rows, npos = c * geo.k[0] * geo.k[1], geo.out[0] * geo.out[1]
    budget = conv.COLUMN_BUDGET if budget is None else budget
    per_thread = max(1, min(budget // nt, conv.SERIAL_CHUNK))
    m = conv.column_chunk(-(-b // nt), rows, npos, np.dtype(dtype).itemsize, per_thread)
    return m, conv._alloc((nt, rows * m * npos), dtype)


def _loops():
    from .lib import conv_par
    return conv_par


def forward(x, wf, out, geo, nt, budget, epilogue):
    """``out`` (B, K, Ho, Wo): ``x`` convolved with the flat filters ``wf``;
    ``epilogue`` (``conv_fused._Epilogue``: ``b``, ``code``, ``keep``)
    applied in the same pass, its sign array set on it."""
    b, c = x.shape[:2]
    m, cols = _buffers(geo, b, c, nt, wf.dtype, budget)
    out3 = out.reshape(b, out.shape[1], -1)
    if epilogue is None:
        bias, code, keep, s = np.zeros(out.shape[1], wf.dtype), 0, False, None
    else:
        bias, code, keep = epilogue.b, epilogue.code, epilogue.keep
        s = np.empty(out.shape, np.int8) if keep else None
        epilogue.s = s
    s3 = np.empty((1, 1, 1), np.int8) if s is None else s.reshape(out3.shape)
    res = np.empty((nt, out.shape[1] * m * geo.out[0] * geo.out[1]), wf.dtype)
    _run(_loops().forward_chunks, np.ascontiguousarray(x, wf.dtype), wf, out3, cols, res,
         m, *conv._loop_args(geo), bias, code, s3, epilogue is not None, keep)
    return out


def grad_weights(x, gz3, geo, nt, dtype, budget):
    """The filters' gradient as a (C*kh*kw, K) matrix (``gz3``: (B, K, Ho*Wo))."""
    b, c = x.shape[:2]
    m, cols = _buffers(geo, b, c, nt, dtype, budget)
    acc = np.zeros((nt, cols.shape[1] // (m * gz3.shape[2]), gz3.shape[1]), dtype)
    g = np.empty((nt, gz3.shape[1] * m * gz3.shape[2]), dtype)
    _run(_loops().grad_weights_chunks, np.ascontiguousarray(x, dtype), gz3, acc, cols, g, m,
         *conv._loop_args(geo))
    return acc.sum(axis=0)


def grad_inputs(wf, gz3, out, geo, nt, budget):
    """``out`` (B, C, H, W): the input's gradient (``gz3``: (B, K, Ho*Wo))."""
    b, c = out.shape[:2]
    m, cols = _buffers(geo, b, c, nt, wf.dtype, budget)
    g = np.empty((nt, gz3.shape[1] * m * gz3.shape[2]), wf.dtype)
    _run(_loops().grad_inputs_chunks, wf, gz3, out, cols, g, m, *conv._loop_args(geo))
    return out
