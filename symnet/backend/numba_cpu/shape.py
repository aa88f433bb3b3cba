"""Numba templates for shape ops: Shape, Shape_i, MakeVector, Reshape,
Alloc, Join, Rebroadcast.  ARange, Tile and Repeat run their ``perform``."""
from ..registry import register_kernel
from ...tensor.ops.shape import Alloc, Join, MakeVector, Rebroadcast, Reshape, Shape, Shape_i
from .elemwise import cast_expr

__all__ = []


def _tuple(items):
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


@register_kernel("numba", Shape)
def shape_kernel(node, ins, outs, ctx):
    (x,) = ins
    nd = node.inputs[0].type.ndim
    lines = [f"{outs[0]} = np.empty({nd}, np.int64)"]
    lines += [f"{outs[0]}[{k}] = {x}.shape[{k}]" for k in range(nd)]
    return lines


@register_kernel("numba", Shape_i)
def shape_i_kernel(node, ins, outs, ctx):
    return [f"{outs[0]} = np.int64({ins[0]}.shape[{node.op.i}])"]


@register_kernel("numba", MakeVector)
def make_vector_kernel(node, ins, outs, ctx):
    dt = node.outputs[0].type.dtype
    lines = [f"{outs[0]} = np.empty({len(ins)}, np.{dt})"]
    lines += [f"{outs[0]}[{k}] = {cast_expr(s, dt)}" for k, s in enumerate(ins)]
    return lines


@register_kernel("numba", Reshape)
def reshape_kernel(node, ins, outs, ctx):
    x, shp = ins
    xv = node.inputs[0]
    nd = node.op.ndim
    src = ctx.tmp("r")
    if xv.type.ndim == 0:
        lines = [f"{src} = np.full(1, {x}, np.{xv.type.dtype})"]
    else:
        lines = [f"{src} = np.ascontiguousarray({x}).ravel()"]
    if nd == 0:
        return lines + [f"if {src}.size != 1:",
                        "    raise ValueError('reshape: cannot reshape into a 0-d array')",
                        f"{outs[0]} = {src}[0]"]
    dims = _tuple([f"{shp}[{k}]" for k in range(nd)])
    return lines + [f"{outs[0]} = {src}.reshape({dims})"]


@register_kernel("numba", Alloc)
def alloc_kernel(node, ins, outs, ctx):
    value, *shp = ins
    vv = node.inputs[0]
    dt = node.outputs[0].type.dtype
    if not shp:
        return [f"{outs[0]} = {cast_expr(value, dt)}"]
    shape = _tuple([f"{s}" for s in shp])
    if vv.type.ndim == 0:
        return [f"{outs[0]} = np.full({shape}, {value}, np.{dt})"]
    conv = "" if vv.type.dtype == dt else f".astype(np.{dt})"
    return [f"{outs[0]} = np.broadcast_to({value}, {shape}).copy(){conv}"]


@register_kernel("numba", Join)
def join_kernel(node, ins, outs, ctx):
    dt = node.outputs[0].type.dtype
    if any(v.type.ndim == 0 for v in node.inputs):
        raise NotImplementedError("join of scalars")
    parts = [x if v.type.dtype == dt else f"{x}.astype(np.{dt})"
             for x, v in zip(ins, node.inputs)]
    return [f"{outs[0]} = np.concatenate({_tuple(parts)}, axis={node.op.axis})"]


@register_kernel("numba", Rebroadcast)
def rebroadcast_kernel(node, ins, outs, ctx):
    (x,) = ins
    lines = []
    for ax, b in node.op.axes:
        if b:
            lines.append(f"if {x}.shape[{ax}] != 1:")
            lines.append("    raise ValueError('rebroadcast: axis declared broadcastable "
                         "has size != 1')")
    return lines + [f"{outs[0]} = {x}"]
