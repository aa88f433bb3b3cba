"""Numba templates for elementwise ops: ``Elemwise`` (plain and fused
``Composite`` programs) as explicit loops over the broadcast output shape,
``emit_fused`` for a ``Run`` of the plan (one loop nest), and
``DimShuffle`` as numpy views in the driver.

The element expressions come from the shared table ``backend/scalar.py``;
``CpuSpelling`` is how this backend writes them (numpy functions, and the
vectorizable float32 helpers of ``lib/fastmath32.py`` for exp, tanh and
sigmoid).  ``emit_loop`` writes the loop nest around one expression.  Every
step's result is cast to its declared dtype, so loops agree with numpy's
dtype rules.
"""
from ..registry import register_kernel
from ..scalar import Spelling, cast_expr, expression
from .dispatch import driver_op
from ...tensor.ops.elemwise import DimShuffle, Elemwise

__all__ = ["CpuSpelling", "scalar_expr", "cast_expr", "emit_loop", "emit_fused",
           "FUSED_SUM_BLOCK", "PARALLEL_MIN_SIZE"]

# The block of a float32 sum inside a fused loop (see ``emit_fused``).
FUSED_SUM_BLOCK = 256

# With ``Mode(parallel=True)``: the smallest elementwise output (in elements)
# whose loop is split over threads (below it, thread start-up costs more).
PARALLEL_MIN_SIZE = 1 << 16

# float32 results of these scalar ops use the branch-free helpers of
# lib/fastmath32.py (numba here has no SVML: np.exp on a scalar is a libm
# call per element that stops LLVM from vectorizing the loop)
_F32_HELPERS = {"exp": "_exp32", "tanh": "_tanh32", "sigmoid": "_sigmoid32"}


class CpuSpelling(Spelling):
    """numpy functions, plus the float32 helpers (recorded on ``ctx``)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def override(self, name, args, in_dtypes, out_dtype):
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


def emit_fused(nodes, elem_names, arg_vars, result_vars, results, ctx):
    """Lines of ONE loop nest computing a run of elementwise ``nodes`` over
    the same domain (a ``Run`` of ``backend.plan``), with full sums/products of
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
        dims.append(_axis_size(src, axis, ctx, lines))
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
