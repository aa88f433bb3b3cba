"""Numba templates for reductions: ``Reduce`` as a loop nest accumulating
into a keepdims-shaped buffer (float32 sums accumulate in float64, as
numpy's pairwise summation is about that accurate), ``Argmax`` through
numpy calls numba supports."""
from ..registry import register_kernel
from ...tensor.ops.reduction import Argmax, Reduce
from .elemwise import cast_expr

__all__ = []


def _init(kind, dtype):
    if kind == "sum":
        return "0"
    if kind == "prod":
        return "1"
    if kind == "any":
        return "False"
    if kind == "all":
        return "True"
    if dtype.startswith("float"):
        return "-np.inf" if kind == "max" else "np.inf"
    if dtype == "bool":
        return "False" if kind == "max" else "True"
    import numpy as np
    info = np.iinfo(dtype)
    return str(info.min if kind == "max" else info.max)


def _step(kind, acc, x):
    if kind == "sum":
        return f"{acc} + {x}"
    if kind == "prod":
        return f"{acc} * {x}"
    if kind == "any":
        return f"{acc} or ({x} != 0)"
    if kind == "all":
        return f"{acc} and ({x} != 0)"
    cmp = ">" if kind == "max" else "<"
    return f"{x} if ({x} {cmp} {acc} or {x} != {x}) else {acc}"


@register_kernel("numba", Reduce)
def reduce_kernel(node, ins, outs, ctx):
    (x,) = ins
    (xv,) = node.inputs
    (ov,) = node.outputs
    kind, axes = node.op.kind, node.op.axis
    nd = xv.type.ndim
    if nd == 0:
        return [f"{outs[0]} = {cast_expr(x, ov.type.dtype)}"]
    odt = ov.type.dtype
    acc_dt = "float64" if kind in ("sum", "prod") and odt == "float32" else odt
    if kind in ("any", "all"):
        acc_dt = "bool"
    idx = [ctx.tmp("j") for _ in range(nd)]
    lines = []
    if kind in ("max", "min"):
        lines.append(f"if {' or '.join(f'{x}.shape[{a}] == 0' for a in axes)}:")
        lines.append(f"    raise ValueError('cannot take the {kind} of an empty axis')")
    elem = f"{x}[{', '.join(idx)}]"
    if kind in ("sum", "prod") and xv.type.dtype != acc_dt:
        elem = cast_expr(elem, acc_dt)
    if len(axes) == nd:      # full reduction into a scalar
        acc = ctx.tmp("a")
        lines.append(f"{acc} = {cast_expr(_init(kind, acc_dt), acc_dt)}")
        for k, i in enumerate(idx):
            lines.append("    " * k + f"for {i} in range({x}.shape[{k}]):")
        e = ctx.tmp("e")
        lines.append("    " * nd + f"{e} = {elem}")
        lines.append("    " * nd + f"{acc} = {_step(kind, acc, e)}")
        lines.append(f"{outs[0]} = {cast_expr(acc, odt)}")
        return lines
    keep = ", ".join("1" if a in axes else f"{x}.shape[{a}]" for a in range(nd))
    buf = ctx.tmp("a")
    lines.append(f"{buf} = np.full(({keep},), {cast_expr(_init(kind, acc_dt), acc_dt)}, "
                 f"np.{acc_dt})")
    for k, i in enumerate(idx):
        lines.append("    " * k + f"for {i} in range({x}.shape[{k}]):")
    sub = ", ".join("0" if a in axes else i for a, i in enumerate(idx))
    e = ctx.tmp("e")
    lines.append("    " * nd + f"{e} = {elem}")
    lines.append("    " * nd + f"{buf}[{sub}] = {_step(kind, f'{buf}[{sub}]', e)}")
    oshape = ", ".join(f"{x}.shape[{a}]" for a in range(nd) if a not in axes)
    lines.append(f"{outs[0]} = {buf}.reshape(({oshape},))"
                 + ("" if acc_dt == odt else f".astype(np.{odt})"))
    return lines


@register_kernel("numba", Argmax)
def argmax_kernel(node, ins, outs, ctx):
    (x,) = ins
    (xv,) = node.inputs
    fn = "argmax" if node.op.kind == "argmax" else "argmin"
    if xv.type.ndim == 0:
        return [f"{outs[0]} = np.int64(0)"]
    if xv.type.dtype.startswith("complex"):
        raise NotImplementedError("complex argmax")
    if node.op.axis is None:
        return [f"{outs[0]} = np.int64(np.{fn}({x}))"]
    if xv.type.ndim == 1:
        return [f"{outs[0]} = np.int64(np.{fn}({x}))"]
    return [f"{outs[0]} = np.{fn}({x}, {int(node.op.axis)}).astype(np.int64)"]
