"""TypedListType: the type of a Python list whose items all have one type.

Theano's ``theano.typed_list``: a list of arrays of different lengths
(sentences, ragged batches) passed to a function as one input, indexed in
the graph or in a scan's step.  Values are plain Python lists.
"""
import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.type import Type

__all__ = ["TypedListType"]


class TypedListType(Type):
    """A list whose items all have the type ``ttype``.

    Parameters
    ----------
    ttype : Type
        The items' type (``T.fvector``), or a TypedListType for a list of lists.
    depth : int
        Nesting: ``depth=1`` is a list of lists of ``ttype``.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> t = TypedListType(T.fvector)
    >>> t, t.get_depth()
    (TypedList <TensorType(float32, vector)>, 0)
    >>> t.filter([[1, 2], [3]])
    [array([1., 2.], dtype=float32), array([3.], dtype=float32)]
    """

    def __init__(self, ttype, depth=0):
        if depth < 0:
            raise ValueError(f"TypedListType: depth must be >= 0, got {depth}")
        if not isinstance(ttype, Type):
            raise TypeError(f"TypedListType: expected a Type for the items "
                            f"(such as T.fvector), got {ttype!r}")
        self.ttype = TypedListType(ttype, depth - 1) if depth else ttype

    def filter(self, value, strict=False, allow_downcast=None):
        if not isinstance(value, (list, tuple)) or (strict and not isinstance(value, list)):
            raise TypeError(f"{self}: expected a Python list, got {type(value).__name__}")
        return [self.ttype.filter(v, strict=strict, allow_downcast=allow_downcast)
                for v in value]

    def values_eq(self, a, b):
        return len(a) == len(b) and all(_item_eq(self.ttype, x, y) for x, y in zip(a, b))

    def get_depth(self):
        """How many list levels lie above the items (0: a list of tensors)."""
        return self.ttype.get_depth() + 1 if isinstance(self.ttype, TypedListType) else 0

    def is_compatible(self, other):
        return self == other

    #: the classes of its variables and constants, with the list methods
    #: (``l[i]``, ``l.append(v)``): set by typed_list.basic, which holds the ops
    variable_class = Variable
    constant_class = Constant

    def make_variable(self, name=None):
        return self.variable_class(self, name=name)

    def as_variable(self, value):
        return self.constant_class(self, value)

    def __eq__(self, other):
        return type(self) is type(other) and self.ttype == other.ttype

    def __hash__(self):
        return hash((TypedListType, self.ttype))

    def __str__(self):
        return f"TypedList <{self.ttype}>"

    __repr__ = __str__


def _item_eq(ttype, a, b):
    if hasattr(ttype, "values_eq"):
        return ttype.values_eq(a, b)
    return np.array_equal(a, b)
