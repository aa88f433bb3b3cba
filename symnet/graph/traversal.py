"""Graph walks: ancestors, topological order, cloning.

No recursion over graphs, ever: every walk here uses an explicit stack, so a
chain of 100,000 nodes is as safe as one of ten (Python's recursion limit is
about 1,000 frames).
"""
from .basic import Constant, Variable

__all__ = ["ancestors", "graph_inputs", "toposort", "io_toposort", "variables",
           "applys_between", "clone", "clone_replace", "clone_get_equiv"]


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def ancestors(outputs, blockers=None):
    """Every variable the outputs depend on (outputs included), stopping at
    ``blockers``; in discovery order."""
    blockers = set(blockers or ())
    seen = set()
    order = []
    stack = list(reversed(_as_list(outputs)))
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        order.append(v)
        if v.owner is not None and v not in blockers:
            stack.extend(reversed(v.owner.inputs))
    return order


def graph_inputs(outputs, blockers=None):
    """The owner-less variables (inputs, shared variables, constants)."""
    blockers = set(blockers or ())
    return [v for v in ancestors(outputs, blockers)
            if v.owner is None or v in blockers]


def io_toposort(inputs, outputs):
    """Apply nodes between ``inputs`` and ``outputs``, dependencies first.

    Iterative post-order depth-first search: a node is emitted after all the
    nodes computing its inputs.
    """
    stop = set(inputs)
    order = []
    done = set()
    stack = [(v, False) for v in reversed(_as_list(outputs))]
    while stack:
        v, expanded = stack.pop()
        node = v.owner
        if node is None or v in stop or node in done:
            continue
        if expanded:
            done.add(node)
            order.append(node)
            continue
        stack.append((v, True))
        for inp in reversed(node.inputs):
            if inp.owner is not None and inp.owner not in done and inp not in stop:
                stack.append((inp, False))
    return order


def toposort(outputs):
    return io_toposort((), outputs)


def applys_between(inputs, outputs):
    return io_toposort(inputs, outputs)


def variables(inputs, outputs):
    """All variables between inputs and outputs."""
    out = []
    seen = set()
    for v in inputs:
        if v not in seen:
            seen.add(v)
            out.append(v)
    for node in io_toposort(inputs, outputs):
        for v in node.inputs + node.outputs:
            if v not in seen:
                seen.add(v)
                out.append(v)
    return out


def clone_get_equiv(inputs, outputs, copy_inputs=True, memo=None,
                    copy_orphans=None):
    """Clone the subgraph; return the old -> new mapping.

    Variables already in ``memo`` are used as they are (that is how
    replacements are made).  Owner-less variables are kept unless
    ``copy_inputs`` (for those in ``inputs``); constants and shared
    variables are always kept.
    """
    memo = {} if memo is None else memo
    for v in inputs:
        if v not in memo:
            memo[v] = v.clone() if copy_inputs else v
    for node in io_toposort(list(memo), outputs):
        new_inputs = []
        for inp in node.inputs:
            if inp not in memo:
                memo[inp] = inp  # orphans (constants, shared, free inputs)
            new_inputs.append(memo[inp])
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            for o in node.outputs:
                memo.setdefault(o, o)
            continue
        new_node = node.op.make_node(*new_inputs)
        new_node.tag = type(node.tag)(node.tag)
        for old, new in zip(node.outputs, new_node.outputs):
            if old not in memo:
                if old.name is not None and new.name is None:
                    new.name = old.name
                memo[old] = new
    for v in _as_list(outputs):
        memo.setdefault(v, v)
    return memo


def clone(inputs, outputs, copy_inputs=True):
    """Copy the graph from inputs to outputs; returns (new_inputs, new_outputs)."""
    memo = _full_clone(inputs, outputs, copy_inputs)
    return [memo[v] for v in inputs], [memo[v] for v in outputs]


def _full_clone(inputs, outputs, copy_inputs=True, order=None, cloned=None):
    """A structural copy: every Apply node is new (types are not re-derived).
    ``order``: ``io_toposort(inputs, outputs)`` where the caller has it;
    ``cloned`` (a list) receives the new nodes in that order."""
    memo = {}
    for v in inputs:
        memo[v] = v.clone() if copy_inputs else v
    for node in io_toposort(inputs, outputs) if order is None else order:
        new_inputs = [memo.setdefault(i, i) for i in node.inputs]
        new_node = node.copy_onto(new_inputs, [o.clone() for o in node.outputs])
        if cloned is not None:
            cloned.append(new_node)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[old] = new
    for v in outputs:
        memo.setdefault(v, v)
    return memo


def clone_replace(output, replace=None, share_inputs=True, strict=True, **kwargs):
    """Copy ``output`` (a variable or list) with variables swapped.

    Parameters
    ----------
    output : Variable or list of Variable
    replace : dict or list of pairs
        ``{old: new}``; the new variables are used as they are.
    share_inputs : bool
        Keep the graph's owner-less inputs (True) or clone them too; a
        shared variable's clone shares its storage (``SharedVariable.clone``).

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x, y = T.scalars('x', 'y')
    >>> z = clone_replace(x * 2, {x: y})
    >>> z.eval({y: 3.0}).item()
    6.0
    """
    if replace is None:
        replace = {}
    items = list(replace.items()) if isinstance(replace, dict) else list(replace)
    memo = {}
    for old, new in items:
        new = old.type.as_variable(new) if not isinstance(new, Variable) else new
        if strict and hasattr(old.type, "ndim") and getattr(new.type, "ndim", None) != old.type.ndim:
            raise TypeError(
                f"clone_replace: cannot replace {old} ({old.type}) by {new} "
                f"({new.type}): the number of dimensions differ")
        memo[old] = new
    outs = _as_list(output)
    if not share_inputs:
        # Theano's rule: every input of the result is a copy, the
        # replacements' and the shared variables' too (a shared variable's
        # clone uses the same storage)
        memo = clone_get_equiv([], outs, copy_inputs=False, memo=memo)
        outs = [memo[v] for v in outs]
        memo = {v: v.clone() for v in graph_inputs(outs) if not isinstance(v, Constant)}
    memo = clone_get_equiv([], outs, copy_inputs=False, memo=memo)
    result = [memo[v] for v in outs]
    if isinstance(output, (list, tuple)):
        return type(output)(result)
    return result[0]
