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

__all__ = ["MatrixInverse", "Solve", "matrix_inverse", "solve"]


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
