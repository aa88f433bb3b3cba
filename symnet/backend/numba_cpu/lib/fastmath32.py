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
# branch-free (clamps, selects and bit operations only), so a fused loop
# using them becomes AVX code (~0.6 ns/element).  They are compiled with
# their own fastmath set (no ``reassoc``: the Cody-Waite steps and the
# rounding by 1.5 2^23 must stay in order; no ``nsz``: tanh(-0.0) = -0.0;
# no ``nnan``/``ninf``: NaN and inf go through every step and come out as
# they should); LLVM inlines them into the calling loop.
#
# The reduction (``_reduce``): k = x*log2(e) + 1.5 2^23 rounds x*log2(e) to
# the nearest integer n, which is k - 1.5 2^23 as a float and the low bits
# of k as an integer (no floor, no float-to-int conversion: a NaN stays a
# NaN instead of becoming LLVM's poison); r = x - n*ln2 with ln2 split in a
# 9-bit head (n*head exact) and a tail, |r| <= ln2/2.
#
# ``_exp32``: x clamped to [-104, 89] (NaN kept), e^r = 1 + r + r^2 P(r)
# with P of degree 4 minimax for e^r's relative error (``_exp_poly``), times
# 2^n built from the exponent bits in two halves: past 88.72 the product
# overflows to inf and below -103.97 it rounds to 0 by itself, subnormal
# results round once, so no select for the edges.  Measured on every float32
# in [-104, 89] (2.2 billion): at most 1 float32 step from the correctly
# rounded exp (float64, rounded; subnormal results in steps of 2^-149),
# 99.5% exact.  exp(inf) = inf, exp(-inf) = 0, exp(nan) = nan.
#
# ``_tanh32``: with a = |x|, t = e^{2a} - 1 computed as 2^n (1 + q(r)) - 1
# = 2^n q(r) + (2^n - 1) (2a clamped to 20, NaN kept; q(r) = e^r - 1 by
# r + r^2 P(r), P of degree 5 minimax for the relative error of e^r - 1
# (``_expm1_poly``), so t keeps its relative accuracy as a -> 0), then
# tanh(a) = t / (t + 2) >= 0 with the sign bit of x or-ed in (tanh(-0.0) =
# -0.0, tanh(-x) = -tanh(x) exactly).  One polynomial, one division, no
# select but the clamp (W2's fused loss+gradient loop on one thread, with
# _exp32's changes above: medians 1.8 -> 1.3-1.5 ms).  Measured on every float32 in [0, 10]
# (1.09 billion, subnormals included): at most 2 float32 steps from the
# correctly rounded tanh (0.06% of them more than 1); |x| >= 10 gives +-1
# (tanh rounds to 1 from 9.01).  tanh(+-inf) = +-1, nan -> nan.
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


@_intrinsic
def _i32bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], _ir.IntType(32))
    return nb.int32(nb.float32), codegen


@nb.njit(**_PART)
def _with_sign(u, x):
    """u (>= 0 or NaN) with the sign bit of x or-ed in."""
    return _f32bits(_i32bits(u) | (_i32bits(x) & np.int32(-2 ** 31)))


@nb.njit(**_PART)
def _pow2(k):
    """2^k for -126 <= k <= 127, from the exponent bits."""
    return _f32bits((k + np.int32(127)) << 23)


@nb.njit(**_PART)
def _reduce(x):
    """(r, n): x = n ln2 + r, |r| <= ln2/2, n the nearest integer (int),
    read from the low bits of x log2(e) + 1.5 2^23."""
    # (float32() rounds k when the helper runs on a Python float)
    k = np.float32(x * np.float32(1.4426950408889634) + np.float32(12582912.0))
    n = k - np.float32(12582912.0)
    r = x - n * np.float32(0.693359375)
    return r - n * np.float32(-2.1219444005469058e-04), _i32bits(k) - np.int32(0x4B400000)


@nb.njit(**_PART)
def _exp_poly(r):
    """P(r) with e^r ~ 1 + r + r^2 P(r): degree 4, minimax for e^r's
    relative error (3.6e-9 with these float32 coefficients)."""
    p = np.float32(0.0013814540579915047) * r + np.float32(0.00836874544620514)
    p = p * r + np.float32(0.04166838899254799)
    p = p * r + np.float32(0.1666652113199234)
    return p * r + np.float32(0.4999999403953552)


@nb.njit(**_PART)
def _expm1_poly(r):
    """P(r) with e^r - 1 ~ r + r^2 P(r): degree 5, minimax for the relative
    error of e^r - 1 (2.3e-9 with these float32 coefficients), which tanh
    needs near 0 and _exp_poly does not keep there."""
    p = np.float32(0.00019845881615765393) * r + np.float32(0.0013940668432042003)
    p = p * r + np.float32(0.008333389647305012)
    p = p * r + np.float32(0.04166635870933533)
    p = p * r + np.float32(0.1666666567325592)
    return p * r + np.float32(0.5)


@nb.njit(**_MF)
def _exp32(x):
    # numba's max/min keep a NaN x (then every step keeps it); past 89 the
    # product overflows to inf and below -104 it rounds to 0 by itself
    r, n = _reduce(min(max(x, np.float32(-104.0)), np.float32(89.0)))
    p = _exp_poly(r) * r + np.float32(1.0)
    p = p * r + np.float32(1.0)
    h = n >> 1
    return p * _pow2(h) * _pow2(n - h)


@nb.njit(**_MF)
def _tanh32(x):
    a = abs(x)
    a2 = a + a
    r, n = _reduce(np.float32(20.0) if a2 > np.float32(20.0) else a2)
    q = r + r * r * _expm1_poly(r)
    s = _pow2(n)
    t = s * q + (s - np.float32(1.0))
    return _with_sign(t / (t + np.float32(2.0)), x)


@nb.njit(**_MF)
def _sigmoid32(x):
    return np.float32(1.0) / (np.float32(1.0) + _exp32(-x))
