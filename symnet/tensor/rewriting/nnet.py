"""Stabilization rewrites (tag ``stabilize``) for neural-network graphs.

Each replaces a formula that overflows or loses all precision for large
inputs by an equivalent stable op:

- ``exp(x) / sum(exp(x), axis, keepdims)`` -> ``softmax(x, axis)`` (Theano's
  ``local_softmax``: the written-out form is inf / inf = NaN for logits
  above ~88 in float32);
- ``log(softmax(x))`` -> ``log_softmax(x)``
- ``crossentropy_categorical_1hot(softmax(x), y)`` -> the fused
  ``SoftmaxCrossentropy`` (so ``categorical_crossentropy(softmax(x), y)`` is
  finite for logits of +-1000), and the gradient graph ``grad`` builds for
  it -> ``(softmax(x) - onehot(y)) * g``, which never divides by a
  probability that underflowed to 0;
- ``log(sigmoid(x))`` -> ``-softplus(-x)``; ``log(1 - sigmoid(x))`` ->
  ``-softplus(x)``;
- ``1 / (1 + exp(-x))`` -> ``sigmoid(x)`` and ``1 - sigmoid(x)`` ->
  ``sigmoid(-x)``, so that the logistic regression of Theano's tutorial,
  written with ``exp``, meets the two rules above, and its gradient divides
  by ``sigmoid(-x)`` (tiny but not 0) instead of ``1 - p`` (0 once ``p``
  rounds to 1, then inf * 0 = NaN in every weight after one step);
- ``exp(x) / (1 + exp(x))`` -> ``sigmoid(x)``;
- ``log(1 + x)`` -> ``log1p(x)``; ``exp(x) - 1`` -> ``expm1(x)``;
  ``log1p(exp(x))`` (so ``log(1 + exp(x))``) -> ``softplus(x)``, which is
  ``x`` where ``exp`` overflows (Theano's softplus rules; VAE code writes it
  out); ``exp(x) * sigmoid(-x)`` -> ``sigmoid(x)`` (the gradient of the
  written-out softplus: 0 * inf = NaN else).

``local_softmax_crossentropy_fuse`` (tag ``numba``: optional, run by the
numba modes only) then joins ``SoftmaxCrossentropy(x, y)`` and that
gradient ``(softmax(x) - onehot(y)) * gz`` into one
``SoftmaxCrossentropyWithGrad(x, y, gz)``: one pass over the logits instead
of two softmaxes and the one-hot graph (measured in the W1 step).

The one-hot crossentropy ``-sum(t * log(softmax(x)), axis=-1)`` is built
from primitives and is stabilized by the first rule.
"""
import numpy as np

from ...graph.rewriting import register_local
from ..ops.elemwise import SCALAR_OPS, DimShuffle, Elemwise
from ..ops.nnet import (CrossentropyCategorical1Hot, LogSoftmax, Softmax, SoftmaxCrossentropy,
                        SoftmaxCrossentropyWithGrad)
from ..ops.reduction import Reduce
from .basic import elemwise_input, fit_type, is_const, scalar_name, single_client

__all__ = ["local_softmax_of_exp", "local_log_softmax", "local_softmax_crossentropy", "local_softmax_crossentropy_grad",
           "local_log_softmax_grad", "local_softmax_crossentropy_fuse",
           "local_log_sigmoid", "local_log1m_sigmoid", "local_inv_1_plus_exp",
           "local_1m_sigmoid", "local_log1p", "local_expm1", "local_exp_over_1_plus_exp",
           "local_log1p_exp", "local_sigm_times_exp"]


def _ew(name, *args):
    return Elemwise(SCALAR_OPS[name])(*args)


@register_local("stabilize", tracks=[Elemwise], scalars=["true_div"])
def local_softmax_of_exp(fgraph, node):
    """``exp(x) / sum(exp(x), axis=k)`` with the axis kept (``keepdims`` or
    a DimShuffle putting it back) -> ``softmax(x, axis=k)``."""
    num, den = node.inputs
    e = elemwise_input(num, "exp")
    if e is None or den.owner is None or not isinstance(den.owner.op, DimShuffle):
        return None
    red = den.owner.inputs[0]
    if red.owner is None or not isinstance(red.owner.op, Reduce) \
            or red.owner.op.kind != "sum" or len(red.owner.op.axis) != 1:
        return None
    axis = red.owner.op.axis[0]
    kept = tuple(range(axis)) + ("x",) + tuple(range(axis, num.ndim - 1))
    summed = red.owner.inputs[0]
    if tuple(den.owner.op.new_order) != kept or (
            summed is not num and elemwise_input(summed, "exp") != [e[0]]):
        return None
    # the last axis as -1, the form T.nnet.softmax builds (so the op is
    # softmax_op and later rules see it)
    return [fit_type(Softmax(-1 if axis == num.ndim - 1 else axis)(e[0]), node.outputs[0])]


