"""``function()``'s updates: normalised pairs, type checks, default updates.

``normalize_updates`` turns what the user passed (pairs or a mapping) into
checked ``(shared_variable, expression)`` pairs; ``default_updates`` adds
the ``default_update`` of every shared variable the graph reaches (a
random stream's state, for instance) that no explicit update names.
"""
import warnings
from collections import OrderedDict

import numpy as np

from ..graph.basic import Variable
from ..graph.traversal import ancestors
from .sharedvalue import SharedVariable

__all__ = ["normalize_updates", "default_updates", "OrderedUpdates"]


def _vname(v):
    return v.name if v.name is not None else str(v)


def normalize_updates(updates):
    if updates is None:
        return []
    if isinstance(updates, dict):
        if not isinstance(updates, OrderedDict) and len(updates) > 1 and \
                type(updates) is not dict:
            warnings.warn("updates given as an unordered mapping", stacklevel=3)
        pairs = list(updates.items())
    else:
        pairs = list(updates)
    out = []
    seen = set()
    from ..tensor.basic import as_tensor_variable
    for pair in pairs:
        try:
            var, expr = pair
        except (TypeError, ValueError):
            raise TypeError(f"updates must be (shared_variable, expression) pairs, "
                            f"got {pair!r}") from None
        if not isinstance(var, SharedVariable):
            raise TypeError(f"update target {var} must be a shared variable, got "
                            f"{type(var).__name__}")
        if var in seen:
            raise ValueError(f"shared variable {_vname(var)} has two updates")
        seen.add(var)
        if not isinstance(expr, Variable):
            expr = as_tensor_variable(np.asarray(expr, dtype=var.dtype))
        _check_update_type(var, expr)
        out.append((var, expr))
    return out


def _check_update_type(var, expr):
    vt, et = var.type, expr.type
    if not hasattr(vt, "dtype"):      # a Generic state (raw_random's RandomState)
        if et != vt:
            raise TypeError(f"an update must have the same type as its shared variable: "
                            f"{_vname(var)} is {vt} but its update {expr} is {et}")
        return
    if getattr(et, "dtype", None) != vt.dtype or et.ndim != vt.ndim:
        raise TypeError(
            f"an update must have the same type as its shared variable: "
            f"{_vname(var)} is {vt} but its update {expr} is {et}. "
            f"Cast the update (e.g. expr.astype('{vt.dtype}')) or build the shared "
            f"variable with the matching dtype")
    declared = getattr(var.tag, "broadcastable", None) or ()
    for axis, b in enumerate(declared):
        if b and et.shape[axis] != 1:
            # Theano's rule: the update's type must be convertible to the
            # variable's, and a size not known to be 1 cannot broadcast.
            raise TypeError(
                f"the update of {_vname(var)} has type {et}, which cannot become "
                f"{_vname(var)}'s type {vt}: axis {axis} is declared broadcastable "
                f"(size 1) but the update's size there is "
                f"{'unknown' if et.shape[axis] is None else et.shape[axis]}; use "
                f"T.addbroadcast(update, {axis}) if it is always 1")
    for axis, (a, b) in enumerate(zip(vt.shape, et.shape)):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"the update of {_vname(var)} has static shape {et.shape}, but the "
                f"variable has shape {vt.shape} (axis {axis})")


def default_updates(roots, explicit, no_default_updates):
    """Shared variables' ``default_update``s reachable from ``roots``."""
    if no_default_updates is True:
        return []
    skip = set(no_default_updates or ())
    have = {v for v, _ in explicit}
    found = []
    frontier = list(roots)
    visited = set()
    while frontier:
        new = []
        for v in ancestors(frontier):
            if v in visited:
                continue
            visited.add(v)
            if isinstance(v, SharedVariable) and v.default_update is not None \
                    and v not in have and v not in skip:
                have.add(v)
                found.append((v, v.default_update))
                new.append(v.default_update)
        frontier = new
    return found


class OrderedUpdates(OrderedDict):
    """Theano's ``theano.updates.OrderedUpdates``: an ordered
    ``{shared_variable: new_value}`` mapping that refuses other keys and
    adds with ``+`` (what ``scan`` returns as its updates).

    Adding two sets of updates fails with ``KeyError`` when they give one
    variable two different new values; equal values merge.

    Examples
    --------
    >>> import numpy as np, symnet
    >>> a, b = symnet.shared(np.float64(0), name='a'), symnet.shared(np.float64(1), name='b')
    >>> up = OrderedUpdates([(a, a + 1)]) + OrderedUpdates([(b, b * 2)])
    >>> [v.name for v in up]
    ['a', 'b']
    >>> up[3] = 4
    Traceback (most recent call last):
      ...
    TypeError: OrderedUpdates keys must be shared variables, got int 3
    """

    def __init__(self, *args, **kwargs):
        if len(args) == 1 and isinstance(args[0], dict) and len(args[0]) > 1 \
                and not isinstance(args[0], OrderedDict):
            # the order of the updates decides the order they are applied in
            warnings.warn("OrderedUpdates built from an unordered dict", stacklevel=2)
        super().__init__()
        self.update(*args, **kwargs)

    def __setitem__(self, key, value):
        if not isinstance(key, SharedVariable):
            raise TypeError(f"OrderedUpdates keys must be shared variables, got "
                            f"{type(key).__name__} {key!r}")
        super().__setitem__(key, value)

    def update(self, other=None, **kwargs):
        if kwargs:
            raise TypeError("OrderedUpdates keys must be shared variables, not keywords "
                            f"({', '.join(kwargs)})")
        if other is None:
            return
        pairs = other.items() if isinstance(other, dict) else other
        for key, val in pairs:
            if key in self and self[key] != val:
                raise KeyError(f"two different updates for {_vname(key)}: {self[key]} "
                               f"and {val}")
            self[key] = val

    def __add__(self, other):
        out = OrderedUpdates(self)
        out.update(other)
        return out

    def __radd__(self, other):
        out = OrderedUpdates(other)
        out.update(self)
        return out
