"""Shape ops: shape, reshape, flatten, alloc, join/stack, arange, tile,
repeat, broadcast-pattern changes.

Static sizes flow through every op here where they can be known at build
time (a constant target shape, static input sizes), so layer shape errors
surface when the graph is built.
"""
import numpy as np

from ...graph.basic import Apply, Constant, Variable
from ...graph.op import Op
from ..basic import (NotScalarConstantError, _as_shape_var, as_tensor_variable,
                     constant, get_scalar_constant_value)
from ..type import TensorType, upcast
from .elemwise import cast, dimshuffle

__all__ = ["Shape", "Shape_i", "ShapeBeyondRank", "MakeVector", "Reshape", "Alloc", "Join",
           "RuntimeAxisJoin",
           "ARange", "Rebroadcast", "Tile", "Repeat",
           "shape", "shape_i", "reshape", "flatten", "alloc", "join", "concatenate",
           "stack", "arange", "zeros", "ones", "zeros_like", "ones_like", "fill",
           "shape_padleft", "shape_padright", "shape_padaxis", "patternbroadcast",
           "addbroadcast", "unbroadcast", "squeeze", "tile", "repeat", "make_vector",
           "static_values"]


class Shape(Op):
    """The shape of ``x`` as an int64 vector."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [(len(input_shapes[0]),)]

    def connection_pattern(self, node):
        return [[False]]  # the shape does not depend on the values

    def L_op(self, inputs, outputs, output_grads):
        return [None]


class Shape_i(Op):
    """The size of axis ``i`` of ``x`` as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i({self.i}) of {x} with {x.ndim} dims")
        return Apply(self, [x], [TensorType("int64", shape=())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]  # the shape does not depend on the values

    def L_op(self, inputs, outputs, output_grads):
        return [None]


class ShapeBeyondRank(Op):
    """``x.shape[i]`` for an axis ``x`` does not have: it builds, and raises
    IndexError when evaluated.

    Theano's ``x.shape`` had no static length, so ``vector.shape[1]`` built
    and failed only when a function computed it. Code written for Theano
    relies on that: Lasagne's ``multiclass_hinge_loss`` takes
    ``predictions.shape[1]`` first and checks the ranks of its arguments
    after, raising its own TypeError. Only ``x.shape[i]`` with a constant
    ``i`` makes this op (``x[i]`` of any other vector still fails when it is
    built), and it is never constant-folded, so compiling such a graph
    succeeds and only evaluating it fails.
    """

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if -x.ndim <= self.i < x.ndim:
            raise ValueError(f"ShapeBeyondRank({self.i}) of {x} with {x.ndim} dims: "
                             f"axis {self.i} exists, use Shape_i")
        return Apply(self, [x], [TensorType("int64", shape=())()])

    def message(self, x):
        dims = "dimension" if x.ndim == 1 else "dimensions"
        return (f"{x}.shape[{self.i}] was evaluated, but {x} has {x.ndim} {dims} "
                f"({x.type}), so its shape has no entry {self.i} (such an index builds, "
                f"as in Theano, and fails only when computed: check {x}.ndim first)")

    def perform(self, node, inputs, output_storage):
        raise IndexError(self.message(node.inputs[0]))

    def infer_shape(self, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]  # a size, not a function of the values

    def L_op(self, inputs, outputs, output_grads):
        return [None]

    def do_constant_folding(self, node):
        return False  # folding would raise when the graph is compiled, not evaluated


def shape(x):
    return Shape()(x)


def shape_i(x, i):
    """Axis ``i``'s size: a Python int when static, else a symbolic scalar."""
    x = as_tensor_variable(x)
    s = x.type.shape[i]
    if s is not None:
        return constant(np.asarray(s, dtype="int64"))
    return Shape_i(i % x.ndim)(x)


class MakeVector(Op):
    """A vector from scalars (used for symbolic shapes)."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):   # Theano's default
        self.dtype = dtype

    def make_node(self, *scalars):
        scalars = [cast(as_tensor_variable(s), self.dtype) for s in scalars]
        for s in scalars:
            if s.ndim != 0:
                raise TypeError(f"MakeVector takes scalars, got {s} with {s.ndim} dims")
        return Apply(self, scalars, [TensorType(self.dtype, shape=(len(scalars),))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, node, input_shapes):
        return [(len(node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        if not self.dtype.startswith("float"):
            return [None] * len(inputs)
        return [gz[i] for i in range(len(inputs))]


def make_vector(scalars, dtype=None):
    scalars = [as_tensor_variable(s) for s in scalars]
    dtype = dtype or upcast(*[s.dtype for s in scalars])
    return MakeVector(dtype)(*scalars)


def static_values(vec):
    """Build-time values of a shape vector's entries (None where unknown)."""
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).reshape(-1)]
    n = vec.type.shape[0]
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        out = []
        for s in vec.owner.inputs:
            try:
                out.append(int(get_scalar_constant_value(s)))
            except NotScalarConstantError:
                out.append(None)
        return out
    if vec.owner is not None and isinstance(vec.owner.op, Shape):
        return list(vec.owner.inputs[0].type.shape)
    return [None] * (n or 0)


