"""``theano.tensor.signal``: signal-processing functions on tensors.

:mod:`symnet.tensor.signal.pool` (2-d and 3-d pooling), as in the parts
of Theano that Lasagne uses, and :mod:`symnet.tensor.signal.downsample`,
Theano 0.7's name for it (``downsample.max_pool_2d``).
"""
from . import pool  # noqa: F401

__all__ = ["pool"]
