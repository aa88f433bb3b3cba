"""Pooling the numba backend's 2-D loop kernels (``pool.py``) decline:
``pool_3d`` (three pooled axes), other dtypes than float32/float64, and
``DynamicPool``/``DynamicPoolGrad`` (window, stride and padding known only
at run time: the driver reads the three size vectors on each call).
``pool.py`` calls ``register`` once its kernels exist.

Each case is one driver line calling a function of this module, which
flattens the leading axes into one batch axis and runs the compiled loops
of ``pool_loops.py`` over (N, D, H, W) (a 2-D pooling as D=1).  This
module imports no numba itself (building a graph never does).  The
semantics are the reference's (``tensor/ops/pool.py``): Theano's output
size with ``ignore_border`` both ways, the two average divisors, NaN
winning a max; max's gradient goes to the first maximum of each window.
"""
import numpy as np

from ..dispatch import driver_op
from ....tensor.ops.pool import (DynamicPool, DynamicPoolGrad, Pool, _fixed,
                                pool_output_length)

__all__ = ["pool_forward", "pool_backward", "dynamic_pool", "dynamic_pool_grad", "register"]

_MODES = {"max": 0, "sum": 1, "average_inc_pad": 2, "average_exc_pad": 3}


def _loops():
    """The compiled loops, imported on first use (building a graph never
    imports numba)."""
    from . import pool_loops
    return pool_loops


def _frame(x, ws, stride, pad, ignore_border):
    """``x`` as a C-contiguous (N, D, H, W) array, the three size triples
    (a 2-D pooling gets a window of 1 along D), the output's shape as the
    loops see it and as the op returns it."""
    nd = len(ws)
    if x.ndim < nd:
        raise ValueError(f"pool over {nd} axes needs at least {nd} dims, got an input of "
                         f"shape {x.shape}")
    sizes = x.shape[-nd:]
    outs = tuple(pool_output_length(n, w, s, p, ignore_border)
                 for n, w, s, p in zip(sizes, ws, stride, pad))
    if min(outs) < 0:
        raise ValueError(f"pool: the window {tuple(ws)} with padding {tuple(pad)} does not "
                         f"fit the input's pooled axes {sizes}")
    fill = (1,) * (3 - nd)
    x4 = np.ascontiguousarray(x).reshape((int(np.prod(x.shape[:-nd])),) + fill + sizes)
    sizes3 = tuple(np.array(lead + tuple(v), np.int64) for lead, v in
                   ((fill, ws), (fill, stride), ((0,) * (3 - nd), pad)))
    return x4, sizes3, x4.shape[:1] + fill + outs, x.shape[:-nd] + outs


def pool_forward(x, ws, stride, pad, ignore_border, mode):
    """``Pool``: pool the last ``len(ws)`` axes of ``x``."""
    x4, (w3, s3, p3), out4, shape = _frame(x, ws, stride, pad, ignore_border)
    out = np.empty(out4, x.dtype)
    _loops().pool(x4, out, w3, s3, p3, _MODES[mode])
    return out.reshape(shape)


def pool_backward(x, out, gz, ws, stride, pad, ignore_border, mode):
    """``PoolGrad``: the gradient of ``pool_forward`` wrt ``x``, given its
    result ``out`` and the result's gradient ``gz``."""
    x4, (w3, s3, p3), out4, shape = _frame(x, ws, stride, pad, ignore_border)
    if out.shape != shape or gz.shape != shape:
        raise ValueError(f"pool gradient: the pooled output {out.shape} and its gradient "
                         f"{gz.shape} do not match the input {x.shape} (expected {shape})")
    g = np.empty(x4.shape, x.dtype)
    _loops().pool_grad(x4, np.ascontiguousarray(out).reshape(out4),
                       np.ascontiguousarray(gz).reshape(out4), g, w3, s3, p3, _MODES[mode])
    return g.reshape(x.shape)


def dynamic_pool(x, ws, stride, pad, ignore_border, mode):
    """``DynamicPool``: the sizes are int vectors read now (and checked as
    ``Pool``'s constructor checks them)."""
    ws, ignore_border, stride, pad, mode = _fixed(ignore_border, mode, ws, stride, pad)
    Pool(ws, ignore_border, stride, pad, mode)
    return pool_forward(x, ws, stride, pad, ignore_border, mode)


def dynamic_pool_grad(x, out, gz, ws, stride, pad, ignore_border, mode):
    """``DynamicPoolGrad``: as ``dynamic_pool``, for the gradient."""
    ws, ignore_border, stride, pad, mode = _fixed(ignore_border, mode, ws, stride, pad)
    Pool(ws, ignore_border, stride, pad, mode)
    return pool_backward(x, out, gz, ws, stride, pad, ignore_border, mode)


def _line(fn, node, ins, outs, params):
    return [f"from symnet.backend.numba_cpu.lib.pool_nd import {fn} as _{fn}",
            f"{outs[0]} = _{fn}({', '.join(ins)}, {params})"], True


def _fixed_template(fn):
    """A driver template for ``Pool``/``PoolGrad``: the sizes are the op's."""
    def template(node, ins, outs):
        op = node.op
        return _line(fn, node, ins, outs, f"{op.ws!r}, {op.stride!r}, {op.pad!r}, "
                                          f"{op.ignore_border!r}, {op.mode!r}")
    return template


def _dynamic_template(fn):
    """A driver template for ``DynamicPool``/``DynamicPoolGrad``."""
    def template(node, ins, outs):
        op = node.op
        return _line(fn, node, ins, outs, f"{op.ignore_border!r}, {op.mode!r}")
    return template


def register(pool_kernel, pool_grad_kernel):
    """Serve the cases the loop kernels of ``Pool`` and ``PoolGrad``
    decline (their ``driver_cases``), and the two ``DynamicPool`` ops."""
    pool_kernel.driver_cases = _fixed_template("pool_forward")
    pool_grad_kernel.driver_cases = _fixed_template("pool_backward")
    driver_op(DynamicPool)(_dynamic_template("dynamic_pool"))
    driver_op(DynamicPoolGrad)(_dynamic_template("dynamic_pool_grad"))
