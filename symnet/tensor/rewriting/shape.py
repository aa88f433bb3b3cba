"""Rewrites of shape computations.

Sizes known at build time become constants; ``x.shape[i]`` becomes
``Shape_i(i)(x)`` (and ``x.shape``, of a result the next rule lifts
through, the vector of those); the size of an elementwise result, DimShuffle or
reduction is read from its inputs' sizes (``infer_shape``), so ``x`` itself
need not be computed just to learn its shape; reshapes of reshapes become
one reshape and reshapes to the shape a value already has vanish.
"""
import weakref

import numpy as np

from ...graph.rewriting import register_local
from ..basic import constant
from ..ops.elemwise import DimShuffle, Elemwise, cast
from ..ops.indexing import Subtensor
from ..ops.reduction import Reduce
from ..ops.shape import MakeVector, Reshape, Shape, Shape_i
from .basic import fit_type

__all__ = ["local_shape_constant", "local_shape_i_constant", "local_shape_subtensor",
           "local_shape_i_lift", "local_shape_to_shape_i", "local_subtensor_make_vector", "local_reshape_reshape",
           "local_useless_reshape"]


def _int64(value):
    return constant(np.asarray(value, dtype="int64"))


@register_local("canonicalize", tracks=[Shape])
def local_shape_constant(fgraph, node):
    """``x.shape`` -> a constant when every size of ``x`` is static."""
    shp = node.inputs[0].type.shape
    if None in shp:
        return None
    return [constant(np.asarray(shp, dtype="int64").reshape(len(shp)))]


@register_local("canonicalize", tracks=[Shape_i])
def local_shape_i_constant(fgraph, node):
    """``Shape_i(i)(x)`` -> a constant when axis ``i`` of ``x`` is static."""
    size = node.inputs[0].type.shape[node.op.i]
    return None if size is None else [_int64(size)]


@register_local("canonicalize", tracks=[Subtensor])
def local_shape_subtensor(fgraph, node):
    """``x.shape[i]`` (an int index) -> ``Shape_i(i)(x)``."""
    v = node.inputs[0]
    idx = node.op.idx_list
    if v.owner is None or not isinstance(v.owner.op, Shape) or len(idx) != 1 \
            or not isinstance(idx[0], int) or len(node.inputs) != 1:
        return None
    x = v.owner.inputs[0]
    if not -x.ndim <= idx[0] < x.ndim:
        return None
    return [Shape_i(idx[0] % x.ndim)(x)]


@register_local("canonicalize", tracks=[Subtensor])
def local_subtensor_make_vector(fgraph, node):
    """``MakeVector(a, b, c)[1]`` (an int index) -> ``b``: a shape built by
    ``local_shape_to_shape_i`` then indexed, as ``x.shape[0]`` is."""
    v = node.inputs[0]
    idx = node.op.idx_list
    if v.owner is None or not isinstance(v.owner.op, MakeVector) or len(idx) != 1 \
            or not isinstance(idx[0], int) or len(node.inputs) != 1:
        return None
    items = v.owner.inputs
    if not -len(items) <= idx[0] < len(items):
        return None
    new = fit_type(items[idx[0]], node.outputs[0])
    return None if new is None else [new]


# ops whose ``infer_shape`` is trusted to lift ``Shape_i`` above them
_LIFT = (Elemwise, DimShuffle, Reduce)


def _liftable(op):
    """Whether sizes are read through ``op.infer_shape``: symnet's ops in
    ``_LIFT``, and a user's op that has an infer_shape (defined outside
    symnet, or given one as ``as_op(infer_shape=)`` does), whose shape
    Theano's users expect without running the op."""
    if isinstance(op, _LIFT):
        return True
    user = not type(op).__module__.startswith("symnet.") or "infer_shape" in vars(op)
    return user and callable(getattr(op, "infer_shape", None))


@register_local("canonicalize", tracks=[Shape_i])
def local_shape_i_lift(fgraph, node):
    """``Shape_i(i)(op(...))`` -> the size from ``op.infer_shape``, for
    Elemwise, DimShuffle and reductions."""
    v = node.inputs[0]
    if v.owner is None or not _liftable(v.owner.op):
        return None
    producer = v.owner
    in_shapes = [tuple(s if s is not None else Shape_i(j)(inp)
                       for j, s in enumerate(inp.type.shape))
                 for inp in producer.inputs]
    try:
        size = producer.op.infer_shape(producer, in_shapes)[v.index][node.op.i]
    except (NotImplementedError, TypeError, ValueError):
        return None  # no shape rule for these inputs: keep the Shape_i (a bug still raises)
    if isinstance(size, (int, np.integer)):
        return [_int64(int(size))]
    if getattr(size, "ndim", None) != 0 or not str(size.dtype).startswith(("int", "uint")):
        return None
    return [fit_type(cast(size, "int64"), node.outputs[0])]


