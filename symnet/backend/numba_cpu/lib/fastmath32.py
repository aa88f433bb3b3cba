"""float32 exp, tanh and sigmoid that LLVM vectorizes: the helpers numba
kernels call (``_exp32``, ``_tanh32``, ``_sigmoid32``).

A real module: the generated kernel modules import it
(``from symnet.backend.numba_cpu.lib.fastmath32 import _exp32``), so it is
compiled once per machine (``cache=True``), and ``f.source`` inlines its
text below the ``# -- body`` line so exported modules need only numpy and
numba.
"""
import numpy as np
import numba as nb

__all__ = ["_exp32", "_tanh32", "_sigmoid32"]

# -- body (inlined by f.source)
# Why: llvmlite here has no SVML, so ``np.exp``/``np.tanh`` on a scalar
# call libm per element and stop LLVM from vectorizing the loop
# (~5 ns/element).  These float32 versions are
# branch-free (clamps and selects only), so a fused loop using them becomes
# AVX code (~0.6 ns/element).  They are compiled with their own fastmath set
# (no ``reassoc``: the Cody-Waite steps must stay in order; no ``nsz``:
# tanh(-0.0) = -0.0; no ``nnan``/``ninf``: special values are selected
# explicitly); LLVM inlines them into the calling loop.
#
# ``_exp32``: n = floor(x*log2(e) + 1/2), r = x - n*ln2 with ln2 split in a
# 9-bit head (n*head exact) and a tail, e^r by its degree-7 Taylor
# polynomial (|r| <= ln2/2, truncation 7e-9 relative), times 2^n built from
# the exponent bits in two halves so 2^128 overflows to inf and 2^-150
# underflows gradually.  Measured on 1e7 points of linspace(-88, 88): at
# most 1 float32 step from the correctly rounded exp (float64, rounded);
# at most 2 (3 on other sweeps) from np.exp(float32), which is itself up to
# 3 steps off.  exp(inf) = inf, exp(-inf) = 0, exp(nan) = nan, x > 89 ->
# inf, x < -104 -> 0; subnormal results round once.
#
# ``_tanh32``: with a = |x|, t = e^{2a} - 1 computed as 2^n (1 + q(r)) - 1
# = 2^n q(r) + (2^n - 1) (the reduction of ``_exp32``, q(r) = e^r - 1 by
# r + r^2 P(r), so t keeps its relative accuracy as a -> 0), then
# tanh(a) = t / (t + 2) and the sign of x.  One exp-like polynomial and
# one division: no second polynomial and no select between two branches
# (W2's fused loss+gradient loop: 1.29 -> 0.99 ms).  |x| < 2^-12 returns x
# (keeps -0.0), |x| > 9 gives +-1 (tanh(9) rounds to 1).  Measured on every
# third float32 in [2^-13, 9.5] (45 million): at most 2 float32 steps from
# the correctly rounded tanh (0.5% of them more than 1); at most 3 from
# np.tanh(float32), itself up to 1 step off.  tanh(+-inf) = +-1, nan -> nan.
#
# ``_sigmoid32``: 1 / (1 + _exp32(-x)); at most 2 steps from the rounded
# exact value on 1e7 points of linspace(-80, 80).
from numba.extending import intrinsic as _intrinsic
from llvmlite import ir as _ir

_MF = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"},
           no_cfunc_wrapper=True)
# Compile time (#13): the three helpers carry no signature, so each is
# compiled (float32, then cached) only when a kernel first calls it: a tanh
# graph does not pay for exp and sigmoid.  The shared parts are inlined into
# them at numba IR level (``inline="always"``) rather than compiled as
# functions of their own (numba's fixed cost per function, ~40 ms cold);
# LLVM inlined their calls anyway (same values bit for bit on 5M points,
# same loop speed, measured).  _tanh32 clamps with a select, not min():
# min/max are numba overloads, one more function compiled in each process
# (_exp32 keeps them: its two clamps as selects ran 20% slower).
_PART = dict(_MF, inline="always")


@_intrinsic
def _f32bits(typingctx, i):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], _ir.FloatType())
    return nb.float32(nb.int32), codegen


@nb.njit(**_PART)
def _pow2(k):
    """2^k for -126 <= k <= 127, from the exponent bits."""
    return _f32bits((k + np.int32(127)) << 23)


@nb.njit(**_PART)
def _reduce(x):
    """(r, n): x = n ln2 + r, |r| <= ln2/2, n integral (as a float)."""
    n = np.floor(x * np.float32(1.4426950408889634) + np.float32(0.5))
    r = x - n * np.float32(0.693359375)
    return r - n * np.float32(-2.1219444005469058e-04), n


@nb.njit(**_PART)
def _taylor(r):
    """P(r) with e^r = 1 + r + r^2 P(r) (degree 5: Taylor to r^7)."""
    p = np.float32(1.0 / 5040.0) * r + np.float32(1.0 / 720.0)
    p = p * r + np.float32(1.0 / 120.0)
    p = p * r + np.float32(1.0 / 24.0)
    p = p * r + np.float32(1.0 / 6.0)
    return p * r + np.float32(0.5)


@nb.njit(**_MF)
def _exp32(x):
    r, n = _reduce(min(max(x, np.float32(-104.0)), np.float32(89.0)))
    p = _taylor(r) * r + np.float32(1.0)
    p = p * r + np.float32(1.0)
    ni = np.int32(n)
    h = ni >> 1
    y = p * _pow2(h) * _pow2(ni - h)
    y = np.float32(np.inf) if x > np.float32(89.0) else y
    y = np.float32(0.0) if x < np.float32(-104.0) else y
    return x if x != x else y


@nb.njit(**_MF)
def _tanh32(x):
    a = abs(x)
    a2 = np.float32(2.0) * a
    r, n = _reduce(a2 if a2 < np.float32(20.0) else np.float32(20.0))
    q = r + r * r * _taylor(r)
    s = _pow2(np.int32(n))
    t = s * q + (s - np.float32(1.0))
    u = t / (t + np.float32(2.0))
    u = np.float32(1.0) if a > np.float32(9.0) else u
    u = -u if x < np.float32(0.0) else u
    u = x if a < np.float32(2.0 ** -12) else u  # keeps -0.0; x^3/3 < ulp/2
    return x if x != x else u


@nb.njit(**_MF)
def _sigmoid32(x):
    return np.float32(1.0) / (np.float32(1.0) + _exp32(-x))
