"""Reverse-mode autodiff by graph extension: grad, Lop, Rop, jacobian,
hessian, verify_grad, and the gradient-stopping ops.

``grad`` walks the graph once, from the cost back to the inputs, asking each
op for its vector-Jacobian product (``Op.L_op``) as *more graph*; the result
can itself be differentiated, rewritten and compiled by any backend.  The
walk is iterative (a reverse topological order), visits each node once and
sums the contributions to a variable used several times exactly once.
"""
import collections
import warnings

import numpy as np

from .graph.basic import Apply, Variable
from .graph.gcpause import gc_paused
from .graph.null_type import DisconnectedType, NullType
from .graph.op import NullTypeGradError, Op, _Undefined, grad_undefined
from .graph.traversal import ancestors, io_toposort

__all__ = ["grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad",
           "DisconnectedInputError", "NullTypeGradError", "GradientError",
           "disconnected_grad", "zero_grad", "consider_constant", "grad_clip",
           "grad_scale", "grad_undefined", "grad_not_implemented", "undefined_grad",
           "NullType", "DisconnectedType", "disconnected_type", "RopNotDifferentiableError",
           "subgraph_grad"]


#: the names ``symnet.tensor`` re-exports (as theano.tensor does); the root
#: package sets them there, since tensor/ must not import this module
TENSOR_NAMES = ("grad", "Rop", "Lop", "jacobian", "hessian", "verify_grad",
                "consider_constant")


class DisconnectedInputError(ValueError):
    """A ``wrt`` variable does not influence the cost."""


class RopNotDifferentiableError(NullTypeGradError, ValueError):
    """``Rop`` met an op with no gradient on the path from ``wrt`` to ``f``
    (a ValueError, as Theano's Rop raises, and a NullTypeGradError)."""


