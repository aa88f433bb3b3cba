"""The sorted unique elements of a tensor (``theano.tensor.extra_ops.Unique``,
``np.unique``), optionally with the index of each one's first occurrence,
the inverse (the index into the unique values of each input element) and
the counts.  Sizes are data dependent, so the outputs' lengths are unknown
to the graph; there is no gradient (the values are a selection of the
input, but which one is not differentiable)."""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op, grad_undefined
from ..basic import as_tensor_variable
from ..type import TensorType

__all__ = ["Unique", "unique"]


class Unique(Op):
    """``np.unique(x, return_index, return_inverse, return_counts, axis)``:
    the unique values (a vector for ``axis=None``, else ``x``'s dimensions
    with the unique slices along ``axis``), then the requested int64
    vectors in that order.  The inverse is always a vector (numpy 2 gives
    it ``x``'s shape for ``axis=None``; Theano's is flat)."""

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False,
                 axis=None):
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = None if axis is None else int(axis)

    def _axis(self, ndim):
        if self.axis is None:
            return None
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Unique: axis {self.axis} is out of range for an input of "
                             f"{ndim} dims")
        return self.axis % ndim

    def make_node(self, x):
        x = as_tensor_variable(x)
        axis = self._axis(x.ndim)
        shape = ((None,) if axis is None else
                 tuple(None if k == axis else s for k, s in enumerate(x.type.shape)))
        n_extra = self.return_index + self.return_inverse + self.return_counts
        outs = [TensorType(x.dtype, shape=shape)()]
        outs += [TensorType("int64", shape=(None,))() for _ in range(n_extra)]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, self.compute(inputs[0])):
            store[0] = value

    def compute(self, x):
        """The op's outputs for the array ``x`` (also the numba backend's
        driver line)."""
        res = np.unique(x, return_index=self.return_index, return_inverse=self.return_inverse,
                        return_counts=self.return_counts, axis=self._axis(x.ndim))
        res = list(res) if isinstance(res, tuple) else [res]
        return [res[0]] + [np.asarray(r, dtype="int64").reshape(-1) for r in res[1:]]

    def infer_shape(self, node, input_shapes):
        (xs,) = input_shapes
        axis = self._axis(len(xs))
        found = node.outputs[0].shape
        shapes = [(found[0],) if axis is None else
                  tuple(found[axis] if k == axis else s for k, s in enumerate(xs))]
        if self.return_index:
            shapes.append((found[0 if axis is None else axis],))
        if self.return_inverse:
            shapes.append((_product(xs) if axis is None else xs[axis],))
        if self.return_counts:
            shapes.append((found[0 if axis is None else axis],))
        return shapes

    def L_op(self, inputs, outputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "unique is not differentiable")]


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted unique elements of ``ar`` (``np.unique``): one variable, or
    a list when ``return_index``, ``return_inverse`` or ``return_counts``
    ask for more.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.lvector('v')
    >>> u, counts = T.extra_ops.unique(v, return_counts=True)
    >>> u.eval({v: np.array([3, 1, 3, 2])}), counts.eval({v: np.array([3, 1, 3, 2])})
    (array([1, 2, 3]), array([1, 1, 2]))
    """
    return Unique(return_index, return_inverse, return_counts, axis)(ar)


def _product(sizes):
    total = 1
    for s in sizes:
        total = total * s
    return total
