"""The compiled loops of the fused convolution epilogue and prologue
(``numba_cpu/conv_fused.py``): the bias and activation applied to a block of
the convolution's output right after the GEMM wrote it (still in cache),
with the int8 sign of the biased output kept for the gradient, and the
activation's gradient with the bias gradient's sum in one pass over the
output gradient.  A real module, compiled once per machine (``cache=True``)
and imported only when a fused convolution first runs.

``code`` selects the formula of ``tensor/ops/conv_fused.py`` (0 linear,
1 relu as ``0.5 * (a + |a|)``, 2 ``maximum(a, 0)``); each is written as the
unfused graph computes it, so the values are the same.  The test on
``code`` is the same for a whole block: LLVM hoists it out of the inner
loop (unswitching), which stays vectorized.  Where a loop writes over an
array it reads, that array is passed once (``*_inplace``): the same array
passed as two arguments fails the vectorized loop's runtime overlap check
(measured 6-7x slower on W7's first layer).
"""
import numba as nb
import numpy as np

__all__ = ["bias_act_inplace", "bias_act_sign_inplace", "bias_act_chunk", "bias_act_grad",
           "bias_act_grad_inplace"]

#: the generated kernels' flags (``codegen.FASTMATH``: NaN and Inf keep
#: their meaning); ``reassoc`` lets the bias gradient's sum vectorize
_FLAGS = dict(cache=True, nogil=True, error_model="numpy",
              fastmath={"afn", "arcp", "contract", "nsz", "reassoc"})

#: ``NAN_SIGN`` of tensor/ops/conv_fused.py
_NAN_SIGN = 2


@nb.njit(inline="always", **_FLAGS)
def _act(a, code):
    if code == 1:
        return 0.5 * (a + abs(a))
    if code == 2:
        return a if a >= 0 or a != a else a * 0
    return a


@nb.njit(inline="always", **_FLAGS)
def _sign(a):
    """The int8 sign of ``a`` (``_NAN_SIGN`` for NaN), as selects."""
    return np.int8(1) if a > 0 else (np.int8(-1) if a < 0 else (
        np.int8(0) if a == 0 else np.int8(_NAN_SIGN)))


@nb.njit(**_FLAGS)
def bias_act_inplace(c, b, code):
    """``c[i, k, p] = act(c[i, k, p] + b[k])`` over (m, K, Ho*Wo) blocks."""
    for i in range(c.shape[0]):
        for k in range(c.shape[1]):
            bk = b[k]
            for p in range(c.shape[2]):
                c[i, k, p] = _act(c[i, k, p] + bk, code)


@nb.njit(**_FLAGS)
def bias_act_sign_inplace(c, b, code, s):
    """``bias_act_inplace``, and ``s[i, k, p]`` the sign of ``c[i, k, p] + b[k]``."""
    for i in range(c.shape[0]):
        for k in range(c.shape[1]):
            bk = b[k]
            for p in range(c.shape[2]):
                a = c[i, k, p] + bk
                s[i, k, p] = _sign(a)
                c[i, k, p] = _act(a, code)


@nb.njit(**_FLAGS)
def bias_act_chunk(res, b, code, r, s, keep):
    """From one GEMM's (K, m*Ho*Wo) result ``res``: ``r[i, k, p] =
    act(res[k, i*Ho*Wo + p] + b[k])`` (the transposed copy the plain
    convolution makes, with the epilogue in the same pass) and, with
    ``keep``, ``s[i, k, p]`` the sign of that sum."""
    m, npos = r.shape[0], r.shape[2]
    for k in range(res.shape[0]):
        bk = b[k]
        for i in range(m):
            base = i * npos
            for p in range(npos):
                a = res[k, base + p] + bk
                if keep:
                    s[i, k, p] = _sign(a)
                r[i, k, p] = _act(a, code)


@nb.njit(inline="always", **_FLAGS)
def _grad(gv, sv, code, half, one, zero, nan):
    """The activation's gradient times ``gv`` from the sign ``sv``: the
    graph's ``h + h * sgn(a)`` (``h = gv * 0.5``) or ``gv * (maximum(a, 0)
    == a)``, as selects.  ``nan`` is of ``gv``'s dtype: a float64 NaN
    would make the select, and the product, float64 (the same values,
    converted: 13% slower on W4's pooling gradient, measured).  ``sgn(a)``
    is the sign converted (``one * sv``, -1, 0 or 1) unless it is
    ``_NAN_SIGN``: one select, where a chain of three (one per sign) ran
    the pooling gradient's plane pass 0.49 ms against 0.37 (W4's 2048
    planes, one thread, best of 20; the same bits, float32 and float64)."""
    if code == 1:
        h = gv * half
        f = nan if sv == _NAN_SIGN else one * sv
        return h + h * f
    if code == 2:
        return gv * (one if sv == 0 or sv == 1 else zero)
    return gv


@nb.njit(inline="always", **_FLAGS)
def _grad_blocks(g, s, code, gc, gb):
    half, one, zero = g.dtype.type(0.5), g.dtype.type(1), g.dtype.type(0)
    nan = g.dtype.type(np.nan)
    acc = np.zeros(g.shape[1])
    for i in range(g.shape[0]):
        for k in range(g.shape[1]):
            t = 0.0
            for p in range(g.shape[2]):
                v = _grad(g[i, k, p], s[i, k, p], code, half, one, zero, nan)
                gc[i, k, p] = v
                t += v
            acc[k] += t
    for k in range(g.shape[1]):
        gb[k] = acc[k]


@nb.njit(**_FLAGS)
def bias_act_grad(g, s, code, gc, gb):
    """``gc``: the gradient wrt the convolution output from ``g`` and the
    sign ``s`` (all (B, K, Ho*Wo), ``gc`` another array than ``g``);
    ``gb[k]``: the sum of ``gc[:, k]``, accumulated in float64 in the same
    pass (``reassoc`` lets the sum vectorize)."""
    _grad_blocks(g, s, code, gc, gb)


@nb.njit(**_FLAGS)
def bias_act_grad_inplace(g, s, code, gb):
    """``bias_act_grad`` written over ``g``."""
    _grad_blocks(g, s, code, g, gb)