@register_local("stabilize", tracks=[Elemwise], scalars=["log"])
def local_log_softmax(fgraph, node):
    """``log(softmax(x))`` -> ``log_softmax(x)``."""
    v = node.inputs[0]
    if v.owner is None or not isinstance(v.owner.op, Softmax):
        return None
    return [fit_type(LogSoftmax(v.owner.op.axis)(v.owner.inputs[0]), node.outputs[0])]


def _softmax_last_axis(v):
    """``x`` when ``v`` is ``softmax(x)`` over the last axis of a matrix."""
    if v.owner is None or not isinstance(v.owner.op, Softmax) or v.ndim != 2:
        return None
    return v.owner.inputs[0] if v.owner.op.axis in (-1, 1) else None


@register_local("stabilize", tracks=[CrossentropyCategorical1Hot])
def local_softmax_crossentropy(fgraph, node):
    """``crossentropy_categorical_1hot(softmax(x), y)`` -> ``SoftmaxCrossentropy``."""
    p, y = node.inputs
    x = _softmax_last_axis(p)
    if x is None:
        return None
    return [fit_type(SoftmaxCrossentropy()(x, y), node.outputs[0])]


def _unwrap(v, *names):
    """``v`` without DimShuffles and the given unary scalar ops above it."""
    while v.owner is not None:
        if isinstance(v.owner.op, DimShuffle) or scalar_name(v) in names:
            v = v.owner.inputs[0]
        else:
            break
    return v


def _crossentropy_grad_parts(g):
    """``(gz, rows, y, sm)`` when ``g`` is the gradient of the one-hot
    crossentropy wrt ``sm`` as ``CrossentropyCategorical1Hot.L_op`` builds
    it: ``inc(zeros[rows, y], -gz / sm[rows, y])``."""
    from ..ops.advanced import AdvancedIncSubtensor, AdvancedSubtensor
    if g.owner is None or not isinstance(g.owner.op, AdvancedIncSubtensor) \
            or len(g.owner.inputs) != 4:
        return None
    base, val, rows, y = g.owner.inputs
    if not is_const(base, 0) and not (base.owner is not None and is_const(base.owner.inputs[0], 0)):
        return None
    parts = elemwise_input(val, "true_div")
    if parts is None:
        return None
    num, den = parts
    neg = elemwise_input(num, "neg")
    if neg is None or den.owner is None or not isinstance(den.owner.op, AdvancedSubtensor):
        return None
    sm, r2, y2 = den.owner.inputs if len(den.owner.inputs) == 3 else (None, None, None)
    if r2 is not rows or y2 is not y or _softmax_last_axis(sm) is None:
        return None
    return neg[0], y, sm


def _softmax_grad_parts(node):
    """``(sm, G)`` when ``node`` is the gradient ``Softmax.L_op`` builds from
    an output gradient ``G``: ``sm * (G - sum(G * sm, axis, keepdims))``."""
    for sm, rest in (node.inputs, tuple(reversed(node.inputs))):
        if sm.owner is None or not isinstance(sm.owner.op, Softmax):
            continue
        d = elemwise_input(rest, "sub")
        if d is None:
            continue
        G, s = d
        red = _unwrap(s)
        axis = sm.owner.op.axis % sm.ndim
        if red.owner is None or not isinstance(red.owner.op, Reduce) \
                or red.owner.op.kind != "sum" or red.owner.op.axis != (axis,):
            continue
        prod = elemwise_input(red.owner.inputs[0], "mul")
        if prod is None or {id(p) for p in prod} != {id(G), id(sm)}:
            continue
        return sm, G
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["mul"])
def local_softmax_crossentropy_grad(fgraph, node):
    """The softmax gradient of the crossentropy gradient above ->
    ``(sm - onehot(y)) * gz[:, None]``."""
    from ..ops.elemwise import dimshuffle
    from ..ops.nnet import _one_hot_like
    found = _softmax_grad_parts(node)
    if found is None or _softmax_last_axis(found[0]) is None:
        return None
    sm, G = found
    parts = _crossentropy_grad_parts(G)
    if parts is None or parts[2] is not sm or parts[0].ndim != 1:
        return None
    gz, y, _ = parts
    new = (sm - _one_hot_like(y, sm)) * dimshuffle(gz, (0, "x"))
    return [fit_type(new, node.outputs[0])]


