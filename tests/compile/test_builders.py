"""OpFromGraph (theano.compile.builders): values, gradients, overrides,
connection patterns, hidden shared inputs, and its inlining on every backend."""
import os

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.builders import OpFromGraph
from symnet.compile.mode import Mode
from symnet.gradient import DisconnectedType
from symnet.graph.null_type import NullType

MODES = ["py", "numba"]


@pytest.mark.parametrize("mode", MODES)
def test_values_and_nesting(mode):
    x, y, z = T.dmatrices('x', 'y', 'z')
    op = OpFromGraph([x, y, z], [x + y * z])
    dot = OpFromGraph([x, y], [T.dot(x, y)])
    a, b, c = np.ones((2, 2)), 3 * np.ones((2, 2)), 5 * np.ones((2, 2))
    f2 = symnet.function([x, y, z], op(x, y, z) - op(y, z, x), mode=mode)
    np.testing.assert_array_equal(f2(a, b, c), 8 * np.ones((2, 2)))
    # the same op applied to inputs of other sizes
    xv, yv, zv = np.ones((2, 3)), 3 * np.ones((3, 4)), 5 * np.ones((4, 5))
    f3 = symnet.function([x, y, z], dot(x, dot(y, z)), mode=mode)
    np.testing.assert_array_equal(f3(xv, yv, zv), 180 * np.ones((2, 5)))
    # compiled functions run the graph's own ops (the op is inlined)
    assert not any(isinstance(n.op, OpFromGraph) for n in f2.maker.fgraph.toposort())


@pytest.mark.skipif(os.environ.get("SYMNET_FORCE_BACKEND", "py") != "py",
                    reason="tests the py reference's perform; another backend falls back "
                           "to it loudly (SYMNET_STRICT fails)")
def test_perform_runs_the_graph_when_not_inlined():
    x, y = T.dvectors('x', 'y')
    op = OpFromGraph([x, y], [x * y, x - y])
    a, b = T.dvectors('a', 'b')
    mode = Mode(linker="py").excluding("inline_op_from_graph")
    f = symnet.function([a, b], op(a, b), mode=mode)
    assert any(isinstance(n.op, OpFromGraph) for n in f.maker.fgraph.toposort())
    got = f(np.array([2.0, 3.0]), np.array([4.0, 5.0]))
    np.testing.assert_array_equal(got[0], [8.0, 15.0])
    np.testing.assert_array_equal(got[1], [-2.0, -2.0])


def test_gradients_reach_hidden_shared_inputs():
    x, y, z = T.dmatrices('x', 'y', 'z')
    s = symnet.shared(np.arange(4.0).reshape(2, 2), name='s')
    op = OpFromGraph([x, y, z], [x + y * z + s])
    assert op.shared_inputs == [s]
    f = op(x, y, z)
    gy, gs = symnet.grad(T.sum(f * f), [y, s])
    g = symnet.function([x, y, z], [gy, gs], mode='py')
    xv, yv, zv = np.ones((2, 2)), 3 * np.ones((2, 2)), 5 * np.ones((2, 2))
    out = xv + yv * zv + s.get_value()
    np.testing.assert_allclose(g(xv, yv, zv)[0], 2 * out * zv)
    np.testing.assert_allclose(g(xv, yv, zv)[1], 2 * out)
    # second order through the op
    gg = symnet.grad(T.sum(symnet.grad(T.sum(f ** 3), y)), z)
    want = 6 * (xv + yv * zv + s.get_value()) * yv * zv + 3 * (xv + yv * zv + s.get_value()) ** 2
    np.testing.assert_allclose(symnet.function([x, y, z], gg, mode='py')(xv, yv, zv), want)


def test_grad_overrides():
    x, y = T.dvectors('x', 'y')

    def go(inps, gs):
        return [gs[0] * inps[1] * 2, gs[0] * inps[0] * 1.5]
    dz = T.dvector('dz')
    as_op = OpFromGraph([x, y, dz], go([x, y], [dz]))
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    for override in (go, as_op):
        op = OpFromGraph([x, y], [x * y], grad_overrides=override)
        a, b = T.dvectors('a', 'b')
        ga, gb = symnet.grad(T.sum(op(a, b)), [a, b])
        got = symnet.function([a, b], [ga, gb], mode='py')(xv, yv)
        np.testing.assert_allclose(got[0], yv * 2)
        np.testing.assert_allclose(got[1], xv * 1.5)
    w, b = T.dvectors('w', 'b')
    op = OpFromGraph([x, w, b], [x * w + b],
                     grad_overrides=[lambda i, g: g[0] * i[1] * 2, NullType("no")(),
                                     DisconnectedType()()])
    xx, ww, bb = T.dvectors('xx', 'ww', 'bb')
    gx, gw, gb = symnet.grad(T.sum(op(xx, ww, bb)), [xx, ww, bb],
                             return_disconnected='Disconnected',
                             disconnected_inputs='ignore', null_gradients='return')
    np.testing.assert_allclose(gx.eval({xx: xv, ww: yv, bb: xv}), yv * 2)
    assert isinstance(gw.type, NullType) and gw.type.why_null == "no"
    assert isinstance(gb.type, DisconnectedType)
    with pytest.raises(symnet.gradient.NullTypeGradError, match="no"):
        symnet.grad(T.sum(op(xx, ww, bb)), ww)


