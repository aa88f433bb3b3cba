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

``PoolConvGradWeights`` (this op's ``gc`` read only by an ungrouped
filter gradient, ``pool_conv_grad_weights``) makes ``gc`` an image at a
time into a buffer of each pool thread and adds that image's GEMM at once,
so W4's 4.7 MB ``gc`` is never written whole and read back.
"""
import numpy as np

from .dispatch import driver_op
from . import threads
from ...tensor.ops.conv_fused import ACTS
from ...tensor.ops.pool_fused import Conv2dBiasActPool, MaxPoolBiasActGrad, PoolConvGradWeights

__all__ = ["pool_bias_act_grad", "pool_conv_grad_weights", "MIN_BYTES", "RUNS"]


#: bytes of the gradient ``gc`` from which the op splits its images over
#: the pool (where ``threads.pool_threads()`` is two or more): W4's layer
#: is 4.7 MB, W7's 18.9 and 4.2 MB; below, the hand-over (~30 us) is not
#: won back (as ``conv_threads.MIN_BYTES``).  The split, on and off (this
#: constant at 2^40), interleaved in one process with BLAS held at one
#: thread, medians of medians of 5 rounds, 2 cores under load 3-4: W4's
#: step 9.99 / 9.09 ms on against 9.81 / 10.13 off (two runs: no readable
#: difference), W7's 87.3 ms against 103.4 ms; kept on
MIN_BYTES = 1 << 20

#: runs of images ``pool_conv_grad_weights`` cuts the batch into, claimed
#: by the pool's threads as they ask (``lib/claim.py``), each with its own
#: filter and bias sums (so memory does not grow with the batch): W4's 64
#: images in runs of 4, ~0.1 ms of one thread each
RUNS = 16


def _threads(nbytes):
    """How many threads the op runs on for a ``gc`` of ``nbytes`` (0: this one)."""
    n = threads.pool_threads()
    return n if n >= 2 and nbytes >= MIN_BYTES else 0


def _check(x, idx, gz, s, ws):
    """The shapes of ``MaxPoolBiasActGrad``'s arguments agree, or ValueError."""
    (wh, ww), (n, k, h, w) = ws, x.shape
    oh, ow = (h - wh) // wh + 1, (w - ww) // ww + 1
    if idx.shape != gz.shape or idx.shape != (n, k, oh, ow) or s.shape != x.shape:
        raise ValueError(f"max pool + bias/activation gradient: the offsets {idx.shape}, "
                         f"the output gradient {gz.shape} and the sign {s.shape} do not "
                         f"match the input {x.shape} pooled by {tuple(ws)}")


def pool_bias_act_grad(x, idx, gz, s, ws, act, dtype):
    """``MaxPoolBiasActGrad``: ``(gc, gb)`` (``x``: only its shape is read)."""
    from . import step_pool
    from .lib import pool_fused_loops
    _check(x, idx, gz, s, ws)
    (wh, ww), k = ws, x.shape[1]
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


