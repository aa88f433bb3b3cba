"""``theano.tensor.nnet.sigm``: the sigmoid family's module path.

The functions are those of ``T.nnet`` (:mod:`symnet.tensor.ops.nnet`):
``sigmoid``, ``softplus``, ``ultra_fast_sigmoid`` and ``hard_sigmoid``
(Theano's piecewise approximations, as Theano defines them).

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.nnet.sigm import hard_sigmoid
>>> x = T.vector('x')
>>> hard_sigmoid(x).eval({x: np.array([-3., 0., 3.], 'float32')}, mode='py')
array([0. , 0.5, 1. ], dtype=float32)
"""
from ..ops.nnet import hard_sigmoid, sigmoid, softplus, ultra_fast_sigmoid

__all__ = ["sigmoid", "softplus", "ultra_fast_sigmoid", "hard_sigmoid"]
