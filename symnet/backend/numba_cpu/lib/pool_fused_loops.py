"""The compiled loop of ``MaxPoolBiasActGrad`` (``numba_cpu/pool_fused.py``):
max pooling's gradient and the convolution epilogue's gradient over the
images ``t, t + nt, ...`` of the batch, so that ``nt`` threads
(``conv_threads._run``) share one call, each summing the bias gradient of
its images into its own row of ``acc`` (summed by the caller in thread
order: the result does not depend on timing).  A real module, compiled once
per machine (``cache=True``) and imported only when the op first runs.

Each (image, channel) plane is done whole before the next: the pooling
gradient written into it (every window writes all its positions; rows and
columns no window covers get 0), then, while the plane is in L1, the
activation's gradient over it in place with the bias sum (float64), as the
generated kernel this replaces did (2x2 windows, every CNN here, with the
window as constants in a copy of the body).
"""
import numba as nb
import numpy as np

from .cblas import gemm
from .conv_epilogue import _FLAGS, _grad
from .conv_loops import im2col_images

__all__ = ["pool_bias_act_grad_images", "pool_grad_weights_images", "max_pool_argmax_image"]


@nb.njit(**_FLAGS)
def _plane_grad(g, s, code):
    """``g[p]`` (one plane, flat) made the activation's gradient of itself
    from the sign ``s[p]``, in place; returns the plane's sum (float64).

    A function of its own, not inlined into ``_images``: inlined there,
    beside the scatter's loops, the pair ran 1.52 ms on W4's layer against
    0.86 ms called like this (one thread, 64 images, best of 20; the
    scatter alone 0.35, this loop alone 0.47: LLVM compiled the inlined
    nest worse than the two loops apart)."""
    half, one, zero = g.dtype.type(0.5), g.dtype.type(1), g.dtype.type(0)
    nan = g.dtype.type(np.nan)
    tot = 0.0
    for p in range(g.shape[0]):
        v = _grad(g[p], s[p], code, half, one, zero, nan)
        g[p] = v
        tot += v
    return tot


@nb.njit(inline="always", **_FLAGS)
def _images(idx, gzb, s, gc, gcb, acc, code, t, nt, wh, ww):
    n_img, k_ch, h, w = gc.shape
    oh, ow = gzb.shape[2], gzb.shape[3]
    bits0 = gcb.dtype.type(0)
    # the second pass runs over each plane as one flat row (vectorized)
    gf = gc.reshape((n_img * k_ch, h * w))
    sf = s.reshape((n_img * k_ch, h * w))
    for n in range(t, n_img, nt):
        for k in range(k_ch):
            for i in range(oh):
                ix, g = idx[n, k, i], gzb[n, k, i]
                for a in range(wh):
                    row = gcb[n, k, i * wh + a]
                    for j in range(ow):
                        kk, gv = np.int64(ix[j]) - a * ww, g[j]
                        for b in range(ww):
                            # the offset's position keeps gz's bits, the
                            # others get +0.0: an AND with an all-ones or
                            # all-zeros mask, no branch (a select here was
                            # compiled as one, mispredicted on real offsets)
                            row[j * ww + b] = gv & -gcb.dtype.type(kk == b)
            for r in range(h):
                for c in range(ow * ww if r < oh * wh else 0, w):
                    gcb[n, k, r, c] = bits0
            m = n * k_ch + k
            acc[t, k] += _plane_grad(gf[m], sf[m], code)


