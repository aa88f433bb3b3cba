"""``theano.tensor.permute_row_elements``: the elements of each row (the
last axis) of a tensor reordered by integer permutations.

Built from advanced indexing (and ``argsort`` for ``inverse``), so its
gradient to ``x`` is indexing's: the output gradient scattered back to the
positions the elements came from.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> x, p = T.dmatrix('x'), T.ivector('p')
>>> f = symnet.function([x, p], T.permute_row_elements(x, p), mode='py')
>>> f(np.array([[1., 2., 3.], [4., 5., 6.]]), np.array([2, 0, 1], dtype='int32')).tolist()
[[3.0, 1.0, 2.0], [6.0, 4.0, 5.0]]
"""
from .basic import as_tensor_variable

__all__ = ["permute_row_elements"]


def permute_row_elements(x, y, inverse=0):
    """``out[..., i] = x[..., y[..., i]]``: each row (last axis) of ``x``
    reordered by the permutation in the matching row of ``y``.

    The leading axes broadcast as NumPy's: one permutation (``y`` a vector)
    reorders every row of ``x``; ``y`` with as many dimensions gives each
    row its own; a vector ``x`` is reordered by every permutation of ``y``.
    ``inverse`` applies the inverse permutations (``out[..., y[..., i]] =
    x[..., i]``). ``y`` must hold integers; its rows must be permutations of
    ``range(x.shape[-1])`` (not checked: a repeated index repeats an element,
    as Theano's op does not allow either).
    """
    from .ops.advanced import argsort
    from .ops.shape import arange
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if not str(y.dtype).startswith(("int", "uint")):
        raise TypeError(f"permute_row_elements: the permutations y={y} must be integers, "
                        f"got dtype {y.dtype}")
    if x.ndim < 1 or y.ndim < 1:
        raise TypeError(f"permute_row_elements: x and y need at least one dimension, got "
                        f"x={x} with {x.ndim} and y={y} with {y.ndim}")
    if inverse:
        y = argsort(y, axis=-1)  # the inverse of a permutation is its argsort
    nd = max(x.ndim, y.ndim)
    x = x.dimshuffle(["x"] * (nd - x.ndim) + list(range(x.ndim)))
    y = y.dimshuffle(["x"] * (nd - y.ndim) + list(range(y.ndim)))
    # one index per leading axis, along its own axis, as long as the longer
    # of x and y there (max(a, b) = (a + b + |a - b|) // 2); `% x.shape[k]`
    # maps every position to 0 where x has length 1 (it broadcasts); y
    # broadcasts against these index arrays as NumPy's advanced indexing does
    index = []
    for k in range(nd - 1):
        a, b = x.shape[k], y.shape[k]
        along = arange((a + b + abs(a - b)) // 2) % a
        index.append(along.dimshuffle(["x"] * k + [0] + ["x"] * (nd - 1 - k)))
    return x[tuple(index) + (y,)]
