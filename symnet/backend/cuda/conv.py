"""CUDA convolution: ``Conv2d`` and its two gradients as im2col + GEMM.

``cols`` (batch * out_rows * out_cols, channels * kh * kw) holds, per output
position, the input values under each filter tap (0 in the padding); then

* forward:          ``out[b] = W @ cols[b].T``  (W: filters as (K, C*kh*kw))
* wrt the filters:  ``gW = gz2 @ cols``         (gz2: gz as (K, batch*positions))
* wrt the input:    ``cols_g[b] = gz[b].T @ W``, then col2im sums each input
  element's taps back (one thread per input element, no atomics)

The products are ``blas.matmul3`` (cuBLAS through CuPy on a GPU, the simple
kernel in the simulator).  ``filter_flip`` (a true convolution) gathers tap
``(i, j)`` at ``(kh-1-i, kw-1-j)``, so W is used in its own layout and the
filter gradient comes out in it.  Any border mode, stride and dilation.

Grouped convolutions (``num_groups`` = G): ``cols`` always spans every
input channel, so group g's columns are the contiguous block of channels
``g*C/G ..``, and each product above runs once per group on offset views
(group g's filters, its block of ``cols``, its output channels); im2col
and col2im are the same kernels.
"""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv_output_length
from .blas import as_dtype, matmul3
from .elemwise import contiguous, copy_into
from .memory import c_strides, to_device, to_host, view
from .runtime import compile_kernel, launch, unravel

__all__ = []

_DECODE = """    r = flat % cols.shape[1]
    p = flat // cols.shape[1]
    j = r % kw
    t = r // kw
    i = t % kh
    c = t // kh
    ox = p % wo
    t = p // wo
    oy = t % ho
    b = t // ho
"""

_IM2COL = """@cuda.jit
def kernel(n, x, cols, ho, wo, kh, kw, ph, pw, sh, sw, dh, dw):
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
""" + _DECODE + """    y = oy * sh + {ti} * dh - ph
    xx = ox * sw + {tj} * dw - pw
    if y >= 0 and y < x.shape[2] and xx >= 0 and xx < x.shape[3]:
      cols[p, r] = x[b, c, y, xx]
    else:
      cols[p, r] = 0
"""

_COL2IM = """@cuda.jit
def kernel(n, cols, gx, ho, wo, kh, kw, ph, pw, sh, sw, dh, dw):
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
""" + unravel(["b", "c", "y", "xx"], "gx") + """    acc = np.{acc}(0)
    for i in range(kh):
      ty = y + ph - {ti} * dh
      if ty < 0 or ty % sh != 0 or ty // sh >= ho:
        continue
      for j in range(kw):
        tx = xx + pw - {tj} * dw
        if tx < 0 or tx % sw != 0 or tx // sw >= wo:
          continue
        acc += cols[(b * ho + ty // sh) * wo + tx // sw, (c * kh + i) * kw + j]
    gx[b, c, y, xx] = acc
"""


