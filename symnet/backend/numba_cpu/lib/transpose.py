"""``tcopy(a)``: a new C-contiguous copy of the transpose of the 2-D array
``a``.

Why: ``Dot`` computes ``x @ w.T`` with few rows in ``x`` as ``(w @ x.T).T``
(``blas.py``: faster in OpenBLAS at those shapes), whose result is
F-ordered, and the elementwise kernel after it (W1's relu gradient) needs
C order.  numpy's ``ascontiguousarray`` of that transpose took 22 us for
W1's 64x500 float32 and 30-40 us inside the step (2 cores, AMD EPYC).
This loop reads ``a`` row by row and writes the columns of the result:
12 us there, 20 against 36 us at 64x784, 0.10 against 0.48 ms at 512x500
(minimums of 300 calls; 16x16 tiles, and reading by columns, measured
slower: 28 and 22 us at 64x500).

``tcopy_into(a, out)`` writes the same into a buffer of the caller's: a
lazy weight gradient's row block (``step_pool.LazyDot.rows``) stages its
transposed operand there, block by block.

Numba compiles it once per dtype and caches it on disk, like the kernels;
``blas.tcopy`` imports it on the first call that needs it, not when a
graph is compiled.
"""
import numpy as np
import numba as nb

__all__ = ["tcopy", "tcopy_into"]


@nb.njit(cache=True, nogil=True)
def tcopy(a):
    """``np.ascontiguousarray(a.T)`` for a C-contiguous 2-D ``a`` (module doc)."""
    r, c = a.shape
    return tcopy_into(a, np.empty((c, r), a.dtype))


@nb.njit(cache=True, nogil=True)
def tcopy_into(a, out):
    """``out[...] = a.T`` for a 2-D ``a`` whose rows are contiguous (a column
    block of a C array) and a C-contiguous ``out`` of the transposed shape."""
    r, c = a.shape
    for j in range(r):
        for i in range(c):
            out[i, j] = a[j, i]
    return out
