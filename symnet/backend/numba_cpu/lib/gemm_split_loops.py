"""``split_gemm(a, b, out, by_rows)``: ``out = a @ b`` as two CBLAS gemm
calls on numba's thread pool (a ``prange`` of two), each writing half of
``out`` (its rows, or its columns; a column half of a C array is a view
with one unit stride, which ``cblas.gemm`` takes as is).  Used by
``gemm_split.pdot`` with numpy's BLAS held at one thread (see there)."""
import numba as nb

from .cblas import _gemm

__all__ = ["split_gemm"]


@nb.njit(parallel=True, nogil=True, cache=True)
def split_gemm(a, b, out, by_rows):
    """``out[...] = a @ b`` in two halves (module doc)."""
    size = out.shape[0] if by_rows else out.shape[1]
    # halves of whole 16-element blocks: each thread's columns start on a
    # 64-byte line of float32
    half = ((size + 1) // 2 + 15) // 16 * 16
    for t in nb.prange(2):
        lo = min(t * half, size)
        hi = size if t == 1 else min(half, size)
        if lo < hi:
            if by_rows:
                _gemm(a[lo:hi], b, out[lo:hi], False, False, 1.0, 0.0)
            else:
                _gemm(a, b[:, lo:hi], out[:, lo:hi], False, False, 1.0, 0.0)