class _Conv:
    """The geometry and kernels of one conv node (see the module docstring)."""

    def __init__(self, node, rt):
        op = self.op = node.op
        self.rt = rt
        self.dt = node.outputs[0].type.dtype
        taps = dict(ti="(kh - 1 - i)", tj="(kw - 1 - j)") if op.filter_flip else \
            dict(ti="i", tj="j")
        acc = "float64" if self.dt in ("float32", "float64") else self.dt
        self.im2col_text = _IM2COL.format(**taps)
        self.col2im_text = _COL2IM.format(acc=acc, **taps)
        self.text = self.im2col_text + self.col2im_text

    def geometry(self, in_shape, w_shape):
        """(out rows, out cols, launch arguments after the arrays)."""
        op = self.op
        kh, kw = (int(k) for k in w_shape[2:])
        ph, pw = op._pad((kh, kw))
        (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
        ho, wo = (conv_output_length(int(n), k, p, s, d) for n, k, p, s, d in
                  zip(in_shape[2:], (kh, kw), (ph, pw), (sh, sw), (dh, dw)))
        return ho, wo, [ho, wo, kh, kw, ph, pw, sh, sw, dh, dw]

    def _launch(self, text, n, *args):
        if n:
            blocks, threads = launch(n)
            compile_kernel(text)[blocks, threads](n, *args)

    def cols(self, x, w_shape, ho, wo, args):
        x = to_device(x)
        ckk = int(x.shape[1]) * int(np.prod(w_shape[2:]))     # every channel
        cols = self.rt.empty((x.shape[0] * ho * wo, ckk), self.dt)
        self._launch(self.im2col_text, int(np.prod(cols.shape)), x, cols, *args)
        return cols

    def filters2(self, w):
        """The filters as a (K, C*kh*kw) matrix of the output dtype."""
        w = as_dtype(contiguous(to_device(w), self.rt.empty), self.dt, self.rt)
        shape = (w.shape[0], int(np.prod(w.shape[1:])))
        return view(w, shape, c_strides(shape, w.dtype.itemsize))

    def per_group(self, *operands):
        """``matmul3`` once per group: each operand is (array, 3-D shape, byte
        strides, elements from one group's block to the next)."""
        for g in range(self.op.num_groups):
            matmul3(*(view(a, shape, st, g * step) for a, shape, st, step in operands))

    def check_grad(self, name, gz, k, c, ho, wo, kc):
        """A gradient's ``topgrad`` (k filters, c input channels, kc filter
        channels) against the geometry: the kernels index by it."""
        g = self.op.num_groups
        if tuple(gz.shape[1:]) != (k, ho, wo) or c != kc * g or k % g:
            raise ValueError(f"{name}: topgrad {tuple(gz.shape)} does not fit {k} filters of "
                             f"{kc} channels, {c} input channels, num_groups={g} and a "
                             f"{ho}x{wo} output")

    def forward(self, x, w):
        ho, wo, args = self.geometry(x.shape, w.shape)
        cols = self.cols(x, w.shape, ho, wo, args)
        w2 = self.filters2(w)
        b, k, hw, ckk = x.shape[0], w.shape[0], ho * wo, cols.shape[1]
        kg, gckk = k // self.op.num_groups, w2.shape[1]
        out = self.rt.empty((b, k, ho, wo), self.dt)
        it = out.dtype.itemsize
        self.per_group((w2, (b, kg, gckk), (0, gckk * it, it), kg * gckk),
                       (cols, (b, gckk, hw), (hw * ckk * it, it, ckk * it), gckk),
                       (out, (b, kg, hw), (k * hw * it, hw * it, it), kg * hw))
        self.rt.release(cols)
        return out

    def grad_weights(self, x, gz, shape):
        ho, wo, args = self.geometry(x.shape, shape)
        self.check_grad("conv2d filter gradient", gz, shape[0], x.shape[1], ho, wo, shape[1])
        cols = self.cols(x, shape, ho, wo, args)
        b, k, hw, ckk = gz.shape[0], gz.shape[1], ho * wo, cols.shape[1]
        kg, gckk = k // self.op.num_groups, int(np.prod(shape[1:]))
        gz = as_dtype(contiguous(to_device(gz), self.rt.empty), self.dt, self.rt)
        it = gz.dtype.itemsize
        gz_t = self.rt.empty((k, b, hw), self.dt)           # gz as (K, batch, positions)
        copy_into(gz_t, view(gz, (k, b, hw), (hw * it, k * hw * it, it)))
        gw = self.rt.empty(shape, self.dt)
        self.per_group((gz_t, (1, kg, b * hw), (0, b * hw * it, it), kg * b * hw),
                       (cols, (1, b * hw, gckk), (0, ckk * it, it), gckk),
                       (gw, (1, kg, gckk), (0, gckk * it, it), kg * gckk))
        self.rt.release(cols)
        self.rt.release(gz_t)
        return gw

    def grad_inputs(self, w, gz, shape):
        ho, wo, args = self.geometry(shape, w.shape)
        self.check_grad("conv2d input gradient", gz, w.shape[0], shape[1], ho, wo, w.shape[1])
        w2 = self.filters2(w)
        gz = as_dtype(contiguous(to_device(gz), self.rt.empty), self.dt, self.rt)
        b, k, hw = shape[0], w.shape[0], ho * wo
        kg, gckk = k // self.op.num_groups, w2.shape[1]
        it = gz.dtype.itemsize
        ckk = shape[1] * int(np.prod(w.shape[2:]))         # every channel
        cols = self.rt.empty((b * hw, ckk), self.dt)
        self.per_group((gz, (b, hw, kg), (k * hw * it, it, hw * it), kg * hw),
                       (w2, (b, kg, gckk), (0, gckk * it, it), kg * gckk),
                       (cols, (b, hw, gckk), (hw * ckk * it, ckk * it, it), gckk))
        gx = self.rt.empty(shape, self.dt)
        self._launch(self.col2im_text, int(np.prod(shape)), cols, gx, *args)
        self.rt.release(cols)
        return gx


def _check_channels(g, x, w):
    if x.shape[1] != w.shape[1] * g or w.shape[0] % g:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels, filters expect "
                         f"{w.shape[1]} (shapes {tuple(x.shape)} and {tuple(w.shape)})"
                         + (f" per group of num_groups={g}" if g > 1 else ""))


def _impl(node, rt, method, check=None):
    conv = _Conv(node, rt)

    def run(a, b, *shape):
        if check is not None:
            check(node.op.num_groups, a, b)
        extra = [tuple(int(s) for s in to_host(shape[0]))] if shape else []
        return [getattr(conv, method)(a, b, *extra)]
    run.text = conv.text
    return run


@register_kernel("cuda", Conv2d)
def conv2d_impl(node, rt):
    return _impl(node, rt, "forward", _check_channels)


@register_kernel("cuda", Conv2dGradInputs)
def conv2d_grad_inputs_impl(node, rt):
    return _impl(node, rt, "grad_inputs")


@register_kernel("cuda", Conv2dGradWeights)
def conv2d_grad_weights_impl(node, rt):
    return _impl(node, rt, "grad_weights")
