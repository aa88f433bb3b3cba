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

# Scalar helpers every generated module defines (inlined by numba).
# ``_tanh32``: numba has no SVML here, and libm's tanhf costs ~16 ns per
# element against ~5 ns for this exp-based form (max relative error ~6e-7;
# an odd Taylor polynomial near 0 avoids the cancellation of (e-1)/(e+1)).
HELPERS = '''
@nb.njit(nb.float32(nb.float32), inline="always", **_FLAGS)
def _tanh32(x):
    if x > 9.0:
        return np.float32(1.0)
    if x < -9.0:
        return np.float32(-1.0)
    if abs(x) < 0.0625:
        x2 = x * x
        return x + x * x2 * (np.float32(-1.0 / 3.0) + x2 * (np.float32(2.0 / 15.0)
                                                          + x2 * np.float32(-17.0 / 315.0)))
    e = np.exp(np.float32(2.0) * x)
    return (e - np.float32(1.0)) / (e + np.float32(1.0))
'''


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
    "exp": _np1("exp"),
    "exp2": _np1("exp2"),
    "expm1": _np1("expm1"),
    "log": _np1("log"),
    "log2": _np1("log2"),
    "log10": _np1("log10"),
    "log1p": _np1("log1p"),
    "sqrt": _np1("sqrt"),
    "sqr": _f("({0} * {0})"),
    "reciprocal": _f("(1.0 / {0})"),
    # float32 tanh from exp: without SVML, libm's tanhf is 3x slower (see HELPERS)
    "tanh": lambda a, d, o: f"_tanh32(np.float32({a[0]}))" if o == "float32"
    else f"np.tanh({a[0]})",
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
    "sigmoid": _f("(1.0 / (1.0 + np.exp(-{0})))"),
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
    return cast_expr(rule(list(args), list(in_dtypes), out_dtype), out_dtype)


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
