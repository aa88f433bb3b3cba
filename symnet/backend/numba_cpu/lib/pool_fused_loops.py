"""The compiled loop of ``MaxPoolBiasActGrad`` (``numba_cpu/pool_fused.py``):
max pooling's gradient and the convolution epilogue's gradient over the
images ``t, t + nt, ...`` of the batch, so that ``nt`` threads
(``conv_threads._run``) share one call, each summing the bias gradient of
its images into its own row of ``acc`` (summed by the caller in thread
order: the result does not depend on timing).  A real module, compiled once
per machine (``cache=True``) and imported only when the op first runs.

Each (image, channel) plane is done whole before the next: the pooling
gradient written into it (every window writes all its positions; rows and
columns no window covers get 0), then, while the plane is in L1, the
activation's gradient over it in place with the bias sum (float64), as the
generated kernel this replaces did (2x2 windows, every CNN here, with the
window as constants in a copy of the body).
"""
import numba as nb
import numpy as np

from .conv_epilogue import _FLAGS, _grad

__all__ = ["pool_bias_act_grad_images"]


@nb.njit(inline="always", **_FLAGS)
def _images(idx, gz, s, gc, acc, code, t, nt, wh, ww):
    n_img, k_ch, h, w = gc.shape
    oh, ow = gz.shape[2], gz.shape[3]
    half, one, zero = gc.dtype.type(0.5), gc.dtype.type(1), gc.dtype.type(0)
    nan = gc.dtype.type(np.nan)
    # the second pass runs over each plane as one flat row (vectorized)
    gf = gc.reshape((n_img * k_ch, h * w))
    sf = s.reshape((n_img * k_ch, h * w))
    for n in range(t, n_img, nt):
        for k in range(k_ch):
            for i in range(oh):
                for j in range(ow):
                    kk = np.int64(idx[n, k, i, j])      # read once before the stores
                    gv = gz[n, k, i, j]
                    for a in range(wh * ww):
                        gc[n, k, i * wh + a // ww, j * ww + a % ww] = gv if a == kk else zero
            for r in range(h):
                for c in range(ow * ww if r < oh * wh else 0, w):
                    gc[n, k, r, c] = zero
            m = n * k_ch + k
            tot = 0.0
            for p in range(h * w):
                v = _grad(gf[m, p], sf[m, p], code, half, one, zero, nan)
                gf[m, p] = v
                tot += v
            acc[t, k] += tot


@nb.njit(**_FLAGS)
def pool_bias_act_grad_images(idx, gz, s, gc, acc, wh, ww, code, nt, t):
    """``gc[n]`` for the images ``n = t, t + nt, ...`` (``gc`` (N, K, H, W),
    C-contiguous, written whole): the activation's gradient
    (``conv_epilogue``'s ``code``, from the int8 sign ``s``) of the gradient
    of a max pooling by ``(wh, ww)`` windows that tile the input (``idx``:
    each window's offset of its maximum, ``gz``: the pooled output's
    gradient); ``acc[t, k]`` (float64, zeroed by the caller) gains the sum
    of ``gc[n, k]`` over them.

    2x2 windows run a copy of the loops with the window as constants: with
    it as run-time values the loops ran 3-4x slower (W4's layer, thread CPU
    time, best of 40: 2.6-3.4 against 0.73-0.76 ms, the generated kernel
    this replaces 0.73).  The activation stays a run-time value (LLVM
    unswitches its test): a copy per activation too made no measured
    difference and tripled the cold compile (61 s against about 9-20 s
    at load 6; compiled once per machine)."""
    if wh == 2 and ww == 2:
        _images(idx, gz, s, gc, acc, code, t, nt, 2, 2)
    else:
        _images(idx, gz, s, gc, acc, code, t, nt, wh, ww)
