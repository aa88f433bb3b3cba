"""Rewrites of reductions: nested sums become one, empty reductions vanish,
a reduction over a reversed axis reads the unreversed value."""
from ...graph.rewriting import register_local
from ..ops.elemwise import cast
from ..ops.indexing import Subtensor
from ..ops.reduction import Reduce
from .basic import fit_type, single_client

__all__ = ["local_sum_sum", "local_reduce_no_axis", "local_reduce_reversed"]


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


@register_local("canonicalize", tracks=[Reduce])
def local_reduce_reversed(fgraph, node):
    """``sum(x[::-1], axes)`` -> ``sum(x, axes)`` when axis 0 is reduced
    (also prod, max, min): the order of the terms does not change the
    result (only float rounding, as any other summation order).

    Why: BPTT returns its per-step gradients reversed in time; the bias
    gradient summed them through a copy of the reversed view (the kernels
    take C-contiguous arrays), one pass over (steps, batch, 4 * hidden)."""
    op = node.op
    (x,) = node.inputs
    if op.kind not in ("sum", "prod", "max", "min") or 0 not in op.axis or \
            x.owner is None or not isinstance(x.owner.op, Subtensor) or \
            len(x.owner.inputs) != 1 or \
            tuple(x.owner.op.idx_list) != (slice(None, None, -1),):
        return None
    out = node.outputs[0]
    return [fit_type(Reduce(op.kind, op.axis)(x.owner.inputs[0]), out)]
