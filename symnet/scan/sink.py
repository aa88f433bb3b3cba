"""The ``scan_sink_bias`` rewrite: a bias added to a whole sequence is added
inside the loop instead.

Lasagne's recurrent layers precompute their input projection over every
step before the loop, bias included: ``X @ W + b``, a (steps, batch, gates)
array (W8: 100 x 32 x 1024 floats).  Adding ``b`` there is one more pass
over that array in memory (read and write, ~26 MB), and BPTT reads the sum
again.  The loop already adds the projection's step to ``h_{t-1} @ U``
(one elementwise kernel over a row block in cache), so the bias costs
nothing there: this rewrite gives the Scan ``X @ W`` as the sequence and
``b`` as a non-sequence, and its step computes ``x_t + b`` (fused with
what reads it).

It applies to a sequence that is ``P + B`` (an elementwise ``add``; ``B``
broadcast along the step axis, so it is the same every step), possibly
through slices of the step axis (BPTT reads the forward sequence as
``s[:n][::-1]``), when everything that reads the sum is a Scan taking it
(or such a slice) as a sequence, or reads only its shape (moved onto ``P``):
once each of them is rewritten the sum over all steps is no longer
computed.  Values are the same: the step adds
``b`` to ``p_t`` before anything else, as the sum did.
"""
from ..graph.rewriting import register_local
from ..graph.traversal import clone_replace
from .inner import placeholder
from .op import Scan
from .rewriting import TAGS, _Parts

__all__ = ["scan_sink_bias"]


def _time_slice(node):
    """Whether ``node`` is a Subtensor taking one slice of axis 0."""
    from ..tensor.ops.indexing import Subtensor
    if not isinstance(node.op, Subtensor):
        return False
    idx = node.op.idx_list
    return len(idx) == 1 and isinstance(idx[0], slice)


def _match(outer):
    """(the sum, P, [(position, B)]) when ``outer`` is (slices of the step
    axis of) ``P + B...`` with every ``B`` the same on each step; else None."""
    from ..tensor.rewriting.basic import scalar_name
    v = outer
    while v.owner is not None and _time_slice(v.owner):
        v = v.owner.inputs[0]
    node = v.owner
    if node is None or scalar_name(v) != "add" or getattr(node.op, "destroy_map", None):
        return None
    per_step = [i for i, u in enumerate(node.inputs) if not u.type.broadcastable[0]]
    if len(per_step) != 1:
        return None
    p = node.inputs[per_step[0]]
    if any(u.dtype != v.dtype or u.ndim != v.ndim for u in node.inputs) or \
            p.type.shape[1:] != v.type.shape[1:]:
        return None
    bias = [(i, u) for i, u in enumerate(node.inputs) if i != per_step[0]]
    return v, p, bias


def _readers_on_p(fgraph, total, p):
    """``{variable: the same on P}`` for ``total`` and its step-axis slices,
    plus ``{shape reader's output: the same read on P}``, when every reader
    is a Scan taking it as a sequence, such a slice, or reads only its shape
    (the bias does not change it); else None.  Explicit stack."""
    from ..tensor.ops.shape import Shape, Shape_i
    eq, shapes, stack = {total: p}, {}, [total]
    while stack:
        u = stack.pop()
        clients = fgraph.clients.get(u, [])
        if not clients:
            return None
        for client, i in clients:
            if client == "output":
                return None
            if isinstance(client.op, Scan) and 1 <= i <= client.op.n_seqs:
                continue
            if isinstance(client.op, (Shape, Shape_i)):
                shapes[client.outputs[0]] = client.op.make_node(eq[u]).outputs[0]
                continue
            if not (_time_slice(client) and i == 0):
                return None
            out = client.outputs[0]
            if out not in eq:
                eq[out] = client.op.make_node(eq[u], *client.inputs[1:]).outputs[0]
                stack.append(out)
    return eq, shapes


@register_local(*TAGS, tracks=[Scan])
def scan_sink_bias(fgraph, node):
    """A sequence ``P + b`` becomes ``P``, ``b`` added in the step (module doc)."""
    from ..tensor.ops.elemwise import DimShuffle
    parts = _Parts(node)
    replace, shape_reps = {}, {}
    for pair in parts.seqs:
        inner, outer = pair
        m = _match(outer)
        found = None if m is None else _readers_on_p(fgraph, m[0], m[1])
        if found is None:
            continue
        total, p, bias = m
        eq, shapes = found
        new_outer = eq[outer]
        p_t = placeholder(inner.type, inner.name)
        args = [None] * len(total.owner.inputs)
        args[[i for i in range(len(args)) if i not in dict(bias)][0]] = p_t
        for i, b in bias:
            b_outer = DimShuffle(tuple(range(1, b.ndim)))(b)
            b_in = placeholder(b_outer.type, b.name)
            parts.nonseqs.append([b_in, b_outer])
            args[i] = b_in
        step = total.owner.op(*args)
        if step.type != inner.type:
            return None
        replace[inner] = step
        pair[0], pair[1] = p_t, new_outer
        shape_reps.update(shapes)
    if not replace:
        return None
    new_inner = clone_replace([o["inner"] for o in parts.outs], replace)
    for o, v in zip(parts.outs, new_inner):
        o["inner"] = v
    res = parts.replacements(parts.build())
    res.update(shape_reps)
    return res
