"""Rewrites of elementwise graphs: canonicalization, fusion, in-place.

Canonicalization (tag ``canonicalize``) removes work that cannot change a
value: ``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``, ``--x``, ``log(exp(x))``,
casts to the dtype a value already has (or there and back through a wider
dtype), DimShuffles that compose or do nothing; ``x - x`` becomes zeros
(Theano's rule: only differs where ``x`` is inf or nan), and constants of
nested ``add``/``mul`` are collected (``(x + 1) + 2 -> x + 3``), and an
``Alloc`` input whose sizes other inputs already give becomes its value,
broadcast.
``exp(log(x)) -> x`` is only right for ``x > 0``: it is optional (tag
``unsafe``, ``Mode.including('unsafe')``).  ``specialize`` turns powers by
constants into cheaper ops.

Fusion (tag ``fusion``) turns each maximal connected group of Elemwise nodes
into one ``Elemwise(Composite)`` node, whose program is one loop for the
backends.  A node joins its consumer's group only when every client of its
output is inside the group, so the group stays convex (no path leaves it
and comes back) -- except one-instruction ops (``-x``, ``a * b``, ...) whose
clients are all elementwise: each client's group computes its own copy,
which is cheaper than a pass over memory.

In-place (tag ``inplace``, run last) lets an Elemwise write its output into
an input's buffer (``Elemwise(inplace=k)``), and an IncSubtensor update its
``x``.  The input must (1) have the output's dtype and broadcastable pattern,
so the buffer has the output's shape; (2) be computed by a node of the graph
into a buffer of its own: never a graph input (function inputs and shared
variables' storage are never destroyed), never a constant, never an output
its op declares a view of an input (``Op.view_map``: DimShuffle, Subtensor,
Reshape...); the ops' declarations are the only source of that knowledge; (3) have this node as its
only client, so no reader runs after the write.
"""
import numpy as np

from ...graph.basic import Constant
from ...graph.rewriting import (check_replacement, count_visits, register_global,
                                register_local)
from ..ops.elemwise import (SCALAR_OPS, Cast, Composite, DimShuffle, Elemwise,
                            dimshuffle)
from .basic import elemwise_input, fit_type, is_const, scalar_name, single_client

__all__ = ["fuse_elemwise", "inplace_elemwise", "local_elemwise_alloc", "destroyable"]

_S = SCALAR_OPS


def _ew(name, *args):
    return Elemwise(_S[name])(*args)


def _out(node):
    return node.outputs[0]


# -- canonicalize -----------------------------------------------------------------

def _drop_neutral(node, value, positions):
    """``op(x, c)`` -> ``x`` where the constant ``c`` sits at one of
    ``positions`` (0 or 1) and equals ``value`` everywhere."""
    a, b = node.inputs
    for pos, c, x in ((1, b, a), (0, a, b)):
        if pos in positions and is_const(c, value):
            new = fit_type(x, _out(node))
            if new is not None:
                return [new]
    return None


@register_local("canonicalize", tracks=[Elemwise], scalars=["mul"])
def local_mul_one(fgraph, node):
    """``x * 1`` and ``1 * x`` -> ``x``."""
    return _drop_neutral(node, 1, (0, 1))


@register_local("canonicalize", tracks=[Elemwise], scalars=["add"])
def local_add_zero(fgraph, node):
    """``x + 0`` and ``0 + x`` -> ``x``."""
    return _drop_neutral(node, 0, (0, 1))


@register_local("canonicalize", tracks=[Elemwise], scalars=["sub"])
def local_sub_zero(fgraph, node):
    """``x - 0`` -> ``x``."""
    return _drop_neutral(node, 0, (1,))


@register_local("canonicalize", tracks=[Elemwise], scalars=["true_div"])
def local_div_one(fgraph, node):
    """``x / 1`` -> ``x`` (cast to the quotient's float dtype)."""
    return _drop_neutral(node, 1, (1,))


@register_local("canonicalize", tracks=[Elemwise], scalars=["sub"])
def local_sub_self(fgraph, node):
    """``x - x`` -> zeros of the same shape (differs only where x is inf/nan)."""
    a, b = node.inputs
    if a is not b:
        return None
    from ..ops.shape import zeros_like
    return [fit_type(zeros_like(a, dtype=_out(node).dtype), _out(node))]


@register_local("canonicalize", tracks=[Elemwise], scalars=["second"])
def local_useless_second(fgraph, node):
    """``second(x, y)`` -> ``y`` when ``y`` already has the output's shape
    (Theano's local_useless_fill): gradient seeds are ``second(cost, 1)``,
    which keeps the cost in the gradient graph, as Theano's does, until this
    removes the dependency."""
    new = fit_type(node.inputs[1], _out(node))
    return None if new is None else [new]


