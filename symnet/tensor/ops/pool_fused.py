"""Max pooling's gradient and the convolution epilogue's gradient in one op.

A CNN layer ``pool(act(conv2d(x, w) + b))`` on the numba backend becomes
``MaxPoolArgmax(Conv2dBiasAct(x, w, b))`` (the ``conv_epilogue`` and
``local_pool_argmax`` rewrites), and its gradient
``BiasActGrad(MaxPoolArgmaxGrad(c, idx, gz), sign)``: the pooling
gradient writes a full-size array that is mostly zeros, and the bias and
activation gradient reads it back and writes it again.
``MaxPoolBiasActGrad`` is the pair in one op (made by the
``local_pool_bias_act_grad`` rewrite, ``tensor/rewriting/pool_fuse.py``,
never built by users): from the input's shape, the offsets, the pooled
output's gradient and the sign, it gives ``[gc, gb]`` as ``BiasActGrad``
does, so a kernel writes ``gc`` once, in one pass that also sums ``gb``.

The values are those of the two ops in sequence (``perform`` runs their
references one after the other): every position's gradient is the
activation's gradient of the pooling gradient there (0 where the window's
maximum was elsewhere, or no window covers it), so a NaN sign gives NaN
even where no gradient arrives, as the unfused graph does.

Two more pairs of the same layer, made by the same module's rewrites for
the numba backend: ``PoolConvGradWeights`` (this op and the filter
gradient that alone reads its ``gc``) and ``Conv2dBiasActPool`` (the
forward convolution and its max pooling).
"""
from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import _as_shape_var, as_tensor_variable
from ..type import TensorType
from .conv import Conv2dGradWeights
from .conv_fused import Conv2dBiasAct, _check_act, bias_act_grad
from .pool import MaxPoolArgmax, MaxPoolArgmaxGrad, _ArgmaxBase, argmax_dtype

__all__ = ["MaxPoolBiasActGrad", "PoolConvGradWeights", "Conv2dBiasActPool"]


class MaxPoolBiasActGrad(_ArgmaxBase):
    """``[gc, gb]`` = ``BiasActGrad(act)(MaxPoolArgmaxGrad(geometry)(x, idx,
    gz), s)``; ``x`` (N, K, H, W): only its shape is read."""

    __props__ = _ArgmaxBase.__props__ + ("act",)

    def __init__(self, ws, ignore_border=True, stride=None, pad=None, act="linear"):
        super().__init__(ws, ignore_border, stride, pad)
        self.act = _check_act(act)

    def pool_grad(self):
        """The ``MaxPoolArgmaxGrad`` of the same geometry."""
        return MaxPoolArgmaxGrad(self.ws, self.ignore_border, self.stride, self.pad)

    def make_node(self, x, idx, gz, s):
        x, idx, gz, s = (as_tensor_variable(v) for v in (x, idx, gz, s))
        if x.ndim != 4 or len(self.ws) != 2:
            raise TypeError(f"max pool + bias/activation gradient: needs a 4-D input "
                            f"(batch, channels, rows, columns) pooled over 2 axes, got "
                            f"{x.ndim}-D {x} and a window of {self.ws}")
        if idx.dtype != argmax_dtype(self.ws) or s.dtype != "int8" or s.ndim != 4:
            raise TypeError(f"max pool + bias/activation gradient: offsets {idx} "
                            f"({idx.dtype}, expected {argmax_dtype(self.ws)}) and an int8 "
                            f"4-D sign {s} ({s.ndim}-D {s.dtype})")
        # the types of the replaced pair's outputs: MaxPoolArgmaxGrad's is x's
        return Apply(self, [x, idx, gz, s], [x.type(), TensorType(
            x.dtype, shape=(x.type.shape[1],))()])

    def perform(self, node, inputs, output_storage):
        x, idx, gz, s = inputs
        if s.shape != x.shape:
            raise ValueError(f"max pool + bias/activation gradient: the sign of shape "
                             f"{s.shape} differs from the input's {x.shape}")
        pg = self.pool_grad()
        store = [[None]]
        pg.perform(pg.make_node(x, idx, gz), [x, idx, gz], store)
        gc, gb = bias_act_grad(store[0][0], s, self.act)
        output_storage[0][0] = gc
        output_storage[1][0] = gb

    def infer_shape(self, node, input_shapes):
        xs = input_shapes[0]
        return [xs, (xs[1],)]


