"""Pooling over the last two axes (``pool_2d``) or three (``pool_3d``):
max, sum, average (including or excluding padding), with Theano's
``ignore_border`` output-size rule. The ops pool over the last
``len(ws)`` axes; ``DynamicPool`` takes a 2-D window, stride and padding
that are only known at run time.

The numpy reference loops over the few window offsets (the product of
``ws``), each a vectorised slice of the whole batch.

``MaxPoolArgmax``/``MaxPoolArgmaxGrad``: max pooling that keeps each
window's argmax for its gradient (made by the numba modes' rewrite only).
"""
import itertools

import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .elemwise import cast

__all__ = ["Pool", "PoolGrad", "DownsampleFactorMaxGradGrad", "MaxPoolArgmax", "MaxPoolArgmaxGrad", "DynamicPool",
           "DynamicPoolGrad", "pool_2d", "pool_3d", "pool_output_length",
           "pool_output_length_expr", "argmax_dtype"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def pool_output_length(n, ws, stride, pad, ignore_border):
    """Theano's output size for one pooled axis (None when ``n`` is None).

    Without ``ignore_border`` the last, partial window is kept.  With
    padding (which Theano refuses there) Theano's rule applies to the
    padded length ``n + 2 * pad``, less a last window that would start
    inside the right padding: every window holds at least one input element
    (as PyTorch's ``ceil_mode``), so a max never sees only padding.
    """
    if n is None:
        return None
    if ignore_border:
        # a window larger than the (padded) input gives no output, not a negative size
        return max(0, (n + 2 * pad - ws) // stride + 1)
    v = n + 2 * pad
    if stride >= ws:
        out = (v - 1) // stride + 1
    else:
        out = max(0, (v - 1 - ws + stride) // stride) + 1
    # at most one window starts in the right padding (pad < ws)
    return out - 1 if out > 1 and (out - 1) * stride >= n + pad else out


def pool_output_length_expr(n, ws, stride, pad, ignore_border):
    """``pool_output_length`` of a symbolic length ``n`` (``ws``, ``stride``
    and ``pad`` ints or symbolic scalars), for ``infer_shape``."""
    from ... import tensor as T
    if ignore_border:
        return T.maximum(0, T.int_div(n + 2 * pad - ws, stride) + 1)
    v = n + 2 * pad
    partial = T.maximum(0, T.int_div(v - 1 - ws + stride, stride)) + 1
    if isinstance(stride, int) and isinstance(ws, int):
        out = T.int_div(v - 1, stride) + 1 if stride >= ws else partial
    else:
        out = T.switch(T.ge(stride, ws), T.int_div(v - 1, stride) + 1, partial)
    if isinstance(pad, int) and pad == 0:
        return out       # no window can start beyond the input
    return T.switch(T.and_(T.gt(out, 1), T.ge((out - 1) * stride, n + pad)), out - 1, out)


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws, ignore_border=True, stride=None, pad=None, mode="max"):
        self.ws = tuple(int(w) for w in ws)
        self.stride = tuple(int(s) for s in (stride or ws))
        self.pad = tuple(int(p) for p in (pad or (0,) * len(self.ws)))
        if not len(self.ws) == len(self.stride) == len(self.pad) or len(self.ws) not in (2, 3):
            raise ValueError(f"pool: ws {self.ws}, stride {self.stride} and pad {self.pad} "
                             f"need 2 entries each (pool_2d) or 3 (pool_3d)")
        for what, sizes in (("window ws", self.ws), ("stride", self.stride)):
            if any(n < 1 for n in sizes):     # else the pad check below speaks of pad
                raise ValueError(f"pool {what} must be positive, got {sizes}")
        if any(p < 0 for p in self.pad):
            raise ValueError(f"pool pad must not be negative, got {self.pad}")
        self.ignore_border = bool(ignore_border)
        if mode == "average":
            mode = "average_inc_pad"
        if mode not in MODES:
            raise ValueError(f"pool mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        if any(p >= w for p, w in zip(self.pad, self.ws)):
            raise ValueError(f"pool pad {self.pad} must be smaller than the window {self.ws}")

    def _geometry(self, hw):
        """Output size, extended canvas size and window limits per axis."""
        geo = []
        for n, w, s, p in zip(hw, self.ws, self.stride, self.pad):
            out = pool_output_length(n, w, s, p, self.ignore_border)
            canvas = max(n + 2 * p, (out - 1) * s + w)
            starts = np.arange(out) * s
            if self.mode == "average_exc_pad":
                lo, hi = p, p + n
            else:
                lo, hi = 0, n + 2 * p
            count = np.minimum(starts + w, hi) - np.maximum(starts, lo)
            geo.append((out, canvas, count))
        return geo

    def _inside(self, sizes):
        """The input's place in the padded canvas."""
        return (Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(self.pad, sizes))

    def _canvas(self, x, geo, fill):
        nd = len(self.ws)
        canvas = np.full(x.shape[:-nd] + tuple(c for _, c, _ in geo), fill, dtype=x.dtype)
        canvas[self._inside(x.shape[-nd:])] = x
        return canvas

    def _offsets(self, geo):
        for tap in itertools.product(*(range(w) for w in self.ws)):
            # o == 0 (a window larger than the input): an empty slice, whose
            # stop t - s + 1 would otherwise count from the end
            yield (Ellipsis,) + tuple(slice(t, t + s * (o - 1) + 1 if o else t, s)
                                      for t, s, (o, _, _) in zip(tap, self.stride, geo))

    def _counts(self, geo):
        """Each window's element count (for averages), shaped to broadcast
        over the pooled axes."""
        out = 1
        for k, (_, _, count) in enumerate(geo):
            shape = [1] * len(geo)
            shape[k] = -1
            out = out * count.reshape(shape)
        return out


class Pool(_PoolBase):
    """``pool_2d`` forward."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"pool_2d needs at least 2 dims, got {x} with {x.ndim}")
        nd = len(self.ws)
        if x.ndim < nd:
            raise TypeError(f"pool over {nd} axes needs at least {nd} dims, got {x} with "
                            f"{x.ndim}")
        hw = x.type.shape[-nd:]
        out = tuple(pool_output_length(n, w, s, p, self.ignore_border)
                    for n, w, s, p in zip(hw, self.ws, self.stride, self.pad))
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape[:-nd] + out)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        geo = self._geometry(x.shape[-len(self.ws):])
        if self.mode == "max":
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            canvas = self._canvas(x, geo, fill)
            out = None
            for sl in self._offsets(geo):
                out = canvas[sl].copy() if out is None else np.maximum(out, canvas[sl])
        else:
            canvas = self._canvas(x, geo, 0)
            out = None
            for sl in self._offsets(geo):
                out = canvas[sl].copy() if out is None else out + canvas[sl]
            if self.mode != "sum":
                out = out / self._counts(geo)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        nd = len(self.ws)
        out = list(shp[:-nd])
        st = node.outputs[0].type.shape
        for k, (n, w, s, p) in enumerate(zip(shp[-nd:], self.ws, self.stride, self.pad)):
            out.append(st[-nd + k] if st[-nd + k] is not None else
                       pool_output_length_expr(n, w, s, p, self.ignore_border))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        args = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        return [PoolGrad(*args)(x, outputs[0], output_grads[0])]


class PoolGrad(_PoolBase):
    """Gradient of ``Pool`` with respect to its input (max: the first
    position of each window, in row-major order, equal to the window's max
    receives the gradient, as cuDNN and PyTorch do; ties do not share it)."""

    def make_node(self, x, out, gz):
        x, out, gz = (as_tensor_variable(v) for v in (x, out, gz))
        return Apply(self, [x, out, gz], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, out, gz = inputs
        nd = len(self.ws)
        geo = self._geometry(x.shape[-nd:])
        grad = np.zeros(x.shape[:-nd] + tuple(c for _, c, _ in geo), dtype=gz.dtype)
        if self.mode == "max":
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            canvas = self._canvas(x, geo, fill)
            # the offsets run in row-major window order: a window's gradient
            # goes to the first offset that hits its max, later ties get none
            taken = np.zeros(out.shape, dtype=bool)
            for sl in self._offsets(geo):
                hit = (canvas[sl] == out) & ~taken
                # where, not gz * hit: a NaN or inf gradient reaches its
                # window's max only (inf * 0 would spread NaN over the window)
                grad[sl] += np.where(hit, gz, 0)
                taken |= hit
        else:
            g = gz if self.mode == "sum" else gz / self._counts(geo)
            for sl in self._offsets(geo):
                grad[sl] += g
        output_storage[0][0] = np.ascontiguousarray(
            grad[self._inside(x.shape[-nd:])]).astype(x.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, out, gz = inputs
        args = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        if self.mode == "max":
            # linear in gz: each window's gradient is read back where it was sent
            return [None, None, DownsampleFactorMaxGradGrad(*args)(x, out, output_grads[0])]
        # sum/average pooling is linear: its gradient's gradient is the pooling itself
        return [None, None, Pool(*args)(output_grads[0])]


class DownsampleFactorMaxGradGrad(_PoolBase):
    """Gradient of max pooling's ``PoolGrad`` with respect to its ``gz``
    (Theano's name): ``(x, out, ggx) -> `` each window's value of ``ggx`` at
    the position that takes the window's gradient (its first maximum), 0
    where there is none (a NaN maximum). The output has ``out``'s shape."""

    def make_node(self, x, out, ggx):
        x, out, ggx = (as_tensor_variable(v) for v in (x, out, ggx))
        if self.mode != "max":
            raise ValueError(f"DownsampleFactorMaxGradGrad: mode must be 'max', got "
                             f"{self.mode!r}")
        if ggx.ndim != x.ndim or out.ndim != x.ndim:
            raise TypeError(f"DownsampleFactorMaxGradGrad: x {x}, out {out} and ggx {ggx} "
                            f"must have the same number of dims ({x.ndim}, {out.ndim}, "
                            f"{ggx.ndim})")
        return Apply(self, [x, out, ggx], [TensorType(ggx.dtype, shape=out.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, out, ggx = inputs
        nd = len(self.ws)
        geo = self._geometry(x.shape[-nd:])
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        canvas, gcanvas = self._canvas(x, geo, fill), self._canvas(ggx, geo, 0)
        res = np.zeros(out.shape, dtype=node.outputs[0].dtype)
        # the same row-major first-maximum rule as PoolGrad's
        taken = np.zeros(out.shape, dtype=bool)
        for sl in self._offsets(geo):
            hit = (canvas[sl] == out) & ~taken
            res = np.where(hit, gcanvas[sl], res)
            taken |= hit
        output_storage[0][0] = res

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        x, out, ggx = inputs
        args = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        return [None, None, PoolGrad(*args)(x, out, output_grads[0])]


# -- max pooling that keeps its argmax -------------------------------------------
# Max pooling that keeps, per window, where its maximum was, so that the
# gradient need not scan the input again.
#
# ``MaxPoolArgmax`` is ``Pool(mode='max')`` with a second output: for each
# window, the row-major offset (over the ``prod(ws)`` taps of the full,
# padded window) of the FIRST position equal to the window's maximum, or
# ``prod(ws)`` where none is (a NaN maximum).  ``MaxPoolArgmaxGrad`` sends
# each window's gradient to that offset, which is exactly what
# ``PoolGrad(mode='max')`` does by comparing the input with the pooled
# output (Theano's rule: the first maximum takes the whole gradient; a
# position in the padding is dropped).
#
# Users never build these: the numba backend's rewrite
# (``tensor/rewriting/pool.py``) turns a ``Pool``/``PoolGrad`` pair of one
# graph into them, since reading a small offset array and the output's
# gradient costs less than reading the whole input and the output again.


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
            grad[sl] += np.where(idx == t, gz, 0)   # NaN/inf to the max only (PoolGrad)
        output_storage[0][0] = np.ascontiguousarray(
            grad[self._inside(x.shape[-nd:])]).astype(x.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        # PoolGrad's answer: no gradient reaches x or the offsets; gz's is
        # read back at each window's maximum
        x, idx, gz = inputs
        args = (self.ws, self.ignore_border, self.stride, self.pad, "max")
        return [None, None,
                DownsampleFactorMaxGradGrad(*args)(x, Pool(*args)(x), output_grads[0])]


# -- window, stride and padding known only at run time ---------------------------
# Theano's pool_2d accepts symbolic sizes (Lasagne's SpatialPyramidPoolingLayer
# computes its windows from the input's shape). DynamicPool/DynamicPoolGrad take
# them as integer-vector inputs and, at run time, apply the fixed-size
# Pool/PoolGrad above (which also validates them): one reference for both.

def is_symbolic_size(v):
    """True when a ws/stride/pad argument holds a symbolic variable."""
    if hasattr(v, "owner"):
        return True
    return isinstance(v, (list, tuple)) and any(hasattr(e, "owner") for e in v)


def _size_vector(v, what):
    """``v`` (a pair of ints/scalars, or an integer vector) as an int64
    vector variable of length 2."""
    v = as_tensor_variable(list(v) if isinstance(v, tuple) else v)
    if v.ndim != 1 or not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"pool_2d: {what} must be 2 integers or an integer vector, got {v} "
                        f"({v.ndim} dims, {v.dtype})")
    if v.type.shape[0] not in (None, 2):
        raise ValueError(f"pool_2d: {what} needs 2 entries (rows, cols), got "
                         f"{v.type.shape[0]}")
    return cast(v, "int64")


def _fixed(ignore_border, mode, ws, stride, pad):
    """The fixed-size op for the run-time sizes (its constructor checks them)."""
    if len(ws) != 2 or len(stride) != 2 or len(pad) != 2:
        raise ValueError(f"pool_2d: ws, stride and pad need 2 entries each, got {list(ws)}, "
                         f"{list(stride)} and {list(pad)}")
    return (tuple(int(w) for w in ws), ignore_border, tuple(int(s) for s in stride),
            tuple(int(p) for p in pad), mode)


class DynamicPool(Op):
    """``pool_2d(x, ws, stride, pad)`` with the three sizes as int vectors."""

    __props__ = ("ignore_border", "mode")

    def __init__(self, ignore_border=True, mode="max"):
        if mode == "average":
            mode = "average_inc_pad"
        if mode not in MODES:
            raise ValueError(f"pool mode must be one of {MODES}, got {mode!r}")
        self.ignore_border = bool(ignore_border)
        self.mode = mode

    def make_node(self, x, ws, stride, pad):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"pool_2d needs at least 2 dims, got {x} with {x.ndim}")
        sizes = [_size_vector(v, what) for v, what in
                 ((ws, "ws"), (stride, "stride"), (pad, "pad"))]
        out = TensorType(x.dtype, shape=x.type.shape[:-2] + (None, None))()
        return Apply(self, [x] + sizes, [out])

    def perform(self, node, inputs, output_storage):
        x, ws, stride, pad = inputs
        Pool(*_fixed(self.ignore_border, self.mode, ws, stride, pad)).perform(
            node, [x], output_storage)

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        _, ws, st, pd = node.inputs
        return [tuple(shp[:-2]) + tuple(
            pool_output_length_expr(n, ws[k], st[k], pd[k], self.ignore_border)
            for k, n in enumerate(shp[-2:]))]

    def L_op(self, inputs, outputs, output_grads):
        x, ws, stride, pad = inputs
        g = DynamicPoolGrad(self.ignore_border, self.mode)(
            x, outputs[0], output_grads[0], ws, stride, pad)
        return [g, None, None, None]


class DynamicPoolGrad(Op):
    """Gradient of ``DynamicPool`` with respect to its input."""

    __props__ = ("ignore_border", "mode")

    def __init__(self, ignore_border=True, mode="max"):
        self.ignore_border = bool(ignore_border)
        self.mode = mode

    def make_node(self, x, out, gz, ws, stride, pad):
        x, out, gz = (as_tensor_variable(v) for v in (x, out, gz))
        return Apply(self, [x, out, gz, ws, stride, pad], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, out, gz, ws, stride, pad = inputs
        PoolGrad(*_fixed(self.ignore_border, self.mode, ws, stride, pad)).perform(
            node, [x, out, gz], output_storage)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from ...graph.op import grad_undefined
        x, out, gz, ws, stride, pad = inputs
        if self.mode == "max":
            return [None, None, grad_undefined(self, 2, gz, "second derivative of max "
                                                "pooling is not implemented"),
                    None, None, None]
        # sum/average pooling is linear: its gradient's gradient is the pooling itself
        return [None, None, DynamicPool(self.ignore_border, self.mode)(
            output_grads[0], ws, stride, pad), None, None, None]


def _pool(nd, who, input, ws, ignore_border, stride, pad, mode, ds, st, padding):
    ws = ws if ws is not None else ds
    if ws is None:
        raise ValueError(f"{who} needs the window size ws")
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    if pad is None:
        pad = (0,) * nd
    if ignore_border is None:
        ignore_border = False
    if any(is_symbolic_size(v) for v in (ws, stride, pad)):
        if nd != 2:
            raise NotImplementedError(f"{who}: symbolic ws/stride/pad are supported by "
                                      f"pool_2d only")
        # sizes known only at run time (Theano allows symbolic ws/stride/pad)
        return DynamicPool(ignore_border, mode)(input, ws, ws if stride is None else stride,
                                                pad)
    if len(tuple(ws)) != nd:
        raise ValueError(f"{who} pools over {nd} axes: ws must have {nd} entries, got "
                         f"{tuple(ws)}")
    return Pool(ws, ignore_border, stride, pad, mode)(input)


def pool_3d_by_2d(input, ws, stride, pad, ignore_border, mode):
    """``pool_3d`` of a 5-d ``input`` as two 2-d poolings: rows and columns,
    then depth (every backend has 2-d pooling kernels).  Max, sum and both
    averages over a box factor into per-axis passes (the averages' window
    counts are products of per-axis counts).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.tensor5('x')
    >>> pool_3d_by_2d(x, (2, 2, 2), (2, 2, 2), (0, 0, 0), True, 'max').eval(
    ...     {x: np.arange(8, dtype='float32').reshape(1, 1, 2, 2, 2)})
    array([[[[[7.]]]]], dtype=float32)
    """
    (wd, wh, ww), (sd, sh, sw), (pd, ph, pw) = ws, stride, pad
    hw = pool_2d(input, ws=(wh, ww), stride=(sh, sw), pad=(ph, pw),
                 ignore_border=ignore_border, mode=mode)
    d = pool_2d(hw.dimshuffle(0, 1, 3, 4, 2), ws=(1, wd), stride=(1, sd), pad=(0, pd),
                ignore_border=ignore_border, mode=mode)
    return d.dimshuffle(0, 1, 4, 2, 3)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max",
            ds=None, st=None, padding=None):
    """Theano's ``T.signal.pool.pool_2d`` over the last two axes.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> pool_2d(x, (2, 2), ignore_border=True).eval(
    ...     {x: np.arange(16, dtype='float32').reshape(4, 4)})
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _pool(2, "pool_2d", input, ws, ignore_border, stride, pad, mode, ds, st, padding)


def pool_3d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0, 0), mode="max",
            ds=None, st=None, padding=None):
    """Theano's ``T.signal.pool.pool_3d`` over the last three axes.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.tensor3('x')
    >>> pool_3d(x, (2, 2, 2), ignore_border=True).eval(
    ...     {x: np.arange(8, dtype='float32').reshape(2, 2, 2)})
    array([[[7.]]], dtype=float32)
    """
    return _pool(3, "pool_3d", input, ws, ignore_border, stride, pad, mode, ds, st, padding)
