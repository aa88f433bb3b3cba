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

``local_pool_conv_grad_weights`` goes one step further when the fused
op's ``gc`` is read by an ungrouped ``Conv2dGradWeights`` only (a first
layer, whose input needs no gradient: W4's): the two become
``PoolConvGradWeights``, so the numba kernel makes ``gc`` an image at a
time right before that image's GEMM and never writes it whole.

``local_conv_bias_act_pool`` does the same for the forward: a
``MaxPoolArgmax`` with tiling windows of a ``Conv2dBiasAct``'s output
and the convolution become ``Conv2dBiasActPool``, whose kernel pools each
image right after its convolution, while in cache.
``local_conv_pool_shape_only`` then marks that op ``shape_only`` when
nothing reads the convolution's output but the pooling gradients (which
read its shape only), so its kernel need not write it.
"""
from ...graph.rewriting import register_local
from ..ops.conv import Conv2dGradWeights
from ..ops.conv_fused import BiasActGrad, Conv2dBiasAct
from ..ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad
from ..ops.pool_fused import Conv2dBiasActPool, MaxPoolBiasActGrad, PoolConvGradWeights
from .basic import fit_type

__all__ = ["local_pool_bias_act_grad", "local_pool_conv_grad_weights",
           "local_conv_bias_act_pool", "local_conv_pool_shape_only"]


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


@register_local("numba", tracks=[Conv2dGradWeights], optional=True)
def local_pool_conv_grad_weights(fgraph, node):
    """``Conv2dGradWeights(x, MaxPoolBiasActGrad(c, idx, gz, s)[0], shape)``
    -> ``PoolConvGradWeights``, which also gives the bias gradient."""
    x, gc, shape = node.inputs
    pg = gc.owner
    if pg is None or not isinstance(pg.op, MaxPoolBiasActGrad) or gc is not pg.outputs[0] \
            or node.op.num_groups != 1 or x.ndim != 4 \
            or len(fgraph.clients.get(gc, ())) != 1 \
            or not (x.dtype == gc.dtype == node.outputs[0].dtype):
        return None
    gw, gb = PoolConvGradWeights(pg.op, node.op)(x, *pg.inputs, shape)
    new = {node.outputs[0]: fit_type(gw, node.outputs[0]),
           pg.outputs[1]: fit_type(gb, pg.outputs[1])}
    if None in new.values():
        return None
    return new


@register_local("numba", tracks=[MaxPoolArgmax], optional=True)
def local_conv_bias_act_pool(fgraph, node):
    """``MaxPoolArgmax(Conv2dBiasAct(x, w, b)[0])`` -> ``Conv2dBiasActPool``
    (the convolution's outputs stay outputs: the gradient reads them)."""
    r = node.inputs[0]
    conv = r.owner
    if conv is None or not isinstance(conv.op, Conv2dBiasAct) or r is not conv.outputs[0] \
            or r.ndim != 4 or not _tiles(node.op):
        return None
    outs = Conv2dBiasActPool(conv.op, node.op)(*conv.inputs)
    new = {old: fit_type(v, old) for old, v in zip(conv.outputs + node.outputs, outs)}
    if None in new.values():
        return None
    return new


#: the ops that read only the shape of their input at this position
#: (``x`` of ``MaxPoolBiasActGrad``, ``c`` of ``PoolConvGradWeights``)
_SHAPE_READERS = {MaxPoolBiasActGrad: 0, PoolConvGradWeights: 1}


@register_local("numba", tracks=[Conv2dBiasActPool], optional=True)
def local_conv_pool_shape_only(fgraph, node):
    """``Conv2dBiasActPool`` -> the same with ``shape_only`` when every
    client of its convolution output ``r`` reads only ``r``'s shape (it is
    no output of the graph).  A rewrite of its own on the fused node, not
    a test inside ``local_conv_bias_act_pool``: when that one runs, the
    gradient's pair may not be fused yet (its readers then read values)."""
    if node.op.shape_only:
        return None
    r = node.outputs[0]
    for client, i in fgraph.clients.get(r, ()):
        if client == "output" or _SHAPE_READERS.get(type(client.op)) != i:
            return None
    outs = Conv2dBiasActPool(node.op.conv, node.op.pool, True)(*node.inputs)
    return dict(zip(node.outputs, outs))
