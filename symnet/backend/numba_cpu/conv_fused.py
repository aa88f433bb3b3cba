"""The fused convolution ops in the numba backend (``tensor/ops/conv_fused.py``):
``Conv2dBiasAct`` runs ``conv.conv2d_forward`` with an epilogue that adds
the bias and applies the activation to each chunk's output right after its
GEMM (per-image layout: in place on the block, or into the result when the
convolution's output is kept; per-chunk layout: in the pass that transposes
the GEMM's result into the output, which the plain convolution makes
anyway); ``BiasActGrad`` is one loop over the output gradient giving the
activation's gradient and the bias gradient (``lib/conv_epilogue.py``).

A grouped convolution applies the epilogue after all its groups (one more
pass over the output, as unfused).
"""
import numpy as np

from .conv import conv2d_forward
from .dispatch import driver_op
from ...tensor.ops.conv_fused import ACTS, BiasActGrad, Conv2dBiasAct

__all__ = ["conv2d_bias_act", "bias_act_grad"]


def _loops():
    """``lib/conv_epilogue.py``, imported on first use (building a graph
    never imports numba)."""
    from .lib import conv_epilogue
    return conv_epilogue


def _blocks(a):
    """``a`` (B, K, ...) as (B, K, positions)."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _act_blocks(c, b, code, r):
    """``r = act(c + b)`` on (m, K, positions) blocks, ``r`` maybe ``c``."""
    if r is c:
        _loops().bias_act_images_inplace(c, b, code)
    else:
        _loops().bias_act_images(c, b, code, r)


class _Epilogue:
    """Called by ``conv2d_forward`` after each chunk's GEMM: writes the
    chunk's ``act(c + b)`` (and, with ``keep``, its ``c`` from the per-chunk
    GEMM's result).  ``r`` is the result, allocated on the first chunk
    (the output array itself unless ``keep``)."""

    def __init__(self, b, code, keep):
        self.b, self.code, self.keep, self.r = b, code, keep, None

    def __call__(self, out, res, b0, m):
        if self.r is None:
            self.r = np.empty_like(out) if self.keep else out
        c, r = _blocks(out[b0:b0 + m]), _blocks(self.r[b0:b0 + m])
        if res is None:   # per-image layout: the GEMM wrote ``c`` in place
            _act_blocks(c, self.b, self.code, r)
        else:
            _loops().bias_act_chunk(res, self.b, self.code, r, c, self.keep)


def conv2d_bias_act(x, w, b, border_mode, stride, dil, flip, dtype, groups, act, keep,
                    budget=None):
    """``Conv2dBiasAct``: ``act(conv2d(x, w) + b)``, and ``conv2d(x, w)``
    too with ``keep``."""
    if b.ndim != 1 or b.shape[0] != w.shape[0]:
        raise ValueError(f"conv2d bias+activation: bias of shape {b.shape} for filters "
                         f"of shape {w.shape}")
    code = ACTS.index(act)
    bb = np.ascontiguousarray(b, dtype)
    if groups > 1:
        c = conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, groups, budget)
        r = np.empty_like(c) if keep else c
        _act_blocks(_blocks(c), bb, code, _blocks(r))
    else:
        epi = _Epilogue(bb, code, keep)
        c = conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, 1, budget, epi)
        r = epi.r if epi.r is not None else (np.empty_like(c) if keep else c)
    return (r, c) if keep else r


def bias_act_grad(g, c, b, act, dtype, inplace=False):
    """``BiasActGrad``: ``(gc, gb)`` in one pass over ``g``; ``gc`` written
    over ``g`` with ``inplace`` (when ``g`` is a C-contiguous array of the
    dtype: a fresh array's first writes fault its pages in, as much time
    as the loop itself on W7's first layer)."""
    if g.shape != c.shape or b.shape != (c.shape[1],):
        raise ValueError(f"bias+activation gradient: g of shape {g.shape}, conv output "
                         f"{c.shape} and bias {b.shape} do not match")
    own = inplace and g.dtype == dtype and g.flags.c_contiguous
    g = np.ascontiguousarray(g, dtype)
    gb = np.empty(g.shape[1], dtype)
    args = (_blocks(np.ascontiguousarray(c, dtype)), np.ascontiguousarray(b, dtype),
            ACTS.index(act))
    if own:
        _loops().bias_act_grad_inplace(_blocks(g), *args, gb)
        return g, gb
    gc = np.empty(g.shape, dtype)
    _loops().bias_act_grad(_blocks(g), *args, _blocks(gc), gb)
    return gc, gb


@driver_op(Conv2dBiasAct)
def _conv_bias_act(node, ins, outs):
    op, dtype = node.op, node.outputs[0].type.dtype
    params = (f"{op.border_mode!r}, {op.subsample!r}, {op.filter_dilation!r}, "
              f"{op.filter_flip!r}, {dtype!r}, {op.num_groups!r}, {op.act!r}, "
              f"{op.keep_conv!r}")
    return ["from symnet.backend.numba_cpu.conv_fused import conv2d_bias_act as "
            "_conv2d_bias_act",
            f"{', '.join(outs)} = _conv2d_bias_act({', '.join(ins)}, {params})"], True


@driver_op(BiasActGrad)
def _bias_act_grad(node, ins, outs):
    dtype = node.outputs[0].type.dtype
    return ["from symnet.backend.numba_cpu.conv_fused import bias_act_grad as "
            "_bias_act_grad",
            f"{outs[0]}, {outs[1]} = _bias_act_grad({', '.join(ins)}, {node.op.act!r}, "
            f"{dtype!r}, {node.op.inplace!r})"], True
