"""The names Theano printed for ops and variables: ``Elemwise{add,no_inplace}``,
``InplaceDimShuffle{x,0}``, ``Sum{acc_dtype=float64}``, ``TensorConstant{2}``.

debugprint, pp and min_informative_str (:mod:`symnet.printing`) print a
graph the way Theano printed the same graph, because users compare these
printouts with Theano's documentation and their old logs.  For the same
reason str(op) and str(variable) show Theano's form once this module is
imported (``print(node.op, node.inputs)``); ``op.short_name()`` and
``graph.basic.short_str`` keep symnet's short names (``add``, ``add.0``),
which its error messages and generated code use.
"""
import numpy as np

from .graph import basic as _basic, op as _op
from .graph.basic import Apply, Constant
from .tensor.ops.blas import Dot
from .scan.op import Scan
from .tensor.ops.elemwise import Cast, Composite, DimShuffle, Elemwise
from .tensor.ops.nnet import LogSoftmax, Softmax
from .tensor.ops.reduction import Reduce
from .tensor.ops.shape import Shape_i
from .tensor.type import TensorType, theano_kind

__all__ = ["theano_name", "theano_str", "theano_repr", "theano_type_str"]


# Elemwise ops Theano built with a name of their own (T.nnet.sigmoid is
# ``Elemwise(scalar_sigmoid, name='sigmoid')``), printed by that name
_NAMED_ELEMWISE = {"sigmoid": "sigmoid", "softplus": "softplus"}


# Theano's scalar printer, which names a fused Composite: arithmetic infix,
# comparisons in capitals, its own names for a few functions
_SCALAR_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//",
                 "mod": "%", "pow": "**"}
_SCALAR_NAMES = {"gt": "GT", "ge": "GE", "lt": "LT", "le": "LE", "eq": "EQ", "neq": "NEQ",
                 "sigmoid": "scalar_sigmoid", "softplus": "scalar_softplus"}


def _composite_name(c):
    """``Composite{(log(i0) * i0)}``: the fused program in Theano's words."""
    names = [f"i{k}" for k in range(c.nin)]
    for op, refs, _ in c.program:
        args = [names[r] for r in refs]
        name = getattr(op, "name", None)
        if name in _SCALAR_INFIX and len(args) == 2:
            text = f"({args[0]} {_SCALAR_INFIX[name]} {args[1]})"
        elif name == "neg":
            text = f"(-{args[0]})"
        else:
            text = f"{_SCALAR_NAMES.get(name, str(op))}({', '.join(args)})"
        names.append(text)
    return f"Composite{{{names[c.out]}}}"


def _elemwise_name(op):
    scalar = _composite_name(op.scalar_op) if isinstance(op.scalar_op, Composite) \
        else str(op.scalar_op)
    if isinstance(op.scalar_op, Cast):
        return f"Elemwise{{Cast{{{op.scalar_op.dtype}}}}}" + (
            f"[(0, {op.inplace})]" if op.inplace is not None else "")
    if op.inplace is None and scalar in _NAMED_ELEMWISE:
        return _NAMED_ELEMWISE[scalar]
    if op.inplace is not None:
        return f"Elemwise{{{scalar}}}[(0, {op.inplace})]"
    if scalar.startswith("Composite{"):
        return f"Elemwise{{{scalar}}}"   # made by fusion: Theano gave it no name
    return f"Elemwise{{{scalar},no_inplace}}"


def _acc_dtype(dtype):
    return {"f": "float64", "c": "complex128", "u": "uint64"}.get(np.dtype(dtype).kind, "int64")


def _reduce_name(op, node):
    if op.kind not in ("sum", "prod"):
        return op.short_name()
    head = op.kind.capitalize()
    acc = f"acc_dtype={_acc_dtype(node.inputs[0].dtype)}" if node is not None else ""
    if node is not None and len(op.axis) == node.inputs[0].ndim:
        return f"{head}{{{acc}}}"
    return f"{head}{{axis={list(op.axis)}{', ' + acc if acc else ''}}}"