@register_local("canonicalize", tracks=[Elemwise], scalars=["switch"])
def local_switch_same_branches(fgraph, node):
    """``switch(c, a, a)`` -> ``a``: the condition is not needed."""
    _, a, b = node.inputs
    if a is not b:
        return None
    new = fit_type(a, _out(node))
    return None if new is None else [new]


@register_local("canonicalize", tracks=[Elemwise], scalars=["neg"])
def local_neg_neg(fgraph, node):
    """``-(-x)`` -> ``x``."""
    inner = elemwise_input(node.inputs[0], "neg")
    return [fit_type(inner[0], _out(node))] if inner else None


@register_local("canonicalize", tracks=[Elemwise], scalars=["log"])
def local_log_exp(fgraph, node):
    """``log(exp(x))`` -> ``x`` (exact up to rounding, and finite where
    ``exp`` would overflow)."""
    inner = elemwise_input(node.inputs[0], "exp")
    return [fit_type(inner[0], _out(node))] if inner else None


@register_local("canonicalize", "unsafe", tracks=[Elemwise], scalars=["exp"],
                optional=True)
def local_exp_log(fgraph, node):
    """``exp(log(x))`` -> ``x``: wrong for ``x <= 0`` (nan there), so only
    with ``Mode.including('unsafe')``."""
    inner = elemwise_input(node.inputs[0], "log")
    return [fit_type(inner[0], _out(node))] if inner else None


@register_local("canonicalize", tracks=[Elemwise], scalars=["cast"])
def local_useless_cast(fgraph, node):
    """A cast to the input's own dtype, or a lossless round trip
    ``cast(cast(x, wider), x.dtype)``, -> ``x``; ``cast(cast(x, wider), d)``
    -> ``cast(x, d)``."""
    (x,) = node.inputs
    out = _out(node)
    if x.dtype == out.dtype:
        return [fit_type(x, out)]
    if scalar_name(x) == "cast":
        base = x.owner.inputs[0]
        if np.can_cast(base.dtype, x.dtype, "safe"):
            if base.dtype == out.dtype:
                return [fit_type(base, out)]
            return [fit_type(Elemwise(Cast(out.dtype))(base), out)]
    return None


@register_local("canonicalize", tracks=[DimShuffle])
def local_dimshuffle_merge(fgraph, node):
    """``x.dimshuffle(p).dimshuffle(q)`` -> one DimShuffle (or ``x``)."""
    (x,) = node.inputs
    order = node.op.new_order
    if x.owner is not None and isinstance(x.owner.op, DimShuffle):
        inner = x.owner.op.new_order
        order = tuple("x" if d == "x" else inner[d] for d in order)
        x = x.owner.inputs[0]
    elif order != tuple(range(x.ndim)):
        return None
    return [fit_type(dimshuffle(x, order), _out(node))]


def _collect_constants(node):
    """``op(op(x, c1), c2)`` -> ``op(x, op(c1, c2))`` for add and mul; the
    constant part is then folded."""
    name = node.op.scalar_op.name
    a, b = node.inputs
    for inner, c2 in ((a, b), (b, a)):
        if not _is_constant(c2) or scalar_name(inner) != name:
            continue
        p, q = inner.owner.inputs
        for x, c1 in ((p, q), (q, p)):
            if _is_constant(c1) and not _is_constant(x):
                new = _ew(name, x, _ew(name, c1, c2))
                if new.dtype != _out(node).dtype:
                    return None  # promotion would differ: leave it
                return [fit_type(new, _out(node))]
    return None


def _is_constant(v):
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    return isinstance(v, Constant)


@register_local("canonicalize", tracks=[Elemwise], scalars=["add"])
def local_add_constants(fgraph, node):
    """``(x + c1) + c2`` -> ``x + (c1 + c2)``."""
    return _collect_constants(node)


@register_local("canonicalize", tracks=[Elemwise], scalars=["mul"])
def local_mul_constants(fgraph, node):
    """``(x * c1) * c2`` -> ``x * (c1 * c2)``."""
    return _collect_constants(node)


# -- specialize --------------------------------------------------------------------

_POW = {2: "sqr", 0.5: "sqrt", -1: "reciprocal"}


