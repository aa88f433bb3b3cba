"""``local_pool_bias_act_grad``: a max-pooling gradient read only by the
convolution epilogue's gradient, the pair fused into ``MaxPoolBiasActGrad``
(``tensor/ops/pool_fused.py``), so the mostly-zero pooling gradient is
never written and read back.

It matches ``BiasActGrad(MaxPoolArgmaxGrad(x, idx, gz), s)`` (what
``conv_epilogue`` and ``local_pool_argmax`` make of a CNN layer's
gradient) on a 4-D ``x`` pooled over its last two axes with windows that
tile it (stride = window, no padding, ``ignore_border``: each position in
at most one window), when the pooling gradient has no other client.
Optional, tag ``numba`` (``Mode.rewrite`` runs it for the numba backend,
which has its kernel): a local rewrite of the cleanup phase, after the
fusion phase made the ``BiasActGrad``.
"""
from ...graph.rewriting import register_local
from ..ops.conv_fused import BiasActGrad
from ..ops.pool import MaxPoolArgmaxGrad
from ..ops.pool_fused import MaxPoolBiasActGrad
from .basic import fit_type

__all__ = ["local_pool_bias_act_grad"]


def _tiles(op):
    return len(op.ws) == 2 and op.ignore_border and not any(op.pad) \
        and tuple(op.stride) == tuple(op.ws)


@register_local("numba", tracks=[BiasActGrad], optional=True)
def local_pool_bias_act_grad(fgraph, node):
    """``BiasActGrad(MaxPoolArgmaxGrad(x, idx, gz), s)`` -> ``MaxPoolBiasActGrad``."""
    g, s = node.inputs
    pg = g.owner
    if pg is None or not isinstance(pg.op, MaxPoolArgmaxGrad) or not _tiles(pg.op):
        return None
    x, idx, gz = pg.inputs
    if x.ndim != 4 or s.ndim != 4 or len(fgraph.clients.get(g, ())) != 1 \
            or gz.dtype != x.dtype or node.outputs[0].dtype != x.dtype:
        return None
    op = pg.op
    gc, gb = MaxPoolBiasActGrad(op.ws, op.ignore_border, op.stride, op.pad,
                                node.op.act)(x, idx, gz, s)
    new = [fit_type(gc, node.outputs[0]), fit_type(gb, node.outputs[1])]
    if new[0] is None or new[1] is None:
        return None
    return dict(zip(node.outputs, new))
