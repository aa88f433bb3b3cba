"""``theano.tensor.nnet.neighbours``: image patches as the rows of a matrix.

``images2neibs`` cuts every image of a (batch, channels, rows, cols) tensor
into patches of ``neib_shape`` taken every ``neib_step`` pixels and returns
one flattened patch per row, rows ordered by (batch, channel, patch row,
patch col); ``neibs2images`` puts non-overlapping patches back. Both are
graphs of slices, ``stack`` and ``reshape``, so their gradients come from
those ops and every backend runs them. The patch shape and step must be
constants; the image sizes may be known only at run time. Sizes that do
not fit the mode (Theano's rules) raise a TypeError when the graph is
built if the graph knows them, else when the function runs.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.nnet.neighbours import images2neibs
>>> x = T.tensor4('x')
>>> images2neibs(x, (2, 2)).eval(
...     {x: np.arange(16, dtype='float32').reshape(1, 1, 4, 4)}, mode='py')
array([[ 0.,  1.,  4.,  5.],
       [ 2.,  3.,  6.,  7.],
       [ 8.,  9., 12., 13.],
       [10., 11., 14., 15.]], dtype=float32)
"""
from collections import namedtuple

from ...graph.basic import Constant, Variable
from ..basic import NotScalarConstantError, as_tensor_variable, get_scalar_constant_value
from ..ops.debug import CheckShape
from ..ops.shape import concatenate, reshape, stack, zeros

__all__ = ["images2neibs", "neibs2images", "Images2Neibs"]

MODES = ("valid", "ignore_borders", "half", "full", "wrap_centered")


def _pair(v, what):
    """Two Python ints from a pair of ints or a constant vector."""
    if isinstance(v, Constant):
        v = v.data.tolist()
    elif isinstance(v, Variable):
        v = [v[0], v[1]] if v.ndim == 1 else [v]
    v = list(v)
    if len(v) != 2:
        raise ValueError(f"images2neibs: {what} must have 2 entries, got {v}")
    out = []
    for s in v:
        try:
            s = int(get_scalar_constant_value(s))
        except NotScalarConstantError:
            raise TypeError(f"images2neibs: {what} must be known when the graph is "
                            f"built (constants), got {v}") from None
        if s <= 0:
            raise ValueError(f"images2neibs: {what} values must be positive, got {v}")
        out.append(s)
    return out


def _size_error(mode, n, k, step, axis):
    """Theano's rule for image size ``n`` on ``axis``, patch size ``k`` and
    step ``step`` in ``mode``: None when they fit, else the message."""
    if mode == "wrap_centered":
        if n < k:
            return (f"images2neibs: in wrap_centered mode the image ({n} on axis {axis}) "
                    f"must not be smaller than the patch ({k})")
        return None
    if n < k:
        return (f"images2neibs: patch size {k} does not fit image size {n} on axis {axis} "
                f"(mode {mode!r})")
    extent = {"valid": n - k, "ignore_borders": n - k, "half": n - k % 2,
              "full": n + k - 2}[mode]
    if mode != "ignore_borders" and extent % step:
        return (f"images2neibs: neib_shape {k}, neib_step {step} and image size {n} on "
                f"axis {axis} are not consistent in mode {mode!r} (use "
                f"mode='ignore_borders' to drop the remainder)")
    return None


class _SizeRule(namedtuple("_SizeRule", "mode patch steps")):
    """The run-time check of a 4-D input's two image sizes (CheckShape's
    rule): Theano's TypeError message, or None."""

    def __call__(self, shape):
        for axis in (2, 3):
            message = _size_error(self.mode, int(shape[axis]), self.patch[axis - 2],
                                  self.steps[axis - 2], axis)
            if message is not None:
                return message
        return None


def _check_sizes(x, mode, patch, steps):
    """``x``, its image sizes checked by Theano's rule: now where the graph
    knows them, else when the function runs (a CheckShape before the
    slices, whose own errors would not name the cause)."""
    known = True
    for axis in (2, 3):
        n = x.type.shape[axis]
        known = known and n is not None
        message = None if n is None else _size_error(mode, n, patch[axis - 2],
                                                      steps[axis - 2], axis)
        if message is not None:
            raise TypeError(message)
    return x if known else CheckShape(_SizeRule(mode, tuple(patch), tuple(steps)), TypeError)(x)


