"""The fused convolution ops in the numba backend (``tensor/ops/conv_fused.py``):
``Conv2dBiasAct`` runs ``conv.conv2d_forward`` with an epilogue that adds
the bias, applies the activation and keeps the sign, for each chunk of the
batch right after its GEMM: in place on the chunk's output (per-image
layout), or in the pass that transposes the chunk's GEMM result into the
output, which the plain convolution makes anyway (per-chunk layout).
``BiasActGrad`` is one loop over the output gradient giving the
activation's gradient and the bias gradient (``lib/conv_epilogue.py``).

Measured (thread CPU, one BLAS thread, 2 busy cores): the forward
epilogue costs about what the separate loop it replaces did (a chunk's
output, 4-5 MiB, is not in L2 when the epilogue reads it; GEMMs over
groups of 7 images, whose output is, measured no better); the gain is in
the gradient, which reads g and an int8 sign instead of g, c and b, and
no longer reads its result again for the bias gradient's sum.

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


def _act_blocks(c, b, code, s):
    """``c = act(c + b)`` on (m, K, positions) blocks, and ``s`` its sign
    (unless None)."""
    if s is None:
        _loops().bias_act_inplace(c, b, code)
    else:
        _loops().bias_act_sign_inplace(c, b, code, s)


class _Epilogue:
    """Called by ``conv2d_forward`` after each GEMM: makes images
    ``b0:b0+m`` of ``out`` their ``act(c + b)`` (from ``res``, the
    per-chunk GEMM's result, unless None) and, with ``keep``, writes their
    sign into ``s`` (allocated on the first call).  ``pool`` ((wh, ww), the
    offsets' dtype; None: no pooling) asks ``conv_threads.forward``'s
    per-image layout to max pool each image in the same pass, which then
    sets ``pooled`` (the pooled output and the offsets); with
    ``shape_only`` that pass may leave the convolution's output unwritten
    (``Conv2dBiasActPool.shape_only``)."""

    def __init__(self, b, code, keep, pool=None, shape_only=False):
        self.b, self.code, self.keep, self.s = b, code, keep, None
        self.pool, self.pooled, self.shape_only = pool, None, shape_only

    def __call__(self, out, res, b0, m):
        if self.keep and self.s is None:
            self.s = np.empty(out.shape, np.int8)
        r = _blocks(out[b0:b0 + m])
        s = _blocks(self.s[b0:b0 + m]) if self.keep else None
        if res is None:   # per-image layout: the GEMM wrote ``c`` in place
            _act_blocks(r, self.b, self.code, s)
        else:
            _loops().bias_act_chunk(res, self.b, self.code, r, r if s is None else s,
                                    self.keep)


def conv2d_bias_act(x, w, b, border_mode, stride, dil, flip, dtype, groups, act, keep,
                    budget=None):
    """``Conv2dBiasAct``: ``act(conv2d(x, w) + b)``, and its int8 sign
    too with ``keep``."""
    r, s, _ = _forward(x, w, b, border_mode, stride, dil, flip, dtype, groups, act, keep,
                       budget)
    return (r, s) if keep else r


def conv2d_bias_act_pool(x, w, b, border_mode, stride, dil, flip, dtype, groups, act, keep,
                         ws, idx_dtype, budget=None, shape_only=False):
    """``Conv2dBiasActPool``: ``conv2d_bias_act``'s results, then its
    output max pooled by ``ws`` windows that tile it and each window's
    first-maximum offset (``idx_dtype``).  In the per-image layout split
    over the pool (W4's and W7's first layer) each image is pooled right
    after its GEMM and epilogue, while in cache and on every thread;
    otherwise in one pass over the output afterwards.  With ``shape_only``
    the split per-image pass keeps each image's output in a buffer of its
    thread and the output returned is never written (its values undefined:
    only its shape is read).

    Measured on W4's step (its 4.7 MB output no longer written): in one
    process alternating the two, 60 steps each, load 0.5, medians 7.30 ->
    7.19 ms; in alternating processes of 120-150 steps, 7 pairs at load
    1.0-1.5, medians 6.82-6.94 against 6.82-6.85 in a fast phase (3 pairs:
    no difference) and 7.05-7.13 against 7.18-7.55 in a slower one (4
    pairs, faster in each): a small gain, larger when memory is busy."""
    ws = tuple(int(n) for n in ws)
    r, s, pooled = _forward(x, w, b, border_mode, stride, dil, flip, dtype, groups, act,
                            keep, budget, (ws, idx_dtype), shape_only)
    if pooled is None:
        from .lib import pool_fused_loops
        n, k, h, w_ = r.shape
        shape = (n, k, h // ws[0], w_ // ws[1])
        pooled = (np.empty(shape, r.dtype), np.empty(shape, idx_dtype))
        pool_fused_loops.max_pool_argmax_image(
            r.reshape(n * k, h, w_), pooled[0].reshape((n * k,) + shape[2:]),
            pooled[1].reshape((n * k,) + shape[2:]), *ws)
    return ((r, s) if keep else (r,)) + pooled


def _forward(x, w, b, border_mode, stride, dil, flip, dtype, groups, act, keep,
             budget=None, pool=None, shape_only=False):
    """``(r, s, pooled)``: ``conv2d_bias_act``'s output and sign (None
    without ``keep``), and with ``pool`` (``_Epilogue``'s) the pooled
    output and offsets where the convolution's pass made them (else None)."""
    if b.ndim != 1 or b.shape[0] != w.shape[0]:
        raise ValueError(f"conv2d bias+activation: bias of shape {b.shape} for filters "
                         f"of shape {w.shape}")
    code = ACTS.index(act)
    bb = np.ascontiguousarray(b, dtype)
    if groups > 1:
        r = conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, groups, budget)
        s = np.empty(r.shape, np.int8) if keep else None
        _act_blocks(_blocks(r), bb, code, None if s is None else _blocks(s))
    else:
        epi = _Epilogue(bb, code, keep, pool, shape_only)
        r = conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, 1, budget, epi)
        s = epi.s if epi.s is not None or not keep else np.empty(r.shape, np.int8)
        return r, s, epi.pooled
    return r, s, None


