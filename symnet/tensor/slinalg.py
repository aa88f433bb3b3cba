"""``theano.tensor.slinalg``: linear systems and decompositions of
symmetric matrices (the ops live in ``symnet/tensor/ops/linalg.py`` and
``decomp.py``; numpy's LAPACK runs them, no scipy needed)."""
from .ops.decomp import Cholesky, Eigvalsh, cholesky, eigvalsh  # noqa: F401
from .ops.linalg import Solve, solve  # noqa: F401

__all__ = ["Solve", "solve", "solve_lower_triangular", "solve_upper_triangular",
           "solve_symmetric", "cho_solve", "Cholesky", "cholesky", "Eigvalsh", "eigvalsh",
           "kron"]


def solve_lower_triangular(a, b):
    """``x`` with ``a @ x = b``, reading only the lower triangle of ``a``."""
    return Solve("lower_triangular", lower=True)(a, b)


def solve_upper_triangular(a, b):
    """``x`` with ``a @ x = b``, reading only the upper triangle of ``a``."""
    return Solve("upper_triangular", lower=False)(a, b)


def solve_symmetric(a, b):
    """``x`` with ``a @ x = b`` for a symmetric ``a`` (the general solver)."""
    return Solve("symmetric")(a, b)


def cho_solve(c_and_lower, b):
    """``x`` with ``A @ x = b`` from ``(c, lower)``, ``c`` the Cholesky factor
    of ``A`` (lower if ``lower``, else upper), as scipy's ``cho_solve``."""
    c, lower = c_and_lower
    if lower:
        return solve_upper_triangular(c.T, solve_lower_triangular(c, b))
    return solve_upper_triangular(c, solve_lower_triangular(c.T, b))


def kron(a, b):
    """The Kronecker product of two vectors or two matrices (``np.kron``)."""
    from .basic import as_tensor_variable
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim != b.ndim or a.ndim not in (1, 2):
        raise TypeError(f"kron: a and b must both be vectors or both matrices, got {a} "
                        f"({a.ndim} dims) and {b} ({b.ndim} dims)")
    if a.ndim == 1:
        return (a.dimshuffle(0, "x") * b.dimshuffle("x", 0)).flatten()
    prod = a.dimshuffle(0, "x", 1, "x") * b.dimshuffle("x", 0, "x", 1)
    return prod.reshape((a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))
