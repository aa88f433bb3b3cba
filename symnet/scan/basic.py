"""``scan`` and its shorthands ``map``, ``reduce``, ``foldl``, ``foldr``.

``scan`` calls the user's step function once, on placeholder variables, to
get the loop body as a graph; everything else the body uses (shared
variables, free variables of the outer graph) becomes an implicit
non-sequence, and shared variables the body *updates* become states carried
from step to step.
"""
from collections import OrderedDict

import numpy as np

from ..graph.basic import Variable
from ..graph.fg import MissingInputError
from ..graph.traversal import clone_replace
from .inner import placeholder, run_build_hooks, with_test_value
from .op import Scan, free_inputs
from .until import freeze_after_done, split_until, steps_run

__all__ = ["scan", "map", "reduce", "foldl", "foldr"]


def _taps(taps, what):
    """A tap list; Theano also accepts one tap as a plain int (taps=-2)."""
    if taps is None:
        return []
    taps = [int(taps)] if isinstance(taps, (int, np.integer)) else list(taps)
    if len(set(taps)) != len(taps):
        raise ValueError(f"scan: {what} has the taps {taps}, which repeat a tap; "
                         f"each tap may be given once")
    return taps


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _update_pairs(x):
    """Whether ``x`` is updates given as a list of (shared variable, value)
    pairs; an empty list counts (``return outputs, []``)."""
    from ..compile.sharedvalue import SharedVariable
    return isinstance(x, (list, tuple)) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable)
        for p in x)


