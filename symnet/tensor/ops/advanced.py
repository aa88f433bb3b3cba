"""Advanced indexing (integer arrays, boolean masks), and the index-like ops
built on it: take, nonzero, sort, argsort, cumsum, cumprod, bincount.

``x[idx]`` reaches this module (from ``indexing.subtensor``) when the index
holds integer arrays or variables, boolean masks, lists, ``None`` or
``Ellipsis``.  An index without arrays or masks is lowered to basic slicing
plus a ``dimshuffle`` (for ``None``), which keeps views and static shapes.

An advanced index is stored in the op as ``desc``: per entry one of
``('slice', start, stop, step)`` (parts None, an int or ``'in'`` for a
symbolic scalar input), ``('arr',)`` (an integer array input), ``('bool',)``
(a boolean mask input) or ``('none',)`` (a new axis).  The index arrays are
graph inputs, in entry order, after ``x`` (and ``y`` for the inc op).
Semantics are numpy's, including where the advanced axes land.
"""
import numpy as np

from ...graph.basic import Apply, Constant, Variable
from ...graph.op import Op
from ..basic import NotScalarConstantError, as_tensor_variable, constant, get_scalar_constant_value
from ..type import TensorType
from .elemwise import cast, dimshuffle

__all__ = ["AdvancedSubtensor", "AdvancedIncSubtensor", "Nonzero", "Sort", "ArgSort",
           "CumOp", "BinCount", "NegativeCountError", "advanced_get", "advanced_inc",
           "advanced_subtensor", "advanced_inc_subtensor", "take", "nonzero",
           "sort", "argsort", "cumsum", "cumprod", "bincount"]

IN = "in"
SLICE, ARR, BOOL, NEW = "slice", "arr", "bool", "none"


# -- parsing a user index ------------------------------------------------------------

def _index_var(item):
    """A non-slice index item as a tensor variable (lists and arrays too)."""
    if isinstance(item, (list, tuple)) and len(item) == 0:
        return constant(np.zeros(0, dtype="int64"))
    v = as_tensor_variable(item)
    if v.dtype != "bool" and not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"index {item!r} has dtype {v.dtype}; indices must be integers "
                        f"or booleans (cast with .astype('int64'))")
    return v


def _slice_part(p, inputs):
    if p is None:
        return None
    if isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)):
        return int(p)
    if isinstance(p, Variable) and p.ndim == 0 and p.dtype.startswith(("int", "uint")):
        try:
            return int(get_scalar_constant_value(p))
        except NotScalarConstantError:
            inputs.append(p)
            return IN
    raise TypeError(f"slice bounds must be integers or integer scalars, got {p!r}")


def _parse(x, idx):
    """Split a user index into ``(items, n_consumed)`` with Ellipsis expanded.

    Items are ``('slice', slice)``, ``('int', int_or_scalar_var)``,
    ``('arr', var)``, ``('bool', var)`` or ``('none',)``.
    """
    if not isinstance(idx, tuple):
        idx = (idx,)
    items, consumed, ellipsis_at = [], 0, None
    for item in idx:
        if item is None:
            items.append((NEW,))
        elif item is Ellipsis:
            if ellipsis_at is not None:
                raise IndexError(f"an index of {x} can only have a single ellipsis ('...')")
            ellipsis_at = len(items)
        elif isinstance(item, slice):
            items.append((SLICE, item))
            consumed += 1
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            items.append(("int", int(item)))
            consumed += 1
        else:
            v = _index_var(item)
            if v.dtype == "bool":
                items.append((BOOL, v))
                consumed += v.ndim
            elif v.ndim == 0:
                items.append(("int", v))
                consumed += 1
            else:
                items.append((ARR, v))
                consumed += 1
    if consumed > x.ndim:
        raise IndexError(f"too many indices for {x}: it has {x.ndim} dimensions but "
                         f"{consumed} were indexed")
    if ellipsis_at is not None:
        fill = [(SLICE, slice(None))] * (x.ndim - consumed)
        items[ellipsis_at:ellipsis_at] = fill
    return items