@nb.njit(**_FLAGS)
def pool_bias_act_grad_images(idx, gzb, s, gc, gcb, acc, wh, ww, code, nt, t):
    """``gc[n]`` for the images ``n = t, t + nt, ...`` (``gc`` (N, K, H, W),
    C-contiguous, written whole): the activation's gradient
    (``conv_epilogue``'s ``code``, from the int8 sign ``s``) of the gradient
    of a max pooling by ``(wh, ww)`` windows that tile the input (``idx``:
    each window's offset of its maximum, ``gz``: the pooled output's
    gradient); ``acc[t, k]`` (float64, zeroed by the caller) gains the sum
    of ``gc[n, k]`` over them.

    2x2 windows run a copy of the loops with the window as constants: with
    it as run-time values the loops ran 3-4x slower (W4's layer, thread CPU
    time, best of 40: 2.6-3.4 against 0.73-0.76 ms, the generated kernel
    this replaces 0.73).  The activation stays a run-time value (LLVM
    unswitches its test): a copy per activation too made no measured
    difference and tripled the cold compile (61 s against about 9-20 s
    at load 6; compiled once per machine).

    ``gz`` and ``gc`` come also as integer views of their bits (``gzb``,
    ``gcb``): the scatter writes ``gz``'s bits ANDed with an all-ones or
    all-zeros mask.  Its select (``gz if offset else 0``) was compiled as
    a branch, mispredicted about once a window on real offsets: W4's
    layer (64x32x24x24 float32, offsets of a real max pooling), one
    thread, medians of 100 calls, two alternating runs: 3.11 / 3.13 ms
    before, 1.05 / 1.01 ms after (2 threads 1.97 / 1.60 -> 0.86 / 0.92)."""
    if wh == 2 and ww == 2:
        _images(idx, gzb, s, gc, gcb, acc, code, t, nt, 2, 2)
    else:
        _images(idx, gzb, s, gc, gcb, acc, code, t, nt, wh, ww)


@nb.njit(**_FLAGS)
def pool_grad_weights_images(x, idx, gzb, s, gc, gcb, accb, accw, cols, wh, ww, code,
                             kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, nt, t):
    """``PoolConvGradWeights`` over the images ``n = t, t + nt, ...``: each
    image's ``gc`` (``pool_bias_act_grad_images``' loops on that image
    alone) into this thread's buffer ``gc[t]`` (1, K, Ho, Wo) (``gcb``: its
    bits), the bias sums into ``accb[t]`` (float64), then the image's
    columns into ``cols[t]`` (1, C*kh*kw, Ho*Wo) and its GEMM added to
    ``accw[t]`` (K, C*kh*kw): ``gc`` is read back while in cache, and never
    written whole.  The caller zeroes ``accb`` and ``accw`` and sums them
    over ``t`` in thread order."""
    k = gc.shape[2]
    g2 = gc[t].reshape((k, ho * wo))
    for n in range(t, x.shape[0], nt):
        if wh == 2 and ww == 2:      # (constants: as pool_bias_act_grad_images)
            _images(idx[n:n + 1], gzb[n:n + 1], s[n:n + 1], gc[t], gcb[t], accb[t:t + 1],
                    code, 0, 1, 2, 2)
        else:
            _images(idx[n:n + 1], gzb[n:n + 1], s[n:n + 1], gc[t], gcb[t], accb[t:t + 1],
                    code, 0, 1, wh, ww)
        im2col_images(x[n:n + 1], cols[t], kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
        gemm(g2, cols[t, 0], accw[t], False, True, 1.0, 1.0)


@nb.njit(inline="always", **_FLAGS)
def _max_pool_planes(c, out, idx, wh, ww):
    nan = out.dtype.type(np.nan)
    none = idx.dtype.type(wh * ww)
    for k in range(c.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                r0, c0 = i * wh, j * ww
                m = c[k, r0, c0]
                at = 0
                seen = m != m
                # as MaxPoolArgmax's kernel (numba_cpu/pool.py): the first
                # strictly greater value moves the max (selects, not
                # branches), a NaN anywhere gives NaN and the 'none' offset
                for a in range(wh):
                    for b in range(ww):
                        v = c[k, r0 + a, c0 + b]
                        up = v > m
                        m = v if up else m
                        at = a * ww + b if up else at
                        seen = seen | (v != v)
                out[k, i, j] = nan if seen else m
                idx[k, i, j] = none if seen else idx.dtype.type(at)


@nb.njit(**_FLAGS)
def max_pool_argmax_image(c, out, idx, wh, ww):
    """Max pooling of one image's planes ``c`` (K, H, W) by ``(wh, ww)``
    windows that tile them (stride = window, no padding, the rows and
    columns no window covers ignored) into ``out`` and the offsets of each
    window's first maximum into ``idx`` (both (K, H // wh, W // ww)), as
    ``MaxPoolArgmax``; 2x2 windows with the window as constants."""
    if wh == 2 and ww == 2:
        _max_pool_planes(c, out, idx, 2, 2)
    else:
        _max_pool_planes(c, out, idx, wh, ww)
