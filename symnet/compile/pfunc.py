"""``theano.compile.pfunc``: ``pfunc`` (``function`` by its older name) and
``rebuild_collect_shared``, which copies a graph with replacements and
collects the shared variables and updates it needs.

``import theano.compile.pfunc`` gives this module, while
``theano.compile.pfunc`` (the attribute) is the function, as in Theano.
"""
from ..graph.basic import Variable
from ..graph.traversal import clone_get_equiv, graph_inputs
from .function import function
from .sharedvalue import SharedVariable
from .updates import default_updates, normalize_updates

__all__ = ["pfunc", "rebuild_collect_shared"]


def pfunc(params, outputs=None, mode=None, updates=None, givens=None,
          no_default_updates=False, accept_inplace=False, name=None,
          rebuild_strict=True, allow_input_downcast=None, profile=None,
          on_unused_input=None, output_keys=None):
    """:func:`symnet.function` under Theano's older name (``params`` are the
    inputs: variables or ``In``).  ``on_unused_input=None`` means 'raise';
    ``output_keys`` is accepted when None (pass a dict of outputs instead).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dscalar('x')
    >>> f = pfunc([x], x * 2, mode='py')
    >>> float(f(3.0))
    6.0
    """
    if output_keys is not None:
        raise TypeError("pfunc: output_keys is set by function() from a dict of outputs; "
                        "pass outputs as a dict instead")
    return function(params, outputs, mode=mode, updates=updates, givens=givens,
                    no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                    name=name, rebuild_strict=rebuild_strict,
                    allow_input_downcast=allow_input_downcast, profile=profile,
                    on_unused_input=on_unused_input or "raise")


def rebuild_collect_shared(outputs, inputs=None, replace=None, updates=None,
                           rebuild_strict=True, copy_inputs_over=True,
                           no_default_updates=False):
    """Copy the graph of ``outputs`` (and of ``updates``) with ``replace``
    applied; collect the shared variables it reads.

    Parameters
    ----------
    outputs : Variable, list of Variable, or None
    inputs : list of Variable
        Kept as they are when ``copy_inputs_over``, else replaced by copies.
    replace : dict or list of pairs
        ``{old: new}`` substitutions (``givens``).
    updates : dict or list of pairs
        ``(shared_variable, expression)``; the expressions are copied too.
    rebuild_strict : bool
        Accepted for Theano compatibility; a replacement must keep the number
        of dimensions of what it replaces.
    no_default_updates : bool or list of SharedVariable
        Shared variables whose ``default_update`` is not added (True: none).

    Returns
    -------
    (input_variables, cloned_outputs, [clone_d, update_d, update_expr, shared_inputs])
        ``cloned_outputs`` has the form of ``outputs`` (one variable, a list,
        or [] for None); ``clone_d`` maps each original variable to its copy;
        ``update_d`` maps each updated shared variable to its copied update,
        ``update_expr`` lists those pairs in order; ``shared_inputs`` are the
        shared variables the copied graph reads.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> w = symnet.shared(np.float64(2.0), name='w')
    >>> ins, outs, (clone_d, upd, upd_expr, shared_ins) = rebuild_collect_shared(
    ...     [x * w], [x], replace={x: y})
    >>> [v.name for v in shared_ins]
    ['w']
    >>> float(outs[0].eval({y: 3.0}))
    6.0
    """
    single = isinstance(outputs, Variable)
    outs = [] if outputs is None else ([outputs] if single else list(outputs))
    items = list(replace.items()) if isinstance(replace, dict) else list(replace or ())
    upd_pairs = normalize_updates(updates)
    memo = {}
    for old, new in items:
        if not isinstance(new, Variable):
            new = old.type.as_variable(new)
        if getattr(new.type, "ndim", None) != getattr(old.type, "ndim", None):
            raise TypeError(f"rebuild_collect_shared: cannot replace {old} ({old.type}) by "
                            f"{new} ({new.type}): the number of dimensions differ")
        memo[old] = new
    inputs = list(inputs or ())
    for v in inputs:
        if v not in memo:
            memo[v] = v if copy_inputs_over else v.clone()
    roots = outs + [e for _, e in upd_pairs]
    memo = clone_get_equiv([], roots, copy_inputs=False, memo=memo)
    cloned = [memo[v] for v in outs]
    update_expr = [(var, memo[e]) for var, e in upd_pairs]
    skip = no_default_updates if no_default_updates is True else \
        list(no_default_updates or ())
    extra = default_updates(cloned + [e for _, e in update_expr], update_expr, skip)
    for var, e in extra:
        update_expr.append((var, e))
    update_d = dict(update_expr)
    shared_inputs = []
    for v in graph_inputs(cloned + [e for _, e in update_expr] + list(update_d)):
        if isinstance(v, SharedVariable) and v not in shared_inputs:
            shared_inputs.append(v)
    input_variables = [memo[v] for v in inputs]
    out = cloned[0] if single else cloned
    return input_variables, out, [memo, update_d, update_expr, shared_inputs]
