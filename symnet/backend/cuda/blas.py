"""CUDA matrix products: ``Dot`` (1-D/2-D) and ``BatchedDot``, all as one
batched product ``out[b] = x[b] @ y[b]`` of 3-D views.

The binding: **CuPy** (``cupy-cuda12x``, the ``symnet[cuda]`` extra).  It
installs with pip alone (wheels bundle the CUDA libraries), is well kept,
and shares device memory with numba-cuda both ways through
``__cuda_array_interface__`` with no copy, so ``cupy.matmul`` (cuBLAS
GEMM / batched GEMM) writes straight into a buffer of our allocator.  We
compared: nvmath-python has cuBLASLt matmul with epilogues, but it is
younger, its stateful API wants planning per shape, and it pulls CuPy or
PyTorch for its own arrays anyway; cuda-python (cuda-bindings) is only
the raw driver/runtime C API, with no cuBLAS handle management or GEMM
wrapper of its own.

Without CuPy (and always in the simulator, which has no cuBLAS) a simple
grid-stride kernel computes one output element per thread.  On a GPU
without CuPy that kernel is used with a warning (once).
"""
import warnings

import numpy as np

from ..registry import register_kernel
from ...tensor.ops.blas import BatchedDot, Dot
from .memory import c_strides, to_device, view
from .runtime import compile_kernel, is_sim, launch

__all__ = ["matmul3", "cupy_module", "as_dtype"]

_GEMM = """@cuda.jit
def kernel(n, x, y, out):
  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):
    j = flat % out.shape[2]
    r = flat // out.shape[2]
    i = r % out.shape[1]
    b = r // out.shape[1]
    acc = np.{acc}(0)
    for k in range(x.shape[2]):
      acc += x[b, i, k] * y[b, k, j]
    out[b, i, j] = np.{dt}(acc)
"""

_CUPY = []


def cupy_module():
    """CuPy where it is installed and kernels run on a GPU, else None."""
    if not _CUPY:
        mod = None
        if not is_sim():
            try:
                import cupy as mod
            except ImportError:
                warnings.warn("CuPy is not installed: the CUDA backend multiplies "
                              "matrices with its own simple kernel instead of cuBLAS "
                              "(pip install 'symnet[cuda]')", RuntimeWarning, stacklevel=3)
        _CUPY.append(mod)
    return _CUPY[0]


def _as3(a):
    """A 1-D/2-D device array as a 3-D view with a batch axis of size 1."""
    return view(a, (1,) + tuple(a.shape), (0,) + tuple(a.strides))


def matmul3(x, y, out):
    """``out[b] = x[b] @ y[b]`` for 3-D device arrays."""
    n = int(np.prod(out.shape))
    if n == 0:
        return out
    if x.shape[2] == 0:
        from .elemwise import broadcast_to, copy_into
        return copy_into(out, broadcast_to(np.zeros((), out.dtype), out.shape))
    cp = cupy_module()
    if cp is not None and out.dtype.kind == "f":
        cp.matmul(cp.asarray(x), cp.asarray(y), out=cp.asarray(out))
        return out
    dt = str(out.dtype)
    acc = "float64" if dt == "float32" else dt
    blocks, threads = launch(n)
    compile_kernel(_GEMM.format(acc=acc, dt=dt))[blocks, threads](n, x, y, out)
    return out


@register_kernel("cuda", Dot)
def dot_impl(node, rt):
    xv, yv = node.inputs
    dt = node.outputs[0].type.dtype

    def run(x, y):
        if tuple(x.shape)[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {tuple(x.shape)} and {tuple(y.shape)} not aligned "
                             f"({tuple(x.shape)[-1]} != {y.shape[0]})")
        x, y = to_device(x), to_device(y)
        x2 = x if x.ndim == 2 else view(x, (1, x.shape[0]), (0, x.strides[0]))
        y2 = y if y.ndim == 2 else view(y, (y.shape[0], 1), (y.strides[0], 0))
        x3, y3 = _as3(x2), _as3(y2)
        shape = tuple(x.shape[:-1]) + tuple(y.shape[1:])
        out = rt.empty(shape, dt)
        out3 = view(out, (1, x3.shape[1], y3.shape[2]),
                    (0, y3.shape[2] * out.dtype.itemsize, out.dtype.itemsize))
        matmul3(as_dtype(x3, dt, rt), as_dtype(y3, dt, rt), out3)
        return [out]
    return run


@register_kernel("cuda", BatchedDot)
def batched_dot_impl(node, rt):
    dt = node.outputs[0].type.dtype

    def run(x, y):
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"batched_dot: batch sizes differ: {tuple(x.shape)} vs "
                             f"{tuple(y.shape)}")
        x, y = to_device(x), to_device(y)
        x3 = x if x.ndim == 3 else view(x, (x.shape[0], 1, x.shape[1]),
                                        (x.strides[0], 0, x.strides[1]))
        y3 = y if y.ndim == 3 else view(y, (y.shape[0], y.shape[1], 1),
                                        (y.strides[0], y.strides[1], 0))
        b, m, nn = x3.shape[0], x3.shape[1], y3.shape[2]
        shape = (b,) + tuple(x.shape[1:-1]) + tuple(y.shape[2:])
        out = rt.empty(shape, dt)      # returned itself; written through a 3-D view
        out3 = view(out, (b, m, nn), c_strides((b, m, nn), out.dtype.itemsize))
        matmul3(as_dtype(x3, dt, rt), as_dtype(y3, dt, rt), out3)
        return [out]
    return run


def as_dtype(a, dt, rt):
    """``a`` in dtype ``dt`` (a device copy when it differs)."""
    if str(a.dtype) == dt:
        return a
    from .elemwise import copy_into
    return copy_into(rt.empty(a.shape, dt), a)
