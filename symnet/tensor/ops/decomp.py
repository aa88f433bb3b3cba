"""Decompositions of symmetric matrices, with gradients:
``theano.tensor.slinalg.cholesky`` and ``eigvalsh``.

Both read only the lower triangle of their input (as numpy's LAPACK calls
do), so their gradients are lower triangular: an entry above the diagonal
does not change the result.  Each gradient is a graph of ``dot``,
``matrix_inverse`` and elementwise masks, so second derivatives work.

- ``L = cholesky(A)``, ``A = L @ L.T``: with ``Phi(X)`` the lower triangle
  of ``X`` with its diagonal halved, ``S = sym(L^-T Phi(L.T @ dL) L^-1)``;
  the gradient is ``S`` on the diagonal and ``2 S`` below it.
- ``w = eigvalsh(A)`` (ascending), eigenvectors ``V``: ``S = V diag(dw)
  V.T``, folded onto the lower triangle the same way.  With ``B``
  (``A v = w B v``, ``B`` positive definite; ``V`` then B-orthonormal):
  ``dB`` is ``-V diag(w dw) V.T`` folded likewise.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..type import TensorType, upcast
from .elemwise import SCALAR_OPS, elemwise
from .linalg import _check_square_runtime, _float_matrix, _square

__all__ = ["Cholesky", "Eigvalsh", "cholesky", "eigvalsh", "generalized_eigh"]


def _tril_scaled(x, diag_scale, below_scale=1.0):
    """``x`` below the diagonal times ``below_scale``, on it times
    ``diag_scale``, zero above, as a graph."""
    from ..arrange import tri
    n = x.shape[0]
    switch = SCALAR_OPS["switch"]
    return elemwise(switch, tri(n, n, -1, dtype="bool"), below_scale * x,
                    elemwise(switch, tri(n, n, 0, dtype="bool"), diag_scale * x, 0 * x))


def _fold_lower(s):
    """The gradient w.r.t. a matrix read through its lower triangle only,
    from the symmetric gradient ``s``: ``s`` on the diagonal, ``2 s`` below."""
    return _tril_scaled(s, 1.0, 2.0)


class Cholesky(Op):
    """The lower (``lower=True``) or upper Cholesky factor of a symmetric
    positive definite float matrix (``np.linalg.cholesky``)."""

    __props__ = ("lower",)

    def __init__(self, lower=True):
        self.lower = bool(lower)

    def make_node(self, a):
        a = _float_matrix("cholesky", a, "A")
        n = _square("cholesky", a)
        return Apply(self, [a], [TensorType(a.dtype, shape=(n, n))()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        _check_square_runtime("cholesky", a)
        try:
            # the upper factor reads the upper triangle: that of a.T is lower
            low = np.linalg.cholesky(a if self.lower else a.T)
        except np.linalg.LinAlgError as exc:
            raise np.linalg.LinAlgError(
                f"cholesky: the matrix of shape {a.shape} is not positive definite ({exc})"
            ) from None
        out = low if self.lower else low.T
        output_storage[0][0] = np.ascontiguousarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .blas import dot
        from .linalg import matrix_inverse
        (l,) = outputs
        (gl,) = output_grads
        if not self.lower:   # U = chol(A.T).T: work with L = U.T and A.T
            l, gl = l.T, gl.T
        p = dot(l.T, gl)
        phi = _tril_scaled(p, 0.5)
        linv = matrix_inverse(l)
        g = dot(dot(linv.T, phi), linv)
        ga = _fold_lower(0.5 * (g + g.T))
        return [ga if self.lower else ga.T]


class Eigvalsh(Op):
    """The eigenvalues, ascending, of a symmetric float matrix ``a``, or of
    the generalized problem ``a v = w b v`` with ``b`` symmetric positive
    definite (``lower``: which triangle is read; Theano's default True)."""

    __props__ = ("lower",)

    def __init__(self, lower=True):
        self.lower = bool(lower)

    def make_node(self, a, b=None):
        a = _float_matrix("eigvalsh", a, "a")
        n = _square("eigvalsh", a)
        inputs = [a]
        dtype = a.dtype
        if b is not None:
            b = _float_matrix("eigvalsh", b, "b")
            inputs.append(b)
            dtype = upcast(a.dtype, b.dtype)
        return Apply(self, inputs, [TensorType(dtype, shape=(n,))()])

    def _vectors(self, a, b=None):
        """Eigenvalues and (B-orthonormal) eigenvectors, numpy only: the
        generalized problem through ``b``'s Cholesky factor."""
        return generalized_eigh(a, b, self.lower)

    def perform(self, node, inputs, output_storage):
        for x in inputs:
            _check_square_runtime("eigvalsh", x)
        if len(inputs) == 2 and inputs[1].shape != inputs[0].shape:
            raise ValueError(f"eigvalsh: a has shape {inputs[0].shape} but b has "
                             f"{inputs[1].shape}")
        w, _ = self._vectors(*inputs)
        output_storage[0][0] = w.astype(node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        from .blas import dot
        (gw,) = output_grads
        (w,) = outputs
        v = _EigvecshOf(self)(*inputs)
        grads = [dot(v * gw, v.T)]
        if len(inputs) == 2:
            grads.append(-dot(v * (gw * w), v.T))
        fold = _fold_lower if self.lower else (lambda s: _fold_lower(s.T).T)
        return [fold(g) for g in grads]


class _EigvecshOf(Op):
    """The eigenvectors (columns) matching ``Eigvalsh``'s values; its
    gradient's building block, not differentiable itself."""

    __props__ = ("values",)

    def __init__(self, values):
        self.values = values

    def make_node(self, *inputs):
        n = inputs[0].type.shape[0]
        dtype = upcast(*(x.dtype for x in inputs))
        return Apply(self, list(inputs), [TensorType(dtype, shape=(n, n))()])

    def perform(self, node, inputs, output_storage):
        _, v = self.values._vectors(*inputs)
        output_storage[0][0] = np.ascontiguousarray(v, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0], input_shapes[0][0])]


def generalized_eigh(a, b, lower):
    """``np.linalg.eigh`` of ``a`` (its ``lower`` triangle), or of the
    generalized problem through ``b``'s Cholesky factor ``L``: the
    eigenvectors ``u`` of ``L^-1 a L^-T`` give ``v = L^-T u``."""
    if lower is False:          # the upper triangles are the lower ones of the transposes
        a, b = a.T, (None if b is None else b.T)
    if b is None:
        return np.linalg.eigh(a, UPLO="L")
    linv = np.linalg.inv(np.linalg.cholesky(b))
    w, u = np.linalg.eigh(linv @ (np.tril(a) + np.tril(a, -1).T) @ linv.T)
    return w, linv.T @ u


def cholesky(a, lower=True):
    """The Cholesky factor of a symmetric positive definite matrix: lower
    (``a = L @ L.T``) or, with ``lower=False``, upper (``a = U.T @ U``)."""
    return Cholesky(lower)(a)


def eigvalsh(a, b=None, lower=True):
    """Eigenvalues (ascending) of the symmetric matrix ``a``, or of ``a v =
    w b v`` with ``b`` positive definite."""
    return Eigvalsh(lower)(a, b)
