"""Numba templates for reductions: ``Reduce`` as a loop nest accumulating
into a buffer of the output's shape, allocated by ``lib/alloc.py``'s
``_empty`` (float32 sums accumulate in float64, as numpy's pairwise
summation is about that accurate), ``Argmax`` through numpy calls numba
supports."""
from ..registry import register_kernel
from ...tensor.ops.reduction import Argmax, Reduce
from ..scalar import cast_expr

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
    # partial reduction: accumulate straight into a buffer of the output's
    # shape (explicit loops: np.full/reshape/astype cost numba ~0.4 s to
    # compile; lib/alloc.py's _empty, not np.empty: no overload compiled
    # per rank and dtype in each cold process)
    kept = [a for a in range(nd) if a not in axes]
    oshape = "(" + ", ".join(f"{x}.shape[{a}]" for a in kept) + ",)"
    buf = ctx.tmp("a")
    oidx = [ctx.tmp("o") for _ in kept]
    osub = ", ".join(oidx)
    empty = ctx.use_lib("alloc", "_empty")
    lines.append(f"{buf} = {empty}({oshape}, np.{acc_dt})")
    lines += _nest(oidx, kept, x, [f"{buf}[{osub}] = {cast_expr(_init(kind, acc_dt), acc_dt)}"])
    sub = ", ".join(i for a, i in enumerate(idx) if a not in axes)
    e = ctx.tmp("e")
    if nd - 1 in axes:
        # the last axis reduced: its loop accumulates into a local (kept in a
        # register, vectorized), added to the buffer once per row; through the
        # buffer every element waited for the previous add (measured, W7's
        # conv bias gradients, Sum over axes 0, 2, 3, one thread: (256, 32,
        # 24, 24) 1.7-2.6 -> 0.8-1.2 ms, (256, 64, 8, 8) 0.3-0.9 -> 0.23-0.43)
        r = ctx.tmp("r")
        inner = [f"{r} = {cast_expr(_init(kind, acc_dt), acc_dt)}",
                 f"for {idx[-1]} in range({x}.shape[{nd - 1}]):",
                 f"    {e} = {elem}",
                 f"    {r} = {_step(kind, r, e)}",
                 f"{buf}[{sub}] = {_step(kind, f'{buf}[{sub}]', r)}"]
        lines += _nest(idx[:-1], range(nd - 1), x, inner)
    else:
        lines += _nest(idx, range(nd), x, [f"{e} = {elem}",
                                           f"{buf}[{sub}] = {_step(kind, f'{buf}[{sub}]', e)}"])
    if acc_dt == odt:
        return lines + [f"{outs[0]} = {buf}"]
    lines.append(f"{outs[0]} = {empty}({oshape}, np.{odt})")
    return lines + _nest(oidx, kept, x, [f"{outs[0]}[{osub}] = "
                                         f"{cast_expr(f'{buf}[{osub}]', odt)}"])


def _nest(idx, axes, x, body):
    """Lines of a loop nest over ``x``'s ``axes`` running ``body``."""
    lines = ["    " * k + f"for {i} in range({x}.shape[{a}]):"
             for k, (i, a) in enumerate(zip(idx, axes))]
    return lines + ["    " * len(idx) + ln for ln in body]


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
