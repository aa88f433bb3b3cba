"""The float32 exp, tanh and sigmoid of ``lib/fastmath32.py`` written as
LLVM IR, for the llvm emitter's loops.

Same algorithm, same constants, same order of operations and the same
fast-math set (``contract`` only) as the numba helpers, so the loops of
both emitters compute the same values (tests compare them on sweeps):
read ``lib/fastmath32.py`` for why each step is there and how accurate it
is.  Each helper is an ``internal alwaysinline`` function of the module
being built, defined on first use: LLVM inlines it into the loop, which
then vectorizes (every step is a select or arithmetic, no branch).
"""
import numpy as np
from llvmlite import ir

__all__ = ["helper"]

F32 = ir.FloatType()
I32 = ir.IntType(32)
_FLAGS = ("contract",)
_ROUND = 12582912.0                 # 1.5 2^23: adding it rounds to an integer
_ROUND_BITS = 0x4B400000            # its bits
# P of e^r ~ 1 + r + r^2 P(r) (lib/fastmath32.py: _exp_poly, _expm1_poly)
_P = (0.4999999403953552, 0.1666652113199234, 0.04166838899254799,
      0.00836874544620514, 0.0013814540579915047)
_Q = (0.5, 0.1666666567325592, 0.04166635870933533, 0.008333389647305012,
      0.0013940668432042003, 0.00019845881615765393)


def _c(x):
    """A float32 constant (the value rounded to float32 first, as np.float32 does)."""
    return ir.Constant(F32, float(np.float32(x)))


class _B:
    """A builder whose float arithmetic carries the helpers' flags."""

    def __init__(self, b, module):
        self.b, self.module = b, module

    def _op(self, f, x, y):
        i = f(x, y)
        i.flags.extend(_FLAGS)
        return i

    def add(self, x, y):
        return self._op(self.b.fadd, x, y)

    def sub(self, x, y):
        return self._op(self.b.fsub, x, y)

    def mul(self, x, y):
        return self._op(self.b.fmul, x, y)

    def div(self, x, y):
        return self._op(self.b.fdiv, x, y)

    def lt(self, x, y):
        return self.b.fcmp_ordered("<", x, y)

    def gt(self, x, y):
        return self.b.fcmp_ordered(">", x, y)

    def sel(self, c, x, y):
        return self.b.select(c, x, y)

    def intrinsic(self, name, x):
        fn = self.module.declare_intrinsic(f"llvm.{name}", [F32])
        return self.b.call(fn, [x], fastmath=_FLAGS)

    def bits(self, x):
        return self.b.bitcast(x, I32)

    def pow2(self, k):
        """2^k for -126 <= k <= 127, from the exponent bits."""
        b = self.b
        return b.bitcast(b.shl(b.add(k, ir.Constant(I32, 127)), ir.Constant(I32, 23)), F32)

    def reduce(self, x):
        """(r, n): x = n ln2 + r, |r| <= ln2/2, n the nearest integer (an
        i32), read from the low bits of x log2(e) + 1.5 2^23."""
        k = self.add(self.mul(x, _c(1.4426950408889634)), _c(_ROUND))
        n = self.sub(k, _c(_ROUND))
        ni = self.b.sub(self.bits(k), ir.Constant(I32, _ROUND_BITS))
        r = self.sub(x, self.mul(n, _c(0.693359375)))
        return self.sub(r, self.mul(n, _c(-2.1219444005469058e-04))), ni

    def poly(self, r, P):
        """P(r), coefficients ``P`` from the constant term up, by Horner."""
        p = self.add(self.mul(_c(P[-1]), r), _c(P[-2]))
        for c in P[-3::-1]:
            p = self.add(self.mul(p, r), _c(c))
        return p


def _exp32(B, x):
    # the clamps let NaN through (then every step keeps it); past 89 the
    # product overflows to inf and below -104 it rounds to 0 by itself
    x = B.sel(B.lt(x, _c(-104.0)), _c(-104.0), x)
    x = B.sel(B.gt(x, _c(89.0)), _c(89.0), x)
    r, ni = B.reduce(x)
    p = B.add(B.mul(B.poly(r, _P), r), _c(1.0))
    p = B.add(B.mul(p, r), _c(1.0))
    b = B.b
    h = b.ashr(ni, ir.Constant(I32, 1))
    return B.mul(B.mul(p, B.pow2(h)), B.pow2(b.sub(ni, h)))


def _tanh32(B, x):
    a = B.intrinsic("fabs", x)
    a2 = B.add(a, a)
    a2 = B.sel(B.gt(a2, _c(20.0)), _c(20.0), a2)
    r, ni = B.reduce(a2)
    q = B.add(r, B.mul(B.mul(r, r), B.poly(r, _Q)))
    s = B.pow2(ni)
    t = B.add(B.mul(s, q), B.sub(s, _c(1.0)))
    u = B.div(t, B.add(t, _c(2.0)))
    # u >= 0 (or NaN): x's sign bit or-ed in gives tanh(-0.0) = -0.0
    b = B.b
    sign = b.and_(B.bits(x), ir.Constant(I32, -2 ** 31))
    return b.bitcast(b.or_(B.bits(u), sign), F32)


def _sigmoid32(B, x):
    e = B.b.call(helper(B.module, "_exp32"), [B.b.fneg(x)])
    return B.div(_c(1.0), B.add(_c(1.0), e))


_BODIES = {"_exp32": _exp32, "_tanh32": _tanh32, "_sigmoid32": _sigmoid32}


def helper(module, name):
    """The IR function ``name`` (``_exp32``, ``_tanh32`` or ``_sigmoid32``)
    of ``module``, defined there on first use."""
    fn = module.globals.get(name)
    if fn is not None:
        return fn
    fn = ir.Function(module, ir.FunctionType(F32, [F32]), name)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.ret(_BODIES[name](_B(b, module), fn.args[0]))
    return fn
