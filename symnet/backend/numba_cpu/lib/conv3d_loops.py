"""The compiled loop of the numba backend's 3-D convolution (``conv3d.py``):
``vol2col`` fills a chunk's column matrix, ``col2vol`` (its adjoint) adds
columns back into a volume gradient; one loop nest serves both.  A real
module, compiled once per machine (``cache=True``) and imported only when a
3-D convolution first runs.
"""
import numba as nb

__all__ = ["vol2col", "col2vol"]


@nb.njit(cache=True, nogil=True)
def _columns(vol, cols, adjoint, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow):
    """Column ``(((c*kd + a)*kh + i)*kw + j, ((b*Od + t)*Oh + r)*Ow + q)``
    reads ``vol[b, c, t*sd + a*dd - pd, r*sh + i*dh - ph, q*sw + j*dw - pw]``
    (0 outside the volume).  Forward: ``cols`` is filled (the zero border is
    written, never a padded copy of ``vol``).  ``adjoint``: ``vol`` (zeroed
    here) receives the sum of the column entries that read each position;
    entries in the padding are dropped.  ``adjoint`` is the same for the
    whole call (LLVM hoists the test out of the loops)."""
    n, c, d, h, w = vol.shape
    if adjoint:
        vol[...] = 0
    for ch in range(c):
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    k = ((ch * kd + a) * kh + i) * kw + j
                    for b in range(n):
                        for t in range(od):
                            dep = t * sd + a * dd - pd
                            din = 0 <= dep < d
                            for r in range(oh):
                                row = r * sh + i * dh - ph
                                inside = din and 0 <= row < h
                                base = ((b * od + t) * oh + r) * ow
                                for q in range(ow):
                                    col = q * sw + j * dw - pw
                                    ok = inside and 0 <= col < w
                                    if adjoint:
                                        if ok:
                                            vol[b, ch, dep, row, col] += cols[k, base + q]
                                    elif ok:
                                        cols[k, base + q] = vol[b, ch, dep, row, col]
                                    else:
                                        cols[k, base + q] = 0


@nb.njit(cache=True, nogil=True)
def vol2col(x, cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow):
    """Fill the column matrix ``cols`` of the volumes ``x`` (see ``_columns``)."""
    _columns(x, cols, False, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow)


@nb.njit(cache=True, nogil=True)
def col2vol(cols, out, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow):
    """``out`` = the adjoint of ``vol2col`` applied to ``cols``."""
    _columns(out, cols, True, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow)
