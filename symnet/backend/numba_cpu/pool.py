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

``MaxPoolArgmax``/``MaxPoolArgmaxGrad`` (the pair the numba modes' rewrite
``local_pool_argmax`` makes of a max ``Pool`` and its ``PoolGrad``): the
forward loop also writes each window's first-maximum offset, and the
gradient reads those offsets and ``gz`` only, not the input and the pooled
output (measured on W7's first pool, 256x32x24x24 float32, one core: the
gradient 3.4 -> 2.0 ms, the forward unchanged at 1.0 ms).
"""
from ..registry import register_kernel
from .lib import pool_nd as _pool_nd
from ...tensor.ops.pool import (DownsampleFactorMaxGradGrad, MaxPoolArgmax,
                                MaxPoolArgmaxGrad, Pool, PoolGrad)

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
        return f"max(0, ({n} + {2 * p} - {w}) // {s} + 1)"
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


def _first_max(op, t, xr, orr, ctx):
    """Lines finding the position of window (b, i, j) that takes its
    gradient, ending in an ``if`` (true when there is one) for the caller's
    indented line; and that position's index into ``xr``."""
    b, i, j = t["b"], t["i"], t["j"]
    # the first position (row-major) equal to the max takes the whole
    # gradient: one flat loop over the window, backwards, selects it
    # without a data-dependent branch (random data would mispredict);
    # none matches only where the max is NaN (no gradient, as py)
    mx, cw, k, kk = ctx.tmp("mx"), ctx.tmp("cw"), ctx.tmp("k"), ctx.tmp("kk")
    # a window inside the input has the constant size ws: literals let
    # LLVM unroll the loop and turn // and % into shifts
    size = (str(op.ws[1]), str(op.ws[0] * op.ws[1])) if _inside(op) else \
        (f"{t['cb']} - {t['ca']}", f"({t['rb']} - {t['ra']}) * {cw}")
    lines = [f"{mx} = {orr}[{b}, {i}, {j}]",
             f"{cw} = {size[0]}",
             f"{k} = -1",
             f"for {kk} in range({size[1]} - 1, -1, -1):",
             f"    {k} = {kk} if {xr}[{b}, {t['ra']} + {kk} // {cw}, "
             f"{t['ca']} + {kk} % {cw}] == {mx} else {k}",
             f"if {k} >= 0:"]
    return lines, f"{b}, {t['ra']} + {k} // {cw}, {t['ca']} + {k} % {cw}"


def _grad_views(ins, ctx, t, nd, what, third_like_input):
    """Lines checking the shapes of the pooled output and of the third input
    (shaped like the input, or like the output) and viewing x, them as 3-D
    (batch, rows, cols); returns (lines, xr, orr, thr)."""
    x, out, third = ins
    xr, orr, thr = ctx.tmp("xr"), ctx.tmp("or"), ctx.tmp("th")
    rows, cols = (t["h"], t["w"]) if third_like_input else (t["oh"], t["ow"])
    lines = [f"if {out}.shape[{nd - 2}] != {t['oh']} or {out}.shape[{nd - 1}] != {t['ow']} "
             f"or {third}.shape[{nd - 2}] != {rows} or {third}.shape[{nd - 1}] != {cols}:",
             f"    raise ValueError('{what}: the pooled output or the gradient does not "
             f"match the input')",
             f"{xr} = {x}.reshape(({t['n']}, {t['h']}, {t['w']}))",
             f"{orr} = {out}.reshape(({t['n']}, {t['oh']}, {t['ow']}))",
             f"{thr} = {third}.reshape(({t['n']}, {rows}, {cols}))"]
    return lines, xr, orr, thr


@register_kernel("numba", PoolGrad)
def pool_grad_kernel(node, ins, outs, ctx):
    op = node.op
    lines, head, t, nd = _frame(node, ins, ctx)
    x, dt = ins[0], node.outputs[0].type.dtype
    g, gv = ctx.tmp("g"), ctx.tmp("gv")
    b, i, j, r, c = t["b"], t["i"], t["j"], t["r"], t["c"]
    views, xr, orr, gr = _grad_views(ins, ctx, t, nd, "pool gradient", False)
    lines += views + [f"{g} = np.zeros(({t['n']}, {t['h']}, {t['w']}), np.{dt})"]
    lines += head
    if op.mode == "max":
        body, at = _first_max(op, t, xr, orr, ctx)
        body += [f"    {g}[{at}] += {gr}[{b}, {i}, {j}]"]
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