def _lower_basic(x, items):
    """An index of ints, slices and new axes: basic Subtensor + dimshuffle."""
    from .indexing import subtensor
    basic = tuple(it[1] for it in items if it[0] != NEW)
    out = subtensor(x, basic) if basic else x
    if not any(it[0] == NEW for it in items):
        return out
    pattern, k = [], 0
    for it in items:
        if it[0] == NEW:
            pattern.append("x")
        elif it[0] == SLICE:
            pattern.append(k)
            k += 1
    pattern += list(range(k, out.ndim))
    return dimshuffle(out, pattern)


def _desc_and_inputs(items):
    desc, inputs = [], []
    for it in items:
        kind = it[0]
        if kind == NEW:
            desc.append((NEW,))
        elif kind == SLICE:
            s = it[1]
            parts = [_slice_part(p, inputs) for p in (s.start, s.stop, s.step)]
            desc.append((SLICE, *parts))
        elif kind == "int":
            v = it[1]
            v = constant(np.asarray(v, dtype="int64")) if isinstance(v, int) else v
            desc.append((ARR,))
            inputs.append(v)
        else:
            desc.append((kind,))
            inputs.append(it[1])
    return tuple(desc), inputs


# -- shapes ------------------------------------------------------------------------------

def _walk(desc, idx_inputs):
    """Pair each entry with its inputs: [(entry, [vars])] in order."""
    it = iter(idx_inputs)
    out = []
    for e in desc:
        if e[0] == SLICE:
            out.append((e, [next(it) if p == IN else p for p in e[1:]]))
        elif e[0] in (ARR, BOOL):
            out.append((e, [next(it)]))
        else:
            out.append((e, []))
    return out


def _layout(desc, x_shape, pairs, slice_len, arr_shape, mask_count, broadcast):
    """Output shape of ``x[index]`` in numpy's rules, over any size algebra.

    Advanced entries broadcast together; their axes replace the first of
    them when they are adjacent in the index, else they go first.
    """
    out, adv_shapes, adv_pos, first, ax = [], [], [], None, 0
    for k, (e, vals) in enumerate(pairs):
        if e[0] == NEW:
            out.append(1)
        elif e[0] == SLICE:
            out.append(slice_len(x_shape[ax], *vals))
            ax += 1
        else:
            if first is None:
                first = len(out)
            adv_pos.append(k)
            if e[0] == ARR:
                adv_shapes.append(arr_shape(vals[0]))
                ax += 1
            else:
                adv_shapes.append((mask_count(vals[0]),))
                ax += vals[0].ndim
    out += list(x_shape[ax:])
    adv = list(broadcast(adv_shapes))
    if adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1)):
        out[first:first] = adv
    else:
        out = adv + out
    return tuple(out)


def _static_broadcast(shapes):
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for axis in range(ndim):
        sizes = [s[axis] for s in padded]
        known = {s for s in sizes if s is not None and s != 1}
        if len(known) > 1:
            raise IndexError(f"shape mismatch: indexing arrays could not be broadcast "
                             f"together with shapes {', '.join(map(str, shapes))}")
        out.append(known.pop() if known else (1 if all(s == 1 for s in sizes) else None))
    return tuple(out)


def _static_slice_len(size, start, stop, step):
    parts = (start, stop, step)
    if size is not None and all(p is None or isinstance(p, int) for p in parts):
        return len(range(*slice(start, stop, step).indices(size)))
    if start is None and stop is None and step in (None, 1):
        return size
    return None


def _static_count(mask):
    if isinstance(mask, Constant):
        return int(np.count_nonzero(mask.data))
    return None


def _static_shape(x, desc, idx_inputs):
    pairs = _walk(desc, idx_inputs)
    return _layout(desc, x.type.shape, pairs, _static_slice_len,
                   lambda v: v.type.shape, _static_count, _static_broadcast)


