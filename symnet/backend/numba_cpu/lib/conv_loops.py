"""The compiled loops of the numba backend's convolution (``conv.py``):
``im2col`` fills a chunk's column matrix, ``col2im`` adds columns back
into an image gradient; ``im2col_images``/``col2im_images`` do the same
with one (C*kh*kw, Ho*Wo) block per image, so a batched GEMM reads and
writes the images' own (K, Ho*Wo) layout with no transposed copy.  A real
module, compiled once per machine (``cache=True``) and imported only when
a convolution first runs.

The per-image loops also have threaded copies (``*_images_threads``, a
``prange`` over the images, each writing only its own block), compiled on
first use; ``conv.py`` takes them where ``threads.lib_threads()`` says so,
for the per-chunk layout too, through a (m, C*kh*kw, Ho*Wo) view of its
columns.  Both copies run the same inlined body per image, so they compute
the same values.

The inner loops test each column against the border (no split into
inside and outside spans): measured, LLVM compiles this form into faster
code than three loops over computed spans (3x on W7's layers).  Without
padding, strides and dilations (``_plain``), im2col copies contiguous runs
with no test.  The loop
orders differ by layout (each fills its column rows in memory order;
measured 3-4x slower otherwise); the row loops are shared, inlined.
"""
import numba as nb

__all__ = ["im2col", "col2im", "im2col_images", "col2im_images",
           "im2col_images_threads", "col2im_images_threads"]


@nb.njit(cache=True, nogil=True, inline="always")
def _fill_row(dst, k, base, x, b, ch, row, j, sw, dw, pw, wo):
    """``dst[k, base + q] = x[b, ch, row, q*sw + j*dw - pw]`` for every
    output column ``q`` (0 outside the input; ``row`` may lie outside)."""
    h, w = x.shape[2], x.shape[3]
    inside = 0 <= row < h
    for q in range(wo):
        col = q * sw + j * dw - pw
        if inside and 0 <= col < w:
            dst[k, base + q] = x[b, ch, row, col]
        else:
            dst[k, base + q] = 0


@nb.njit(cache=True, nogil=True, inline="always")
def _plain(sh, sw, dh, dw, ph, pw):
    """No padding, strides and dilations 1 (``_copy_row`` serves it)."""
    return ph == 0 and pw == 0 and sh == 1 and sw == 1 and dh == 1 and dw == 1


@nb.njit(cache=True, nogil=True, inline="always")
def _copy_row(dst, k, base, x, b, ch, i, j, r, wo):
    """``_fill_row`` of a plain convolution (no padding, strides and
    dilations 1): every position lies inside the input and a row is a
    contiguous run, copied as vectors (W7's layers: 30 % faster, measured).
    The indices are sums of loop counters, which numba knows are not
    negative: with ``j * dw`` as the offset it tests each for wrapping
    around and the copy ran 2x slower."""
    for q in range(wo):
        dst[k, base + q] = x[b, ch, r + i, q + j]


@nb.njit(cache=True, nogil=True, inline="always")
def _add_row(out, b, ch, row, src, k, base, j, sw, dw, pw, wo):
    """The adjoint of ``_fill_row``: adds the row back into ``out``."""
    if row < 0 or row >= out.shape[2]:
        return
    w = out.shape[3]
    for q in range(wo):
        col = q * sw + j * dw - pw
        if 0 <= col < w:
            out[b, ch, row, col] += src[k, base + q]


@nb.njit(cache=True, nogil=True, inline="always")
def _add_plain(out, b, ch, i, j, r, src, k, base, wo):
    """The adjoint of ``_copy_row``."""
    for q in range(wo):
        out[b, ch, r + i, q + j] += src[k, base + q]