@register_local("specialize", tracks=[Elemwise], scalars=["pow"])
def local_pow_specialize(fgraph, node):
    """``x ** 2`` -> ``sqr(x)``, ``x ** 0.5`` -> ``sqrt(x)``, ``x ** -1`` ->
    ``reciprocal(x)``, ``x ** 1`` -> ``x`` (when the dtype is unchanged)."""
    x, y = node.inputs
    out = _out(node)
    for power, name in list(_POW.items()) + [(1, None)]:
        if is_const(y, power):
            new = x if name is None else _ew(name, x)
            if new.dtype != out.dtype or (name == "reciprocal" and x.dtype[0] != "f"):
                return None
            return [fit_type(new, out)]
    return None


@register_local("canonicalize", tracks=[Elemwise])
def local_elemwise_alloc(fgraph, node):
    """An input ``Alloc(value, *shape)`` of an elementwise op (a gradient
    seed, ``ones_like(x) * c``) -> ``value`` broadcast, when every size in
    ``shape`` is one another input already has on that axis: the loop then
    broadcasts the scalar instead of reading a filled array (one pass over
    memory less, and no allocation)."""
    from ..ops.shape import Alloc
    from .shape import _entry_source, _size_source, size_memo
    memo = size_memo(fgraph)
    out = _out(node)
    nd = out.ndim
    for k, v in enumerate(node.inputs):
        if v.owner is None or not isinstance(v.owner.op, Alloc):
            continue
        value, *shape = v.owner.inputs
        if len(shape) != nd or nd == 0 or value.ndim > nd or \
                any(d != 1 for d in value.type.shape):
            continue      # only a value of one element, broadcast
        others = [u for j, u in enumerate(node.inputs) if j != k and u.ndim == nd]

        def given(axis, size):
            want = _entry_source(size, memo)
            return want is not None and any(
                u.type.shape[axis] != 1 and _size_source(u, axis, memo) == want
                for u in others)
        if not all(given(a, s_) for a, s_ in enumerate(shape)):
            continue
        ins = list(node.inputs)
        ins[k] = dimshuffle(value, ("x",) * (nd - value.ndim) + tuple(range(value.ndim)))
        try:
            new = node.op.make_node(*ins).outputs[0]
        except (TypeError, ValueError):
            continue
        new = fit_type(new, out)
        if new is not None:
            return [new]
    return None


# -- fusion ------------------------------------------------------------------------

def _fusable(node):
    op = node.op
    return isinstance(op, Elemwise) and op.inplace is None and len(node.outputs) == 1


def _program(members, inputs, nin):
    """Composite program computing ``members`` (in topological order)."""
    refs = {v: k for k, v in enumerate(inputs)}
    program = []
    for node in members:
        sop = node.op.scalar_op
        in_refs = [refs[v] for v in node.inputs]
        if isinstance(sop, Composite):
            # inline: backends see one flat program
            inner = list(in_refs)
            for op, r, dt in sop.program:
                program.append((op, tuple(inner[i] for i in r), dt))
                inner.append(nin + len(program) - 1)
            refs[_out(node)] = inner[sop.out]
        else:
            program.append((sop, tuple(in_refs), _out(node).dtype))
            refs[_out(node)] = nin + len(program) - 1
    return program, refs[_out(members[-1])]


# A fused group stops growing at these sizes: a compiled loop's compile time
# grows faster than its length (numba took 1 s for a 10-layer tanh chain of
# 30 ops and 21 inputs, 12 s for 40 layers), while splitting a long chain
# costs one more pass over memory per piece.
MAX_FUSED_OPS = 48
MAX_FUSED_INPUTS = 16


# One-instruction ops worth recomputing in each consumer's loop rather than
# storing and reading back (``-x`` read by two fused loops costs two cheap
# instructions instead of a pass over memory).
_CHEAP = frozenset(["neg", "add", "sub", "mul", "sqr", "abs", "identity", "maximum",
                    "minimum"])


def _duplicable(node, client_list, ndim):
    """Whether ``node`` may be copied into each of its clients' fused loops."""
    sop = node.op.scalar_op
    return (not isinstance(sop, Composite) and sop.name in _CHEAP
            and all(c != "output" and _fusable(c) and _out(c).ndim == ndim
                    for c, _ in client_list))


def _n_ops(node):
    sop = node.op.scalar_op
    return len(sop.program) if isinstance(sop, Composite) else 1


