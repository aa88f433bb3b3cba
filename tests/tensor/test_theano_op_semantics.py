"""Op semantics that Theano programs depend on: gradients at ties of
maximum/minimum, the cost kept in the gradient graph, the binary
crossentropy of a sigmoid at extreme logits, and the type check of updates
of shared variables declared broadcastable."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T

PY = "py"


@pytest.mark.parametrize("op", [T.maximum, T.minimum])
def test_tie_gradient_goes_to_the_first_argument(op):
    x, y = T.dvectors("xy")
    xv = np.array([1.0, -2.0, 3.0])
    g_same = symnet.function([x], symnet.grad(op(x, x).sum(), x), mode=PY)(xv)
    np.testing.assert_array_equal(g_same, [1.0, 1.0, 1.0])  # d x / d x
    yv = np.array([1.0, 5.0, -5.0])  # a tie, then each side winning once
    gx, gy = symnet.function([x, y], symnet.grad(op(x, y).sum(), [x, y]), mode=PY)(xv, yv)
    first_wins = (op is T.maximum) == np.array([True, False, True])
    np.testing.assert_array_equal(gx, [1.0] + [float(w) for w in first_wins[1:]])
    np.testing.assert_array_equal(gy, [0.0] + [float(not w) for w in first_wins[1:]])


@pytest.mark.parametrize("make", [lambda x: 2 * x, lambda x: 3 * x.sum() + 1])
def test_gradient_graph_holds_the_cost(make):
    x = T.dscalar("x")
    f = symnet.function([x], symnet.grad(make(x), x), mode=PY)  # no UnusedInputError
    assert float(f(4.0)) == float(symnet.grad(make(x), x).eval({x: 4.0}, mode=PY))
    v = T.TensorType("float64", shape=(3,))("v")
    gv = symnet.function([v], symnet.grad(2 * v.sum(), v), mode=PY)(np.ones(3))
    np.testing.assert_array_equal(gv, [2.0, 2.0, 2.0])


def test_rewrites_drop_the_seeds_dependency_on_the_cost():
    # The cost is in the gradient graph (above), but a gradient-only
    # function does not compute it: switch(isnan(cost), 1, 1) -> 1.
    x = T.dvector("x")
    g = symnet.grad(T.sum(T.tanh(x)), x)
    f = symnet.function([x], g, mode=PY)
    ops = [getattr(n.op, "scalar_op", n.op) for n in f.fgraph.toposort()]
    names = [getattr(o, "name", type(o).__name__) for o in ops]
    assert "isnan" not in names and "switch" not in names and "Reduce" not in names
    np.testing.assert_allclose(f(np.array([0.5, -1.0])), 1 - np.tanh([0.5, -1.0]) ** 2)


def test_gradient_seed_is_one_even_for_a_nan_cost():
    x = T.dscalar("x")
    g = symnet.function([x], symnet.grad(T.log(x), x), mode=PY)
    with np.errstate(invalid="ignore"):
        assert float(g(-2.0)) == -0.5  # the cost is NaN, its derivative is not


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy_of_sigmoid_exact_at_extreme_logits(dtype):
    x, t = T.vector("x", dtype=dtype), T.vector("t", dtype=dtype)
    loss = T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t).sum()
    f = symnet.function([x, t], [loss, symnet.grad(loss, x)], mode=PY)
    xv = np.array([800, -800, 800, -800, 3.0, 0.0], dtype)
    tv = np.array([1, 0, 0, 1, 0.3, 0.2], dtype)
    value, grad = f(xv, tv)
    x64, t64 = xv.astype("float64"), tv.astype("float64")
    sig = 1 / (1 + np.exp(-np.clip(x64, -700, 700)))
    want = np.sum(np.maximum(x64, 0) - x64 * t64 + np.log1p(np.exp(-np.abs(x64))))
    np.testing.assert_allclose(value, want, rtol=1e-6)
    np.testing.assert_allclose(grad, sig - t64, rtol=1e-6, atol=1e-30)
    assert grad.dtype == dtype


@pytest.mark.parametrize("reshape", [lambda v: v.flatten(), lambda v: v.reshape((-1, 1)),
                                     lambda v: v.dimshuffle(1, 0).flatten()])
def test_binary_crossentropy_of_reshaped_sigmoid_is_exact_too(reshape):
    # Lasagne code reshapes a sigmoid output to its targets
    # (binary_crossentropy(prediction.flatten(), y)): Theano's rewrites
    # still see the sigmoid (issue 4086's test); NaN at saturated logits else
    x = T.matrix("x", dtype="float32")
    loss = T.nnet.binary_crossentropy(reshape(T.nnet.sigmoid(x)), 1).sum()
    for mode in (PY, "numba"):
        f = symnet.function([x], [loss, symnet.grad(loss, x)], mode=mode)
        value, grad = f(np.array([[30.0, -30.0]], "float32"))
        np.testing.assert_allclose(value, 30.0, rtol=1e-6)
        np.testing.assert_allclose(grad, [[0.0, -1.0]], atol=1e-12)


def test_update_not_known_to_broadcast_is_a_type_error_naming_the_variable():
    bias = symnet.shared(np.zeros((1, 3)), broadcastable=(True, False), name="bias")
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match=r"update of bias .*axis 0 is declared broadcastable"):
        symnet.function([m], [], updates=[(bias, m)], mode=PY)
    f = symnet.function([m], [], updates=[(bias, T.addbroadcast(m, 0))], mode=PY)
    f(np.full((1, 3), 2.0))
    np.testing.assert_array_equal(bias.get_value(), np.full((1, 3), 2.0))
    # a size-1 axis that was not declared broadcastable takes any update type
    plain = symnet.shared(np.zeros((1, 3)), name="plain")
    g = symnet.function([m], [], updates=[(plain, m + 1)], mode=PY)
    g(np.zeros((1, 3)))
    np.testing.assert_array_equal(plain.get_value(), np.ones((1, 3)))
