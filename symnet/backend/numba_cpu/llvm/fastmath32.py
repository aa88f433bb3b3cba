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

    def pow2(self, k):
        """2^k for -126 <= k <= 127, from the exponent bits."""
        b = self.b
        return b.bitcast(b.shl(b.add(k, ir.Constant(I32, 127)), ir.Constant(I32, 23)), F32)

    def reduce(self, x):
        """(r, n): x = n ln2 + r, |r| <= ln2/2, n integral (as a float)."""
        n = self.intrinsic("floor", self.add(self.mul(x, _c(1.4426950408889634)), _c(0.5)))
        r = self.sub(x, self.mul(n, _c(0.693359375)))
        return self.sub(r, self.mul(n, _c(-2.1219444005469058e-04))), n

    def taylor(self, r):
        """P(r) with e^r = 1 + r + r^2 P(r) (degree 5: Taylor to r^7)."""
        p = self.add(self.mul(_c(1.0 / 5040.0), r), _c(1.0 / 720.0))
        for c in (1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5):
            p = self.add(self.mul(p, r), _c(c))
        return p


def _max(B, x, y):
    # numba's max(x, y) on floats: x if x > y else y (y for NaN x; NaN is
    # selected at the end anyway)
    return B.sel(B.gt(x, y), x, y)


def _min(B, x, y):
    return B.sel(B.lt(x, y), x, y)


def _exp32(B, x):
    r, n = B.reduce(_min(B, _max(B, x, _c(-104.0)), _c(89.0)))
    p = B.add(B.mul(B.taylor(r), r), _c(1.0))
    p = B.add(B.mul(p, r), _c(1.0))
    b = B.b
    ni = b.fptosi(n, I32)
    h = b.ashr(ni, ir.Constant(I32, 1))
    y = B.mul(B.mul(p, B.pow2(h)), B.pow2(b.sub(ni, h)))
    y = B.sel(B.gt(x, _c(89.0)), _c(float("inf")), y)
    y = B.sel(B.lt(x, _c(-104.0)), _c(0.0), y)
    return B.sel(b.fcmp_unordered("!=", x, x), x, y)


def _tanh32(B, x):
    a = B.intrinsic("fabs", x)
    a2 = B.mul(_c(2.0), a)
    r, n = B.reduce(B.sel(B.lt(a2, _c(20.0)), a2, _c(20.0)))
    q = B.add(r, B.mul(B.mul(r, r), B.taylor(r)))
    s = B.pow2(B.b.fptosi(n, I32))
    t = B.add(B.mul(s, q), B.sub(s, _c(1.0)))
    u = B.div(t, B.add(t, _c(2.0)))
    u = B.sel(B.gt(a, _c(9.0)), _c(1.0), u)
    neg = B.b.fneg(u)
    u = B.sel(B.lt(x, _c(0.0)), neg, u)
    u = B.sel(B.lt(a, _c(2.0 ** -12)), x, u)      # keeps -0.0
    return B.sel(B.b.fcmp_unordered("!=", x, x), x, u)


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
