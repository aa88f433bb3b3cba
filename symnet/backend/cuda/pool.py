"""CUDA kernels of 2-D pooling over the last two axes (3-D windows are
declined: they run their perform, with the fallback warning): ``Pool`` (max, sum,
average with or without padding) with one thread per output element, and
``PoolGrad`` with one thread per input element summing the windows that
cover it (max: where the element is its window's first max, as py).

Leading axes are flattened (a C-contiguous copy where needed); the
canvas geometry (padding, Theano's ``ignore_border=False`` rule) is the
op's own: positions outside the input count as -inf (max) or 0 (sums), and
averages divide by the op's window counts.
"""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.pool import Pool, PoolGrad, pool_output_length
from .elemwise import contiguous
from .memory import c_strides, to_device, view
from .runtime import compile_kernel, launch, unravel

__all__ = []

_COUNT = """
        ch = min(oy * sh + wh, hih) - max(oy * sh, loh)
        cw = min(ox * sw + ww, hiw) - max(ox * sw, low)"""

_FORWARD = """@cuda.jit
def kernel(n, x, out, wh, ww, sh, sw, ph, pw, loh, hih, low, hiw):
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
""" + unravel(["l", "oy", "ox"], "out") + """    acc = {init}
    for i in range(wh):
      y = oy * sh + i - ph
      for j in range(ww):
        xx = ox * sw + j - pw
        if y >= 0 and y < x.shape[1] and xx >= 0 and xx < x.shape[2]:
          v = x[l, y, xx]
        else:
          v = {fill}
        {step}
    if True:{count}
        out[l, oy, ox] = {result}
"""

_GRAD = """@cuda.jit
def kernel(n, x, out, gz, g, wh, ww, sh, sw, ph, pw, loh, hih, low, hiw):
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
""" + unravel(["l", "y", "xx"], "x") + """    cy = y + ph
    cx = xx + pw
    acc = np.{acc}(0)
    for oy in range(max(0, (cy - wh) // sh + 1), min(out.shape[1] - 1, cy // sh) + 1):
      for ox in range(max(0, (cx - ww) // sw + 1), min(out.shape[2] - 1, cx // sw) + 1):{count}
        {step}
    g[l, y, xx] = acc
"""


def _flat3(arr, rt):
    """``arr`` as a C-contiguous (lead, rows, cols) device array."""
    arr = contiguous(to_device(arr), rt.empty)
    shape = (int(np.prod(arr.shape[:-2])),) + tuple(arr.shape[-2:])
    return view(arr, shape, c_strides(shape, arr.dtype.itemsize))


def _geometry(op, hw):
    out, extra = [], []
    for n, w, s, p in zip(hw, op.ws, op.stride, op.pad):
        out.append(pool_output_length(n, w, s, p, op.ignore_border))
        lo, hi = (p, p + n) if op.mode == "average_exc_pad" else (0, n + 2 * p)
        extra.append((lo, hi))
    (loh, hih), (low, hiw) = extra
    args = [op.ws[0], op.ws[1], op.stride[0], op.stride[1], op.pad[0], op.pad[1],
            loh, hih, low, hiw]
    return out, args


def _two_axes(op):
    # the kernels index (lead, rows, cols): a 3-d window would pool the wrong
    # axes, so pool_3d runs its perform, loudly (pool_3d_by_2d avoids it)
    if len(op.ws) != 2:
        raise NotImplementedError(f"CUDA pooling kernels pool 2 axes, not {len(op.ws)}")


@register_kernel("cuda", Pool)
def pool_impl(node, rt):
    op = node.op
    _two_axes(op)
    dt = node.outputs[0].type.dtype
    if op.mode == "max":
        fill = "-np.inf" if dt.startswith("float") else str(np.iinfo(dt).min)
        text = _FORWARD.format(init=fill, fill=fill, count="",
                               step="acc = v if (v > acc or v != v) else acc", result="acc")
    else:
        acc = "np.float64(0)" if dt.startswith("float") else f"np.{dt}(0)"
        result = "acc" if op.mode == "sum" else "acc / (ch * cw)"
        text = _FORWARD.format(init=acc, fill="0", count=_COUNT if op.mode != "sum" else "",
                               step="acc += v", result=result)

    def run(x):
        hw, args = _geometry(op, x.shape[-2:])
        out = rt.empty(tuple(x.shape[:-2]) + tuple(hw), dt)
        x3 = _flat3(x, rt)
        out3 = view(out, (x3.shape[0],) + tuple(hw), c_strides((x3.shape[0],) + tuple(hw),
                                                                out.dtype.itemsize))
        n = int(np.prod(out3.shape))
        if n:
            blocks, threads = launch(n)
            with np.errstate(all="ignore"):
                compile_kernel(text)[blocks, threads](n, x3, out3, *args)
        return [out]
    run.text = text
    return run


@register_kernel("cuda", PoolGrad)
def pool_grad_impl(node, rt):
    op = node.op
    _two_axes(op)
    dt = node.outputs[0].type.dtype
    acc = "float64" if dt.startswith("float") else dt
    if op.mode == "max":
        # the window's gradient goes to its first max (row-major), as py:
        # this element takes it when no earlier element of the window ties
        step = "\n".join([
            "if x[l, y, xx] == out[l, oy, ox]:",
            "          first = True",
            "          for y2 in range(max(oy * sh - ph, 0), y + 1):",
            "            for x2 in range(max(ox * sw - pw, 0),",
            "                            min(ox * sw - pw + ww, x.shape[2])):",
            "              if (y2 < y or x2 < xx) and x[l, y2, x2] == out[l, oy, ox]:",
            "                first = False",
            "          if first:",
            "            acc += gz[l, oy, ox]"])
        count = ""
    elif op.mode == "sum":
        step, count = "acc += gz[l, oy, ox]", ""
    else:
        step, count = "acc += gz[l, oy, ox] / (ch * cw)", _COUNT
    text = _GRAD.format(acc=acc, count=count, step=step)

    def run(x, out, gz):
        _, args = _geometry(op, x.shape[-2:])
        g = rt.empty(x.shape, dt)
        x3, out3, gz3 = _flat3(x, rt), _flat3(out, rt), _flat3(gz, rt)
        g3 = view(g, x3.shape, c_strides(x3.shape, g.dtype.itemsize))
        n = int(np.prod(x3.shape))
        if n:
            blocks, threads = launch(n)
            compile_kernel(text)[blocks, threads](n, x3, out3, gz3, g3, *args)
        return [g]
    run.text = text
    return run
