"""``theano.tensor.nlinalg``: linear algebra through numpy. The ops live in
``symnet/tensor/ops/linalg.py``; this module adds Theano's compositions of
them: ``trace``, ``diag``, ``extract_diag``, ``alloc_diag``, ``matrix_dot``,
``matrix_power``, ``norm``, ``tensorinv`` and ``tensorsolve``.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> from symnet.tensor.nlinalg import det, norm, matrix_power
>>> x = T.dmatrix('x')
>>> f = symnet.function([x], [det(x), norm(x, 'fro'), matrix_power(x, 3)], mode='py')
>>> d, n, p = f(np.array([[2., 0.], [0., 3.]]))
>>> float(d), round(float(n), 4), p.tolist()
(6.0, 3.6056, [[8.0, 0.0], [0.0, 27.0]])
"""
import numpy as np

from .basic import as_tensor_variable
from .ops.linalg import (MatrixInverse, matrix_inverse, Det, det, Eigh, eigh,  # noqa: F401
                         SVD, svd, QRFull, qr, MatrixPinv, pinv, solve, Eig, eig, Lstsq)

__all__ = ["MatrixInverse", "matrix_inverse", "Det", "det", "Eigh", "eigh", "SVD", "svd",
           "QRFull", "qr", "MatrixPinv", "pinv", "trace", "diag", "extract_diag",
           "alloc_diag", "matrix_dot", "matrix_power", "norm", "tensorinv", "tensorsolve",
           "Eig", "eig", "lstsq"]

#: Theano's spelling: the op class is ``lstsq``, called as ``lstsq()(a, b, rcond)``
lstsq = Lstsq


def _T():
    from .. import tensor
    return tensor


def _of_ndim(who, x, ndim):
    x = as_tensor_variable(x)
    if x.ndim != ndim:
        raise TypeError(f"{who}: expected a {('vector', 'matrix')[ndim - 1]}, got {x} "
                        f"({x.ndim} dims)")
    return x


def trace(x):
    """The sum of the diagonal of the matrix ``x``."""
    return _T().trace(_of_ndim("trace", x, 2))


def extract_diag(x):
    """The diagonal of the matrix ``x`` (a vector)."""
    return _T().diag(_of_ndim("extract_diag", x, 2))


def alloc_diag(x):
    """The square matrix with the vector ``x`` on its diagonal."""
    return _T().diag(_of_ndim("alloc_diag", x, 1))


def diag(x):
    """``np.diag``: a vector's diagonal matrix, or a matrix's diagonal."""
    x = as_tensor_variable(x)
    if x.ndim == 1:
        return alloc_diag(x)
    if x.ndim == 2:
        return extract_diag(x)
    raise TypeError(f"diag: expected a vector or a matrix, got {x} ({x.ndim} dims)")


def matrix_dot(*args):
    """``args[0] @ args[1] @ ...``."""
    out = args[0]
    for a in args[1:]:
        out = _T().dot(out, a)
    return out


def matrix_power(M, n):
    """``M`` to the integer power ``n`` (by squaring; ``n < 0`` inverts ``M``
    first, ``n == 0`` gives the identity)."""
    M = as_tensor_variable(M)
    n = int(n)
    if n < 0:
        M, n = matrix_inverse(M), -n
    result, base = None, M
    while n:
        if n & 1:
            result = base if result is None else _T().dot(result, base)
        n >>= 1
        if n:
            base = _T().dot(base, base)
    if result is None:
        return _T().eye(M.shape[0], dtype=M.dtype) + 0 * M
    return result


def norm(x, ord=None):
    """``np.linalg.norm(x, ord)`` of a vector (``ord``: None/2, any p, inf,
    -inf, 0) or a matrix (``ord``: None/'fro', 1, -1, inf, -inf); ``'inf'``
    and ``'-inf'`` may be strings (Theano's spelling)."""
    T = _T()
    x = as_tensor_variable(x)
    ord = {"inf": np.inf, "-inf": -np.inf}.get(ord, ord) if isinstance(ord, str) else ord
    if x.ndim == 1:
        if ord is None or ord == 2:
            return T.sqrt(T.sum(T.sqr(x)))
        if ord == np.inf:
            return T.max(abs(x))
        if ord == -np.inf:
            return T.min(abs(x))
        if ord == 0:
            return T.cast(T.neq(x, 0), x.dtype).sum()
        if isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is for matrices, got the vector {x}")
        return T.sum(abs(x) ** ord) ** (1.0 / ord)
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return T.sqrt(T.sum(T.sqr(x)))
        if ord in (1, -1):
            s = T.sum(abs(x), axis=0)
            return T.max(s) if ord == 1 else T.min(s)
        if ord in (np.inf, -np.inf):
            s = T.sum(abs(x), axis=1)
            return T.max(s) if ord == np.inf else T.min(s)
        raise ValueError(f"norm: ord={ord!r} is not supported for matrices "
                         f"(None, 'fro', 1, -1, inf, -inf)")
    if x.ndim == 0:
        raise ValueError(f"norm: expected a vector or a matrix, got the scalar {x}")
    raise NotImplementedError(f"norm: only vectors and matrices, got {x} ({x.ndim} dims)")


def _float(a):
    """Integer arrays are solved in floats (float64, numpy's choice)."""
    return a if a.dtype.startswith("float") else _T().cast(a, "float64")


def tensorinv(a, ind=2):
    """``np.linalg.tensorinv``: the inverse of ``a`` seen as a matrix whose
    rows are its first ``ind`` axes."""
    T = _T()
    a = _float(as_tensor_variable(a))
    rows, cols = a.shape[:ind], a.shape[ind:]
    n = T.prod(rows)
    inv = matrix_inverse(a.reshape((n, -1), ndim=2))
    return inv.reshape(T.concatenate([cols, rows]), ndim=a.ndim)


def tensorsolve(a, b, axes=None):
    """``np.linalg.tensorsolve``: ``x`` with ``tensordot(a, x, x.ndim) == b``."""
    T = _T()
    a, b = _float(as_tensor_variable(a)), as_tensor_variable(b)
    if axes is not None:
        rest = [k for k in range(a.ndim) if k not in axes]
        a = a.dimshuffle(rest + list(axes))
    x_shape = a.shape[b.ndim:]
    m = T.prod(x_shape)
    x = solve(a.reshape((-1, m), ndim=2), b.flatten())
    return x.reshape(x_shape, ndim=a.ndim - b.ndim)