def _pad_axis(x, axis, mode, k):
    """``x`` padded on ``axis`` for ``mode``, and the first patch row's offset."""
    n = x.shape[axis]
    if mode in ("valid", "ignore_borders"):
        return x
    if mode == "wrap_centered":
        # the patch centred on pixel 0 starts k // 2 pixels before it, wrapping round
        h = k // 2
        if h == 0:
            return x
        idx = [slice(None)] * 4
        idx[axis] = slice(n - h, None)
        before = x[tuple(idx)]
        idx[axis] = slice(None, h)
        return concatenate([before, x, x[tuple(idx)]], axis=axis)
    p = k // 2 if mode == "half" else k - 1
    if p == 0:
        return x
    shape = [x.shape[i] for i in range(4)]
    shape[axis] = p
    z = zeros(shape, dtype=x.dtype)
    return concatenate([z, x, z], axis=axis)


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """Patches of the images of ``ten4``, one flattened patch per row.

    Parameters
    ----------
    ten4 : 4-D tensor
        (batch, channels, rows, cols).
    neib_shape : pair of int
        Patch (rows, cols).
    neib_step : pair of int, optional
        Distance between patches (default: ``neib_shape``, no overlap).
    mode : {'valid', 'ignore_borders', 'half', 'full', 'wrap_centered'}
        'valid': the patches must tile the image exactly; 'ignore_borders':
        the rows/cols left over are dropped; 'half'/'full': as 'valid' on
        the image zero-padded by ``neib_shape // 2`` / ``neib_shape - 1``;
        'wrap_centered': one patch centred on every ``neib_step``-th pixel,
        the image wrapping round at its borders (odd patch sizes only).

    Returns
    -------
    2-D tensor of shape (batch * channels * patch rows * patch cols,
    neib_shape[0] * neib_shape[1])
    """
    if mode not in MODES:
        raise NotImplementedError(f"images2neibs: mode must be one of {MODES}, got {mode!r}")
    x = as_tensor_variable(ten4)
    if x.ndim != 4:
        raise TypeError(f"images2neibs: ten4 must be a 4-D tensor (batch, channels, rows, "
                        f"cols), got {x} with {x.ndim} dims")
    (c, d) = _pair(neib_shape, "neib_shape")
    steps = _pair(neib_step, "neib_step") if neib_step is not None else [c, d]
    if mode == "wrap_centered" and (c % 2 == 0 or d % 2 == 0):
        raise TypeError(f"images2neibs: mode 'wrap_centered' needs odd patch sizes, got "
                        f"neib_shape={(c, d)}")
    x = _check_sizes(x, mode, (c, d), steps)
    if mode == "valid" and steps == [c, d]:
        # Non-overlapping patches are a reshape, which also raises, when the
        # function runs, on images that the patches do not tile.
        b, ch, h, w = (x.shape[i] for i in range(4))
        blocks = reshape(x, (b, ch, h // c, c, w // d, d)).dimshuffle(0, 1, 2, 4, 3, 5)
        return reshape(blocks, (-1, c * d))
    grid = []
    for axis, k, s in ((2, c, steps[0]), (3, d, steps[1])):
        n = x.shape[axis]
        if mode == "wrap_centered":
            grid.append((n + s - 1) // s)
        else:
            extent = {"valid": n - k, "ignore_borders": n - k, "half": n - k % 2,
                      "full": n + k - 2}[mode]
            grid.append(extent // s + 1)
        x = _pad_axis(x, axis, mode, k)
    # one slice per patch position (i, j), each holding that pixel of every patch
    taps = [x[:, :, i::steps[0], j::steps[1]][:, :, :grid[0], :grid[1]]
            for i in range(c) for j in range(d)]
    return reshape(stack(taps, axis=4), (-1, c * d))


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """The images that ``images2neibs(images, neib_shape)`` cut into
    non-overlapping patches (the inverse, for ``neib_step == neib_shape``).

    Parameters
    ----------
    neibs : 2-D tensor
        One flattened patch per row, as made by ``images2neibs``.
    neib_shape : pair of int
    original_shape : 4 sizes (ints or a symbolic shape, e.g. ``x.shape``)
    mode : {'valid', 'ignore_borders'}
        'ignore_borders': the rows/cols that no patch covered come back as 0.

    Returns
    -------
    4-D tensor of shape ``original_shape``
    """
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images: only modes 'valid' and 'ignore_borders' "
                                  f"are implemented, got {mode!r}")
    neibs = as_tensor_variable(neibs)
    if neibs.ndim != 2:
        raise TypeError(f"neibs2images: neibs must be a matrix, got {neibs} with "
                        f"{neibs.ndim} dims")
    (c, d) = _pair(neib_shape, "neib_shape")
    shape = as_tensor_variable(original_shape)
    b, ch, h, w = (shape[i] for i in range(4))
    gh, gw = h // c, w // d
    blocks = reshape(neibs, (b, ch, gh, gw, c, d)).dimshuffle(0, 1, 2, 4, 3, 5)
    out = reshape(blocks, (b, ch, gh * c, gw * d))
    if mode == "ignore_borders":
        # the remainder rows and cols were never cut into patches: zeros
        rest = zeros((b, ch, h - gh * c, gw * d), dtype=out.dtype)
        out = concatenate([out, rest], axis=2)
        rest = zeros((b, ch, h, w - gw * d), dtype=out.dtype)
        out = concatenate([out, rest], axis=3)
    return out


class Images2Neibs:
    """Theano's op form: ``Images2Neibs(mode)(ten4, neib_shape, neib_step)``
    builds the graph of :func:`images2neibs`."""

    def __init__(self, mode="valid"):
        if mode not in MODES:
            raise NotImplementedError(f"Images2Neibs: mode must be one of {MODES}, got "
                                      f"{mode!r}")
        self.mode = mode

    def __call__(self, ten4, neib_shape, neib_step=None):
        return images2neibs(ten4, neib_shape, neib_step, self.mode)
