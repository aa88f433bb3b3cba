"""Typed lists (``symnet/typed_list/basic.py``) in the numba backend's
driver: a Python list is Python's work, so each op is the list expression
its ``perform`` computes, written into the driver (no compiled kernel)."""
from ...typed_list.basic import (Append, Count, Extend, GetItem, Index, Insert, Length, MakeList,
                                 Remove, Reverse)
from .dispatch import driver_op

__all__ = ["list_driver", "perform_driver"]

# the expression of each op whose result is a plain list expression
_EXPR = {
    Append: "list({0}) + [{1}]",
    Extend: "list({0}) + list({1})",
    Reverse: "list({0})[::-1]",
}


@driver_op(Append, Extend, Reverse, objects=True)
def list_driver(node, ins, outs):
    return [f"{outs[0]} = " + _EXPR[type(node.op)].format(*ins)], False


@driver_op(GetItem, Insert, Remove, Index, Count, Length, MakeList, objects=True)
def perform_driver(node, ins, outs, writer):
    # Python list work with value comparisons, range checks and copies:
    # numba has nothing faster for a list of arrays, so the driver calls the
    # op's perform (the implementation, not a fallback: strict mode runs it)
    op = writer.object_const(node.op)
    nd = writer.object_const(node)
    st = f"_st_{outs[0]}"
    return [f"{st} = [[None]]",
            f"{op}.perform({nd}, [{', '.join(ins)}], {st})",
            f"{outs[0]} = {st}[0][0]"], False


perform_driver.takes_writer = True
