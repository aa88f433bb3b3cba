"""Special functions of Theano's tensor namespace: ``erf erfc gamma gammaln
psi tri_gamma`` (one Op, ``Special``, named by the function), and the
compositions ``erfcx``, ``deg2rad``, ``rad2deg``.

The numpy reference uses Python's ``math`` module (erf, erfc, gamma,
lgamma) and, for the digamma and trigamma functions (which numpy lacks),
the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to x >= 10, then the
asymptotic series; negative arguments use the reflection formulas.
Each gradient is again a special function: ``gammaln' = psi``,
``psi' = tri_gamma``, ``gamma' = gamma * psi``.

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
import math

import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .elemwise import float_out

__all__ = ["Special", "erf", "erfc", "erfcx", "gamma", "gammaln", "psi", "tri_gamma",
           "deg2rad", "rad2deg", "UNSUPPORTED"]


def _vec(fn):
    return np.vectorize(fn, otypes=[np.float64])


def _gamma(x):
    try:
        return math.gamma(x)
    except OverflowError:
        return math.inf
    except ValueError:       # a pole: 0 (inf, with 0's sign) or a negative integer
        return math.copysign(math.inf, x) if x == 0 else math.nan


def _lgamma(x):
    try:
        return math.lgamma(x)
    except ValueError:       # a pole
        return math.inf


def _poles(x):
    return (x <= 0) & (x == np.floor(x))


def _digamma(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    neg = x < 0
    # reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
    out[neg] = -np.pi / np.tan(np.pi * x[neg])
    y = np.where(neg, 1 - x, x)
    small = y < 10
    while small.any():
        out[small] -= 1 / y[small]
        y = np.where(small, y + 1, y)
        small = y < 10
    f = 1 / (y * y)
    out += np.log(y) - 0.5 / y - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (
        1 / 240 - f / 132))))
    out[_poles(x)] = np.nan
    out[x == 0] = -np.inf
    return out


def _trigamma(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    neg = x < 0
    # reflection: psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
    out[neg] = (np.pi / np.sin(np.pi * x[neg])) ** 2
    sign = np.where(neg, -1.0, 1.0)
    y = np.where(neg, 1 - x, x)
    small = y < 10
    while small.any():
        out[small] += sign[small] / (y[small] * y[small])
        y = np.where(small, y + 1, y)
        small = y < 10
    f = 1 / (y * y)
    out += sign * (1 / y + f / 2 + f / y * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30))))
    out[_poles(x)] = np.inf
    return out


def _T():
    from ... import tensor
    return tensor


def _no_grad(name):
    def grad(x, out):
        raise NotImplementedError(f"the gradient of {name} is not implemented in symnet")
    return grad


# name: (numpy reference, d out / d x as graph of (x, out))
_TABLE = {
    "erf": (_vec(math.erf),
            lambda x, o: float(2 / np.sqrt(np.pi)) * _T().exp(-x * x)),
    "erfc": (_vec(math.erfc),
             lambda x, o: float(-2 / np.sqrt(np.pi)) * _T().exp(-x * x)),
    "gamma": (_vec(_gamma), lambda x, o: o * psi(x)),
    "gammaln": (_vec(_lgamma), lambda x, o: psi(x)),
    "psi": (_digamma, lambda x, o: tri_gamma(x)),
    "tri_gamma": (_trigamma, _no_grad("tri_gamma")),
}


class Special(Op):
    """A special function (``name``, a key of the table above), elementwise;
    integer inputs give ``config.floatX``, floats keep their dtype."""

    __props__ = ("name",)

    def __init__(self, name):
        if name not in _TABLE:
            raise ValueError(f"Special: unknown function {name!r}; known: {sorted(_TABLE)}")
        self.name = name

    def __str__(self):
        return self.name

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.dtype.startswith("complex"):
            raise TypeError(f"{self.name}: complex inputs are not supported, got {x} "
                            f"({x.dtype})")
        out = TensorType(float_out(x.dtype), shape=x.type.shape)()
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        with np.errstate(all="ignore"):   # poles give inf/nan, as in scipy
            out = _TABLE[self.name][0](inputs[0])
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (out,), (g,) = inputs, outputs, output_grads
        if not x.dtype.startswith("float"):
            return [None]
        return [_T().cast(g * _TABLE[self.name][1](x, out), x.dtype)]


def erf(x):
    """The error function, ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    return Special("erf")(x)


def erfc(x):
    """``1 - erf(x)``, accurate where ``erf(x)`` is close to 1."""
    return Special("erfc")(x)


def erfcx(x):
    """The scaled complementary error function ``exp(x^2) * erfc(x)``
    (computed as that product: it overflows for x above about 26)."""
    x = as_tensor_variable(x)
    return _T().exp(x * x) * erfc(x)


def gamma(x):
    """The gamma function (``gamma(n) = (n - 1)!``)."""
    return Special("gamma")(x)


def gammaln(x):
    """``log(|gamma(x)|)``."""
    return Special("gammaln")(x)


def psi(x):
    """The digamma function ``d/dx log(gamma(x))``."""
    return Special("psi")(x)


def tri_gamma(x):
    """The trigamma function ``d/dx psi(x)``."""
    return Special("tri_gamma")(x)


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
