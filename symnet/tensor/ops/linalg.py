"""Dense linear algebra ops with gradients: the inverse of a square matrix
(``theano.tensor.nlinalg.matrix_inverse``) and the solution of a linear
system (``theano.tensor.slinalg.solve``).

Both run LAPACK through numpy. Their gradients are graphs of these same ops
and ``dot``, so second derivatives work:

- ``Y = inv(X)``: ``dX = -Y.T @ dY @ Y.T``;
- ``x = solve(A, b)``: ``db = solve(A.T, dx)``, ``dA = -db @ x.T``
  (``-outer(db, x)`` for a vector ``b``).
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType, upcast
from .elemwise import dimshuffle

__all__ = ["MatrixInverse", "Solve", "Det", "Eigh", "Eig", "Lstsq", "SVD", "QRFull",
           "MatrixPinv", "matrix_inverse", "solve", "det", "eigh", "eig", "svd", "qr", "pinv"]


def _float_matrix(who, x, name):
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"{who}: {name} must be a matrix (2 dims), got {x} with "
                        f"{x.ndim} dims")
    if not x.dtype.startswith("float"):
        raise TypeError(f"{who}: {name} must be a float matrix, got {x} of dtype "
                        f"{x.dtype} (cast it, e.g. {name}.astype('float64'))")
    return x


def _square(who, x):
    r, c = x.type.shape
    if r is not None and c is not None and r != c:
        raise ValueError(f"{who}: {x} must be square, got static shape ({r}, {c})")
    return r if r is not None else c


def _check_square_runtime(who, a):
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{who}: the matrix must be square, got shape {a.shape}")


class MatrixInverse(Op):
    """The inverse of a square float matrix (``np.linalg.inv``)."""

    __props__ = ()

    def make_node(self, x):
        x = _float_matrix("matrix_inverse", x, "x")
        n = _square("matrix_inverse", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n, n))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        _check_square_runtime("matrix_inverse", x)
        output_storage[0][0] = np.linalg.inv(x).astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        return [(s[1], s[0])]

    def L_op(self, inputs, outputs, output_grads):
        from .blas import dot
        (y,) = outputs
        (gz,) = output_grads
        yt = dimshuffle(y, (1, 0))
        return [-dot(dot(yt, gz), yt)]


class Solve(Op):
    """``x`` with ``A @ x = b`` for a square float matrix ``A`` and a vector
    or matrix ``b`` (``np.linalg.solve``).

    ``A_structure`` and ``lower`` are Theano's hints (triangular or
    symmetric ``A``); the general solver gives the same result for every
    structure, so they only need to be valid.
    """

    __props__ = ("A_structure", "lower")
    _STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")

    def __init__(self, A_structure="general", lower=False, overwrite_A=False,
                 overwrite_b=False):
        if A_structure not in self._STRUCTURES:
            raise ValueError(f"solve: A_structure must be one of {self._STRUCTURES}, "
                             f"got {A_structure!r}")
        self.A_structure = A_structure
        self.lower = bool(lower)

    def make_node(self, a, b):
        a = _float_matrix("solve", a, "A")
        b = as_tensor_variable(b)
        if b.ndim not in (1, 2):
            raise TypeError(f"solve: b must be a vector or a matrix, got {b} with "
                            f"{b.ndim} dims")
        n = _square("solve", a)
        if n is not None and b.type.shape[0] is not None and b.type.shape[0] != n:
            raise ValueError(f"solve: A is ({n}, {n}) but b has {b.type.shape[0]} rows "
                             f"({b})")
        dtype = upcast(a.dtype, b.dtype if b.dtype.startswith("float") else a.dtype)
        shape = (a.type.shape[1],) + tuple(b.type.shape[1:])
        return Apply(self, [a, b], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _check_square_runtime("solve", a)
        if b.shape[0] != a.shape[0]:
            raise ValueError(f"solve: A has shape {a.shape} but b has {b.shape[0]} rows "
                             f"(shape {b.shape})")
        dtype = node.outputs[0].dtype
        # a triangular A is read through its triangle only (as LAPACK's
        # triangular solver does); np.linalg.solve reads a 1-D b as one
        # right-hand side
        a = _TRIANGLE.get(self.A_structure, lambda m: m)(a)
        output_storage[0][0] = np.linalg.solve(a, b).astype(dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        sa, sb = input_shapes
        return [(sa[1],) + tuple(sb[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from .blas import dot, outer
        a, b = inputs
        (x,) = outputs
        (gz,) = output_grads
        gb = Solve(_TRANSPOSED.get(self.A_structure, self.A_structure), not self.lower)(
            dimshuffle(a, (1, 0)), gz)
        ga = -outer(gb, x) if x.ndim == 1 else -dot(gb, dimshuffle(x, (1, 0)))
        if self.A_structure in _TRIANGLE:     # the other triangle is never read
            from .decomp import _tril_scaled
            ga = (_tril_scaled(ga, 1.0) if self.A_structure == "lower_triangular"
                  else dimshuffle(_tril_scaled(dimshuffle(ga, (1, 0)), 1.0), (1, 0)))
        return [ga, gb]


# The transpose of a triangular matrix is triangular the other way.
_TRANSPOSED = {"lower_triangular": "upper_triangular", "upper_triangular": "lower_triangular"}
_TRIANGLE = {"lower_triangular": np.tril, "upper_triangular": np.triu}


def matrix_inverse(x):
    """The inverse of the square matrix ``x``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dmatrix('x')
    >>> matrix_inverse(x).eval({x: np.array([[2., 0.], [0., 4.]])})
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return MatrixInverse()(x)