@register_kernel("numba", DownsampleFactorMaxGradGrad)
def pool_grad_grad_kernel(node, ins, outs, ctx):
    # each window reads ggx where PoolGrad sent the window's gradient
    lines, head, t, nd = _frame(node, ins, ctx)
    x, dt, o = ins[0], node.outputs[0].type.dtype, ctx.tmp("o")
    views, xr, orr, gg = _grad_views(ins, ctx, t, nd, "max pool second derivative", True)
    lines += views + [f"{o} = np.zeros(({t['n']}, {t['oh']}, {t['ow']}), np.{dt})"]
    lines += head
    body, at = _first_max(node.op, t, xr, orr, ctx)
    body += [f"    {o}[{t['b']}, {t['i']}, {t['j']}] = {gg}[{at}]"]
    lines += ["            " + ln for ln in body]
    lines.append(f"{outs[0]} = {o}.reshape({_shape(x, nd, [t['oh'], t['ow']])})")
    return lines


def _tap(op, t, r, c):
    """Source of the offset of input position (r, c) in its window, over the
    window's ``prod(ws)`` taps of the padded canvas (``MaxPoolArgmax``)."""
    return f"({r} + {op.pad[0]} - {t['r0']}) * {op.ws[1]} + {c} + {op.pad[1]} - {t['c0']}"


@register_kernel("numba", MaxPoolArgmax)
def pool_argmax_kernel(node, ins, outs, ctx):
    """Max pooling that also writes each window's first-maximum offset
    (``prod(ws)`` where the max is NaN), as ``MaxPoolArgmax.perform``."""
    op = node.op
    lines, head, t, nd = _frame(node, ins, ctx)
    x, dt, it = ins[0], node.outputs[0].type.dtype, node.outputs[1].type.dtype
    xr, o, a, m, v, k, up = (ctx.tmp(n) for n in ("xr", "o", "a", "m", "v", "k", "up"))
    b, i, j, r, c = t["b"], t["i"], t["j"], t["r"], t["c"]
    lines += [f"{xr} = {x}.reshape(({t['n']}, {t['h']}, {t['w']}))",
              f"{o} = np.empty(({t['n']}, {t['oh']}, {t['ow']}), np.{dt})",
              f"{a} = np.empty(({t['n']}, {t['oh']}, {t['ow']}), np.{it})"]
    lines += head
    # the first strictly greater value moves the max: ties keep the first
    # (selects, not branches: random data would mispredict them).  NaN
    # compares false, so the loop finds the max of the other values and
    # notes apart whether a NaN was seen, which then gives the NaN output
    # and the 'none' offset, as a NaN winning the comparisons would: one
    # test less per tap (W7's first pool, 256x32x24x24 float32, thread
    # time, best of 7, three alternating runs each on a loaded machine:
    # 1.50/1.51/1.66 -> 1.28/1.36/1.60 ms)
    nan = ctx.tmp("nan")
    body = [f"{m} = {xr}[{b}, {t['ra']}, {t['ca']}]",
            f"{k} = {_tap(op, t, t['ra'], t['ca'])}",
            f"{nan} = {m} != {m}",
            f"for {r} in range({t['ra']}, {t['rb']}):",
            f"    for {c} in range({t['ca']}, {t['cb']}):",
            f"        {v} = {xr}[{b}, {r}, {c}]",
            f"        {up} = {v} > {m}",
            f"        {m} = {v} if {up} else {m}",
            f"        {k} = {_tap(op, t, r, c)} if {up} else {k}",
            f"        {nan} = {nan} | ({v} != {v})",
            f"{o}[{b}, {i}, {j}] = np.{dt}(np.nan) if {nan} else {m}",
            f"{a}[{b}, {i}, {j}] = {op.ws[0] * op.ws[1]} if {nan} else {k}"]
    lines += ["            " + ln for ln in body]
    lines += [f"{outs[0]} = {o}.reshape({_shape(x, nd, [t['oh'], t['ow']])})",
              f"{outs[1]} = {a}.reshape({_shape(x, nd, [t['oh'], t['ow']])})"]
    return lines


