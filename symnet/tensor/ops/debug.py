"""Identity ops that debug a graph: ``Print`` (prints its input each time
it runs) and ``SpecifyShape`` (checks its input's shape, and gives the
graph that shape statically).

Both return their input itself (a view), so they cost a print or a
comparison and nothing else.  Theano's users put them in graphs they
already have (``theano.printing.Print``, ``T.specify_shape``); the names,
arguments and printed form are Theano's.
"""
from ...graph.basic import Apply, Variable
from ...graph.op import Op
from ..basic import NotScalarConstantError, as_tensor_variable, get_scalar_constant_value
from ..type import TensorType

__all__ = ["Print", "SpecifyShape", "CheckShape", "specify_shape", "print_attrs"]


def print_attrs(op, x):
    """Print's default action: ``message attr = value`` for each attribute
    (a method is called), one line each, as Theano printed."""
    for attr in op.attrs:
        value = getattr(x, attr)
        print(op.message, attr, "=", value() if callable(value) else value)


class Print(Op):
    """An identity that prints its input when the function runs.

    Parameters
    ----------
    message : str
        Printed before each attribute.
    attrs : tuple of str
        Attributes of the input value to print (methods are called):
        ``('__str__',)`` prints the array, ``('shape', 'min')`` its shape
        and minimum.
    global_fn : callable, optional
        ``global_fn(op, value)`` replaces the printing (Theano's hook).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], Print('x is')(x) * 2, mode='py')
    >>> f(np.array([1.0, 2.0]))
    x is __str__ = [1. 2.]
    array([2., 4.])
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}

    def __init__(self, message="", attrs=("__str__",), global_fn=print_attrs):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]
        self.global_fn(self, inputs[0])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def do_constant_folding(self, node):
        return False    # it must print when the function runs, not when it compiles

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]


class SpecifyShape(Op):
    """An identity that checks its input has ``shape`` (None: any size)."""

    __props__ = ("shape",)
    view_map = {0: [0]}
    # what a mismatch raises when the function runs: AssertionError, as
    # Theano's SpecifyShape; a subclass may raise what its caller promised
    error = AssertionError

    def __init__(self, shape):
        self.shape = tuple(shape)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise ValueError(f"specify_shape({x}, {self.shape}): {len(self.shape)} sizes "
                             f"for a tensor of {x.ndim} dimensions")
        for ax, (have, want) in enumerate(zip(x.type.shape, self.shape)):
            if have is not None and want is not None and have != want:
                raise ValueError(f"specify_shape({x}, {self.shape}): axis {ax} has static "
                                 f"size {have}, not {want}")
        shape = tuple(h if w is None else w for h, w in zip(x.type.shape, self.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if x.ndim != len(self.shape) or any(w is not None and w != s
                                            for s, w in zip(x.shape, self.shape)):
            raise self.error(f"specify_shape: {node.inputs[0]} was declared of shape "
                             f"{self.shape}, got {x.shape}")
        output_storage[0][0] = x

    def infer_shape(self, node, input_shapes):
        return [tuple(s if w is None else w for s, w in zip(input_shapes[0], self.shape))]

    def L_op(self, inputs, outputs, output_grads):
        return [SpecifyShape(self.shape)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]


class CheckShape(Op):
    """An identity that checks its input's shape by a rule when the function
    runs: ``check(shape)`` returns None, or the message of the ``error`` to
    raise.  For the size rules of an op built from others
    (``images2neibs``), checked before the graph that would fail less
    clearly.  ``check`` is compared by value (a namedtuple with
    ``__call__`` keeps equal nodes mergeable)."""

    __props__ = ("check", "error")
    view_map = {0: [0]}

    def __init__(self, check, error=ValueError):
        self.check = check
        self.error = error

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def checked(self, x):
        """``[x]`` once ``x``'s shape passes the check (also the numba
        backend's driver line)."""
        message = self.check(x.shape)
        if message is not None:
            raise self.error(message)
        return [x]

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.checked(inputs[0])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]


def specify_shape(x, shape):
    """``x``, checked at run time to have ``shape``, whose sizes the graph
    then knows statically (``(x ** 2).shape`` becomes a constant).

    Parameters
    ----------
    x : tensor
    shape : sequence of int (or None: any size), or scalar constants

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.matrix('x')
    >>> specify_shape(x, (2, 3)).type.shape
    (2, 3)
    """
    sizes = []
    for s in shape:
        if isinstance(s, Variable):
            try:
                s = get_scalar_constant_value(s)
            except NotScalarConstantError:
                raise TypeError(f"specify_shape({x}, ...): size {s} is not known when the "
                                f"graph is built; give ints (or None for any size)") from None
        sizes.append(None if s is None else int(s))
    return SpecifyShape(tuple(sizes))(x)
