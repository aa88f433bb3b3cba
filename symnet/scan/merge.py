"""The ``scan_merge`` rewrite: two loops over the same steps become one.

Two Scan nodes with the same ``n_steps`` (the same variable, or equal
constants), the same inner mode and ``truncate_gradient``, reading at
least one sequence in common, where neither depends on the other's
outputs, run as one Scan: its sequences and non-sequences are the union of
both (an outer variable the two share is read through one inner
placeholder, so the inner graphs can share the computation on it: the
rewrite engine's merge then runs inside the new op when it is compiled),
its outputs those of the first followed by those of the second.  One loop
reads the shared sequences once per step and pays the per-step overhead
once.
"""
from ..graph.basic import Constant
from ..graph.rewriting import register_local
from ..graph.traversal import clone_replace
from .op import Scan
from .rewriting import TAGS, _Parts

__all__ = ["scan_merge"]


def _same_length(a, b):
    if a is b:
        return True
    return isinstance(a, Constant) and isinstance(b, Constant) and \
        int(a.data) == int(b.data)


def _depends(node, on):
    """Whether ``node`` reads (through any path) an output of ``on``."""
    seen, stack = set(), list(node.inputs)
    while stack:
        v = stack.pop()
        if v.owner is None or id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is on:
            return True
        stack.extend(v.owner.inputs)
    return False


def _partner(fgraph, node):
    """Another Scan node ``node`` can be merged with, or None."""
    op = node.op
    seqs = {id(v) for v in node.inputs[1:1 + op.n_seqs]}
    for other in fgraph.toposort():
        o = other.op
        if other is node or not isinstance(o, Scan) or o.mode != op.mode or \
                o.truncate_gradient != op.truncate_gradient or \
                not _same_length(other.inputs[0], node.inputs[0]):
            continue
        if not any(id(v) in seqs for v in other.inputs[1:1 + o.n_seqs]):
            continue
        if _depends(other, node) or _depends(node, other):
            continue
        return other
    return None


@register_local(*TAGS, tracks=[Scan])
def scan_merge(fgraph, node):
    """Two scans over the same sequences and ``n_steps``: one scan."""
    other = _partner(fgraph, node)
    if other is None:
        return None
    first, second = _Parts(node), _Parts(other)
    if set(node.op.inner_inputs) & set(other.op.inner_inputs):
        # two loops built on one step graph (the gradient's copy of a
        # forward Scan reuses its placeholders): the second gets its own,
        # or the merged step would list one placeholder twice
        _fresh_inner(second)
    # the second's inner inputs reading an outer variable the first reads
    # too take the first's placeholder
    rep = {}
    for mine, theirs in ((first.seqs, second.seqs), (first.nonseqs, second.nonseqs)):
        by_outer = {id(outer): inner for inner, outer in mine}
        for pair in theirs:
            inner = by_outer.get(id(pair[1]))
            if inner is None:
                mine.append(pair)
            elif inner.type == pair[0].type:
                rep[pair[0]] = inner
            else:
                mine.append(pair)
    if rep:
        outs = clone_replace([o["inner"] for o in second.outs], rep)
        for o, v in zip(second.outs, outs):
            o["inner"] = v
    # recurrent outputs' taps keep their own placeholders (they are per output)
    first.outs = first.outs + second.outs
    if node.op.name or other.op.name:
        first.op = _renamed(node.op, f"{node.op.name or 'scan'}+{other.op.name or 'scan'}")
    new = first.build()
    return {o["old"]: v for o, v in zip(first.outs, new) if fgraph.clients.get(o["old"])}


def _fresh_inner(parts):
    """Give ``parts`` (a ``_Parts``) new inner placeholders, its step
    graph rebuilt on them."""
    from .inner import placeholder
    olds = [p[0] for p in parts.seqs + parts.nonseqs] + \
        [v for o in parts.outs for v in o["tap_inner"]]
    fresh = {v: placeholder(v.type, v.name) for v in olds}
    outs = clone_replace([o["inner"] for o in parts.outs], fresh)
    for o, v in zip(parts.outs, outs):
        o["inner"] = v
        o["tap_inner"] = [fresh[t] for t in o["tap_inner"]]
    for pair in parts.seqs + parts.nonseqs:
        pair[0] = fresh[pair[0]]


class _renamed:
    """The attributes ``_Parts.build`` reads from an op, with another name."""

    def __init__(self, op, name):
        self.mode, self.truncate_gradient, self.name = op.mode, op.truncate_gradient, name
