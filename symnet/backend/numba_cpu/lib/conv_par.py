"""The per-chunk convolution (``conv.py``'s GEMM layout for few output
positions) as the work of one thread among ``nt``: thread ``t`` runs
im2col, a one-thread BLAS GEMM (``cblas.gemm``) and the pass after it (the
transposed copy into the output with the epilogue, col2im, or the filter
gradient's sum) on its own chunks of images, one after another.
``conv_threads.py`` runs the ``nt`` calls at once on Python threads (the
functions release the GIL) with numpy's BLAS set to one thread.

Why: a layer with few output positions and many input channels (W7's
conv2: 8x8 outputs, 32x5x5 rows) spends a fifth of its time outside the
GEMM (im2col, col2im, the transposed copy), which stays on one thread when
BLAS threads the GEMM; split over images, all of it runs on every core, and
chunks of a few images keep each chunk's columns in that core's L2 between
im2col, the GEMM and the pass after it.

Chunk ``j`` is images ``j*m : (j+1)*m`` (the last one shorter); thread
``t`` runs chunks ``t, t+nt, ...``, each in its own column buffer
(``cols[t]``), so every result is written by one thread only; the filter
gradient keeps one accumulator per thread (``acc[t]``), summed by the
caller in thread order, so the result does not depend on timing.  Plain
``nogil`` functions, not ``prange`` loops: numba's parallel compile took
35 s cold for the three (against 4 s; cached after, but a first
convolution's wait).  ``im2col``/``col2im`` are called, not inlined: the
serial path's compiled loops serve (the same argument types).  A real module, compiled once per machine
(``cache=True``) and imported only when such a convolution first runs.
"""
import numba as nb
import numpy as np

from .cblas import gemm
from .conv_epilogue import _act, _sign, bias_act_inplace, bias_act_sign_inplace
from .conv_loops import col2im, im2col, im2col_images
from .pool_fused_loops import max_pool_argmax_image

__all__ = ["forward_chunks", "grad_weights_chunks", "grad_inputs_chunks",
           "forward_image_chunks", "grad_weights_image_chunks"]

