"""The compiled loops of the numba backend's run-time-sized pooling
(``lib/pool_nd.py``): ``pool`` and ``pool_grad`` over the last three axes of a
(N, D, H, W) array, with window, stride and padding as run-time integers
(a 2-D pooling is D=1 with a window of 1 along it).  Each window is clipped
to the real input, so no padded canvas is built.  A real module, compiled
once per machine (``cache=True``) and imported on first use.

``mode``: 0 max, 1 sum, 2 average counting the padding, 3 average not
counting it.  The average divisor never counts the part of a window beyond
the border without ``ignore_border`` (the reference's rule).
"""
import numba as nb
import numpy as np

__all__ = ["pool", "pool_grad"]


@nb.njit(cache=True, nogil=True, inline="always")
def _span(o, w, s, p, n, mode):
    """Window ``o`` along one axis: (first, end) clipped to the input, and
    its divisor for the averages."""
    start = o * s
    lo, hi = max(start - p, 0), min(start - p + w, n)
    if mode == 3:
        cnt = min(start + w, p + n) - max(start, p)
    else:
        cnt = min(start + w, n + 2 * p) - start
    return lo, hi, cnt


@nb.njit(cache=True, nogil=True)
def _windows(x, ref, gz, res, ws, st, pd, mode, backward):
    """One pass over the windows; only ``res`` is written (the others may
    be read-only arrays).  Forward: ``res[b, t, i, j]`` is the max, sum or
    average of window (t, i, j) of ``x[b]`` (NaN wins a max, as
    ``np.maximum``); ``ref`` and ``gz`` are not read.  ``backward``: ``res``
    (zeroed here) receives the gradient wrt ``x``, given the pooled result
    ``ref`` and its gradient ``gz``; max sends each window's gradient to the
    FIRST position (in (depth, row, col) order) equal to the window's max."""
    n, d, h, w = x.shape
    _, od, oh, ow = gz.shape if backward else res.shape
    if backward:
        res[...] = 0
    for b in range(n):
        for t in range(od):
            da, db, dc = _span(t, ws[0], st[0], pd[0], d, mode)
            for i in range(oh):
                ra, rb, rc = _span(i, ws[1], st[1], pd[1], h, mode)
                for j in range(ow):
                    ca, cb, cc = _span(j, ws[2], st[2], pd[2], w, mode)
                    if mode == 0:
                        m = ref[b, t, i, j] if backward else x[b, da, ra, ca]
                        found = False
                        for z in range(da, db):
                            for r in range(ra, rb):
                                for c in range(ca, cb):
                                    v = x[b, z, r, c]
                                    if backward:
                                        if not found and v == m:
                                            res[b, z, r, c] += gz[b, t, i, j]
                                            found = True
                                    elif (v > m or v != v) and m == m:
                                        m = v
                        if not backward:
                            res[b, t, i, j] = m
                        continue
                    div = 1.0 if mode == 1 else np.float64(dc * rc * cc)
                    gv = gz[b, t, i, j] / div if backward else 0.0
                    acc = 0.0
                    for z in range(da, db):
                        for r in range(ra, rb):
                            for c in range(ca, cb):
                                if backward:
                                    res[b, z, r, c] += gv
                                else:
                                    acc += x[b, z, r, c]
                    if not backward:
                        res[b, t, i, j] = acc / div


@nb.njit(cache=True, nogil=True)
def pool(x, out, ws, st, pd, mode):
    """``out``: the pooled ``x`` (see ``_windows``)."""
    _windows(x, x, x, out, ws, st, pd, mode, False)


@nb.njit(cache=True, nogil=True)
def pool_grad(x, out, gz, g, ws, st, pd, mode):
    """``g``: the gradient of ``pool`` wrt ``x``, given its result ``out``
    and the result's gradient ``gz`` (see ``_windows``)."""
    _windows(x, out, gz, g, ws, st, pd, mode, True)
