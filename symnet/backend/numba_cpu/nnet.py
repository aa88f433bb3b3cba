"""Numba templates for neural-network ops: ``Softmax`` and ``LogSoftmax``
over the last axis of a matrix, one pass per row (max, sum of exp, write),
and the two crossentropies with integer labels (``SoftmaxCrossentropy``,
the fused op the stabilization rewrite makes, and
``CrossentropyCategorical1Hot``), one pass per row with the labels checked
(numba does not check bounds); ``SoftmaxCrossentropyWithGrad``, the loss and
its gradient wrt the logits from one pass over each row.  Softmax over another axis or rank loops
over a (outer, axis, inner) view of its input."""
from ..registry import register_kernel
from ...tensor.ops.nnet import (CrossentropyCategorical1Hot, LogSoftmax, Softmax,
                                SoftmaxCrossentropy, SoftmaxCrossentropyWithGrad)

__all__ = []


def _layout(node, x, out, ctx):
    """(prelude lines, loop headers, element of x, element of out, length
    of the softmax axis, the final line binding ``out``).  A matrix over
    its last axis loops over rows; any other rank/axis views the
    C-contiguous input as (outer, axis, inner) and loops over outer and
    inner."""
    xv, dt = node.inputs[0], node.outputs[0].type.dtype
    nd, axis = xv.type.ndim, node.op.axis % max(xv.type.ndim, 1)
    if nd == 2 and axis == 1:
        i = ctx.tmp("i")
        return ([f"{out} = np.empty(({x}.shape[0], {x}.shape[1]), np.{dt})"],
                [f"for {i} in range({x}.shape[0]):"],
                lambda j: f"{x}[{i}, {j}]", lambda j: f"{out}[{i}, {j}]",
                f"{x}.shape[1]", None)
    o, q, x3, o3 = ctx.tmp("o"), ctx.tmp("q"), ctx.tmp("x"), ctx.tmp("y")
    outer = " * ".join(f"{x}.shape[{a}]" for a in range(axis)) or "1"
    inner = " * ".join(f"{x}.shape[{a}]" for a in range(axis + 1, nd)) or "1"
    n = ctx.tmp("n")
    shape = "(" + "".join(f"{x}.shape[{a}], " for a in range(nd)) + ")"
    return ([f"{n} = {x}.shape[{axis}]",
             f"{x3} = {x}.reshape(({outer}, {n}, {inner}))",
             f"{o3} = np.empty(({outer}, {n}, {inner}), np.{dt})"],
            [f"for {o} in range({x3}.shape[0]):", f"    for {q} in range({x3}.shape[2]):"],
            lambda j: f"{x3}[{o}, {j}, {q}]", lambda j: f"{o3}[{o}, {j}, {q}]", n,
            f"{out} = {o3}.reshape({shape})")


def _rows(node, ins, outs, ctx, log):
    (x,), (xv,), (ov,) = ins, node.inputs, node.outputs
    if xv.type.ndim == 0 or ov.type.dtype not in ("float32", "float64"):
        raise NotImplementedError("softmax: float tensors of rank 1 or more")
    dt = ov.type.dtype
    lines, loops, xa, oa, length, last = _layout(node, x, outs[0], ctx)
    j, m, s = ctx.tmp("j"), ctx.tmp("m"), ctx.tmp("s")
    ind = "    " * len(loops)
    body = [f"{m} = -np.inf",
            f"for {j} in range({length}):",
            f"    if {xa(j)} > {m} or {xa(j)} != {xa(j)}:",
            f"        {m} = np.float64({xa(j)})",
            # as the py perform: a row whose max is not finite subtracts 0
            f"if not np.isfinite({m}):",
            f"    {m} = 0.0",
            f"{s} = 0.0"]
    if log:
        body += [f"for {j} in range({length}):",
                 f"    {s} += np.exp(np.float64({xa(j)}) - {m})",
                 f"{s} = {m} + np.log({s})",
                 f"for {j} in range({length}):",
                 f"    {oa(j)} = np.{dt}({xa(j)} - {s})"]
    else:
        # exp once per element: the second pass only scales what the first wrote
        e = ctx.tmp("e")
        body += [f"for {j} in range({length}):",
                 f"    {e} = np.exp(np.float64({xa(j)}) - {m})",
                 f"    {s} += {e}",
                 f"    {oa(j)} = np.{dt}({e})",
                 f"{s} = 1.0 / {s}",
                 f"for {j} in range({length}):",
                 f"    {oa(j)} = np.{dt}({oa(j)} * {s})"]
    lines += loops + [ind + ln for ln in body]
    return lines + ([last] if last else [])


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
    xv, yv = node.inputs[:2]
    dt = node.outputs[0].type.dtype
    if xv.type.ndim != 2 or yv.type.ndim != 1 or dt not in ("float32", "float64"):
        raise NotImplementedError("crossentropy: a matrix and a label vector")
    return dt


