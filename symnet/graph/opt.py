"""``theano.gof.opt``: the names user code imports from Theano's rewriting
module: ``local_optimizer``/``LocalOptimizer`` (symnet's own, see
``rewriting.local_optimizer``) and ``check_stack_trace``, which tells
whether the nodes of a compiled graph still know the user line that built
them (symnet keeps it as ``node.tag.trace``; rewrites' new nodes get the
line of the ``function()`` call that made them).

Examples
--------
>>> import symnet, symnet.tensor as T
>>> from symnet.graph.opt import check_stack_trace
>>> x = T.vector('x')
>>> f = symnet.function([x], T.exp(x) + 1)
>>> check_stack_trace(f, ops_to_check='all')
True
"""
import inspect

from .fg import FunctionGraph
from .op import Op
from .rewriting.local_optimizer import LocalOptimizer, local_optimizer

__all__ = ["check_stack_trace", "LocalOptimizer", "local_optimizer"]


def _fgraph_of(f_or_fgraph):
    if isinstance(f_or_fgraph, FunctionGraph):
        return f_or_fgraph
    maker = getattr(f_or_fgraph, "maker", None)
    if isinstance(getattr(maker, "fgraph", None), FunctionGraph):
        return maker.fgraph
    raise ValueError(f"check_stack_trace: f_or_fgraph must be a compiled function or a "
                     f"FunctionGraph, got {type(f_or_fgraph).__name__}")


def _as_op(obj):
    # T.exp and its kin are functions holding their scalar op (``.op``):
    # Theano code passes them where Theano had the Elemwise op itself
    return obj.op if callable(obj) and hasattr(getattr(obj, "op", None), "nin") else obj


def _nodes_to_check(fgraph, ops_to_check):
    ops_to_check = _as_op(ops_to_check)
    if isinstance(ops_to_check, (tuple, list)):
        ops_to_check = [_as_op(o) for o in ops_to_check]
    elif not isinstance(ops_to_check, str) and (not callable(ops_to_check) or isinstance(
            ops_to_check, Op) or inspect.isclass(ops_to_check)):
        ops_to_check = (ops_to_check,)
    if isinstance(ops_to_check, str):
        if ops_to_check == "last":
            return [v.owner for v in fgraph.outputs if v.owner is not None]
        if ops_to_check == "all":
            return list(fgraph.apply_nodes)
        raise ValueError(f"check_stack_trace: ops_to_check={ops_to_check!r}; the strings "
                         f"it takes are 'last' and 'all'")
    if isinstance(ops_to_check, (tuple, list)):
        instances = [o for o in ops_to_check if isinstance(o, Op)]
        classes = tuple(o for o in ops_to_check if inspect.isclass(o))
        scalars = [o for o in ops_to_check if not isinstance(o, Op) and not inspect.isclass(o)]

        def wanted(op):
            # an Elemwise matches its scalar op and that op's class, as in Theano
            scalar = getattr(op, "scalar_op", None)
            return (any(op == i for i in instances) or isinstance(op, classes)
                    or isinstance(scalar, classes)
                    or (scalar is not None and any(scalar == s for s in scalars)))
    else:   # a predicate on ops (anything else was made a tuple above)
        wanted = ops_to_check
    return [n for n in fgraph.apply_nodes if wanted(n.op)]


def check_stack_trace(f_or_fgraph, ops_to_check="last", bug_print="raise"):
    """Whether every node selected by ``ops_to_check`` in the graph of
    ``f_or_fgraph`` (a compiled function or a FunctionGraph) carries the
    user line that built it.

    Parameters
    ----------
    ops_to_check : 'last', 'all', Op, Op class, list of them, or callable
        'last': the nodes computing the outputs; 'all': every node; ops or
        op classes (an Elemwise also matches its scalar op's class), or
        elementwise functions such as ``T.exp`` (their op): their nodes; a
        callable: the nodes whose op it returns True for.
    bug_print : {'raise', 'warn', 'ignore'}
        What to do when no node matches: raise ``Exception``, warn, or
        nothing (the result is then True).

    Returns
    -------
    bool
    """
    fgraph = _fgraph_of(f_or_fgraph)
    nodes = _nodes_to_check(fgraph, ops_to_check)
    if not nodes:
        msg = f"check_stack_trace: no node of {ops_to_check!r} in the graph"
        if bug_print == "raise":
            raise Exception(msg)
        if bug_print == "warn":
            import warnings
            warnings.warn(msg, stacklevel=2)
        elif bug_print != "ignore":
            raise ValueError(f"check_stack_trace: bug_print={bug_print!r}; expected "
                             f"'raise', 'warn' or 'ignore'")
        return True
    return all(n.tag.get("trace") for n in nodes)
