"""``theano.tensor.signal``: signal-processing functions on tensors.

:mod:`symnet.tensor.signal.pool` (2-d and 3-d pooling),
:mod:`symnet.tensor.signal.downsample`, Theano 0.7's name for it
(``downsample.max_pool_2d``), and :mod:`symnet.tensor.signal.conv` (2-d
convolution of plain images).
"""
from . import conv, pool  # noqa: F401

__all__ = ["conv", "pool"]
