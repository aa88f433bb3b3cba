"""Linear algebra: dot (1-D/2-D, BLAS through numpy), batched_dot, and the
compositions tensordot and outer.

Inner sizes are checked when the graph is built: ``dot`` of a (64, 784) and
a (500, 10) matrix raises a ValueError naming both shapes.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType, upcast
from .elemwise import cast, dimshuffle

__all__ = ["Dot", "BatchedDot", "dot", "batched_dot", "tensordot", "outer",
           "batched_tensordot"]


def _fmt(shape):
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _name(v):
    return v.name or str(v)


def _check_inner(op, x, y, kx, ky):
    a, b = x.type.shape[kx], y.type.shape[ky]
    if a is not None and b is not None and a != b:
        raise ValueError(
            f"{op}: inner dimensions do not match: {_name(x)} has shape "
            f"{_fmt(x.type.shape)} and {_name(y)} has shape {_fmt(y.type.shape)} "
            f"({a} != {b})")


class Dot(Op):
    """Matrix/vector product of 1-D or 2-D tensors (``np.dot``)."""

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise TypeError(f"Dot takes 1-D or 2-D inputs, got {x.ndim}-D {_name(x)} and "
                            f"{y.ndim}-D {_name(y)} (T.dot handles other ranks)")
        _check_inner("dot", x, y, x.ndim - 1, 0)
        shape = x.type.shape[:-1] + y.type.shape[1:]
        dtype = upcast(x.dtype, y.dtype)
        return Apply(self, [x, y], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} not aligned "
                             f"({x.shape[-1]} != {y.shape[0]})")
        out = np.dot(x, y)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        xs, ys = input_shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.ndim == 2 and y.ndim == 2:
            gx, gy = dot(gz, y.T), dot(x.T, gz)
        elif x.ndim == 1 and y.ndim == 2:
            gx, gy = dot(y, gz), outer(x, gz)
        elif x.ndim == 2 and y.ndim == 1:
            gx, gy = outer(gz, y), dot(gz, x)
        else:
            gx, gy = gz * y, gz * x
        return [_cast_grad(gx, x), _cast_grad(gy, y)]

    def R_op(self, inputs, eval_points):
        x, y = inputs
        ex, ey = eval_points
        terms = []
        if ex is not None:
            terms.append(dot(ex, y))
        if ey is not None:
            terms.append(dot(x, ey))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]


def _cast_grad(g, x):
    if not x.dtype.startswith("float"):
        return None
    return cast(g, x.dtype)


_dot = Dot()


def dot(a, b):
    """Theano's ``dot``: matrix product for 1-D/2-D, tensordot over the last
    axis of ``a`` and the second-to-last of ``b`` for higher ranks.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> a = T.matrix('a', shape=(64, 784)); b = T.matrix('b', shape=(500, 10))
    >>> T.dot(a, b)
    Traceback (most recent call last):
      ...
    ValueError: dot: inner dimensions do not match: a has shape (64, 784) and b has shape (500, 10) (784 != 500)
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def outer(x, y):
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        from .shape import flatten
        x = flatten(x)
    if y.ndim != 1:
        from .shape import flatten
        y = flatten(y)
    return dimshuffle(x, (0, "x")) * dimshuffle(y, ("x", 0))


def tensordot(a, b, axes=2):
    """Sum products over ``axes`` (an int, or two lists of axes), via one
    matrix product of reshaped operands."""
    from .shape import reshape, shape_i
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(a.ndim - axes, a.ndim)), list(range(int(axes)))]
    ax_a, ax_b = [list(np.atleast_1d(x)) for x in axes]
    ax_a = [int(i) % a.ndim for i in ax_a]
    ax_b = [int(i) % b.ndim for i in ax_b]
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes {axes} have different lengths")
    for i, j in zip(ax_a, ax_b):
        _check_inner("tensordot", a, b, i, j)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    at = dimshuffle(a, tuple(free_a + ax_a))
    bt = dimshuffle(b, tuple(ax_b + free_b))

    def size(v, axs):
        n = 1
        for i in axs:
            n = n * (v.type.shape[i] if v.type.shape[i] is not None else shape_i(v, i))
        return n
    am = reshape(at, [size(a, free_a), size(a, ax_a)], ndim=2)
    bm = reshape(bt, [size(b, ax_b), size(b, free_b)], ndim=2)
    out = _dot(am, bm)
    out_shape = [a.type.shape[i] if a.type.shape[i] is not None else shape_i(a, i)
                 for i in free_a] + \
                [b.type.shape[i] if b.type.shape[i] is not None else shape_i(b, i)
                 for i in free_b]
    return reshape(out, out_shape, ndim=len(out_shape))


class BatchedDot(Op):
    """``out[i] = dot(x[i], y[i])`` for 3-D x 3-D (or 2-D rows of vectors)."""

    def make_node(self, x, y):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim not in (2, 3) or y.ndim not in (2, 3):
            raise TypeError(f"batched_dot takes 2-D or 3-D inputs, got {x.ndim}-D and "
                            f"{y.ndim}-D")
        a, b = x.type.shape[0], y.type.shape[0]
        if a is not None and b is not None and a != b:
            raise ValueError(f"batched_dot: batch sizes differ: {_fmt(x.type.shape)} vs "
                             f"{_fmt(y.type.shape)}")
        _check_inner("batched_dot", x, y, x.ndim - 1, 1)
        shape = (a if a is not None else b,) + x.type.shape[1:-1] + y.type.shape[2:]
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"batched_dot: batch sizes differ: {x.shape} vs {y.shape}")
        xe = x if x.ndim == 3 else x[:, None, :]
        ye = y if y.ndim == 3 else y[:, :, None]
        out = np.matmul(xe, ye)
        if x.ndim == 2:
            out = out[:, 0]
        if y.ndim == 2:
            out = out[..., 0]
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        xs, ys = input_shapes
        return [(xs[0],) + tuple(xs[1:-1]) + tuple(ys[2:])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.ndim == 3 and y.ndim == 3:
            gx = batched_dot(gz, y.dimshuffle(0, 2, 1))
            gy = batched_dot(x.dimshuffle(0, 2, 1), gz)
        elif x.ndim == 2 and y.ndim == 3:     # (b,n) . (b,n,m) -> (b,m)
            gx = batched_dot(y, gz)
            gy = x.dimshuffle(0, 1, "x") * gz.dimshuffle(0, "x", 1)
        elif x.ndim == 3 and y.ndim == 2:     # (b,m,n) . (b,n) -> (b,m)
            gx = gz.dimshuffle(0, 1, "x") * y.dimshuffle(0, "x", 1)
            gy = batched_dot(x.dimshuffle(0, 2, 1), gz)
        else:                                 # (b,n) . (b,n) -> (b,)
            gx = gz.dimshuffle(0, "x") * y
            gy = gz.dimshuffle(0, "x") * x
        return [_cast_grad(gx, x), _cast_grad(gy, y)]


def batched_dot(x, y):
    return BatchedDot()(x, y)


def batched_tensordot(x, y, axes=2):
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim == 3 and y.ndim == 3 and axes in (1, [[2], [1]], ((2,), (1,))):
        return batched_dot(x, y)
    raise NotImplementedError("batched_tensordot supports 3-D batched_dot axes only")
