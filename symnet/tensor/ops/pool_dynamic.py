"""2-D pooling whose window, stride and padding are symbolic: integer
vectors known only when the function runs (Theano's ``pool_2d`` accepts
them; Lasagne's SpatialPyramidPoolingLayer computes the window from the
input's shape).

``DynamicPool`` and ``DynamicPoolGrad`` take those sizes as inputs and, at
run time, apply the fixed-size ``Pool``/``PoolGrad`` of ``ops/pool.py``
(which also validates them), so both pooling paths share one reference.
"""
from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .pool import MODES, Pool, PoolGrad

__all__ = ["DynamicPool", "DynamicPoolGrad", "is_symbolic_size"]


def is_symbolic_size(v):
    """True when a ws/stride/pad argument holds a symbolic variable."""
    if hasattr(v, "owner"):
        return True
    return isinstance(v, (list, tuple)) and any(hasattr(e, "owner") for e in v)


def _size_vector(v, what):
    """``v`` (a pair of ints/scalars, or an integer vector) as an int64
    vector variable of length 2."""
    from .elemwise import cast
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
        from ... import tensor as T
        shp = input_shapes[0]
        _, ws, st, pd = node.inputs
        out = list(shp[:-2])
        for k, n in enumerate(shp[-2:]):
            w, s, p = ws[k], st[k], pd[k]
            if self.ignore_border:
                out.append(T.int_div(n + 2 * p - w, s) + 1)
            else:
                out.append(T.switch(T.ge(s, w), T.int_div(n - 1, s) + 1,
                                    T.maximum(0, T.int_div(n - 1 - w + s, s)) + 1))
        return [tuple(out)]

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
        from ...gradient import grad_undefined
        x, out, gz, ws, stride, pad = inputs
        if self.mode == "max":
            return [None, None, grad_undefined(self, 2, gz, "second derivative of max "
                                                "pooling is not implemented"),
                    None, None, None]
        # sum/average pooling is linear: its gradient's gradient is the pooling itself
        return [None, None, DynamicPool(self.ignore_border, self.mode)(
            output_grads[0], ws, stride, pad), None, None, None]
