"""Stabilization rewrites (tag ``stabilize``) for neural-network graphs.

Each replaces a formula that overflows or loses all precision for large
inputs by an equivalent stable op:

- ``log(softmax(x))`` -> ``log_softmax(x)``
- ``crossentropy_categorical_1hot(softmax(x), y)`` -> the fused
  ``SoftmaxCrossentropy`` (so ``categorical_crossentropy(softmax(x), y)`` is
  finite for logits of +-1000), and the gradient graph ``grad`` builds for
  it -> ``(softmax(x) - onehot(y)) * g``, which never divides by a
  probability that underflowed to 0;
- ``log(sigmoid(x))`` -> ``-softplus(-x)``; ``log(1 - sigmoid(x))`` ->
  ``-softplus(x)``;
- ``log(1 + x)`` -> ``log1p(x)``; ``exp(x) - 1`` -> ``expm1(x)``.

The one-hot crossentropy ``-sum(t * log(softmax(x)), axis=-1)`` is built
from primitives and is stabilized by the first rule.
"""
from ...graph.rewriting import register_local
from ..ops.elemwise import SCALAR_OPS, DimShuffle, Elemwise
from ..ops.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax, SoftmaxCrossentropy
from ..ops.reduction import Reduce
from .basic import elemwise_input, fit_type, is_const, scalar_name

__all__ = ["local_log_softmax", "local_softmax_crossentropy", "local_softmax_crossentropy_grad",
           "local_log_softmax_grad",
           "local_log_sigmoid", "local_log1m_sigmoid", "local_log1p", "local_expm1"]


def _ew(name, *args):
    return Elemwise(SCALAR_OPS[name])(*args)


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


@register_local("stabilize", tracks=[Elemwise], scalars=["log"])
def local_log1p(fgraph, node):
    """``log(1 + x)`` -> ``log1p(x)``."""
    a = elemwise_input(node.inputs[0], "add")
    if a is None:
        return None
    for c, x in (a, reversed(a)):
        if is_const(c, 1):
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
