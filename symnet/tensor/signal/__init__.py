"""``theano.tensor.signal``: signal-processing functions on tensors.

Only :mod:`symnet.tensor.signal.pool` (2-d pooling) exists, as in the parts
of Theano that Lasagne uses.
"""
from . import pool  # noqa: F401

__all__ = ["pool"]
