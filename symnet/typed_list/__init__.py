"""Typed lists (Theano's ``theano.typed_list``): a graph value that is a
Python list of arrays of one type and any lengths, with list ops.

>>> import symnet, symnet.tensor as T
>>> from symnet import typed_list
>>> tl = typed_list.TypedListType(T.fvector)()
>>> v = T.fvector()
>>> f = symnet.function([tl, v], typed_list.append(tl, v))
>>> f([[1, 2, 3], [4, 5]], [2])
[array([1., 2., 3.], dtype=float32), array([4., 5.], dtype=float32), array([2.], dtype=float32)]
"""
from .type import TypedListType
from .basic import (Append, Count, Extend, GetItem, Index, Insert, Length, MakeList, Remove,
                    Reverse, TypedListConstant, TypedListVariable, append, count, extend, getitem,
                    index_, insert, length, make_list, remove, reverse)

__all__ = ["TypedListType", "TypedListVariable", "TypedListConstant",
           "GetItem", "getitem", "Append", "append", "Extend", "extend", "Insert", "insert",
           "Remove", "remove", "Reverse", "reverse", "Index", "index_", "Count", "count",
           "Length", "length", "MakeList", "make_list"]