def bias_act_grad(g, s, act, dtype, inplace=False):
    """``BiasActGrad``: ``(gc, gb)`` in one pass over ``g``; ``gc`` written
    over ``g`` with ``inplace`` (when ``g`` is a C-contiguous array of the
    dtype: a fresh array's first writes fault its pages in)."""
    if g.shape != s.shape:
        raise ValueError(f"bias+activation gradient: g of shape {g.shape} and the sign "
                         f"of shape {s.shape} differ")
    own = inplace and g.dtype == dtype and g.flags.c_contiguous
    g = np.ascontiguousarray(g, dtype)
    gb = np.empty(g.shape[1], dtype)
    args = (_blocks(np.ascontiguousarray(s)), ACTS.index(act))
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
              f"{op.keep_sign!r}")
    return ["from symnet.backend.numba_cpu.conv_fused import conv2d_bias_act as "
            "_conv2d_bias_act",
            f"{', '.join(outs)} = _conv2d_bias_act({', '.join(ins)}, {params})"], True


_conv_bias_act.uses_pool = True     # conv2d_forward's threads: its step holds BLAS (step_pool.py)


@driver_op(BiasActGrad)
def _bias_act_grad(node, ins, outs):
    dtype = node.outputs[0].type.dtype
    return ["from symnet.backend.numba_cpu.conv_fused import bias_act_grad as "
            "_bias_act_grad",
            f"{outs[0]}, {outs[1]} = _bias_act_grad({', '.join(ins)}, {node.op.act!r}, "
            f"{dtype!r}, {node.op.inplace!r})"], True
