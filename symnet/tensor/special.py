"""Special functions of Theano's tensor namespace: ``erf erfc gamma gammaln
psi tri_gamma`` (scalar ops of the elementwise table, so they fuse into the
loops around them; their numpy references are in ``ops/_special_ref.py``, the
numba kernels' helpers in ``backend/numba_cpu/lib/special.py``), and the
compositions ``erfcx``, ``deg2rad``, ``rad2deg``.

Each gradient is again a special function: ``gammaln' = psi``,
``psi' = tri_gamma``, ``gamma' = gamma * psi``; ``tri_gamma``'s is undefined.

Theano's scipy-only functions (``erfinv erfcinv chi2sf j0 j1 jv i0 i1 iv``)
exist as names that raise NotImplementedError saying so, so that code
that merely mentions them still imports.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> x = T.dvector('x')
>>> f = symnet.function([x], [T.erf(x), T.gammaln(x), T.psi(x)], mode='py')
>>> [np.round(a, 6).tolist() for a in f(np.array([1.0, 2.0]))]
[[0.842701, 0.995322], [0.0, 0.0], [-0.577216, 0.422784]]
"""
import numpy as np

from .basic import as_tensor_variable
from .ops.elemwise import SCALAR_OPS, elemwise

__all__ = ["erf", "erfc", "erfcx", "gamma", "gammaln", "psi", "tri_gamma",
           "deg2rad", "rad2deg", "UNSUPPORTED"]


def _T():
    from .. import tensor
    return tensor


def _special(name, x):
    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError(f"{name}: complex inputs are not supported, got {x} ({x.dtype})")
    return elemwise(SCALAR_OPS[name], x)


def erf(x):
    """The error function, ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    return _special("erf", x)


def erfc(x):
    """``1 - erf(x)``, accurate where ``erf(x)`` is close to 1."""
    return _special("erfc", x)


def erfcx(x):
    """The scaled complementary error function ``exp(x^2) * erfc(x)``
    (computed as that product: it overflows for x above about 26)."""
    x = as_tensor_variable(x)
    return _T().exp(x * x) * erfc(x)


def gamma(x):
    """The gamma function (``gamma(n) = (n - 1)!``)."""
    return _special("gamma", x)


def gammaln(x):
    """``log(|gamma(x)|)``."""
    return _special("gammaln", x)


def psi(x):
    """The digamma function ``d/dx log(gamma(x))``."""
    return _special("psi", x)


def tri_gamma(x):
    """The trigamma function ``d/dx psi(x)``."""
    return _special("tri_gamma", x)


def deg2rad(x):
    """Degrees to radians."""
    return x * float(np.pi / 180)


def rad2deg(x):
    """Radians to degrees."""
    return x * float(180 / np.pi)


def _unsupported(name, what):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"T.{name} ({what}) is not implemented in symnet "
                                  f"(Theano computed it with scipy)")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Theano's ``{name}`` ({what}): not implemented in symnet; raises."
    return fn


#: Theano's scipy-only special functions: names that raise when called.
UNSUPPORTED = {name: _unsupported(name, what) for name, what in (
    ("erfinv", "inverse error function"), ("erfcinv", "inverse complementary error function"),
    ("chi2sf", "chi-square survival function"), ("j0", "Bessel function J0"),
    ("j1", "Bessel function J1"), ("jv", "Bessel function Jv"),
    ("i0", "modified Bessel function I0"), ("i1", "modified Bessel function I1"),
    ("iv", "modified Bessel function Iv"),
    ("complex_from_polar", "complex numbers: symnet has no complex dtypes"))}
