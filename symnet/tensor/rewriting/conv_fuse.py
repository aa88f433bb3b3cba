"""The ``conv_epilogue`` rewrite: a convolution's bias and activation (and
their gradient) fused into ``Conv2dBiasAct`` / ``BiasActGrad``
(``tensor/ops/conv_fused.py``).

A global pass run after ``fuse_elemwise`` (it matches the fused loops):
for each ``Conv2d`` whose output ``c`` is read by

- one elementwise loop computing ``act(c + b.dimshuffle('x', 0, 'x', 'x'))``
  (``act`` as ``T.nnet.relu``, ``T.maximum(., 0)`` or nothing spell it;
  Lasagne's ``Conv2DLayer`` builds the first), and
- optionally loops computing that activation's gradient from ``c``, ``b``
  and an output gradient ``g`` (what ``grad`` builds),

and by nothing else (but its shape), the convolution and the forward loop
become one ``Conv2dBiasAct`` (``keep_sign`` when gradients read ``c``: they
need only the sign of ``c + b``), each gradient loop a ``BiasActGrad``, and
a ``Sum`` over the batch and spatial axes of that gradient (the bias
gradient) its second output.  A ``c`` read by anything else, or an
expression that differs from these in any way, is left alone.

The loops are recognised by their scalar expression, printed with the
arguments of commutative ops sorted, against the expressions the
activations' formulas give (``_templates``).  Optional (tags
``conv_epilogue`` and ``numba``): ``Mode.rewrite`` includes its linker's
name, so it runs for the numba backend,
whose kernels compute the fused forms in the convolution's output pass.
"""
import numpy as np

from ...graph.basic import Constant
from ...graph.rewriting import check_replacement, count_visits, register_global
from ..ops.conv import Conv2d
from ..ops.conv_fused import BiasActGrad, Conv2dBiasAct
from ..ops.elemwise import Composite, DimShuffle, Elemwise
from ..ops.reduction import Reduce
from ..ops.shape import Shape, Shape_i
from .basic import fit_type
from .elemwise import destroyable

__all__ = ["conv_epilogue", "expression"]

_COMMUTATIVE = frozenset(["add", "mul", "maximum", "minimum", "eq"])


def _call(name, args):
    args = sorted(args) if name in _COMMUTATIVE else list(args)
    return f"{name}({','.join(args)})"


def expression(node, symbols):
    """The scalar expression of the Elemwise ``node`` over ``symbols`` (one
    string per input), arguments of commutative ops sorted."""
    sop = node.op.scalar_op
    if not isinstance(sop, Composite):
        return _call(str(sop), symbols)
    names = list(symbols)
    for op, refs, _ in sop.program:
        names.append(_call(str(op), [names[r] for r in refs]))
    return names[sop.out]


def _templates(dtype):
    """``{act: (forward expression, gradient expressions)}`` over
    the symbols C (conv output), B (bias), G (output gradient), R (the
    forward result)."""
    a = _call("add", ["B", "C"])
    h = _call("mul", ["G", "0.5"])
    mask = _call("eq", ["R", a])
    return {
        "relu": (_call("mul", ["0.5", _call("add", [a, _call("abs", [a])])]),
                 (_call("add", [h, _call("mul", [h, _call("sgn", [a])])]),)),
        "max": (_call("maximum", [a, "0.0"]),    # the mask cast, or multiplied as bool
                (_call("mul", ["G", _call(f"cast{{{dtype}}}", [mask])]),
                 _call("mul", ["G", mask]))),
        "linear": (a, ()),
    }


def _bias(v):
    """``b`` when ``v`` is ``b.dimshuffle('x', 0, 'x', 'x')`` of a vector ``b``."""
    if v.owner is not None and isinstance(v.owner.op, DimShuffle) \
            and v.owner.op.new_order == ("x", 0, "x", "x") and v.owner.inputs[0].ndim == 1:
        return v.owner.inputs[0]
    return None


def _constant(v):
    """A constant input as its value's text (all its entries equal), else None."""
    if not isinstance(v, Constant):
        return None
    a = np.asarray(v.data)
    if a.size == 0 or not (a == a.flat[0]).all():
        return None
    return repr(float(a.flat[0]))


def _symbols(node, c, r):
    """``(symbols, b, g)`` of the Elemwise ``node``'s inputs: C for ``c``, R
    for ``r``, B for a bias (``b``), a constant's value, G for one other
    input (``g``); None when two other inputs or two biases appear."""
    syms, b, g = [], None, None
    for v in node.inputs:
        bv = _bias(v)
        if v is c:
            syms.append("C")
        elif r is not None and v is r:
            syms.append("R")
        elif bv is not None and (b is None or bv is b):
            b = bv
            syms.append("B")
        elif _constant(v) is not None:
            syms.append(_constant(v))
        elif g is None:
            g = v
            syms.append("G")
        else:
            return None
    return syms, b, g


