"""Numba templates for neural-network ops: ``Softmax`` and ``LogSoftmax``
over the last axis of a matrix, one pass per row (max, sum of exp, write),
and the two crossentropies with integer labels (``SoftmaxCrossentropy``,
the fused op the stabilization rewrite makes, and
``CrossentropyCategorical1Hot``), one pass per row with the labels checked
(numba does not check bounds).  Other ranks/axes run their ``perform``."""
from ..registry import register_kernel
from ...tensor.ops.nnet import (CrossentropyCategorical1Hot, LogSoftmax, Softmax,
                                SoftmaxCrossentropy)

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
             # as the py perform: a row whose max is not finite subtracts 0
             f"    if not np.isfinite({m}):",
             f"        {m} = 0.0",
             f"    {s} = 0.0",
             f"    for {j} in range({x}.shape[1]):",
             f"        {s} += np.exp(np.float64({x}[{i}, {j}]) - {m})"]
    if log:
        lines += [f"    {s} = {m} + np.log({s})",
                  f"    for {j} in range({x}.shape[1]):",
                  f"        {out}[{i}, {j}] = np.{dt}({x}[{i}, {j}] - {s})"]
    else:
        # exp once per element: the second pass only scales what the first wrote
        e = ctx.tmp("e")
        lines[-2:] = [f"    for {j} in range({x}.shape[1]):",
                      f"        {e} = np.exp(np.float64({x}[{i}, {j}]) - {m})",
                      f"        {s} += {e}",
                      f"        {out}[{i}, {j}] = np.{dt}({e})",
                      f"    {s} = 1.0 / {s}",
                      f"    for {j} in range({x}.shape[1]):",
                      f"        {out}[{i}, {j}] = np.{dt}({out}[{i}, {j}] * {s})"]
    return lines


@register_kernel("numba", Softmax)
def softmax_kernel(node, ins, outs, ctx):
    return _rows(node, ins, outs, ctx, log=False)


@register_kernel("numba", LogSoftmax)
def log_softmax_kernel(node, ins, outs, ctx):
    return _rows(node, ins, outs, ctx, log=True)


def _label_checks(x, y, i):
    """Lines checking the labels ``y`` against the rows of ``x`` (the py
    reference, run on the error path by the linker, gives the detailed error)."""
    return [f"if {y}.shape[0] != {x}.shape[0]:",
            "    raise ValueError('crossentropy: batch sizes of distribution and labels differ')",
            f"for {i} in range({y}.shape[0]):",
            f"    if {y}[{i}] < 0 or {y}[{i}] >= {x}.shape[1]:",
            "        raise ValueError('crossentropy: label out of range')"]


def _check_types(node):
    xv, yv = node.inputs
    dt = node.outputs[0].type.dtype
    if xv.type.ndim != 2 or yv.type.ndim != 1 or dt not in ("float32", "float64"):
        raise NotImplementedError("crossentropy: a matrix and a label vector")
    return dt


@register_kernel("numba", SoftmaxCrossentropy)
def softmax_crossentropy_kernel(node, ins, outs, ctx):
    """``log(sum(exp(x - m))) - (x[i, y_i] - m)`` per row in float64, with
    ``m`` the row max (0 where it is not finite, as ``perform`` does)."""
    dt = _check_types(node)
    x, y = ins
    i, j, m, s = ctx.tmp("i"), ctx.tmp("j"), ctx.tmp("m"), ctx.tmp("s")
    out = outs[0]
    lines = _label_checks(x, y, i)
    lines += [f"{out} = np.empty({x}.shape[0], np.{dt})",
              f"for {i} in range({x}.shape[0]):",
              f"    {m} = -np.inf",
              f"    for {j} in range({x}.shape[1]):",
              f"        if {x}[{i}, {j}] > {m} or {x}[{i}, {j}] != {x}[{i}, {j}]:",
              f"            {m} = np.float64({x}[{i}, {j}])",
             # as the py perform: a row whose max is not finite subtracts 0
             f"    if not np.isfinite({m}):",
             f"        {m} = 0.0",
              f"    if not np.isfinite({m}):",
              f"        {m} = 0.0",
              f"    {s} = 0.0",
              f"    for {j} in range({x}.shape[1]):",
              f"        {s} += np.exp(np.float64({x}[{i}, {j}]) - {m})",
              f"    {out}[{i}] = np.{dt}(np.log({s}) - (np.float64({x}[{i}, {y}[{i}]]) - {m}))"]
    return lines


@register_kernel("numba", CrossentropyCategorical1Hot)
def crossentropy_1hot_kernel(node, ins, outs, ctx):
    """``-log(p[i, y_i])`` per row."""
    dt = _check_types(node)
    p, y = ins
    i = ctx.tmp("i")
    out = outs[0]
    return _label_checks(p, y, i) + [
        f"{out} = np.empty({p}.shape[0], np.{dt})",
        f"for {i} in range({p}.shape[0]):",
        f"    {out}[{i}] = -np.log({p}[{i}, {y}[{i}]])"]
