"""The compiled loops of the direct convolution (``numba_cpu/conv_direct.py``):
a 2-D convolution with few input taps (``C_in * kh * kw``, e.g. a first
layer's one channel and 5x5 filters) computed straight from the input, with
no column matrix.  A real module, compiled once per machine (``cache=True``)
and imported only when a direct convolution first runs.

Forward: for each image and filter, an accumulator over the output plane
(in L1) receives the taps of every input channel and filter row; each
pass over it adds up to five taps of one filter row (``_taps``), so the
accumulator is loaded and stored once per five multiply-adds, not once
per tap.  With strides 1 the plane is flat (``_plane``: rows ``Wp`` long,
the ``Wp - Wo`` extra columns computed and dropped), so a pass is one long
contiguous loop; with strides, one output row at a time (``_row``).  The
epilogue (bias, activation, int8 sign; the formulas of
``lib/conv_epilogue.py``) runs on each finished row: the output is written
once.  Offsets and counters are unsigned, so numba emits no test for
negative indices (which kept the loops from vectorizing: 4x slower).

Filter gradient: for each image and filter, each tap's sum over the
output positions of ``gz`` times the input run it reads (dot products,
up to five taps per pass over ``gz``), with stride 1 over ``gz`` copied
into a flat plane of rows ``Wp`` long (zeros past ``Wo``) so each dot is
one long contiguous loop; the per-image sums (in ``gz``'s dtype) are added
into float64 totals, and the bias gradient is the sum of the same rows in
the same pass.

The input arrives already zero-padded (``conv_direct.py`` builds the padded
copy: a few channels, so a small one); strides and dilations are general,
and a width stride of 1 (``unit``) takes loops with contiguous loads.
``*_threads`` copies split the images over numba's threads (``prange``),
each image writing only its own output (forward), or each thread into its
own slot of partial sums (gradient), summed by the caller.
"""
import numba as nb
import numpy as np

from .conv_epilogue import _act, _sign

__all__ = ["direct_forward", "direct_forward_threads", "direct_grad_weights",
           "direct_grad_weights_threads"]

_FLAGS = dict(cache=True, nogil=True, error_model="numpy",
              fastmath={"afn", "arcp", "contract", "nsz", "reassoc"})


@nb.njit(inline="always", **_FLAGS)
def _taps(acc, xr, w, o, dw, sw, wo, n, unit):
    """``acc[q] += sum_{t<n} w[t] * xr[o + t*dw + q*sw]`` for ``n`` in 1..5
    taps of one filter row (one pass over ``acc``)."""
    w0 = w[0]
    w1 = w[1] if n > 1 else w0
    w2 = w[2] if n > 2 else w0
    w3 = w[3] if n > 3 else w0
    w4 = w[4] if n > 4 else w0
    # unsigned offsets and counters: numba then emits no wraparound test
    # of negative indices, which kept the loops from vectorizing
    o = np.uint64(o)
    o1, o2, o3, o4 = o + np.uint64(dw), o + np.uint64(2 * dw), o + np.uint64(3 * dw), \
        o + np.uint64(4 * dw)
    wo = np.uint64(wo)
    if unit:
        if n == 5:
            for q in range(wo):
                acc[q] += (w0 * xr[o + q] + w1 * xr[o1 + q] + w2 * xr[o2 + q]
                           + w3 * xr[o3 + q] + w4 * xr[o4 + q])
        elif n == 4:
            for q in range(wo):
                acc[q] += w0 * xr[o + q] + w1 * xr[o1 + q] + w2 * xr[o2 + q] + w3 * xr[o3 + q]
        elif n == 3:
            for q in range(wo):
                acc[q] += w0 * xr[o + q] + w1 * xr[o1 + q] + w2 * xr[o2 + q]
        elif n == 2:
            for q in range(wo):
                acc[q] += w0 * xr[o + q] + w1 * xr[o1 + q]
        else:
            for q in range(wo):
                acc[q] += w0 * xr[o + q]
    else:
        for q in range(wo):
            p = q * np.uint64(sw)
            s = w0 * xr[o + p]
            if n > 1:
                s += w1 * xr[o1 + p]
            if n > 2:
                s += w2 * xr[o2 + p]
            if n > 3:
                s += w3 * xr[o3 + p]
            if n > 4:
                s += w4 * xr[o4 + p]
            acc[q] += s


@nb.njit(inline="always", **_FLAGS)
def _group(rem):
    """How many taps of a filter row one pass takes: 5, 3 or 1 (the
    ``_taps``/``_dots`` loops written out)."""
    return 5 if rem >= 5 else (3 if rem >= 3 else 1)


