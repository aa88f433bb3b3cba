"""Direct convolution in the numba backend: a 2-D convolution whose filters
have few taps (``C_in * kh * kw <= DIRECT_MAX_TAPS``, ungrouped) computed
straight from the (padded) input by the loops of ``lib/conv_direct_loops.py``,
with no column matrix: the forward with the epilogue of ``Conv2dBiasAct``
(bias, activation, int8 sign) in the same pass, and the filter gradient
(with the bias gradient's sum in the same pass, for callers that want it).
``conv.py`` and ``conv_fused.py`` route here by ``use_direct``.

Routing threshold, measured (thread CPU time, one BLAS thread, 2 shared
cores under load from other developers, best of 5 x 20 calls, 64 images,
32 filters, this machine: AMD EPYC with AVX-512, OpenBLAS), direct against
im2col + GEMM in ms, forward with relu + sign | filter gradient:

======================  =====  =================  =================
input, filters          taps   forward            filter gradient
======================  =====  =================  =================
1x28x28, 5x5 valid      25     2.67 vs 1.38       2.04 vs 1.50
1x28x28, 3x3 pad 1      9      4.10 vs 0.94       1.62 vs 1.09
3x28x28, 3x3 pad 1      27     5.16 vs 2.02       3.26 vs 3.03
4x28x28, 5x5 valid      100    7.50 vs 4.71       7.25 vs 7.19
1x14x14, 3x3 pad 1      9      1.97 vs 0.43       0.83 vs 0.80
======================  =====  =================  =================

(W4's and W7's first layer is the first row.)  OpenBLAS's small-K GEMM
runs near the machine's multiply-add peak, and the direct loops' vector
loop over an output plane is load-bound (each tap an unaligned load; a
row of 24 outputs alone is too short to vectorize, hence the flat plane
of ``_plane``); blocking four filters per pass measured 0.79 ms for W4's
planes, still no faster than the GEMM path with its epilogue.  So no shape
measured faster and ``DIRECT_MAX_TAPS`` is 0: nothing is routed here by
default.  The kernels stay, tested against the py reference, for machines
or shapes where they pay (set ``DIRECT_MAX_TAPS``, as the tests do).
"""
import numpy as np

from .threads import lib_threads

__all__ = ["DIRECT_MAX_TAPS", "use_direct", "direct_conv2d", "direct_grad_weights"]

#: the most filter taps (C_in * kh * kw) of a convolution routed to the
#: direct loops; 0: none (see the module docstring's measurements)
DIRECT_MAX_TAPS = 0

#: output (forward) or output-gradient (filter gradient) bytes from which
#: the threaded loops run, when ``threads.lib_threads()`` allows threads
#: (as ``conv.THREAD_MIN_BYTES``; not measured, threads are off by default)
THREAD_MIN_BYTES = 1 << 20


def use_direct(w_shape, groups):
    """Whether a convolution with filters of ``w_shape`` (K, C_in, kh, kw)
    and ``groups`` runs the direct loops."""
    return groups == 1 and len(w_shape) == 4 and \
        int(np.prod(w_shape[1:])) <= DIRECT_MAX_TAPS


def _loops():
    """``lib/conv_direct_loops.py``, imported on first use (building a
    graph never imports numba)."""
    from .lib import conv_direct_loops
    return conv_direct_loops


def _padded(x, geo, dtype):
    """``x`` zero-padded by ``geo.pad``, C-contiguous in ``dtype`` (a copy
    only where padding or a conversion needs one)."""
    ph, pw = geo.pad
    if not ph and not pw:
        return np.ascontiguousarray(x, dtype)
    b, c, h, w = x.shape
    xp = np.zeros((b, c, h + 2 * ph, w + 2 * pw), dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _filters(w, flip, dtype):
    return np.ascontiguousarray(w[:, :, ::-1, ::-1] if flip else w, dtype)


def _threads(nbytes):
    return nbytes >= THREAD_MIN_BYTES and lib_threads()


def direct_conv2d(x, w, b, geo, flip, dtype, code=0, keep=False):
    """``act(conv2d(x, w) + b)`` (``code`` an index of ``conv_fused.ACTS``;
    ``b`` None: no bias) and, with ``keep``, its int8 sign: ``(out, sign)``
    (``sign`` None without ``keep``).  ``geo``: the convolution's
    ``conv._Geometry`` (pads, strides, dilations, output size), checked by
    the caller, as are the shapes."""
    k = w.shape[0]
    bb = np.zeros(k, dtype) if b is None else np.ascontiguousarray(b, dtype)
    out = np.empty((x.shape[0], k) + geo.out, dtype)
    s = np.empty(out.shape if keep else (0, 0, 0, 0), np.int8)
    loops = _loops()
    run = loops.direct_forward_threads if _threads(out.nbytes) else loops.direct_forward
    run(_padded(x, geo, dtype), _filters(w, flip, dtype), bb, code, keep, out, s,
        *geo.stride, *geo.dil)
    return out, (s if keep else None)


def direct_grad_weights(x, gz, shape, geo, flip, dtype):
    """``(gw, gb)``: the filters' gradient (of ``shape``, K, C_in, kh, kw)
    and the sum of ``gz`` over every axis but 1 (the bias gradient), in one
    pass (``geo`` and the shapes checked by the caller)."""
    k, c, kh, kw = (int(n) for n in shape)
    xp = _padded(x, geo, dtype)
    gz = np.ascontiguousarray(gz, dtype)
    loops = _loops()
    if _threads(gz.nbytes):
        import numba
        slots = max(1, min(x.shape[0], numba.get_num_threads()))
        gws, gbs = np.zeros((slots, k, c, kh, kw)), np.zeros((slots, k))
        loops.direct_grad_weights_threads(xp, gz, gws, gbs, *geo.stride, *geo.dil)
        gw, gb = gws.sum(axis=0), gbs.sum(axis=0)
    else:
        gw, gb = np.zeros((k, c, kh, kw)), np.zeros(k)
        loops.direct_grad_weights(xp, gz, gw, gb, *geo.stride, *geo.dil)
    if flip:
        gw = gw[:, :, ::-1, ::-1]
    return np.ascontiguousarray(gw, dtype), gb.astype(dtype)
