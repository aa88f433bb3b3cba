"""Numba templates for neural-network ops: ``Softmax`` and ``LogSoftmax``
over the last axis of a matrix, one pass per row (max, sum of exp, write).
Other ranks/axes and the crossentropy ops run their ``perform``."""
from ..registry import register_kernel
from ...tensor.ops.nnet import LogSoftmax, Softmax

__all__ = []


def _rows(node, ins, outs, ctx, log):
    (x,), (xv,), (ov,) = ins, node.inputs, node.outputs
    if xv.type.ndim != 2 or node.op.axis not in (-1, 1) or \
            ov.type.dtype not in ("float32", "float64"):
        raise NotImplementedError("softmax: only the last axis of a matrix")
    dt = ov.type.dtype
    i, j, m, s = ctx.tmp("i"), ctx.tmp("j"), ctx.tmp("m"), ctx.tmp("s")
    out = outs[0]
    lines = [f"{out} = np.empty(({x}.shape[0], {x}.shape[1]), np.{dt})",
             f"for {i} in range({x}.shape[0]):",
             f"    {m} = -np.inf",
             f"    for {j} in range({x}.shape[1]):",
             f"        if {x}[{i}, {j}] > {m} or {x}[{i}, {j}] != {x}[{i}, {j}]:",
             f"            {m} = np.float64({x}[{i}, {j}])",
             f"    {s} = 0.0",
             f"    for {j} in range({x}.shape[1]):",
             f"        {s} += np.exp(np.float64({x}[{i}, {j}]) - {m})"]
    if log:
        lines += [f"    {s} = {m} + np.log({s})",
                  f"    for {j} in range({x}.shape[1]):",
                  f"        {out}[{i}, {j}] = np.{dt}({x}[{i}, {j}] - {s})"]
    else:
        lines += [f"    for {j} in range({x}.shape[1]):",
                  f"        {out}[{i}, {j}] = np.{dt}(np.exp(np.float64({x}[{i}, {j}]) "
                  f"- {m}) / {s})"]
    return lines


@register_kernel("numba", Softmax)
def softmax_kernel(node, ins, outs, ctx):
    return _rows(node, ins, outs, ctx, log=False)


@register_kernel("numba", LogSoftmax)
def log_softmax_kernel(node, ins, outs, ctx):
    return _rows(node, ins, outs, ctx, log=True)
