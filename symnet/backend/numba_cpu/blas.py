"""Numba templates for products: ``Dot`` and ``BatchedDot`` through
``np.dot`` (BLAS) on contiguous float operands; integer products fall back."""
from ..registry import register_kernel
from ...tensor.ops.blas import BatchedDot, Dot

__all__ = []

_BLAS = ("float32", "float64", "complex64", "complex128")


def _operand(name, var, dtype):
    expr = name if var.type.dtype == dtype else f"{name}.astype(np.{dtype})"
    return f"np.ascontiguousarray({expr})"


@register_kernel("numba", Dot)
def dot_kernel(node, ins, outs, ctx):
    (ov,) = node.outputs
    dt = ov.type.dtype
    if dt not in _BLAS:
        raise NotImplementedError("integer dot")
    (x, y), (xv, yv) = ins, node.inputs
    lines = [f"if {x}.shape[{xv.type.ndim - 1}] != {y}.shape[0]:",
             "    raise ValueError('dot: shapes not aligned')"]
    a, b = _operand(x, xv, dt), _operand(y, yv, dt)
    if xv.type.ndim == 1 and yv.type.ndim == 1:
        # numba's dot of two vectors is a scalar; the graph wants a 0-d value
        return lines + [f"{outs[0]} = np.{dt}(np.dot({a}, {b}))"]
    return lines + [f"{outs[0]} = np.dot({a}, {b})"]


@register_kernel("numba", BatchedDot)
def batched_dot_kernel(node, ins, outs, ctx):
    (ov,) = node.outputs
    dt = ov.type.dtype
    if dt not in _BLAS:
        raise NotImplementedError("integer batched_dot")
    (x, y), (xv, yv) = ins, node.inputs
    a, b = ctx.tmp("x"), ctx.tmp("y")
    i = ctx.tmp("b")
    dims = [f"{a}.shape[0]"] + [f"{a}.shape[{k}]" for k in range(1, xv.type.ndim - 1)] + \
        [f"{b}.shape[{k}]" for k in range(2, yv.type.ndim)]
    return [
        f"if {x}.shape[0] != {y}.shape[0]:",
        "    raise ValueError('batched_dot: batch sizes differ')",
        f"if {x}.shape[{xv.type.ndim - 1}] != {y}.shape[1]:",
        "    raise ValueError('batched_dot: shapes not aligned')",
        f"{a} = {_operand(x, xv, dt)}",
        f"{b} = {_operand(y, yv, dt)}",
        f"{outs[0]} = np.empty(({', '.join(dims)},), np.{dt})",
        f"for {i} in range({a}.shape[0]):",
        f"    {outs[0]}[{i}] = np.dot({a}[{i}], {b}[{i}])",
    ]
