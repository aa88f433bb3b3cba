"""Numba templates for the common cases of advanced indexing: integer
vectors picking elements of a matrix (``x[rows, cols]``, the gradient of
``CrossentropyCategorical1Hot``) or items/rows of a vector/matrix
(``x[idx]``), read (``AdvancedSubtensor``) or added/written into a copy
(``AdvancedIncSubtensor``; adding accumulates repeated indices like
``np.add.at``).  Indices are checked and wrapped as numpy does (numba does
not check bounds).

Masks, slices, new axes and other ranks are one driver line each
(``driver_cases``): numpy's own fancy indexing (``advanced_get`` /
``advanced_inc``, what the ops' ``perform`` calls) on the whole arrays, as
fast as a loop and exactly numpy's semantics.  Sorting, cumulative ops,
``bincount`` and ``nonzero`` are driver lines too: one numpy call each
(numpy's sorts and scans are compiled already; a numba loop would not be
faster).
"""
from .dispatch import driver_op
from ..registry import register_kernel
from ...tensor.ops.advanced import (ARR, AdvancedIncSubtensor, AdvancedSubtensor, ArgSort,
                                    BinCount, CumOp, Nonzero, Sort)

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


def _op_call(node, fn, args):
    """The lines calling ``fn`` of ``tensor/ops/advanced.py`` with a copy of
    ``node.op`` (its ``desc`` is plain tuples: its repr rebuilds it)."""
    op = node.op
    cls = type(op).__name__
    extra = f", {op.set_instead_of_inc!r}" if isinstance(op, AdvancedIncSubtensor) else ""
    return [f"from symnet.tensor.ops.advanced import {cls} as _{cls}, {fn} as _{fn}",
            f"_{fn}(_{cls}({op.desc!r}{extra}), {args})"]


def advanced_subtensor_driver(node, ins, outs):
    x, *vals = ins
    imp, call = _op_call(node, "advanced_get", f"{x}, ({''.join(v + ', ' for v in vals)})")
    return [imp, f"{outs[0]} = {call}"], False


def advanced_inc_subtensor_driver(node, ins, outs):
    x, y, *vals = ins
    imp, call = _op_call(node, "advanced_inc",
                         f"{x}, {y}, ({''.join(v + ', ' for v in vals)})")
    return [imp, f"{outs[0]} = {call}"], True


advanced_subtensor_kernel.driver_cases = advanced_subtensor_driver
advanced_inc_subtensor_kernel.driver_cases = advanced_inc_subtensor_driver


@driver_op(Sort)
def sort_driver(node, ins, outs):
    return [f"{outs[0]} = _np.sort({ins[0]}, axis={node.op.axis})"], True


@driver_op(ArgSort)
def argsort_driver(node, ins, outs):
    return [f"{outs[0]} = _np.argsort({ins[0]}, axis={node.op.axis}).astype(_np.int64, "
            f"copy=False)"], True


@driver_op(CumOp)
def cumop_driver(node, ins, outs):
    fn = "cumsum" if node.op.mode == "add" else "cumprod"
    dt = node.outputs[0].type.dtype
    return [f"{outs[0]} = _np.asarray(_np.{fn}({ins[0]}, axis={node.op.axis}), "
            f"dtype=_np.{dt})"], True


@driver_op(BinCount)
def bincount_driver(node, ins, outs):
    x = ins[0]
    w = ins[1] if node.op.weighted else "None"
    dt = node.outputs[0].type.dtype
    return [f"if {x}.size and {x}.min() < 0:",
            "    from symnet.tensor.ops.advanced import NegativeCountError as _Neg",
            f"    raise _Neg('bincount: input has negative value %s' % {x}.min())",
            f"{outs[0]} = _np.bincount({x}, weights={w}, minlength={node.op.minlength})"
            f".astype(_np.{dt})"], True


@driver_op(Nonzero)
def nonzero_driver(node, ins, outs):
    x = ins[0]
    return [f"{outs[0]} = _np.asarray(_np.nonzero({x}), dtype=_np.int64)"
            f".reshape({x}.ndim, -1)"], True
