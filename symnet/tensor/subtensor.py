"""``theano.tensor.subtensor``: indexing ops and ``inc``/``set_subtensor``.

The op classes are symnet's (``Subtensor`` for basic indexing,
``AdvancedSubtensor`` for integer arrays and masks, and their ``Inc``
counterparts); ``advanced_inc_subtensor(x, y, *indices)`` and
``advanced_set_subtensor`` are Theano's call forms of
``inc_subtensor(x[indices], y)``.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> from symnet.tensor.subtensor import advanced_inc_subtensor
>>> x, i = T.dvector('x'), T.lvector('i')
>>> f = symnet.function([x, i], advanced_inc_subtensor(x, 1.0, i), mode='py')
>>> f(np.zeros(3), np.array([0, 2, 2])).tolist()
[1.0, 0.0, 2.0]
"""
from .basic import as_tensor_variable
from .ops.indexing import Subtensor, IncSubtensor, inc_subtensor, set_subtensor, take
from .ops.advanced import AdvancedSubtensor, AdvancedIncSubtensor

#: Theano's ops for indexing with one integer vector and with boolean masks;
#: symnet's advanced-indexing ops cover those cases too, so the names are them.
AdvancedSubtensor1, AdvancedIncSubtensor1 = AdvancedSubtensor, AdvancedIncSubtensor
AdvancedBooleanSubtensor, AdvancedBooleanIncSubtensor = AdvancedSubtensor, AdvancedIncSubtensor

__all__ = ["Subtensor", "IncSubtensor", "AdvancedSubtensor", "AdvancedIncSubtensor",
           "AdvancedSubtensor1", "AdvancedIncSubtensor1", "AdvancedBooleanSubtensor",
           "AdvancedBooleanIncSubtensor",
           "inc_subtensor", "set_subtensor", "advanced_inc_subtensor",
           "advanced_set_subtensor", "take", "advanced_subtensor1", "advanced_inc_subtensor1",
           "advanced_set_subtensor1"]


def advanced_inc_subtensor(x, y, *indices):
    """``inc_subtensor(x[indices], y)``: repeated indices accumulate."""
    return inc_subtensor(as_tensor_variable(x)[tuple(indices)], y)


def advanced_set_subtensor(x, y, *indices):
    """``set_subtensor(x[indices], y)``."""
    return set_subtensor(as_tensor_variable(x)[tuple(indices)], y)


# Theano's call forms for one integer vector ``ilist`` indexing the first axis
def advanced_subtensor1(x, ilist):
    """``x[ilist]``."""
    return as_tensor_variable(x)[ilist]


def advanced_inc_subtensor1(x, y, ilist):
    """``inc_subtensor(x[ilist], y)``: repeated indices accumulate."""
    return advanced_inc_subtensor(x, y, ilist)


def advanced_set_subtensor1(x, y, ilist):
    """``set_subtensor(x[ilist], y)``."""
    return advanced_set_subtensor(x, y, ilist)
