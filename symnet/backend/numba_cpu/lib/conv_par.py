"""The per-chunk convolution (``conv.py``'s layout for few output positions)
with its chunks of images split over numba's threads, each thread running
im2col, one single-threaded BLAS GEMM (``cblas.gemm``) and the pass after
it (the transposed copy into the output, col2im, or the filter gradient's
sum) on its own chunks, one after another.

Why: a layer with few output positions and many input channels (W7's
conv2: 8x8 outputs, 32x5x5 rows) spends a third of its time outside the
GEMM (im2col, col2im, the transposed copy), which stays on one thread when
BLAS threads the GEMM; split over images, all of it runs on every core, and
chunks of a few images keep each chunk's columns in that core's L2 between
im2col, the GEMM and the pass after it.  ``conv.py`` sets numpy's BLAS to
one thread around these calls (a BLAS call from two threads at once would
queue on its thread pool).

Chunk ``j`` is images ``j*m : (j+1)*m`` (the last one shorter).  Threads
take chunks in turn (thread ``t`` runs ``t, t+nt, ...``), each with its own
column buffer, so every result is written by one thread only; the filter
gradient keeps one accumulator per thread, summed at the end in thread
order, so the result does not depend on timing.  A real module, compiled
once per machine (``cache=True``) and imported only when such a
convolution first runs.
"""
import numba as nb
import numpy as np

from .cblas import gemm
from .conv_epilogue import _act, _sign
from .conv_loops import _chunk_cols, _plain, col2im

__all__ = ["forward_chunks", "grad_weights_chunks", "grad_inputs_chunks"]

_JIT = dict(cache=True, nogil=True, parallel=True)


@nb.njit(cache=True, nogil=True, inline="always")
def _fill(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """im2col of the images ``x`` into ``cols`` (``conv_loops.im2col``,
    its loop nest inlined here with a constant ``plain``)."""
    if _plain(sh, sw, dh, dw, ph, pw):
        _chunk_cols(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, True)
    else:
        _chunk_cols(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, False)


@nb.njit(cache=True, nogil=True, inline="always")
def _by_image(gz, b0, n, buf):
    """``buf[k, i*P + p] = gz[b0 + i, k, p]`` for the chunk's ``n`` images
    (``gz`` (B, K, P)): the (K, n*P) operand of the chunk's GEMM."""
    npos = gz.shape[2]
    for k in range(gz.shape[1]):
        for i in range(n):
            for p in range(npos):
                buf[k, i * npos + p] = gz[b0 + i, k, p]


@nb.njit(**_JIT)
def forward_chunks(x, wf, out, cols, res, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo,
                   bias, code, s, epi, keep):
    """``out`` (B, K, Ho*Wo) is the convolution of ``x`` with the (K, C*kh*kw)
    filters ``wf``; ``cols``, ``res`` (nt, ...): each thread's column
    and GEMM-result buffers (``m`` images each); with ``epi``, ``act(c + bias)`` (``conv_epilogue``'s
    ``code``) and, with ``keep``, ``s`` (B, K, Ho*Wo) the sign of ``c + bias``."""
    b, k, npos, nt = x.shape[0], wf.shape[0], out.shape[2], cols.shape[0]
    nchunks = (b + m - 1) // m
    for t in nb.prange(nt):
        for j in range(t, nchunks, nt):
            b0 = j * m
            n = min(m, b - b0)
            c = cols[t, :wf.shape[1] * n * npos].reshape((wf.shape[1], n * npos))
            r = res[t, :k * n * npos].reshape((k, n * npos))
            _fill(x[b0:b0 + n], c, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
            gemm(wf, c, r, False, False, 1.0, 0.0)
            for kk in range(k):
                bk = bias[kk]
                for i in range(n):
                    for p in range(npos):
                        v = r[kk, i * npos + p]
                        if epi:
                            v = v + bk
                            if keep:
                                s[b0 + i, kk, p] = _sign(v)
                            v = _act(v, code)
                        out[b0 + i, kk, p] = v


@nb.njit(**_JIT)
def grad_weights_chunks(x, gz, acc, cols, g, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``acc[t]`` (C*kh*kw, K), zeroed by the caller: thread ``t``'s share of
    the filters' gradient ``sum_b cols_b @ gz_b.T`` (``gz`` (B, K, Ho*Wo));
    the caller sums ``acc`` over ``t``."""
    b, k, npos = x.shape[0], gz.shape[1], gz.shape[2]
    nt = acc.shape[0]
    nchunks = (b + m - 1) // m
    rows = acc.shape[1]
    for t in nb.prange(nt):
        for j in range(t, nchunks, nt):
            b0 = j * m
            n = min(m, b - b0)
            c = cols[t, :rows * n * npos].reshape((rows, n * npos))
            gc = g[t, :k * n * npos].reshape((k, n * npos))
            _fill(x[b0:b0 + n], c, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
            _by_image(gz, b0, n, gc)
            # cols @ gz.T, not gz @ cols.T: OpenBLAS is many times slower
            # on the latter (a long inner dimension; conv.py)
            gemm(c, gc, acc[t], False, True, 1.0, 1.0)


@nb.njit(**_JIT)
def grad_inputs_chunks(wf, gz, out, cols, g, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``out`` (B, C, H, W): the input's gradient, ``col2im(wf.T @ gz_b)``
    per chunk (``gz`` (B, K, Ho*Wo), ``wf`` (K, C*kh*kw))."""
    b, k, npos, nt = gz.shape[0], gz.shape[1], gz.shape[2], cols.shape[0]
    nchunks = (b + m - 1) // m
    rows = wf.shape[1]
    for t in nb.prange(nt):
        for j in range(t, nchunks, nt):
            b0 = j * m
            n = min(m, b - b0)
            c = cols[t, :rows * n * npos].reshape((rows, n * npos))
            gc = g[t, :k * n * npos].reshape((k, n * npos))
            _by_image(gz, b0, n, gc)
            gemm(wf, gc, c, True, False, 1.0, 0.0)
            col2im(c, out[b0:b0 + n], kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