@nb.njit(inline="always", **_FLAGS)
def _row(acc, xp, w, k, r, sh, sw, dh, dw, unit):
    """``acc`` (zeroed here): output row ``r`` of filter ``k`` over the
    padded image ``xp`` (C, Hp, Wp), before the bias (strided convolutions)."""
    wo = acc.shape[0]
    kh, kw = w.shape[2], w.shape[3]
    for q in range(wo):
        acc[q] = 0
    for c in range(w.shape[1]):
        for i in range(kh):
            xr = xp[c, r * sh + i * dh]
            wr = w[k, c, i]
            j = 0
            while j < kw:
                n = _group(kw - j)
                _taps(acc, xr, wr[j:], j * dw, dw, sw, wo, n, unit)
                j += n


@nb.njit(inline="always", **_FLAGS)
def _plane(acc, xf, w, k, wp, dh, dw):
    """``acc[p]`` for ``p = r*Wp + q`` (``acc`` zeroed here): filter ``k``
    over the flattened padded image ``xf`` (C*Hp*Wp), stride 1.  Each tap
    reads ``xf`` at ``p`` plus a constant offset, so a pass is one long
    contiguous loop over the whole output plane (the ``Wp - Wo`` columns
    past each row's end are computed and dropped): an output row alone
    (24 floats on W4) is too short for LLVM's vector loop."""
    kh, kw = w.shape[2], w.shape[3]
    hp = xf.shape[0] // w.shape[1] // wp
    for p in range(acc.shape[0]):
        acc[p] = 0
    for c in range(w.shape[1]):
        for i in range(kh):
            wr = w[k, c, i]
            base = (c * hp + i * dh) * wp
            j = 0
            while j < kw:
                n = _group(kw - j)
                _taps(acc, xf, wr[j:], base + j * dw, dw, 1, acc.shape[0], n, True)
                j += n


@nb.njit(inline="always", **_FLAGS)
def _epilogue(acc, bk, code, keep, out, s, n, k, r, off):
    """``out[n, k, r, q] = act(acc[off + q] + bk)`` and its sign."""
    for q in range(out.shape[3]):
        a = acc[off + q] + bk
        if keep:
            s[n, k, r, q] = _sign(a)
        out[n, k, r, q] = _act(a, code)


@nb.njit(inline="always", **_FLAGS)
def _image_forward(xp, w, b, code, keep, out, s, n, sh, sw, dh, dw):
    """Image ``n`` of the forward: ``out[n]`` and (with ``keep``) ``s[n]``."""
    ho, wo = out.shape[2], out.shape[3]
    wp = xp.shape[3]
    if sh == 1 and sw == 1:
        xf = xp[n].reshape(xp.shape[1] * xp.shape[2] * wp)
        acc = np.empty((ho - 1) * wp + wo, out.dtype)
        for k in range(w.shape[0]):
            _plane(acc, xf, w, k, wp, dh, dw)
            for r in range(ho):
                _epilogue(acc, b[k], code, keep, out, s, n, k, r, r * wp)
        return
    acc = np.empty(wo, out.dtype)
    for k in range(w.shape[0]):
        for r in range(ho):
            if sw == 1:
                _row(acc, xp[n], w, k, r, sh, 1, dh, dw, True)
            else:
                _row(acc, xp[n], w, k, r, sh, sw, dh, dw, False)
            _epilogue(acc, b[k], code, keep, out, s, n, k, r, 0)


@nb.njit(**_FLAGS)
def direct_forward(xp, w, b, code, keep, out, s, sh, sw, dh, dw):
    """``out[n, k, r, q] = act(b[k] + sum_{c,i,j} w[k, c, i, j] *
    xp[n, c, r*sh + i*dh, q*sw + j*dw])`` (``xp`` already padded and
    C-contiguous, ``w`` already flipped for a true convolution), and with
    ``keep`` ``s`` the int8 sign of the biased sum."""
    for n in range(xp.shape[0]):
        _image_forward(xp, w, b, code, keep, out, s, n, sh, sw, dh, dw)


@nb.njit(parallel=True, **_FLAGS)
def direct_forward_threads(xp, w, b, code, keep, out, s, sh, sw, dh, dw):
    """``direct_forward`` with its images split over numba's threads."""
    for n in nb.prange(xp.shape[0]):
        _image_forward(xp, w, b, code, keep, out, s, n, sh, sw, dh, dw)


