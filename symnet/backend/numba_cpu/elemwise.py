"""Numba templates for elementwise ops: ``Elemwise`` (plain and fused
``Composite`` programs) as explicit loops over the broadcast output shape,
and ``DimShuffle`` as numpy views in the driver.

``SCALAR`` is the one table from scalar op name to the numba source of one
element; ``emit_loop`` writes the loop nest around it.  Every step's result
is cast to its declared dtype, so loops agree with numpy's dtype rules.
"""
from ..registry import register_kernel
from .linker import driver_op
from ...tensor.ops.elemwise import DimShuffle, Elemwise

__all__ = ["SCALAR", "HELPERS", "scalar_expr", "cast_expr", "emit_loop"]

# Scalar helpers every generated module defines.  llvmlite here has no
# SVML, so ``np.exp``/``np.tanh`` on a scalar call libm per element and stop
# LLVM from vectorizing the loop (~5 ns/element).  These float32 versions are
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
HELPERS = '''
from numba.extending import intrinsic as _intrinsic
from llvmlite import ir as _ir

_MF = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


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
'''

# In the kernel text of every scalar using HELPERS: the linker adds HELPERS
# to a kernel's module when its text contains "_tanh32".
_HELPER_MARK = "# uses HELPERS (_tanh32, _exp32, _sigmoid32)"
_HELPER_NAMES = ("_tanh32(", "_exp32(", "_sigmoid32(")


def cast_expr(expr, dtype):
    """``expr`` converted to ``dtype`` in numba source."""
    if dtype == "bool":
        return f"({expr} != 0)"
    return f"np.{dtype}({expr})"


def _f(fmt):
    return lambda a, dts, out: fmt.format(*a)


def _np1(fn):
    return lambda a, dts, out: f"np.{fn}({a[0]})"


def _max(a, dts, out):
    x, y = a
    return f"({x} if ({x} >= {y} or {x} != {x}) else {y})"


def _min(a, dts, out):
    x, y = a
    return f"({x} if ({x} <= {y} or {x} != {x}) else {y})"


def _pow(a, dts, out):
    if out in ("float32", "float64", "complex64", "complex128"):
        return f"({a[0]} ** {a[1]})"
    return f"(np.float64({a[0]}) ** np.float64({a[1]}))"


def _invert(a, dts, out):
    return f"(not {a[0]})" if dts[0] == "bool" else f"(~{a[0]})"


def _softplus(a, dts, out):
    x = a[0]
    return (f"({x} + np.log1p(np.exp(-{x})) if {x} > 0 else np.log1p(np.exp({x})))")


def _clip(a, dts, out):
    x, lo, hi = a
    inner = _max([x, lo], dts, out)
    return _min([inner, hi], dts, out)


def _sgn(a, dts, out):
    x = a[0]
    if dts[0] == "bool":
        return x
    return f"np.sign({x})"


def _f32_helper(helper, fn):
    """float32 results use the vectorizable ``helper`` (see HELPERS)."""
    return lambda a, d, o: f"{helper}(np.float32({a[0]}))" if o == "float32" \
        else f"np.{fn}({a[0]})"


def _rounding(fn):
    def rule(a, dts, out):
        return a[0] if dts[0][0] in "biu" else f"np.{fn}({a[0]})"
    return rule