def solve(a, b):
    """``x`` solving ``a @ x = b`` (``b`` a vector or a matrix).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> a, b = T.dmatrix('a'), T.dvector('b')
    >>> solve(a, b).eval({a: np.array([[2., 0.], [1., 1.]]), b: np.array([2., 3.])})
    array([1., 2.])
    """
    return Solve()(a, b)


# -- determinant, symmetric eigendecomposition, SVD, QR, pseudo-inverse --------

class Det(Op):
    """The determinant of a square float matrix (``np.linalg.det``); its
    gradient is ``det(X) * inv(X).T``."""

    __props__ = ()

    def make_node(self, x):
        x = _float_matrix("det", x, "x")
        _square("det", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=())()])

    def perform(self, node, inputs, output_storage):
        _check_square_runtime("det", inputs[0])
        output_storage[0][0] = np.asarray(np.linalg.det(inputs[0]), dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (d,), (gz,) = inputs, outputs, output_grads
        return [gz * d * dimshuffle(MatrixInverse()(x), (1, 0))]


class Eigh(Op):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric
    float matrix, reading only its lower (``UPLO='L'``) or upper triangle
    (``np.linalg.eigh``)."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO="L"):
        if UPLO not in ("L", "U"):
            raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def make_node(self, x):
        x = _float_matrix("eigh", x, "x")
        n = _square("eigh", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n,))(),
                                 TensorType(x.dtype, shape=(n, n))()])

    def perform(self, node, inputs, output_storage):
        _check_square_runtime("eigh", inputs[0])
        w, v = np.linalg.eigh(inputs[0], self.UPLO)
        for store, val, out in zip(output_storage, (w, v), node.outputs):
            store[0] = val.astype(out.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        return [(s[0],), (s[0], s[0])]

    def L_op(self, inputs, outputs, output_grads):
        # For the symmetric S the op reads: dS = V (diag(gw) + F o (V^T gV)) V^T,
        # F_ij = 1 / (w_j - w_i) off the diagonal; then symmetrized, and mapped
        # to the entries read (the triangle counts twice off the diagonal).
        from .blas import dot
        from ... import tensor as T
        (x,), (w, v) = inputs, outputs
        gw, gv = output_grads
        vt = dimshuffle(v, (1, 0))
        n = w.shape[0]
        eye = T.eye(n, dtype=x.dtype)
        inner = 0
        if gw is not None:
            inner = inner + eye * dimshuffle(gw, ("x", 0))
        if gv is not None:
            diff = dimshuffle(w, ("x", 0)) - dimshuffle(w, (0, "x"))
            inner = inner + (1 - eye) / (diff + eye) * dot(vt, gv)
        g = dot(dot(v, inner), vt)
        g = (g + dimshuffle(g, (1, 0))) / 2
        tri = T.tril if self.UPLO == "L" else T.triu
        return [tri(2 * g) - eye * g]


class SVD(Op):
    """Singular value decomposition (``np.linalg.svd``): ``s`` alone, or
    ``u, s, vt`` with ``compute_uv``; no gradient (as in Theano)."""

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x):
        x = _float_matrix("svd", x, "x")
        mk = lambda nd: TensorType(x.dtype, shape=(None,) * nd)()  # noqa: E731
        outs = [mk(2), mk(1), mk(2)] if self.compute_uv else [mk(1)]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage):
        res = np.linalg.svd(inputs[0], self.full_matrices, self.compute_uv)
        res = res if self.compute_uv else (res,)
        for store, val, out in zip(output_storage, res, node.outputs):
            store[0] = val.astype(out.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        m, n = input_shapes[0]
        k = T.minimum(m, n)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(m, m), (k,), (n, n)]
        return [(m, k), (k,), (k, n)]


