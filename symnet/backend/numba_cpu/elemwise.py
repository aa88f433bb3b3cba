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

__all__ = ["SCALAR", "HELPERS", "scalar_expr", "cast_expr", "emit_loop", "emit_fused"]

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
'''

# The block of a float32 sum inside a fused loop (see ``emit_fused``).
FUSED_SUM_BLOCK = 256

# With ``Mode(parallel=True)``: the smallest elementwise output (in elements)
# whose loop is split over threads (below it, thread start-up costs more).
PARALLEL_MIN_SIZE = 1 << 16

# In the kernel text of every scalar using HELPERS: the kernel's module then
# imports them from the one helpers module (``linker.helpers_module``).
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

    def nest(first, indent):
        loop = []
        for k, (i, d) in enumerate(zip(idx, dims)):
            rng = first if k == 0 else "range"
            loop.append("    " * (indent + k) + f"for {i} in {rng}({d}):")
        pad = "    " * (indent + nd)
        loop.extend(pad + ln for ln in inner)
        loop.append(pad + f"{out}[{', '.join(idx)}] = {expr}")
        return loop
    if not ctx.parallel:
        return lines + nest("range", 0)
    # Threads pay only on big outputs: the same nest twice, the outer loop a
    # prange above PARALLEL_MIN_SIZE elements.
    ctx.uses_prange = True
    lines.append(f"if {' * '.join(dims)} >= {PARALLEL_MIN_SIZE}:")
    lines += nest("nb.prange", 1)
    lines.append("else:")
    return lines + nest("range", 1)


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


def emit_fused(nodes, elem_names, arg_vars, result_vars, results, ctx):
    """Lines of ONE loop nest computing a run of elementwise ``nodes`` over
    the same domain (see ``linker._loop_runs``), with full sums/products of
    their results accumulated in the same pass.

    ``elem_names`` maps the run's outside inputs to kernel argument names
    (or scalar literals); ``result_vars`` are the values needed after the
    run, returned as ``results``.  A value used only inside the run stays a
    scalar temporary: it is never written to memory.
    """
    from ...tensor.ops.reduction import Reduce
    from .reduction import _init, _step
    first = nodes[0].outputs[0]
    nd = first.type.ndim
    arrays = [(elem_names[v], v) for v in arg_vars if v.type.ndim == nd]
    lines, dims = [], []
    for axis in range(nd):
        src = [name for name, v in arrays if v.type.shape[axis] != 1]
        if not src:
            if first.type.shape[axis] == 1:
                dims.append("1")
                continue
            raise NotImplementedError("no input gives the size of this axis")
        d = ctx.tmp("n")
        lines.append(f"{d} = {src[0]}.shape[{axis}]")
        for other in dict.fromkeys(src[1:]):
            if other != src[0]:
                lines.append(f"if {other}.shape[{axis}] != {d}:")
                lines.append(f"    raise ValueError('elemwise: input shapes do not match "
                             f"along axis {axis}')")
        dims.append(d)
    shape = "(" + ", ".join(dims) + ("," if nd == 1 else "") + ")"
    idx = [ctx.tmp("j") for _ in range(nd)]
    elem = {}
    for v, name in elem_names.items():
        if v.type.ndim == 0:
            elem[v] = name
        else:
            sub = ", ".join("0" if s == 1 else i for s, i in zip(v.type.shape, idx))
            elem[v] = f"{name}[{sub}]"
    res_of = dict(zip(result_vars, results))
    for v in result_vars:
        if v.type.ndim:
            lines.append(f"{res_of[v]} = np.empty({shape}, np.{v.type.dtype})")
    inner, after = [], []
    blocks = []      # (block partial, its init, the step folding it into the total)
    for node in nodes:
        out = node.outputs[0]
        if isinstance(node.op, Reduce):
            (x,) = node.inputs
            kind, odt = node.op.kind, out.type.dtype
            acc_dt = "float64" if odt == "float32" else odt
            acc = ctx.tmp("a")
            lines.append(f"{acc} = {cast_expr(_init(kind, acc_dt), acc_dt)}")
            if x.type.dtype == "float32" and acc_dt == "float64":
                # float32 partials over blocks of the innermost axis (they
                # vectorize; a float64 step per element would not), each
                # block then added in float64: numpy's pairwise summation
                # is about as accurate
                blk = ctx.tmp("b")
                blocks.append((blk, cast_expr(_init(kind, "float32"), "float32"),
                               f"{acc} = {_step(kind, acc, cast_expr(blk, acc_dt))}"))
                inner.append(f"{blk} = {_step(kind, blk, elem[x])}")
            else:
                e = elem[x] if x.type.dtype == acc_dt else cast_expr(elem[x], acc_dt)
                inner.append(f"{acc} = {_step(kind, acc, e)}")
            after.append(f"{res_of[out]} = {cast_expr(acc, odt)}")
            continue
        in_dts = [v.type.dtype for v in node.inputs]
        expr = scalar_expr(node.op.scalar_op, [elem[v] for v in node.inputs], in_dts,
                           out.type.dtype, inner, ctx)
        t = ctx.tmp("s")
        inner.append(f"{t} = {expr}")
        elem[out] = t
        if out in res_of:
            inner.append(f"{res_of[out]}[{', '.join(idx)}] = {t}")
    for k, (i, d) in enumerate(zip(idx[:-1], dims[:-1])):
        lines.append("    " * k + f"for {i} in range({d}):")
    pad = "    " * (nd - 1)
    if blocks:
        b0, b1 = ctx.tmp("b"), ctx.tmp("b")
        lines.append(pad + f"for {b0} in range(0, {dims[-1]}, {FUSED_SUM_BLOCK}):")
        lines.append(pad + f"    {b1} = min({b0} + {FUSED_SUM_BLOCK}, {dims[-1]})")
        lines += [pad + f"    {blk} = {init}" for blk, init, _ in blocks]
        lines.append(pad + f"    for {idx[-1]} in range({b0}, {b1}):")
        lines.extend(pad + "        " + ln for ln in inner)
        lines += [pad + f"    {fold}" for _, _, fold in blocks]
    else:
        lines.append(pad + f"for {idx[-1]} in range({dims[-1]}):")
        lines.extend(pad + "    " + ln for ln in inner)
    return lines + after