# name -> (args, input dtypes, output dtype) -> numba source of one element
SCALAR = {
    "add": _f("({0} + {1})"),
    "sub": _f("({0} - {1})"),
    "mul": _f("({0} * {1})"),
    "true_div": lambda a, d, o: f"(np.float64({a[0]}) / {a[1]})"
    if d[0][0] in "biu" and d[1][0] in "biu" else f"({a[0]} / {a[1]})",
    "int_div": _f("({0} // {1})"),
    "mod": _f("({0} % {1})"),
    "pow": _pow,
    "maximum": _max,
    "minimum": _min,
    "arctan2": _f("np.arctan2({0}, {1})"),
    "eq": _f("({0} == {1})"),
    "neq": _f("({0} != {1})"),
    "lt": _f("({0} < {1})"),
    "le": _f("({0} <= {1})"),
    "gt": _f("({0} > {1})"),
    "ge": _f("({0} >= {1})"),
    "and_": _f("({0} & {1})"),
    "or_": _f("({0} | {1})"),
    "xor": _f("({0} ^ {1})"),
    "invert": _invert,
    "isnan": _f("({0} != {0})"),
    "isinf": _np1("isinf"),
    "neg": _f("(-{0})"),
    "abs": _f("abs({0})"),
    "sgn": _sgn,
    "exp": _f32_helper("_exp32", "exp"),
    "exp2": _np1("exp2"),
    "expm1": _np1("expm1"),
    "log": _np1("log"),
    "log2": _np1("log2"),
    "log10": _np1("log10"),
    "log1p": _np1("log1p"),
    "sqrt": _np1("sqrt"),
    "sqr": _f("({0} * {0})"),
    "reciprocal": _f("(1.0 / {0})"),
    "tanh": _f32_helper("_tanh32", "tanh"),
    "sinh": _np1("sinh"),
    "cosh": _np1("cosh"),
    "sin": _np1("sin"),
    "cos": _np1("cos"),
    "tan": _np1("tan"),
    "arcsin": _np1("arcsin"),
    "arccos": _np1("arccos"),
    "arctan": _np1("arctan"),
    "arcsinh": _np1("arcsinh"),
    "arccosh": _np1("arccosh"),
    "arctanh": _np1("arctanh"),
    "sigmoid": lambda a, d, o: f"_sigmoid32(np.float32({a[0]}))" if o == "float32"
    else f"(1.0 / (1.0 + np.exp(-{a[0]})))",
    "softplus": _softplus,
    "floor": _rounding("floor"),
    "ceil": _rounding("ceil"),
    "round": _rounding("rint"),
    "trunc": _rounding("trunc"),
    "identity": _f("{0}"),
    "switch": _f("({1} if {0} else {2})"),
    "clip": _clip,
    "cast": _f("{0}"),
}


def scalar_expr(scalar_op, args, in_dtypes, out_dtype, lines, ctx):
    """Source of ``scalar_op`` on element expressions ``args``; composite
    programs append their steps to ``lines`` and return the final name."""
    if scalar_op.name == "composite":
        vals = list(args)
        dts = list(in_dtypes)
        for op, refs, dtype in scalar_op.program:
            expr = scalar_expr(op, [vals[r] for r in refs], [dts[r] for r in refs],
                               dtype, lines, ctx)
            t = ctx.tmp("s")
            lines.append(f"{t} = {expr}")
            vals.append(t)
            dts.append(dtype)
        return vals[scalar_op.out]
    rule = SCALAR.get(scalar_op.name)
    if rule is None or scalar_op.nin != len(args):
        raise NotImplementedError(scalar_op.name)
    expr = rule(list(args), list(in_dtypes), out_dtype)
    if any(h in expr for h in _HELPER_NAMES) and _HELPER_MARK not in lines:
        lines.append(_HELPER_MARK)
    return cast_expr(expr, out_dtype)


