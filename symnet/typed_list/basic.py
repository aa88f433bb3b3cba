"""The ops of typed lists: Python's list methods as graph operations.

Each op returns a new list (the input list is never changed: ``inplace``
is accepted for Theano's signatures and ignored); the items of the result
are the input's arrays themselves, so every op declares its output a view
of its list input and in-place rewrites leave those arrays alone.  Items
compare by value (``remove``, ``count``, ``index_``), as Theano's did.
None has a gradient.
"""
import numpy as np

from ..graph.basic import Apply, Constant, Variable
from ..graph.op import Op
from ..tensor.basic import as_tensor_variable, constant
from ..tensor.type import TensorType
from .type import TypedListType, _item_eq

__all__ = ["TypedListVariable", "TypedListConstant",
           "GetItem", "getitem", "Append", "append", "Extend", "extend", "Insert", "insert",
           "Remove", "remove", "Reverse", "reverse", "Index", "index_", "Count", "count",
           "Length", "length", "MakeList", "make_list"]


def _as_list(op, x):
    if not isinstance(x, Variable):
        raise TypeError(f"{op.short_name()}: expected a typed-list variable, got {x!r}")
    if not isinstance(x.type, TypedListType):
        raise TypeError(f"{op.short_name()}: expected a typed list, got {x} of type {x.type}")
    return x


def _as_item(op, lst, item):
    """``item`` as a variable of the list's item type (a plain value is
    converted with that type's filter)."""
    ttype = lst.type.ttype
    if not isinstance(item, Variable):
        item = ttype.as_variable(ttype.filter(item)) if isinstance(ttype, TypedListType) \
            else constant(ttype.filter(item))
    if item.type != ttype:
        raise TypeError(f"{op.short_name()}: the items of {lst} have type {ttype}, "
                        f"got {item} of type {item.type}")
    return item


def _as_int(op, index):
    index = as_tensor_variable(index)
    if index.ndim != 0 or index.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"{op.short_name()}: the index must be an integer scalar, "
                        f"got {index} of type {index.type}")
    return index


class _ListOp(Op):
    """A list op: no gradient, output 0 shares the items of input 0."""

    view_map = {0: [0]}

    def grad(self, inputs, output_grads):
        raise TypeError(f"{self.short_name()}: typed-list ops have no gradient")


class _Copying(_ListOp):
    # ``inplace`` is Theano's argument; the ops never change their input
    __props__ = ()

    def __init__(self, inplace=False):
        self.inplace = inplace


class GetItem(_ListOp):
    """``l[i]`` (an item) or ``l[start:stop:step]`` (a list): see ``getitem``."""

    __props__ = ("slice_",)

    def __init__(self, slice_=None):
        self.slice_ = slice_

    def make_node(self, x, index=None):
        x = _as_list(self, x)
        if isinstance(index, slice):
            bounds = tuple(None if b is None else int(b)
                           for b in (index.start, index.stop, index.step))
            return Apply(GetItem(bounds), [x], [x.type()])
        if self.slice_ is not None:
            return Apply(self, [x], [x.type()])
        return Apply(self, [x, _as_int(self, index)], [x.type.ttype()])

    def perform(self, node, inputs, output_storage):
        if self.slice_ is not None:
            output_storage[0][0] = inputs[0][slice(*self.slice_)]
            return
        x, i = inputs
        if not -len(x) <= int(i) < len(x):
            raise IndexError(f"{node.inputs[0]}[{int(i)}]: index out of range for a list "
                             f"of {len(x)} items")
        output_storage[0][0] = x[int(i)]

    def short_name(self):
        return "GetItem" if self.slice_ is None else f"GetItem{{{slice(*self.slice_)}}}"


#: ``getitem(l, i)``: item ``i`` of ``l`` (an integer scalar, symbolic or
#: not); ``getitem(l, slice(a, b))``: the sub-list, as ``l[a:b]`` does
getitem = GetItem()


