"""The ``scan_reuse_saving`` rewrite: the forward loop runs once.

The gradient of a Scan (``grad.py``) reads the products the forward step
computed from its states (``h_{t-1} @ U``) from a copy of the forward Scan
that also stacks them (its op's ``extends`` is the original op).  Both
loops take the same outer inputs; this rewrite replaces the original's
outputs by the copy's first ones, so one loop computes the states and the
saved products.

It is registered before the other scan rewrites (``scan/__init__.py``
imports this module first) and runs at the first visit of either node:
the other rewrites rebuild a Scan with a new op, which would hide the
relation.
"""
from ..graph.rewriting import register_local
from .op import Scan

__all__ = ["scan_reuse_saving"]


@register_local("fast_compile", "canonicalize", "scan", tracks=[Scan])
def scan_reuse_saving(fgraph, node):
    """A Scan whose extended copy runs on the same inputs: replaced by it."""
    op = node.op
    extends = getattr(op, "extends", None)
    for other in fgraph.toposort():
        if other is node or not isinstance(other.op, Scan):
            continue
        if extends is not None and other.op is extends:
            base, ext = other, node
        elif getattr(other.op, "extends", None) is op:
            base, ext = node, other
        else:
            continue
        if len(base.inputs) != len(ext.inputs) or \
                any(a is not b for a, b in zip(base.inputs, ext.inputs)):
            continue
        return {o: e for o, e in zip(base.outputs, ext.outputs) if fgraph.clients.get(o)}
    return None
