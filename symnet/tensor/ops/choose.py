"""``T.choose(a, choices, mode)``: per element, the entry of the ``a``-th
choice (``np.choose``), with Theano's broadcasting of ``a`` against the
choices and the modes ``'raise'`` (an index outside ``[0, n)`` is an
error), ``'wrap'`` (taken modulo ``n``) and ``'clip'`` (clipped to
``[0, n - 1]``).

A list or tuple of choices (:class:`ChooseList`) broadcasts as numpy's
does, at run time, as Theano's did.

The gradient goes to the choices: choice ``k`` receives the output
gradient where the (wrapped or clipped) index is ``k``, summed over the
axes it was broadcast along; ``a`` is an integer index (no gradient).
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType

__all__ = ["Choose", "ChooseList", "choose"]

_MODES = ("raise", "wrap", "clip")


class Choose(Op):
    """``np.choose(a, choices, mode=mode)``; ``choices`` is one tensor whose
    first axis lists the choices (:func:`choose` stacks a list)."""

    __props__ = ("mode",)

    def __init__(self, mode="raise"):
        if mode not in _MODES:
            raise ValueError(f"choose: mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, a, choices):
        from .shape import shape_padleft
        a = as_tensor_variable(a)
        if not a.dtype.startswith(("int", "uint")):
            raise TypeError(f"choose: the index a must have an integer dtype, got {a} "
                            f"({a.dtype})")
        if isinstance(choices, (list, tuple)):
            return ChooseList(self.mode).make_node(a, *choices)
        choices = as_tensor_variable(choices)
        if choices.ndim == 0:
            raise TypeError(f"choose: choices must list the choices along its first axis, "
                            f"got the scalar {choices}")
        ndim = max(a.ndim, choices.ndim - 1)
        a = shape_padleft(a, ndim - a.ndim)
        if choices.ndim - 1 < ndim:
            lead = ndim - (choices.ndim - 1)
            choices = choices.dimshuffle(0, *(("x",) * lead), *range(1, choices.ndim))
        shape = tuple(_out_dim(sa, sc, a, choices)
                      for sa, sc in zip(a.type.shape, choices.type.shape[1:]))
        return Apply(self, [a, choices], [TensorType(choices.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.compute(*inputs)

    def compute(self, a, choices):
        """``[output]`` for these arrays (also the numba backend's driver
        line)."""
        return _np_choose(a, choices, self.mode,
                          f"choices of shape {choices.shape[1:]} (after the choice axis)")

    def infer_shape(self, node, input_shapes):
        a, choices = node.inputs
        sa, sc = input_shapes
        return [tuple(c if b else s for s, c, b in zip(sa, sc[1:], a.broadcastable))]

    def L_op(self, inputs, outputs, output_grads):
        from .elemwise import SCALAR_OPS, cast, dimshuffle, elemwise, sum_to_input
        from .shape import arange
        a, choices = inputs
        (g,) = output_grads
        n = choices.shape[0]
        idx = a
        if self.mode == "wrap":
            idx = elemwise(SCALAR_OPS["mod"], a, n)
        elif self.mode == "clip":
            idx = elemwise(SCALAR_OPS["minimum"], elemwise(SCALAR_OPS["maximum"], a, 0), n - 1)
        ks = dimshuffle(arange(n), (0,) + ("x",) * a.ndim)
        hit = elemwise(SCALAR_OPS["eq"], dimshuffle(idx, ("x",) + tuple(range(a.ndim))), ks)
        spread = cast(hit, g.dtype) * dimshuffle(g, ("x",) + tuple(range(g.ndim)))
        return [None, sum_to_input(spread, choices)]


class ChooseList(Op):
    """``np.choose(a, [c0, c1, ...], mode=mode)`` over a list of tensors,
    broadcast together as numpy does, at run time: a choice of type
    ``tensor3`` may be ``(1, 6, 1)`` and another ``(1, 1, 5)``, as
    Theano's ``choose`` of a tuple allowed.  Inputs: ``a`` then the
    choices, all padded on the left to the output's rank."""

    __props__ = ("mode",)

    def __init__(self, mode="raise"):
        if mode not in _MODES:
            raise ValueError(f"choose: mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, a, *choices):
        from .elemwise import cast
        from .shape import shape_padleft
        from ..type import upcast
        a = as_tensor_variable(a)
        if not choices:
            raise ValueError("choose: the list of choices is empty")
        choices = [as_tensor_variable(c) for c in choices]
        dtype = upcast(*[c.dtype for c in choices])
        ndim = max(v.ndim for v in [a, *choices])
        a, *choices = [shape_padleft(v, ndim - v.ndim) for v in [a, *choices]]
        choices = [cast(c, dtype) for c in choices]
        shape = list(a.type.shape)
        for c in choices:
            shape = [_runtime_dim(x, y, a, choices) for x, y in zip(shape, c.type.shape)]
        return Apply(self, [a, *choices], [TensorType(dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.compute(*inputs)

    def compute(self, a, *choices):
        """``[output]`` for these arrays (also the numba backend's driver
        line)."""
        return _np_choose(a, choices, self.mode,
                          f"choices of shapes {[c.shape for c in choices]}")

    def infer_shape(self, node, input_shapes):
        from .elemwise import SCALAR_OPS, elemwise
        out = list(input_shapes[0])
        for s in input_shapes[1:]:
            # numpy's rule: a size 1 takes the other's (also 0)
            out = [elemwise(SCALAR_OPS["switch"], elemwise(SCALAR_OPS["eq"], x, 1), y, x)
                   for x, y in zip(out, s)]
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        # Choose's gradient over the choices stacked with static broadcasting:
        # right wherever the choices' types broadcast; where a choice of size
        # 1 broadcast along an axis its type does not declare broadcastable,
        # the gradient's elementwise add raises naming the shapes
        from .elemwise import sum_to_input
        a, *choices = inputs
        stacked = _stack_broadcast(choices)
        node = Choose(self.mode).make_node(a, stacked)
        _, g_stacked = Choose(self.mode).L_op(node.inputs, node.outputs, output_grads)
        return [None] + [sum_to_input(g_stacked[k], c) for k, c in enumerate(choices)]


def _np_choose(a, choices, mode, what):
    """``[np.choose(a, choices, mode)]``, its errors naming the index range
    or the shapes (``what``: the choices' shapes in words)."""
    try:
        return [np.choose(a, choices, mode=mode)]
    except ValueError as exc:
        n = len(choices)
        if mode == "raise" and a.size and (a.min() < 0 or a.max() >= n):
            raise ValueError(
                f"choose: an index of a is outside [0, {n}) (min {a.min()}, max "
                f"{a.max()}) in mode 'raise'; use mode='wrap' or 'clip'") from None
        raise ValueError(f"choose: a of shape {a.shape} and {what} do not broadcast "
                         f"({exc})") from None


def _runtime_dim(x, y, a, choices):
    """The static size on one axis of two sizes broadcast at run time
    (None: unknown, 1 only where both are 1)."""
    if x == 1:
        return y
    if y in (1, None, x):
        return x
    if x is None:
        return y
    raise ValueError(f"choose: {a} (static shape {a.type.shape}) and the choices "
                     f"{choices} (shapes {[c.type.shape for c in choices]}) do not "
                     f"broadcast")


def _out_dim(sa, sc, a, choices):
    """The output's static size on an axis where ``a`` has ``sa`` and each
    choice ``sc`` (None: unknown)."""
    if sa == 1 or sa is None:
        return sc if sc != 1 else sa
    if sc in (1, None, sa):
        return sa
    raise ValueError(f"choose: {a} (static shape {a.type.shape}) and the choices "
                     f"{choices} (shape {choices.type.shape[1:]} after the choice axis) "
                     f"do not broadcast")


def _stack_broadcast(choices):
    """A list of tensors as one, each broadcast to their common shape
    (adding the zeros of the others broadcasts without changing values)."""
    from .shape import stack, zeros_like
    items = [as_tensor_variable(c) for c in choices]
    if not items:
        raise ValueError("choose: the list of choices is empty")
    full = []
    for k, c in enumerate(items):
        for j, other in enumerate(items):
            if j != k:
                c = c + zeros_like(other, dtype=c.dtype)
        full.append(c)
    return stack(full)


def choose(a, choices, out=None, mode="raise"):
    """Per element of the integer tensor ``a``, the entry of
    ``choices[a]`` (``np.choose``); ``choices`` is a tensor whose first axis
    lists the choices, or a list of tensors.  ``mode``: ``'raise'``,
    ``'wrap'`` or ``'clip'`` for indices outside ``[0, n)``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> a = T.lvector('a')
    >>> T.choose(a, [[10., 11, 12], [20., 21, 22]]).eval({a: np.array([1, 0, 1])})
    array([20., 11., 22.], dtype=float32)
    """
    if out is not None:
        raise ValueError("choose: out= is not supported (results are new variables)")
    return Choose(mode)(a, choices)
