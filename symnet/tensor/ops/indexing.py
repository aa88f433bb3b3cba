"""Indexing: basic slicing (``Subtensor``), writing into slices
(``IncSubtensor``), and the dispatch from ``x[...]`` syntax.

An index is stored as ``idx_list``: per indexed axis, an int, the marker
``'in'`` (a symbolic scalar taken from the node's inputs), or a slice whose
parts are None, ints or ``'in'``.  Constant parts stay ints so static shapes
can be computed when the graph is built.
"""
import numpy as np

from ...graph.basic import Apply, Variable
from ...graph.op import Op
from ..basic import NotScalarConstantError, as_tensor_variable, get_scalar_constant_value
from ..type import TensorType

__all__ = ["Subtensor", "IncSubtensor", "subtensor", "set_subtensor", "inc_subtensor",
           "take", "nonzero", "sort", "argsort", "cumsum", "cumprod"]

IN = "in"


def _split_index(idx):
    """User index -> (idx_list, symbolic scalar inputs), or None if advanced."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    entries, inputs = [], []

    def part(p):
        if p is None:
            return None
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            return int(p)
        if isinstance(p, Variable) and p.ndim == 0 and p.dtype.startswith(("int", "uint")):
            try:
                return int(get_scalar_constant_value(p))
            except NotScalarConstantError:
                inputs.append(p)
                return IN
        raise TypeError(f"slice bounds must be integers or integer scalars, got {p!r}")

    for i in idx:
        if isinstance(i, slice):
            entries.append(slice(part(i.start), part(i.stop), part(i.step)))
        elif isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            entries.append(int(i))
        elif isinstance(i, Variable) and i.ndim == 0 and i.dtype.startswith(("int", "uint")):
            entries.append(part(i))
        else:
            return None
    return tuple(entries), inputs


def _rebuild(idx_list, values):
    it = iter(values)

    def get(p):
        return int(next(it)) if p == IN else p
    out = []
    for e in idx_list:
        if isinstance(e, slice):
            out.append(slice(get(e.start), get(e.stop), get(e.step)))
        else:
            out.append(get(e))
    return tuple(out)


def _static_shape(x_shape, idx_list):
    out = []
    for axis, size in enumerate(x_shape):
        if axis >= len(idx_list):
            out.append(size)
            continue
        e = idx_list[axis]
        if isinstance(e, slice):
            if size is not None and IN not in (e.start, e.stop, e.step):
                out.append(len(range(*e.indices(size))))
            elif e == slice(None, None, None) or e == slice(None, None, 1):
                out.append(size)
            else:
                out.append(None)
    return tuple(out)


def _hashable(idx_list):
    return tuple((e.start, e.stop, e.step, "slice") if isinstance(e, slice) else e
                 for e in idx_list)


class Subtensor(Op):
    """``x[idx]`` for ints and slices (a view in numpy)."""

    __props__ = ("key",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)
        self.key = _hashable(self.idx_list)

    def __str__(self):
        return f"Subtensor{{{_fmt_idx(self.idx_list)}}}"

    def make_node(self, x, *scalars):
        x = as_tensor_variable(x)
        if len(self.idx_list) > x.ndim:
            raise IndexError(f"too many indices ({len(self.idx_list)}) for {x} with "
                             f"{x.ndim} dimensions")
        for axis, e in enumerate(self.idx_list):
            size = x.type.shape[axis]
            if isinstance(e, int) and size is not None and not -size <= e < size:
                raise IndexError(f"index {e} is out of bounds for axis {axis} of {x} "
                                 f"with size {size}")
        return Apply(self, [x] + list(scalars),
                     [TensorType(x.dtype, shape=_static_shape(x.type.shape, self.idx_list))()])

    def perform(self, node, inputs, output_storage):
        x, *vals = inputs
        idx = _rebuild(self.idx_list, vals)
        try:
            out = x[idx]
        except IndexError as exc:
            raise IndexError(f"{self} on an array of shape {x.shape}: {exc}") from None
        output_storage[0][0] = np.asarray(out)

    def infer_shape(self, node, input_shapes):
        from ... import tensor as T
        x = node.inputs[0]
        vals = iter(node.inputs[1:])
        out = []
        for axis, size in enumerate(input_shapes[0]):
            if axis >= len(self.idx_list):
                out.append(size)
                continue
            e = self.idx_list[axis]
            if not isinstance(e, slice):
                if e == IN:
                    next(vals)
                continue
            start, stop, step = [next(vals) if p == IN else p for p in (e.start, e.stop, e.step)]
            static = node.outputs[0].type.shape[len(out)]
            if static is not None:
                out.append(static)
                continue
            out.append(_slice_len(T, size, start, stop, step))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x = inputs[0]
        if not x.dtype.startswith("float"):
            return [None] * len(inputs)
        from ..ops.shape import zeros_like
        g = IncSubtensor(self.idx_list, set_instead_of_inc=False)(
            zeros_like(x), output_grads[0], *inputs[1:])
        return [g] + [None] * (len(inputs) - 1)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def _slice_len(T, size, start, stop, step):
    """Symbolic length of ``range(size)[start:stop:step]``."""
    step = 1 if step is None else step
    if isinstance(step, int) and step > 0:
        lo = 0 if start is None else _clamp(T, start, size)
        hi = size if stop is None else _clamp(T, stop, size)
        return T.maximum(T.int_div(hi - lo + (step - 1), step), 0)
    if isinstance(step, int) and step < 0:
        hi = (size - 1) if start is None else _clamp(T, start, size, -1)
        lo = -1 if stop is None else _clamp(T, stop, size, -1)
        return T.maximum(T.int_div(hi - lo + (-step - 1), -step), 0)
    raise NotScalarConstantError("symbolic slice steps are not supported in infer_shape")


def _clamp(T, i, size, low=0):
    i = T.switch(T.lt(i, 0), i + size, i)
    return T.minimum(T.maximum(i, low), size + low)


def _fmt_idx(idx_list):
    parts = []
    for e in idx_list:
        if isinstance(e, slice):
            s = ":".join("" if p is None else str(p) for p in (e.start, e.stop))
            if e.step is not None:
                s += f":{e.step}"
            parts.append(s)
        else:
            parts.append(str(e))
    return ", ".join(parts)


class IncSubtensor(Op):
    """``x`` with ``y`` added to (or written into) ``x[idx]``; a new array
    unless the in-place rewrite sets ``inplace``."""

    __props__ = ("key", "set_instead_of_inc", "inplace")

    def __init__(self, idx_list, set_instead_of_inc=False, inplace=False):
        self.idx_list = tuple(idx_list)
        self.key = _hashable(self.idx_list)
        self.set_instead_of_inc = set_instead_of_inc
        self.inplace = inplace
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_fmt_idx(self.idx_list)}}}"

    def make_node(self, x, y, *scalars):
        from .elemwise import cast
        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        target = _static_shape(x.type.shape, self.idx_list)
        if y.ndim > len(target):
            raise TypeError(f"{self}: value {y} has {y.ndim} dims, more than the "
                             f"{len(target)} of the indexed region of {x}")
        for ys, ts in zip(reversed(y.type.shape), reversed(target)):
            if ys is not None and ts is not None and ys != 1 and ys != ts:
                raise ValueError(f"{self}: value of shape {y.type.shape} does not fit "
                                 f"the region of shape {target}")
        if y.dtype != x.dtype:
            y = cast(y, x.dtype)
        return Apply(self, [x, y] + list(scalars), [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, *vals = inputs
        out = x if self.inplace else x.copy()
        idx = _rebuild(self.idx_list, vals)
        if self.set_instead_of_inc:
            out[idx] = y
        else:
            out[idx] += y
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, y, *rest = inputs
        (gz,) = output_grads
        sub = Subtensor(self.idx_list)
        if self.set_instead_of_inc:
            from ..ops.shape import zeros_like
            gx = IncSubtensor(self.idx_list, set_instead_of_inc=True)(
                gz, zeros_like(sub(gz, *rest)), *rest)
        else:
            gx = gz
        gy = sub(gz, *rest)
        from .elemwise import sum_to_input
        # y may have broadcast into the region: sum over those axes.
        extra = gy.ndim - y.ndim
        if extra:
            from .reduction import sum as _sum
            gy = _sum(gy, axis=tuple(range(extra)))
        gy = sum_to_input(gy, y) if y.dtype.startswith("float") else None
        return [gx if x.dtype.startswith("float") else None, gy] + [None] * len(rest)


def subtensor(x, idx):
    """Dispatch ``x[idx]`` to basic or advanced indexing."""
    from . import advanced
    x = as_tensor_variable(x)
    split = _split_index(idx)
    if split is None:
        return advanced.advanced_subtensor(x, idx)
    idx_list, scalars = split
    beyond = _shape_beyond_rank(x, idx_list)
    if beyond is not None:
        return beyond
    return Subtensor(idx_list)(x, *scalars)


def _shape_beyond_rank(x, idx_list):
    """``v.shape[i]`` with ``i`` past ``v``'s rank builds as in Theano (its
    shapes had no static length) and fails when evaluated: see
    ShapeBeyondRank. None for any other index."""
    from .shape import Shape, ShapeBeyondRank
    if x.owner is None or not isinstance(x.owner.op, Shape) or len(idx_list) != 1 \
            or not isinstance(idx_list[0], int):
        return None
    v = x.owner.inputs[0]
    if -v.ndim <= idx_list[0] < v.ndim:
        return None
    return ShapeBeyondRank(idx_list[0])(v)


def _inc_or_set(x, y, set_, inplace=False, tolerate_inplace_aliasing=False):
    """``x`` must be the result of indexing (``x = a[idx]``), as in Theano."""
    from . import advanced
    if x.owner is None or not isinstance(x.owner.op, (Subtensor, advanced.AdvancedSubtensor)):
        raise TypeError(
            f"{'set' if set_ else 'inc'}_subtensor needs an indexed variable such as "
            f"x[2:5], got {x}")
    op = x.owner.op
    base, *rest = x.owner.inputs
    if isinstance(op, Subtensor):
        return IncSubtensor(op.idx_list, set_instead_of_inc=set_)(base, y, *rest)
    return advanced.advanced_inc_subtensor(base, y, op, rest, set_)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """A copy of the array ``x`` was indexed from, with ``x``'s region set to ``y``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.vector('v')
    >>> T.set_subtensor(v[1:3], 0.0).eval({v: np.ones(4, 'float32')})
    array([1., 0., 0., 1.], dtype=float32)
    """
    return _inc_or_set(x, y, True)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False):
    """A copy of the indexed array with ``y`` added to ``x``'s region
    (repeated integer indices accumulate)."""
    return _inc_or_set(x, y, set_instead_of_inc)


def take(a, indices, axis=None, mode="raise"):
    from . import advanced
    return advanced.take(a, indices, axis, mode)


def nonzero(x, return_matrix=False):
    from . import advanced
    return advanced.nonzero(x, return_matrix)


def sort(x, axis=-1):
    from . import advanced
    return advanced.sort(x, axis)


def argsort(x, axis=-1):
    from . import advanced
    return advanced.argsort(x, axis)


def cumsum(x, axis=None):
    from . import advanced
    return advanced.cumsum(x, axis)


def cumprod(x, axis=None):
    from . import advanced
    return advanced.cumprod(x, axis)
