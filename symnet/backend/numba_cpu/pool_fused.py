"""The numba kernel of ``MaxPoolBiasActGrad`` (``tensor/ops/pool_fused.py``):
max pooling's gradient and the convolution epilogue's gradient in one
kernel that sums the bias gradient ``gb`` in float64 as it goes
(``lib/conv_epilogue.py``'s ``BiasActGrad`` loop does the same sum).  The
windows tile the input (the rewrite makes the op for no other geometry);
every position gets the activation's gradient of the pooling gradient
there (``gz`` at the offset the forward kept, 0 elsewhere and where no
window covers it: 0, or NaN for a NaN sign, as the unfused pair gives).

Each (image, channel) plane is done whole before the next: the pooling
gradient written into it (every window writes all its positions), then,
while the plane is in L1, the activation's gradient over it in place with
the bias sum.  Measured on W4's layer (64x32x24x24 float32, thread CPU
time, best of 7 x 30 calls, 2 cores under load 6 from other work):
0.74-0.76 ms against 0.91-0.93 ms for ``MaxPoolArgmaxGrad`` then
``BiasActGrad``; one loop nest computing each position's value straight
from the offset and the sign (no second pass) measured slower, 1.1 ms.
"""
from ..registry import register_kernel
from ...tensor.ops.pool_fused import MaxPoolBiasActGrad

__all__ = ["act_grad_source"]


def act_grad_source(act, g, sv, dt):
    """Source of the activation's gradient times ``g`` from the sign ``sv``
    (the formulas of ``tensor/ops/conv_fused.py``, as selects; a sign
    other than 1, -1, 0 is ``NAN_SIGN``)."""
    one, zero = f"np.{dt}(1)", f"np.{dt}(0)"
    if act == "relu":
        f = (f"({one} if {sv} == 1 else (-{one} if {sv} == -1 else ({zero} if {sv} == 0 "
             f"else np.{dt}(np.nan))))")
        h = f"({g} * np.{dt}(0.5))"
        return f"{h} + {h} * {f}"
    if act == "max":
        return f"{g} * ({one} if {sv} == 0 or {sv} == 1 else {zero})"
    return g


@register_kernel("numba", MaxPoolBiasActGrad)
def pool_bias_act_grad_kernel(node, ins, outs, ctx):
    op = node.op
    if len(op.ws) != 2 or any(op.pad) or not op.ignore_border \
            or tuple(op.stride) != tuple(op.ws):
        raise NotImplementedError("max pool + bias/activation gradient: windows that "
                                  "tile the input only")
    x, idx, gz, s = ins
    dt = node.outputs[0].type.dtype
    (wh, ww) = op.ws
    t = {k: ctx.tmp(k) for k in ("N", "K", "H", "W", "oh", "ow", "gc", "gf", "sf", "gb", "acc",
                                 "m", "k", "i", "j", "a", "r", "c", "p", "kk", "gv", "v", "t",
                                 "z", "n")}
    m, k, i, j, a, r, c, p = (t[v] for v in ("m", "k", "i", "j", "a", "r", "c", "p"))
    gc, gf, sf, acc, v, tt, z = (t[v] for v in ("gc", "gf", "sf", "acc", "v", "t", "z"))
    lines = [f"{t['N']}, {t['K']}, {t['H']}, {t['W']} = {x}.shape",
             f"{t['oh']} = ({t['H']} - {wh}) // {wh} + 1",
             f"{t['ow']} = ({t['W']} - {ww}) // {ww} + 1",
             f"if {idx}.shape != {gz}.shape or {idx}.shape[0] != {t['N']} or "
             f"{idx}.shape[1] != {t['K']} or {idx}.shape[2] != {t['oh']} or "
             f"{idx}.shape[3] != {t['ow']} or {s}.shape != {x}.shape:",
             "    raise ValueError('max pool + bias/activation gradient: the offsets, the "
             "output gradient and the sign do not match the input')",
             f"{gc} = np.empty(({t['N']}, {t['K']}, {t['H']}, {t['W']}), np.{dt})",
             f"{gf} = {gc}.reshape(({t['N']} * {t['K']}, {t['H']} * {t['W']}))",
             f"{sf} = {s}.reshape(({t['N']} * {t['K']}, {t['H']} * {t['W']}))",
             f"{acc} = np.zeros({t['K']}, np.float64)",
             f"{z} = np.{dt}(0)",
             f"for {t['n']} in range({t['N']}):",
             f"    for {k} in range({t['K']}):",
             f"        {m} = {t['n']} * {t['K']} + {k}",
             # each (image, channel) plane: the pooling gradient first (every
             # window writes all its positions), then, while the plane is in
             # L1, the activation's gradient over it in place with the bias sum
             f"        for {i} in range({t['oh']}):",
             f"            for {j} in range({t['ow']}):",
             # gz and the offset read once before the stores (as MaxPoolArgmaxGrad's kernel)
             f"                {t['kk']} = np.int64({idx}[{t['n']}, {k}, {i}, {j}])",
             f"                {t['gv']} = {gz}[{t['n']}, {k}, {i}, {j}]",
             f"                for {a} in range({wh * ww}):",
             f"                    {gc}[{t['n']}, {k}, {i} * {wh} + {a} // {ww}, {j} * {ww} + "
             f"{a} % {ww}] = {t['gv']} if {a} == {t['kk']} else {z}",
             # rows and columns no window covers: no gradient
             f"        for {r} in range({t['H']}):",
             f"            for {c} in range({t['ow']} * {ww} if {r} < {t['oh']} * {wh} "
             f"else 0, {t['W']}):",
             f"                {gc}[{t['n']}, {k}, {r}, {c}] = {z}",
             f"        {tt} = 0.0",
             f"        for {p} in range({t['H']} * {t['W']}):",
             f"            {v} = " + act_grad_source(op.act, f"{gf}[{m}, {p}]", f"{sf}[{m}, {p}]",
                                                    dt),
             f"            {gf}[{m}, {p}] = {v}",
             f"            {tt} += {v}",
             f"        {acc}[{k}] += {tt}",
             f"{t['gb']} = {acc}.astype(np.{dt})",
             f"{outs[0]} = {gc}",
             f"{outs[1]} = {t['gb']}"]
    return lines
