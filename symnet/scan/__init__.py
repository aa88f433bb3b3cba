"""Symbolic loops: ``scan`` (Theano's), its shorthands, and the Scan op.

>>> import numpy as np, symnet, symnet.tensor as T
>>> k = T.iscalar('k')
>>> a = T.dvector('a')
>>> powers, _ = scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a),
...                  non_sequences=a, n_steps=k)
>>> symnet.function([a, k], powers[-1], mode='py')(np.array([1., 2., 3.]), 3)
array([ 1.,  8., 27.])
"""
from .basic import scan, map, reduce, foldl, foldr
from .op import Scan
from .until import until
from .checkpoints import scan_checkpoints
# the scan rewrites; scan_reuse_saving (saved.py) first, see there
from . import saved  # noqa: F401,I001
from . import buffer, flip_out, merge, rewriting, sink, sum_out, swap_dot  # noqa: F401
from . import join_t  # noqa: F401,I001  (after swap_dot: a phase-mate that may add a .T)

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "Scan", "until", "scan_checkpoints"]