@register_global("fusion")
def fuse_elemwise(fgraph):
    """Fuse maximal groups of Elemwise nodes into ``Elemwise(Composite)``.

    Groups grow from a root (visited consumers first) towards its inputs,
    taking a producer once all of its output's clients are in the group,
    up to ``MAX_FUSED_OPS`` scalar ops and ``MAX_FUSED_INPUTS`` inputs.
    Returns the number of groups fused.
    """
    order = fgraph.toposort()
    position = {node: k for k, node in enumerate(order)}
    clients = fgraph.clients
    assigned = set()
    groups = []
    visits = len(order)
    for root in reversed(order):
        if root in assigned or not _fusable(root):
            continue
        group = {root}
        dups = set()                    # cheap nodes copied into this group
        n_ops = _n_ops(root)
        ext = set(root.inputs)          # the group's inputs so far
        stack = list(root.inputs)
        nd = _out(root).ndim
        while stack:  # an explicit worklist: no recursion over graphs
            v = stack.pop()
            visits += 1
            p = v.owner
            if p is None or p in group or p in assigned or not _fusable(p) \
                    or v.ndim != nd:
                continue
            cl = clients.get(v, ())
            if not cl:
                continue
            dup = any(c == "output" or c not in group or c in dups for c, _ in cl)
            if dup and not _duplicable(p, cl, nd):
                continue  # reconsidered when its last client joins
            grown = (ext - {v}) | set(p.inputs)
            if n_ops + _n_ops(p) > MAX_FUSED_OPS or len(grown) > MAX_FUSED_INPUTS:
                continue  # ``p`` roots a group of its own later
            group.add(p)
            n_ops += _n_ops(p)
            ext = grown
            if dup:
                dups.add(p)   # a copy: its inputs stay outside the group
            else:
                stack.extend(p.inputs)
        if len(group) > 1:
            assigned |= group - dups
            groups.append(sorted(group, key=position.__getitem__))
    n = 0
    for members in groups:
        if members[-1] not in fgraph.apply_nodes:
            continue  # a copied node whose every client took its own copy
        inside = {_out(m) for m in members}
        inputs = []
        seen = set()
        for m in members:
            for v in m.inputs:
                if v not in inside and v not in seen:
                    seen.add(v)
                    inputs.append(v)
        program, out_ref = _program(members, inputs, len(inputs))
        root_out = _out(members[-1])
        try:
            new = Elemwise(Composite(len(inputs), program, out_ref))(*inputs)
        except (TypeError, ValueError):
            continue  # an input combination make_node refuses: leave as is
        new = fit_type(new, root_out)
        if new is None:
            continue
        check_replacement("fuse_elemwise", root_out, new)
        fgraph.replace(root_out, new, reason="fuse_elemwise")
        n += 1
    count_visits(fgraph, visits)
    return n


# -- in-place ----------------------------------------------------------------------

def destroyable(fgraph, v, node, inputs=None):
    """Whether ``node`` may overwrite ``v`` (see the module docstring).

    Reads only the ops' declarations: an output its op does not declare a
    view (``view_map``) is a buffer of its own (tests/test_op_declarations.py
    checks every op's declarations against its ``perform``); ``inputs``, a
    set of ``fgraph.inputs``, saves a scan of that list."""
    if v.owner is None or isinstance(v, Constant) or \
            v in (fgraph.inputs if inputs is None else inputs):
        return False
    if v.index in v.owner.op.view_map:
        return False
    cl = fgraph.clients.get(v, ())
    return len(cl) == 1 and cl[0][0] is node


@register_global("inplace")
def inplace_elemwise(fgraph):
    """Mark Elemwise and IncSubtensor nodes in-place where it is safe."""
    from ..ops.indexing import IncSubtensor
    n = 0
    order = fgraph.toposort()
    count_visits(fgraph, len(order))
    inputs = set(fgraph.inputs)
    for node in order:
        op = node.op
        out = _out(node) if len(node.outputs) == 1 else None
        if isinstance(op, Elemwise) and op.inplace is None:
            for k, v in enumerate(node.inputs):
                if v.dtype == out.dtype and v.broadcastable == out.broadcastable \
                        and destroyable(fgraph, v, node, inputs):
                    new = Elemwise(op.scalar_op, inplace=k).make_node(*node.inputs)
                    break
            else:
                continue
        elif isinstance(op, IncSubtensor) and not op.inplace:
            if not destroyable(fgraph, node.inputs[0], node, inputs):
                continue
            new = IncSubtensor(op.idx_list, op.set_instead_of_inc, inplace=True) \
                .make_node(*node.inputs)
        else:
            continue
        check_replacement("inplace_elemwise", out, _out(new))
        fgraph.replace(out, _out(new), reason="inplace_elemwise")
        n += 1
    return n
