"""Numba kernels of 2-D pooling (``Pool``) and its gradient (``PoolGrad``):
one loop over the windows of every (leading-axes) image, each window
clipped to the real input (padding never enters a max, and adds zeros to a
sum), so no padded canvas is built.

The semantics are the numpy reference's (``tensor/ops/pool.py``): Theano's
output-size rule for ``ignore_border`` both ways, the window divisor of the
two average modes (padding counted or not; the part of a window beyond the
border without ``ignore_border`` is never counted), NaN propagating through
max, and max's gradient going to every position of the window equal to
its max (as the reference does).  Leading axes are flattened into one
batch axis (the kernel's arguments are C-contiguous).
"""
from ..registry import register_kernel
from .lib import pool_nd as _pool_nd
from ...tensor.ops.pool import Pool, PoolGrad

__all__ = []


def _check(node):
    x = node.inputs[0]
    if x.type.dtype not in ("float32", "float64") or \
            node.outputs[0].type.dtype not in ("float32", "float64"):
        raise NotImplementedError("pool kernels: float tensors only")
    return x.type.ndim


def _out_len(n, w, s, p, ignore_border):
    """Source of Theano's output length of one axis (see ``pool_output_length``)."""
    if ignore_border:
        return f"({n} + {2 * p} - {w}) // {s} + 1"
    if s >= w:
        return f"({n} - 1) // {s} + 1"
    return f"max(0, ({n} - 1 - {w} + {s}) // {s}) + 1"


def _count(op, k, start, n):
    """Source of the average divisor along axis ``k`` of the window starting
    at canvas position ``start``."""
    w, p = op.ws[k], op.pad[k]
    if op.mode == "average_exc_pad":
        return f"(min({start} + {w}, {p} + {n}) - max({start}, {p}))"
    return f"(min({start} + {w}, {n} + {2 * p}) - {start})"


def _frame(node, ins, ctx):
    """Lines binding sizes and 3-D views shared by both kernels; returns
    (lines, names)."""
    op, nd = node.op, _check(node)
    if len(op.ws) != 2:
        # pool_3d (three pooled axes): the loops of lib/pool_nd.py serve it
        raise NotImplementedError("numba pool kernels pool over two axes")
    x = ins[0]
    t = {k: ctx.tmp(k) for k in ("h", "w", "oh", "ow", "n", "b", "i", "j", "r0", "c0",
                                 "ra", "rb", "ca", "cb", "r", "c")}
    lead = " * ".join(f"{x}.shape[{a}]" for a in range(nd - 2)) or "1"
    (sh, sw), (ph, pw), (wh, ww) = op.stride, op.pad, op.ws
    lines = [f"{t['h']} = {x}.shape[{nd - 2}]",
             f"{t['w']} = {x}.shape[{nd - 1}]",
             f"{t['oh']} = {_out_len(t['h'], wh, sh, ph, op.ignore_border)}",
             f"{t['ow']} = {_out_len(t['w'], ww, sw, pw, op.ignore_border)}",
             f"{t['n']} = {lead}"]
    loop = "nb.prange" if ctx.parallel else "range"
    ctx.uses_prange = ctx.uses_prange or ctx.parallel
    # the window (i, j) of image b, clipped to the input: rows ra:rb, cols ca:cb
    head = [f"for {t['b']} in {loop}({t['n']}):",
            f"    for {t['i']} in range({t['oh']}):",
            f"        {t['r0']} = {t['i']} * {sh}",
            f"        {t['ra']} = max({t['r0']} - {ph}, 0)",
            f"        {t['rb']} = min({t['r0']} - {ph} + {wh}, {t['h']})",
            f"        for {t['j']} in range({t['ow']}):",
            f"            {t['c0']} = {t['j']} * {sw}",
            f"            {t['ca']} = max({t['c0']} - {pw}, 0)",
            f"            {t['cb']} = min({t['c0']} - {pw} + {ww}, {t['w']})"]
    return lines, head, t, nd


def _shape(x, nd, last):
    return "(" + ", ".join([f"{x}.shape[{a}]" for a in range(nd - 2)] + last) + ")"


def _divisor(op, t):
    return (f"np.float64({_count(op, 0, t['r0'], t['h'])} * "
            f"{_count(op, 1, t['c0'], t['w'])})")