def _check_static(x, desc, idx_inputs):
    """Build-time IndexErrors: constant indices out of range, mask shapes."""
    ax = 0
    for e, vals in _walk(desc, idx_inputs):
        if e[0] == ARR:
            v, size = vals[0], x.type.shape[ax]
            if isinstance(v, Constant) and size is not None and np.size(v.data):
                data = np.asarray(v.data)
                if data.max() >= size or data.min() < -size:
                    bad = data[(data >= size) | (data < -size)].reshape(-1)[0]
                    raise IndexError(f"index {bad} is out of bounds for axis {ax} of {x} "
                                     f"with size {size}")
            ax += 1
        elif e[0] == BOOL:
            m = vals[0]
            for j, ms in enumerate(m.type.shape):
                xs = x.type.shape[ax + j]
                if ms is not None and xs is not None and ms != xs:
                    raise IndexError(
                        f"boolean index of shape {m.type.shape} does not match {x} of "
                        f"static shape {x.type.shape} along axis {ax + j} ({ms} vs {xs})")
            ax += m.ndim
        elif e[0] == SLICE:
            ax += 1


def _rebuild(desc, values, for_add_at=False):
    """The numpy index tuple for runtime values of the index inputs."""
    it = iter(values)
    out = []
    for e in desc:
        if e[0] == SLICE:
            parts = [int(next(it)) if p == IN else p for p in e[1:]]
            out.append(slice(*parts))
        elif e[0] == ARR:
            out.append(next(it))
        elif e[0] == BOOL:
            m = next(it)
            # np.add.at wants integer arrays; a mask is its nonzero() tuple
            out.extend(np.nonzero(m) if for_add_at else [m])
        else:
            out.append(slice(None) if for_add_at else None)
    return tuple(out)


def _fmt_desc(desc):
    parts = []
    for e in desc:
        if e[0] == SLICE:
            s = ":".join("" if p is None else str(p) for p in e[1:3])
            parts.append(s + ("" if e[3] is None else f":{e[3]}"))
        else:
            parts.append({ARR: "int[]", BOOL: "bool[]", NEW: "None"}[e[0]])
    return ", ".join(parts)


# -- the ops -----------------------------------------------------------------------------

def advanced_get(op, x, vals):
    """``x[idx]`` for ``AdvancedSubtensor`` ``op`` (its ``perform`` and the
    numba backend's driver line for the layouts its kernel does not take)."""
    try:
        out = x[_rebuild(op.desc, vals)]
    except IndexError as exc:
        raise IndexError(f"{op} on an array of shape {x.shape}: {exc}") from None
    return np.asarray(out)


def advanced_inc(op, x, y, vals):
    """The result of ``AdvancedIncSubtensor`` ``op`` (shared as ``advanced_get``)."""
    out = x.copy()
    if op.set_instead_of_inc:
        out[_rebuild(op.desc, vals)] = y
    else:
        # New axes become size-1 axes of a view of ``out`` indexed by a full
        # slice, since np.add.at does not take None; the adjacency of the
        # advanced entries (hence the region's axis order) is unchanged.
        view_shape, ax, it = [], 0, iter(vals)
        for e in op.desc:
            if e[0] == NEW:
                view_shape.append(1)
                continue
            n = 1
            if e[0] == BOOL:
                m = next(it)
                n = m.ndim
            elif e[0] == ARR:
                next(it)
            else:
                for p in e[1:]:
                    if p == IN:
                        next(it)
            view_shape.extend(x.shape[ax:ax + n])
            ax += n
        view_shape.extend(x.shape[ax:])
        np.add.at(out.reshape(view_shape), _rebuild(op.desc, vals, for_add_at=True), y)
    return out


