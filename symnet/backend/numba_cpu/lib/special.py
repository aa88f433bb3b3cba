"""Special functions for numba kernels: ``_erf``, ``_erfc``, ``_gamma``,
``_gammaln``, ``_psi`` and ``_tri_gamma`` of one float64.

A real module: the generated kernel modules import it (``from
symnet.backend.numba_cpu.lib.special import _psi``), and ``f.source``
inlines its text below the ``# -- body`` line.
"""
import numba as nb

__all__ = ["_erf", "_erfc", "_gamma", "_gammaln", "_psi", "_tri_gamma"]

# -- body (inlined by f.source)
import math  # noqa: E402  (in the body: the exported listing imports numpy and numba only)

# erf, erfc, gamma and lgamma are C's (numba compiles Python's math
# module to them); digamma and trigamma, which C lacks, climb by the
# recurrence psi(x) = psi(x + 1) - 1/x to x >= 10 and finish with the
# asymptotic series, negative arguments by the reflection formulas: the
# same steps as the py reference (tensor/ops/_special_ref.py), so both agree to
# a few ulps.  Poles give what scipy gives: gamma(0) = inf with 0's sign,
# gamma(-n) = nan, gammaln = inf, psi(0) = -inf and psi(-n) = nan,
# tri_gamma(-n) = inf.
_SPECIAL_FLAGS = dict(cache=True, nogil=True, inline="always")


@nb.njit(**_SPECIAL_FLAGS)
def _erf(x):
    return math.erf(x)


@nb.njit(**_SPECIAL_FLAGS)
def _erfc(x):
    return math.erfc(x)


@nb.njit(**_SPECIAL_FLAGS)
def _is_pole(x):
    return x <= 0.0 and x == math.floor(x)


@nb.njit(**_SPECIAL_FLAGS)
def _gamma(x):
    if x == 0.0:
        return math.copysign(math.inf, x)
    if _is_pole(x):
        return math.nan
    if x > 171.7:
        return math.inf
    return math.gamma(x)


@nb.njit(**_SPECIAL_FLAGS)
def _gammaln(x):
    if _is_pole(x):
        return math.inf
    return math.lgamma(x)


@nb.njit(**_SPECIAL_FLAGS)
def _psi(x):
    if x == 0.0:
        return -math.inf
    if _is_pole(x):
        return math.nan
    out = 0.0
    if x < 0.0:
        out = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 10.0:
        out -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    return out + math.log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (
        1.0 / 252 - f * (1.0 / 240 - f / 132))))


@nb.njit(**_SPECIAL_FLAGS)
def _tri_gamma(x):
    if _is_pole(x):
        return math.inf
    out = 0.0
    sign = 1.0
    if x < 0.0:
        s = math.sin(math.pi * x)
        out = (math.pi / s) ** 2
        sign = -1.0
        x = 1.0 - x
    while x < 10.0:
        out += sign / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    return out + sign * (1.0 / x + f / 2 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (
        1.0 / 42 - f / 30))))
