"""``theano.misc.may_share_memory``: whether two arrays may overlap.

Examples
--------
>>> import numpy as np
>>> from symnet.misc.may_share_memory import may_share_memory
>>> a = np.zeros(4)
>>> may_share_memory(a, a[1:]), may_share_memory(a, np.zeros(4))
(True, False)
>>> may_share_memory(a, [1, 2])
Traceback (most recent call last):
    ...
TypeError: may_share_memory: expected numpy arrays, got ndarray and list
>>> may_share_memory(a, [1, 2], raise_other_type=False)
False
"""
import numpy as np

__all__ = ["may_share_memory"]


def may_share_memory(a, b, raise_other_type=True):
    """``np.may_share_memory(a, b)`` for numpy arrays. Any other type (symnet
    has no sparse or GPU arrays) raises ``TypeError`` unless
    ``raise_other_type=False``, which answers False, as Theano does."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.may_share_memory(a, b))
    if raise_other_type:
        raise TypeError(f"may_share_memory: expected numpy arrays, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    return False