_JIT = dict(cache=True, nogil=True)


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
                   bias, code, s, epi, keep, t):
    """Thread ``t``'s chunks of ``out`` (B, K, Ho*Wo), the convolution of
    ``x`` with the (K, C*kh*kw) filters ``wf``; ``cols``, ``res`` (nt, ...):
    each thread's column and GEMM-result buffers (``m`` images each); with ``epi``, ``act(c + bias)`` (``conv_epilogue``'s
    ``code``) and, with ``keep``, ``s`` (B, K, Ho*Wo) the sign of ``c + bias``."""
    b, k, npos, nt = x.shape[0], wf.shape[0], out.shape[2], cols.shape[0]
    for j in range(t, (b + m - 1) // m, nt):
        b0 = j * m
        n = min(m, b - b0)
        c = cols[t, :wf.shape[1] * n * npos].reshape((wf.shape[1], n * npos))
        r = res[t, :k * n * npos].reshape((k, n * npos))
        im2col(x[b0:b0 + n], c, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
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
def grad_weights_chunks(x, gz, acc, cols, g, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, t):
    """``acc[t]`` (C*kh*kw, K), zeroed by the caller: thread ``t``'s share of
    the filters' gradient ``sum_b cols_b @ gz_b.T`` (``gz`` (B, K, Ho*Wo));
    the caller sums ``acc`` over ``t``."""
    b, k, npos = x.shape[0], gz.shape[1], gz.shape[2]
    nt, rows = acc.shape[0], acc.shape[1]
    for j in range(t, (b + m - 1) // m, nt):
        b0 = j * m
        n = min(m, b - b0)
        c = cols[t, :rows * n * npos].reshape((rows, n * npos))
        gc = g[t, :k * n * npos].reshape((k, n * npos))
        im2col(x[b0:b0 + n], c, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
        _by_image(gz, b0, n, gc)
        # cols @ gz.T, not gz @ cols.T: OpenBLAS is many times slower on
        # the latter (a long inner dimension; conv.py)
        gemm(c, gc, acc[t], False, True, 1.0, 1.0)


@nb.njit(**_JIT)
def grad_inputs_chunks(wf, gz, out, cols, g, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, t):
    """Thread ``t``'s chunks of ``out`` (B, C, H, W), the input's gradient,
    ``col2im(wf.T @ gz_b)`` per chunk (``gz`` (B, K, Ho*Wo), ``wf`` (K, C*kh*kw))."""
    b, k, npos, nt = gz.shape[0], gz.shape[1], gz.shape[2], cols.shape[0]
    rows = wf.shape[1]
    for j in range(t, (b + m - 1) // m, nt):
        b0 = j * m
        n = min(m, b - b0)
        c = cols[t, :rows * n * npos].reshape((rows, n * npos))
        gc = g[t, :k * n * npos].reshape((k, n * npos))
        _by_image(gz, b0, n, gc)
        gemm(wf, gc, c, True, False, 1.0, 0.0)
        col2im(c, out[b0:b0 + n], kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)


# -- the per-image layout (many output positions: W4/W7's first layer) ------------
# Each chunk's columns are (n, C*kh*kw, Ho*Wo), one block per image, and each
# image's GEMM writes (or reads) that image's own (K, Ho*Wo) block of the
# output (or of gz) in place, as conv.py's serial per-image path does; the
# epilogue runs on the image's block right after its GEMM, still in L1/L2.


@nb.njit(cache=True, nogil=True, inline="always")
def _image_cols(x, cols, j, m, rows, npos, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, t):
    """Chunk ``j`` (images ``j*m`` on, ``m`` at most): ``(b0, n, c)``, ``c``
    its (n, rows, npos) columns filled in thread ``t``'s buffer."""
    b0 = j * m
    n = min(m, x.shape[0] - b0)
    c = cols[t, :n * rows * npos].reshape((n, rows, npos))
    im2col_images(x[b0:b0 + n], c, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
    return b0, n, c


@nb.njit(**_JIT)
def forward_image_chunks(x, wf, out, cols, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo,
                         bias, code, s, epi, keep, pooled, idx, wh, ww, scratch, t):
    """``forward_chunks`` in the per-image layout: ``out`` (B, K, Ho*Wo)
    written by one GEMM per image, then the epilogue over that image's
    block, then, with ``wh`` > 0, its max pooling by (wh, ww) windows that
    tile it into ``pooled`` and ``idx`` (B, K, Ho // wh, Wo // ww)
    (``Conv2dBiasActPool``: the block is still in cache).  With a
    non-empty ``scratch`` (nt, K, Ho*Wo) thread ``t`` makes each image's
    block in ``scratch[t]`` instead, and ``out`` is not written
    (``Conv2dBiasActPool.shape_only``)."""
    b, npos, nt = x.shape[0], out.shape[2], cols.shape[0]
    for j in range(t, (b + m - 1) // m, nt):
        b0, n, c = _image_cols(x, cols, j, m, wf.shape[1], npos, kh, kw, sh, sw, dh, dw, ph,
                               pw, ho, wo, t)
        for i in range(n):
            blk = scratch[t:t + 1] if scratch.shape[0] else out[b0 + i:b0 + i + 1]
            gemm(wf, c[i], blk[0], False, False, 1.0, 0.0)
            if epi and keep:      # the image's block, still in cache
                bias_act_sign_inplace(blk, bias, code, s[b0 + i:b0 + i + 1])
            elif epi:
                bias_act_inplace(blk, bias, code)
            if wh > 0:
                max_pool_argmax_image(blk[0].reshape((out.shape[1], ho, wo)),
                                      pooled[b0 + i], idx[b0 + i], wh, ww)


@nb.njit(**_JIT)
def grad_weights_image_chunks(x, gz, acc, cols, m, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, t):
    """``acc[t]`` (K, C*kh*kw), zeroed by the caller: thread ``t``'s share of
    ``sum_b gz_b @ cols_b.T`` in the per-image layout (``gz`` (B, K, Ho*Wo)
    read in place, one GEMM per image)."""
    b, npos, nt = x.shape[0], gz.shape[2], acc.shape[0]
    for j in range(t, (b + m - 1) // m, nt):
        b0, n, c = _image_cols(x, cols, j, m, acc.shape[2], npos, kh, kw, sh, sw, dh, dw, ph,
                               pw, ho, wo, t)
        for i in range(n):
            gemm(gz[b0 + i], c[i], acc[t], False, True, 1.0, 1.0)
