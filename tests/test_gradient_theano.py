"""Theano's gradient semantics on symnet: Rop's errors and forms, the
consider_constant function, subgraph_grad."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import gradient
from symnet.gradient import NullTypeGradError
from symnet.graph.basic import Apply
from symnet.graph.op import Op

PY = "py"


def fn(inputs, outputs):
    return symnet.function(inputs, outputs, mode=PY)


def test_rop_errors_and_forms_as_theano():
    x, v = T.dvector('x'), T.dvector('v')
    m, mv = T.dmatrix('m'), T.dmatrix('mv')
    # an output that does not depend on wrt, or only through its shape
    for f in (T.sum(m), x.shape[0]):
        with pytest.raises(ValueError, match="does not depend on any of x"):
            gradient.Rop(f, x, v)
    z = gradient.Rop(T.sum(m), x, v, disconnected_outputs='ignore')
    assert float(z.eval({})) == 0.0
    with pytest.warns(UserWarning, match="does not depend"):
        gradient.Rop(T.sum(m), x, v, disconnected_outputs='warn')
    # an eval point of the wrong rank
    with pytest.raises(ValueError, match="eval point 0"):
        gradient.Rop(0., [m], [v])
    # a path through an op with no gradient: ValueError, and NullTypeGradError

    class NoGrad(Op):
        __props__ = ()

        def make_node(self, a):
            return Apply(self, [a], [a.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0]

        def grad(self, inputs, g):
            return [gradient.grad_undefined(self, 0, inputs[0])]
    with pytest.raises(ValueError, match="NoGrad"):
        gradient.Rop(NoGrad()(x) * 2, x, v)
    with pytest.raises(NullTypeGradError):
        gradient.Rop(NoGrad()(x) * 2, x, v)
    # the form of f: list, tuple or one
    outs = gradient.Rop((m, x, m + x), [m, x], [mv, v])
    assert type(outs) is tuple and len(outs) == 3
    vals = {m: np.ones((2, 3)), x: np.ones(3), mv: np.full((2, 3), 2.0), v: np.arange(3.0)}
    np.testing.assert_allclose(outs[2].eval(vals), 2.0 + np.arange(3.0)[None, :] * np.ones((2, 1)))


def test_consider_constant_function_gives_a_connected_zero():
    # Theano's gradient.consider_constant(x) (the function, not grad's list):
    # x held constant, its gradient zero and connected
    x = T.dmatrix('x')
    xv = np.arange(4.0).reshape(2, 2)
    for expr, want in [(x * gradient.consider_constant(x), xv),
                       (gradient.consider_constant(x), np.zeros((2, 2))),
                       (x ** 2 * gradient.consider_constant(x), 2 * xv ** 2)]:
        g = gradient.grad(expr.sum(), x)
        np.testing.assert_allclose(fn([x], g)(xv), want)
    assert T.consider_constant is gradient.consider_constant


def test_subgraph_grad_pieces_add_up_to_grad():
    # backpropagating two pieces one after the other gives grad's result
    x, w1, w2, b = T.dvector('x'), T.dvector('w1'), T.dvector('w2'), T.dvector('b')
    h = T.tanh(x * w1 + b)
    cost = T.sum((h * w2) ** 2)
    (gw2,), (gh,) = symnet.subgraph_grad([w2], [h], cost=cost)
    (gw1, gb), (gx,) = symnet.subgraph_grad([w1, b], [x], start={h: gh})
    want = symnet.grad(cost, [w2, w1, b, x])
    vals = [np.array([0.5, -1.0]), np.array([2.0, 0.3]), np.array([3.0, 1.5]),
            np.array([0.1, 0.2])]
    ins = [x, w1, w2, b]
    got = fn(ins, [gw2, gw1, gb, gx])(*vals)
    for a, c in zip(got, fn(ins, want)(*vals)):
        np.testing.assert_allclose(a, c)
    res = symnet.subgraph_grad([w2], [h], cost=cost, details=True)
    assert len(res) == 4 and res[2] is None and len(res[3]) == 2
    with pytest.raises(ValueError, match="give a cost"):
        symnet.subgraph_grad([w2], [h])


def test_gradient_wrt_an_integer_input_is_its_float_gradient():
    # Theano's test_grad_int: dot and cast pass an integer operand the
    # gradient it would have as floats (it used to be zeros)
    W, b = T.matrix("W"), T.vector("b")

    def grad_fn(X):
        cost = T.nnet.sigmoid(T.dot(X, W) + b).sum()
        return symnet.function([X, W, b], symnet.grad(cost, X), mode="py")

    rng = np.random.RandomState([2012, 9, 5])
    X = (rng.randn(5, 3) * 4).astype("int32")
    Wv, bv = rng.randn(3, 4).astype("float32"), rng.randn(4).astype("float32")
    g_int = grad_fn(T.imatrix("X"))(X, Wv, bv)
    g_float = grad_fn(T.dmatrix("X"))(X.astype("float64"), Wv, bv)
    assert g_int.dtype == np.float64 and np.abs(g_float).max() > 1e-3
    np.testing.assert_allclose(g_int, g_float)
    i = T.ivector("i")
    g = symnet.grad((T.cast(i, "float64") * 3.0).sum(), i)
    np.testing.assert_array_equal(g.eval({i: np.array([1, 2], "int32")}), [3.0, 3.0])
