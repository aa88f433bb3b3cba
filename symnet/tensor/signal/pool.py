"""``theano.tensor.signal.pool``: 2-d and 3-d pooling over the last axes.

The op itself (forward, shape rule, gradient) lives in
``symnet/tensor/ops/pool.py``; this module is the user-facing namespace with
Theano's names.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.signal.pool import pool_2d
>>> x = T.tensor4('x')
>>> y = pool_2d(x, ws=(2, 2), ignore_border=True, mode='average_inc_pad')
>>> y.eval({x: np.arange(16, dtype='float32').reshape(1, 1, 4, 4)}, mode='py')[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]], dtype=float32)
"""
from ..ops.pool import Pool, PoolGrad, pool_2d, pool_3d, pool_output_length

__all__ = ["Pool", "PoolGrad", "MaxPoolGrad", "AveragePoolGrad", "pool_2d", "pool_3d",
           "pool_output_length", "max_pool_2d_same_size", "max_pool_2d"]

# Theano's names for the gradients of max and of average pooling; ours
# serves every mode.
MaxPoolGrad = AveragePoolGrad = PoolGrad


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """Theano 0.7/0.8's name (and argument names) for :func:`pool_2d`:
    ``ds`` is the window, ``st`` the stride, ``padding`` the padding.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> max_pool_2d(x, (2, 2), ignore_border=True).eval(
    ...     {x: np.arange(16, dtype='float32').reshape(4, 4)}, mode='py')
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding,
                   mode=mode)


def max_pool_2d_same_size(input, patch_size):
    """Keep the maximum of each non-overlapping patch, zero everything else.

    The output has the input's shape.  Where a patch holds its maximum more
    than once, every copy is kept (as Theano does).  Rows and columns that do
    not fill a whole patch become zero.

    Parameters
    ----------
    input : tensor with at least 2 dimensions
        Pooled over its last two axes.
    patch_size : pair of int

    Returns
    -------
    tensor of the input's shape and dtype

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> max_pool_2d_same_size(x, (2, 2)).eval(
    ...     {x: np.array([[1., 2.], [4., 3.]], 'float32')}, mode='py')
    array([[0., 0.],
           [4., 0.]], dtype=float32)
    """
    args = (tuple(patch_size), True, None, (0, 0), "max")
    pooled = Pool(*args)(input)
    # the gradient of max pooling routes each window's value back to the
    # position(s) of its maximum: fed the maxima themselves, it is exactly this
    return PoolGrad(*args)(input, pooled, pooled)
