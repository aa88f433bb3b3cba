"""Max pooling that keeps, per window, where its maximum was, so that the
gradient need not scan the input again.

``MaxPoolArgmax`` is ``Pool(mode='max')`` with a second output: for each
window, the row-major offset (over the ``prod(ws)`` taps of the full,
padded window) of the FIRST position equal to the window's maximum, or
``prod(ws)`` where none is (a NaN maximum).  ``MaxPoolArgmaxGrad`` sends
each window's gradient to that offset, which is exactly what
``PoolGrad(mode='max')`` does by comparing the input with the pooled
output (Theano's rule: the first maximum takes the whole gradient; a
position in the padding is dropped).

Users never build these: the numba backend's rewrite
(``tensor/rewriting/pool.py``) turns a ``Pool``/``PoolGrad`` pair of one
graph into them, since reading a small offset array and the output's
gradient costs less than reading the whole input and the output again.
"""
import numpy as np

from ...graph.basic import Apply
from ..basic import as_tensor_variable
from ..type import TensorType
from .pool import Pool, PoolGrad, _PoolBase

__all__ = ["MaxPoolArgmax", "MaxPoolArgmaxGrad", "argmax_dtype"]


def argmax_dtype(ws):
    """The offsets' dtype: uint8 while every offset and the 'none' mark
    (``prod(ws)``) fit, else int32."""
    return "uint8" if int(np.prod(ws)) <= 255 else "int32"


class _ArgmaxBase(_PoolBase):
    """Max pooling's geometry (``ws``, ``ignore_border``, ``stride``, ``pad``)."""

    __props__ = ("ws", "ignore_border", "stride", "pad")

    def __init__(self, ws, ignore_border=True, stride=None, pad=None):
        super().__init__(ws, ignore_border, stride, pad, "max")

    def _taps(self, geo):
        """(tap index, canvas slice) for every window offset, row-major:
        the order the offsets count in."""
        return enumerate(self._offsets(geo))

    def pair(self):
        """The ``Pool`` op of the same geometry."""
        return Pool(self.ws, self.ignore_border, self.stride, self.pad, "max")


class MaxPoolArgmax(_ArgmaxBase):
    """``Pool(mode='max')`` plus, per window, the offset of its first maximum."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        out = self.pair().make_node(x).outputs[0]
        idx = TensorType(argmax_dtype(self.ws), shape=out.type.shape)()
        return Apply(self, [x], [out.type(), idx])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        geo = self._geometry(x.shape[-len(self.ws):])
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        canvas = self._canvas(x, geo, fill)
        out = None
        for _, sl in self._taps(geo):
            out = canvas[sl].copy() if out is None else np.maximum(out, canvas[sl])
        none = int(np.prod(self.ws))
        idx = np.full(out.shape, none, dtype=node.outputs[1].dtype)
        # backwards over the taps: the last write, the first tap, wins
        for t, sl in reversed(list(self._taps(geo))):
            idx[canvas[sl] == out] = t
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)
        output_storage[1][0] = idx

    def infer_shape(self, node, input_shapes):
        shp = self.pair().infer_shape(node, input_shapes)[0]
        return [shp, shp]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [MaxPoolArgmaxGrad(self.ws, self.ignore_border, self.stride, self.pad)(
            x, outputs[1], output_grads[0])]


class MaxPoolArgmaxGrad(_ArgmaxBase):
    """The gradient of ``MaxPoolArgmax`` wrt its input ``x`` (only ``x``'s
    shape is read), given the offsets and the pooled output's gradient."""

    def make_node(self, x, idx, gz):
        x, idx, gz = (as_tensor_variable(v) for v in (x, idx, gz))
        if idx.dtype != argmax_dtype(self.ws):
            raise TypeError(f"max pool gradient: offsets {idx} are {idx.dtype}, expected "
                            f"{argmax_dtype(self.ws)} for a window of {self.ws}")
        return Apply(self, [x, idx, gz], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, idx, gz = inputs
        nd = len(self.ws)
        geo = self._geometry(x.shape[-nd:])
        if idx.shape != gz.shape or idx.shape[-nd:] != tuple(o for o, _, _ in geo):
            raise ValueError(f"max pool gradient: offsets of shape {idx.shape} and output "
                             f"gradient {gz.shape} do not match an input of shape {x.shape}")
        grad = np.zeros(x.shape[:-nd] + tuple(c for _, c, _ in geo), dtype=gz.dtype)
        for t, sl in self._taps(geo):
            grad[sl] += gz * (idx == t)
        output_storage[0][0] = np.ascontiguousarray(
            grad[self._inside(x.shape[-nd:])]).astype(x.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        # PoolGrad's answer: no gradient reaches x or the offsets, and the
        # second derivative of max pooling is undefined
        x, idx, gz = inputs
        grads = PoolGrad(self.ws, self.ignore_border, self.stride, self.pad, "max").L_op(
            [x, None, gz], outputs, output_grads)
        return [None, None, grads[2]]
