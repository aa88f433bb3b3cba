"""Numba templates for the common cases of advanced indexing: integer
vectors picking elements of a matrix (``x[rows, cols]``, the gradient of
``CrossentropyCategorical1Hot``) or items/rows of a vector/matrix
(``x[idx]``), read (``AdvancedSubtensor``) or added/written into a copy
(``AdvancedIncSubtensor``; adding accumulates repeated indices like
``np.add.at``).  Indices are checked and wrapped as numpy does (numba does
not check bounds).  Masks, slices, new axes, other ranks and the other ops
of the family run their ``perform``."""
from ..registry import register_kernel
from ...tensor.ops.advanced import ARR, AdvancedIncSubtensor, AdvancedSubtensor

__all__ = []

_PAIR, _ONE = ((ARR,), (ARR,)), ((ARR,),)


def _case(node, n_lead):
    """``'pair'`` or ``'one'`` for the supported layouts (else decline)."""
    desc = node.op.desc
    x = node.inputs[0]
    idx = node.inputs[n_lead:]
    if not all(v.type.ndim == 1 and v.type.dtype.startswith(("int", "uint")) for v in idx):
        raise NotImplementedError("advanced indexing: only integer vectors")
    if desc == _PAIR and x.type.ndim == 2:
        return "pair"
    if desc == _ONE and x.type.ndim in (1, 2):
        return "one"
    raise NotImplementedError("advanced indexing: unsupported layout")


def _wrap(lines, name, i, size, axis):
    """Lines binding ``name`` to the checked, wrapped index ``i``."""
    lines += [f"{name} = np.int64({i})",
              f"if {name} < 0:",
              f"    {name} += {size}",
              f"if {name} < 0 or {name} >= {size}:",
              f"    raise IndexError('index out of bounds for axis {axis}')"]


def _length(ctx, lines, vecs):
    """Lines computing the broadcast length of the index vectors."""
    n = ctx.tmp("n")
    if len(vecs) == 1:
        lines.append(f"{n} = {vecs[0]}.shape[0]")
        return n
    a, b = vecs
    lines += [f"{n} = max({a}.shape[0], {b}.shape[0])",
              f"if ({a}.shape[0] != {n} and {a}.shape[0] != 1) or "
              f"({b}.shape[0] != {n} and {b}.shape[0] != 1):",
              "    raise IndexError('shape mismatch: index arrays could not be broadcast')"]
    return n


def _item(vec, k):
    return f"{vec}[{k} if {vec}.shape[0] > 1 else 0]"


def _positions(ctx, lines, case, x, vecs, k):
    """Index expression of item ``k`` of the indexed region of ``x``."""
    r = ctx.tmp("r")
    _wrap(lines, r, _item(vecs[0], k), f"{x}.shape[0]", 0)
    if case == "pair":
        c = ctx.tmp("c")
        _wrap(lines, c, _item(vecs[1], k), f"{x}.shape[1]", 1)
        return f"{r}, {c}"
    return r


@register_kernel("numba", AdvancedSubtensor)
def advanced_subtensor_kernel(node, ins, outs, ctx):
    case = _case(node, 1)
    x, *vecs = ins
    dt = node.outputs[0].type.dtype
    dt = "bool_" if dt == "bool" else dt
    lines = []
    n = _length(ctx, lines, vecs)
    k, out = ctx.tmp("k"), outs[0]
    if case == "one" and node.inputs[0].type.ndim == 2:
        lines.append(f"{out} = np.empty(({n}, {x}.shape[1]), np.{dt})")
    else:
        lines.append(f"{out} = np.empty({n}, np.{dt})")
    lines.append(f"for {k} in range({n}):")
    body = []
    pos = _positions(ctx, body, case, x, vecs, k)
    body.append(f"{out}[{k}] = {x}[{pos}]")
    return lines + ["    " + ln for ln in body]


@register_kernel("numba", AdvancedIncSubtensor)
def advanced_inc_subtensor_kernel(node, ins, outs, ctx):
    case = _case(node, 2)
    x, y, *vecs = ins
    xv, yv = node.inputs[:2]
    region = 2 if case == "one" and xv.type.ndim == 2 else 1   # rank of the region
    if yv.type.ndim > region:
        raise NotImplementedError("advanced indexing: value of higher rank")
    lines = []
    n = _length(ctx, lines, vecs)
    k, out = ctx.tmp("k"), outs[0]
    # the value broadcasts against the region (n,) or (n, x.shape[1])
    j = ctx.tmp("j")
    yk = f"{k} if {y}.shape[0] > 1 else 0"
    if yv.type.ndim == 0:
        val = y
    elif yv.type.ndim == 1 and region == 1:
        lines += [f"if {y}.shape[0] != {n} and {y}.shape[0] != 1:",
                  "    raise ValueError('advanced indexing: value does not fit the region')"]
        val = f"{y}[{yk}]"
    elif yv.type.ndim == 1:                    # one row added to every picked row
        lines += [f"if {y}.shape[0] != {x}.shape[1] and {y}.shape[0] != 1:",
                  "    raise ValueError('advanced indexing: value does not fit the region')"]
        val = f"{y}[{j} if {y}.shape[0] > 1 else 0]"
    else:
        lines += [f"if ({y}.shape[0] != {n} and {y}.shape[0] != 1) or "
                  f"({y}.shape[1] != {x}.shape[1] and {y}.shape[1] != 1):",
                  "    raise ValueError('advanced indexing: value does not fit the region')"]
        val = f"{y}[{yk}, {j} if {y}.shape[1] > 1 else 0]"
    lines += [f"{out} = {x}.copy()", f"for {k} in range({n}):"]
    body = []
    pos = _positions(ctx, body, case, x, vecs, k)
    op = "=" if node.op.set_instead_of_inc else "+="
    if region == 2:
        body += [f"for {j} in range({x}.shape[1]):",
                 f"    {out}[{pos}, {j}] {op} {val}"]
    else:
        body.append(f"{out}[{pos}] {op} {val}")
    return lines + ["    " + ln for ln in body]
