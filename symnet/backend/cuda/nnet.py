"""CUDA kernels of the nnet family: softmax and log-softmax along any axis
(one thread per row: max, sum of exp, write; rows are all the other axes),
crossentropy of probabilities against integer labels, and the fused
softmax-crossentropy of logits.  Labels are checked on the host first (as
the py backend does), so a bad label raises the same error."""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.nnet import (CrossentropyCategorical1Hot, LogSoftmax, Softmax,
                                SoftmaxCrossentropy, _label_check_runtime)
from .memory import to_device, to_host
from .runtime import compile_kernel, launch

__all__ = []


def _softmax_text(nd, axis, dt, log):
    others = [a for a in range(nd) if a != axis]
    idx = [f"i{a}" for a in range(nd)]
    at = ", ".join(idx)
    lines = ["@cuda.jit", "def kernel(nrows, x, out):",
             "  for row in range(cuda.grid(1), nrows, cuda.gridsize(1)):", "    _r = row"]
    for k in range(len(others) - 1, 0, -1):
        a = others[k]
        lines += [f"    i{a} = _r % x.shape[{a}]", f"    _r = _r // x.shape[{a}]"]
    if others:
        lines.append(f"    i{others[0]} = _r")
    loop = f"    for i{axis} in range(x.shape[{axis}]):"
    lines += ["    m = -np.inf", loop, f"      v = x[{at}]",
              "      if v > m or v != v:", "        m = v",
              "    s = 0.0", loop, f"      s += math.exp(x[{at}] - m)"]
    if log:
        lines += ["    ls = math.log(s)", loop, f"      out[{at}] = np.{dt}(x[{at}] - m - ls)"]
    else:
        lines += [loop, f"      out[{at}] = np.{dt}(math.exp(x[{at}] - m) / s)"]
    return "\n".join(lines) + "\n"


def _softmax(node, rt, log):
    nd = node.inputs[0].type.ndim
    axis = node.op.axis % nd
    dt = node.outputs[0].type.dtype
    text = _softmax_text(nd, axis, dt, log)

    def run(x):
        x = to_device(x)
        out = rt.empty(x.shape, dt)
        nrows = int(np.prod([s for a, s in enumerate(x.shape) if a != axis]))
        if nrows and x.shape[axis]:
            blocks, threads = launch(nrows)
            with np.errstate(all="ignore"):
                compile_kernel(text)[blocks, threads](nrows, x, out)
        return [out]
    run.text = text
    return run


@register_kernel("cuda", Softmax)
def softmax_impl(node, rt):
    return _softmax(node, rt, log=False)


@register_kernel("cuda", LogSoftmax)
def log_softmax_impl(node, rt):
    return _softmax(node, rt, log=True)


_XENT = """@cuda.jit
def kernel(n, p, y, out):
  for i in range(cuda.grid(1), n, cuda.gridsize(1)):
    out[i] = np.{dt}(-math.log(p[i, y[i]]))
"""

_SM_XENT = """@cuda.jit
def kernel(n, x, y, out):
  for i in range(cuda.grid(1), n, cuda.gridsize(1)):
    m = -np.inf
    for j in range(x.shape[1]):
      v = x[i, j]
      if v > m or v != v:
        m = v
    s = 0.0
    for j in range(x.shape[1]):
      s += math.exp(x[i, j] - m)
    out[i] = np.{dt}(math.log(s) - (x[i, y[i]] - m))
"""


def _labelled(node, rt, template):
    dt = node.outputs[0].type.dtype
    text = template.format(dt=dt)

    def run(x, y):
        _label_check_runtime(node.op, x, to_host(y))
        x, y = to_device(x), to_device(y)
        n = x.shape[0]
        out = rt.empty((n,), dt)
        if n:
            blocks, threads = launch(n)
            with np.errstate(all="ignore"):
                compile_kernel(text)[blocks, threads](n, x, y, out)
        return [out]
    run.text = text
    return run


@register_kernel("cuda", CrossentropyCategorical1Hot)
def crossentropy_impl(node, rt):
    return _labelled(node, rt, _XENT)


@register_kernel("cuda", SoftmaxCrossentropy)
def softmax_crossentropy_impl(node, rt):
    return _labelled(node, rt, _SM_XENT)
