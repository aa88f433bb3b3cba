"""``theano.tensor.elemwise``: the elementwise op classes.

``Elemwise`` (a scalar op applied with broadcasting) and ``DimShuffle``
(axis reordering, ``'x'`` inserting broadcastable axes) are symnet's own;
Theano code that builds them directly or checks ``isinstance(node.op,
Elemwise)`` works unchanged. ``DimShuffle`` takes Theano's
``(input_broadcastable, new_order)`` form too.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.elemwise import DimShuffle, Elemwise
>>> x = T.dmatrix('x')
>>> y = DimShuffle((False, False), [1, 'x', 0])(x)
>>> y.type.broadcastable, isinstance(T.exp(x).owner.op, Elemwise)
((False, True, False), True)
"""
from .ops.elemwise import Elemwise, DimShuffle

__all__ = ["Elemwise", "DimShuffle"]