def _split_result(res):
    """(outputs, updates) from what a step function returned: outputs, a
    dict of updates, or both (in either order, the updates a dict or a list
    of pairs), as Theano's scan reads them."""
    if isinstance(res, dict):
        return [], res
    if _update_pairs(res) and res:
        return [], OrderedDict(res)
    if isinstance(res, (list, tuple)) and len(res) == 2 and not any(
            isinstance(r, dict) for r in res):
        first, second = res
        if isinstance(first, (list, tuple, Variable)) and _update_pairs(second) \
                and not (_update_pairs(first) and first):
            return _as_list(first), OrderedDict(second)
        if _update_pairs(first) and first and isinstance(second, (list, tuple, Variable)):
            return _as_list(second), OrderedDict(first)
    if isinstance(res, (list, tuple)):
        items = list(res)
        dicts = [r for r in items if isinstance(r, dict)]
        if len(dicts) > 1:
            raise TypeError("scan: the step function returned more than one dict of updates")
        if dicts:
            updates = dicts[0]
            items = [r for r in items if not isinstance(r, dict)]
            if len(items) == 1 and isinstance(items[0], (list, tuple)):
                items = list(items[0])
            return items, updates
        return items, {}
    return [res], {}


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None,
         profile=False, allow_gc=None, strict=False, return_list=False):
    """Apply ``fn`` step by step over sequences, carrying states (Theano's scan).

    Parameters
    ----------
    fn : callable
        Called once, symbolically, with: one slice per sequence tap, one
        value per tap of every fed-back output, then the non-sequences.
        Returns the step's outputs (a variable or a list), optionally with
        an ``OrderedDict`` of shared-variable updates and an
        ``until(condition)`` that stops the loop (``symnet/scan/until.py``).
    sequences : Variable, dict or list of them
        Iterated over their first axis.  A dict ``{'input': x, 'taps': [0, 1]}``
        gives ``fn`` ``x[t]`` and ``x[t + 1]``.
    outputs_info : None, Variable, dict or list of them
        One entry per output: None (not fed back), the initial state (fed
        back as tap -1), or ``{'initial': x0, 'taps': [-2, -1]}`` where
        ``x0[i]`` is the state at step ``i - len(x0)``.
    non_sequences : Variable or list
        Passed unchanged to every step.  Shared and other free variables
        ``fn`` uses need not be listed.
    n_steps : int or integer scalar, optional
        Number of steps; by default the length of the shortest sequence.
    truncate_gradient : int
        -1, or the number of steps (from the last) gradients flow through.
    go_backwards : bool
        Iterate over the sequences from last to first; the outputs are in
        the order computed.
    mode : str or Mode, optional
        How the step is compiled (default 'py').
    name, profile, allow_gc : accepted for Theano compatibility.
    strict : bool
        Require every shared variable ``fn`` reads (and does not update) to
        be among the non-sequences, as Theano does.
    return_list : bool
        Return a list even for a single output.

    Returns
    -------
    outputs : Variable or list of Variable
        Each output for every step, stacked along a new first axis.
    updates : OrderedDict
        The final values of the shared variables ``fn`` updates; pass them
        to ``symnet.function(..., updates=updates)``.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> s, _ = scan(lambda v, acc: acc + v, sequences=x,
    ...             outputs_info=T.constant(np.float64(0)))
    >>> symnet.function([x], s, mode='py')(np.array([1., 2., 3.]))
    array([1., 3., 6.])
    """
    from .. import tensor as T
    from ..compile.sharedvalue import SharedVariable

    # -- sequences: one outer input per (sequence, tap) --------------------
    seq_outer, seq_inner, lengths = [], [], []
    for k, seq in enumerate(_as_list(sequences)):
        if isinstance(seq, dict):
            x = seq.get("input")
            taps = _taps(seq.get("taps", [0]), f"sequence {k}") or [0]
        else:
            x, taps = seq, [0]
        x = T.as_tensor_variable(x)
        if x.ndim < 1:
            raise TypeError(f"scan: sequence {k} ({x}) must have at least one dimension "
                            f"to iterate over, got a scalar")
        if go_backwards:
            x = x[::-1]
        # Theano's cut: as if tap 0 were used too, so that x[t-1] at step 0
        # is x[0] and x[t+1] is x[1] (taps all below or all above 0)
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        span = hi - lo
        static = x.type.shape[0]
        # no ``x[0:]`` nor ``- 0``: the gradient recognises ``n == x.shape[0]``
        # (scan/grad.py) and returns the steps' gradient as it is
        lengths.append((x.shape[0] - span if span else x.shape[0],
                        None if static is None else static - span))
        for tap in taps:
            seq_outer.append(x[tap - lo:] if tap != lo else x)
            seq_inner.append(with_test_value(
                placeholder(T.TensorType(x.dtype, shape=x.type.shape[1:]),
                            f"{x.name or 'seq'}[t{tap:+d}]"), seq_outer[-1], 0))

    if n_steps is None:
        if not lengths:
            raise ValueError("scan: give sequences or n_steps (the number of steps "
                             "cannot be inferred otherwise)")
        if all(s is not None for _, s in lengths):
            n = T.constant(min(s for _, s in lengths), dtype="int64")
        else:
            n = lengths[0][0]
            for sym, _ in lengths[1:]:
                n = T.minimum(n, sym)
    else:
        n = T.as_tensor_variable(n_steps)
        if n.ndim != 0 or not n.dtype.startswith(("int", "uint")):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps!r}")
    if n.dtype != "int64" and not isinstance(n, T.TensorConstant):
        n = T.cast(n, "int64")  # (the op converts a constant itself)

    # -- outputs_info: which outputs are fed back, and with which taps -----
    info = outputs_info if isinstance(outputs_info, (list, tuple)) else \
        ([] if outputs_info is None else [outputs_info])
    states = []   # per info entry: None or (initial buffer, taps)
    for k, entry in enumerate(info):
        init, taps = entry, [-1]
        if isinstance(entry, dict):
            init = entry.get("initial")
            taps = _taps(entry.get("taps", [-1]), f"outputs_info {k}")
        if init is None:
            states.append(None)
            continue
        init = T.as_tensor_variable(init)
        if any(tp >= 0 for tp in taps):
            raise ValueError(f"scan: outputs_info {k} has taps {taps}; the taps of an "
                             f"output must be negative")
        lag = -min(taps)
        if taps == [-1]:
            buf = T.shape_padleft(init)
        else:
            if init.ndim < 1:
                raise TypeError(f"scan: outputs_info {k} with taps {taps} needs an "
                                f"initial value with a leading axis of >= {lag} steps")
            buf = init[-lag:]
        states.append((buf, taps))

    state_inner = []
    for k, st in enumerate(states):
        if st is None:
            continue
        buf, taps = st
        st_type = T.TensorType(buf.dtype, shape=buf.type.shape[1:])
        lag = -min(taps)
        state_inner.append([with_test_value(placeholder(st_type, f"state{k}[t{tp:+d}]"),
                                            buf, lag + tp) for tp in taps])

    # a non-sequence that is a variable of another type (a typed list) stays one
    ns_outer = [v if isinstance(v, Variable) and not isinstance(v.type, T.TensorType)
                else T.as_tensor_variable(v) for v in _as_list(non_sequences)]
    ns_inner = [with_test_value(placeholder(v.type, v.name), v) for v in ns_outer]

    # -- the step function, called once on placeholders --------------------
    # Non-sequences are passed as the outer variables themselves, as Theano
    # does, and replaced by their placeholders below: the step may then take
    # ``grad(y[i], x)`` with y built from x outside (the Jacobian of Theano's
    # tutorial), which placeholders would have disconnected.
    args = list(seq_inner)
    for taps in state_inner:
        args.extend(taps)
    outs, updates, cond = split_until(fn(*args, *ns_outer), _split_result)
    outs = [T.as_tensor_variable(o) for o in outs]
    if info and len(info) != len(outs):
        raise ValueError(f"scan: outputs_info has {len(info)} entries but the step "
                         f"function returned {len(outs)} outputs")
    if not info:
        states = [None] * len(outs)
    if cond is not None:
        # the condition goes through the replacements below as a last output
        outs.append(cond)
        states.append(None)

    upd_pairs = list(updates.items())
    for var, _ in upd_pairs:
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: update target {var} must be a shared variable")
    upd_exprs = [T.as_tensor_variable(e) for _, e in upd_pairs]

    # Shared variables with a default update that the step reads (the
    # states of random draws) are updated after every step, as in Theano:
    # each step draws new numbers and the final state is in the updates.
    placeholders = set(args) | set(ns_outer)
    explicit = {v for v, _ in upd_pairs}
    for v in free_inputs(outs + upd_exprs, placeholders):
        if isinstance(v, SharedVariable) and getattr(v, "default_update", None) is not None \
                and v not in explicit:
            upd_pairs.append((v, v.default_update))
            upd_exprs.append(T.as_tensor_variable(v.default_update))
    upd_vars = [v for v, _ in upd_pairs]

    # A non-sequence the step uses directly (a closure over the outer
    # variable, not its argument: Lasagne's recurrent layers) is that
    # argument, as in Theano; so its own inputs are not free variables.
    direct = OrderedDict()
    for outer, inner in zip(ns_outer, ns_inner):
        direct.setdefault(outer, inner)
    if direct:
        both = clone_replace(outs + upd_exprs, direct)
        run_build_hooks(both)
        outs, upd_exprs = both[:len(outs)], both[len(outs):]

    # -- free variables: implicit non-sequences or carried shared states ----
    placeholders = set(args) | set(ns_inner)
    free = free_inputs(outs + upd_exprs, placeholders)
    replace = {}
    upd_inner = {}
    for v in free:
        if v in upd_vars:
            upd_inner[v] = replace[v] = with_test_value(placeholder(v.type, v.name), v)
            continue
        if not isinstance(v.type, T.TensorType):
            raise TypeError(f"scan: the step function uses {v} of type {v.type}, which "
                            f"scan cannot pass to its steps")
        if strict and isinstance(v, SharedVariable):
            # Theano's strict is about shared variables only: other free
            # variables of the step are always passed implicitly.
            # (Theano's error too: its strict step is compiled without v)
            raise MissingInputError(f"scan(strict=True): the step function uses {v}, "
                                    f"which is not among the non_sequences (pass it in "
                                    f"non_sequences, or use strict=False)")
        ns_outer.append(v)
        replace[v] = with_test_value(placeholder(v.type, v.name), v)
        ns_inner.append(replace[v])
    if replace:
        both = clone_replace(outs + upd_exprs, replace)
        run_build_hooks(both)
        outs, upd_exprs = both[:len(outs)], both[len(outs):]
    # updated shared variables become states fed back with tap -1
    for var, expr in zip(upd_vars, upd_exprs):
        if var not in upd_inner:  # the body does not read it
            upd_inner[var] = with_test_value(placeholder(var.type, var.name), var)
        if expr.dtype != var.dtype or expr.ndim != var.ndim:
            raise TypeError(f"scan: the update of {var} ({var.type}) has type {expr.type}")
        outs.append(expr)
        states.append((T.shape_padleft(var), [-1]))
        state_inner.append([upd_inner[var]])

    if cond is not None:
        k = len(outs) - len(upd_vars) - 1
        cond = outs.pop(k)
        del states[k]
        outs, done_out, done_init, done_in = freeze_after_done(outs, states, state_inner,
                                                               cond)
        outs.append(done_out)
        states.append((done_init, [-1]))
        state_inner.append([done_in])

    # -- check the fed-back outputs against their initial states -----------
    si = 0
    for k, (o, st) in enumerate(zip(outs, states)):
        if st is None:
            continue
        ref = state_inner[si][0]
        si += 1
        if o.ndim != ref.ndim or o.dtype != ref.dtype:
            raise TypeError(
                f"scan: output {k} of the step function is {o.type} but its initial "
                f"state (outputs_info {k}) is {ref.type}; they must have the same "
                f"dtype and number of dimensions (cast one, e.g. "
                f"outputs_info=x0.astype('{o.dtype}'))")
        for axis, (a, b) in enumerate(zip(o.type.shape, ref.type.shape)):
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"scan: output {k} of the step function has static shape "
                    f"{o.type.shape} but its initial state has shape {ref.type.shape} "
                    f"(axis {axis}); a fed-back output must keep its state's shape")

    inner_inputs = list(seq_inner)
    for taps in state_inner:
        inner_inputs.extend(taps)
    inner_inputs += ns_inner
    op = Scan(inner_inputs, outs, n_seqs=len(seq_inner),
              taps=[None if st is None else st[1] for st in states],
              n_nonseqs=len(ns_inner), mode=mode, truncate_gradient=truncate_gradient,
              name=name)
    inits = [st[0] for st in states if st is not None]
    node = op.make_node(n, *seq_outer, *inits, *ns_outer)
    run_build_hooks(node.outputs)
    res = node.outputs
    if cond is not None:   # only the steps up to the first true condition
        stop = steps_run(res[-1], n)
        res = [r[:stop] for r in res[:-1]]
    n_user = len(outs) - len(upd_vars) - (cond is not None)
    new_updates = OrderedDict((var, r[-1]) for var, r in zip(upd_vars, res[n_user:]))
    user = res[:n_user]
    if len(user) == 1 and not return_list:
        return user[0], new_updates
    return user, new_updates


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,
        mode=None, name=None):
    """``fn`` applied to each step of ``sequences`` (a scan with no states).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> y, _ = map(lambda v: v * 2, x)
    >>> symnet.function([x], y, mode='py')(np.array([1., 2.]))
    array([2., 4.])
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards,
                mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False,
           mode=None, name=None):
    """Like ``scan`` but returns only the final value of each output.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> s, _ = reduce(lambda v, acc: acc + v, x, T.constant(np.float64(0)))
    >>> float(symnet.function([x], s, mode='py')(np.array([1., 2., 3.])))
    6.0
    """
    outs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info,
                         non_sequences=non_sequences, go_backwards=go_backwards,
                         mode=mode, name=name, return_list=True)
    last = [o[-1] for o in outs]
    return (last[0] if len(last) == 1 else last), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the first step to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False,
                  mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the last step to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True,
                  mode=mode, name=name)