class Reshape(Op):
    """Reshape ``x`` to the int64 vector ``shape`` (one entry may be -1)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}   # np.reshape returns a view where it can

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_tensor_variable(shp)
        if shp.ndim != 1 or shp.type.shape[0] not in (None, self.ndim):
            raise ValueError(f"reshape of {x}: target shape must be a vector of "
                             f"{self.ndim} entries")
        vals = static_values(shp) if shp.type.shape[0] is not None else [None] * self.ndim
        if vals.count(-1) > 1:      # numpy says so only when the function runs
            raise ValueError(f"cannot reshape {x} to {tuple(vals)}: only one axis may "
                             f"be -1 (inferred)")
        known_in = x.type.shape
        if -1 in vals and None not in vals and None not in known_in:
            total = int(np.prod(known_in))
            rest = int(np.prod([v for v in vals if v != -1]))
            vals = [total // rest if (v == -1 and rest) else v for v in vals]
        vals = [None if v == -1 else v for v in vals]
        if None not in vals and None not in known_in and \
                int(np.prod(vals)) != int(np.prod(known_in)):
            raise ValueError(f"cannot reshape {x} of shape {known_in} "
                             f"({int(np.prod(known_in))} elements) to {tuple(vals)}")
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=tuple(vals))()])

    def perform(self, node, inputs, output_storage):
        x, shp = inputs
        try:
            output_storage[0][0] = np.reshape(x, tuple(int(s) for s in shp))
        except ValueError:
            raise ValueError(f"cannot reshape array of shape {x.shape} ({x.size} "
                             f"elements) into shape {tuple(int(s) for s in shp)}") from None

    def infer_shape(self, node, input_shapes):
        x, shp = node.inputs
        vals = node.outputs[0].type.shape
        out = []
        for i, v in enumerate(vals):
            out.append(v if v is not None else _reshape_dim(node, input_shapes, i))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x, _ = inputs
        return [reshape(output_grads[0], shape(x), ndim=x.ndim), None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


def _reshape_dim(node, input_shapes, i):
    """Symbolic size of output axis i, resolving a -1 entry."""
    from ... import tensor as T
    x, shp = node.inputs
    entry = shp[i]
    # from input_shapes, not shape(x): a caller that knows the input sizes
    # (shape_of_variables) must not need x's value to get them
    total = 1
    for size in input_shapes[0]:
        total = total * size
    others = None
    for j in range(node.op.ndim):
        if j != i:
            others = shp[j] if others is None else others * shp[j]
    if others is None:
        return T.switch(T.eq(entry, -1), total, entry)
    return T.switch(T.eq(entry, -1), T.int_div(total, others), entry)


def reshape(x, newshape, ndim=None):
    """``x`` reshaped; ``newshape`` may mix ints, -1 and symbolic scalars.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.tensor3('x', shape=(2, 3, 4))
    >>> reshape(x, (-1, 4)).type.shape
    (6, 4)
    """
    x = as_tensor_variable(x)
    shp = _as_shape_var(newshape)
    if ndim is None:
        ndim = shp.type.shape[0]
        if ndim is None:
            raise ValueError(f"reshape of {x}: pass ndim= when the target shape is "
                             f"a vector of unknown length")
    return Reshape(ndim)(x, shp)


def flatten(x, ndim=1, outdim=None):
    """Keep the first ``ndim - 1`` axes and flatten the rest into one."""
    x = as_tensor_variable(x)
    if outdim is not None:
        ndim = outdim
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten of {x} ({x.ndim} dims) to ndim={ndim}")
    if ndim == x.ndim:
        return x
    lead = [x.type.shape[i] if x.type.shape[i] is not None else shape_i(x, i)
            for i in range(ndim - 1)]
    rest = x.type.shape[ndim - 1:]
    # a static trailing size keeps the output's static shape known
    tail = int(np.prod(rest)) if None not in rest else -1
    return reshape(x, lead + [tail], ndim=ndim)


class Alloc(Op):
    """Broadcast ``value`` to the given shape (a new array)."""

    def make_node(self, value, *shp):
        value = as_tensor_variable(value)
        shp = [cast(as_tensor_variable(s), "int64") for s in shp]
        if len(shp) < value.ndim:
            raise ValueError(f"alloc: {len(shp)} sizes for a value with {value.ndim} dims")
        static = []
        for k, s in enumerate(shp):
            try:
                static.append(int(get_scalar_constant_value(s)))
            except NotScalarConstantError:
                static.append(None)
        off = len(shp) - value.ndim
        for i, vs in enumerate(value.type.shape):
            ts = static[off + i]
            if vs is not None and ts is not None and vs != 1 and vs != ts:
                raise ValueError(f"alloc: value of shape {value.type.shape} does not "
                                 f"broadcast to {tuple(static)}")
            if static[off + i] is None and vs is not None and vs != 1:
                static[off + i] = vs
        return Apply(self, [value] + shp, [TensorType(value.dtype, shape=tuple(static))()])

    def perform(self, node, inputs, output_storage):
        value, *shp = inputs
        out = np.empty(tuple(int(s) for s in shp), dtype=node.outputs[0].dtype)
        out[...] = value
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        value = inputs[0]
        gz = output_grads[0]
        off = gz.ndim - value.ndim
        axes = list(range(off)) + [off + i for i, b in enumerate(value.broadcastable)
                                   if b and not outputs[0].broadcastable[off + i]]
        g = _sum(gz, axis=axes) if axes else gz
        keep = [off + i for i in range(value.ndim)]
        pattern, k = [], 0
        for i, ax in enumerate(keep):
            if value.broadcastable[i] and not outputs[0].broadcastable[ax]:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        g = dimshuffle(g, tuple(pattern))
        return [g] + [None] * (len(inputs) - 1)

    def do_constant_folding(self, node):
        return False  # folding would bake large arrays into the graph


def alloc(value, *shape):
    return Alloc()(value, *shape)


def _shape_list(shape):
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            return [shape]
        n = shape.type.shape[0]
        if n is None:
            raise ValueError("zeros/ones/alloc need a shape of known length")
        return [shape[i] for i in range(n)]
    if isinstance(shape, (int, np.integer)):
        return [shape]
    return list(shape)


def zeros(shape, dtype=None):
    from ...configdefaults import config
    return alloc(constant(np.asarray(0, dtype=dtype or config.floatX)), *_shape_list(shape))


def ones(shape, dtype=None):
    from ...configdefaults import config
    return alloc(constant(np.asarray(1, dtype=dtype or config.floatX)), *_shape_list(shape))


def _like(x, value, dtype):
    x = as_tensor_variable(x)
    dt = dtype or x.dtype
    # Shape_i even for a static size (the rewrites fold it): x stays in the
    # graph, as in Theano (its fill), so ``function([x], zeros_like(x))``
    # uses x, givens replace it and grad finds x connected (a zero gradient)
    return alloc(constant(np.asarray(value, dtype=dt)),
                 *[Shape_i(i)(x) for i in range(x.ndim)])


def zeros_like(x, dtype=None):
    return _like(x, 0, dtype)


def ones_like(x, dtype=None):
    return _like(x, 1, dtype)


def fill(model, value):
    """``value`` broadcast with ``model`` (Theano's ``fill``/``second``, numpy's
    ``np.broadcast_arrays(model, value)[1]``): ``model``'s shape, except that
    ``value`` may have more dimensions, or sizes where ``model``'s are
    broadcastable."""
    model = as_tensor_variable(model)
    value = as_tensor_variable(value)
    nd = max(model.ndim, value.ndim)
    pm, pv = nd - model.ndim, nd - value.ndim
    shape = []
    for k in range(nd):
        m_b = k < pm or model.broadcastable[k - pm]
        v_b = k < pv or value.broadcastable[k - pv]
        if not m_b:
            shape.append(shape_i(model, k - pm))
        else:
            shape.append(1 if v_b else shape_i(value, k - pv))
    return alloc(value, *shape)


class Join(Op):
    """Concatenate tensors along a fixed ``axis``.

    Theano's form ``Join()(axis, *tensors)`` (the axis as the first input)
    builds the node of ``Join(axis)`` when the axis is a constant, of
    :class:`RuntimeAxisJoin` otherwise; ``view`` is Theano's hint for returning an input, which
    symnet's join does not do (it always makes a new array).
    """

    __props__ = ("axis",)

    def __init__(self, axis=None, view=-1):
        self.axis = None if axis is None else int(axis)

    def make_node(self, *tensors):
        if self.axis is None:
            from ..basic import get_scalar_constant_value, NotScalarConstantError
            axis, *tensors = tensors
            try:
                axis = int(get_scalar_constant_value(axis))
            except NotScalarConstantError:
                return RuntimeAxisJoin().make_node(axis, *tensors)
            ndim = as_tensor_variable(tensors[0]).ndim if tensors else 1
            if ndim and not -ndim <= axis < ndim:
                raise _axis_error("join", axis, ndim)
            return Join(axis % ndim if ndim else 0).make_node(*tensors)
        tensors, ndim = _join_inputs(tensors)
        if not 0 <= self.axis < ndim:
            raise _axis_error("join", self.axis, ndim)
        dtype = upcast(*[t.dtype for t in tensors])
        shape = list(tensors[0].type.shape)
        total = 0
        for t in tensors:
            if t.ndim != ndim:
                raise TypeError(f"join: all inputs need {ndim} dims, {t} has {t.ndim}")
            for ax in range(ndim):
                if ax == self.axis:
                    continue
                a, b = shape[ax], t.type.shape[ax]
                if a is not None and b is not None and a != b:
                    raise ValueError(
                        f"join along axis {self.axis}: sizes differ on axis {ax}: "
                        + ", ".join(f"{tt} {tt.type.shape}" for tt in tensors))
                if a is None:
                    shape[ax] = b
            s = t.type.shape[self.axis]
            total = None if (total is None or s is None) else total + s
        shape[self.axis] = total
        tensors = [cast(t, dtype) for t in tensors]
        return Apply(self, tensors, [TensorType(dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        try:
            out = np.concatenate(inputs, axis=self.axis)
        except ValueError as exc:
            raise ValueError(f"join along axis {self.axis} of shapes "
                             f"{[x.shape for x in inputs]}: {exc}") from None
        output_storage[0][0] = out.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        out = list(input_shapes[0])
        total = input_shapes[0][self.axis]
        for s in input_shapes[1:]:
            total = total + s[self.axis]
        out[self.axis] = total
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        grads = []
        start = 0
        for t in inputs:
            # Python ints where sizes are static, so the slices keep static shapes
            size = t.type.shape[self.axis]
            size = size if size is not None else shape_i(t, self.axis)
            stop = start + size if not (isinstance(start, int) and start == 0) else size
            idx = [slice(None)] * gz.ndim
            idx[self.axis] = slice(start, stop)
            g = patternbroadcast(gz[tuple(idx)], t.broadcastable)
            grads.append(g if t.dtype.startswith("float") else None)
            start = stop
        return grads


def _join_inputs(tensors):
    """The tensors to join as variables (constants weak) and their rank."""
    from .elemwise import weak_constants
    tensors = weak_constants(list(tensors))
    if not tensors:
        raise ValueError("join needs at least one tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise TypeError(f"join: cannot join 0-d tensors ({tensors[0]}); use stack")
    return tensors, ndim


class RuntimeAxisJoin(Op):
    """Concatenate tensors along an axis given at run time: the first input,
    an integer scalar (Theano's Join with a symbolic axis).  The tensors
    have the same number of dimensions; as in Theano, no axis of the output
    is broadcastable (any one may be the joined one).  :class:`Join` is the
    node whenever the axis is known when the graph is built.
    """

    __props__ = ()

    def make_node(self, axis, *tensors):
        axis = as_tensor_variable(axis)
        if axis.ndim != 0 or not axis.dtype.startswith(("int", "uint")):
            raise TypeError(f"join: the axis must be an integer scalar, got {axis} "
                            f"({axis.type})")
        tensors, ndim = _join_inputs(tensors)
        for t in tensors:
            if t.ndim != ndim:
                raise TypeError(f"join: all inputs need {ndim} dims, {t} has {t.ndim}")
        dtype = upcast(*[t.dtype for t in tensors])
        tensors = [cast(t, dtype) for t in tensors]
        return Apply(self, [axis, *tensors], [TensorType(dtype, shape=(None,) * ndim)()])

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.compute(*inputs)

    def compute(self, axis, *tensors):
        """``[output]`` for these arrays (also the numba backend's driver
        line, so both raise the same errors)."""
        ndim, axis = tensors[0].ndim, int(axis)
        if not -ndim <= axis < ndim:
            raise _axis_error("join", axis, ndim)
        try:
            # C order whatever the inputs' (numpy follows F-ordered views)
            return [np.ascontiguousarray(np.concatenate(tensors, axis=axis))]
        except ValueError as exc:
            raise ValueError(f"join along axis {axis} of shapes "
                             f"{[x.shape for x in tensors]}: {exc}") from None

    def _on_axis(self, axis, ndim, d):
        """The (symbolic) truth of ``axis`` naming dimension ``d``."""
        from .elemwise import SCALAR_OPS, elemwise
        return elemwise(SCALAR_OPS["eq"], elemwise(SCALAR_OPS["mod"], axis, ndim), d)

    def infer_shape(self, node, input_shapes):
        from .elemwise import SCALAR_OPS, elemwise
        axis, ndim = node.inputs[0], node.outputs[0].ndim
        shapes = input_shapes[1:]
        out = []
        for d in range(ndim):
            total = shapes[0][d]
            for s in shapes[1:]:
                total = total + s[d]
            out.append(elemwise(SCALAR_OPS["switch"], self._on_axis(axis, ndim, d), total,
                                shapes[0][d]))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from .elemwise import SCALAR_OPS, elemwise
        (gz,) = output_grads
        axis, *tensors = inputs
        ndim = gz.ndim
        # each input's gradient is gz sliced on every dimension: [start, stop)
        # on the joined one, whole on the others (chosen by switch at run time)
        grads, start = [None], 0
        on = [self._on_axis(axis, ndim, d) for d in range(ndim)]
        for t in tensors:
            stop = start + shape(t)[axis]
            idx = tuple(slice(elemwise(SCALAR_OPS["switch"], on[d], start, 0),
                              elemwise(SCALAR_OPS["switch"], on[d], stop, shape_i(gz, d)))
                        for d in range(ndim))
            g = patternbroadcast(gz[idx], t.broadcastable)
            grads.append(g if t.dtype.startswith("float") else None)
            start = stop
        return grads


def join(axis, *tensors):
    """Theano's ``join(axis, *tensors)``; ``axis`` may be a symbolic integer
    scalar (:class:`RuntimeAxisJoin`)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if len(tensors) == 1:
        return as_tensor_variable(tensors[0])
    # Join()'s axis-as-input form checks the axis (and folds a constant one)
    return Join()(axis, *tensors)


def _axis_error(what, axis, ndim):
    # numpy's AxisError is both an IndexError (Theano's error here) and a
    # ValueError (symnet's for bad arguments)
    return np.exceptions.AxisError(f"{what}: axis {axis} is out of range for {ndim} "
                                   f"dimensions (expected {-ndim} <= axis < {ndim})")


def concatenate(tensor_list, axis=0):
    return join(axis, *tensor_list)


def stack(*tensors, axis=0):
    """Stack same-shaped tensors along a new ``axis``: ``stack([a, b], axis)``,
    or Theano's older spelling ``stack(a, b, c)`` (tensors as arguments)."""
    if tensors and isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise TypeError(f"stack(tensors, axis): got {len(tensors)} positional "
                            f"arguments after a list of tensors")
        if len(tensors) == 2:
            axis = tensors[1]
        tensors = tensors[0]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    tensors = [as_tensor_variable(t) for t in tensors]
    if all(t.ndim == 0 for t in tensors) and axis == 0:
        return make_vector(tensors)
    ndim = tensors[0].ndim
    if not -(ndim + 1) <= axis <= ndim:
        raise _axis_error("stack", axis, ndim + 1)
    axis = axis % (ndim + 1)
    pattern = tuple(range(axis)) + ("x",) + tuple(range(axis, ndim))
    return join(axis, *[dimshuffle(t, pattern) for t in tensors])


class ARange(Op):
    """``arange(start, stop, step)`` as a vector of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, start, stop, step):
        ins = [as_tensor_variable(v) for v in (start, stop, step)]
        size = None
        try:
            a, b, c = (get_scalar_constant_value(v) for v in ins)
            size = len(np.arange(a, b, c))
        except NotScalarConstantError:
            pass
        return Apply(self, ins, [TensorType(self.dtype, shape=(size,))()])

    def perform(self, node, inputs, output_storage):
        a, b, c = inputs
        output_storage[0][0] = np.arange(a, b, c, dtype=self.dtype)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        a, b, c = node.inputs
        n = T.ceil((b - a) / c)
        return [(cast(T.maximum(n, 0), "int64"),)]

    def L_op(self, inputs, outputs, output_grads):
        # out[i] = start + i * step: a float start or step moves every value;
        # stop only decides the length (no gradient, as in Theano)
        from .reduction import sum as _sum
        start, _, step = inputs
        (gz,) = output_grads
        if not self.dtype.startswith("float"):
            return [None, None, None]
        i = ARange(self.dtype)(0, shape_i(outputs[0], 0), 1)
        return [cast(_sum(gz), start.dtype) if start.dtype.startswith("float") else None, None,
                cast(_sum(gz * i), step.dtype) if step.dtype.startswith("float") else None]


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    ins = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = upcast(*[v.dtype for v in ins])
        if dtype.startswith("int") or dtype == "bool":
            dtype = "int64"
    return ARange(dtype)(*ins)


class Rebroadcast(Op):
    """Set the static shape of axes to 1 (broadcastable) or unknown."""

    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = tuple(sorted(axes))  # ((axis, bool), ...)

    def make_node(self, x):
        x = as_tensor_variable(x)
        shape = list(x.type.shape)
        for ax, b in self.axes:
            if not 0 <= ax < x.ndim:
                raise ValueError(f"axis {ax} out of range for {x} with {x.ndim} dims")
            if b:
                if shape[ax] not in (None, 1):
                    raise ValueError(f"cannot make axis {ax} of {x} broadcastable: its "
                                     f"static size is {shape[ax]}")
                shape[ax] = 1
            elif shape[ax] == 1:
                shape[ax] = None
        return Apply(self, [x], [TensorType(x.dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        for ax, b in self.axes:
            if b and x.shape[ax] != 1:
                raise ValueError(f"{self}: axis {ax} was declared broadcastable but "
                                 f"has size {x.shape[ax]}")
        output_storage[0][0] = x

    view_map = {0: [0]}

    def infer_shape(self, node, input_shapes):
        shp = list(input_shapes[0])
        for ax, b in self.axes:
            if b:
                shp[ax] = 1
        return [tuple(shp)]

    def L_op(self, inputs, outputs, output_grads):
        x = inputs[0]
        back = tuple((ax, x.broadcastable[ax]) for ax, _ in self.axes)
        return [Rebroadcast(back)(output_grads[0])]


def patternbroadcast(x, broadcastable):
    x = as_tensor_variable(x)
    axes = tuple((i, bool(b)) for i, b in enumerate(broadcastable)
                 if bool(b) != x.broadcastable[i])
    return Rebroadcast(axes)(x) if axes else x


def addbroadcast(x, *axes):
    x = as_tensor_variable(x)
    todo = tuple((a % x.ndim, True) for a in _in_range("addbroadcast", axes, x.ndim)
                 if not x.broadcastable[a])
    return Rebroadcast(todo)(x) if todo else x


def unbroadcast(x, *axes):
    x = as_tensor_variable(x)
    todo = tuple((a % x.ndim, False) for a in _in_range("unbroadcast", axes, x.ndim)
                 if x.broadcastable[a])
    return Rebroadcast(todo)(x) if todo else x


def _in_range(what, axes, ndim):
    for a in axes:
        if not -ndim <= a < ndim:
            raise _axis_error(what, a, ndim)
    return axes


def shape_padleft(t, n_ones=1):
    t = as_tensor_variable(t)
    return dimshuffle(t, ("x",) * n_ones + tuple(range(t.ndim)))


def shape_padright(t, n_ones=1):
    t = as_tensor_variable(t)
    return dimshuffle(t, tuple(range(t.ndim)) + ("x",) * n_ones)


def shape_padaxis(t, axis):
    t = as_tensor_variable(t)
    axis = _in_range("shape_padaxis", [axis], t.ndim + 1)[0] % (t.ndim + 1)
    return dimshuffle(t, tuple(range(axis)) + ("x",) + tuple(range(axis, t.ndim)))


def squeeze(x):
    x = as_tensor_variable(x)
    return dimshuffle(x, tuple(i for i, b in enumerate(x.broadcastable) if not b))


class Tile(Op):
    """``np.tile`` with static integer repetitions."""

    __props__ = ("reps",)

    def __init__(self, reps):
        self.reps = tuple(int(r) for r in reps)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if len(self.reps) != x.ndim:
            raise ValueError(f"tile of {x} ({x.ndim} dims) with reps {self.reps}: "
                             f"give one repetition per axis")
        shape = tuple(None if s is None else s * r for s, r in zip(x.type.shape, self.reps))
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.tile(inputs[0], self.reps)

    def infer_shape(self, node, input_shapes):
        return [tuple(s * r for s, r in zip(input_shapes[0], self.reps))]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        x = inputs[0]
        gz = output_grads[0]
        # split each axis into (rep, size) and sum the rep axes
        shp = []
        for i, r in enumerate(self.reps):
            shp += [r, shape_i(x, i)]
        g = _sum(reshape(gz, shp), axis=tuple(range(0, 2 * x.ndim, 2)))
        return [g]


def tile(x, reps, ndim=None):
    """``np.tile(x, reps)``; `reps` an int, an integer scalar or a sequence
    of them, symbolic ones included (``T.tile(m, (x.shape[0], 1))``)."""
    x = as_tensor_variable(x)
    if np.ndim(reps) == 0 if not isinstance(reps, Variable) else reps.ndim == 0:
        reps = [reps]   # one count, for the last axis (np.tile(x, 2), Theano's too)
    elif isinstance(reps, Variable):
        reps = _shape_list(reps)
    known = []
    for r in reps:
        try:
            known.append(int(get_scalar_constant_value(r)))
        except NotScalarConstantError:
            known.append(None)
    if len(reps) > x.ndim:
        x = shape_padleft(x, len(reps) - x.ndim)
    elif len(reps) < x.ndim:
        known = [1] * (x.ndim - len(reps)) + known
        reps = [1] * (x.ndim - len(reps)) + list(reps)
    if None not in known:
        return Tile(tuple(known))(x)
    return _tile_symbolic(x, reps)


def _tile_symbolic(x, reps):
    # Repetitions known only at run time: x as (1, s0, 1, s1, ...) broadcast
    # to (r0, s0, r1, s1, ...) then merged pairwise, so the gradient is
    # Alloc's (a sum over the repetition axes) and no new Op is needed.
    interleaved = []
    for i in range(x.ndim):
        interleaved += ["x", i]
    sizes, merged = [], []
    for i, r in enumerate(reps):
        r = as_tensor_variable(r)
        if r.ndim != 0 or not r.dtype.startswith(("int", "uint")):
            raise TypeError(f"tile: repetition {i} of {x} must be an integer scalar, got {r.type}")
        r = cast(r, "int64")
        sizes += [r, shape_i(x, i)]
        merged.append(r * shape_i(x, i))
    return reshape(alloc(dimshuffle(x, tuple(interleaved)), *sizes), merged)


class Repeat(Op):
    """``np.repeat`` of each element ``repeats`` (an int) times along ``axis``."""

    __props__ = ("repeats", "axis")

    def __init__(self, repeats, axis):
        self.repeats = int(repeats)
        self.axis = axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            n = None if None in x.type.shape else int(np.prod(x.type.shape)) * self.repeats
            shape = (n,)
        else:
            shape = list(x.type.shape)
            s = shape[self.axis]
            shape[self.axis] = None if s is None else s * self.repeats
            shape = tuple(shape)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.repeat(inputs[0], self.repeats, axis=self.axis)

    def infer_shape(self, node, input_shapes):
        if self.axis is None:
            n = 1
            for s in input_shapes[0]:
                n = n * s
            return [(n * self.repeats,)]
        shp = list(input_shapes[0])
        shp[self.axis] = shp[self.axis] * self.repeats
        return [tuple(shp)]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        x = inputs[0]
        gz = output_grads[0]
        if self.axis is None:
            g = _sum(reshape(gz, [-1, self.repeats]), axis=1)
            return [reshape(g, shape(x), ndim=x.ndim)]
        shp = [shape_i(x, i) for i in range(x.ndim)]
        shp.insert(self.axis + 1, self.repeats)
        return [_sum(reshape(gz, shp), axis=self.axis + 1)]


def repeat(x, repeats, axis=None):
    """``np.repeat(x, repeats, axis)`` for a scalar ``repeats``: an int, or a
    symbolic integer scalar (Lasagne's TransformerLayer repeats by a size
    computed from the input's shape)."""
    x = as_tensor_variable(x)
    if axis is not None:
        axis = axis % x.ndim
    try:
        return Repeat(int(get_scalar_constant_value(repeats)), axis)(x)
    except NotScalarConstantError:
        pass
    repeats = as_tensor_variable(repeats)
    if repeats.ndim != 0 or not repeats.dtype.startswith(("int", "uint")):
        raise TypeError(f"repeat: repeats must be an integer scalar, got {repeats} "
                        f"({repeats.ndim} dims, {repeats.dtype})")
    # Each element gets a new axis of length `repeats` right after it
    # (broadcast with alloc), which a reshape then merges: only existing ops,
    # so the gradient (a sum over the new axis) comes for free.
    if axis is None:
        x, axis = flatten(x, 1), 0
    sizes = [shape_i(x, i) for i in range(x.ndim)]
    pattern = tuple(range(axis + 1)) + ("x",) + tuple(range(axis + 1, x.ndim))
    spread = alloc(dimshuffle(x, pattern), *(sizes[:axis + 1] + [repeats] + sizes[axis + 1:]))
    merged = sizes[:axis] + [sizes[axis] * repeats] + sizes[axis + 1:]
    return reshape(spread, merged, ndim=x.ndim)
