"""The debug ops (``symnet/tensor/ops/debug.py``) in the numba backend's
driver: each is its input (a view) after a print or a shape check."""
from .dispatch import driver_op, method_driver
from ...tensor.ops.debug import CheckShape, Print, SpecifyShape, print_attrs

__all__ = []


@driver_op(Print)
def print_driver(node, ins, outs):
    op = node.op
    if op.global_fn is not print_attrs:
        raise NotImplementedError   # a user's hook: the op's perform calls it
    (x,) = ins
    lines = []
    for attr in op.attrs:
        v = f"_{outs[0]}_v"
        lines += [f"{v} = getattr({x}, {attr!r})",
                  f"print({op.message!r}, {attr!r}, '=', {v}() if callable({v}) else {v})"]
    return lines + [f"{outs[0]} = {x}"], "input"


@driver_op(SpecifyShape, njit=True)
def specify_shape_driver(node, ins, outs):
    (x,) = ins
    want = node.op.shape
    cond = " or ".join(f"{x}.shape[{ax}] != {w}" for ax, w in enumerate(want) if w is not None)
    lines = []
    if cond:
        msg = f"specify_shape: {node.inputs[0]} was declared of shape {want}"
        lines = [f"if {cond}:", f"    raise {node.op.error.__name__}({msg!r})"]
    return lines + [f"{outs[0]} = {x}"], "input"


# a Python rule (images2neibs's sizes): the line calls the op's own check
method_driver(CheckShape, "checked", contiguous="input")
