"""Constant padding of a tensor's trailing axes (``lasagne.theano_extensions.padding``).

``PadLayer`` computes its output with :func:`pad`.
"""
import numpy as np

from .. import tensor as T

__all__ = ["pad", "pad_widths"]


def pad_widths(width, n):
    """Per-axis ``(before, after)`` padding for ``n`` padded axes.

    Parameters
    ----------
    width : int, or iterable of int or (before, after) pairs
        One int pads every axis by that much on both sides.
    n : int
        How many axes may be padded; fewer widths pad only the first axes.

    Examples
    --------
    >>> pad_widths(2, 2)
    [(2, 2), (2, 2)]
    >>> pad_widths([1, (0, 3)], 2)
    [(1, 1), (0, 3)]
    """
    if isinstance(width, (int, np.integer)):
        width = [width] * n
    out = []
    for w in width:
        try:
            lo, hi = w
        except TypeError:
            lo = hi = w
        out.append((int(lo), int(hi)))
    if len(out) > n:
        # fewer widths than axes pad only the first axes, as in Lasagne
        raise ValueError(f"pad: width {width!r} gives {len(out)} axes, but only {n} axes "
                         f"can be padded (those after the batch_ndim leading ones)")
    return out


def pad(x, width, val=0, batch_ndim=1):
    """Pad every axis of ``x`` after the first ``batch_ndim`` with ``val``.

    Parameters
    ----------
    x : tensor
    width : int, or iterable of int or (before, after) pairs
        Padding of each padded axis (see :func:`pad_widths`).
    val : number
        Value of the new entries.
    batch_ndim : int
        Leading axes left alone.

    Returns
    -------
    tensor
        Of ``x``'s dtype.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> pad(x, [(0, 1)], val=7).eval({x: np.ones((2, 2), 'float32')}, mode='py')
    array([[1., 1., 7.],
           [1., 1., 7.]], dtype=float32)
    """
    widths = pad_widths(width, x.ndim - batch_ndim)
    out_shape = [x.shape[i] for i in range(x.ndim)]
    index = [slice(None)] * x.ndim
    for k, (lo, hi) in enumerate(widths):
        axis = k + batch_ndim
        out_shape[axis] = out_shape[axis] + (lo + hi)
        index[axis] = slice(lo, lo + x.shape[axis]) if hi else slice(lo, None)
    if val:
        out = T.alloc(T.cast(val, x.dtype), *out_shape)
    else:
        out = T.zeros(out_shape, dtype=x.dtype)
    return T.set_subtensor(out[tuple(index)], x)