@pytest.mark.parametrize("mode", MODES)
def test_grad_set_on_the_instance_overrides(mode):
    # Theano before 1.0: ``op.grad = f`` replaced the op's gradient (the
    # guided backpropagation of Lasagne's Recipes): relu's gradient passes
    # only positive gradients through positive inputs
    x = T.fmatrix("x")
    inp = x.type()
    relu = OpFromGraph([inp], [T.maximum(inp, 0)])

    def guided(inputs, out_grads):
        (i,), (g,) = inputs, out_grads
        return (g * (i > 0).astype(i.dtype) * (g > 0).astype(i.dtype),)
    w = np.array([[1., -1.], [2., -3.]], "float32")
    xv = np.array([[1., 2.], [-1., 3.]], "float32")
    plain = symnet.function([x], symnet.grad((relu(x) * w).sum(), x), mode=mode)
    np.testing.assert_allclose(plain(xv), w * (xv > 0))
    relu.grad = guided
    f = symnet.function([x], [relu(x), symnet.grad((relu(x) * w).sum(), x)], mode=mode)
    out, gx = f(xv)
    np.testing.assert_allclose(out, np.maximum(xv, 0))
    np.testing.assert_allclose(gx, w * (xv > 0) * (w > 0))


def test_lop_override_and_rop():
    x = T.dvector('x')
    y = 1.0 / (1.0 + T.exp(-x))
    op = OpFromGraph([x], [y], lop_overrides=lambda i, o, g: [2.0 * o[0] * g[0]])
    a = T.dvector('a')
    av = np.array([0.0, 1.0])
    got = symnet.function([a], symnet.grad(T.sum(op(a)), a), mode='py')(av)
    np.testing.assert_allclose(got, 2.0 / (1.0 + np.exp(-av)))
    # Rop from the graph: J v of a matrix-vector product is M v
    v, M = T.dvector('v'), T.dmatrix('M')
    mv = OpFromGraph([v, M], [T.dot(M, v)])
    ev = T.dvector('ev')
    r = symnet.gradient.Rop(mv(v, M), v, ev)
    Mv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(r.eval({v: np.ones(3), M: Mv, ev: np.array([1., 0., 2.])}),
                               Mv @ [1., 0., 2.])
    with pytest.warns(UserWarning, match="rop_overrides is not used"):
        OpFromGraph([v, M], [T.dot(M, v)], rop_overrides=lambda i, e: [e[0]])


def test_connection_pattern_follows_inner_ops():
    x, y, z = T.dmatrices('x', 'y', 'z')
    op1 = OpFromGraph([x, y, z], [x * y, y * z])
    assert op1.connection_pattern(None) == [[True, False], [True, True], [False, True]]
    m, n, p, q = T.dmatrices('m', 'n', 'p', 'q')
    o1, o2 = op1(m, n, p)
    op2 = OpFromGraph([m, n, p, q], op1(o1, q, o2))
    assert op2.connection_pattern(None) == [[True, False], [True, True], [False, True],
                                            [True, True]]


def test_errors_and_test_values():
    x, y = T.dscalars('x', 'y')
    with pytest.raises(ValueError, match="depend on y, which is not among the inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(TypeError, match="cannot be an input"):
        OpFromGraph([symnet.shared(1.0)], [x])
    op = OpFromGraph([x], [x ** 3])
    with pytest.raises(TypeError, match=r"input 0 \(v\) has type"):
        op(T.dvector('v'))
    with symnet.change_flags(compute_test_value='raise'):
        a = T.dscalar('a')
        a.tag.test_value = np.float64(2.0)
        ga = symnet.grad(op(a), a)
        assert float(ga.tag.test_value) == 12.0
