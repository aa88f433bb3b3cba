"""``local_add_slices_to_join``: a sum of values written into disjoint
slices of zeros that cover the axis is their concatenation.

The gradient of taking slices of one value (an LSTM's four gates out of one
``(batch, 4 * hidden)`` product) is one ``inc_subtensor(zeros, g_k)`` per
slice, summed: a zero fill, a copy of the whole array per slice and a
k-way add, per step of the backward loop.  When the slices are constant,
along one axis, disjoint and cover it, the sum is ``concatenate(g_k)``:
one pass.

``local_useless_subtensor``: ``x[:]`` (kept as a node when built, as in
Theano, so that ``set_subtensor(x[:], y)`` works) is ``x``.
"""
from ...graph.rewriting import register_local
from ..ops.elemwise import Elemwise
from ..ops.indexing import IncSubtensor, Subtensor
from ..ops.shape import Alloc, Join
from .basic import const_value, fit_type, scalar_name

__all__ = ["local_add_slices_to_join", "local_useless_subtensor"]


def _pieces(fgraph, root):
    """The ``_piece`` of every term of the tree of ``add`` nodes under
    ``root`` (an inner add is looked through when ``root``'s tree is its
    only client), or None as soon as one term is not a piece: the terms of
    each add are checked as it is opened, so a long sum of other terms (the
    2,000-term sum of W9, whose every add node this rewrite visits) is
    given up at its first add, not walked to its end from each one."""
    pieces, stack = [], [root]
    while stack:
        inner = []
        for v in stack.pop().owner.inputs:
            if scalar_name(v) == "add" and len(fgraph.clients.get(v, ())) == 1:
                inner.append(v)
                continue
            p = _piece(v)
            if p is None:
                return None
            pieces.append(p)
        stack.extend(reversed(inner))
    return pieces


def _piece(v):
    """(zeros, axis, start, stop, value) when ``v`` writes ``value`` into one
    constant slice of an ``Alloc`` of zeros; else None."""
    node = v.owner
    if node is None or not isinstance(node.op, IncSubtensor) or len(node.inputs) != 2:
        return None
    zeros, y = node.inputs
    if zeros.owner is None or not isinstance(zeros.owner.op, Alloc) or \
            const_value(zeros.owner.inputs[0]) != 0:
        return None
    found = None
    for axis, e in enumerate(node.op.idx_list):
        if not isinstance(e, slice):
            return None
        if e == slice(None, None, None):
            continue
        start = 0 if e.start is None else e.start
        if found is not None or e.step not in (None, 1) or not isinstance(start, int) or \
                not isinstance(e.stop, int) or start < 0 or e.stop <= start:
            return None
        found = (axis, start, e.stop)
    if found is None or y.ndim != zeros.ndim:
        return None
    # the value must fill its slice without broadcasting
    for d, (ys, zs) in enumerate(zip(y.type.shape, zeros.type.shape)):
        want = found[2] - found[1] if d == found[0] else zs
        if ys == 1 and want != 1:
            return None
        if ys is not None and want is not None and ys != want:
            return None
    return (zeros,) + found + (y,)


def _same_zeros(a, b, axis):
    """Whether the zeros ``a`` and ``b`` have the same shape whenever the sum
    runs: the same ``Alloc`` inputs, or (a gradient through ``add(x, y)``
    allocates one from ``x.shape``, another from ``y.shape``) the same static
    size along ``axis`` and no broadcastable axis, so Theano's broadcasting
    rule makes the sum raise where their shapes differ, as the join does."""
    ia, ib = a.owner.inputs, b.owner.inputs
    if len(ia) == len(ib) and all(u is v for u, v in zip(ia, ib)):
        return True
    return a.ndim == b.ndim and a.type.shape[axis] == b.type.shape[axis] and \
        not any(a.type.broadcastable) and not any(b.type.broadcastable)


@register_local("canonicalize", tracks=[Elemwise], scalars=["add"])
def local_add_slices_to_join(fgraph, node):
    """``sum_k inc_subtensor(zeros[.., a_k:b_k], g_k)`` over slices covering
    the axis: ``concatenate(g_k)``."""
    out = node.outputs[0]
    pieces = _pieces(fgraph, out)
    if pieces is None or len(pieces) < 2:
        return None
    zeros, axis = pieces[0][0], pieces[0][1]
    size = zeros.type.shape[axis]
    if size is None or any(p[1] != axis or not _same_zeros(p[0], zeros, axis)
                           for p in pieces):
        return None
    pieces.sort(key=lambda p: p[2])
    end = 0
    for p in pieces:
        if p[2] != end:
            return None        # a gap or an overlap
        end = p[3]
    if end != size:
        return None
    return [fit_type(Join(axis)(*[p[4] for p in pieces]), out)]


@register_local("canonicalize", tracks=[Subtensor])
def local_useless_subtensor(fgraph, node):
    """``x[:, :]`` (only full slices) -> ``x``."""
    if all(e == slice(None) for e in node.op.idx_list):
        return [fit_type(node.inputs[0], node.outputs[0])]
    return None
