"""A GEMM that njit code can call, through the BLAS numpy itself loaded.

numba's own ``np.dot`` in nopython code needs SciPy (it calls BLAS through
SciPy's Cython bindings), which is not a dependency.  numpy's wheels carry
an OpenBLAS whose CBLAS ``gemm`` is exported (``scipy_cblas_sgemm64_``:
ILP64, 64-bit integers; other builds export ``cblas_sgemm`` with 32-bit
ones).  At import this module finds that library (numpy's ``numpy.libs``
folder, then the libraries mapped into the process: ``/proc/self/maps``),
and registers two symbols with LLVM, ``symnet_cblas_sgemm`` and
``symnet_cblas_dgemm``, both with 64-bit integer arguments (a 32-bit
library is reached through a small ``cfunc`` that narrows them).  njit code
calls them by name (``types.ExternalFunction``), so functions using them
are cached by numba like any other: the symbol is resolved when the cached
code is loaded, in the process that loads it.

``gemm(a, b, out, transa, transb, alpha, beta)``: ``out = alpha * op(a) @
op(b) + beta * out`` for float32/float64 2-D arrays of one dtype; ``op``
transposes when its flag is true.  Operands may be C- or F-contiguous or
any 2-D view with one unit stride (a column slice of a C array: its row
stride is the leading dimension); other operands are copied first.  ``out``
must have one unit stride (it is written in place) or ValueError is raised.
``dot(a, b)``: a new C-contiguous ``a @ b``.

``AVAILABLE`` is False when no CBLAS gemm was found; callers then keep
numpy's ``np.dot`` (``note_missing`` warns once that they do).
"""
# -- body (inlined by f.source): all of it, the lookup included
import ctypes
import glob
import os
import warnings

import numpy as np
import numba as nb
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

__all__ = ["AVAILABLE", "ABI", "LIBRARY", "gemm", "dot", "note_missing", "lookup"]

# ILP64 names first (numpy >= 2 wheels), then LP64 ones (older or other builds)
_NAMES = (("scipy_cblas_{t}gemm64_", 64), ("cblas_{t}gemm64_", 64), ("cblas_{t}gemm_64", 64),
          ("scipy_cblas_{t}gemm", 32), ("cblas_{t}gemm", 32))
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _sig(scalar, integer):
    """cblas_?gemm(order, transa, transb, m, n, k, alpha, a, lda, b, ldb,
    beta, c, ldc) with ``integer`` dimensions and ``scalar`` alpha/beta."""
    i, p = integer, types.voidptr
    return types.void(types.int32, types.int32, types.int32, i, i, i, scalar, p, i, p, i,
                      scalar, p, i)


def _candidates():
    """Library files that may hold numpy's BLAS, most likely first."""
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    paths = sorted(glob.glob(os.path.join(libs, "*blas*.so*")))
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            for line in fh:
                path = line.split()[-1]
                name = os.path.basename(path).lower()
                if path.startswith("/") and ("blas" in name or "mkl_rt" in name) \
                        and path not in paths:
                    paths.append(path)
    except OSError:          # no /proc (not Linux): numpy.libs only
        pass
    return paths


