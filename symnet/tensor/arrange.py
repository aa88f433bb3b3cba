"""Theano's tensor functions that rearrange or select entries, built from
symnet's ops: ``split``, ``roll``, ``swapaxes``, ``horizontal_stack``,
``vertical_stack``, ``tri``, ``tril``, ``triu``, ``flatnonzero``,
``nonzero_values``, ``inverse_permutation``, ``ptp``, ``get_vector_length``
and ``extract_constant``. Their gradients are those of the ops they use.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> x = T.dvector('x')
>>> a, b = T.split(x, [1, 3], 2)
>>> f = symnet.function([x], [b, T.roll(x, 1), T.ptp(x)], mode='py')
>>> [v.tolist() for v in f(np.array([4., 1., 3., 2.]))]
[[1.0, 3.0, 2.0], [2.0, 4.0, 1.0, 3.0], 3.0]
"""
from ..graph.basic import Constant
from .basic import as_tensor_variable, get_scalar_constant_value, NotScalarConstantError
from .ops.elemwise import cast, dimshuffle
from .ops.shape import arange, concatenate, flatten, shape_i, zeros_like
from .ops.reduction import max as _max, min as _min
from .ops.indexing import set_subtensor
from .ops.advanced import nonzero

__all__ = ["split", "roll", "swapaxes", "horizontal_stack", "vertical_stack", "tri", "tril",
           "triu", "flatnonzero", "nonzero_values", "inverse_permutation", "ptp",
           "get_vector_length", "extract_constant"]


def _along(x, axis, piece):
    return x[(slice(None),) * axis + (piece,)]


def split(x, splits_size, n_splits, axis=0):
    """``x`` cut along ``axis`` into ``n_splits`` pieces of the sizes
    ``splits_size`` (a list or a symbolic vector); returns a list.
    Sizes known when the graph is built must add up to the axis' static
    length (ValueError otherwise)."""
    x = as_tensor_variable(x)
    axis = int(axis) % x.ndim
    sizes = as_tensor_variable(splits_size)
    if sizes.ndim != 1:
        raise TypeError(f"split: splits_size must be a vector, got {sizes} ({sizes.ndim} dims)")
    n_splits = int(n_splits)
    if sizes.type.shape[0] not in (None, n_splits):
        raise ValueError(f"split: {n_splits} splits but {sizes.type.shape[0]} sizes")
    known = [int(v) for v in sizes.data] if isinstance(sizes, Constant) else None
    if known is not None and x.type.shape[axis] is not None and \
            sum(known) != x.type.shape[axis]:
        raise ValueError(f"split: the sizes {known} add up to {sum(known)}, not to the "
                         f"length {x.type.shape[axis]} of axis {axis} of {x}")
    out, start = [], 0
    for i in range(n_splits):
        stop = start + (known[i] if known is not None else sizes[i])
        out.append(_along(x, axis, slice(start, stop)))
        start = stop
    return out


def roll(x, shift, axis=None):
    """``np.roll``: entries shifted by ``shift`` (may be symbolic) along
    ``axis`` (``None``: the flattened array, reshaped back)."""
    x = as_tensor_variable(x)
    if axis is None:
        return roll(flatten(x, 1), shift, 0).reshape(x.shape, ndim=x.ndim) \
            if x.ndim > 1 else roll(x, shift, 0)
    axis = int(axis) % x.ndim
    n = shape_i(x, axis)
    k = as_tensor_variable(shift) % n
    return concatenate([_along(x, axis, slice(n - k, None)),
                        _along(x, axis, slice(None, n - k))], axis=axis)


def swapaxes(y, axis1, axis2):
    """``y`` with axes ``axis1`` and ``axis2`` exchanged."""
    y = as_tensor_variable(y)
    order = list(range(y.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return dimshuffle(y, tuple(order))


def horizontal_stack(*args):
    """Matrices side by side (``concatenate(args, axis=1)``)."""
    return concatenate(args, axis=1)


def vertical_stack(*args):
    """Matrices on top of each other (``concatenate(args, axis=0)``)."""
    return concatenate(args, axis=0)


def tri(N, M=None, k=0, dtype=None):
    """An ``N x M`` matrix with ones at and below the ``k``-th diagonal."""
    from ..configdefaults import config
    M = N if M is None else M
    rows = dimshuffle(arange(N, dtype="int64"), (0, "x"))
    cols = dimshuffle(arange(M, dtype="int64"), ("x", 0))
    from . import ge
    return cast(ge(rows + k, cols), dtype or config.floatX)


def tril(m, k=0):
    """``m`` with the entries above the ``k``-th diagonal zeroed (the last two axes)."""
    m = as_tensor_variable(m)
    return m * tri(shape_i(m, m.ndim - 2), shape_i(m, m.ndim - 1), k, dtype=m.dtype)


def triu(m, k=0):
    """``m`` with the entries below the ``k``-th diagonal zeroed (the last two axes)."""
    m = as_tensor_variable(m)
    return m * (1 - tri(shape_i(m, m.ndim - 2), shape_i(m, m.ndim - 1), k - 1, dtype=m.dtype))


def flatnonzero(a):
    """Indices of the non-zero entries of the flattened ``a``."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("flatnonzero: the input must have at least one dimension")
    return nonzero(flatten(a, 1))[0]


def nonzero_values(a):
    """The non-zero entries of ``a``, flattened."""
    a = as_tensor_variable(a)
    return flatten(a, 1)[flatnonzero(a)]


def inverse_permutation(perm):
    """The inverse of the permutation vector ``perm`` (of each row, for a matrix)."""
    perm = as_tensor_variable(perm)
    if perm.ndim == 1:
        return set_subtensor(zeros_like(perm)[perm], arange(shape_i(perm, 0), dtype=perm.dtype))
    if perm.ndim == 2:
        rows = dimshuffle(arange(shape_i(perm, 0), dtype="int64"), (0, "x"))
        cols = dimshuffle(arange(shape_i(perm, 1), dtype=perm.dtype), ("x", 0))
        return set_subtensor(zeros_like(perm)[rows, perm], cols + zeros_like(perm))
    raise TypeError(f"inverse_permutation: expected a vector or a matrix, got {perm} "
                    f"({perm.ndim} dims)")


def ptp(a, axis=None):
    """Range of values, ``max - min``, along ``axis``."""
    return _max(a, axis) - _min(a, axis)


def get_vector_length(v):
    """The length of vector ``v`` when known at build time, else ValueError."""
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"get_vector_length: expected a vector, got {v} ({v.ndim} dims)")
    if v.type.shape[0] is not None:
        return v.type.shape[0]
    raise ValueError(f"length of {v} is not known when the graph is built")


def extract_constant(x, elemwise=True, only_process_constants=False):
    """``x``'s value when it is a constant scalar known at build time, else ``x``."""
    try:
        return get_scalar_constant_value(x)
    except NotScalarConstantError:
        return x