class QRFull(Op):
    """QR decomposition (``np.linalg.qr``) with numpy's modes: ``'reduced'``
    and ``'complete'`` give ``q, r``; ``'r'`` gives ``r``; ``'raw'`` gives
    ``h, tau``. No gradient (as in Theano)."""

    __props__ = ("mode",)
    _MODES = ("reduced", "complete", "r", "raw")

    def __init__(self, mode="reduced"):
        if mode not in self._MODES:
            raise ValueError(f"qr: mode must be one of {self._MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, x):
        x = _float_matrix("qr", x, "x")
        nout = 1 if self.mode == "r" else 2
        shapes = [(None, None)] * nout if self.mode != "raw" else [(None, None), (None,)]
        return Apply(self, [x], [TensorType(x.dtype, shape=s)() for s in shapes])

    def perform(self, node, inputs, output_storage):
        res = np.linalg.qr(inputs[0], self.mode)
        res = (res,) if self.mode == "r" else tuple(res)
        for store, val, out in zip(output_storage, res, node.outputs):
            store[0] = np.asarray(val).astype(out.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        m, n = input_shapes[0]
        k = T.minimum(m, n)
        return {"reduced": [(m, k), (k, n)], "complete": [(m, m), (m, n)],
                "r": [(k, n)], "raw": [(n, m), (k,)]}[self.mode]


class MatrixPinv(Op):
    """The Moore-Penrose pseudo-inverse (``np.linalg.pinv``). Its gradient
    (Golub and Pereyra's, exact where the rank does not change):
    ``-P.T G P.T + (I - X P) G.T P P.T + P.T P G.T (I - P X)`` for ``P = pinv(X)``."""

    __props__ = ()

    def make_node(self, x):
        x = _float_matrix("pinv", x, "x")
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape[::-1])()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.linalg.pinv(inputs[0]).astype(node.outputs[0].dtype,
                                                                 copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][::-1]]

    def L_op(self, inputs, outputs, output_grads):
        from .blas import dot
        from ... import tensor as T
        (x,), (p,), (g,) = inputs, outputs, output_grads
        t = lambda v: dimshuffle(v, (1, 0))  # noqa: E731
        m, n = x.shape[0], x.shape[1]
        left = T.eye(m, dtype=x.dtype) - dot(x, p)
        right = T.eye(n, dtype=x.dtype) - dot(p, x)
        return [-dot(dot(t(p), g), t(p)) + dot(dot(left, t(g)), dot(p, t(p)))
                + dot(dot(t(p), p), dot(t(g), right))]


