"""Rewrites of reductions: nested sums become one, empty reductions vanish."""
from ...graph.rewriting import register_local
from ..ops.elemwise import cast
from ..ops.reduction import Reduce
from .basic import fit_type, single_client

__all__ = ["local_sum_sum", "local_reduce_no_axis"]


@register_local("canonicalize", tracks=[Reduce])
def local_sum_sum(fgraph, node):
    """``sum(sum(x, a), b)`` -> ``sum(x, a | b)`` (also prod of prod, max of
    max, min of min), when the inner reduction has no other client."""
    op = node.op
    (inner,) = node.inputs
    if op.kind not in ("sum", "prod", "max", "min") or inner.owner is None:
        return None
    iop = inner.owner.op
    if not isinstance(iop, Reduce) or iop.kind != op.kind or not single_client(fgraph, inner):
        return None
    x = inner.owner.inputs[0]
    kept = [i for i in range(x.ndim) if i not in iop.axis]
    axes = tuple(sorted(set(iop.axis) | {kept[b] for b in op.axis}))
    out = node.outputs[0]
    new = Reduce(op.kind, axes)(x)
    if new.dtype != out.dtype:
        return None
    return [fit_type(new, out)]


@register_local("canonicalize", tracks=[Reduce])
def local_reduce_no_axis(fgraph, node):
    """A reduction over no axis is the identity (cast to its dtype)."""
    if node.op.axis:
        return None
    (x,) = node.inputs
    out = node.outputs[0]
    return [fit_type(cast(x, out.dtype), out)]
