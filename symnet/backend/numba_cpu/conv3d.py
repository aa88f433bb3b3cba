"""3-D convolution in the numba backend: ``Conv3d`` and its two gradients
as vol2col plus BLAS GEMMs over chunks of the batch (as ``conv.py`` does
in 2-D).

Each op is one driver line calling a function of this module.  A compiled
loop (``lib/conv3d_loops.py``) fills the column matrix of a chunk of
volumes (``(C*kd*kh*kw, chunk*Od*Oh*Ow)``, the zero border written, never a
padded copy of the input), then

- forward: ``W (K, C*kd*kh*kw) @ cols``, one GEMM per chunk;
- gradient wrt the filters: ``cols @ gz.T``, one GEMM per chunk, summed;
- gradient wrt the input: ``W.T @ gz`` gives the columns of a chunk, which
  the adjoint loop (``col2vol``) adds back into the input's shape.

A grouped convolution (``num_groups=g``) runs the same steps per group on
the chunk: the group's channels into the column buffer (C/g*kd*kh*kw
rows), then the group's GEMM, writing the group's slice of the result; one
buffer serves every group and chunk.

The chunk is as many volumes as fit ``conv.COLUMN_BUDGET`` bytes of
columns (at least one), so a large batch never allocates its whole column
matrix.  The output sizes of the input gradient are read from the output
gradient, and taps that fall in the padding are dropped, as the op's
``perform`` does (so a transposed convolution may ask for any input size
its gradient covers).
"""
import numpy as np

from .conv import column_chunk
from .dispatch import driver_op
from ...tensor.ops.conv import conv_output_length
from ...tensor.ops.conv3d import (Conv3d, Conv3dGradInputs, Conv3dGradWeights, _pads,
                                  split_groups)

__all__ = ["conv3d_forward", "conv3d_grad_weights", "conv3d_grad_inputs"]


def _alloc(shape, dtype):
    """The column buffer of one chunk (a function so tests can watch sizes)."""
    return np.empty(shape, dtype)


def _loops():
    """The compiled loops, imported on first use (building a graph never
    imports numba)."""
    from .lib import conv3d_loops
    return conv3d_loops


def _geometry(in_sizes, ks, border_mode, stride, dil):
    """(pads, output sizes) of one 3-D convolution."""
    ks = tuple(int(k) for k in ks)
    pads = tuple(int(p) for p in _pads(border_mode, ks, dil))
    outs = tuple(conv_output_length(int(n), k, p, s, d) for n, k, p, s, d in
                 zip(in_sizes, ks, pads, stride, dil))
    return pads, outs


def _loop_args(ks, stride, dil, pads, outs):
    return (*ks, *stride, *dil, *pads, *outs)


def _chunks(b, rows, outs, dtype, budget):
    """``(b0, m, cols)`` per chunk of the batch, ``cols`` the chunk's
    (rows, m*npos) column matrix; one buffer serves every chunk."""
    npos = int(np.prod(outs))
    n = column_chunk(b, rows, npos, np.dtype(dtype).itemsize, budget)
    buf = _alloc((rows * n * npos,), dtype)
    for b0 in range(0, b, n):
        m = min(n, b - b0)
        yield b0, m, buf[:rows * m * npos].reshape(rows, m * npos)


def _flat_filters(w, flip, dtype):
    """Filters as a (K, C*kd*kh*kw) matrix, flipped for a true convolution."""
    if flip:
        w = w[:, :, ::-1, ::-1, ::-1]
    return np.ascontiguousarray(w, dtype=dtype).reshape(w.shape[0], -1)


def _by_volume(z, m, k, npos, dtype):
    """The chunk's (m, K, *out) gradient as a (K, m*npos) matrix."""
    return np.ascontiguousarray(z.reshape(m, k, npos).transpose(1, 0, 2),
                                dtype=dtype).reshape(k, m * npos)


def conv3d_forward(x, w, border_mode, stride, dil, flip, dtype, groups=1, budget=None):
    """``Conv3d``: ``x`` (B, C, D, H, W) with filters ``w`` (K, C / groups,
    kd, kh, kw)."""
    if x.ndim != 5 or w.ndim != 5 or x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"conv3d: input has {x.shape[1]} channels, filters expect "
                         f"{w.shape[1]} (shapes {x.shape} and {w.shape})"
                         + (f" per group of num_groups={groups}" if groups > 1 else ""))
    slices = split_groups("conv3d", x.shape[1], w.shape[0], groups, (x.shape, w.shape))
    ks = w.shape[2:]
    pads, outs = _geometry(x.shape[2:], ks, border_mode, stride, dil)
    if min(outs) <= 0:
        raise ValueError(f"conv3d: filters of size {ks} do not fit the input {x.shape[2:]} "
                         f"(padding {pads}, dilation {dil})")
    b, k = x.shape[0], w.shape[0]
    kg = k // groups
    wf = _flat_filters(w, flip, dtype)                 # (K, C/g*kd*kh*kw)
    out = np.empty((b, k) + outs, dtype)
    args = _loop_args(ks, stride, dil, pads, outs)
    for b0, m, cols in _chunks(b, wf.shape[1], outs, dtype, budget):
        for xs, ws in slices:
            _loops().vol2col(x[b0:b0 + m, xs].astype(dtype, copy=False), cols, *args)
            res = np.dot(wf[ws], cols)                 # (K/g, m*npos): one GEMM a group
            out[b0:b0 + m, ws] = res.reshape((kg, m) + outs).transpose(1, 0, 2, 3, 4)
    return out


