"""``theano.tensor.fft``: FFTs of real signals, the complex half-spectrum
stored as a last axis of (real, imaginary) floats.

``rfft(x)`` transforms a batch ``(m, ..., n)`` over every axis but the
first into ``(m, ..., n//2 + 1, 2)``; ``irfft`` inverts it (``is_odd=True``
for an odd ``n``).  ``norm``: None (numpy's: only the inverse divides by
the size), 'ortho' (both by its square root) or 'no_norm' (neither).

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor import fft
>>> x = T.dmatrix('x')
>>> y = fft.irfft(fft.rfft(x))
>>> y.eval({x: np.array([[1.0, 2.0, 3.0, 4.0]])}, mode='py')
array([[1., 2., 3., 4.]])
"""
from .basic import as_tensor_variable
from .ops.fft import IRFFT, RFFT

__all__ = ["rfft", "irfft"]

_NORMS = (None, "ortho", "no_norm")


def _size(shape_axes):
    """The product of symbolic sizes, as a float scalar graph."""
    size = 1
    for s in shape_axes:
        size = size * s
    return size


def _check_norm(norm):
    if norm not in _NORMS:
        raise ValueError(f"fft: norm must be one of {_NORMS}, got {norm!r}")


def rfft(inp, norm=None):
    """The FFT of the real signals ``inp`` (``(m, ..., n)``), over all axes
    but the first: ``(m, ..., n//2 + 1, 2)`` (real, imaginary)."""
    _check_norm(norm)
    inp = as_tensor_variable(inp)
    out = RFFT()(inp)
    if norm == "ortho":
        size = _size([inp.shape[i] for i in range(1, inp.ndim)])
        out = out / size.astype(inp.dtype) ** 0.5
    return out


def irfft(inp, norm=None, is_odd=False):
    """The inverse of :func:`rfft`: real signals ``(m, ..., n)`` from
    ``(m, ..., n//2 + 1, 2)``; ``is_odd`` says whether ``n`` is odd."""
    _check_norm(norm)
    if is_odd not in (True, False):
        raise ValueError(f"irfft: is_odd must be True or False, got {is_odd!r}")
    out = IRFFT(is_odd)(as_tensor_variable(inp))
    if norm != "no_norm":
        size = _size([out.shape[i] for i in range(1, out.ndim)]).astype(out.dtype)
        out = out / (size ** 0.5 if norm == "ortho" else size)
    return out