@register_local("canonicalize", tracks=[Shape])
def local_shape_to_shape_i(fgraph, node):
    """``op(...).shape`` -> ``[Shape_i(0)(op(...)), ...]`` for the ops
    ``local_shape_i_lift`` lifts through: each size then comes from the
    inputs' sizes, and ``(x ** 2).shape`` no longer computes ``x ** 2``
    (what Theano's shape tutorial shows)."""
    v = node.inputs[0]
    if v.owner is None or not _liftable(v.owner.op) or v.ndim == 0:
        return None
    return [fit_type(MakeVector("int64")(*[Shape_i(i)(v) for i in range(v.ndim)]),
                     node.outputs[0])]


@register_local("canonicalize", tracks=[Reshape])
def local_reshape_reshape(fgraph, node):
    """``reshape(reshape(x, s1), s2)`` -> ``reshape(x, s2)``."""
    x, shp = node.inputs
    if x.owner is None or not isinstance(x.owner.op, Reshape):
        return None
    return [fit_type(node.op(x.owner.inputs[0], shp), node.outputs[0])]


def _size_source(x, j, memo=None):
    """A canonical name for the size of axis ``j`` of ``x``: an int when
    static, else ``(variable, axis)`` traced up through Elemwise, DimShuffle
    and reductions (which keep the sizes of their inputs).

    ``memo`` (a dict kept by the caller while the graph does not change)
    remembers every ``(variable, axis)`` on the way: asking about each node
    of a deep chain then costs the chain once, not once per node."""
    path = []
    found = _trace_size(x, j, memo, path)
    if memo is not None:
        for key in path:
            memo[key] = found
    return found


def _trace_size(x, j, memo, path):
    while True:  # a loop, not recursion: chains may be long
        if memo is not None and (x, j) in memo:
            return memo[(x, j)]
        path.append((x, j))
        size = x.type.shape[j]
        if size is not None:
            return size
        node = x.owner
        if node is None:
            return (x, j)
        op = node.op
        if isinstance(op, Elemwise):
            for inp in node.inputs:
                if not inp.type.broadcastable[j]:
                    x = inp
                    break
            else:
                return (x, j)
        elif isinstance(op, DimShuffle):
            x, j = node.inputs[0], op.new_order[j]
        elif isinstance(op, Reduce):
            kept = [i for i in range(node.inputs[0].ndim) if i not in op.axis]
            x, j = node.inputs[0], kept[j]
        else:
            return (x, j)


_MEMOS = weakref.WeakKeyDictionary()


def size_memo(fgraph):
    """The ``_size_source`` memo kept for ``fgraph`` while it is rewritten.

    Rewrites replace a variable only by one of the same value, so a size
    recorded as equal to another stays true after any later replacement
    (at worst it names a variable no longer in the graph, and a comparison
    that could have matched does not): the memo never needs clearing."""
    memo = _MEMOS.get(fgraph)
    if memo is None:
        memo = _MEMOS[fgraph] = {}
    return memo


def _entry_source(s, memo=None):
    """``_size_source`` of a shape-vector entry (a constant or Shape_i)."""
    while s.owner is not None and isinstance(s.owner.op, Elemwise) \
            and s.owner.op.scalar_op.name == "cast":
        s = s.owner.inputs[0]
    if s.owner is not None and isinstance(s.owner.op, Shape_i):
        return _size_source(s.owner.inputs[0], s.owner.op.i, memo)
    return _const_int(s)


def _same_shape(x, shp, memo=None):
    """Whether the target shape vector ``shp`` is known to be ``x``'s shape."""
    if shp.owner is not None and isinstance(shp.owner.op, Shape):
        w = shp.owner.inputs[0]
        return w.ndim == x.ndim and all(
            _size_source(w, j, memo) == _size_source(x, j, memo) for j in range(x.ndim))
    if shp.owner is not None and isinstance(shp.owner.op, MakeVector):
        if len(shp.owner.inputs) != x.ndim:
            return False
        return all(_entry_source(s, memo) == _size_source(x, j, memo)
                   for j, s in enumerate(shp.owner.inputs))
    return False


def _const_int(v):
    data = getattr(v, "data", None)
    return None if data is None or np.size(data) != 1 else int(np.asarray(data).reshape(()))


@register_local("canonicalize", tracks=[Reshape])
def local_useless_reshape(fgraph, node):
    """A reshape to the shape ``x`` already has -> ``x``."""
    x, shp = node.inputs
    out = node.outputs[0]
    if x.ndim != out.ndim:
        return None
    static = None not in x.type.shape and x.type.shape == out.type.shape
    if static or _same_shape(x, shp, size_memo(fgraph)):
        return [fit_type(x, out)]
    return None
