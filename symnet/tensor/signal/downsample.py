"""``theano.tensor.signal.downsample``: where Theano 0.7 had pooling.

Programs of that time (the deeplearning.net LeNet tutorial among them)
write ``from theano.tensor.signal import downsample`` and
``downsample.max_pool_2d(input, ds=(2, 2), ignore_border=True)``; the
functions are those of :mod:`symnet.tensor.signal.pool`.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.signal import downsample
>>> x = T.tensor4('x')
>>> downsample.max_pool_2d(x, ds=(2, 2), ignore_border=True).eval(
...     {x: np.arange(16, dtype='float32').reshape(1, 1, 4, 4)}, mode='py')[0, 0]
array([[ 5.,  7.],
       [13., 15.]], dtype=float32)
"""
from .pool import max_pool_2d, max_pool_2d_same_size, pool_2d  # noqa: F401

__all__ = ["max_pool_2d", "max_pool_2d_same_size", "pool_2d"]