def _tiles(op):
    """True when the windows tile the input without overlap or padding:
    every position lies in at most one window, so the gradient can be
    written whole (no zeroing pass, no read-modify-write)."""
    return _inside(op) and tuple(op.stride) == tuple(op.ws)


@register_kernel("numba", MaxPoolArgmaxGrad)
def pool_argmax_grad_kernel(node, ins, outs, ctx):
    """Each window's gradient to the offset ``MaxPoolArgmax`` kept."""
    op = node.op
    lines, head, t, nd = _frame(node, ins, ctx)
    x, idx, gz = ins
    dt = node.outputs[0].type.dtype
    ar, gr, g, k, kk, rr, cc, gv, gb, gzb = (ctx.tmp(n) for n in (
        "ar", "gr", "g", "k", "kk", "rr", "cc", "gv", "gb", "gzb"))
    b, i, j = t["b"], t["i"], t["j"]
    (wh, ww), (ph, pw) = op.ws, op.pad
    lines += [f"if {idx}.shape != {gz}.shape or {idx}.shape[{nd - 2}] != {t['oh']} "
              f"or {idx}.shape[{nd - 1}] != {t['ow']}:",
              "    raise ValueError('max pool gradient: the offsets and the output "
              "gradient do not match the input')",
              f"{ar} = {idx}.reshape(({t['n']}, {t['oh']}, {t['ow']}))",
              f"{gr} = {gz}.reshape(({t['n']}, {t['oh']}, {t['ow']}))"]
    if _tiles(op):
        # every window writes all its positions (the gradient or 0); only
        # the rows and columns no window covers are zeroed apart
        lines += [f"{g} = np.empty(({t['n']}, {t['h']}, {t['w']}), np.{dt})",
                  f"{g}[:, {t['oh']} * {wh}:, :] = 0",
                  f"{g}[:, :, {t['ow']} * {ww}:] = 0"]
        # gz read once before the stores (else each store, which might
        # alias it, reloads it: 4x slower, measured)
        # ... as bits under an all-ones or all-zeros mask: a select here
        # was compiled as a branch, mispredicted on real offsets (as in
        # lib/pool_fused_loops.py).  A function of MaxPoolArgmax and this
        # on 64x32x24x24 float32, medians of 100 calls, three alternating
        # runs: 3.48 / 3.52 / 3.26 ms before, 1.76 / 1.31 / 1.27 ms after
        ib = f"np.int{8 * (4 if dt == 'float32' else 8)}"
        lines += [f"{gb} = {g}.view({ib})", f"{gzb} = {gr}.view({ib})"]
        body = [f"{k} = np.int64({ar}[{b}, {i}, {j}])",
                f"{gv} = {gzb}[{b}, {i}, {j}]",
                f"for {kk} in range({wh * ww}):",
                f"    {gb}[{b}, {t['r0']} + {kk} // {ww}, {t['c0']} + {kk} % {ww}] = "
                f"{gv} & -{ib}({kk} == {k})"]
    else:
        lines.append(f"{g} = np.zeros(({t['n']}, {t['h']}, {t['w']}), np.{dt})")
        body = [f"{k} = np.int64({ar}[{b}, {i}, {j}])",
                f"{rr} = {t['r0']} - {ph} + {k} // {ww}",
                f"{cc} = {t['c0']} - {pw} + {k} % {ww}",
                f"if {k} < {wh * ww} and 0 <= {rr} < {t['h']} and 0 <= {cc} < {t['w']}:",
                f"    {g}[{b}, {rr}, {cc}] += {gr}[{b}, {i}, {j}]"]
    lines += head
    lines += ["            " + ln for ln in body]
    lines.append(f"{outs[0]} = {g}.reshape({_shape(x, nd, [t['h'], t['w']])})")
    return lines


# pool_3d, other dtypes and DynamicPool (sizes read at run time): the
# compiled loops of lib/pool_nd.py serve what the kernels above decline
_pool_nd.register(pool_kernel, pool_grad_kernel)
