"""The ``scan_sum_out`` rewrite: running sums leave the loop.

Backpropagation through time (``scan/grad.py``) carries the gradient of
every non-sequence as a state ``acc_t = acc_{t-1} + g_t`` and returns the
last one.  Adding ``g_t`` step by step costs a pass over the whole
accumulator per step (for an LSTM's 256 x 1024 hidden weights, more than
the step's own work).  When a state is only ever used that way -- its tap
feeds nothing but that one ``add``, and the loop's result is only read as
``out[-1]`` -- the loop instead emits ``g_t`` per step and the sum over
steps is taken after the loop:

- in general, ``acc = init[0] + sum(G, axis=0)``;
- when ``g_t`` is (slices of) ``dot(s_t.T, y_t)`` with ``s_t`` a sequence
  slice (the weight gradient ``h_{t-1}^T delta_t``), the loop emits
  ``y_t`` and the sum is ONE GEMM after the loop:
  ``reshape(S).T @ reshape(Y)`` over every step's rows at once.

With 0 steps the rewritten ``out[-1]`` is the initial value (the loop's
own ``out[-1]`` would be an IndexError); gradients never take that case.
"""
from ..graph.rewriting import register_local
from ..graph.traversal import io_toposort
from .op import Scan
from .rewriting import TAGS, _last_step_clients, _Parts

__all__ = ["scan_sum_out"]


def _uses(op):
    """{inner variable: how many times the inner graph reads it}."""
    count = {}
    for node in io_toposort(op.inner_inputs, op.inner_outputs):
        for v in node.inputs:
            count[v] = count.get(v, 0) + 1
    for v in op.inner_outputs:
        count[v] = count.get(v, 0) + 1
    return count


def _increment(out, tap, uses):
    """``g`` when ``out`` is ``tap + g`` and the tap is read nowhere else."""
    from ..tensor.rewriting.basic import scalar_name
    if out.owner is None or scalar_name(out) != "add" or len(out.owner.inputs) != 2:
        return None
    a, b = out.owner.inputs
    g = b if a is tap else a if b is tap else None
    if g is None or g is tap or uses.get(tap, 0) != 1:
        return None
    return g


def _gemm_form(g, seqs):
    """(per-step y, outer sequence S, slicing ops) when ``g`` is slices of
    ``dot(s_t.T, y_t)``, ``s_t`` a 2-d slice of sequence S; else None."""
    from ..tensor.ops.blas import Dot
    from ..tensor.ops.elemwise import DimShuffle
    from ..tensor.ops.indexing import Subtensor
    chain = []
    v = g
    while v.owner is not None and isinstance(v.owner.op, Subtensor) and \
            len(v.owner.inputs) == 1:
        chain.append(v.owner.op)
        v = v.owner.inputs[0]
    if v.owner is None or not isinstance(v.owner.op, Dot):
        return None
    x, y = v.owner.inputs
    if y.ndim != 2 or x.ndim != 2:
        return None
    if x.owner is not None and isinstance(x.owner.op, DimShuffle) and \
            x.owner.op.new_order == (1, 0):
        outer = seqs.get(x.owner.inputs[0])       # s_t.T inside the loop
    else:
        # s_t.T pushed out of the loop already: a sequence of transposes
        outer = seqs.get(x)
        if outer is not None:
            src = outer.owner
            outer = src.inputs[0] if src is not None and isinstance(src.op, DimShuffle) \
                and src.op.new_order == (0, 2, 1) else None
    if outer is None:
        return None
    return y, outer, chain[::-1]


@register_local(*TAGS, tracks=[Scan])
def scan_sum_out(fgraph, node):
    """Running sums read only at the end: summed after the loop."""
    from .. import tensor as T
    from ..tensor.rewriting.basic import fit_type
    parts = _Parts(node)
    n = parts.n
    uses = _uses(node.op)
    seqs = {s[0]: s[1] for s in parts.seqs}
    plans = {}                  # output index -> (last-step clients, how to sum)
    for j, o in enumerate(parts.outs):
        if o["taps"] != [-1] or o["keep"] not in (None, 1) or o["full"]:
            continue
        last = _last_step_clients(fgraph, o["old"])
        g = _increment(o["inner"], o["tap_inner"][0], uses) if last else None
        if g is None:
            continue
        plans[j] = (last, g, _gemm_form(g, seqs))
    if not plans:
        return None
    # the new outputs: every kept one, then one per distinct per-step value
    new_outs, index, emitted = [], {}, {}
    for j, o in enumerate(parts.outs):
        if j not in plans:
            index[j] = len(new_outs)
            new_outs.append(o)
            continue
        _, g, gemm = plans[j]
        core = gemm[0] if gemm is not None else g
        if core not in emitted:
            emitted[core] = len(new_outs)
            new_outs.append({"inner": core, "taps": None, "tap_inner": [], "init": None,
                             "keep": None, "old": None})
        index[j] = emitted[core]
    parts.outs = new_outs
    res = parts.build()
    rep, sums = {}, {}
    for j, o in enumerate(_Parts(node).outs):
        stacked = res[index[j]]
        if j not in plans:
            rep[o["old"]] = stacked
            continue
        last, g, gemm = plans[j]
        if gemm is None:
            total = T.sum(stacked, axis=0)
        else:
            _, seq, chain = gemm
            key = (index[j], seq)
            if key not in sums:      # one GEMM over every step's rows
                s = seq[:n]
                flat_s = T.reshape(s, (s.shape[0] * s.shape[1], s.shape[2]))
                flat_y = T.reshape(stacked, (stacked.shape[0] * stacked.shape[1],
                                             stacked.shape[2]))
                sums[key] = T.dot(flat_s.T, flat_y)
            total = sums[key]
            for sub in chain:
                total = sub(total)
        value = fit_type(o["init"][0] + total, last[0].outputs[0])
        if value is None:
            return None
        for c in last:
            rep[c.outputs[0]] = value
    return rep
