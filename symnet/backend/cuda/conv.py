"""CUDA convolution: ``Conv2d`` and its two gradients as im2col + GEMM
(the same machinery, for any number of spatial axes, runs ``Conv3d``:
``conv3d.py``).

``cols`` (batch * output positions, channels * filter taps) holds, per
output position, the input values under each filter tap (0 in the
padding); then

* forward:          ``out[b] = W @ cols[b].T``  (W: filters as (K, C*taps))
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

__all__ = ["register_conv"]

# kernel arguments after the arrays, per spatial axis d: output size o{d},
# filter size k{d}, padding pd{d}, stride s{d}, dilation l{d}
_ARGS = ("o", "k", "pd", "s", "l")


def _params(nd):
    return ", ".join(f"{a}{d}" for a in _ARGS for d in range(nd))


def _split(var, names, sizes, last, pad):
    """Source splitting ``var`` into ``names`` (C order over ``sizes``, the
    leading remainder in ``last``)."""
    lines = [f"{pad}_t = {var}"]
    for name, size in zip(reversed(names), reversed(sizes)):
        lines += [f"{pad}{name} = _t % {size}", f"{pad}_t = _t // {size}"]
    return "\n".join(lines + [f"{pad}{last} = _t"]) + "\n"


def _tap(d, flip):
    return f"(k{d} - 1 - j{d})" if flip else f"j{d}"


def _flat(lead, names, sizes):
    """The C-order flat index of (lead, *names) over (.., *sizes)."""
    out = lead
    for name, size in zip(names, sizes):
        out = f"({out}) * {size} + {name}"
    return out


def im2col_text(nd, flip):
    """Kernel: ``cols[p, r]``, one thread per element."""
    r = range(nd)
    js, ks, qs, os_ = ([f"{a}{d}" for d in r] for a in ("j", "k", "q", "o"))
    lines = [f"    i{d} = q{d} * s{d} + {_tap(d, flip)} * l{d} - pd{d}" for d in r]
    inside = " and ".join(f"i{d} >= 0 and i{d} < x.shape[{d + 2}]" for d in r)
    at = ", ".join(["b", "c"] + [f"i{d}" for d in r])
    return (f"@cuda.jit\ndef kernel(n, x, cols, {_params(nd)}):\n"
            "  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):\n"
            "    r = flat % cols.shape[1]\n    p = flat // cols.shape[1]\n"
            + _split("r", js, ks, "c", "    ") + _split("p", qs, os_, "b", "    ")
            + "\n".join(lines) + f"\n    if {inside}:\n      cols[p, r] = x[{at}]\n"
            "    else:\n      cols[p, r] = 0\n")


def col2im_text(nd, flip, acc):
    """Kernel: ``gx`` element by element, summing the ``cols`` taps over it."""
    r = range(nd)
    ys = [f"y{d}" for d in r]
    body, pad = [], "    "
    for d in r:
        body += [f"{pad}for j{d} in range(k{d}):",
                 f"{pad}  u{d} = y{d} + pd{d} - {_tap(d, flip)} * l{d}",
                 f"{pad}  if u{d} < 0 or u{d} % s{d} != 0 or u{d} // s{d} >= o{d}:",
                 f"{pad}    continue"]
        pad += "  "
    row = _flat("b", [f"u{d} // s{d}" for d in r], [f"o{d}" for d in r])
    col = _flat("c", [f"j{d}" for d in r], [f"k{d}" for d in r])
    at = ", ".join(["b", "c"] + ys)
    return (f"@cuda.jit\ndef kernel(n, cols, gx, {_params(nd)}):\n"
            "  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):\n"
            + unravel(["b", "c"] + ys, "gx") + f"    acc = np.{acc}(0)\n"
            + "\n".join(body) + f"\n{pad}acc += cols[{row}, {col}]\n"
            f"    gx[{at}] = acc\n")


class _Conv:
    """The geometry and kernels of one conv node (see the module docstring);
    ``pads(ksizes)`` is the op's padding per spatial axis."""

    def __init__(self, node, rt, pads, name):
        op = self.op = node.op
        self.rt, self.pads, self.name = rt, pads, name
        self.dt = node.outputs[0].type.dtype
        self.nd = node.outputs[0].type.ndim - 2
        acc = "float64" if self.dt in ("float32", "float64") else self.dt
        self.im2col_text = im2col_text(self.nd, op.filter_flip)
        self.col2im_text = col2im_text(self.nd, op.filter_flip, acc)
        self.text = self.im2col_text + self.col2im_text

    def geometry(self, in_shape, w_shape):
        """(output sizes, launch arguments after the arrays)."""
        op = self.op
        ks = tuple(int(k) for k in w_shape[2:])
        pads = tuple(int(p) for p in self.pads(ks))
        outs = tuple(conv_output_length(int(n), k, p, s, d) for n, k, p, s, d in
                     zip(in_shape[2:], ks, pads, op.subsample, op.filter_dilation))
        return outs, [*outs, *ks, *pads, *op.subsample, *op.filter_dilation]

    def _launch(self, text, n, *args):
        if n:
            blocks, threads = launch(n)
            compile_kernel(text)[blocks, threads](n, *args)

    def cols(self, x, w_shape, positions, args):
        x = to_device(x)
        ckk = int(x.shape[1]) * int(np.prod(w_shape[2:]))     # every channel
        cols = self.rt.empty((x.shape[0] * positions, ckk), self.dt)
        self._launch(self.im2col_text, int(np.prod(cols.shape)), x, cols, *args)
        return cols

    def filters2(self, w):
        """The filters as a (K, C*taps) matrix of the output dtype."""
        w = as_dtype(contiguous(to_device(w), self.rt.empty), self.dt, self.rt)
        shape = (w.shape[0], int(np.prod(w.shape[1:])))
        return view(w, shape, c_strides(shape, w.dtype.itemsize))

    def per_group(self, *operands):
        """``matmul3`` once per group: each operand is (array, 3-D shape, byte
        strides, elements from one group's block to the next)."""
        for g in range(self.op.num_groups):
            matmul3(*(view(a, shape, st, g * step) for a, shape, st, step in operands))

    def check(self, what, shapes, k, c, kc, gz=None, outs=()):
        """The input/filter channels (and a gradient's ``topgrad``) against
        the groups and the geometry: the kernels index by them."""
        g = self.op.num_groups
        said = " and ".join(str(tuple(int(n) for n in s)) for s in shapes)
        if c != kc * g or k % g:
            raise ValueError(f"{self.name}{what}: input has {c} channels, filters expect {kc} "
                             f"({k} filters; shapes {said})"
                             + (f" per group of num_groups={g}" if g > 1 else ""))
        if gz is not None and tuple(gz.shape[1:]) != (k, *outs):
            raise ValueError(f"{self.name}{what}: topgrad {tuple(gz.shape)} does not fit "
                             f"{k} filters and an output of {outs} (shapes {said})")

    def forward(self, x, w):
        self.check("", (x.shape, w.shape), w.shape[0], x.shape[1], w.shape[1])
        outs, args = self.geometry(x.shape, w.shape)
        hw = int(np.prod(outs))
        cols = self.cols(x, w.shape, hw, args)
        w2 = self.filters2(w)
        b, k, ckk = x.shape[0], w.shape[0], cols.shape[1]
        kg, gckk = k // self.op.num_groups, w2.shape[1]
        out = self.rt.empty((b, k) + outs, self.dt)
        it = out.dtype.itemsize
        self.per_group((w2, (b, kg, gckk), (0, gckk * it, it), kg * gckk),
                       (cols, (b, gckk, hw), (hw * ckk * it, it, ckk * it), gckk),
                       (out, (b, kg, hw), (k * hw * it, hw * it, it), kg * hw))
        self.rt.release(cols)
        return out

    def grad_weights(self, x, gz, shape):
        outs, args = self.geometry(x.shape, shape)
        self.check(" filter gradient", (x.shape, gz.shape, shape), shape[0], x.shape[1],
                   shape[1], gz, outs)
        hw = int(np.prod(outs))
        cols = self.cols(x, shape, hw, args)
        b, k, ckk = gz.shape[0], gz.shape[1], cols.shape[1]
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
        outs, args = self.geometry(shape, w.shape)
        self.check(" input gradient", (w.shape, gz.shape, shape), w.shape[0], shape[1],
                   w.shape[1], gz, outs)
        w2 = self.filters2(w)
        gz = as_dtype(contiguous(to_device(gz), self.rt.empty), self.dt, self.rt)
        b, k, hw = shape[0], w.shape[0], int(np.prod(outs))
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


def register_conv(name, pads_of, forward, grad_inputs, grad_weights):
    """Register the CUDA kernels of a convolution op and its two gradient
    ops; ``pads_of(op)`` returns the op's ``pads(ksizes)``."""
    methods = ((forward, "forward"), (grad_inputs, "grad_inputs"),
               (grad_weights, "grad_weights"))

    @register_kernel("cuda", forward, grad_inputs, grad_weights)
    def impl(node, rt):
        method = next(m for cls, m in methods if isinstance(node.op, cls))
        conv = _Conv(node, rt, pads_of(node.op), name)

        def run(a, b, *shape):
            extra = [tuple(int(s) for s in to_host(shape[0]))] if shape else []
            return [getattr(conv, method)(a, b, *extra)]
        run.text = conv.text
        return run
    return impl


conv2d_impl = register_conv("conv2d", lambda op: op._pad, Conv2d, Conv2dGradInputs,
                            Conv2dGradWeights)
