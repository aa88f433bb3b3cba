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
# ``_tanh32``: |x| < 2^-12 returns x (keeps -0.0); |x| < 0.875 uses
# x + x^3 P(x^2), P a degree-6 least-squares fit (error < 0.12 ulp);
# otherwise 1 - 2/(e^{2|x|} + 1), where the quotient is below 0.26 so its
# error shrinks in the subtraction, and a select restores the sign.
# Measured on 1e7 points of linspace(-10, 10): at most 1 step from both the
# rounded exact tanh and np.tanh(float32).  tanh(+-inf) = +-1, nan -> nan.
#
# ``_sigmoid32``: 1 / (1 + _exp32(-x)); at most 2 steps from the rounded
# exact value on 1e7 points of linspace(-80, 80).
from numba.extending import intrinsic as _intrinsic
from llvmlite import ir as _ir

_MF = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"},
           no_cfunc_wrapper=True)


@_intrinsic
def _f32bits(typingctx, i):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], _ir.FloatType())
    return nb.float32(nb.int32), codegen


@nb.njit(nb.float32(nb.float32), **_MF)
def _exp32(x):
    xc = min(max(x, np.float32(-104.0)), np.float32(89.0))
    n = np.floor(xc * np.float32(1.4426950408889634) + np.float32(0.5))
    r = xc - n * np.float32(0.693359375)
    r = r - n * np.float32(-2.1219444005469058e-04)
    p = np.float32(1.0 / 5040.0) * r + np.float32(1.0 / 720.0)
    p = p * r + np.float32(1.0 / 120.0)
    p = p * r + np.float32(1.0 / 24.0)
    p = p * r + np.float32(1.0 / 6.0)
    p = p * r + np.float32(0.5)
    p = p * r + np.float32(1.0)
    p = p * r + np.float32(1.0)
    ni = np.int32(n)
    h = ni >> 1
    y = p * _f32bits((h + np.int32(127)) << 23) * _f32bits((ni - h + np.int32(127)) << 23)
    y = np.float32(np.inf) if x > np.float32(89.0) else y
    y = np.float32(0.0) if x < np.float32(-104.0) else y
    return x if x != x else y


@nb.njit(nb.float32(nb.float32), **_MF)
def _tanh32(x):
    a = abs(x)
    z = x * x
    p = np.float32(-4.957555793225765e-04) * z + np.float32(2.684171311557293e-03)
    p = p * z + np.float32(-8.363970555365086e-03)
    p = p * z + np.float32(2.1711135283112526e-02)
    p = p * z + np.float32(-5.394072458148003e-02)
    p = p * z + np.float32(1.333310306072235e-01)
    p = p * z + np.float32(-3.3333325386047363e-01)
    small = x + x * z * p
    small = x if a < np.float32(2.0 ** -12) else small  # keeps -0.0; x^3/3 < ulp/2
    big = np.float32(1.0) - np.float32(2.0) / (_exp32(np.float32(2.0) * a) + np.float32(1.0))
    big = -big if x < np.float32(0.0) else big
    return small if a < np.float32(0.875) else big


@nb.njit(nb.float32(nb.float32), **_MF)
def _sigmoid32(x):
    return np.float32(1.0) / (np.float32(1.0) + _exp32(-x))