def _one_hot_labels(oh, sm, x):
    """``y`` when ``oh`` is ``cast(eq(y[:, None], arange(k)[None, :]))`` as
    ``_one_hot_like(y, sm)`` builds it, with ``k`` the columns of ``sm`` or ``x``."""
    eq = elemwise_input(oh, "cast") if oh.dtype == sm.dtype else None
    eq = eq and elemwise_input(eq[0], "eq")
    if eq is None:
        return None
    ycol, cols = eq
    if ycol.owner is None or not isinstance(ycol.owner.op, DimShuffle) \
            or ycol.owner.op.new_order != (0, "x") or not _class_row(cols, sm, x):
        return None
    y = ycol.owner.inputs[0]
    return y if y.ndim == 1 and y.dtype.startswith(("int", "uint")) else None


def _class_row(cols, sm, x):
    """Whether ``cols`` is ``arange(k)[None, :]`` for the ``k`` columns of
    ``sm``/``x``: built from their shape, or the constant it folds to when
    ``k`` is static."""
    from ...graph.basic import Constant
    from ..ops.shape import ARange, Shape_i
    if isinstance(cols, Constant):
        k = x.type.shape[1] if x.type.shape[1] is not None else sm.type.shape[1]
        data = np.asarray(cols.data)
        return k is not None and data.shape == (1, k) and \
            np.array_equal(data[0], np.arange(k))
    if cols.owner is None or not isinstance(cols.owner.op, DimShuffle) \
            or cols.owner.op.new_order != ("x", 0):
        return False
    ar = cols.owner.inputs[0].owner
    if ar is None or not isinstance(ar.op, ARange) or not is_const(ar.inputs[0], 0) \
            or not is_const(ar.inputs[2], 1):
        return False
    k = ar.inputs[1].owner
    return k is not None and isinstance(k.op, Shape_i) and k.op.i == 1 \
        and any(k.inputs[0] is v for v in (sm, x))


def _row_gradient(g, x):
    """The output gradient ``gz`` when ``g`` is ``gz[:, None]``; a scalar
    ``s`` when ``gz`` is ``alloc(s, rows of x)`` (a mean's gradient)."""
    from ...graph.basic import Constant
    from ..basic import as_tensor_variable
    from ..ops.shape import Alloc, Shape_i
    if g.owner is None or not isinstance(g.owner.op, DimShuffle) \
            or g.owner.op.new_order != (0, "x"):
        return None
    gz = g.owner.inputs[0]
    al = gz.owner
    if al is not None and isinstance(al.op, Alloc) and len(al.inputs) == 2:
        val, n = al.inputs
        rows = n.owner
        if rows is not None and isinstance(rows.op, Shape_i) and rows.op.i == 0 \
                and rows.inputs[0].ndim >= 1 and _same_rows(rows.inputs[0], x):
            s = _unwrap(val)
            if isinstance(s, Constant) and np.size(s.data) == 1:    # a folded dimshuffle
                s = as_tensor_variable(np.asarray(s.data).reshape(()))
            if s.ndim == 0 and s.dtype == x.dtype:
                return s
    return gz if gz.ndim == 1 and gz.dtype == x.dtype else None


def _same_rows(v, x):
    """Whether ``v`` has ``x``'s rows by construction: ``x`` itself or an
    op of it that keeps them (the crossentropy's per-row output)."""
    return v is x or (v.owner is not None and isinstance(v.owner.op, SoftmaxCrossentropy)
                      and v.owner.inputs[0] is x)


def _depends_on(v, target, skip=()):
    """Whether ``target`` is ``v`` or one of its ancestors, not looking
    through the nodes whose ids are in ``skip`` (explicit stack)."""
    stack, seen = [v], set(skip)
    while stack:
        u = stack.pop()
        if u is target:
            return True
        if u.owner is not None and id(u.owner) not in seen:
            seen.add(id(u.owner))
            stack.extend(u.owner.inputs)
    return False


