"""Shape ops in the numba backend's driver: Shape, Shape_i, MakeVector,
Reshape, Alloc, Join and Rebroadcast are numpy lines (views, tiny vectors or
one memcpy: a compiled kernel would only add compile time).  ARange, Tile
and Repeat run their ``perform``."""
from .linker import driver_op
from ...tensor.ops.shape import Alloc, Join, MakeVector, Rebroadcast, Reshape, Shape, Shape_i

__all__ = []


def _tuple(items):
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


@driver_op(Shape)
def shape_driver(node, ins, outs):
    return [f"{outs[0]} = _np.array(_np.shape({ins[0]}), _np.int64)"], True


@driver_op(Shape_i)
def shape_i_driver(node, ins, outs):
    return [f"{outs[0]} = _np.int64({ins[0]}.shape[{node.op.i}])"], False


@driver_op(MakeVector)
def make_vector_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    return [f"{outs[0]} = _np.array([{', '.join(ins)}], _np.{dt})"], True


@driver_op(Reshape)
def reshape_driver(node, ins, outs):
    x, shp = ins
    return [f"{outs[0]} = _np.reshape({x}, {_tuple([f'int({shp}[{k}])' for k in range(node.op.ndim)])})"], \
        "input"


@driver_op(Alloc)
def alloc_driver(node, ins, outs):
    value, *shp = ins
    dt = node.outputs[0].type.dtype
    shape = _tuple([f"int({s})" for s in shp])
    return [f"{outs[0]} = _np.empty({shape}, _np.{dt})",
            f"{outs[0]}[...] = {value}"], True


@driver_op(Join)
def join_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    expr = f"_np.concatenate({_tuple(ins)}, axis={node.op.axis})"
    if any(v.type.dtype != dt for v in node.inputs):
        expr += f".astype(_np.{dt})"
    return [f"{outs[0]} = {expr}"], True


@driver_op(Rebroadcast)
def rebroadcast_driver(node, ins, outs):
    (x,) = ins
    lines = []
    for ax, b in node.op.axes:
        if b:
            lines.append(f"if {x}.shape[{ax}] != 1:")
            lines.append("    raise ValueError('rebroadcast: axis declared broadcastable "
                         "has size != 1')")
    return lines + [f"{outs[0]} = {x}"], "input"