class AdvancedSubtensor(Op):
    """``x[idx]`` with integer arrays and/or boolean masks (a copy)."""

    __props__ = ("desc",)

    def __init__(self, desc):
        self.desc = tuple(tuple(e) for e in desc)

    def __str__(self):
        return f"AdvancedSubtensor{{{_fmt_desc(self.desc)}}}"

    def make_node(self, x, *idx):
        x = as_tensor_variable(x)
        idx = [as_tensor_variable(i) for i in idx]
        _check_static(x, self.desc, idx)
        shape = _static_shape(x, self.desc, idx)
        return Apply(self, [x] + idx, [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, *vals = inputs
        output_storage[0][0] = advanced_get(self, x, vals)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        from .indexing import _slice_len
        x, *idx = node.inputs
        shapes = dict(zip(idx, input_shapes[1:]))

        def slice_len(size, start, stop, step):
            static = _static_slice_len(size if isinstance(size, int) else None,
                                       start, stop, step)
            if static is not None:
                return static
            if start is None and stop is None and step in (None, 1):
                return size
            return _slice_len(T, size, start, stop, step)

        def count(mask):
            return T.cast(T.sum(T.cast(mask, "int64")), "int64")

        def broadcast(shps):
            ndim = max(len(s) for s in shps)
            padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shps]
            out = []
            for axis in range(ndim):
                sizes = [s[axis] for s in padded if not (isinstance(s[axis], int)
                                                         and s[axis] == 1)]
                size = sizes[0] if sizes else 1
                for other in sizes[1:]:
                    size = T.maximum(size, other)
                out.append(size)
            return out

        shp = _layout(self.desc, input_shapes[0], _walk(self.desc, idx), slice_len,
                      lambda v: shapes[v], count, broadcast)
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else d for s, d in zip(static, shp))]

    def L_op(self, inputs, outputs, output_grads):
        from .shape import zeros_like
        x, *idx = inputs
        if not x.dtype.startswith("float"):
            return [None] * len(inputs)
        g = AdvancedIncSubtensor(self.desc)(zeros_like(x), output_grads[0], *idx)
        return [g] + [None] * len(idx)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class AdvancedIncSubtensor(Op):
    """``x`` with ``y`` added to (or, with ``set_instead_of_inc``, written
    into) ``x[idx]``.  Adding accumulates repeated indices (``np.add.at``);
    setting with repeated indices keeps the last value, as numpy does."""

    __props__ = ("desc", "set_instead_of_inc")

    def __init__(self, desc, set_instead_of_inc=False):
        self.desc = tuple(tuple(e) for e in desc)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        kind = "AdvancedSet" if self.set_instead_of_inc else "AdvancedInc"
        return f"{kind}Subtensor{{{_fmt_desc(self.desc)}}}"

    def make_node(self, x, y, *idx):
        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        idx = [as_tensor_variable(i) for i in idx]
        _check_static(x, self.desc, idx)
        region = _static_shape(x, self.desc, idx)
        if y.ndim > len(region):
            raise TypeError(f"{self}: value {y} has {y.ndim} dims, more than the "
                            f"{len(region)} of the indexed region of {x}")
        for ys, rs in zip(reversed(y.type.shape), reversed(region)):
            if ys is not None and rs is not None and ys != 1 and ys != rs:
                raise ValueError(f"{self}: value of shape {y.type.shape} does not fit "
                                 f"the indexed region of shape {region}")
        if y.dtype != x.dtype:
            y = cast(y, x.dtype)
        return Apply(self, [x, y] + idx, [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, *vals = inputs
        output_storage[0][0] = advanced_inc(self, x, y, vals)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .elemwise import sum_to_input
        from .reduction import sum as _sum
        x, y, *idx = inputs
        (gz,) = output_grads
        if self.set_instead_of_inc:
            gx = AdvancedIncSubtensor(self.desc, True)(gz, constant(np.zeros((), gz.dtype)), *idx)
        else:
            gx = gz
        gy = AdvancedSubtensor(self.desc)(gz, *idx)
        extra = gy.ndim - y.ndim
        if extra:
            gy = _sum(gy, axis=tuple(range(extra)))
        gy = sum_to_input(gy, y) if y.dtype.startswith("float") else None
        return [gx if x.dtype.startswith("float") else None, gy] + [None] * len(idx)


# -- public constructors ---------------------------------------------------------------------

def advanced_subtensor(x, idx):
    """``x[idx]`` for an index holding arrays, masks, lists, None or Ellipsis.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.vector('x')
    >>> x[[2, 0, 0]].eval({x: np.array([1., 2., 3.], 'float32')})
    array([3., 1., 1.], dtype=float32)
    >>> x[x > 1].eval({x: np.array([1., 2., 3.], 'float32')})
    array([2., 3.], dtype=float32)
    >>> x[None].type.shape
    (1, None)
    """
    x = as_tensor_variable(x)
    items = _parse(x, idx)
    if not any(it[0] in (ARR, BOOL) for it in items):
        return _lower_basic(x, items)
    desc, inputs = _desc_and_inputs(items)
    return AdvancedSubtensor(desc)(x, *inputs)


def advanced_inc_subtensor(base, y, op, rest, set_):
    """``base`` with ``y`` set into / added to the region ``op`` indexed."""
    return AdvancedIncSubtensor(op.desc, set_instead_of_inc=set_)(base, y, *rest)


def take(a, indices, axis=None, mode="raise"):
    """Elements of ``a`` at ``indices`` along ``axis`` (numpy's ``take``).

    ``axis=None`` indexes the flattened array; ``mode`` is 'raise', 'wrap'
    or 'clip' as in numpy.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> m = T.matrix('m')
    >>> T.take(m, [1, 1], axis=1).eval({m: np.eye(2, dtype='float32')})
    array([[0., 0.],
           [1., 1.]], dtype=float32)
    """
    from .shape import flatten, shape_i
    from ... import tensor as T
    a = as_tensor_variable(a)
    indices = _index_var(indices)
    if indices.dtype == "bool":
        raise TypeError(f"take: indices must be integers, got a boolean {indices}")
    if axis is None:
        a, axis = flatten(a, 1), 0
    axis = int(axis)
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for {a} with {a.ndim} dims")
    axis %= a.ndim
    if mode == "wrap":
        indices = T.mod(indices, shape_i(a, axis))
    elif mode == "clip":
        indices = T.clip(indices, 0, shape_i(a, axis) - 1)
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if indices.ndim == 0:
        return a[(slice(None),) * axis + (indices,)]
    return AdvancedSubtensor(((SLICE, None, None, None),) * axis + ((ARR,),))(a, indices)


class Nonzero(Op):
    """Indices of the nonzero entries of ``x`` as an int64 matrix (ndim, nnz)."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"nonzero of the 0-d {x}: reshape it to a vector first")
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim, None))()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        output_storage[0][0] = np.asarray(np.nonzero(x), dtype="int64").reshape(x.ndim, -1)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        x = node.inputs[0]
        return [(x.ndim, T.cast(T.sum(T.neq(x, 0), dtype="int64"), "int64"))]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def nonzero(x, return_matrix=False):
    """Indices of the nonzero entries: a tuple of int64 vectors, one per axis
    (or the stacked (ndim, nnz) matrix with ``return_matrix=True``).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.vector('v')
    >>> T.nonzero(v)[0].eval({v: np.array([0., 3., 0., 1.], 'float32')})
    array([1, 3])
    """
    m = Nonzero()(x)
    if return_matrix:
        return m
    return tuple(m[i] for i in range(m.type.shape[0]))


class Sort(Op):
    """``np.sort`` along ``axis``; the gradient routes back by ``argsort``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis out of range for {x} with {x.ndim} dims")
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.sort(inputs[0], axis=self.axis)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .shape import zeros_like
        (x,) = inputs
        if not x.dtype.startswith("float"):
            return [None]
        perm = ArgSort(self.axis)(x)
        idx = _along_axis(x, perm, self.axis)
        desc = ((ARR,),) * x.ndim
        return [AdvancedIncSubtensor(desc)(zeros_like(x), output_grads[0], *idx)]


class ArgSort(Op):
    """``np.argsort`` along ``axis`` (int64; not differentiable)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis out of range for {x} with {x.ndim} dims")
        return Apply(self, [x], [TensorType("int64", shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.argsort(inputs[0], axis=self.axis).astype("int64")

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def _along_axis(x, idx, axis):
    """Index arrays selecting ``take_along_axis(x, idx, axis)``: open aranges
    on the other axes, broadcasting against ``idx``."""
    from .shape import arange, shape_i
    parts = []
    for j in range(x.ndim):
        if j == axis:
            parts.append(idx)
            continue
        pattern = ["x"] * x.ndim
        pattern[j] = 0
        parts.append(dimshuffle(arange(shape_i(x, j), dtype="int64"), pattern))
    return parts


def _flat_axis(x, axis):
    from .shape import flatten
    x = as_tensor_variable(x)
    if axis is None:
        return flatten(x, 1), 0
    axis = int(axis)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for {x} with {x.ndim} dims")
    return x, axis % x.ndim


def sort(x, axis=-1):
    """``x`` sorted along ``axis`` (``None``: the flattened array).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.vector('v')
    >>> T.sort(v).eval({v: np.array([3., 1., 2.], 'float32')})
    array([1., 2., 3.], dtype=float32)
    """
    x, axis = _flat_axis(x, axis)
    return Sort(axis)(x)


def argsort(x, axis=-1):
    """The int64 indices that sort ``x`` along ``axis`` (``None``: flattened)."""
    x, axis = _flat_axis(x, axis)
    return ArgSort(axis)(x)


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``'mul'``) along ``axis``."""

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp mode must be 'add' or 'mul', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None or self.axis < 0:
            # Theano's CumOp() (the flattened array) and negative axes: the
            # node is that of the op with the axis they mean
            flat, axis = _flat_axis(x, self.axis)
            return CumOp(axis, self.mode).make_node(flat)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis out of range for {x} with {x.ndim} dims")
        dtype = np.cumsum(np.zeros(1, x.dtype)).dtype.name
        return Apply(self, [x], [TensorType(dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        output_storage[0][0] = np.asarray(fn(inputs[0], axis=self.axis),
                                          dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def _reverse(self, v):
        from .indexing import Subtensor
        return Subtensor((slice(None),) * self.axis + (slice(None, None, -1),))(v)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if not x.dtype.startswith("float"):
            return [None]
        if self.mode == "add":
            # out[i] = sum_{j<=i} x[j], so gx[j] = sum_{i>=j} gz[i]
            return [self._reverse(CumOp(self.axis)(self._reverse(gz)))]
        # gx[j] = sum_{i>=j} gz[i] * out[i] / x[j]: undefined (inf/nan) where x == 0
        return [self._reverse(CumOp(self.axis)(self._reverse(gz * outputs[0]))) / x]


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (``None``: the flattened array).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.vector('v')
    >>> T.cumsum(v).eval({v: np.array([1., 2., 3.], 'float32')})
    array([1., 3., 6.], dtype=float32)
    """
    x, axis = _flat_axis(x, axis)
    return CumOp(axis, "add")(x)


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (``None``: flattened).  Its gradient
    divides by ``x``, so it is inf/nan where ``x`` holds zeros."""
    x, axis = _flat_axis(x, axis)
    return CumOp(axis, "mul")(x)


class NegativeCountError(ValueError, AssertionError):
    """``bincount`` of a negative value.  Also an AssertionError: what
    Theano's ``bincount(..., assert_nonneg=True)`` raised."""


class BinCount(Op):
    """``np.bincount`` of a non-negative integer vector (no gradient)."""

    __props__ = ("minlength", "weighted")

    def __init__(self, minlength=0, weighted=False):
        self.minlength = int(minlength)
        self.weighted = bool(weighted)

    def make_node(self, x, *weights):
        x = as_tensor_variable(x)
        if x.ndim != 1 or not x.dtype.startswith(("int", "uint", "bool")):
            raise TypeError(f"bincount needs an integer vector, got {x} "
                            f"({x.ndim} dims, {x.dtype})")
        inputs = [x]
        dtype = "int64"
        if self.weighted:
            w = as_tensor_variable(weights[0])
            if w.ndim != 1:
                raise TypeError(f"bincount weights must be a vector, got {w}")
            inputs.append(w)
            dtype = w.dtype if w.dtype.startswith("float") else "float64"
        return Apply(self, inputs, [TensorType(dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        if x.size and x.min() < 0:
            raise NegativeCountError(f"bincount: input has negative value {x.min()}")
        w = inputs[1] if self.weighted else None
        out = np.bincount(x, weights=w, minlength=self.minlength)
        output_storage[0][0] = out.astype(node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        x = node.inputs[0]
        n = T.cast(T.max(x), "int64") + 1 if x.type.shape[0] != 0 else 0
        return [(T.maximum(n, self.minlength),)]

    def L_op(self, inputs, outputs, output_grads):
        from ...graph.op import grad_undefined
        return [None] + [grad_undefined(self, 1, inputs[1], "bincount has no gradient")
                         for _ in inputs[1:]]


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """Number of occurrences of each value in the non-negative int vector ``x``
    (summed ``weights`` when given), as ``np.bincount``; no gradient.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.lvector('v')
    >>> T.extra_ops.bincount(v).eval({v: np.array([0, 2, 2])})
    array([1, 0, 2])
    """
    op = BinCount(minlength or 0, weights is not None)
    return op(x) if weights is None else op(x, weights)
