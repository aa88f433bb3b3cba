"""The ``scan_full_buffer`` rewrite: ``concatenate([init, out])`` is no copy.

A Scan fills, for each recurrent output, one buffer holding the initial
taps followed by every step, and returns the steps as a view of it.
Backpropagation through time (``scan/grad.py``) reads the states each step
saw, ``concatenate([init, out])[lag + k:lag + k + n]``: on its own that
``Join`` copies the whole forward storage once.  This rewrite asks the Scan
for the buffer itself (``Scan(full=)``): the ``Join`` becomes the new
output and ``out`` a view of it (``full[lag:]``), so the backward pass
reads the forward storage in place.
"""
from ..graph.rewriting import register_local
from ..tensor.ops.shape import Join
from .op import Scan
from .rewriting import TAGS, _Parts

__all__ = ["scan_full_buffer"]


def _match(node):
    """(scan node, output index) when ``node`` is ``Join{0}(init_j, out_j)``
    of a recurrent output ``j`` that keeps every step; else None."""
    if node.op.axis != 0 or len(node.inputs) != 2:
        return None
    init, out = node.inputs
    scan = out.owner
    if scan is None or not isinstance(scan.op, Scan):
        return None
    op = scan.op
    j = scan.outputs.index(out)
    if op.taps[j] is None or op.keep[j] is not None or op.full[j]:
        return None
    si = sum(t is not None for t in op.taps[:j])
    if scan.inputs[1 + op.n_seqs + si] is not init:
        return None
    return scan, j


@register_local(*TAGS, tracks=[Join])
def scan_full_buffer(fgraph, node):
    """``Join{0}(init, out)`` of a Scan's recurrent output: its whole buffer."""
    found = _match(node)
    if found is None:
        return None
    scan, j = found
    parts = _Parts(scan)
    parts.outs[j]["full"] = True
    new = parts.build()
    rep = {}
    for k, (o, v) in enumerate(zip(parts.outs, new)):
        if k == j:
            rep[node.outputs[0]] = v
            if fgraph.clients.get(o["old"]):
                rep[o["old"]] = v[scan.op.lags[j]:]
        elif fgraph.clients.get(o["old"]):
            rep[o["old"]] = v
    return rep
