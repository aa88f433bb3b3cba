"""Helpers shared by the tensor rewrites: matching constants and scalar ops,
and making a replacement fit the type of the variable it replaces."""
import numpy as np

from ...graph.basic import Constant
from ..ops.elemwise import DimShuffle, Elemwise

__all__ = ["scalar_name", "const_value", "is_const", "fit_type", "single_client",
           "elemwise_input"]


def scalar_name(v):
    """The scalar op name of the Elemwise computing ``v``, else None."""
    node = v.owner
    if node is not None and isinstance(node.op, Elemwise):
        return node.op.scalar_op.name
    return None


def const_value(v):
    """The single value of a constant whose entries are all equal, else None.

    Looks through DimShuffles (``Elemwise`` pads constants with them).
    """
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if not isinstance(v, Constant):
        return None
    data = np.asarray(v.data)
    if data.size == 0:
        return None
    first = data.reshape(-1)[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first


def is_const(v, value):
    """Whether ``v`` is a constant whose every entry equals ``value``."""
    c = const_value(v)
    return c is not None and bool(c == value)


def elemwise_input(v, name):
    """Inputs of ``v``'s owner when it is ``Elemwise(name)``, else None."""
    if scalar_name(v) == name:
        return v.owner.inputs
    return None


def single_client(fgraph, v):
    """Whether ``v`` has exactly one client in ``fgraph`` (and is no output)."""
    cl = fgraph.clients.get(v, ())
    return len(cl) == 1 and cl[0][0] != "output"


def fit_type(new, old):
    """``new`` adjusted to ``old``'s type (dtype cast, broadcastable axes
    restored), or None when it cannot be (different ndim, or it would need
    a broadcast to a larger shape)."""
    from ..ops.elemwise import cast
    from ..ops.shape import patternbroadcast
    if new.ndim != old.ndim:
        return None
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    if new.broadcastable != old.broadcastable:
        for a, b in zip(new.broadcastable, old.broadcastable):
            if a and not b:
                # ``new`` is size 1 where ``old`` may be larger: a broadcast
                # would be needed, which a plain replacement cannot express
                return None
        new = patternbroadcast(new, old.broadcastable)
    return new