class GradientError(ValueError):
    """``verify_grad`` found the symbolic and numeric gradients disagree."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.val1, self.val2 = val1, val2
        self.abs_err, self.rel_err = abs_err, rel_err
        self.abs_tol, self.rel_tol = abs_tol, rel_tol
        super().__init__(
            f"gradient mismatch for input {arg} (shape {shape}) at position {err_pos}: "
            f"symbolic {val1!r} vs numeric {val2!r} (abs err {abs_err:.3g} > {abs_tol:.3g}, "
            f"rel err {rel_err:.3g} > {rel_tol:.3g})")


grad_not_implemented = grad_undefined


def _on_disconnected(policy, msg, error):
    """What grad and Rop do about a disconnected variable: raise
    ``error(msg)``, warn (at their caller), or nothing, as ``policy`` says."""
    if policy == "raise":
        raise error(msg)
    if policy == "warn":
        warnings.warn(msg, stacklevel=3)


def disconnected_type():
    """``DisconnectedType()()``: what an op's gradient returns for an input
    that no output depends on (Theano's helper)."""
    return DisconnectedType()()


def subgraph_grad(wrt, end, start=None, cost=None, details=False):
    """Gradients of a part of a graph: with respect to ``wrt`` and to the
    variables ``end`` (where the part begins), from ``cost`` and/or the
    known gradients ``start`` ({variable: gradient}) at its top; the part
    below ``end`` is not walked (Theano's ``subgraph_grad``, for
    backpropagating a graph piece by piece).

    Returns
    -------
    (wrt_grads, end_grads), or with ``details`` also the gradients from
    ``start`` and from ``cost`` alone (lists over ``wrt + end``, None where
    not asked).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x, w1, w2 = T.dvector('x'), T.dvector('w1'), T.dvector('w2')
    >>> h = T.tanh(x * w1)
    >>> cost = T.sum(h * w2)
    >>> (gw2,), (gh,) = subgraph_grad([w2], [h], cost=cost)
    >>> (gw1,), (gx,) = subgraph_grad([w1], [x], start={h: gh})
    >>> vals = {x: np.array([0.5]), w1: np.array([2.0]), w2: np.array([3.0])}
    >>> float(gw1.eval(vals)[0]) == float(3 * 0.5 * (1 - np.tanh(1.0) ** 2))
    True
    """
    if cost is None and not start:
        raise ValueError("subgraph_grad: give a cost, start gradients, or both")
    wrt, end = list(wrt), list(end)
    params = list(dict.fromkeys(wrt + end))
    start_grads = cost_grads = None
    if start:
        start_grads = grad(None, params, known_grads=dict(start), consider_constant=end,
                           disconnected_inputs="ignore")
    if cost is not None:
        cost_grads = grad(cost, params, consider_constant=end, disconnected_inputs="ignore")
    if start_grads is None:
        total = cost_grads
    elif cost_grads is None:
        total = start_grads
    else:
        total = [a + b for a, b in zip(start_grads, cost_grads)]
    by_var = dict(zip(params, total))
    result = ([by_var[v] for v in wrt], [by_var[v] for v in end])
    if details:
        return result + (start_grads, cost_grads)
    return result


def _special_grad(g, op, index):
    """A gradient given as a NullType or DisconnectedType variable (Theano's
    way) in symnet's terms: an ``_Undefined`` marker, or None."""
    t = getattr(g, "type", None)
    if isinstance(t, NullType):
        return _Undefined(op, index, t.why_null)
    if isinstance(t, DisconnectedType):
        return None
    return g

#: work counters of every ``grad`` walk so far (tests read their growth
#: with the graph; counted, not timed): ``nodes`` in the reverse
#: topological order, ``visits`` of those nodes by the three walks over it,
#: ``l_op_calls`` and gradient ``terms`` added up
work = collections.Counter()


def _float(v):
    return v.dtype.startswith(("float", "complex"))


def _zeros_like(v):
    from . import tensor as T
    return T.zeros_like(v, dtype=v.dtype if _float(v) else None)


def _float_zeros_like(w):
    """The zero gradient of ``w``: never an integer (Theano's rule: a
    gradient has ``w``'s dtype if it is a float, else ``floatX``)."""
    from . import tensor as T
    from .configdefaults import config
    return T.zeros_like(w, dtype=w.dtype if _float(w) else config.floatX)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _format_as(wrt, results):
    """``results`` in the form ``wrt`` was given: a list, a tuple, or one."""
    return type(wrt)(results) if isinstance(wrt, (list, tuple)) else results[0]


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise",
         add_names=True, known_grads=None, return_disconnected="zero",
         null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar Variable, or None when ``known_grads`` seeds the walk
    wrt : Variable or list/tuple of Variables
        Returns a gradient of the same structure, each with its ``wrt``'s
        dtype (for floats).
    consider_constant : list of Variable
        Treated as constants: they get a gradient, but pass none on to the
        variables they were computed from.
    disconnected_inputs : {'raise', 'warn', 'ignore'}
        What to do for a ``wrt`` the cost does not depend on (raise
        ``DisconnectedInputError``, warn, or silently return zeros).  A
        ``wrt`` the cost depends on only through non-differentiable ops
        (comparisons, casts to integers, ``floor``, ``argmax``...) is not
        disconnected: its gradient is zero, as in Theano.  Paths through
        ``disconnected_grad``, the ``consider_constant`` list and ``x.shape``
        count as disconnected.
    add_names : bool
        Name gradients ``(dcost/dx)`` when ``cost`` and ``wrt`` have names
        (``cost`` and ``x`` here), as Theano does.
    known_grads : dict {Variable: Variable}
        Gradients to start from (added to any flowing from ``cost``; one
        given for ``cost`` itself replaces its 1, as in Theano), e.g.
        the gradient of a loss computed outside the graph.
    return_disconnected : {'zero', 'None', 'Disconnected'}
        What a disconnected ``wrt`` gets when not raising: zeros, None, or
        a DisconnectedType variable.
    null_gradients : {'raise', 'return'}
        An undefined gradient that is needed raises ``NullTypeGradError``
        naming the op, or ('return') is returned as a NullType variable.

    Raises
    ------
    TypeError
        If ``cost`` is not a scalar.
    DisconnectedInputError
        See ``disconnected_inputs``.
    NullTypeGradError
        If an op on the path from a ``wrt`` to the cost has no gradient.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x = T.scalar('x')
    >>> gx = grad(x ** 3, x)
    >>> float(gx.eval({x: 2.0}))
    12.0
    """
    from . import tensor as T
    if cost is None and not known_grads:
        raise ValueError("grad needs a cost or known_grads")
    if cost is not None:
        cost = T.as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(
                f"cost must be a scalar (0 dimensions), but {cost} has {cost.ndim} "
                f"dimensions (shape type {cost.type}); take T.sum or T.mean first")
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', "
                         f"got {disconnected_inputs!r}")
    wrt_list = _as_list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be variables, got {type(w).__name__} {w!r}")
    seeds = {}
    if cost is not None:
        one = T.constant(np.asarray(1, dtype=cost.dtype if _float(cost) else "float64"))
        # The seed is Theano's ones_like(cost), fill(cost, 1): 1 computed
        # *from* the cost, so the gradient graph contains the cost and
        # function([x], grad(2 * x.sum(), x)) uses x; it prints as Theano's
        seeds[cost] = T.elemwise(T.SCALAR_OPS["second"], cost, one)
    for var, g in (known_grads or {}).items():
        g = _special_grad(g, "known_grads", var)
        if g is None:
            seeds.pop(var, None)     # as Theano: it replaces the cost's 1
            continue
        if isinstance(g, _Undefined):
            seeds[var] = g
            continue
        g = T.as_tensor_variable(g)
        if g.ndim == 0 and getattr(var, "ndim", 0):
            # Theano takes a scalar as that gradient everywhere
            g = T.alloc(g, *[var.shape[i] for i in range(var.ndim)])
        if getattr(var, "ndim", None) is not None and g.ndim != var.ndim:
            raise ValueError(f"known_grads: the gradient given for {var} ({var.ndim} "
                             f"dimensions) has {g.ndim} dimensions")
        # Theano's rule: a known gradient of the cost replaces its 1; of any
        # other variable, it adds to what flows back from the cost.
        seeds[var] = seeds[var] + g if var in seeds and var is not cost else g
    blockers = set(consider_constant or ())
    with gc_paused():     # the gradient graph lives on (see graph/gcpause.py)
        grads, connected = _backprop(list(seeds), seeds, wrt_list, blockers)

    out = []
    for w in wrt_list:
        g = grads.get(w)
        if isinstance(g, _Undefined) and null_gradients == "return":
            out.append(NullType(g.reason)())
            continue
        if isinstance(g, _Undefined):
            raise NullTypeGradError(
                f"cannot compute the gradient with respect to {w}: {g.op} has no "
                f"gradient for its input {g.index} ({g.reason})")
        if g is None and w in connected:
            # Theano's rule: a variable the cost depends on only through
            # non-differentiable ops (comparisons, casts to int, argmax,
            # floor...) has a zero gradient, not a disconnected one.
            g = _float_zeros_like(w)
        elif g is None:
            msg = (f"grad: {w} is not part of the computational graph of the cost "
                   f"(or only through disconnected_grad, the consider_constant list or the "
                   f"shape of a tensor); pass disconnected_inputs='ignore' to get a "
                   f"zero gradient")
            _on_disconnected(disconnected_inputs, msg, DisconnectedInputError)
            if return_disconnected == "Disconnected":
                out.append(DisconnectedType()())
                continue
            g = _float_zeros_like(w) if return_disconnected == "zero" else None
        elif hasattr(w, "dtype") and g.dtype != w.dtype and _float(w):
            g = T.cast(g, w.dtype)
        g = _static_like(g, w)
        # Theano names a gradient only when both the cost and wrt have names
        if add_names and g is not None and g.name is None and getattr(w, "name", None) \
                and getattr(cost, "name", None):
            g.name = f"(d{cost.name}/d{w.name})"
        out.append(g)
    if isinstance(wrt, (list, tuple)):
        return type(wrt)(out)
    return out[0]


def _static_like(g, w):
    """``g`` with ``w``'s static shape where only ``w``'s type knows it.

    A gradient always has its variable's shape; saying so in the type keeps
    ``W - lr * grad(cost, W)`` of the same type as a shared ``W``.
    """
    from . import tensor as T
    ws = getattr(getattr(w, "type", None), "shape", None)
    gs = getattr(getattr(g, "type", None), "shape", None)
    if ws is None or gs is None or None in ws or len(ws) != len(gs) or tuple(gs) == tuple(ws):
        return g
    return T.reshape(g, tuple(ws), ndim=len(ws))


def _backprop(outputs, seeds, wrt, blockers):
    """Accumulate gradients from ``seeds`` back to ``wrt``.

    Returns ``({var: grad}, connected)`` where ``connected`` is the set of
    variables the seeds depend on along differentiable-or-not but connected
    edges (what tells a zero gradient from a disconnected input).
    """
    from . import tensor as T
    wrt_set = set(wrt)
    # One reverse topological order of everything the seeds depend on; every
    # walk below is a loop over it (no recursion, each node visited once).
    order = io_toposort([], outputs)
    patterns = {node: node.op.connection_pattern(node) for node in order}
    links = {node: {k for k, row in enumerate(pat) if any(row)}
             for node, pat in patterns.items()}
    reaches = set(wrt_set)  # variables that depend on a wrt
    for node in order:
        # a consider_constant variable keeps its own gradient but does not
        # pass it on to what computed it; an output is reached only through
        # the inputs it is connected to (ifelse's branches, scan's states)
        hit = [k for k, i in enumerate(node.inputs) if k in links[node] and i in reaches]
        if hit:
            pat = patterns[node]
            reaches.update(o for j, o in enumerate(node.outputs)
                           if o not in blockers and any(pat[k][j] for k in hit))
    connected = set(seeds)  # variables some seed depends on
    for node in reversed(order):
        outs = [j for j, o in enumerate(node.outputs) if o in connected and o not in blockers]
        if outs:
            pat = patterns[node]
            connected.update(i for k, i in enumerate(node.inputs)
                             if k in links[node] and any(pat[k][j] for j in outs))
    contrib = {}  # var -> list of gradient terms

    def add(var, g):
        work["terms"] += 1
        contrib.setdefault(var, []).append(g)

    for var, g in seeds.items():
        add(var, g)

    def total(var):
        terms = contrib.get(var)
        if not terms:
            return None
        undefined = [t for t in terms if isinstance(t, _Undefined)]
        if undefined:
            return undefined[0]
        if len(terms) == 1:
            return terms[0]
        acc = terms[0]
        for t in terms[1:]:
            acc = acc + t
        contrib[var] = [acc]
        return acc

    work["nodes"] += len(order)
    work["visits"] += 3 * len(order)      # the two walks above and the one below
    for node in reversed(order):
        if not any(o in reaches for o in node.outputs):
            continue
        if not any(i in reaches for i in node.inputs):
            continue
        out_grads = [None if o in blockers else total(o) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        pattern = None
        for k, (o, g) in enumerate(zip(node.outputs, out_grads)):
            if not isinstance(g, _Undefined):
                continue
            pattern = pattern or node.op.connection_pattern(node)
            if not any(pattern[i][k] for i, inp in enumerate(node.inputs) if inp in reaches):
                # Theano's rule: no input we differentiate reaches this
                # output, so its undefined gradient is never needed
                out_grads[k] = None
            else:
                raise NullTypeGradError(
                    f"the gradient through {g.op} (input {g.index}) is undefined "
                    f"({g.reason}), and it is needed for {o}")
        if all(g is None for g in out_grads):
            continue
        filled = []
        for o, g in zip(node.outputs, out_grads):
            if g is None and not hasattr(o.type, "dtype"):   # a RandomState, a Generic
                g = disconnected_type()
            elif g is None:
                g = _zeros_like(o) if _float(o) else T.zeros_like(o, dtype="float64")
            filled.append(g)
        work["l_op_calls"] += 1
        try:
            in_grads = node.op.L_op(node.inputs, node.outputs, filled)
        except NullTypeGradError as exc:
            raise NullTypeGradError(f"{exc} (node {node.short()}, built at {_where(node)})") from None
        if len(in_grads) != len(node.inputs):
            raise ValueError(f"{node.op}.L_op returned {len(in_grads)} gradients for "
                             f"{len(node.inputs)} inputs")
        for i, (inp, g) in enumerate(zip(node.inputs, in_grads)):
            g = _special_grad(g, node.op, i)
            if g is None or inp not in reaches or i not in links[node]:
                continue
            if not isinstance(g, (Variable, _Undefined)):
                g = T.as_tensor_variable(g)
            if isinstance(g, Variable):
                g = _match_broadcast(g, inp)
            add(inp, g)
    return {w: total(w) for w in wrt}, connected


def _match_broadcast(g, inp):
    """Give ``g`` the broadcastable axes of ``inp`` that it lost (a slice
    of a joined gradient has an unknown size where ``inp`` had size 1), so
    that the L_op of the op computing ``inp`` sees the type it expects."""
    if getattr(g, "ndim", None) != getattr(inp, "ndim", None) or inp.ndim is None:
        return g
    from . import tensor as T
    if any(g.broadcastable[a] and not inp.broadcastable[a] for a in range(inp.ndim)):
        # a gradient that is constant along an axis of inp: give it inp's size
        g = T.alloc(g, *[inp.shape[a] for a in range(inp.ndim)])
    axes = [a for a in range(inp.ndim) if inp.broadcastable[a] and not g.broadcastable[a]]
    if not axes:
        return g
    return T.addbroadcast(g, *axes)


def _where(node):
    tr = node.tag.get("trace") if hasattr(node, "tag") else None
    return f"{tr[0]}:{tr[1]}" if tr else "unknown location"


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product ``u^T (d f / d wrt)``.

    Parameters
    ----------
    f : Variable or list of Variable
    wrt : Variable or list of Variable
    eval_points : Variable or list, one ``u`` shaped like each ``f``

    Returns
    -------
    One array shaped like each ``wrt`` (same structure as ``wrt``).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x, u = T.dvector('x'), T.dvector('u')
    >>> Lop(x ** 2, x, u).eval({x: np.array([1., 2.]), u: np.array([1., 10.])})
    array([ 2., 40.])
    """
    fs, eps = _as_list(f), _as_list(eval_points)
    if len(fs) != len(eps):
        raise ValueError(f"Lop: {len(fs)} outputs but {len(eps)} eval points")
    out = grad(None, wrt, consider_constant=consider_constant,
               disconnected_inputs=disconnected_inputs,
               known_grads=dict(zip(fs, eps)))
    return out


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product ``(d f / d wrt) v``, shaped like ``f``.

    Built with the double vector-Jacobian trick: the Lop is linear in its
    vector ``u``, so differentiating ``sum(Lop(f, wrt, u) * v)`` in ``u``
    gives ``J v`` from reverse-mode rules alone (no op needs an ``R_op``).

    Parameters
    ----------
    f : Variable or list of Variable
    wrt : Variable or list of Variable
    eval_points : Variable or list, one ``v`` shaped like each ``wrt``
    disconnected_outputs : {'raise', 'warn', 'ignore'}
        What to do for an ``f`` that depends on none of ``wrt``: raise
        ``ValueError``, warn, or give zeros.

    Raises
    ------
    ValueError
        An eval point of another number of dimensions than its ``wrt``; a
        disconnected ``f`` (see above); an ``f`` not differentiable along
        its path to ``wrt`` (``RopNotDifferentiableError``, which is also a
        ``NullTypeGradError``).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x, v = T.dvector('x'), T.dvector('v')
    >>> Rop(T.sum(x ** 2), x, v).eval({x: np.array([1., 2.]), v: np.array([1., 1.])})
    array(6.)
    """
    from . import tensor as T
    if disconnected_outputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"Rop: disconnected_outputs must be 'raise', 'warn' or 'ignore', "
                         f"got {disconnected_outputs!r}")
    single_f = not isinstance(f, (list, tuple))
    fs = [T.as_tensor_variable(v) for v in _as_list(f)]
    wrts, vs = _as_list(wrt), _as_list(eval_points)
    if len(wrts) != len(vs):
        raise ValueError(f"Rop: {len(wrts)} wrt but {len(vs)} eval points")
    for k, (w, v) in enumerate(zip(wrts, vs)):
        if getattr(v, "ndim", np.ndim(v)) != w.ndim:
            raise ValueError(f"Rop: eval point {k} ({v}) has {getattr(v, 'ndim', np.ndim(v))} "
                             f"dimensions but its wrt {w} has {w.ndim}")
    results = []
    for fi in fs:
        u = fi.type()
        u.name = "u"
        try:
            lops = grad(None, wrts, known_grads={fi: u}, disconnected_inputs="ignore",
                        return_disconnected="None")
        except NullTypeGradError as exc:
            raise RopNotDifferentiableError(f"Rop of {fi}: {exc}") from None
        if all(lp is None for lp in lops):
            # Theano's rule: no path from wrt, or only through x.shape,
            # disconnected_grad and the like
            msg = (f"Rop: {fi} does not depend on any of {', '.join(map(str, wrts))} "
                   f"(or only through non-differentiable paths); pass "
                   f"disconnected_outputs='ignore' to get zeros")
            _on_disconnected(disconnected_outputs, msg, ValueError)
            results.append(_zeros_like(fi))
            continue
        s = None
        for lp, v in zip(lops, vs):
            if lp is None:
                continue
            term = T.sum(lp * v)
            s = term if s is None else s + term
        jv = grad(s, u, disconnected_inputs="ignore")
        # J v does not depend on u's value, but ops whose gradient is not
        # written linearly in the output gradient (zeros_like(gz) in switch,
        # clip in grad_clip) can leave u in the graph: give it a value.
        if u in ancestors([jv]):
            from .graph.traversal import clone_replace
            jv = clone_replace(jv, {u: T.zeros_like(fi)})
        results.append(jv)
    return results[0] if single_f else type(f)(results)


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """d expression / d wrt, shaped ``expression.shape + wrt.shape``.

    The expression's size must be known when the graph is built: one
    gradient graph is built per element (an error says so otherwise).
    Elements that do not depend on ``wrt`` give rows of zeros.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dvector('x', shape=(2,))
    >>> jacobian(x ** 2, x).eval({x: np.array([1., 3.])})
    array([[2., 0.],
           [0., 6.]])
    """
    from . import tensor as T
    expr = T.as_tensor_variable(expression)
    wrts = _as_list(wrt)
    if expr.ndim == 0:
        out = grad(expr, wrts, consider_constant=consider_constant,
                   disconnected_inputs=disconnected_inputs)
        return _format_as(wrt, out)
    if None in expr.type.shape:
        # Size unknown until run time: one row per element is computed then,
        # by _JacobianOp (Theano uses scan for this).
        flat = T.flatten(expr)
        result = []
        for w in wrts:
            w = T.as_tensor_variable(w)
            seed = flat.type()
            vjp = grad(None, w, consider_constant=consider_constant,
                       disconnected_inputs=disconnected_inputs,
                       known_grads={flat: seed})
            jac = _JacobianOp(flat, w, seed, vjp)(flat, w)
            shp = [expr.shape[k] for k in range(expr.ndim)] + \
                [w.shape[k] for k in range(w.ndim)]
            result.append(T.reshape(jac, shp, ndim=len(shp)))
        return _format_as(wrt, result)
    flat = T.flatten(expr)
    n = int(np.prod(expr.type.shape))
    result = []
    for w in wrts:
        rows = [grad(flat[i], w, consider_constant=consider_constant,
                     disconnected_inputs=disconnected_inputs) for i in range(n)]
        jac = T.stack(rows)
        shp = list(expr.type.shape) + [w.shape[k] for k in range(w.ndim)]
        result.append(T.reshape(jac, shp, ndim=len(shp)))
    return _format_as(wrt, result)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Second derivatives of the scalar ``cost``: for each ``wrt``, the
    jacobian of its gradient (``wrt.shape + wrt.shape``; the size of
    ``wrt`` must be known when the graph is built).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dvector('x', shape=(2,))
    >>> hessian(T.sum(x ** 3), x).eval({x: np.array([1., 2.])})
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    wrts = _as_list(wrt)
    out = []
    for w in wrts:
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        out.append(jacobian(g, w, consider_constant=consider_constant,
                            disconnected_inputs=disconnected_inputs))
    return _format_as(wrt, out)


class _JacobianOp(Op):
    """Rows ``d flat[i] / d w`` for every ``i``, the size known only at run time.

    Holds the vector-Jacobian product graph ``vjp(seed) = seed^T d flat/d w``
    and evaluates it once per unit vector ``seed = e_i``.  Its inputs are
    ``flat`` and ``w`` (for the shapes) plus every free variable the product
    depends on, so the outer graph's inputs and shared variables reach it.
    Like ``Scan``, it is a graph op with an inner graph (``inner_inputs``:
    a stand-in per free variable, then the seed; ``inner_outputs``: the
    product): a compiled backend compiles that graph with the outer one
    (the numba backend writes the loop over rows into its driver,
    ``backend/numba_cpu/gradient.py``); ``perform``, the py reference,
    compiles it in py mode on first use.  It has no gradient itself
    (``hessian`` differentiates before calling it).
    """

    mode = None   # the inner graph runs in the outer function's mode

    def __init__(self, flat, w, seed, vjp):
        from .graph.basic import Constant
        from .graph.traversal import graph_inputs
        self.seed, self.vjp = seed, vjp
        # seed is provided per row; constants stay in the inner graph
        self.free = [v for v in graph_inputs([vjp]) if v is not seed
                     and not isinstance(v, Constant)]
        self._inner = None
        self._fn = None

    def __str__(self):
        return "Jacobian"

    def make_node(self, flat, w):
        from .tensor import TensorType
        out = TensorType(self.vjp.dtype, (False,) * (1 + w.ndim))()
        return Apply(self, [flat, w] + self.free, [out])

    def _inner_graph(self):
        # shared variables cannot be inputs of a compiled graph: stand-ins
        # replace every free variable (built once, on first use)
        if self._inner is None:
            from .graph.traversal import clone_replace
            stand = [v.type() for v in self.free]
            vjp = clone_replace(self.vjp, dict(zip(self.free, stand)))
            self._inner = (stand + [self.seed], [vjp])
        return self._inner

    @property
    def inner_inputs(self):
        return self._inner_graph()[0]

    @property
    def inner_outputs(self):
        return self._inner_graph()[1]

    def perform(self, node, inputs, output_storage):
        if self._fn is None:
            from .graph.compiler import get_compiler
            self._fn = get_compiler("the jacobian op")(
                self.inner_inputs, self.inner_outputs[0], mode="py", on_unused_input="ignore")
        flat, w, free = inputs[0], inputs[1], inputs[2:]
        n = int(np.size(flat))
        out = np.zeros((n,) + np.shape(w), dtype=node.outputs[0].dtype)
        seed = np.zeros(np.shape(flat), dtype=self.seed.dtype)
        for i in range(n):
            seed[...] = 0
            seed[i] = 1
            out[i] = self._fn(*free, seed.copy())
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [tuple(input_shapes[0][:1]) + tuple(input_shapes[1])]

    def L_op(self, inputs, outputs, output_grads):
        return [grad_undefined(self, i, x, "the gradient of a run-time-sized jacobian "
                               "is not implemented (give the inputs static shapes)")
                for i, x in enumerate(inputs)]


# -- gradient-modifying identity ops ------------------------------------------------

class _GradOp(Op):
    """Identity in the forward pass; changes only the gradient."""

    __props__ = ("kind", "a", "b")
    view_map = {0: [0]}

    def __init__(self, kind, a=None, b=None):
        self.kind, self.a, self.b = kind, a, b

    def __str__(self):
        return self.kind

    def make_node(self, x):
        from .tensor import as_tensor_variable
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        # disconnected_grad cuts the graph for grad (a wrt behind it is
        # disconnected); the other kinds keep it connected
        return [[self.kind != "disconnected_grad"]]

    def L_op(self, inputs, outputs, output_grads):
        from . import tensor as T
        (g,) = output_grads
        if self.kind == "disconnected_grad":
            return [None]
        if self.kind == "zero_grad":
            return [T.zeros_like(g)]
        if self.kind == "grad_clip":
            return [T.clip(g, self.a, self.b)]
        if self.kind == "grad_scale":
            return [g * self.a]
        if self.kind == "undefined_grad":
            return [grad_undefined(self, 0, inputs[0], "undefined_grad")]
        return [g]


def disconnected_grad(x):
    """``x`` unchanged, but no gradient flows back through it."""
    return _GradOp("disconnected_grad")(x)


def zero_grad(x):
    """``x`` unchanged, with a zero gradient."""
    return _GradOp("zero_grad")(x)


def undefined_grad(x):
    """``x`` unchanged, but asking for a gradient through it is an error."""
    return _GradOp("undefined_grad")(x)


#: Theano's consider_constant(x): x held constant; the gradient through it
#: is zero, connected (grad(consider_constant(x).sum(), x) is 0, no error)
consider_constant = zero_grad


def grad_clip(x, lower_bound, upper_bound):
    """``x`` unchanged; its gradient is clipped to [lower_bound, upper_bound]."""
    if lower_bound > upper_bound:
        raise ValueError(f"grad_clip: lower bound {lower_bound} > upper {upper_bound}")
    return _GradOp("grad_clip", float(lower_bound), float(upper_bound))(x)


def grad_scale(x, multiplier):
    """``x`` unchanged; its gradient is multiplied by ``multiplier``."""
    return _GradOp("grad_scale", float(multiplier))(x)


# -- numeric verification ------------------------------------------------------------

def numeric_grad(f, pt, eps):
    """Central finite differences of the scalar function ``f`` at arrays ``pt``."""
    grads = []
    for k, x in enumerate(pt):
        g = np.zeros_like(x, dtype="float64")
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = f(*pt)
            flat[i] = old - eps
            fm = f(*pt)
            flat[i] = old
            gflat[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None,
                rel_tol=None, mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check ``fun``'s symbolic gradient against central finite differences.

    ``fun`` maps symbolic inputs (float64, shaped like the arrays in ``pt``)
    to a tensor; its output is projected on a random direction to get a
    scalar.  Raises GradientError naming the input, the position of the
    largest discrepancy and both values.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> verify_grad(lambda x: T.tanh(x) * 2, [np.array([0.1, -0.3, 0.7])],
    ...             rng=np.random.RandomState(0))
    """
    from . import tensor as T
    from .compile.function import function
    if rng is None:
        rng = np.random.RandomState(42)
    pt = [np.array(p, dtype="float64") if np.asarray(p).dtype.kind in "fc" or
          isinstance(p, (float, list)) else np.array(p) for p in pt]
    eps = 1e-6 if eps is None else eps
    abs_tol = 1e-4 if abs_tol is None else abs_tol
    rel_tol = 1e-4 if rel_tol is None else rel_tol
    # Size-1 axes are broadcastable (as for a numpy constant), so a test
    # point of shape (1, 3) exercises broadcasting against a (2, 3) input.
    inputs = [T.TensorType(p.dtype, shape=tuple(1 if s == 1 else None for s in p.shape))(
        f"input {i}") for i, p in enumerate(pt)]
    out = T.as_tensor_variable(fun(*inputs))
    # The random projection is an input, not a constant: two functions are
    # compiled whatever ``n_tests`` is, and the projected cost of the finite
    # differences is a numpy dot of ``f_out``'s value with it.
    proj = T.TensorType(out.dtype if _float(out) else "float64",
                        shape=tuple(1 if s == 1 else None for s in out.type.shape))("projection")
    float_inputs = [i for i, p in zip(inputs, pt) if p.dtype.kind == "f"]
    idx = [k for k, p in enumerate(pt) if p.dtype.kind == "f"]
    f_out = function(inputs, out, mode=mode, on_unused_input="ignore")
    f_grad = function(inputs + [proj], grad(T.sum(out * proj), float_inputs,
                                            disconnected_inputs="ignore"),
                      mode=mode, on_unused_input="ignore")
    for _ in range(n_tests):
        proj_val = np.asarray(rng.uniform(-1.0, 1.0, size=np.shape(f_out(*pt))),
                              dtype=proj.dtype)
        sym = f_grad(*pt, proj_val)
        sym = sym if isinstance(sym, list) else [sym]

        def cost(*vals):
            return float(np.sum(np.asarray(f_out(*vals), dtype="float64") * proj_val))
        work = [p.copy() for p in pt]
        num_all = numeric_grad(lambda *a: cost(*work), [work[k] for k in idx], eps)
        for k, s, n in zip(idx, sym, num_all):
            s = np.asarray(s, dtype="float64")
            abs_err = np.abs(s - n)
            rel_err = abs_err / np.maximum(np.abs(s) + np.abs(n), 1e-8)
            # written as "not within tolerance" so that a NaN counts as bad
            bad = ~((abs_err <= abs_tol) | (rel_err <= rel_tol))
            if bad.any():
                score = np.where(np.isnan(abs_err), np.inf, abs_err)
                flat = int(np.argmax(np.where(bad, score, -1)))
                pos = tuple(int(p) for p in np.unravel_index(flat, s.shape))
                raise GradientError(k, pos, s.shape, float(s[pos]), float(n[pos]),
                                    float(abs_err[pos]), float(rel_err[pos]), abs_tol, rel_tol)


verify_grad.E_grad = GradientError