class PoolConvGradWeights(Op):
    """``[gw, gb]``: ``Conv2dGradWeights(conv)(x, gc, shape)`` with ``[gc,
    gb] = MaxPoolBiasActGrad(pool)(c, idx, gz, s)``, where nothing else
    reads ``gc``: a CNN layer's filter gradient straight from the pooled
    output's gradient, so a kernel can make ``gc`` one image at a time
    while that image's columns are in cache, and never write it whole
    (the ``local_pool_conv_grad_weights`` rewrite,
    ``tensor/rewriting/pool_fuse.py``, makes it; never built by users).
    ``c`` (the convolution's output) gives only its shape; ``perform`` runs
    the two ops' references one after the other."""

    __props__ = ("pool", "conv")

    def __init__(self, pool, conv):
        if not isinstance(pool, MaxPoolBiasActGrad) or not isinstance(conv, Conv2dGradWeights):
            raise TypeError(f"PoolConvGradWeights: needs a MaxPoolBiasActGrad and a "
                            f"Conv2dGradWeights, got {pool} and {conv}")
        self.pool, self.conv = pool, conv

    def make_node(self, x, c, idx, gz, s, shape):
        x = as_tensor_variable(x)
        gc, gb = self.pool(c, idx, gz, s)
        gw = self.conv(x, gc, _as_shape_var(shape))
        c, idx, gz, s = gc.owner.inputs
        return Apply(self, [x, c, idx, gz, s, gw.owner.inputs[2]], [gw.type(), gb.type()])

    def perform(self, node, inputs, output_storage):
        x, c, idx, gz, s, shape = inputs
        pool_out = [[None], [None]]
        self.pool.perform(None, [c, idx, gz, s], pool_out)
        gc = pool_out[0][0]
        conv_out = [[None]]
        self.conv.perform(self.conv.make_node(x, gc, shape), [x, gc, shape], conv_out)
        output_storage[0][0] = conv_out[0][0].astype(node.outputs[0].dtype, copy=False)
        output_storage[1][0] = pool_out[1][0].astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[5]
        return [tuple(shape[i] for i in range(4)), (input_shapes[1][1],)]


class Conv2dBiasActPool(Op):
    """``[r, (s,) out, idx]``: ``Conv2dBiasAct(conv)(x, w, b)`` (``r``, and
    ``s`` with ``keep_sign``) and ``MaxPoolArgmax(pool)(r)`` (``out``,
    ``idx``), for max pooling windows that tile ``r``: a CNN layer's
    forward in one op, so a kernel can pool each image while its
    convolution output is in cache (the ``local_conv_bias_act_pool``
    rewrite, ``tensor/rewriting/pool_fuse.py``, makes it; never built by
    users).  ``perform`` runs the two ops' references one after the other.

    With ``shape_only`` (set by the ``local_conv_pool_shape_only`` rewrite
    where only the pooling gradients read ``r``, and those only its shape)
    ``r``'s values are undefined: a kernel may give an array of its shape
    and type that it never wrote, and keep each image's convolution output
    in a buffer of its own (W4's 4.7 MB never written to memory)."""

    __props__ = ("conv", "pool", "shape_only")

    def __init__(self, conv, pool, shape_only=False):
        if not isinstance(conv, Conv2dBiasAct) or not isinstance(pool, MaxPoolArgmax):
            raise TypeError(f"Conv2dBiasActPool: needs a Conv2dBiasAct and a MaxPoolArgmax, "
                            f"got {conv} and {pool}")
        self.conv, self.pool, self.shape_only = conv, pool, bool(shape_only)

    def make_node(self, x, w, b):
        r = self.conv.make_node(x, w, b)
        pooled = self.pool.make_node(r.outputs[0])
        return Apply(self, list(r.inputs), [v.type() for v in r.outputs + pooled.outputs])

    def perform(self, node, inputs, output_storage):
        n = len(node.outputs) - 2
        conv_out = [[None] for _ in range(n)]
        self.conv.perform(node, inputs, conv_out)
        r = conv_out[0][0]
        pool_out = [[None], [None]]
        self.pool.perform(self.pool.make_node(r), [r], pool_out)
        for store, got in zip(output_storage, conv_out + pool_out):
            store[0] = got[0]

    def infer_shape(self, node, input_shapes):
        shape = self.conv.conv_op().infer_shape(node, input_shapes[:2])[0]
        pooled = self.pool.pair().infer_shape(
            self.pool.make_node(node.outputs[0]), [shape])[0]
        return [shape] * (len(node.outputs) - 2) + [pooled, pooled]
