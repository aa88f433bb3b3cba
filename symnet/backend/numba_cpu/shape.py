"""Shape ops in the numba backend's driver: Shape, Shape_i, ShapeBeyondRank, MakeVector,
Reshape, Alloc, Join, Rebroadcast, ARange, Tile and Repeat are numpy lines
(views, tiny vectors or one copy: a compiled kernel would only add compile
time)."""
from .dispatch import driver_op, method_driver
from ...tensor.ops.elemwise import DimShuffle
from ...tensor.ops.shape import (ARange, Alloc, Join, MakeVector, Rebroadcast, Repeat,
                                 Reshape, RuntimeAxisJoin, Shape, ShapeBeyondRank, Shape_i,
                                 Tile)

__all__ = []


def _tuple(items):
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


@driver_op(Shape)
def shape_driver(node, ins, outs):
    return [f"{outs[0]} = _np.array(_np.shape({ins[0]}), _np.int64)"], True


@driver_op(Shape_i, njit=True)
def shape_i_driver(node, ins, outs):
    return [f"{outs[0]} = _np.int64({ins[0]}.shape[{node.op.i}])"], "scalar"


@driver_op(ShapeBeyondRank)
def shape_beyond_rank_driver(node, ins, outs):
    # the py reference's error, raised by the driver when the node is reached
    return [f"raise IndexError({node.op.message(node.inputs[0])!r})"], "scalar"


@driver_op(MakeVector)
def make_vector_driver(node, ins, outs):
    dt = node.outputs[0].type.dtype
    return [f"{outs[0]} = _np.array([{', '.join(ins)}], _np.{dt})"], True


@driver_op(Reshape, njit=lambda node: node.op.ndim > 0)   # see njit_driver's _reshape
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


def _one_dtype(node):
    return len({v.type.dtype for v in node.inputs + node.outputs}) == 1


def _of_transposes(node):
    """Whether every part is a matrix's transpose (F-ordered views): the
    ``scan_join_transposed`` rewrite's join (BPTT's recurrent weight)."""
    return _one_dtype(node) and node.outputs[0].type.ndim == 2 and all(
        v.owner is not None and isinstance(v.owner.op, DimShuffle) and
        v.owner.op.new_order == (1, 0) for v in node.inputs)


def _join_in_njit(node):
    """numba's ``np.concatenate`` of one dtype (no ``astype`` in the line;
    no ``out=``, which numba's does not take)."""
    return _one_dtype(node) and not _of_transposes(node)


def _join_shape(ins, axis, nd):
    """The driver expression of the shape of the join of ``ins``."""
    return _tuple([" + ".join(f"{x}.shape[{d}]" for x in ins) if d == axis
                   else f"{ins[0]}.shape[{d}]" for d in range(nd)])


@driver_op(Join, njit=_join_in_njit)
def join_driver(node, ins, outs, writer=None):
    dt = node.outputs[0].type.dtype
    axis = node.op.axis
    given = getattr(writer, "dest", None)
    dest = given(node.outputs[0]) if given is not None and isinstance(axis, int) and \
        axis >= 0 and _one_dtype(node) else None
    if dest is not None:
        # a scan step's output: into the loop's buffer when one is given
        # (codegen.into; W8's BPTT stored its (32, 1024) gate gradients anew)
        shape = _join_shape(ins, axis, node.outputs[0].type.ndim)
        return [f"{outs[0]} = _np.concatenate({_tuple(ins)}, axis={axis}, "
                f"out=_into({dest}, {shape}, _np.{dt}))"], True
    if _of_transposes(node):
        # written straight into a C-ordered result, each part transposed
        # from its own small source: numpy would return the join of F views
        # in F order, and ``_C`` then transposed it whole, reading rows the
        # whole join wide (W8's 4 x (256, 256) recurrent weights, 60 calls,
        # median / min us, cold cache: 680 / 546 against 1303 / 1121)
        shape = _join_shape(ins, axis, 2)
        return [f"{outs[0]} = _np.concatenate({_tuple(ins)}, axis={axis}, "
                f"out=_np.empty({shape}, _np.{dt}))"], True
    expr = f"_np.concatenate({_tuple(ins)}, axis={axis})"
    if any(v.type.dtype != dt for v in node.inputs):
        expr += f".astype(_np.{dt})"
    # numpy lays the result out like its inputs (F-ordered views give an F
    # result), and the kernels downstream take this fresh output as C
    return [f"{outs[0]} = _C({expr})"], True


join_driver.takes_writer = True

# an axis known only at run time: numpy's concatenate through the op's own
# compute (the py reference's errors), a copy like Join's
method_driver(RuntimeAxisJoin, "compute", contiguous=True)


@driver_op(Rebroadcast, njit=True)
def rebroadcast_driver(node, ins, outs):
    (x,) = ins
    lines = []
    for ax, b in node.op.axes:
        if b:
            lines.append(f"if {x}.shape[{ax}] != 1:")
            lines.append("    raise ValueError('rebroadcast: axis declared broadcastable "
                         "has size != 1')")
    return lines + [f"{outs[0]} = {x}"], "input"


@driver_op(ARange)
def arange_driver(node, ins, outs):
    return [f"{outs[0]} = _np.arange({', '.join(ins)}, dtype=_np.{node.op.dtype})"], True


@driver_op(Tile)
def tile_driver(node, ins, outs):
    return [f"{outs[0]} = _np.ascontiguousarray(_np.tile({ins[0]}, {tuple(node.op.reps)}))"], \
        True


@driver_op(Repeat)
def repeat_driver(node, ins, outs):
    return [f"{outs[0]} = _np.repeat({ins[0]}, {int(node.op.repeats)}, "
            f"axis={node.op.axis!r})"], True
