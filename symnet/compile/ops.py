"""Ops from plain Python functions: Theano's ``theano.compile.ops.as_op``.

``as_op`` turns a function on numpy arrays into an op with fixed input and
output types, for a computation symnet has no op for::

    @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    def row_medians(m):
        return np.median(m, axis=1)

The op runs the function itself on every backend (it has no kernel: the
numba backend calls it from its driver, warned once like any op without a
kernel), has no gradient, and gives the output's shape only when
``infer_shape`` is passed (``infer_shape(node, input_shapes)`` returning one
shape tuple per output).
"""
import numpy as np

from ..graph.op import Op

__all__ = ["as_op", "FromFunctionOp"]


class FromFunctionOp(Op):
    """The op :func:`as_op` builds: ``fn`` on the inputs' values."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn, itypes, otypes, infer_shape=None):
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.infer_shape_fn = infer_shape
        self.__name__ = getattr(fn, "__name__", type(self).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        if infer_shape is not None:
            # only then does the op answer shape queries without running fn
            self.infer_shape = infer_shape

    def __str__(self):
        return f"FromFunctionOp{{{self.__name__}}}"

    __repr__ = __str__

    def perform(self, node, inputs, output_storage):
        outs = self.fn(*inputs)
        if not isinstance(outs, (list, tuple)):
            outs = (outs,)
        if len(outs) != len(output_storage):
            raise ValueError(f"{self}: the function returned {len(outs)} values for "
                             f"{len(output_storage)} outputs (otypes)")
        for storage, value, var in zip(output_storage, outs, node.outputs):
            value = var.type.filter_named(value, str(var), allow_downcast=True)
            # the op declares no view_map: a result that is (a view of) an
            # input, as `return m[:, 0]` gives, must not be handed out as such
            if any(np.may_share_memory(value, x) for x in inputs if isinstance(x, np.ndarray)):
                value = value.copy()
            storage[0] = value


def as_op(itypes, otypes, infer_shape=None):
    """Decorator: the function becomes a :class:`FromFunctionOp` with input
    types ``itypes`` and output types ``otypes`` (lists of types such as
    ``T.dmatrix``); ``infer_shape(node, input_shapes)`` optionally gives the
    output shapes without running it."""
    if not isinstance(itypes, (list, tuple)):
        itypes = [itypes]
    if not isinstance(otypes, (list, tuple)):
        otypes = [otypes]
    if infer_shape is not None and not callable(infer_shape):
        raise TypeError(f"as_op: infer_shape must be callable, got {infer_shape!r}")

    def make(fn):
        return FromFunctionOp(fn, itypes, otypes, infer_shape)
    return make