_THEANO_NAMES = {
    Elemwise: lambda op, node: _elemwise_name(op),
    DimShuffle: lambda op, node: "InplaceDimShuffle{%s}" % ",".join(map(str, op.new_order)),
    Reduce: _reduce_name,
    Dot: lambda op, node: "dot",
    Shape_i: lambda op, node: f"Shape_i{{{op.i}}}",
    # Theano's softmax ops work on the last axis only: another axis keeps symnet's name
    Softmax: lambda op, node: "Softmax" if op.axis == -1 else op.short_name(),
    LogSoftmax: lambda op, node: "LogSoftmax" if op.axis == -1 else op.short_name(),
    # Theano's scan op: 'for{cpu,<the name given to scan>}'
    Scan: lambda op, node: f"for{{cpu,{op.name or 'scan_fn'}}}",
}


def theano_name(op, node=None):
    """The name Theano printed for ``op`` (applied in ``node``, when given).

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.dmatrix('x')
    >>> theano_name((x + 1).owner.op), (x + 1).owner.op.short_name()
    ('Elemwise{add,no_inplace}', 'add')
    >>> s = x.sum(axis=0)
    >>> theano_name(s.owner.op, s.owner)
    'Sum{axis=[0], acc_dtype=float64}'
    """
    for cls in type(op).__mro__:
        if cls in _THEANO_NAMES:
            return _THEANO_NAMES[cls](op, node)
    return op.short_name()


def theano_type_str(t):
    """A type as Theano printed it: a tensor type by its broadcastable
    pattern (``TensorType(float64, vector)``), also where symnet knows
    static sizes (a shared variable's), which Theano's types did not hold."""
    if getattr(t, "name", None) or not isinstance(t, TensorType):
        return str(t)
    return f"TensorType({t.dtype}, {theano_kind(t.broadcastable)})"


def theano_str(v, as_written=True):
    """A variable as Theano printed it: its name, ``TensorConstant{2}``,
    ``TensorConstant{(3,) of 0.5}`` or ``<TensorType(float64, vector)>``.
    ``as_written=False``: in a compiled graph, where Theano's rewrites had
    cast a Python int constant to the op's dtype (``TensorConstant{5.0}``)."""
    if v.name is not None or v.owner is not None:
        return str(v)
    if not isinstance(v, Constant):
        return f"<{theano_type_str(v.type)}>"   # a shared variable too: Theano does not mark them
    if not hasattr(v.type, "dtype"):
        return str(v)
    d = np.asarray(v.data)
    if as_written and d.ndim == 0 and v.tag.get("python_int"):
        return f"TensorConstant{{{int(d)}}}"   # written as an int (elemwise.weak_constants)
    if d.ndim and d.size and (d == d.flat[0]).all():
        text = f"{d.shape} of {str(d.flat[0])}"   # str: a float32 prints short
    else:
        text = str(d)
    if len(text) > 20:
        text = text[:10] + ".." + text[-10:]
    return f"TensorConstant{{{text}}}"


def _in_function_graph(node):
    """Whether ``node`` belongs to a live FunctionGraph (a compiled
    function's): its constants then print as the rewritten graph has them."""
    return any(fg is not None and node in fg.apply_nodes
               for fg in (ref() for ref in _basic.RECENT_FGRAPHS))


def theano_repr(obj, as_written=True):
    """A variable or node as Theano's str() showed it: ``x``,
    ``Elemwise{add,no_inplace}.0``, ``TensorConstant{2}``,
    ``<TensorType(float64, vector)>``, ``Elemwise{add,no_inplace}(x, y)``.
    symnet's repr() (a prompt, a printed list) uses it.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.dvector('x')
    >>> y = (x + 1).dimshuffle('x', 0)
    >>> y, str(y)
    (InplaceDimShuffle{x,0}.0, 'InplaceDimShuffle{x,0}.0')
    >>> [y.owner.inputs[0].owner]
    [Elemwise{add,no_inplace}(x, InplaceDimShuffle{x}.0)]
    """
    if isinstance(obj, Apply):
        written = not _in_function_graph(obj)
        return f"{theano_name(obj.op, obj)}(" \
            f"{', '.join(theano_repr(i, written) for i in obj.inputs)})"
    if obj.name is not None:
        return obj.name
    if obj.owner is not None:
        return f"{theano_name(obj.owner.op, obj.owner)}.{obj.index}"
    if isinstance(obj, Constant):
        return theano_str(obj, as_written)
    return f"<{theano_type_str(obj.type)}>"


_basic.REPR[0] = theano_repr
_op.OP_STR[0] = theano_name
