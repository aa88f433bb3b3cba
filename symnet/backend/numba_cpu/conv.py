"""Convolution in the numba backend's driver: ``Conv2d`` and its two
gradients as im2col plus BLAS GEMMs over chunks of the batch.

Each op is one driver line calling a function of this module.  The column
matrix of a chunk of images (``(chunk, C*kh*kw, Ho*Wo)``) is filled by
``kh*kw`` strided copies, then

- forward: one batched GEMM ``W (K, C*kh*kw) @ cols`` writes the chunk's
  output directly in its (chunk, K, Ho, Wo) layout;
- gradient wrt the filters: one GEMM per chunk (``tensordot`` of the
  chunk's output gradient with its columns), summed over chunks;
- gradient wrt the input: one batched GEMM ``W.T @ gz`` gives the chunk's
  columns, scattered back (col2im) with ``kh*kw`` strided adds.

The chunk is as many images as fit ``COLUMN_BUDGET`` bytes of columns (at
least one), so a large batch never allocates its whole column matrix:
the memory beyond the inputs and the result is bounded.  GEMMs are BLAS
either way (numba's ``np.dot`` would call the same BLAS and needs SciPy),
so these lines are the op's numba implementation, not a fallback.
"""
import numpy as np

from .dispatch import driver_op
from ...tensor.ops.conv import (Conv2d, Conv2dGradInputs, Conv2dGradWeights, _padding,
                                conv_output_length)

__all__ = ["COLUMN_BUDGET", "column_chunk", "conv2d_forward", "conv2d_grad_weights",
           "conv2d_grad_inputs"]

#: bytes of im2col columns one chunk of the batch may use
COLUMN_BUDGET = 32 * 2 ** 20


def column_chunk(batch, rows, cols, itemsize, budget=None):
    """How many images one chunk holds: the most whose column matrix
    (``rows * cols`` items each) fits ``budget`` bytes, at least 1."""
    budget = COLUMN_BUDGET if budget is None else budget
    per_image = max(1, rows * cols * itemsize)
    return int(max(1, min(batch, budget // per_image)))


def _alloc(shape, dtype):
    """The column buffer of one chunk (a function so tests can watch sizes)."""
    return np.empty(shape, dtype)


class _Geometry:
    """Sizes of one convolution: pads, output size, strides, dilation."""

    def __init__(self, in_hw, k_hw, border_mode, stride, dil):
        self.k = tuple(int(k) for k in k_hw)
        self.pad = _padding(border_mode, self.k, dil)
        self.stride, self.dil = stride, dil
        self.in_hw = tuple(int(n) for n in in_hw)
        self.out = tuple(conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                         zip(self.in_hw, self.k, self.pad, stride, dil))

    def padded(self, x):
        """The chunk ``x`` with its zero border."""
        ph, pw = self.pad
        if not (ph or pw):
            return x
        out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), x.dtype)
        out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
        return out

    def taps(self):
        """``(i, j, rows, cols)``: each filter tap and the slices of the
        padded input it reads for every output position."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.k, self.stride, self.dil, self.out
        for i in range(kh):
            for j in range(kw):
                yield i, j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), \
                    slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)


def _flat_filters(w, flip, dtype):
    """Filters as a (K, C*kh*kw) matrix, flipped for a true convolution."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    return np.ascontiguousarray(w, dtype=dtype).reshape(w.shape[0], -1)


def _im2col(geo, xp, buf):
    """Fill ``buf`` (n, C, kh, kw, Ho, Wo) from the padded chunk ``xp``."""
    for i, j, rs, cs in geo.taps():
        buf[:, :, i, j] = xp[:, :, rs, cs]


def _check_out(geo, what):
    if min(geo.out) <= 0:
        raise ValueError(f"{what}: filters of size {geo.k} do not fit the input "
                         f"{geo.in_hw} (padding {geo.pad}, dilation {geo.dil})")


def conv2d_forward(x, w, border_mode, stride, dil, flip, dtype, budget=None):
    """``Conv2d``: ``x`` (B, C, H, W) with filters ``w`` (K, C, kh, kw)."""
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d: input has shape {x.shape}, filters {w.shape}: channels "
                         f"differ or not 4-D")
    geo = _Geometry(x.shape[2:], w.shape[2:], border_mode, stride, dil)
    _check_out(geo, "conv2d")
    b, c = x.shape[:2]
    k, (ho, wo) = w.shape[0], geo.out
    wf = _flat_filters(w, flip, dtype)
    out = np.empty((b, k, ho, wo), dtype)
    n = column_chunk(b, wf.shape[1], ho * wo, np.dtype(dtype).itemsize, budget)
    buf = _alloc((n, c) + geo.k + (ho, wo), dtype)
    for b0 in range(0, b, n):
        m = min(n, b - b0)
        _im2col(geo, geo.padded(x[b0:b0 + m]), buf[:m])
        np.matmul(wf, buf[:m].reshape(m, wf.shape[1], ho * wo),
                  out=out[b0:b0 + m].reshape(m, k, ho * wo))
    return out


