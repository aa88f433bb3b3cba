"""Fused convolution epilogue and prologue ops, made by the ``conv_epilogue``
rewrite (``tensor/rewriting/conv_fuse.py``), never built by users:

- ``Conv2dBiasAct``: ``act(conv2d(x, w) + b.dimshuffle('x', 0, 'x', 'x'))``,
  so a backend applies the bias and the activation to each block of the
  convolution's output while the GEMM's result is still in cache.  With
  ``keep_conv`` it also returns the convolution's output itself (the
  gradient of the activation reads it);
- ``BiasActGrad``: from the output gradient ``g``, the convolution output
  ``c`` and the bias ``b``: the gradient wrt the convolution's output (the
  input of the two convolution gradients) and the bias gradient (its sum
  over the batch and spatial axes), in one pass over ``g``.

``act`` names the formula of the graph the rewrite replaced, computed here
the same way so the fused ops give the values of the unfused graph:

- ``"linear"``: ``a = c + b`` (gradient ``g``);
- ``"relu"``: ``T.nnet.relu`` (Lasagne's ``rectify``): ``0.5 * (a + |a|)``,
  gradient ``h + h * sgn(a)`` with ``h = g * 0.5`` (0.5 g at ``a == 0``);
- ``"max"``: ``T.maximum(a, 0)``, gradient ``g * (maximum(a, 0) == a)``.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType, upcast
from .conv import Conv2d, _ConvBase

__all__ = ["ACTS", "Conv2dBiasAct", "BiasActGrad", "bias_act", "bias_act_grad"]

#: the activations the fused ops compute (see the module docstring)
ACTS = ("linear", "relu", "max")


def _check_act(act):
    if act not in ACTS:
        raise ValueError(f"act must be one of {ACTS}, got {act!r}")
    return act


def bias_act(c, b, act):
    """``act(c + b)`` with ``b`` per channel (axis 1 of ``c``), in ``c``'s
    dtype, computed as the unfused graph computes it."""
    a = c + b.reshape((1, -1) + (1,) * (c.ndim - 2)).astype(c.dtype, copy=False)
    if act == "relu":
        return np.multiply(0.5, np.add(a, np.abs(a)), dtype=c.dtype)
    if act == "max":
        return np.maximum(a, np.zeros((), c.dtype))
    return a


def bias_act_grad(g, c, b, act):
    """``(gc, gb)``: the gradient wrt the convolution output ``c`` and wrt
    the bias ``b``, from the gradient ``g`` of ``act(c + b)``."""
    a = c + b.reshape((1, -1) + (1,) * (c.ndim - 2)).astype(c.dtype, copy=False)
    if act == "relu":
        h = np.multiply(g, 0.5, dtype=g.dtype)
        gc = h + h * np.sign(a)
    elif act == "max":
        gc = g * (np.maximum(a, np.zeros((), a.dtype)) == a).astype(g.dtype)
    else:
        gc = g.copy()
    axes = (0,) + tuple(range(2, g.ndim))
    return gc, gc.sum(axis=axes, dtype=gc.dtype)


class Conv2dBiasAct(_ConvBase):
    """``act(conv2d(x, w) + b[channel])``; outputs ``[r]`` or, with
    ``keep_conv``, ``[r, conv2d(x, w)]``."""

    __props__ = _ConvBase.__props__ + ("act", "keep_conv")

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1, act="linear", keep_conv=False):
        super().__init__(border_mode, subsample, filter_flip, filter_dilation, num_groups)
        self.act = _check_act(act)
        self.keep_conv = bool(keep_conv)

    def conv_op(self):
        """The plain ``Conv2d`` of the same parameters."""
        return Conv2d(*self._args())

    def make_node(self, x, w, b):
        b = as_tensor_variable(b)
        conv = self.conv_op().make_node(x, w)
        c = conv.outputs[0]
        if b.ndim != 1:
            raise TypeError(f"conv2d bias+activation: the bias {b} must be a vector "
                            f"(one per filter), got {b.ndim}-D")
        k = c.type.shape[1]
        if b.type.shape[0] is not None and k is not None and b.type.shape[0] != k:
            raise ValueError(f"conv2d bias+activation: bias {b} has {b.type.shape[0]} "
                             f"entries for {k} filters")
        r = TensorType(upcast(c.dtype, b.dtype), shape=c.type.shape)()
        outs = [r, c.type()] if self.keep_conv else [r]
        return Apply(self, list(conv.inputs) + [b], outs)

    def perform(self, node, inputs, output_storage):
        x, w, b = inputs
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"conv2d bias+activation: bias of shape {b.shape} for "
                             f"{w.shape[0]} filters")
        c = self.conv_op().forward(x, w).astype(node.outputs[0].dtype, copy=False)
        output_storage[0][0] = bias_act(c, b, self.act)
        if self.keep_conv:
            output_storage[1][0] = c

    def infer_shape(self, node, input_shapes):
        shape = self.conv_op().infer_shape(node, input_shapes[:2])[0]
        return [shape] * len(node.outputs)


class BiasActGrad(Op):
    """``[gc, gb]`` from ``(g, c, b)``: see ``bias_act_grad``.  With
    ``inplace`` (set by the in-place pass) ``gc`` may overwrite ``g``."""

    __props__ = ("act", "inplace")

    def __init__(self, act="linear", inplace=False):
        self.act = _check_act(act)
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def make_node(self, g, c, b):
        g, c, b = (as_tensor_variable(v) for v in (g, c, b))
        if g.ndim != c.ndim or g.ndim < 2 or b.ndim != 1:
            raise TypeError(f"bias+activation gradient: needs g and c of the same rank "
                            f"(>= 2) and a vector bias, got {g.ndim}-D {g}, {c.ndim}-D {c}, "
                            f"{b.ndim}-D {b}")
        dt = upcast(g.dtype, c.dtype)
        return Apply(self, [g, c, b], [TensorType(dt, shape=g.type.shape)(),
                                       TensorType(dt, shape=(g.type.shape[1],))()])

    def perform(self, node, inputs, output_storage):
        g, c, b = inputs
        if g.shape != c.shape or b.shape != (c.shape[1],):
            raise ValueError(f"bias+activation gradient: g of shape {g.shape}, conv output "
                             f"{c.shape} and bias {b.shape} do not match")
        gc, gb = bias_act_grad(g, c, b, self.act)
        output_storage[0][0] = gc.astype(node.outputs[0].dtype, copy=False)
        output_storage[1][0] = gb.astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        gs = input_shapes[0]
        return [gs, (gs[1],)]
