"""``theano.tensor.utils``: a content hash of an array, and the numeric shape
of every variable of a graph from the shapes of its inputs.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.graph.fg import FunctionGraph
>>> x = T.matrix('x')
>>> y = x[512:]
>>> fgraph = FunctionGraph([x], [y], clone=False)
>>> d = shape_of_variables(fgraph, {x: (1024, 1024)})
>>> d[y]
(array(512), array(1024))
>>> hash_from_ndarray(np.zeros(3)) == hash_from_ndarray(np.zeros(3))
True
"""
import hashlib

import numpy as np

from ..graph.basic import Constant

__all__ = ["hash_from_ndarray", "shape_of_variables"]


def hash_from_ndarray(data):
    """A hex digest of ``data``'s values, shape, strides and dtype.

    Shape and strides are part of it because equal bytes can be different
    arrays (zeros of shape (1, 0) and (2, 0); ``a`` and ``a.T`` of a square
    C-contiguous array compared through their buffers), and the dtype
    because int32 and uint32 zeros share their bytes.
    """
    data = np.asarray(data)
    strides = data.strides
    buf = np.ascontiguousarray(data)
    h = hashlib.sha256()
    for part in (buf.tobytes(), str(data.shape), str(strides), str(data.dtype)):
        # each part's own digest, so no part's text can run into the next
        h.update(hashlib.sha256(part if isinstance(part, bytes) else part.encode()).digest())
    return h.hexdigest()


def shape_of_variables(fgraph, input_shapes):
    """``{variable: shape}`` for every variable of ``fgraph``, each size a 0-d
    int64 array, given ``{input: shape}`` for its inputs.

    The sizes come from the ops' ``infer_shape``: nothing of the graph is
    computed, only a function of the input sizes. A size that depends on
    an input's values (a reshape to a computed shape) cannot be found this
    way and raises ValueError naming the variable.
    """
    from .basic import lscalar
    unknown = [i for i in input_shapes if i not in fgraph.inputs]
    if unknown:
        raise ValueError(f"input_shapes has keys that are not inputs of the graph: {unknown}. "
                         f"A FunctionGraph clones its outputs' graph unless made with "
                         f"clone=False; pass the inputs it holds (fgraph.inputs)")
    dims, numeric = [], []
    shapes = {}
    for inp in fgraph.inputs:
        if inp not in input_shapes:
            raise ValueError(f"input_shapes gives no shape for the input {inp}")
        given = tuple(int(s) for s in input_shapes[inp])
        if len(given) != inp.ndim:
            raise ValueError(f"input_shapes[{inp}] has {len(given)} sizes, the input has "
                             f"ndim {inp.ndim}")
        static = getattr(inp.type, "shape", (None,) * inp.ndim)
        for axis, (s, g) in enumerate(zip(static, given)):
            if s is not None and s != g:
                raise ValueError(f"input_shapes[{inp}] gives size {g} on axis {axis}, the "
                                 f"input's type fixes it at {s}")
        shapes[inp] = tuple(lscalar(f"{inp}.shape[{k}]") for k in range(inp.ndim))
        dims.extend(shapes[inp])
        numeric.extend(given)
    for node in fgraph.toposort():
        for v in node.inputs:
            if v not in shapes and v.owner is None:
                shapes[v] = _leaf_shape(v)
        infer = getattr(node.op, "infer_shape", None)
        if infer is None:
            raise NotImplementedError(f"shape_of_variables: {node.op} has no infer_shape, so "
                                      f"the shapes of {node.outputs} are unknown")
        for out, shp in zip(node.outputs, infer(node, [shapes[v] for v in node.inputs])):
            shapes[out] = tuple(shp)
    flat = [(var, k, s) for var, shp in shapes.items() for k, s in enumerate(shp)]
    symbolic = [s for _, _, s in flat if not isinstance(s, (int, np.integer))]
    values = iter(_compute(fgraph, shapes, dims, numeric, symbolic) if symbolic else ())
    out = {}
    try:
        for var, k, s in flat:
            size = s if isinstance(s, (int, np.integer)) else next(values)
            out.setdefault(var, []).append(np.asarray(size, dtype="int64"))
    except StopIteration:    # pragma: no cover - one value per symbolic size
        raise AssertionError("shape_of_variables: fewer sizes computed than asked")
    return {var: tuple(shp) for var, shp in out.items()}


def _compute(fgraph, shapes, dims, numeric, symbolic):
    """The symbolic sizes' values. Some ops' ``infer_shape`` ask an input
    for its ``.shape``, so the graph's inputs are arguments too: stand-ins
    of the given shapes with no memory of their own (broadcast views), which
    the function may only ask their shape, never read."""
    from ..compile.function import function
    from .ops.shape import Shape, Shape_i
    f = function(dims + list(fgraph.inputs), symbolic, on_unused_input="ignore", mode="py")
    # the stand-ins may go through views (a transpose whose shape no rewrite
    # lifted) and into Shape ops; any other op would read their values
    inputs = set(f.maker.fgraph.inputs[len(dims):])
    for node in f.maker.fgraph.toposort():
        if not any(v in inputs for v in node.inputs) or isinstance(node.op, (Shape, Shape_i)):
            continue
        if getattr(node.op, "view_map", None) and not getattr(node.op, "destroy_map", None):
            inputs.update(node.outputs)
        else:
            raise ValueError(f"shape_of_variables: a size of the graph depends on the values "
                             f"of its inputs, not only their shapes ({node.op} reads "
                             f"{[v for v in node.inputs if v in inputs]})")
    stand_ins = [np.broadcast_to(np.zeros((), inp.dtype), tuple(numeric_shape))
                 for inp, numeric_shape in zip(fgraph.inputs, _split(numeric, fgraph.inputs))]
    return f(*numeric, *stand_ins)


def _split(numeric, inputs):
    k = 0
    for inp in inputs:
        yield numeric[k:k + inp.ndim]
        k += inp.ndim


def _leaf_shape(v):
    """A constant's or shared variable's shape: known from its value."""
    value = v.data if isinstance(v, Constant) else getattr(v, "get_value", None)
    if callable(value):
        value = value(borrow=True)
    if value is None:
        raise ValueError(f"shape_of_variables: {v} is used by the graph but is not one of "
                         f"its inputs and has no value")
    return tuple(int(s) for s in np.shape(value))