def _xent_grad_parts(fgraph, node):
    """``(sub, sm, x, y, gz)`` when ``node`` is ``(sm - onehot(y)) * gz[:, None]``
    with ``sm = softmax(x)`` and the difference used by ``node`` only."""
    if len(node.inputs) != 2:
        return None
    for d, g in (node.inputs, tuple(reversed(node.inputs))):
        parts = elemwise_input(d, "sub")
        if parts is None or not single_client(fgraph, d):
            continue
        sm, oh = parts
        x = _softmax_last_axis(sm)
        if x is None:
            continue
        y = _one_hot_labels(oh, sm, x)
        gz = None if y is None else _row_gradient(g, x)
        if gz is not None:
            return d, sm, x, y, gz
    return None


@register_local("numba", tracks=[Elemwise], scalars=["mul"], optional=True)
def local_softmax_crossentropy_fuse(fgraph, node):
    """``(softmax(x) - onehot(y)) * gz[:, None]`` (and ``SoftmaxCrossentropy(x,
    y)`` where the graph has it) -> ``SoftmaxCrossentropyWithGrad(x, y, gz)``,
    when the softmax and the difference serve nothing else."""
    from ..ops.shape import Shape_i
    found = _xent_grad_parts(fgraph, node)
    if found is None:
        return None
    d, sm, x, y, gz = found
    others = [c for c, _ in fgraph.clients.get(sm, ()) if c is not d.owner]
    if any(c == "output" or not isinstance(c.op, Shape_i) for c in others):
        return None                 # the softmax itself is used elsewhere
    nll, dx = SoftmaxCrossentropyWithGrad()(x, y, gz)
    dx = fit_type(dx, node.outputs[0])
    if dx is None:
        return None
    out = {node.outputs[0]: dx}
    for c in others:                # the softmax's shape is the logits' shape
        out[c.outputs[0]] = Shape_i(c.op.i)(x)
    for c, _ in fgraph.clients.get(x, ()):
        if c == "output" or not isinstance(c.op, SoftmaxCrossentropy) or c.inputs[1] is not y:
            continue
        # a mean's gradient reads the loss's length: x's rows, not its values
        rows = [s for s, _ in fgraph.clients.get(c.outputs[0], ())
                if s != "output" and isinstance(s.op, Shape_i)]
        if not _depends_on(gz, c.outputs[0], skip={id(s) for s in rows}):
            out.update({s.outputs[0]: Shape_i(0)(x) for s in rows})
            out[c.outputs[0]] = nll     # the forward loss comes out of the same pass
            break
    return out


@register_local("stabilize", tracks=[Elemwise], scalars=["mul"])
def local_log_softmax_grad(fgraph, node):
    """The softmax gradient of ``log``'s gradient ``gz * (1 / sm)`` ->
    ``gz - sm * sum(gz, axis, keepdims)`` (``LogSoftmax``'s gradient), which
    never divides by a probability that underflowed to 0."""
    from ..ops.reduction import sum as _sum
    found = _softmax_grad_parts(node)
    if found is None:
        return None
    sm, G = found
    m = elemwise_input(G, "mul")
    if m is None:
        return None
    for gz, r in (m, tuple(reversed(m))):
        q = elemwise_input(r, "true_div")
        if q is not None and is_const(q[0], 1) and q[1] is sm:
            axis = sm.owner.op.axis % sm.ndim
            new = gz - sm * _sum(gz, axis=axis, keepdims=True)
            return [fit_type(new, node.outputs[0])]
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["log"])
def local_log_sigmoid(fgraph, node):
    """``log(sigmoid(x))`` -> ``-softplus(-x)``."""
    inner = elemwise_input(node.inputs[0], "sigmoid")
    if inner is None:
        return None
    return [fit_type(_ew("neg", _ew("softplus", _ew("neg", inner[0]))), node.outputs[0])]


@register_local("stabilize", tracks=[Elemwise], scalars=["log"])
def local_log1m_sigmoid(fgraph, node):
    """``log(1 - sigmoid(x))`` -> ``-softplus(x)``."""
    d = elemwise_input(node.inputs[0], "sub")
    if d is None or not is_const(d[0], 1):
        return None
    inner = elemwise_input(d[1], "sigmoid")
    if inner is None:
        return None
    return [fit_type(_ew("neg", _ew("softplus", inner[0])), node.outputs[0])]