class Eig(Op):
    """Eigenvalues and right eigenvectors (columns) of a square float matrix
    (``np.linalg.eig``), in the input's dtype as Theano gives them: real,
    so only the real parts of complex ones (their order is numpy's, not
    sorted).  No gradient (Theano has none either)."""

    __props__ = ()

    def make_node(self, x):
        x = _float_matrix("eig", x, "x")
        n = _square("eig", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n,))(),
                                 TensorType(x.dtype, shape=(n, n))()])

    def perform(self, node, inputs, output_storage):
        _check_square_runtime("eig", inputs[0])
        for store, val, out in zip(output_storage, np.linalg.eig(inputs[0]), node.outputs):
            store[0] = np.ascontiguousarray(val.real, dtype=out.dtype)

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        return [(s[0],), (s[0], s[0])]


class Lstsq(Op):
    """``np.linalg.lstsq(a, b, rcond)``: ``[x, residuals, rank, s]``, the
    least-squares solution of ``a @ x = b`` (float64 for integer inputs;
    ``x`` has ``b``'s dimensions), the squared residuals per column, the
    rank of ``a`` (int64) and its singular values.  No gradient (as
    Theano)."""

    __props__ = ()

    def make_node(self, a, b, rcond):
        a, b, rcond = (as_tensor_variable(v) for v in (a, b, rcond))
        if a.ndim != 2:
            raise TypeError(f"lstsq: the coefficient matrix a must have 2 dims, got {a} "
                            f"with {a.ndim}")
        if b.ndim not in (1, 2):
            raise TypeError(f"lstsq: b must be a vector or a matrix, got {b} with {b.ndim} dims")
        if rcond.ndim != 0:
            raise TypeError(f"lstsq: rcond must be a scalar, got {rcond} with {rcond.ndim} dims")
        floats = [v.dtype for v in (a, b) if v.dtype.startswith("float")]
        dtype = upcast(*floats) if floats else "float64"
        x = TensorType(dtype, shape=(a.type.shape[1],) + tuple(b.type.shape[1:]))()
        return Apply(self, [a, b, rcond], [x, TensorType(dtype, shape=(None,))(),
                                           TensorType("int64", shape=())(),
                                           TensorType(dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        a, b, rcond = inputs
        res = np.linalg.lstsq(a, b, rcond=float(rcond))
        for store, val, out in zip(output_storage, res, node.outputs):
            store[0] = np.asarray(val, dtype=out.dtype)

    def infer_shape(self, node, input_shapes):
        sa, sb, _ = input_shapes
        return [(sa[1],) + tuple(sb[1:]), (node.outputs[1].shape[0],), (),
                (node.outputs[3].shape[0],)]

    def L_op(self, inputs, outputs, output_grads):
        from ...graph.op import grad_undefined
        return [grad_undefined(self, k, v, "lstsq has no gradient")
                for k, v in enumerate(inputs)]


#: ``eig(a) -> [w, v]``: Theano's op instance (an op, so that it can be
#: stored and called like a function)
eig = Eig()


def det(x):
    """The determinant of the square matrix ``x``."""
    return Det()(x)


def eigh(a, UPLO="L"):
    """``(w, v)``: eigenvalues (ascending) and eigenvectors of the symmetric ``a``."""
    return Eigh(UPLO)(a)


def svd(a, full_matrices=1, compute_uv=1):
    """``np.linalg.svd``: ``[u, s, vt]``, or ``s`` when ``compute_uv`` is false."""
    out = SVD(full_matrices, compute_uv)(a)
    return out


def qr(a, mode="reduced"):
    """``np.linalg.qr``: ``[q, r]`` (``'reduced'``, ``'complete'``), ``r``
    (``'r'``) or ``[h, tau]`` (``'raw'``)."""
    return QRFull(mode)(a)


def pinv(x):
    """The pseudo-inverse of the matrix ``x``."""
    return MatrixPinv()(x)
