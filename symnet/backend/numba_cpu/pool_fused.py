"""``MaxPoolBiasActGrad`` (``tensor/ops/pool_fused.py``) in the numba
backend: max pooling's gradient and the convolution epilogue's gradient in
one loop (``lib/pool_fused_loops.py``, called by a driver line) that sums
the bias gradient ``gb`` in float64 as it goes (``lib/conv_epilogue.py``'s
``BiasActGrad`` loop does the same sum).  The
windows tile the input (the rewrite makes the op for no other geometry);
every position gets the activation's gradient of the pooling gradient
there (``gz`` at the offset the forward kept, 0 elsewhere and where no
window covers it: 0, or NaN for a NaN sign, as the unfused pair gives).

Each (image, channel) plane is done whole before the next: the pooling
gradient written into it (every window writes all its positions), then,
while the plane is in L1, the activation's gradient over it in place with
the bias sum.  Measured on W4's layer (64x32x24x24 float32, thread CPU
time, best of 7 x 30 calls, 2 cores under load 6 from other work):
0.74-0.76 ms against 0.91-0.93 ms for ``MaxPoolArgmaxGrad`` then
``BiasActGrad``; one loop nest computing each position's value straight
from the offset and the sign (no second pass) measured slower, 1.1 ms.

The images are split over the step's pool (``step_pool.run``: Python
threads running the ``nogil`` loop, each with its own row of bias sums)
where it has two threads or more (``threads.pool_threads()``) and the
gradient is large (``MIN_BYTES``): a fixed library loop, so the threads
cost no compile time per graph (a ``prange`` in the generated kernel this
replaces would have doubled it).
"""
import numpy as np

from .dispatch import driver_op
from . import threads
from ...tensor.ops.conv_fused import ACTS
from ...tensor.ops.pool_fused import MaxPoolBiasActGrad

__all__ = ["pool_bias_act_grad", "MIN_BYTES"]


#: bytes of the gradient ``gc`` from which the op splits its images over
#: the pool (where ``threads.pool_threads()`` is two or more): W4's layer
#: is 4.7 MB, W7's 18.9 and 4.2 MB; below, the hand-over (~30 us) is not
#: won back (as ``conv_threads.MIN_BYTES``).  The split, on and off (this
#: constant at 2^40), interleaved in one process with BLAS held at one
#: thread, medians of medians of 5 rounds, 2 cores under load 3-4: W4's
#: step 9.99 / 9.09 ms on against 9.81 / 10.13 off (two runs: no readable
#: difference), W7's 87.3 ms against 103.4 ms; kept on
MIN_BYTES = 1 << 20


def _threads(nbytes):
    """How many threads the op runs on for a ``gc`` of ``nbytes`` (0: this one)."""
    n = threads.pool_threads()
    return n if n >= 2 and nbytes >= MIN_BYTES else 0


def pool_bias_act_grad(x, idx, gz, s, ws, act, dtype):
    """``MaxPoolBiasActGrad``: ``(gc, gb)`` (``x``: only its shape is read)."""
    from . import step_pool
    from .lib import pool_fused_loops
    (wh, ww), (n, k, h, w) = ws, x.shape
    oh, ow = (h - wh) // wh + 1, (w - ww) // ww + 1
    if idx.shape != gz.shape or idx.shape != (n, k, oh, ow) or s.shape != x.shape:
        raise ValueError(f"max pool + bias/activation gradient: the offsets {idx.shape}, "
                         f"the output gradient {gz.shape} and the sign {s.shape} do not "
                         f"match the input {x.shape} pooled by {tuple(ws)}")
    gc = np.empty(x.shape, dtype)
    nt = _threads(gc.nbytes)
    acc = np.zeros((max(nt, 1), k), np.float64)
    # the loop scatters gz as bits (an integer view of the same width)
    bits = np.dtype(f"i{gc.itemsize}")
    args = (np.ascontiguousarray(idx), np.ascontiguousarray(gz, dtype).view(bits),
            np.ascontiguousarray(s), gc, gc.view(bits), acc, wh, ww, ACTS.index(act))
    if nt:
        step_pool.run(pool_fused_loops.pool_bias_act_grad_images, nt, *args, nt)
    else:
        pool_fused_loops.pool_bias_act_grad_images(*args, 1, 0)
    return gc, acc.sum(axis=0).astype(dtype)


@driver_op(MaxPoolBiasActGrad)
def _pool_bias_act_grad(node, ins, outs):
    op = node.op
    if len(op.ws) != 2 or any(op.pad) or not op.ignore_border \
            or tuple(op.stride) != tuple(op.ws):
        raise NotImplementedError("max pool + bias/activation gradient: windows that "
                                  "tile the input only")
    dtype = node.outputs[0].type.dtype
    return ["from symnet.backend.numba_cpu.pool_fused import pool_bias_act_grad as "
            "_pool_bias_act_grad",
            f"{outs[0]}, {outs[1]} = _pool_bias_act_grad({', '.join(ins)}, "
            f"{tuple(op.ws)!r}, {op.act!r}, {dtype!r})"], True


_pool_bias_act_grad.uses_pool = True     # its images on the pool: its step holds BLAS