def _plus_one_terms(v):
    """The terms ``x`` of ``v = 1 + x`` or ``v = x + 1`` (a two-input add
    with a constant 1), in the add's order; none when ``v`` is not one."""
    a = elemwise_input(v, "add")
    if a is None:
        return []
    return [x for c, x in (a, tuple(reversed(a))) if is_const(c, 1)]


def _sigmoid_of_neg(x, old):
    """``[sigmoid(-x)]`` fitted to ``old``'s type (no ``--z`` when ``x`` is
    ``-z``), or None when it does not fit."""
    n = elemwise_input(x, "neg")
    new = fit_type(_ew("sigmoid", n[0] if n is not None else _ew("neg", x)), old)
    return None if new is None else [new]


@register_local("stabilize", tracks=[Elemwise], scalars=["true_div"])
def local_inv_1_plus_exp(fgraph, node):
    """``1 / (1 + exp(x))`` -> ``sigmoid(-x)`` (the logistic written out)."""
    num, den = node.inputs
    if not is_const(num, 1):
        return None
    for e in _plus_one_terms(den):
        inner = elemwise_input(e, "exp")
        if inner is not None:
            return _sigmoid_of_neg(inner[0], node.outputs[0])
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["true_div"])
def local_exp_over_1_plus_exp(fgraph, node):
    """``exp(x) / (1 + exp(x))`` -> ``sigmoid(x)`` (inf / inf = NaN else)."""
    num, den = node.inputs
    e = elemwise_input(num, "exp")
    if e is None:
        return None
    for t in _plus_one_terms(den):
        if t is num or elemwise_input(t, "exp") == [e[0]]:
            new = fit_type(_ew("sigmoid", e[0]), node.outputs[0])
            return None if new is None else [new]
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["log1p"])
def local_log1p_exp(fgraph, node):
    """``log1p(exp(x))`` -> ``softplus(x)`` (inf where exp overflows else)."""
    e = elemwise_input(node.inputs[0], "exp")
    if e is None:
        return None
    new = fit_type(_ew("softplus", e[0]), node.outputs[0])
    return None if new is None else [new]


def _negation_of(a, b):
    """Whether ``a`` is ``-b`` or ``b`` is ``-a``."""
    na, nb = elemwise_input(a, "neg"), elemwise_input(b, "neg")
    return (na is not None and na[0] is b) or (nb is not None and nb[0] is a)


@register_local("stabilize", tracks=[Elemwise], scalars=["mul"])
def local_sigm_times_exp(fgraph, node):
    """``exp(x) * sigmoid(-x)`` (factors of a product) -> ``sigmoid(x)``."""
    ins = list(node.inputs)
    for i, e in enumerate(ins):
        ex = elemwise_input(e, "exp")
        if ex is None:
            continue
        for j, sg in enumerate(ins):
            sx = elemwise_input(sg, "sigmoid")
            if j == i or sx is None or not _negation_of(sx[0], ex[0]):
                continue
            rest = [v for k, v in enumerate(ins) if k not in (i, j)]
            new = _ew("sigmoid", ex[0])
            for v in rest:
                new = new * v
            new = fit_type(new, node.outputs[0])
            return None if new is None else [new]
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["sub"])
def local_1m_sigmoid(fgraph, node):
    """``1 - sigmoid(x)`` -> ``sigmoid(-x)``, exact where the former rounds to 0."""
    inner = elemwise_input(node.inputs[1], "sigmoid")
    if inner is None or not is_const(node.inputs[0], 1):
        return None
    return _sigmoid_of_neg(inner[0], node.outputs[0])


@register_local("stabilize", tracks=[Elemwise], scalars=["log"])
def local_log1p(fgraph, node):
    """``log(1 + x)`` -> ``log1p(x)``."""
    for x in _plus_one_terms(node.inputs[0]):
        new = _ew("log1p", x)
        if new.dtype == node.outputs[0].dtype:
            return [fit_type(new, node.outputs[0])]
    return None


@register_local("stabilize", tracks=[Elemwise], scalars=["sub"])
def local_expm1(fgraph, node):
    """``exp(x) - 1`` -> ``expm1(x)``."""
    e, c = node.inputs
    inner = elemwise_input(e, "exp")
    if inner is None or not is_const(c, 1):
        return None
    new = _ew("expm1", inner[0])
    if new.dtype != node.outputs[0].dtype:
        return None
    return [fit_type(new, node.outputs[0])]