def conv3d_grad_weights(x, gz, shape, border_mode, stride, dil, flip, dtype, groups=1,
                        budget=None):
    """``Conv3dGradWeights``: the filters' gradient, of ``shape`` (K, C /
    groups, kd, kh, kw)."""
    k, c, *ks = (int(s) for s in shape)
    ks = tuple(ks)
    pads, outs = _geometry(x.shape[2:], ks, border_mode, stride, dil)
    b = x.shape[0]
    if gz.ndim != 5 or gz.shape[0] != b or gz.shape[1] != k or x.shape[1] != c * groups or \
            any(n > o for n, o in zip(gz.shape[2:], outs)):
        raise ValueError(f"conv3d filter gradient: output gradient of shape {gz.shape} "
                         f"does not match input {x.shape} and filters {tuple(shape)}"
                         + (f" (num_groups={groups})" if groups > 1 else ""))
    slices = split_groups("conv3d filter gradient", x.shape[1], k, groups, (x.shape, gz.shape))
    outs = tuple(gz.shape[2:])         # as perform: the windows gz covers
    npos = int(np.prod(outs))
    rows, kg = c * int(np.prod(ks)), k // groups
    gwt = np.zeros((groups, rows, kg), dtype)
    args = _loop_args(ks, stride, dil, pads, outs)
    for b0, m, cols in _chunks(b, rows, outs, dtype, budget):
        for acc, (xs, ws) in zip(gwt, slices):
            _loops().vol2col(x[b0:b0 + m, xs].astype(dtype, copy=False), cols, *args)
            # cols @ gz.T: OpenBLAS is much slower on the transposed product (see conv.py)
            acc += np.dot(cols, _by_volume(gz[b0:b0 + m, ws], m, kg, npos, dtype).T)
    gw = gwt.transpose(0, 2, 1).reshape((k, c) + ks)
    if flip:
        gw = gw[:, :, ::-1, ::-1, ::-1]
    return np.ascontiguousarray(gw)


def conv3d_grad_inputs(w, gz, shape, border_mode, stride, dil, flip, dtype, groups=1,
                       budget=None):
    """``Conv3dGradInputs``: the input's gradient (transposed convolution),
    of ``shape``."""
    b, c, *sizes = (int(s) for s in shape)
    k = w.shape[0]
    if w.ndim != 5 or gz.ndim != 5 or gz.shape[0] != b or gz.shape[1] != k or \
            w.shape[1] * groups != c:
        raise ValueError(f"conv3d input gradient: output gradient of shape {gz.shape} and "
                         f"filters {w.shape} do not give an input of shape {tuple(shape)}"
                         + (f" (num_groups={groups})" if groups > 1 else ""))
    slices = split_groups("conv3d input gradient", c, k, groups, (w.shape, gz.shape))
    ks = w.shape[2:]
    pads = tuple(int(p) for p in _pads(border_mode, ks, dil))
    outs = tuple(gz.shape[2:])
    npos, kg = int(np.prod(outs)), k // groups
    wf = _flat_filters(w, flip, dtype)                 # (K, C/g*kd*kh*kw)
    out = np.empty((b, c) + tuple(sizes), dtype)
    args = _loop_args(ks, stride, dil, pads, outs)
    for b0, m, cols in _chunks(b, wf.shape[1], outs, dtype, budget):
        for xs, ws in slices:
            np.dot(wf[ws].T, _by_volume(gz[b0:b0 + m, ws], m, kg, npos, dtype),
                   out=cols)                           # one GEMM a group
            _loops().col2vol(cols, out[b0:b0 + m, xs], *args)
    return out


#: the function of this module that computes each op
_FUNCTIONS = {Conv3d: "conv3d_forward", Conv3dGradWeights: "conv3d_grad_weights",
              Conv3dGradInputs: "conv3d_grad_inputs"}


@driver_op(*_FUNCTIONS)
def conv3d_driver(node, ins, outs):
    """One driver line calling the op's function with the node's inputs and
    the op's parameters."""
    op, fn = node.op, _FUNCTIONS[type(node.op)]
    params = (op.border_mode, op.subsample, op.filter_dilation, op.filter_flip,
              node.outputs[0].type.dtype, op.num_groups)
    return [f"from symnet.backend.numba_cpu.conv3d import {fn} as _{fn}",
            f"{outs[0]} = _{fn}({', '.join(ins)}, {', '.join(map(repr, params))})"], True
