"""CUDA kernels of the convolution family: ``Conv2d`` and its two
gradients as *direct* convolutions, one thread per output element looping
over channels and kernel taps (any border mode, stride, dilation, flip).

This is the correctness-first version: the issue's fast path (im2col +
cuBLAS GEMM) is left for a session with a GPU to measure it.  Taps that fall
in the zero padding are skipped.  A flipped filter (``filter_flip``, a true
convolution) is read at ``(kh-1-i, kw-1-j)``.  Accumulation is in float64
for float32 data, as the GEMM kernel does.
"""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv_output_length
from .memory import to_device, to_host
from .runtime import compile_kernel, launch

__all__ = []

_HEAD = """@cuda.jit
def kernel(n, a, b, out, ph, pw, sh, sw, dh, dw):
  kh = {kh_src}
  kw = {kw_src}
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
    q3 = flat % out.shape[3]
    r = flat // out.shape[3]
    q2 = r % out.shape[2]
    r = r // out.shape[2]
    q1 = r % out.shape[1]
    q0 = r // out.shape[1]
    acc = np.{acc}(0)
"""

# forward: out[b, k, oh, ow]; a = x, b = w
_FORWARD = """    for c in range(a.shape[1]):
      for i in range(kh):
        y = q2 * sh + i * dh - ph
        if y < 0 or y >= a.shape[2]:
          continue
        for j in range(kw):
          x = q3 * sw + j * dw - pw
          if x < 0 or x >= a.shape[3]:
            continue
          acc += a[q0, c, y, x] * b[q1, c, {fi}, {fj}]
    out[q0, q1, q2, q3] = acc
"""

# gradient wrt the input: out[b, c, y, x]; a = w, b = gz
_GRAD_INPUTS = """    for k in range(a.shape[0]):
      for i in range(kh):
        ty = q2 + ph - i * dh
        if ty < 0 or ty % sh != 0 or ty // sh >= b.shape[2]:
          continue
        for j in range(kw):
          tx = q3 + pw - j * dw
          if tx < 0 or tx % sw != 0 or tx // sw >= b.shape[3]:
            continue
          acc += b[q0, k, ty // sh, tx // sw] * a[k, q1, {fi}, {fj}]
    out[q0, q1, q2, q3] = acc
"""

# gradient wrt the filters: out[k, c, i', j'] (i', j' already flipped back); a = x, b = gz
_GRAD_WEIGHTS = """    i = {ui}
    j = {uj}
    for bb in range(b.shape[0]):
      for oy in range(b.shape[2]):
        y = oy * sh + i * dh - ph
        if y < 0 or y >= a.shape[2]:
          continue
        for ox in range(b.shape[3]):
          x = ox * sw + j * dw - pw
          if x < 0 or x >= a.shape[3]:
            continue
          acc += b[bb, q0, oy, ox] * a[bb, q1, y, x]
    out[q0, q1, q2, q3] = acc
"""


def _text(body, node, kh_src, kw_src):
    dt = node.outputs[0].type.dtype
    acc = "float64" if dt in ("float32", "float64") else dt
    if node.op.filter_flip:
        taps = dict(fi="kh - 1 - i", fj="kw - 1 - j", ui="kh - 1 - q2", uj="kw - 1 - q3")
    else:
        taps = dict(fi="i", fj="j", ui="q2", uj="q3")
    return _HEAD.format(kh_src=kh_src, kw_src=kw_src, acc=acc) + body.format(**taps)


def _launch(text, out, args):
    n = int(np.prod(out.shape))
    if n:
        blocks, threads = launch(n)
        compile_kernel(text)[blocks, threads](n, *args[:2], out, *args[2:])
    return out


def _geometry(op, kshape):
    (ph, pw) = op._pad(tuple(int(k) for k in kshape))
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    return [ph, pw, sh, sw, dh, dw]


@register_kernel("cuda", Conv2d)
def conv2d_impl(node, rt):
    op = node.op
    text = _text(_FORWARD, node, "b.shape[2]", "b.shape[3]")
    dt = node.outputs[0].type.dtype

    def run(x, w):
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"conv2d: input has {x.shape[1]} channels, filters expect "
                             f"{w.shape[1]} (shapes {tuple(x.shape)} and {tuple(w.shape)})")
        geo = _geometry(op, w.shape[2:])
        ho, wo = (conv_output_length(n, k, p, s, d) for n, k, p, s, d in
                  zip(x.shape[2:], w.shape[2:], geo[:2], geo[2:4], geo[4:]))
        out = rt.empty((x.shape[0], w.shape[0], ho, wo), dt)
        return [_launch(text, out, [to_device(x), to_device(w)] + geo)]
    run.text = text
    return run


def _gradient(node, rt, body, k_src, kernel_hw):
    """A gradient's implementation: ``run(a, gz, shape)`` writes the
    gradient of shape ``shape``; ``kernel_hw(a, shape)`` is the filter size."""
    op = node.op
    text = _text(body, node, *k_src)
    dt = node.outputs[0].type.dtype

    def run(a, gz, shape):
        shape = tuple(int(s) for s in to_host(shape))
        out = rt.empty(shape, dt)
        geo = _geometry(op, kernel_hw(a, shape))
        return [_launch(text, out, [to_device(a), to_device(gz)] + geo)]
    run.text = text
    return run


@register_kernel("cuda", Conv2dGradInputs)
def conv2d_grad_inputs_impl(node, rt):
    return _gradient(node, rt, _GRAD_INPUTS, ("a.shape[2]", "a.shape[3]"),
                     lambda w, shape: w.shape[2:])


@register_kernel("cuda", Conv2dGradWeights)
def conv2d_grad_weights_impl(node, rt):
    return _gradient(node, rt, _GRAD_WEIGHTS, ("out.shape[2]", "out.shape[3]"),
                     lambda x, shape: shape[2:])
