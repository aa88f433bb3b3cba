"""The compiled loops of the fused convolution epilogue and prologue
(``numba_cpu/conv_fused.py``): the bias and activation applied to a block of
the convolution's output right after the GEMM wrote it (still in cache),
and the activation's gradient with the bias gradient's sum in one pass over
the output gradient.  A real module, compiled once per machine
(``cache=True``) and imported only when a fused convolution first runs.

``code`` selects the formula of ``tensor/ops/conv_fused.py`` (0 linear,
1 relu as ``0.5 * (a + |a|)``, 2 ``maximum(a, 0)``); each is written as the
unfused graph computes it, so the values are the same.  The test on
``code`` is the same for a whole block: LLVM hoists it out of the inner
loop (unswitching), which stays vectorized.
"""
import numba as nb
import numpy as np

__all__ = ["bias_act_images", "bias_act_images_inplace", "bias_act_chunk", "bias_act_grad",
           "bias_act_grad_inplace"]

#: the generated kernels' flags (``codegen.FASTMATH``: NaN and Inf keep
#: their meaning); ``reassoc`` lets the bias gradient's sum vectorize
_FLAGS = dict(cache=True, nogil=True, error_model="numpy",
              fastmath={"afn", "arcp", "contract", "nsz", "reassoc"})


@nb.njit(inline="always", **_FLAGS)
def _act(a, code):
    if code == 1:
        return 0.5 * (a + abs(a))
    if code == 2:
        return a if a >= 0 or a != a else a * 0
    return a


@nb.njit(inline="always", **_FLAGS)
def _bias_act_blocks(c, b, code, r):
    for i in range(c.shape[0]):
        for k in range(c.shape[1]):
            bk = b[k]
            for p in range(c.shape[2]):
                r[i, k, p] = _act(c[i, k, p] + bk, code)


@nb.njit(**_FLAGS)
def bias_act_images(c, b, code, r):
    """``r[i, k, p] = act(c[i, k, p] + b[k])`` over (m, K, Ho*Wo) blocks
    (``r`` another array than ``c``)."""
    _bias_act_blocks(c, b, code, r)


@nb.njit(**_FLAGS)
def bias_act_images_inplace(c, b, code):
    """``bias_act_images`` written over ``c``.  A function of its own: the
    same array passed twice fails the vectorized loop's runtime overlap
    check (measured 6-7x slower); here LLVM sees one array."""
    _bias_act_blocks(c, b, code, c)


@nb.njit(**_FLAGS)
def bias_act_chunk(res, b, code, r, c, keep):
    """From one GEMM's (K, m*Ho*Wo) result ``res``: ``r[i, k, p] =
    act(res[k, i*Ho*Wo + p] + b[k])`` and, with ``keep``, ``c[i, k, p] =
    res[k, i*Ho*Wo + p]`` (the transposed copy the plain convolution makes,
    done in the same pass)."""
    m, npos = r.shape[0], r.shape[2]
    for k in range(res.shape[0]):
        bk = b[k]
        for i in range(m):
            base = i * npos
            for p in range(npos):
                v = res[k, base + p]
                if keep:
                    c[i, k, p] = v
                r[i, k, p] = _act(v + bk, code)


@nb.njit(inline="always", **_FLAGS)
def _grad(gv, a, code, half, one, zero):
    """The activation's gradient at ``a`` times ``gv``, as the graph's
    ``h + h * sgn(a)`` (``h = gv * 0.5``) or ``gv * (maximum(a, 0) == a)``;
    the sign as selects (no call), so the loop vectorizes."""
    if code == 1:
        h = gv * half
        s = one if a > 0 else (-one if a < 0 else a * zero)   # sgn; NaN stays NaN
        return h + h * s
    if code == 2:
        return gv * (one if a >= 0 else zero)
    return gv


@nb.njit(inline="always", **_FLAGS)
def _grad_blocks(g, c, b, code, gc, gb):
    half, one, zero = g.dtype.type(0.5), g.dtype.type(1), g.dtype.type(0)
    acc = np.zeros(g.shape[1])
    for i in range(g.shape[0]):
        for k in range(g.shape[1]):
            bk = b[k]
            s = 0.0
            for p in range(g.shape[2]):
                v = _grad(g[i, k, p], c[i, k, p] + bk, code, half, one, zero)
                gc[i, k, p] = v
                s += v
            acc[k] += s
    for k in range(g.shape[1]):
        gb[k] = acc[k]


@nb.njit(**_FLAGS)
def bias_act_grad(g, c, b, code, gc, gb):
    """``gc``: the gradient wrt ``c`` of ``act(c + b)`` from ``g`` (all
    (B, K, Ho*Wo), ``gc`` another array than ``g``); ``gb[k]``: the sum of
    ``gc[:, k]``, accumulated in float64 in the same pass (``reassoc``
    lets the sum vectorize)."""
    _grad_blocks(g, c, b, code, gc, gb)


@nb.njit(**_FLAGS)
def bias_act_grad_inplace(g, c, b, code, gb):
    """``bias_act_grad`` written over ``g`` (see ``bias_act_images_inplace``)."""
    _grad_blocks(g, c, b, code, g, gb)
