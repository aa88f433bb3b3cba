"""``theano.tensor.opt``: the two shape ops Theano defines in its rewrite
module, ``MakeVector`` (a vector of scalars) and ``Shape_i`` (one size of
a tensor's shape), which graph-inspecting code names. symnet's rewrites
live in :mod:`symnet.tensor.rewriting`.

Examples
--------
>>> import symnet.tensor as T
>>> from symnet.tensor.opt import MakeVector, Shape_i
>>> x = T.matrix('x')
>>> isinstance(T.shape_i(x, 0).owner.op, Shape_i)
True
"""
from .ops.shape import MakeVector, Shape_i, make_vector

__all__ = ["MakeVector", "Shape_i", "make_vector"]
