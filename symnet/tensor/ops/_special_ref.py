"""The numpy references of the special functions (erf, erfc, gamma,
gammaln, psi, tri_gamma): the scalar-op table (elemwise.py) runs them on
the py backend; the numba kernels call ``backend/numba_cpu/lib/special.py``,
which takes the same steps.

erf, erfc, gamma and lgamma come from Python's ``math`` module; the digamma
and trigamma functions (which numpy lacks) use the recurrence ``psi(x) =
psi(x + 1) - 1/x`` up to x >= 10, then the asymptotic series; negative
arguments use the reflection formulas.  Poles give what scipy gives.
"""
import math

import numpy as np

__all__ = ["erf", "erfc", "gamma", "gammaln", "psi", "tri_gamma"]


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


def _quiet(fn):
    """``fn`` with numpy's warnings off (poles give inf/nan, as in scipy)."""
    def run(x):
        with np.errstate(all="ignore"):
            return fn(x)
    run.__name__ = fn.__name__
    return run


erf = _quiet(_vec(math.erf))
erfc = _quiet(_vec(math.erfc))
gamma = _quiet(_vec(_gamma))
gammaln = _quiet(_vec(_lgamma))
psi = _quiet(_digamma)
tri_gamma = _quiet(_trigamma)


def no_tri_gamma_grad(inputs, outputs, gz):
    """tri_gamma's gradient rule: the tetragamma function is not written."""
    raise NotImplementedError("the gradient of tri_gamma (the tetragamma function) is not "
                              "implemented in symnet")