@nb.njit(cache=True, nogil=True)
def im2col(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """Column ``((c*kh + i)*kw + j, (b*Ho + r)*Wo + q)`` of the chunk ``x``
    is ``x[b, c, r*sh + i*dh - ph, q*sw + j*dw - pw]`` (0 outside the
    input): the zero border is written, never a padded copy of ``x``."""
    # the test stays out of the loop nest (inside it, it made both 2x
    # slower): each call inlines the nest with a constant ``plain``
    if _plain(sh, sw, dh, dw, ph, pw):
        _chunk_cols(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, True)
    else:
        _chunk_cols(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, False)


@nb.njit(cache=True, nogil=True, inline="always")
def _chunk_cols(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo, plain):
    """The loop nest of ``im2col``."""
    n, c = x.shape[0], x.shape[1]
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                for b in range(n):
                    for r in range(ho):
                        if plain:
                            _copy_row(cols, k, (b * ho + r) * wo, x, b, ch, i, j, r, wo)
                        else:
                            _fill_row(cols, k, (b * ho + r) * wo, x, b, ch,
                                      r * sh + i * dh - ph, j, sw, dw, pw, wo)


@nb.njit(cache=True, nogil=True)
def col2im(cols, out, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """The adjoint of ``im2col``: ``out`` (zeroed here) receives the
    sum of every column entry that reads its position."""
    n, c = out.shape[0], out.shape[1]
    out[...] = 0
    # column rows outermost: ``cols`` is read in memory order (an image's
    # columns lie a whole row apart: one page each); each output element
    # still sums its terms in the same order.  W7's conv2: 10 -> 8.6 ms
    plain = _plain(sh, sw, dh, dw, ph, pw)
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                if plain:
                    for b in range(n):
                        for r in range(ho):
                            _add_plain(out, b, ch, i, j, r, cols, k, (b * ho + r) * wo, wo)
                    continue
                for b in range(n):
                    for r in range(ho):
                        _add_row(out, b, ch, r * sh + i * dh - ph, cols, k, (b * ho + r) * wo,
                                 j, sw, dw, pw, wo)


@nb.njit(cache=True, nogil=True, inline="always")
def _image_cols(x, cols, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """Image ``b`` of ``im2col_images``: its (C*kh*kw, Ho*Wo) column block."""
    dst = cols[b]
    if _plain(sh, sw, dh, dw, ph, pw):
        for ch in range(x.shape[1]):
            for i in range(kh):
                for j in range(kw):
                    k = (ch * kh + i) * kw + j
                    for r in range(ho):
                        _copy_row(dst, k, r * wo, x, b, ch, i, j, r, wo)
        return
    for ch in range(x.shape[1]):
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                for r in range(ho):
                    _fill_row(dst, k, r * wo, x, b, ch, r * sh + i * dh - ph, j, sw, dw, pw,
                              wo)


@nb.njit(cache=True, nogil=True, inline="always")
def _image_add(cols, out, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """Image ``b`` of ``col2im_images``: zeroed, then its column block added back."""
    out[b] = 0
    src = cols[b]
    # (no _add_plain path here: with i, j computed from k, numba cannot
    # tell they are not negative, and it ran slower than _add_row)
    for k in range(src.shape[0]):          # the column row of (channel, i, j)
        ch, i, j = k // (kh * kw), (k // kw) % kh, k % kw
        for r in range(ho):
            _add_row(out, b, ch, r * sh + i * dh - ph, src, k, r * wo, j, sw, dw, pw, wo)


@nb.njit(cache=True, nogil=True)
def im2col_images(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``cols[b, (c*kh + i)*kw + j, r*Wo + q]`` is
    ``x[b, c, r*sh + i*dh - ph, q*sw + j*dw - pw]`` (0 outside the input)."""
    for b in range(x.shape[0]):
        _image_cols(x, cols, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)


@nb.njit(cache=True, nogil=True)
def col2im_images(cols, out, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """The adjoint of ``im2col_images``: ``out`` (zeroed here) receives the
    sum of every column entry that reads its position."""
    for b in range(out.shape[0]):
        _image_add(cols, out, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)


@nb.njit(cache=True, nogil=True, parallel=True)
def im2col_images_threads(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``im2col_images`` with its images split over numba's threads."""
    for b in nb.prange(x.shape[0]):
        _image_cols(x, cols, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)


@nb.njit(cache=True, nogil=True, parallel=True)
def col2im_images_threads(cols, out, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """``col2im_images`` with its images split over numba's threads."""
    for b in nb.prange(out.shape[0]):
        _image_add(cols, out, b, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
