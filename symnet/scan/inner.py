"""Small helpers for building Scan inner graphs, shared by the op and its
gradient (scan/grad.py builds a Scan without importing scan/op.py, which
imports it back for ``Scan.L_op``)."""
from ..graph.basic import Variable

__all__ = ["placeholder"]


def _float(v):
    return v.type.dtype.startswith(("float", "complex"))


def placeholder(type_, name=None):
    """A fresh owner-less variable of ``type_``."""
    return type_.make_variable(name) if hasattr(type_, "make_variable") else \
        Variable(type_, name=name)
