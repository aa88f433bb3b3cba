"""Products in the numba backend's driver: ``Dot`` and ``BatchedDot`` are
numpy lines (``np.dot``/``np.matmul`` call BLAS; a numba kernel would call
the same BLAS and only add compile time)."""
from .dispatch import driver_op
from ...tensor.ops.blas import BatchedDot, Dot

__all__ = []


def _cast(expr, node):
    """``expr`` converted to the output dtype when numpy's result may differ."""
    dt = node.outputs[0].type.dtype
    if all(v.type.dtype == dt for v in node.inputs):
        return expr
    if node.outputs[0].type.ndim == 0:
        return f"_np.{dt}({expr})"
    return f"({expr}).astype(_np.{dt}, copy=False)"


@driver_op(Dot)
def dot_driver(node, ins, outs):
    x, y = ins
    return [f"{outs[0]} = {_cast(f'_np.dot({x}, {y})', node)}"], \
        node.outputs[0].type.ndim > 0


@driver_op(BatchedDot)
def batched_dot_driver(node, ins, outs):
    (x, y), (xv, yv) = ins, node.inputs
    lines = [f"if {x}.shape[0] != {y}.shape[0]:",
             "    raise ValueError('batched_dot: batch sizes differ')"]
    a = x if xv.type.ndim == 3 else f"{x}[:, None, :]"
    b = y if yv.type.ndim == 3 else f"{y}[:, :, None]"
    expr = f"_np.matmul({a}, {b})"
    if xv.type.ndim == 2:
        expr += "[:, 0]"
    if yv.type.ndim == 2:
        expr += "[..., 0]"
    return lines + [f"{outs[0]} = {_cast(expr, node)}"], False
