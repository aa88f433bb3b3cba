"""Fused convolution epilogue and prologue ops, made by the ``conv_epilogue``
rewrite (``tensor/rewriting/conv_fuse.py``), never built by users:

- ``Conv2dBiasAct``: ``act(conv2d(x, w) + b.dimshuffle('x', 0, 'x', 'x'))``,
  so a backend applies the bias and the activation to each block of the
  convolution's output while the GEMM's result is still in cache.  With
  ``keep_sign`` it also returns the sign of ``a = conv2d(x, w) + b``
  (int8: 1, 0, -1, and ``NAN_SIGN`` for NaN), which is all the
  activation's gradient reads: a quarter of the bytes of ``a``;
- ``BiasActGrad``: from the output gradient ``g`` and that sign, the
  gradient wrt the convolution's output (the input of the two convolution
  gradients) and the bias gradient (its sum over the batch and spatial
  axes), in one pass over ``g``.

``act`` names the formula of the graph the rewrite replaced, computed here
the same way so the fused ops give the values of the unfused graph:

- ``"linear"``: ``a`` (gradient ``g``);
- ``"relu"``: ``T.nnet.relu`` (Lasagne's ``rectify``): ``0.5 * (a + |a|)``,
  gradient ``h + h * sgn(a)`` with ``h = g * 0.5`` (0.5 g at ``a == 0``);
- ``"max"``: ``T.maximum(a, 0)``, gradient ``g * (maximum(a, 0) == a)``,
  that is ``g`` where ``a >= 0`` and 0 where ``a < 0`` or NaN.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType, upcast
from .conv import Conv2d, _ConvBase

__all__ = ["ACTS", "NAN_SIGN", "Conv2dBiasAct", "BiasActGrad", "bias_act", "sign_of",
           "bias_act_grad"]

#: the activations the fused ops compute (see the module docstring)
ACTS = ("linear", "relu", "max")

#: the sign ``Conv2dBiasAct`` keeps for a NaN ``a``
NAN_SIGN = 2


def _check_act(act):
    if act not in ACTS:
        raise ValueError(f"act must be one of {ACTS}, got {act!r}")
    return act


def _biased(c, b):
    return c + b.reshape((1, -1) + (1,) * (c.ndim - 2)).astype(c.dtype, copy=False)


def bias_act(c, b, act):
    """``act(c + b)`` with ``b`` per channel (axis 1 of ``c``), in ``c``'s
    dtype, computed as the unfused graph computes it."""
    a = _biased(c, b)
    if act == "relu":
        return np.multiply(0.5, np.add(a, np.abs(a)), dtype=c.dtype)
    if act == "max":
        return np.maximum(a, np.zeros((), c.dtype))
    return a


def sign_of(c, b):
    """The int8 sign of ``c + b``: 1, 0, -1, ``NAN_SIGN`` for NaN."""
    a = _biased(c, b)
    s = np.sign(np.nan_to_num(a, nan=0.0)).astype(np.int8)
    s[np.isnan(a)] = NAN_SIGN
    return s


def bias_act_grad(g, s, act):
    """``(gc, gb)``: the gradient wrt the convolution output and wrt the
    bias, from the gradient ``g`` of ``act(a)`` and the sign ``s`` of ``a``."""
    if act == "relu":
        h = np.multiply(g, 0.5, dtype=g.dtype)
        sgn = np.where(s == NAN_SIGN, np.nan, s).astype(g.dtype)
        gc = h + h * sgn
    elif act == "max":
        gc = g * ((s == 0) | (s == 1)).astype(g.dtype)
    else:
        gc = g.copy()
    axes = (0,) + tuple(range(2, g.ndim))
    return gc, gc.sum(axis=axes, dtype=gc.dtype)


class Conv2dBiasAct(_ConvBase):
    """``act(conv2d(x, w) + b[channel])``; outputs ``[r]`` or, with
    ``keep_sign``, ``[r, sign_of(conv2d(x, w), b)]``."""

    __props__ = _ConvBase.__props__ + ("act", "keep_sign")

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1, act="linear", keep_sign=False):
        super().__init__(border_mode, subsample, filter_flip, filter_dilation, num_groups)
        self.act = _check_act(act)
        self.keep_sign = bool(keep_sign)

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
        outs = [r, TensorType("int8", shape=c.type.shape)()] if self.keep_sign else [r]
        return Apply(self, list(conv.inputs) + [b], outs)

    def perform(self, node, inputs, output_storage):
        x, w, b = inputs
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"conv2d bias+activation: bias of shape {b.shape} for "
                             f"{w.shape[0]} filters")
        c = self.conv_op().forward(x, w).astype(node.outputs[0].dtype, copy=False)
        output_storage[0][0] = bias_act(c, b, self.act)
        if self.keep_sign:
            output_storage[1][0] = sign_of(c, b)

    def infer_shape(self, node, input_shapes):
        shape = self.conv_op().infer_shape(node, input_shapes[:2])[0]
        return [shape] * len(node.outputs)


class BiasActGrad(Op):
    """``[gc, gb]`` from ``(g, s)`` (``s`` the sign ``Conv2dBiasAct``
    keeps): see ``bias_act_grad``.  With ``inplace`` (set by the in-place
    pass) ``gc`` may overwrite ``g``."""

    __props__ = ("act", "inplace")

    def __init__(self, act="linear", inplace=False):
        self.act = _check_act(act)
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def make_node(self, g, s):
        g, s = as_tensor_variable(g), as_tensor_variable(s)
        if g.ndim != s.ndim or g.ndim < 2 or s.dtype != "int8":
            raise TypeError(f"bias+activation gradient: needs g and an int8 sign of the "
                            f"same rank (>= 2), got {g.ndim}-D {g} and {s.ndim}-D {s.dtype} "
                            f"{s}")
        return Apply(self, [g, s], [g.type(), TensorType(g.dtype, shape=(g.type.shape[1],))()])

    def perform(self, node, inputs, output_storage):
        g, s = inputs
        if g.shape != s.shape:
            raise ValueError(f"bias+activation gradient: g of shape {g.shape} and the sign "
                             f"of shape {s.shape} differ")
        gc, gb = bias_act_grad(g, s, self.act)
        output_storage[0][0] = gc
        output_storage[1][0] = gb

    def infer_shape(self, node, input_shapes):
        gs = input_shapes[0]
        return [gs, (gs[1],)]