def emit_loop(ins, in_vars, out, out_var, body, ctx, reuse=None):
    """Lines of a loop nest computing ``out[idx] = body(element exprs)``.

    ``body(elems, lines)`` returns the element expression (appending any
    helper lines).  Inputs are 0-d (scalars) or of the output's ndim; an
    axis of static size 1 is read at index 0 (broadcast).  ``reuse`` names
    an input buffer to write into instead of allocating.
    """
    nd = out_var.type.ndim
    dtype = out_var.type.dtype
    if nd == 0:
        lines = []
        expr = body(list(ins), lines)
        return lines + [f"{out} = {expr}"]
    if any(v.type.ndim not in (0, nd) for v in in_vars):
        raise NotImplementedError("mixed ndims")
    arrays = [(name, v) for name, v in zip(ins, in_vars) if v.type.ndim == nd]
    lines = []
    dims = []
    for axis in range(nd):
        src = [name for name, v in arrays if v.type.shape[axis] != 1]
        if not src:
            dims.append("1")
            continue
        d = ctx.tmp("n")
        lines.append(f"{d} = {src[0]}.shape[{axis}]")
        for other in dict.fromkeys(src[1:]):
            if other == src[0]:
                continue
            lines.append(f"if {other}.shape[{axis}] != {d}:")
            lines.append(f"    raise ValueError('elemwise: input shapes do not match "
                         f"along axis {axis}')")
        dims.append(d)
    shape = "(" + ", ".join(dims) + ("," if nd == 1 else "") + ")"
    if reuse is not None:
        lines.append(f"{out} = {reuse}")
    else:
        lines.append(f"{out} = np.empty({shape}, np.{dtype})")
    idx = [ctx.tmp("j") for _ in range(nd)]
    elems = []
    for name, v in zip(ins, in_vars):
        if v.type.ndim == 0:
            elems.append(name)
        else:
            sub = ", ".join("0" if s == 1 else i for s, i in zip(v.type.shape, idx))
            elems.append(f"{name}[{sub}]")
    inner = []
    expr = body(elems, inner)
    for k, (i, d) in enumerate(zip(idx, dims)):
        lines.append("    " * k + f"for {i} in range({d}):")
    pad = "    " * nd
    lines.extend(pad + ln for ln in inner)
    lines.append(pad + f"{out}[{', '.join(idx)}] = {expr}")
    return lines


@register_kernel("numba", Elemwise)
def elemwise_kernel(node, ins, outs, ctx):
    op = node.op
    (out_var,) = node.outputs
    in_dts = [v.type.dtype for v in node.inputs]
    out_dt = out_var.type.dtype
    reuse = None
    k = op.inplace
    if k is not None and out_var.type.ndim > 0:
        src = node.inputs[k]
        if src.type.dtype == out_dt and src.type.shape == out_var.type.shape \
                and ctx.can_destroy(src):
            reuse = ins[k]

    def body(elems, lines):
        return scalar_expr(op.scalar_op, elems, in_dts, out_dt, lines, ctx)
    return emit_loop(ins, node.inputs, outs[0], out_var, body, ctx, reuse=reuse)


@driver_op(DimShuffle)
def dimshuffle_driver(node, ins, outs):
    """DimShuffle in the driver: an index (drop axes, add ``None`` axes) and
    a transpose, both numpy views."""
    (x,) = ins
    (xv,) = node.inputs
    order = node.op.new_order
    nd = xv.type.ndim
    kept = [d for d in order if d != "x"]
    dropped = [d for d in range(nd) if d not in kept]
    out = outs[0]
    if nd == 0:
        shape = "(" + ", ".join("1" for _ in order) + ("," if len(order) == 1 else "") + ")"
        return [f"{out} = _np.reshape({x}, {shape})"], True
    lines = []
    if dropped:
        cond = " or ".join(f"{x}.shape[{d}] != 1" for d in dropped)
        lines += [f"if {cond}:",
                  "    raise ValueError('dimshuffle: cannot drop an axis of size != 1')"]
    cur = x
    if dropped:
        cur = f"{x}[{', '.join('0' if d in dropped else ':' for d in range(nd))}]"
    remaining = [d for d in range(nd) if d not in dropped]
    perm = [remaining.index(d) for d in kept]
    transposed = perm != sorted(perm)
    if transposed:
        cur = f"{cur}.transpose({', '.join(map(str, perm))})"
    if "x" in order:
        cur = f"{cur}[{', '.join('None' if d == 'x' else ':' for d in order)}]"
    if not kept and "x" not in order:
        cur = f"_np.asarray({cur})"
    # dropping or adding unit axes of a C-contiguous array keeps it contiguous
    return lines + [f"{out} = {cur}"], "input" if not transposed and kept else False