def pool_conv_grad_weights(x, c, idx, gz, s, shape, ws, act, border_mode, stride, dil, flip,
                           dtype):
    """``PoolConvGradWeights``: ``(gw, gb)``, the filters' gradient of the
    convolution of ``x`` whose output ``c`` (only its shape is read) was
    max pooled, from the pooled output's gradient ``gz``.  With many output
    positions (``conv.PER_IMAGE_POSITIONS``, where the convolution's
    gradient runs one GEMM per image anyway) one loop per pool thread makes
    each image's ``gc`` in a buffer of its own and adds that image's GEMM
    (``lib/pool_fused_loops.py``); otherwise (few positions, no CBLAS, an
    integer dtype) ``pool_bias_act_grad`` then ``conv.conv2d_grad_weights``,
    the two ops' own kernels.

    Measured (round 11, W4's first layer: 64x1x28x28 input, 32 5x5
    filters, float32), the pair against this, BLAS held at one thread, 2
    pool threads, 24 MB of other traffic before each call, 5 alternating
    rounds of 30 calls, two runs, load 0.4-0.7: medians 1,900 / 3,231 us
    against 1,673 / 3,057, minimums 1,703 / 1,745 against 1,552 / 1,564.

    Tried in round 16 and dropped (W4's layer, 64 images on one thread,
    thread CPU, minimums of 20 calls against this loop's in the same
    process, load 6-7): the filter gradient from each window's maximum
    alone, a quarter of the GEMM's multiply-adds (an LLVM IR loop adding
    the window's gradient times the 5x5 input patch at its offset, five
    8-wide FMAs a window): 1.08-1.24 ms against 1.32-1.47, the offset, the
    sign's gather and the select costing ~11 cycles a window (the windows'
    values made in a numba loop first: 0.6-1.1 ms alone); columns and
    ``gc`` in window-offset order (each offset's 12x12 grid contiguous, so
    no scatter): 3.1 ms against 1.1, its 12-long rows not vectorized; 4
    images a GEMM (32x2304 @ 2304x25): 1.9 ms against 0.7-1.2 one a GEMM.

    Tried in round 17 and dropped: the sign in the pooled layout (a
    ``Conv2dBiasActPool.pooled_sign`` flag and rewrite: one int8 a window,
    the sign at its maximum or NaN's mark, made in the forward's pooling
    pass; this loop then made each window's value once and scattered it,
    with no pass over the plane and no 1.2 MB sign written and read back).
    The forward's one pass (bias, activation, sign and the window's first
    maximum per position, as selects) ran 15.4-16.4 us an image (W4's
    32x24x24, one thread, minimums of 200) against 3.1 + 5.1-5.6 for the
    vectorized ``bias_act_sign_inplace`` and ``max_pool_argmax_image``
    apart; as a tree of selects over each 2x2 window, written for LLVM to
    vectorize (it emitted vector code, but the stride-2 window rows ran no
    faster): 16.4, and 6.8 without the sign.  Inside W4's step (process CPU
    of its line, minimum of 150 steps, load 6.4) the forward took 3.68 ms
    against 1.27, the filter gradient 1.68 against 1.43; W4's step, 4
    alternating process pairs against main (load 4.7-6.3): CPU a step
    16.2-16.8 against 13.2-14.8 ms.  The per-position passes are cheap
    because they vectorize; what costs is per-window work, which this
    moved into the forward."""
    from . import step_pool
    from .conv import PER_IMAGE_POSITIONS, _Geometry, _loop_args, conv2d_grad_weights
    from .lib import cblas
    kshape = tuple(int(n) for n in shape)
    if x.ndim != 4 or c.ndim != 4 or len(kshape) != 4:
        raise ValueError(f"pooled convolution's filter gradient: input {x.shape}, output "
                         f"{c.shape} and filters {kshape} must be 4-D")
    geo = _Geometry(x.shape[2:], kshape[2:], border_mode, stride, dil)
    if c.shape != (x.shape[0], kshape[0]) + geo.out or kshape[1] != x.shape[1]:
        raise ValueError(f"pooled convolution's filter gradient: output of shape {c.shape} "
                         f"does not match input {x.shape} and filters {kshape}")
    _check(c, idx, gz, s, ws)
    npos = geo.out[0] * geo.out[1]
    if npos < PER_IMAGE_POSITIONS or not cblas.AVAILABLE or dtype not in ("float32", "float64"):
        gc, gb = pool_bias_act_grad(c, idx, gz, s, ws, act, dtype)
        return conv2d_grad_weights(x, gc, kshape, border_mode, stride, dil, flip, dtype), gb
    from .lib import pool_fused_loops
    k, ckk = kshape[0], kshape[1] * kshape[2] * kshape[3]
    nt = max(_threads(c.size * np.dtype(dtype).itemsize), 1)
    gc = np.empty((nt, 1) + c.shape[1:], dtype)
    bits = np.dtype(f"i{gc.itemsize}")
    # the images in RUNS runs at most, claimed by the threads as they ask,
    # each summed into its own accumulators (lib/pool_fused_loops.py)
    runs = max(1, min(RUNS, x.shape[0]))
    accb, accw = np.zeros((runs, k), np.float64), np.zeros((runs, k, ckk), dtype)
    args = (np.ascontiguousarray(x, dtype), np.ascontiguousarray(idx),
            np.ascontiguousarray(gz, dtype).view(bits), np.ascontiguousarray(s), gc,
            gc.view(bits), accb, accw, np.empty((nt, 1, ckk, npos), dtype), *ws,
            ACTS.index(act), *_loop_args(geo), np.zeros(1, np.int64))
    if nt > 1:
        step_pool.run(pool_fused_loops.pool_grad_weights_images, nt, *args)
    else:
        pool_fused_loops.pool_grad_weights_images(*args, 0)
    gw = accw.sum(axis=0).reshape(kshape)
    if flip:
        gw = gw[:, :, ::-1, ::-1]
    return np.ascontiguousarray(gw), accb.sum(axis=0).astype(dtype)


@driver_op(PoolConvGradWeights)
def _pool_conv_grad_weights(node, ins, outs):
    pool, conv = node.op.pool, node.op.conv
    if len(pool.ws) != 2 or any(pool.pad) or not pool.ignore_border \
            or tuple(pool.stride) != tuple(pool.ws) or conv.num_groups != 1:
        raise NotImplementedError("pooled convolution's filter gradient: windows that "
                                  "tile the input, ungrouped, only")
    dtype = node.outputs[0].type.dtype
    return ["from symnet.backend.numba_cpu.pool_fused import pool_conv_grad_weights as "
            "_pool_conv_grad_weights",
            f"{outs[0]}, {outs[1]} = _pool_conv_grad_weights({', '.join(ins)}, "
            f"{tuple(pool.ws)!r}, {pool.act!r}, {conv.border_mode!r}, {conv.subsample!r}, "
            f"{conv.filter_dilation!r}, {conv.filter_flip!r}, {dtype!r})"], True


_pool_conv_grad_weights.uses_pool = True     # its images on the pool: its step holds BLAS


@driver_op(Conv2dBiasActPool)
def _conv_bias_act_pool(node, ins, outs):
    conv, pool = node.op.conv, node.op.pool
    if len(pool.ws) != 2 or any(pool.pad) or not pool.ignore_border \
            or tuple(pool.stride) != tuple(pool.ws):
        raise NotImplementedError("convolution + max pool: windows that tile the "
                                  "convolution's output only")
    dtype = node.outputs[0].type.dtype
    params = (f"{conv.border_mode!r}, {conv.subsample!r}, {conv.filter_dilation!r}, "
              f"{conv.filter_flip!r}, {dtype!r}, {conv.num_groups!r}, {conv.act!r}, "
              f"{conv.keep_sign!r}, {tuple(pool.ws)!r}, {node.outputs[-1].type.dtype!r}, "
              f"shape_only={node.op.shape_only!r}")
    return ["from symnet.backend.numba_cpu.conv_fused import conv2d_bias_act_pool as "
            "_conv2d_bias_act_pool",
            f"{', '.join(outs)}, = _conv2d_bias_act_pool({', '.join(ins)}, {params})"], True


_conv_bias_act_pool.uses_pool = True     # the convolution's threads: its step holds BLAS
