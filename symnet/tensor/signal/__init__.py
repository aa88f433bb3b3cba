"""``theano.tensor.signal``: signal-processing functions on tensors.

:mod:`symnet.tensor.signal.pool` (pooling) and
:mod:`symnet.tensor.signal.conv` (2-d convolution of plain images).
"""
from . import conv, pool  # noqa: F401

__all__ = ["conv", "pool"]
