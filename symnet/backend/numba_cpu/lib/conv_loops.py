"""The compiled loops of the numba backend's convolution (``conv.py``):
``im2col`` fills a chunk's column matrix, ``col2im`` adds columns back
into an image gradient; ``im2col_images``/``col2im_images`` do the same
with one (C*kh*kw, Ho*Wo) block per image, so a batched GEMM reads and
writes the images' own (K, Ho*Wo) layout with no transposed copy.  A real
module, compiled once per machine (``cache=True``) and imported only when
a convolution first runs.

The inner loops test each column against the border (no split into
inside and outside spans): measured, LLVM compiles this form into faster
code than three loops over computed spans (3x on W7's layers).
"""
import numba as nb

__all__ = ["im2col", "col2im", "im2col_images", "col2im_images"]


@nb.njit(cache=True, nogil=True)
def im2col(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """Column ``((c*kh + i)*kw + j, (b*Ho + r)*Wo + q)`` of the chunk ``x``
    is ``x[b, c, r*sh + i*dh - ph, q*sw + j*dw - pw]`` (0 outside the
    input): the zero border is written, never a padded copy of ``x``."""
    n, c, h, w = x.shape
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                for b in range(n):
                    for r in range(ho):
                        row = r * sh + i * dh - ph
                        base = (b * ho + r) * wo
                        inside = 0 <= row < h
                        for q in range(wo):
                            col = q * sw + j * dw - pw
                            if inside and 0 <= col < w:
                                cols[k, base + q] = x[b, ch, row, col]
                            else:
                                cols[k, base + q] = 0


@nb.njit(cache=True, nogil=True)
def col2im(cols, out, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """The adjoint of ``im2col``: ``out`` (zeroed here) receives the
    sum of every column entry that reads its position."""
    n, c, h, w = out.shape
    out[...] = 0
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    k = (ch * kh + i) * kw + j
                    for r in range(ho):
                        row = r * sh + i * dh - ph
                        if row < 0 or row >= h:
                            continue
                        base = (b * ho + r) * wo
                        for q in range(wo):
                            col = q * sw + j * dw - pw
                            if 0 <= col < w:
                                out[b, ch, row, col] += cols[k, base + q]


@nb.njit(cache=True, nogil=True)
def im2col_images(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``cols[b, (c*kh + i)*kw + j, r*Wo + q]`` is
    ``x[b, c, r*sh + i*dh - ph, q*sw + j*dw - pw]`` (0 outside the input)."""
    n, c, h, w = x.shape
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    k = (ch * kh + i) * kw + j
                    for r in range(ho):
                        row = r * sh + i * dh - ph
                        base = r * wo
                        inside = 0 <= row < h
                        for q in range(wo):
                            col = q * sw + j * dw - pw
                            if inside and 0 <= col < w:
                                cols[b, k, base + q] = x[b, ch, row, col]
                            else:
                                cols[b, k, base + q] = 0


@nb.njit(cache=True, nogil=True)
def col2im_images(cols, out, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """The adjoint of ``im2col_images``: ``out`` (zeroed here) receives the
    sum of every column entry that reads its position."""
    n, c, h, w = out.shape
    out[...] = 0
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    k = (ch * kh + i) * kw + j
                    for r in range(ho):
                        row = r * sh + i * dh - ph
                        if row < 0 or row >= h:
                            continue
                        base = r * wo
                        for q in range(wo):
                            col = q * sw + j * dw - pw
                            if 0 <= col < w:
                                out[b, ch, row, col] += cols[b, k, base + q]
