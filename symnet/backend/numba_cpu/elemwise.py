"""Numba templates for elementwise ops: ``Elemwise`` (plain and fused
``Composite`` programs) as explicit loops over the broadcast output shape,
and ``DimShuffle`` as numpy views in the driver.

The element expressions come from the shared table ``backend/scalar.py``;
``CpuSpelling`` is how this backend writes them (numpy functions, the
vectorizable float32 helpers of ``lib/fastmath32.py`` for exp, tanh and
sigmoid, and ``lib/special.py`` for erf, gammaln, psi and the others numpy
lacks).  ``emit_loop`` writes the loop nest around one expression.  Every
step's result is cast to its declared dtype, so loops agree with numpy's
dtype rules.
"""
from ..registry import register_kernel
from ..scalar import Spelling, cast_expr, expression
from .dispatch import driver_op
from ...tensor.ops.elemwise import DimShuffle, Elemwise

__all__ = ["CpuSpelling", "scalar_expr", "cast_expr", "emit_loop", "PARALLEL_MIN_SIZE"]

# With threaded loops on (threads.py): the smallest elementwise domain (in
# elements) whose loop is split over threads.  Measured on 2 cores (W2's
# loop): at 65,536 elements two threads took 0.12-0.14 ms against 0.08 ms
# for one; they first won around 250,000.
PARALLEL_MIN_SIZE = 1 << 18

# float32 results of these scalar ops use the branch-free helpers of
# lib/fastmath32.py (numba here has no SVML: np.exp on a scalar is a libm
# call per element that stops LLVM from vectorizing the loop)
_F32_HELPERS = {"exp": "_exp32", "tanh": "_tanh32", "sigmoid": "_sigmoid32"}
# the special functions, which numpy lacks: float64 helpers of lib/special.py
_SPECIAL_HELPERS = {name: "_" + name for name in
                    ("erf", "erfc", "gamma", "gammaln", "psi", "tri_gamma")}


class CpuSpelling(Spelling):
    """numpy functions, plus the float32 helpers (recorded on ``ctx``)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def override(self, name, args, in_dtypes, out_dtype):
        special = _SPECIAL_HELPERS.get(name)
        if special is not None:
            return f"{self.ctx.use_lib('special', special)}(np.float64({args[0]}))"
        helper = _F32_HELPERS.get(name)
        if helper is None or out_dtype != "float32":
            return None
        return f"{self.ctx.use_lib('fastmath32', helper)}(np.float32({args[0]}))"


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
    if scalar_op.nin != len(args):
        raise NotImplementedError(scalar_op.name)
    return expression(scalar_op.name, args, in_dtypes, out_dtype, CpuSpelling(ctx))


def _axis_size(src, axis, ctx, lines):
    """A loop's size along ``axis``, read from the first array in ``src``;
    appends to ``lines`` the checks that the others have it too."""
    d = ctx.tmp("n")
    lines.append(f"{d} = {src[0]}.shape[{axis}]")
    # one test and one raise per axis: every raise site grows the kernel, and
    # past a few of them LLVM stops inlining the fastmath32 helpers into the
    # loop, which then runs scalar (an LSTM's fused gate loop: 13x slower)
    others = [o for o in dict.fromkeys(src[1:]) if o != src[0]]
    if others:
        lines.append("if " + " or ".join(f"{o}.shape[{axis}] != {d}" for o in others) + ":")
        lines.append(f"    raise ValueError('elemwise: input shapes do not match "
                     f"along axis {axis}')")
    return d


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
        dims.append(_axis_size(src, axis, ctx, lines))
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
    lines += ["    " + ln for ln in nest("nb.prange", 0)]
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


@driver_op(DimShuffle, njit=True)
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
