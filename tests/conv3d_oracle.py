"""A direct-loop numpy oracle of ``conv3d`` and its two gradients, grouped
convolutions included, written independently of the ops (no im2col, no
``sliding_window_view``, padding worked out here): one small dot product per
output position and filter.

``conv3d_loops(x, w, border_mode, ...)`` is the output; with ``gy`` (the
gradient of a loss with respect to that output) it returns the loss's
gradients ``(gx, gw)`` instead.  Used by tests/tensor/ops/test_conv3d.py and
tests/backend/numba_cpu/test_conv3d_kernels.py through ``check_op(ref=...)``.
"""
import itertools

import numpy as np

__all__ = ["conv3d_loops", "padding"]


def padding(border_mode, ksizes, dil):
    """The zero padding of each spatial axis that ``border_mode`` means."""
    if border_mode == "valid":
        return (0, 0, 0)
    if border_mode == "full":
        return tuple(d * (k - 1) for k, d in zip(ksizes, dil))
    if border_mode in ("half", "same"):
        # Theano's 'half': half the dilated kernel on each side
        return tuple(((k - 1) * d + 1) // 2 for k, d in zip(ksizes, dil))
    return tuple(border_mode)


def conv3d_loops(x, w, border_mode="valid", subsample=(1, 1, 1), filter_flip=True,
                 filter_dilation=(1, 1, 1), num_groups=1, gy=None):
    """Filter ``f`` of ``w`` (K, C / num_groups, kd, kh, kw) reads input
    channels ``[g*C/num_groups, (g+1)*C/num_groups)`` of its group ``g =
    f // (K / num_groups)``; computed in float64, returned in the inputs'
    result dtype."""
    dtype = np.result_type(x, w)
    x, w = x.astype("float64"), w.astype("float64")
    stride, dil = subsample, filter_dilation
    wf = w[:, :, ::-1, ::-1, ::-1] if filter_flip else w
    pads = padding(border_mode, w.shape[2:], dil)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pads))
    k, cg = w.shape[:2]
    kg = k // num_groups
    outs = [(n - d * (kk - 1) - 1) // s + 1
            for n, kk, s, d in zip(xp.shape[2:], w.shape[2:], stride, dil)]
    y = np.zeros((x.shape[0], k) + tuple(outs))
    gxp, gwf = np.zeros_like(xp), np.zeros_like(wf)
    for pos in itertools.product(*(range(o) for o in outs)):
        taps = tuple(slice(p * s, p * s + d * (kk - 1) + 1, d)
                     for p, s, d, kk in zip(pos, stride, dil, w.shape[2:]))
        for f in range(k):
            chans = slice((f // kg) * cg, (f // kg + 1) * cg)
            patch = xp[(slice(None), chans) + taps]          # (B, C/g, kd, kh, kw)
            at = (slice(None), f) + pos
            if gy is None:
                y[at] = np.tensordot(patch, wf[f], 4)
            else:
                g = gy[at].astype("float64")                 # (B,)
                gwf[f] += np.tensordot(g, patch, 1)
                gxp[(slice(None), chans) + taps] += g[:, None, None, None, None] * wf[f]
    if gy is None:
        return y.astype(dtype)
    crop = tuple(slice(p, p + n) for p, n in zip(pads, x.shape[2:]))
    gw = gwf[:, :, ::-1, ::-1, ::-1] if filter_flip else gwf
    return gxp[(slice(None), slice(None)) + crop].astype(dtype), gw.astype(dtype)
