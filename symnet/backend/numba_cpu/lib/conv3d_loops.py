"""The compiled loops of the numba backend's 3-D convolution (``conv3d.py``):
``vol2col`` fills a chunk's column matrix, ``col2vol`` adds columns back
into a volume gradient.  A real module, compiled once per machine
(``cache=True``) and imported only when a 3-D convolution first runs.
"""
import numba as nb

__all__ = ["vol2col", "col2vol"]


@nb.njit(cache=True, nogil=True)
def vol2col(x, cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow):
    """Column ``(((c*kd + a)*kh + i)*kw + j, ((b*Od + t)*Oh + r)*Ow + q)`` is
    ``x[b, c, t*sd + a*dd - pd, r*sh + i*dh - ph, q*sw + j*dw - pw]`` (0
    outside the input): the zero border is written, never a padded copy."""
    n, c, d, h, w = x.shape
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
                                    if inside and 0 <= col < w:
                                        cols[k, base + q] = x[b, ch, dep, row, col]
                                    else:
                                        cols[k, base + q] = 0


@nb.njit(cache=True, nogil=True)
def col2vol(cols, out, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, od, oh, ow):
    """The adjoint of ``vol2col``: ``out`` (zeroed here) receives the sum of
    every column entry that reads its position; entries that fall outside
    ``out`` (in the padding) are dropped."""
    n, c, d, h, w = out.shape
    out[...] = 0
    for b in range(n):
        for ch in range(c):
            for a in range(kd):
                for i in range(kh):
                    for j in range(kw):
                        k = ((ch * kd + a) * kh + i) * kw + j
                        for t in range(od):
                            dep = t * sd + a * dd - pd
                            if dep < 0 or dep >= d:
                                continue
                            for r in range(oh):
                                row = r * sh + i * dh - ph
                                if row < 0 or row >= h:
                                    continue
                                base = ((b * od + t) * oh + r) * ow
                                for q in range(ow):
                                    col = q * sw + j * dw - pw
                                    if 0 <= col < w:
                                        out[b, ch, dep, row, col] += cols[k, base + q]