class Append(_Copying):
    """``l + [item]``: see ``append``."""

    def make_node(self, x, item):
        x = _as_list(self, x)
        return Apply(self, [x, _as_item(self, x, item)], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = list(inputs[0]) + [inputs[1]]


#: ``append(l, item)``: a new list, ``l`` with ``item`` at its end
append = Append()


class Extend(_Copying):
    """``l + other``: see ``extend``."""

    def make_node(self, x, other):
        x = _as_list(self, x)
        if not isinstance(other, Variable):
            other = x.type.as_variable(x.type.filter(other))
        if other.type != x.type:
            raise TypeError(f"extend: {x} has type {x.type}, got {other} of type {other.type}")
        return Apply(self, [x, other], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = list(inputs[0]) + list(inputs[1])


#: ``extend(l, other)``: a new list, the items of ``l`` then those of ``other``
extend = Extend()


class Insert(_Copying):
    """``l`` with ``item`` inserted before index ``i``: see ``insert``."""

    def make_node(self, x, index, item):
        x = _as_list(self, x)
        return Apply(self, [x, _as_int(self, index), _as_item(self, x, item)], [x.type()])

    def perform(self, node, inputs, output_storage):
        out = list(inputs[0])
        out.insert(int(inputs[1]), inputs[2])
        output_storage[0][0] = out


#: ``insert(l, i, item)``: a new list, ``item`` inserted before index ``i``
insert = Insert()


def _find(node, items, item):
    return next((k for k, v in enumerate(items) if _item_eq(node.inputs[0].type.ttype, v, item)),
                None)


class Remove(_Copying):
    """``l`` without its first item equal to ``item``: see ``remove``."""

    def make_node(self, x, item):
        x = _as_list(self, x)
        return Apply(self, [x, _as_item(self, x, item)], [x.type()])

    def perform(self, node, inputs, output_storage):
        out = list(inputs[0])
        k = _find(node, out, inputs[1])
        if k is not None:   # Theano's remove left the list as it was
            del out[k]
        output_storage[0][0] = out


#: ``remove(l, item)``: a new list without the first item equal to ``item``
#: (by value); ``l`` unchanged if none is
remove = Remove()


class Reverse(_Copying):
    """``l[::-1]``: see ``reverse``."""

    def make_node(self, x):
        x = _as_list(self, x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = list(inputs[0])[::-1]


#: ``reverse(l)``: a new list, the items of ``l`` in reverse order
reverse = Reverse()


class _Search(Op):
    __props__ = ()

    def make_node(self, x, item):
        x = _as_list(self, x)
        return Apply(self, [x, _as_item(self, x, item)], [TensorType("int64", shape=())()])

    def grad(self, inputs, output_grads):
        raise TypeError(f"{self.short_name()}: typed-list ops have no gradient")


class Index(_Search):
    """The position of the first item equal to ``item``: see ``index_``."""

    def perform(self, node, inputs, output_storage):
        k = _find(node, inputs[0], inputs[1])
        if k is None:
            raise ValueError(f"index_: no item of {node.inputs[0]} equals the value of "
                             f"{node.inputs[1]}")
        output_storage[0][0] = np.asarray(k, dtype="int64")


#: ``index_(l, item)``: the position (int64) of the first item of ``l``
#: equal to ``item``, by value; ValueError if there is none
index_ = Index()


class Count(_Search):
    """How many items equal ``item``: see ``count``."""

    def perform(self, node, inputs, output_storage):
        ttype = node.inputs[0].type.ttype
        n = sum(1 for v in inputs[0] if _item_eq(ttype, v, inputs[1]))
        output_storage[0][0] = np.asarray(n, dtype="int64")


#: ``count(l, item)``: how many items of ``l`` equal ``item`` (int64)
count = Count()


class Length(Op):
    """``len(l)``: see ``length``."""

    __props__ = ()

    def make_node(self, x):
        x = _as_list(self, x)
        return Apply(self, [x], [TensorType("int64", shape=())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(len(inputs[0]), dtype="int64")

    def grad(self, inputs, output_grads):
        raise TypeError("Length: typed-list ops have no gradient")


#: ``length(l)``: the number of items of ``l`` (an int64 scalar)
length = Length()


class MakeList(Op):
    """A typed list of the given variables: see ``make_list``."""

    __props__ = ()

    def make_node(self, items):
        if not isinstance(items, (list, tuple)) or not items:
            raise TypeError(f"make_list: expected a non-empty list of variables, got {items!r}")
        items = [v if isinstance(v, Variable) else as_tensor_variable(v) for v in items]
        for v in items[1:]:
            if v.type != items[0].type:
                raise TypeError(f"make_list: every item must have the type of the first "
                                f"({items[0].type}); {v} has type {v.type}")
        return Apply(self, items, [TypedListType(items[0].type)()])

    def perform(self, node, inputs, output_storage):
        # copies: the list must not share memory with the op's inputs
        output_storage[0][0] = [np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                                for v in inputs]

    def grad(self, inputs, output_grads):
        raise TypeError("MakeList: typed-list ops have no gradient")


#: ``make_list([a, b, ...])``: a typed list of variables of one type
make_list = MakeList()


class _ListOperators:
    """The list methods of a typed-list variable, each a graph op."""

    def __getitem__(self, index):
        return getitem(self, index)

    def __len__(self):
        # len() must give an int, which a symbolic list does not have
        raise TypeError(f"{self} is a symbolic list: use typed_list.length({self}) "
                        f"for its length in the graph")

    def append(self, item):
        return append(self, item)

    def extend(self, items):
        return extend(self, items)

    def insert(self, index, item):
        return insert(self, index, item)

    def remove(self, item):
        return remove(self, item)

    def reverse(self):
        return reverse(self)

    def count(self, item):
        return count(self, item)

    def ind(self, item):
        """The index of the first item equal to ``item`` (``list.index``)."""
        return index_(self, item)

    @property
    def ttype(self):
        return self.type.ttype

    @property
    def dtype(self):
        return self.type.ttype.dtype

    @property
    def ndim(self):
        """The items' ndim plus one, as Theano counted a list of them."""
        return self.type.ttype.ndim + 1


class TypedListVariable(_ListOperators, Variable):
    """A symbolic typed list (an input, or the result of a list op)."""


class TypedListConstant(_ListOperators, Constant):
    """A typed list fixed when the graph is built."""

    def signature(self):
        return (self.type, tuple(np.asarray(v).tobytes() for v in self.data))


TypedListType.variable_class = TypedListVariable
TypedListType.constant_class = TypedListConstant
