"""Numba kernels of 2-D pooling (``Pool``) and its gradient (``PoolGrad``):
one loop over the windows of every (leading-axes) image, each window
clipped to the real input (padding never enters a max, and adds zeros to a
sum), so no padded canvas is built.

The semantics are the numpy reference's (``tensor/ops/pool.py``): Theano's
output-size rule for ``ignore_border`` both ways, the window divisor of the
two average modes (padding counted or not; the part of a window beyond the
border without ``ignore_border`` is never counted), NaN propagating through
max, and max's gradient going to the first position of the window (in
row-major order) equal to its max, as the reference does.  Leading axes
are flattened into one batch axis (the kernel's arguments are
C-contiguous).
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
    """Source of Theano's output length of one axis (``pool_output_length``:
    without ``ignore_border``, a last window starting in the padding is dropped)."""
    if ignore_border:
        return f"({n} + {2 * p} - {w}) // {s} + 1"
    if s >= w:
        out = f"(({n} + {2 * p} - 1) // {s} + 1)"
    else:
        out = f"(max(0, ({n} + {2 * p} - 1 - {w} + {s}) // {s}) + 1)"
    if p == 0:
        return out
    return f"{out} - (1 if {out} > 1 and ({out} - 1) * {s} >= {n} + {p} else 0)"


def _count(op, k, start, n):
    """Source of the average divisor along axis ``k`` of the window starting
    at canvas position ``start``."""
    w, p = op.ws[k], op.pad[k]
    if op.mode == "average_exc_pad":
        return f"(min({start} + {w}, {p} + {n}) - max({start}, {p}))"
    return f"(min({start} + {w}, {n} + {2 * p}) - {start})"


def _inside(op):
    """True when every window lies inside the input (no padding, and
    ``ignore_border``): no clipping, windows of the constant size ``ws``."""
    return op.ignore_border and not any(op.pad)


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
    # (without padding and with ignore_border every window lies inside: no
    # clipping, and loops of a constant trip count that LLVM unrolls)
    inside = _inside(op)
    rows = (f"{t['r0']}", f"{t['r0']} + {wh}") if inside else \
        (f"max({t['r0']} - {ph}, 0)", f"min({t['r0']} - {ph} + {wh}, {t['h']})")
    cols = (f"{t['c0']}", f"{t['c0']} + {ww}") if inside else \
        (f"max({t['c0']} - {pw}, 0)", f"min({t['c0']} - {pw} + {ww}, {t['w']})")
    head = [f"for {t['b']} in {loop}({t['n']}):",
            f"    for {t['i']} in range({t['oh']}):",
            f"        {t['r0']} = {t['i']} * {sh}",
            f"        {t['ra']} = {rows[0]}",
            f"        {t['rb']} = {rows[1]}",
            f"        for {t['j']} in range({t['ow']}):",
            f"            {t['c0']} = {t['j']} * {sw}",
            f"            {t['ca']} = {cols[0]}",
            f"            {t['cb']} = {cols[1]}"]
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
    if op.mode == "max":
        # NaN wins, as np.maximum; a select, not a branch, which random data
        # would mispredict half the time
        body += [f"        {m} = {v} if (({v} > {m}) | ({v} != {v})) & ({m} == {m}) else {m}"]
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
        # the first position (row-major) equal to the max takes the whole
        # gradient: one flat loop over the window, backwards, selects it
        # without a data-dependent branch (random data would mispredict);
        # none matches only where the max is NaN (no gradient, as py)
        mx, cw, k, kk = ctx.tmp("mx"), ctx.tmp("cw"), ctx.tmp("k"), ctx.tmp("kk")
        # a window inside the input has the constant size ws: literals let
        # LLVM unroll the loop and turn // and % into shifts
        size = (str(op.ws[1]), str(op.ws[0] * op.ws[1])) if _inside(op) else \
            (f"{t['cb']} - {t['ca']}", f"({t['rb']} - {t['ra']}) * {cw}")
        body = [f"{mx} = {orr}[{b}, {i}, {j}]",
                f"{cw} = {size[0]}",
                f"{k} = -1",
                f"for {kk} in range({size[1]} - 1, -1, -1):",
                f"    {k} = {kk} if {xr}[{b}, {t['ra']} + {kk} // {cw}, "
                f"{t['ca']} + {kk} % {cw}] == {mx} else {k}",
                f"if {k} >= 0:",
                f"    {g}[{b}, {t['ra']} + {k} // {cw}, {t['ca']} + {k} % {cw}] += "
                f"{gr}[{b}, {i}, {j}]"]
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
