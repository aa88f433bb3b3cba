"""The ``scan_flip_smaller`` rewrite: a time-reversed BPTT output reaches
its GEMM without a copy.

Backpropagation through time emits its per-step values in reverse time
order, so the gradient of an input projection pushed out of the loop
(``scan_push_out``'s ``X @ W_in``) is ``dot(M, reshape(G[::-1], (T*B, K)))``
with ``G`` of shape ``(T, B, K)``.  numpy cannot view the reversed ``G`` as
``(T*B, K)`` and copies it (W8: 100 x 32 x 1024 floats, ~1.3 ms).  A GEMM's
rows of its second operand may come in any order as long as the first
operand's columns come in the same one, so the rewrite computes

    dot(reshape(reshape(M, (m, T, B))[:, ::-1], (m, T*B)), reshape(G, (T*B, K)))

where ``reshape(G)`` is a view and the copy moves to ``M`` (``m x T*B``;
W8: 64 input features instead of 1024 gate columns).  It applies only where
the types prove that the reshape merges the first two axes (its last
dimension and ``G``'s are the same known size) and ``M`` is not known to
have more rows than ``K``.
"""
from ..graph.rewriting import register_local
from ..tensor.ops.blas import Dot
from ..tensor.ops.indexing import Subtensor
from ..tensor.ops.shape import Reshape
from .rewriting import TAGS

__all__ = ["scan_flip_smaller"]


def _reversed_3d(v):
    """``G`` when ``v`` is ``G[::-1]`` of a 3-d ``G``, else None."""
    node = v.owner
    if node is None or not isinstance(node.op, Subtensor) or len(node.inputs) != 1:
        return None
    idx = node.op.idx_list
    if len(idx) != 1 or not isinstance(idx[0], slice) or \
            (idx[0].start, idx[0].stop, idx[0].step) != (None, None, -1):
        return None
    g = node.inputs[0]
    return g if g.type.ndim == 3 else None


@register_local(*TAGS, tracks=[Dot])
def scan_flip_smaller(fgraph, node):
    """``dot(M, reshape(G[::-1]))``: the reversal moved to ``M`` (module doc)."""
    from .. import tensor as T
    from ..tensor.rewriting.basic import fit_type
    m, r = node.inputs
    if m.type.ndim != 2 or r.owner is None or not isinstance(r.owner.op, Reshape) or \
            r.type.ndim != 2:
        return None
    g = _reversed_3d(r.owner.inputs[0])
    k = r.type.shape[1]
    if g is None or k is None or g.type.shape[2] != k:
        return None
    rows = m.type.shape[0]
    if rows is not None and rows > k:
        return None
    steps, batch = g.shape[0], g.shape[1]
    m3 = T.reshape(m, (m.shape[0], steps, batch))
    flipped = T.reshape(m3[:, ::-1], (m.shape[0], steps * batch))
    out = fit_type(T.dot(flipped, T.reshape(g, (steps * batch, k))), node.outputs[0])
    return None if out is None else [out]
