"""Max pooling's gradient from the offsets the forward pass kept.

``local_pool_argmax`` (tag ``numba``: optional, run by the numba backend's
modes only, see ``Mode.rewrite``) turns ``PoolGrad(x, Pool(x), gz)`` of
2-D float max pooling into ``MaxPoolArgmaxGrad(x, idx, gz)``, the forward
``Pool(x)`` into ``MaxPoolArgmax(x)`` (its first output; ``idx`` its
second), so the gradient reads a small offset array instead of the input
and the pooled output (``tensor/ops/pool.py``).  Same values: both
send each window's gradient to its first maximum.  Other backends keep the
pair (they have no kernel for the argmax ops).
"""
from ...graph.rewriting import register_local
from ..ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad, Pool, PoolGrad

__all__ = ["local_pool_argmax"]


def _geometry(op):
    return (op.ws, op.ignore_border, op.stride, op.pad)


@register_local("numba", tracks=[PoolGrad], optional=True)
def local_pool_argmax(fgraph, node):
    """``PoolGrad(x, Pool(x), gz)`` (2-D, float, max) -> the argmax pair."""
    op = node.op
    x, out, gz = node.inputs
    fwd = out.owner
    if op.mode != "max" or len(op.ws) != 2 or fwd is None or fwd.inputs[0] is not x \
            or x.dtype not in ("float32", "float64") or gz.dtype != x.dtype:
        return None
    if isinstance(fwd.op, MaxPoolArgmax) and out is fwd.outputs[0]:
        pair = fwd                          # an earlier PoolGrad of it was rewritten
    elif isinstance(fwd.op, Pool) and fwd.op.mode == "max":
        pair = MaxPoolArgmax(*_geometry(fwd.op)).make_node(x)
    else:
        return None
    if _geometry(pair.op) != _geometry(op):
        return None
    grad = MaxPoolArgmaxGrad(*_geometry(op))(x, pair.outputs[1], gz)
    if pair is fwd:
        return [grad]
    return {out: pair.outputs[0], node.outputs[0]: grad}
