"""A scan step's few-row products as small GEMMs, where numpy's BLAS runs
one thread.

An RNN step multiplies a few rows (the batch) by a weight that is the same
at every step: the LSTM forward's ``h @ U`` (32x256 @ 256x1024 in W8) and
BPTT's ``delta @ U.T`` (32x1024 @ 1024x256).  On every ``np.dot`` call
OpenBLAS first packs the whole weight (1 MB) into its panel layout
(``sgemm_itcopy``: 19 % of W8's CPU time at one BLAS thread in a perf
profile, round 18).  Asked instead for column blocks of ``BLOCK_COLS`` of
the weight, at most ``BLOCK_INNER`` of its rows a call (``beta = 1`` after
the first), each call is under OpenBLAS's small-matrix limit (about 10^6
multiply-adds) and runs its small-matrix kernel, which packs nothing.

``dot(x, w, out=None)`` is what a scan step's driver calls for ``Dot``
(``blas.py``: the inner graph of a Scan, ``Mode.scan_step``): the blocked
product when numpy's BLAS runs one thread (``OPENBLAS_NUM_THREADS=1``, or
held at one by a step on symnet's pool, ``step_pool.py``) and the product
fits (``fits``: 2-D float32/float64 of one dtype with unit inner strides,
at most ``MAX_ROWS`` rows, an inner dimension of ``MIN_INNER`` or more, a
result ``MIN_COLS`` or more wide, a CBLAS gemm found); ``np.dot``
otherwise.  On two BLAS threads ``np.dot`` stays: a blocked call runs on
the calling thread only, ~165-185 us against 111-161 us for W8's products
on two threads on a quiet box (``bench/w8_products.py``), and the step
keeps numpy's results exactly.  The blocks sum in another order than one
GEMM, so the results may differ from ``np.dot``'s in the last bits.

Measured (round 18; ``bench/w8_products.py``, one BLAS thread, load 5.2,
median (minimum) us): ``h @ U`` 268.6 (265.1) against 183.6 (182.5)
blocked, ``delta @ U.T`` 206.0 (203.1) against 164.8 (152.3).  The whole
W8 step (``bench/w8_lstm.py``'s, ``OPENBLAS_NUM_THREADS=1``, main 47f33f9
against this, four alternating pairs of processes, 15 calls each, under
the bench lock, load 7.7-8.0 from other developers' niced jobs, the
timing processes in a session of their own at autogroup nice -10):
medians 99.8, 104.0, 99.3, 105.0 ms against 89.2, 89.4, 82.6, 85.0;
minimums 95.4, 96.8, 90.6, 94.2 against 80.8, 78.4, 78.2, 77.5.  At two
BLAS threads (three pairs, load 7.8) both run ``np.dot``: medians 168.6,
157.8, 156.7 against 149.3, 137.1, 164.6 ms, the noise of that load.  The
masked GRU step (``--gru``, the same way, three pairs, load 7.4-7.7): one
BLAS thread, medians 76.5, 79.8, 78.3 against 73.6, 71.0, 67.6 ms,
minimums 68.1, 78.8, 67.9 against 62.1, 64.0, 61.1; two (load 7.6-8.6)
99.0, 141.4, 108.4 against 97.9, 132.8, 147.1, noise again.

The blocked function is compiled by numba on the first product that uses
it (about 2 s per dtype, then from numba's disk cache), not when a graph
is compiled.
"""
import numpy as np

from . import step_pool

__all__ = ["dot", "fits", "inner_block", "BLOCK_COLS", "BLOCK_INNER", "LONG_INNER_BLOCK",
           "MAX_ROWS", "MIN_INNER", "MIN_COLS"]

#: a call's columns and rows of the weight: 32x64x256 multiply-adds (and
#: 32x64x128) are under OpenBLAS's small-matrix limit, 32x128x256 not
#: (one thread, W8's ``h @ U``: 64x256 blocks 172-193 us, 128x256 292-299,
#: 32x256 217-227; ``delta @ U.T``: 64x128 175, 64x256 185, 128x128 201)
BLOCK_COLS = 64
BLOCK_INNER = 256
#: a wider inner dimension is cut into blocks of 128 rows (BPTT's 1024)
LONG_INNER_BLOCK = 128
#: the products it measured on: few rows, a weight of some size
MAX_ROWS, MIN_INNER, MIN_COLS = 32, 64, 128

_FN = []
_AVAILABLE = []     # [cblas.AVAILABLE], looked up on the first product that asks


def _blocked():
    """The njit ``blocked(x, w, out, cols, inner, nt, t)``, compiled on first
    use: thread ``t`` of ``nt`` writes its share of the column blocks of
    ``out = x @ w`` (``dot`` runs all of them, ``nt = 1``;
    ``bench/w8_products.py`` also splits them over the step pool)."""
    if not _FN:
        import numba as nb
        from .lib.cblas import gemm

        @nb.njit(cache=True, nogil=True)
        def blocked(x, w, out, cols, inner, nt, t):
            # one small GEMM per block of ``cols`` columns and ``inner`` rows
            # of ``w``, each into its columns of ``out``
            n_blocks = (w.shape[1] + cols - 1) // cols
            for jb in range(t * n_blocks // nt, (t + 1) * n_blocks // nt):
                j = jb * cols
                for k in range(0, x.shape[1], inner):
                    gemm(x[:, k:k + inner], w[k:k + inner, j:j + cols], out[:, j:j + cols],
                         False, False, 1.0, 0.0 if k == 0 else 1.0)
        _FN.append(blocked)
    return _FN[0]


def inner_block(inner):
    """The rows of the weight a blocked call takes, for an inner dimension of
    ``inner``: all of them up to ``BLOCK_INNER``, else ``LONG_INNER_BLOCK``."""
    return BLOCK_INNER if inner <= BLOCK_INNER else LONG_INNER_BLOCK


def fits(x, w, out=None):
    """Whether ``x @ w`` (into ``out``) is a product ``dot`` blocks (module
    doc), numpy's BLAS thread count aside."""
    if x.ndim != 2 or w.ndim != 2 or x.dtype != w.dtype or x.dtype.char not in "fd" or \
            x.shape[1] != w.shape[0]:
        return False
    if x.shape[0] > MAX_ROWS or x.shape[1] < MIN_INNER or w.shape[1] < MIN_COLS or \
            x.strides[1] != x.itemsize or w.strides[1] != w.itemsize:
        return False
    if out is not None and (out.dtype != x.dtype or not out.flags.c_contiguous or
                            out.shape != (x.shape[0], w.shape[1])):
        return False
    if not _AVAILABLE:
        from .lib import cblas
        _AVAILABLE.append(cblas.AVAILABLE)
    return _AVAILABLE[0]


def dot(x, w, out=None):
    """``np.dot(x, w, out=out)``, as small blocked GEMMs where numpy's BLAS
    runs one thread and the product fits (module doc)."""
    # the thread count first: on two BLAS threads this costs ~1 us a product
    if step_pool.blas_count() != 1 or not fits(x, w, out):
        return np.dot(x, w, out=out)
    if out is None:
        out = np.empty((x.shape[0], w.shape[1]), x.dtype)
    _blocked()(x, w, out, BLOCK_COLS, inner_block(x.shape[1]), 1, 0)
    return out
