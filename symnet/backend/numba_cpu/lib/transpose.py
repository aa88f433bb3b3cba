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
transposed operand there, block by block, and a pool thread's block of a
swapped product (``step_pool._rows_t``) writes its transpose into its
column block of the result.

Both read 8 rows of ``a`` at a time, so the 8 values written to each row of
the result are adjacent (one cache line) instead of one value a row: with
one value a row and the result's rows 8-18 KB apart (W4's 4608-wide
gradient, W7's 1024 columns), every write went to another line of the same
cache sets.  float32, one thread, minimums of 100 calls in us, one row of
``a`` at a time against 8: 2304x64 -> 64x2304 233 -> 63 (into a column
block of a 64x4608 array: 267 -> 63), 1024x256 1,157 -> 127, 64x500 21.6
-> 10.0, 64x128 (a lazy product's staged block) 5.2 -> 3.5, 500x64 10.3
-> 10.0; float64 2304x64 177 -> 49.

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
    block of a C array) and an ``out`` of the transposed shape whose rows
    are contiguous (a C array, or a column block of one)."""
    r, c = a.shape
    j = 0
    while j + 8 <= r:       # 8 rows of a: 8 adjacent values of each row of out
        for i in range(c):
            for k in range(8):
                out[i, j + k] = a[j + k, i]
        j += 8
    for k in range(j, r):
        for i in range(c):
            out[i, k] = a[k, i]
    return out
