"""``theano.sandbox.linalg``: the old home of the linear-algebra ops, kept
for scripts that import them from here (the same functions as
``symnet.tensor.nlinalg`` and ``symnet.tensor.slinalg``)."""
from ..tensor.nlinalg import *  # noqa: F401,F403
from ..tensor.slinalg import *  # noqa: F401,F403
from ..tensor import nlinalg as _nlinalg, slinalg as _slinalg

__all__ = list(_nlinalg.__all__) + list(_slinalg.__all__) + ["psd", "spectral_radius_bound"]


def psd(x):
    """Theano's hint that ``x`` is positive semi-definite; symnet's solvers
    need no hint, so this returns ``x``."""
    return x


def spectral_radius_bound(x, log2_exponent):
    """An upper bound on the largest absolute eigenvalue of the symmetric
    matrix ``x``: ``trace(x ** (2 ** k)) ** (2 ** -k)`` (matrix powers by
    ``k = log2_exponent`` squarings; larger ``k``, tighter bound)."""
    from ..tensor import dot, trace
    if not isinstance(log2_exponent, int) or log2_exponent <= 0:
        raise ValueError(f"spectral_radius_bound: log2_exponent must be a positive int, "
                         f"got {log2_exponent!r}")
    xx = x
    for _ in range(log2_exponent):
        xx = dot(xx, xx)
    return trace(xx) ** (2.0 ** -log2_exponent)
