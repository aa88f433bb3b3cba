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
    # function does not compute it: the seed second(cost, 1) -> 1.
    x = T.dvector("x")
    g = symnet.grad(T.sum(T.tanh(x)), x)
    f = symnet.function([x], g, mode=PY)
    ops = [getattr(n.op, "scalar_op", n.op) for n in f.fgraph.toposort()]
    names = [getattr(o, "name", type(o).__name__) for o in ops]
    assert "second" not in names and "Reduce" not in names
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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_is_numpys_with_infinities_and_nans(dtype, equal_nan):
    # isclose(inf, inf) is True, isclose(1, inf) False (|a-b| <= inf used to
    # say True), NaN is close to NaN only with equal_nan (it was ignored)
    a = np.array([0.0, 1.0, -1.0, 0.0, np.nan, np.inf, -np.inf, np.inf, 1.0], dtype)
    b = np.array([0.0, 1.0001, -1.000000000001, np.nan, np.nan, np.inf, np.inf, 0.0, np.inf],
                 dtype)
    x, y = T.vector(dtype=dtype), T.vector(dtype=dtype)
    for mode in ("py", "numba"):
        f = symnet.function([x, y], [T.isclose(x, y, equal_nan=equal_nan),
                                     T.allclose(x[:3], y[:3], rtol=1e-3)], mode=mode)
        close, allc = f(a, b)
        np.testing.assert_array_equal(close, np.isclose(a, b, equal_nan=equal_nan))
        assert bool(allc) == np.allclose(a[:3], b[:3], rtol=1e-3) is True


def test_tensordot_rejects_axes_out_of_range():
    # axes used to wrap around: tensordot(matrix, vector, (0, 1)) summed the
    # vector's axis 1 % 1 = 0
    a, v = T.matrix("a"), T.vector("v")
    with pytest.raises(ValueError, match=r"tensordot: axis 1 is out of range for v \(1-D\)"):
        T.tensordot(a, v, (0, 1))
    with pytest.raises(ValueError, match="cannot sum over 2 axes of a"):
        T.tensordot(a, v, 2)
    with pytest.raises(ValueError, match="an int or a pair of axis lists"):
        T.tensordot(a, a, (0, 1, 2))
    with pytest.raises(ValueError, match="repeat an axis"):
        T.tensordot(a, a, ((0, 0), (0, 1)))
    m = np.arange(6.0).reshape(2, 3).astype(a.dtype)
    np.testing.assert_allclose(T.tensordot(a, a, [[-1], [1]]).eval({a: m}),
                               np.tensordot(m, m, [[-1], [1]]))


def test_cast_of_complex_to_real_raises():
    z = T.matrix("z", dtype="complex128")
    with pytest.raises(TypeError, match="cast of z .complex128. to float64 would drop"):
        T.cast(z, "float64")
    assert T.cast(z, "complex64").dtype == "complex64"