def _row_max(x, i, j, m):
    """Lines (in the loop over rows ``i``) setting ``m`` to the float64 max of
    row ``i`` of ``x``: NaN where the row has one, and 0 where it is not
    finite, as the py perform subtracts."""
    return [f"    {m} = -np.inf",
            f"    for {j} in range({x}.shape[1]):",
            f"        if {x}[{i}, {j}] > {m} or {x}[{i}, {j}] != {x}[{i}, {j}]:",
            f"            {m} = np.float64({x}[{i}, {j}])",
            f"    if not np.isfinite({m}):",
            f"        {m} = 0.0"]


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
              f"for {i} in range({x}.shape[0]):"] + _row_max(x, i, j, m) + [
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


@register_kernel("numba", SoftmaxCrossentropyWithGrad)
def softmax_crossentropy_with_grad_kernel(node, ins, outs, ctx):
    """Per row: the max ``m`` (0 where not finite), ``exp(x - m)`` (in
    float64; for float32, ``x - m`` and the exp in float32 as the py
    perform computes them) written into ``dx`` and summed in float64 to
    ``s``; ``nll = log(s) - (x_y - m)``
    in float64 (as ``SoftmaxCrossentropy``'s kernel); then ``dx`` rounded
    step by step in the output dtype as the unfused graph (the Softmax
    kernel, then ``(sm - onehot) * gz``) and the py perform round it: an
    optimizer that normalizes gradients (Adam) amplifies a last-bit
    difference in components that are ~0."""
    dt = _check_types(node)
    x, y, gz = ins
    nll, dx = outs
    i, j, m, s, g, e = (ctx.tmp(n) for n in "ijmsge")
    lines = _label_checks(x, y, i)
    if node.inputs[2].type.ndim:
        lines += [f"if {gz}.shape[0] != {x}.shape[0]:",
                  "    raise ValueError('crossentropy gradient: one output gradient per row expected')"]
    row_g = f"np.{dt}({gz}[{i}])" if node.inputs[2].type.ndim else f"np.{dt}({gz})"
    if dt == "float32":
        # float32 as the py perform computes it: x - m rounded to float32,
        # then exp of it (fastmath32's, within 1 float32 step and
        # vectorized, against a libm float64 call an element); the sum
        # and the log stay float64
        mf = ctx.tmp("mf")
        exp32 = ctx.use_lib("fastmath32", "_exp32")
        first = [f"    {mf} = np.float32({m})",
                 f"    for {j} in range({x}.shape[1]):",
                 f"        {e} = {exp32}(np.float32({x}[{i}, {j}] - {mf}))",
                 f"        {s} += np.float64({e})",
                 f"        {dx}[{i}, {j}] = {e}"]
    else:
        first = [f"    for {j} in range({x}.shape[1]):",
                 f"        {e} = np.exp(np.float64({x}[{i}, {j}]) - {m})",
                 f"        {s} += {e}",
                 f"        {dx}[{i}, {j}] = np.{dt}({e})"]
    return lines + [
        f"{nll} = np.empty({x}.shape[0], np.{dt})",
        f"{dx} = np.empty(({x}.shape[0], {x}.shape[1]), np.{dt})",
        f"for {i} in range({x}.shape[0]):"] + _row_max(x, i, j, m) + [
        f"    {s} = 0.0"] + first + [
        f"    {nll}[{i}] = np.{dt}(np.log({s}) - (np.float64({x}[{i}, {y}[{i}]]) - {m}))",
        f"    {s} = 1.0 / {s}",
        f"    {g} = {row_g}",
        f"    for {j} in range({x}.shape[1]):",
        f"        {e} = np.{dt}({dx}[{i}, {j}] * {s})",
        f"        {dx}[{i}, {j}] = np.{dt}(({e} - np.{dt}({j} == {y}[{i}])) * {g})"]
