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
    if x.dtype.startswith(("int", "uint")):
        # Theano's dot: an integer operand gets the float gradient, the one
        # it would have as floats (Theano's test_grad_int)
        return g
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
    from .shape import reshape
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        if axes > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: cannot sum over {axes} axes of {a} ({a.ndim}-D) "
                             f"and {b} ({b.ndim}-D)")
        axes = [list(range(a.ndim - axes, a.ndim)), list(range(int(axes)))]
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes}")
    ax_a = _axes_of("tensordot", a, axes[0])
    ax_b = _axes_of("tensordot", b, axes[1])
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes {axes} have different lengths")
    for i, j in zip(ax_a, ax_b):
        _check_inner("tensordot", a, b, i, j)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    at = dimshuffle(a, tuple(free_a + ax_a))
    bt = dimshuffle(b, tuple(ax_b + free_b))
    am = reshape(at, [_size(a, free_a), _size(a, ax_a)], ndim=2)
    bm = reshape(bt, [_size(b, ax_b), _size(b, free_b)], ndim=2)
    out = _dot(am, bm)
    out_shape = _dims(a, free_a) + _dims(b, free_b)
    return reshape(out, out_shape, ndim=len(out_shape))


def _axes_of(what, v, axs):
    """``axs`` (an int or a sequence) as non-negative axes of ``v``; an axis
    out of range or given twice raises ValueError (numpy's and Theano's)."""
    out = []
    for i in np.atleast_1d(axs):
        if not -v.ndim <= int(i) < v.ndim:
            raise ValueError(f"{what}: axis {int(i)} is out of range for {v} ({v.ndim}-D)")
        out.append(int(i) % v.ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: axes {list(axs)} of {v} repeat an axis")
    return out


def _dims(v, axs):
    """The sizes of ``v``'s axes ``axs``: ints where static, else symbolic."""
    from .shape import shape_i
    return [v.type.shape[i] if v.type.shape[i] is not None else shape_i(v, i) for i in axs]


def _size(v, axs):
    n = 1
    for d in _dims(v, axs):
        n = n * d
    return n


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
    """``out[i] = dot(x[i], y[i])`` over the first (batch) axis, Theano's forms:
    a vector is a batch of scalars (``x[i] * y[i]``), and inputs of more than
    3 dimensions go through :func:`batched_tensordot` (x's last axis with y's
    second-to-last, as ``dot``).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, y = T.dtensor3('x'), T.dvector('y')
    >>> f = symnet.function([x, y], T.batched_dot(y, x), mode='py')
    >>> f(np.ones((2, 1, 3)), np.array([2., 3.])).tolist()
    [[[2.0, 2.0, 2.0]], [[3.0, 3.0, 3.0]]]
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim == 0 or y.ndim == 0:
        raise TypeError(f"batched_dot: both inputs need a batch axis, got {x} ({x.ndim}-D) "
                        f"and {y} ({y.ndim}-D)")
    if x.ndim == 1:
        return dimshuffle(x, (0,) + ("x",) * (y.ndim - 1)) * y
    if y.ndim == 1:
        return x * dimshuffle(y, (0,) + ("x",) * (x.ndim - 1))
    if x.ndim > 3 or y.ndim > 3:
        return batched_tensordot(x, y, [[x.ndim - 1], [max(1, y.ndim - 2)]])
    return BatchedDot()(x, y)


def batched_tensordot(x, y, axes=2):
    """:func:`tensordot` of ``x[i]`` and ``y[i]`` for each ``i`` of the first
    (batch) axis. ``axes`` is an int ``n`` (x's last ``n`` axes with y's axes
    1..n) or two lists of axes, none of them the batch axis 0.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, y = T.dtensor4('x'), T.dtensor4('y')
    >>> out = T.batched_tensordot(x, y, [[1, 2], [3, 1]])
    >>> f = symnet.function([x, y], out, mode='py')
    >>> f(np.ones((8, 10, 20, 3)), np.ones((8, 20, 5, 10))).shape
    (8, 3, 5)
    """
    from .shape import reshape
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim < 2 or y.ndim < 2:
        raise TypeError(f"batched_tensordot: inputs need a batch axis and another, got "
                        f"{x} ({x.ndim}-D) and {y} ({y.ndim}-D)")
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(x.ndim - int(axes), x.ndim)), list(range(1, int(axes) + 1))]
    ax_x = _axes_of("batched_tensordot", x, axes[0])
    ax_y = _axes_of("batched_tensordot", y, axes[1])
    if len(ax_x) != len(ax_y):
        raise ValueError(f"batched_tensordot: axes {axes} have different lengths")
    if 0 in ax_x or 0 in ax_y:
        raise ValueError(f"batched_tensordot: axes {axes} include the batch axis 0")
    for i, j in zip(ax_x, ax_y):
        _check_inner("batched_tensordot", x, y, i, j)
    free_x = [i for i in range(1, x.ndim) if i not in ax_x]
    free_y = [i for i in range(1, y.ndim) if i not in ax_y]
    batch = _dims(x, [0])
    xm = reshape(dimshuffle(x, tuple([0] + free_x + ax_x)),
                 batch + [_size(x, free_x), _size(x, ax_x)], ndim=3)
    ym = reshape(dimshuffle(y, tuple([0] + ax_y + free_y)),
                 batch + [_size(y, ax_y), _size(y, free_y)], ndim=3)
    out_shape = batch + _dims(x, free_x) + _dims(y, free_y)
    return reshape(BatchedDot()(xm, ym), out_shape, ndim=len(out_shape))