def _clients(fgraph, v):
    """``(elementwise clients, shape clients)`` of ``v``; None when it has
    another client (or is an output)."""
    cl = [n for n, _ in fgraph.clients.get(v, ())]
    if any(n == "output" or not isinstance(n.op, (Elemwise, Shape, Shape_i)) for n in cl):
        return None
    return ([n for n in cl if isinstance(n.op, Elemwise)],
            [n for n in cl if not isinstance(n.op, Elemwise)])


def _match(fgraph, node):
    """``(act, forward node, b, [(gradient node, g)], shape nodes)`` for
    the Conv2d ``node`` (the shape nodes read its output's shape), or None when the pattern does not hold exactly."""
    c = node.outputs[0]
    found = _clients(fgraph, c)
    if found is None or len(set(found[0])) != len(found[0]):
        return None
    clients, shapes = found
    temps = _templates(c.dtype)
    fwd = None
    for n in clients:
        s = _symbols(n, c, None)
        if s is None or s[1] is None or s[2] is not None:
            continue
        e = expression(n, s[0])
        for act, (f, _) in temps.items():
            if e == f:
                fwd, act_f, b = n, act, s[1]
    if fwd is None or b.dtype != c.dtype or fwd.outputs[0].dtype != c.dtype:
        return None
    grads = []
    for n in clients:
        if n is fwd:
            continue
        s = _symbols(n, c, fwd.outputs[0])
        if s is None or s[1] is not b or s[2] is None \
                or expression(n, s[0]) not in temps[act_f][1] \
                or n.outputs[0].dtype != c.dtype or s[2].dtype != c.dtype:
            return None
        grads.append((n, s[2]))
    return act_f, fwd, b, grads, shapes


def _bias_sums(fgraph, v):
    """The clients of ``v`` that sum it over every axis but 1."""
    axes = (0,) + tuple(range(2, v.ndim))
    return [n for n, _ in fgraph.clients.get(v, ()) if n != "output"
            and isinstance(n.op, Reduce) and n.op.kind == "sum"
            and tuple(sorted(n.op.axis)) == axes and n.outputs[0].ndim == 1]


def _replace(fgraph, old, new):
    new = fit_type(new, old)
    if new is None:
        return False
    check_replacement("conv_epilogue", old, new)
    fgraph.replace(old, new, reason="conv_epilogue")
    return True


@register_global("fusion", "conv_epilogue", "numba", name="conv_epilogue", optional=True)
def conv_epilogue(fgraph):
    """Fuse each matching convolution's bias, activation and their gradient
    (see the module docstring); returns the number of convolutions fused."""
    n = 0
    order = fgraph.toposort()
    for node in order:
        if type(node.op) is not Conv2d or node not in fgraph.apply_nodes:
            continue
        m = _match(fgraph, node)
        if m is None:
            continue
        act, fwd, b, grads, shapes = m
        x, w = node.inputs
        outs = Conv2dBiasAct(*node.op._args(), act=act, keep_sign=bool(grads))(x, w, b)
        r, sign = (outs[0], outs[1]) if grads else (outs, None)
        if fit_type(r, fwd.outputs[0]) is None:
            continue
        for gnode, g in grads:
            gc, gb = BiasActGrad(act)(g, sign)
            for s in _bias_sums(fgraph, gnode.outputs[0]):
                _replace(fgraph, s.outputs[0], gb)
            _replace(fgraph, gnode.outputs[0], gc)
        for s in shapes:   # the result has the convolution's shape
            _replace(fgraph, s.outputs[0], s.op(r))
        _replace(fgraph, fwd.outputs[0], r)
        n += 1
    count_visits(fgraph, len(order))
    return n


@register_global("inplace", "conv_epilogue", "numba", name="conv_epilogue_inplace",
                 optional=True)
def conv_epilogue_inplace(fgraph):
    """``BiasActGrad`` writing over its output gradient where nothing else
    reads it (as ``inplace_elemwise`` does for the loop it replaced)."""
    n = 0
    order = fgraph.toposort()
    inputs = set(fgraph.inputs)
    for node in order:
        op = node.op
        if not isinstance(op, BiasActGrad) or op.inplace:
            continue
        g = node.inputs[0]
        if g.dtype != node.outputs[0].dtype or not destroyable(fgraph, g, node, inputs):
            continue
        new = BiasActGrad(op.act, inplace=True).make_node(*node.inputs)
        # the bias-gradient output is not in the graph when nothing asks for
        # the bias's gradient (a gradient taken wrt the input image only)
        pairs = [(old, out) for old, out in zip(node.outputs, new.outputs)
                 if fgraph.clients.get(old)]
        for old, out in pairs:
            check_replacement("conv_epilogue_inplace", old, out)
        fgraph.replace_all(pairs, reason="conv_epilogue_inplace")
        n += 1
    count_visits(fgraph, len(order))
    return n