@register_kernel("numba", Pool)
def pool_kernel(node, ins, outs, ctx):
    op = node.op
    lines, head, t, nd = _frame(node, ins, ctx)
    x, dt = ins[0], node.outputs[0].type.dtype
    xr, o, m, v = ctx.tmp("xr"), ctx.tmp("o"), ctx.tmp("m"), ctx.tmp("v")
    b, i, j, r, c = t["b"], t["i"], t["j"], t["r"], t["c"]
    lines += [f"{xr} = {x}.reshape(({t['n']}, {t['h']}, {t['w']}))",
              f"{o} = np.empty(({t['n']}, {t['oh']}, {t['ow']}), np.{dt})"]
    lines += head
    body = [f"{m} = {xr}[{b}, {t['ra']}, {t['ca']}]" if op.mode == "max"
            else f"{m} = np.{dt}(0)",
            f"for {r} in range({t['ra']}, {t['rb']}):",
            f"    for {c} in range({t['ca']}, {t['cb']}):",
            f"        {v} = {xr}[{b}, {r}, {c}]"]
    if op.mode == "max":          # NaN wins, as np.maximum
        body += [f"        if {v} > {m} or {v} != {v}:",
                 f"            if {m} == {m}:",
                 f"                {m} = {v}"]
        res = m
    else:
        body.append(f"        {m} += {v}")
        res = m if op.mode == "sum" else f"np.float64({m}) / {_divisor(op, t)}"
    body.append(f"{o}[{b}, {i}, {j}] = np.{dt}({res})")
    lines += ["            " + ln for ln in body]
    lines.append(f"{outs[0]} = {o}.reshape({_shape(x, nd, [t['oh'], t['ow']])})")
    return lines


@register_kernel("numba", PoolGrad)
def pool_grad_kernel(node, ins, outs, ctx):
    op = node.op
    lines, head, t, nd = _frame(node, ins, ctx)
    x, out, gz = ins
    dt = node.outputs[0].type.dtype
    xr, orr, gr, g, gv = (ctx.tmp(k) for k in ("xr", "or", "gr", "g", "gv"))
    b, i, j, r, c = t["b"], t["i"], t["j"], t["r"], t["c"]
    lines += [f"if {out}.shape[{nd - 2}] != {t['oh']} or {out}.shape[{nd - 1}] != {t['ow']} "
              f"or {gz}.shape[{nd - 2}] != {t['oh']} or {gz}.shape[{nd - 1}] != {t['ow']}:",
              "    raise ValueError('pool gradient: the pooled output and its gradient "
              "do not match the input')",
              f"{xr} = {x}.reshape(({t['n']}, {t['h']}, {t['w']}))",
              f"{orr} = {out}.reshape(({t['n']}, {t['oh']}, {t['ow']}))",
              f"{gr} = {gz}.reshape(({t['n']}, {t['oh']}, {t['ow']}))",
              f"{g} = np.zeros(({t['n']}, {t['h']}, {t['w']}), np.{dt})"]
    lines += head
    if op.mode == "max":
        body = [f"{gv} = {gr}[{b}, {i}, {j}]",
                f"for {r} in range({t['ra']}, {t['rb']}):",
                f"    for {c} in range({t['ca']}, {t['cb']}):",
                f"        if {xr}[{b}, {r}, {c}] == {orr}[{b}, {i}, {j}]:",
                f"            {g}[{b}, {r}, {c}] += {gv}"]
    else:
        val = f"{gr}[{b}, {i}, {j}]" if op.mode == "sum" else \
            f"np.float64({gr}[{b}, {i}, {j}]) / {_divisor(op, t)}"
        body = [f"{gv} = np.{dt}({val})",
                f"for {r} in range({t['ra']}, {t['rb']}):",
                f"    for {c} in range({t['ca']}, {t['cb']}):",
                f"        {g}[{b}, {r}, {c}] += {gv}"]
    lines += ["            " + ln for ln in body]
    lines.append(f"{outs[0]} = {g}.reshape({_shape(x, nd, [t['h'], t['w']])})")
    return lines


# pool_3d, other dtypes and DynamicPool (sizes read at run time): the
# compiled loops of lib/pool_nd.py serve what the kernels above decline
_pool_nd.register(pool_kernel, pool_grad_kernel)