def conv2d_grad_weights(x, gz, shape, border_mode, stride, dil, flip, dtype, budget=None):
    """``Conv2dGradWeights``: the filters' gradient, of ``shape``."""
    kh, kw = int(shape[2]), int(shape[3])
    geo = _Geometry(x.shape[2:], (kh, kw), border_mode, stride, dil)
    b, c = x.shape[:2]
    k = gz.shape[1]
    if gz.shape[0] != b or tuple(gz.shape[2:]) != geo.out:
        raise ValueError(f"conv2d gradient: output gradient of shape {gz.shape} does not "
                         f"match input {x.shape} and filters {tuple(shape)}")
    rows, npos = c * kh * kw, geo.out[0] * geo.out[1]
    gw = np.zeros((k, rows), dtype)
    n = column_chunk(b, rows, npos, np.dtype(dtype).itemsize, budget)
    buf = _alloc((n, c) + geo.k + geo.out, dtype)
    for b0 in range(0, b, n):
        m = min(n, b - b0)
        _im2col(geo, geo.padded(x[b0:b0 + m]), buf[:m])
        g = gz[b0:b0 + m].reshape(m, k, npos).astype(dtype, copy=False)
        gw += np.tensordot(g, buf[:m].reshape(m, rows, npos), axes=([0, 2], [0, 2]))
    gw = gw.reshape(k, c, kh, kw)
    if flip:
        gw = gw[:, :, ::-1, ::-1]
    return np.ascontiguousarray(gw)


def conv2d_grad_inputs(w, gz, shape, border_mode, stride, dil, flip, dtype, budget=None):
    """``Conv2dGradInputs``: the input's gradient (transposed convolution),
    of ``shape``."""
    b, c, h, wd = (int(s) for s in shape)
    geo = _Geometry((h, wd), w.shape[2:], border_mode, stride, dil)
    k = w.shape[0]
    if gz.shape[0] != b or gz.shape[1] != k or tuple(gz.shape[2:]) != geo.out \
            or w.shape[1] != c:
        raise ValueError(f"conv2d input gradient: output gradient of shape {gz.shape} and "
                         f"filters {w.shape} do not give an input of shape {(b, c, h, wd)}")
    wt = np.ascontiguousarray(_flat_filters(w, flip, dtype).T)    # (C*kh*kw, K)
    (ph, pw), npos = geo.pad, geo.out[0] * geo.out[1]
    out = np.empty((b, c, h, wd), dtype)
    n = column_chunk(b, wt.shape[0], npos, np.dtype(dtype).itemsize, budget)
    buf = _alloc((n, c) + geo.k + geo.out, dtype)
    # the padded canvas also holds what the last taps read beyond the border
    canvas = np.empty((n, c, h + 2 * ph + geo.stride[0] + geo.dil[0] * geo.k[0],
                       wd + 2 * pw + geo.stride[1] + geo.dil[1] * geo.k[1]), dtype)
    for b0 in range(0, b, n):
        m = min(n, b - b0)
        g = gz[b0:b0 + m].reshape(m, k, npos).astype(dtype, copy=False)
        np.matmul(wt, g, out=buf[:m].reshape(m, wt.shape[0], npos))
        cv = canvas[:m]
        cv[...] = 0
        for i, j, rs, cs in geo.taps():
            cv[:, :, rs, cs] += buf[:m, :, i, j]
        out[b0:b0 + m] = cv[:, :, ph:ph + h, pw:pw + wd]
    return out


def _args(op, dtype):
    return (f"{op.border_mode!r}, {op.subsample!r}, {op.filter_dilation!r}, "
            f"{op.filter_flip!r}, {dtype!r}")


_IMPORT = "from symnet.backend.numba_cpu.conv import {0} as _{0}"


@driver_op(Conv2d)
def conv2d_driver(node, ins, outs):
    x, w = ins
    fn = "conv2d_forward"
    return [_IMPORT.format(fn),
            f"{outs[0]} = _{fn}({x}, {w}, {_args(node.op, node.outputs[0].type.dtype)})"], True


@driver_op(Conv2dGradWeights)
def conv2d_grad_weights_driver(node, ins, outs):
    x, gz, shape = ins
    fn = "conv2d_grad_weights"
    return [_IMPORT.format(fn),
            f"{outs[0]} = _{fn}({x}, {gz}, {shape}, "
            f"{_args(node.op, node.outputs[0].type.dtype)})"], True


@driver_op(Conv2dGradInputs)
def conv2d_grad_inputs_driver(node, ins, outs):
    w, gz, shape = ins
    fn = "conv2d_grad_inputs"
    return [_IMPORT.format(fn),
            f"{outs[0]} = _{fn}({w}, {gz}, {shape}, "
            f"{_args(node.op, node.outputs[0].type.dtype)})"], True