def lookup(path):
    """``(abi, sgemm address, dgemm address)`` of the CBLAS gemm pair in the
    library at ``path`` (``abi``: 64 or 32, its integer width), or None."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for pattern, abi in _NAMES:
        try:
            s = getattr(lib, pattern.format(t="s"))
            d = getattr(lib, pattern.format(t="d"))
        except AttributeError:
            continue
        return abi, ctypes.cast(s, ctypes.c_void_p).value, ctypes.cast(d, ctypes.c_void_p).value
    return None


def narrowing_shim(address, scalar):
    """A ``cfunc`` with 64-bit integer arguments calling the 32-bit CBLAS
    gemm at ``address`` (rows and leading dimensions fit: numpy's arrays
    passed to such a BLAS do too)."""
    name = f"symnet_cblas_{'s' if scalar == types.float32 else 'd'}gemm_lp64"
    import llvmlite.binding as llb
    llb.add_symbol(name, address)
    narrow = types.ExternalFunction(name, _sig(scalar, types.int32))

    @nb.cfunc(_sig(scalar, types.int64), nopython=True)
    def shim(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        narrow(order, ta, tb, np.int32(m), np.int32(n), np.int32(k), alpha, a,
               np.int32(lda), b, np.int32(ldb), beta, c, np.int32(ldc))
    return shim


def _register():
    """Find the BLAS and register the two symbols; (abi, path) or None."""
    import llvmlite.binding as llb
    for path in _candidates():
        found = lookup(path)
        if found is None:
            continue
        abi, s, d = found
        if abi == 32:
            _SHIMS[:] = [narrowing_shim(s, types.float32), narrowing_shim(d, types.float64)]
            s, d = _SHIMS[0].address, _SHIMS[1].address
        llb.add_symbol("symnet_cblas_sgemm", s)
        llb.add_symbol("symnet_cblas_dgemm", d)
        return abi, path
    return None


_SHIMS = []              # the cfuncs of a 32-bit BLAS, kept alive
_FOUND = _register()
AVAILABLE = _FOUND is not None
ABI = _FOUND[0] if AVAILABLE else None
LIBRARY = _FOUND[1] if AVAILABLE else None
_NOTED = []


def openblas_threads_fn(verb):
    """OpenBLAS's ``{verb}_num_threads`` (verb ``get`` or ``set``) in the
    library the gemm came from, as a ctypes function, or None (another
    BLAS, or no CBLAS found): the names it has in numpy's scipy-openblas
    wheels (64-bit ints) and in a system OpenBLAS."""
    if not AVAILABLE:
        return None
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError:
        return None
    for name in (f"scipy_openblas_{verb}_num_threads64_", f"openblas_{verb}_num_threads64_",
                 f"scipy_openblas_{verb}_num_threads", f"openblas_{verb}_num_threads"):
        fn = getattr(lib, name, None)
        if fn is not None:
            if verb == "set":
                fn.argtypes, fn.restype = [ctypes.c_int], None
            else:
                fn.restype = ctypes.c_int
            return fn
    return None


def note_missing(what):
    """Warn once per process that ``what`` keeps numpy's ``np.dot`` because
    no CBLAS gemm was found (a note, not a fallback: results are the same)."""
    if AVAILABLE or _NOTED:
        return
    _NOTED.append(what)
    warnings.warn(f"symnet found no CBLAS gemm in numpy's BLAS; {what} keeps numpy's "
                  f"np.dot (one Python call per product)", RuntimeWarning, stacklevel=3)


_SGEMM = types.ExternalFunction("symnet_cblas_sgemm", _sig(types.float32, types.int64))
_DGEMM = types.ExternalFunction("symnet_cblas_dgemm", _sig(types.float64, types.int64))
_JIT = dict(cache=True, nogil=True)


@nb.njit(**_JIT)
def _layout(x):
    """How BLAS reads the 2-D array ``x`` in row-major order: (0, ld) as
    is, (1, ld) as the transpose of a row-major array, (-1, 0) neither."""
    isz = x.itemsize
    r, c = x.shape
    s0, s1 = x.strides
    if (c <= 1 or s1 == isz) and (r <= 1 or (s0 > 0 and s0 % isz == 0 and s0 // isz >= c)):
        return 0, max(s0 // isz if r > 1 else c, 1)
    if (r <= 1 or s0 == isz) and (c <= 1 or (s1 > 0 and s1 % isz == 0 and s1 // isz >= r)):
        return 1, max(s1 // isz if c > 1 else r, 1)
    return -1, 0


@nb.njit(**_JIT)
def _c_copy(x):
    """A C-contiguous copy of the 2-D array ``x``: numba's ascontiguousarray
    of a strided view compiles for seconds (a general array copy)."""
    out = np.empty(x.shape, x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j]
    return out


def _gemm(a, b, out, transa, transb, alpha, beta):
    """The body of ``gemm`` (see the module doc); numba compiles it per dtype."""
    raise NotImplementedError("cblas._gemm runs inside njit code only")


@overload(_gemm, jit_options=_JIT)
def _gemm_typed(a, b, out, transa, transb, alpha, beta):
    dts = {getattr(x, "dtype", None) for x in (a, b, out)}
    if len(dts) != 1 or dts.pop() not in (types.float32, types.float64) or \
            any(getattr(x, "ndim", 0) != 2 for x in (a, b, out)):
        raise TypingError(f"cblas.gemm: 2-D float32 or float64 arrays of one dtype, got "
                          f"{a}, {b}, {out}")
    single = out.dtype == types.float32
    call = _SGEMM if single else _DGEMM
    scal = np.float32 if single else np.float64

    def impl(a, b, out, transa, transb, alpha, beta):
        m, k = (a.shape[1], a.shape[0]) if transa else (a.shape[0], a.shape[1])
        k2, n = (b.shape[1], b.shape[0]) if transb else (b.shape[0], b.shape[1])
        if k != k2 or out.shape[0] != m or out.shape[1] != n:
            raise ValueError("cblas.gemm: shapes do not match (op(a) is m x k, "
                             "op(b) k x n, out m x n)")
        if m == 0 or n == 0:
            return
        lo, ldo = _layout(out)
        if lo < 0:
            raise ValueError("cblas.gemm: out must have a unit stride (it is written in place)")
        if k == 0:                     # no product: out = beta * out (loops compile
            for i in range(m):         # far faster than numba's slice assignment)
                for j in range(n):
                    out[i, j] = 0 if beta == 0 else out[i, j] * beta
            return
        la, lda = _layout(a)
        if la < 0:
            a = _c_copy(a)
            la, lda = 0, a.shape[1]
        lb, ldb = _layout(b)
        if lb < 0:
            b = _c_copy(b)
            lb, ldb = 0, b.shape[1]
        ta = _TRANS if (la == 1) != transa else _NO_TRANS
        tb = _TRANS if (lb == 1) != transb else _NO_TRANS
        if lo == 0:
            call(_ROW_MAJOR, ta, tb, m, n, k, scal(alpha), a.ctypes, lda, b.ctypes, ldb,
                 scal(beta), out.ctypes, ldo)
        else:       # out stored transposed: out.T = op(b).T @ op(a).T
            call(_ROW_MAJOR, _TRANS + _NO_TRANS - tb, _TRANS + _NO_TRANS - ta, n, m, k,
                 scal(alpha), b.ctypes, ldb, a.ctypes, lda, scal(beta), out.ctypes, ldo)
    return impl


@nb.njit(**_JIT)
def gemm(a, b, out, transa=False, transb=False, alpha=1.0, beta=0.0):
    """``out = alpha * op(a) @ op(b) + beta * out`` (module doc)."""
    _gemm(a, b, out, transa, transb, alpha, beta)


@nb.njit(**_JIT)
def dot(a, b):
    """A new C-contiguous ``a @ b`` of 2-D arrays.  With few rows in ``a``
    and ``b`` a transposed view (BPTT's ``g @ W.T``), BLAS is asked for
    ``(b.T @ a.T).T`` and the result copied to C order: faster at these
    shapes (see ``blas.py``'s table)."""
    if a.shape[1] != b.shape[0]:
        raise ValueError("dot: shapes not aligned (a's columns != b's rows)")
    lb = _layout(b)[0]
    if lb == 1 and a.shape[0] * 4 <= b.shape[1] and a.shape[1] >= 128:
        tmp = np.empty((b.shape[1], a.shape[0]), a.dtype)
        _gemm(b, a, tmp, True, True, 1.0, 0.0)
        return _c_copy(tmp.T)
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _gemm(a, b, out, False, False, 1.0, 0.0)
    return out
