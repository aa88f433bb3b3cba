"""Basic indexing in the numba backend: ``Subtensor`` as a numpy slice in
the driver (a view) and ``IncSubtensor`` writing into a copy (or, when the in-place
rewrite allows it, into the input buffer).  Integer indices are checked
against the axis size: numba does not check bounds itself."""
from ..registry import register_kernel
from .dispatch import driver_op
from ...tensor.ops.indexing import IN, IncSubtensor, Subtensor

__all__ = []


def _index(x, idx_list, scalars, lines, ctx):
    """Source of the index tuple; appends bounds checks to ``lines``."""
    it = iter(scalars)

    def part(p):
        if p is None:
            return ""
        return next(it) if p == IN else str(int(p))
    items = []
    for axis, e in enumerate(idx_list):
        if isinstance(e, slice):
            start, stop, step = part(e.start), part(e.stop), part(e.step)
            items.append(f"{start}:{stop}" + (f":{step}" if step else ""))
            if e.step == IN:
                lines.append(f"if {step} == 0:")
                lines.append("    raise ValueError('slice step cannot be zero')")
        else:
            i = part(e)
            lines.append(f"if not (-{x}.shape[{axis}] <= {i} < {x}.shape[{axis}]):")
            lines.append(f"    raise IndexError('index out of bounds for axis {axis}')")
            items.append(i)
    return ", ".join(items)


def _view_in_njit(node):
    """Whether the index can be written in njit code: constant indices (no
    scalar inputs) and a view (not 0-d) out."""
    return node.outputs[0].type.ndim > 0 and len(node.inputs) == 1


@driver_op(Subtensor, njit=_view_in_njit)
def subtensor_driver(node, ins, outs):
    """Subtensor in the driver: a numpy index (a view; numpy checks bounds)."""
    x, *scalars = ins
    if node.inputs[0].type.ndim == 0 or not node.op.idx_list:
        return [f"{outs[0]} = {x}"], False
    it = iter(scalars)

    def part(p):
        if p is None:
            return ""
        return f"int({next(it)})" if p == IN else str(int(p))
    items, lines = [], []
    for axis, e in enumerate(node.op.idx_list):
        if isinstance(e, slice):
            start, stop, step = part(e.start), part(e.stop), part(e.step)
            items.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            items.append(part(e))
            if e != IN:     # numba does not check bounds: the line does (njit_driver.py)
                lines += [f"if not (-{x}.shape[{axis}] <= {int(e)} < {x}.shape[{axis}]):",
                          f"    raise IndexError('index {int(e)} is out of bounds for axis "
                          f"{axis}')"]
    expr = f"{x}[{', '.join(items)}{',' if len(items) == 1 else ''}]"
    if node.outputs[0].type.ndim == 0:
        expr = f"_np.asarray({expr})"
    return lines + [f"{outs[0]} = {expr}"], False


@register_kernel("numba", IncSubtensor)
def inc_subtensor_kernel(node, ins, outs, ctx):
    x, y, *scalars = ins
    xv = node.inputs[0]
    if xv.type.ndim == 0 or not node.op.idx_list:
        raise NotImplementedError("indexing a 0-d value")
    lines = []
    idx = _index(x, node.op.idx_list, scalars, lines, ctx)
    out = outs[0]
    if node.op.inplace and ctx.can_destroy(xv):
        lines.append(f"{out} = {x}")
    else:
        lines.append(f"{out} = {x}.copy()")
    k = xv.type.ndim - sum(not isinstance(e, slice) for e in node.op.idx_list)
    if k == 0:   # one element
        new = y if node.op.set_instead_of_inc else f"{out}[{idx}] + {y}"
        return lines + [f"{out}[{idx}] = {new}"]
    # The region is a view; the loop over it is much cheaper for numba to
    # compile than an array expression assigned through a slice.
    region = ctx.tmp("v")
    lines.append(f"{region} = {out}[{idx}]")
    yv = node.inputs[1]
    m = yv.type.ndim
    js = [ctx.tmp("j") for _ in range(k)]
    ysub = []
    for a in range(m):          # y's axes line up with the region's last m axes
        r = k - m + a
        if yv.type.shape[a] == 1:
            ysub.append("0")
            continue
        lines.append(f"if {y}.shape[{a}] != {region}.shape[{r}]:")
        lines.append(f"    if {y}.shape[{a}] != 1:")
        lines.append(f"        raise ValueError('inc_subtensor: value shape does not fit "
                     f"the region along axis {r}')")
        ysub.append(f"({js[r]} if {y}.shape[{a}] != 1 else 0)")
    elem = f"{y}[{', '.join(ysub)}]" if m else y
    for d, j in enumerate(js):
        lines.append("    " * d + f"for {j} in range({region}.shape[{d}]):")
    at = f"{region}[{', '.join(js)}]"
    new = elem if node.op.set_instead_of_inc else f"{at} + {elem}"
    lines.append("    " * k + f"{at} = {new}")
    return lines