@nb.njit(inline="always", **_FLAGS)
def _dots(g, xr, o, dw, sw, m, n, unit):
    """``sum_q g[q] * xr[o + t*dw + q*sw]`` for the ``n`` (5, 3 or 1) taps
    ``t`` of one pass over ``g`` (``m`` terms; ``reassoc`` vectorizes the
    sums)."""
    z = g.dtype.type(0)
    t0, t1, t2, t3, t4 = z, z, z, z, z
    o = np.uint64(o)
    o1, o2, o3, o4 = o + np.uint64(dw), o + np.uint64(2 * dw), o + np.uint64(3 * dw), \
        o + np.uint64(4 * dw)
    m = np.uint64(m)
    # ``unit`` is a constant where this is inlined: ``q * u`` folds to ``q``
    # (contiguous loads); the tests on ``n`` are loop-invariant (unswitched)
    u = np.uint64(1) if unit else np.uint64(sw)
    for q in range(m):
        p = q * u
        gv = g[q]
        t0 += gv * xr[o + p]
        if n > 1:
            t1 += gv * xr[o1 + p]
            t2 += gv * xr[o2 + p]
        if n > 3:
            t3 += gv * xr[o3 + p]
            t4 += gv * xr[o4 + p]
    return t0, t1, t2, t3, t4


@nb.njit(inline="always", **_FLAGS)
def _add_taps(part, c, i, j, n, t):
    part[c, i, j] += t[0]
    if n > 1:
        part[c, i, j + 1] += t[1]
        part[c, i, j + 2] += t[2]
    if n > 3:
        part[c, i, j + 3] += t[3]
        part[c, i, j + 4] += t[4]


@nb.njit(inline="always", **_FLAGS)
def _image_grad(xp, gz, n, gw, gb, sh, sw, dh, dw):
    """Image ``n``'s part of the filter gradient into ``gw`` (K, C, kh, kw)
    and of the bias gradient into ``gb`` (K), both float64 and added to.
    With stride 1, ``gz[n, k]`` is first copied into a flat plane of rows
    ``Wp`` long (zeros past each row's ``Wo``), so each tap is one long
    dot product with the flattened input (as ``_plane``)."""
    c_in, kh, kw = gw.shape[1], gw.shape[2], gw.shape[3]
    ho, wo = gz.shape[2], gz.shape[3]
    hp, wp = xp.shape[2], xp.shape[3]
    flat = sh == 1 and sw == 1
    part = np.zeros(gw.shape[1:], gz.dtype)
    xf = xp[n].reshape(c_in * hp * wp)
    gf = np.zeros((ho - 1) * wp + wo if flat else 1, gz.dtype)
    for k in range(gz.shape[1]):
        part[...] = 0
        tb = gz.dtype.type(0)
        for r in range(ho):
            g = gz[n, k, r]
            for q in range(wo):
                tb += g[q]
                if flat:
                    gf[r * wp + q] = g[q]
        if flat:
            for c in range(c_in):
                for i in range(kh):
                    base = (c * hp + i * dh) * wp
                    j = 0
                    while j < kw:
                        m = _group(kw - j)
                        _add_taps(part, c, i, j, m,
                                  _dots(gf, xf, base + j * dw, dw, 1, gf.shape[0], m, True))
                        j += m
        else:
            for r in range(ho):
                g = gz[n, k, r]
                for c in range(c_in):
                    for i in range(kh):
                        xr = xp[n, c, r * sh + i * dh]
                        j = 0
                        while j < kw:
                            m = _group(kw - j)
                            _add_taps(part, c, i, j, m,
                                      _dots(g, xr, j * dw, dw, sw, wo, m, sw == 1))
                            j += m
        gb[k] += tb
        for c in range(c_in):
            for i in range(kh):
                for j in range(kw):
                    gw[k, c, i, j] += part[c, i, j]


@nb.njit(**_FLAGS)
def direct_grad_weights(xp, gz, gw, gb, sh, sw, dh, dw):
    """``gw[k, c, i, j] = sum_{n,r,q} gz[n, k, r, q] * xp[n, c, r*sh + i*dh,
    q*sw + j*dw]`` and ``gb[k] = sum_{n,r,q} gz[n, k, r, q]`` (both float64,
    zeroed by the caller; each image's share summed in ``gz``'s dtype)."""
    for n in range(xp.shape[0]):
        _image_grad(xp, gz, n, gw, gb, sh, sw, dh, dw)


@nb.njit(parallel=True, **_FLAGS)
def direct_grad_weights_threads(xp, gz, gws, gbs, sh, sw, dh, dw):
    """``direct_grad_weights`` with its images split over numba's threads:
    image ``n`` adds into ``gws[n % T]``/``gbs[n % T]`` (T rows, one per
    slot, zeroed by the caller), which the caller sums; each slot's images
    run in order on one thread."""
    slots = gws.shape[0]
    for t in nb.prange(slots):
        for n in range(t, xp.shape[0], slots):
            _image_grad(xp, gz, n, gws[t], gbs[t], sh, sw, dh, dw)
