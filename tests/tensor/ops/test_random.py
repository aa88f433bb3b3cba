"""The RandomDraw op: determinism by state, shapes, dtypes, statistics,
infer_shape and the absence of gradients."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.ops.random import RandomDraw, random_draw, generator_for


def _state(seed=3, counter=0):
    return symnet.shared(np.array([seed, counter], dtype="int64"))


def test_same_state_same_sample_and_counter_advances():
    st = _state()
    new, x = random_draw("uniform", st, (3, 4), [0.0, 1.0], "float64")
    f = symnet.function([], [new, x], mode="py")
    s1, a = f()
    s2, b = f()  # no update installed: the state stays, so does the sample
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(s1, [3, 1])
    want = generator_for(np.array([3, 0])).uniform(0.0, 1.0, (3, 4))
    np.testing.assert_allclose(a, want)
    st.set_value(np.array([3, 1], dtype="int64"))
    assert not np.allclose(f()[1], a)


def test_explicit_update_advances():
    st = _state(5)
    new, x = random_draw("normal", st, (50,), [0.0, 1.0], "float64")
    f = symnet.function([], x, updates=[(st, new)], mode="py")
    a, b = f(), f()
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(st.get_value(), [5, 2])


@pytest.mark.parametrize("dist,params,dtype", [
    ("uniform", [-2.0, 3.0], "float32"),
    ("normal", [1.0, 2.0], "float64"),
    ("binomial", [1, 0.3], "int64"),
    ("binomial", [5, 0.5], "int32"),
    ("random_integers", [2, 4], "int16"),
])
def test_static_shape_dtype_and_statistics(dist, params, dtype):
    st = _state(11)
    new, x = random_draw(dist, st, (200, 50), params, dtype)
    assert x.type.shape == (200, 50) and x.dtype == dtype
    v = symnet.function([], x, mode="py")()
    assert v.dtype == dtype and v.shape == (200, 50)
    if dist == "uniform":
        assert v.min() >= -2 and v.max() < 3 and abs(v.mean() - 0.5) < 0.1
    elif dist == "normal":
        assert abs(v.mean() - 1.0) < 0.05 and abs(v.std() - 2.0) < 0.05
    elif dist == "binomial":
        n, p = params
        assert set(np.unique(v)) <= set(range(n + 1))
        assert abs(v.mean() - n * p) < 0.05 * n
    else:
        assert set(np.unique(v)) == {2, 3, 4}


def test_symbolic_size_and_infer_shape():
    x = T.dmatrix("x")
    st = _state()
    new, s = random_draw("uniform", st, x.shape, [0.0, 1.0], "float64")
    assert s.type.shape == (None, None)
    f = symnet.function([x], [s, s.shape], mode="py")
    val, shp = f(np.zeros((4, 7)))
    assert val.shape == (4, 7) and tuple(shp) == (4, 7)
    node = s.owner
    shapes = node.op.infer_shape(node, [(2,)] + [()] * (len(node.inputs) - 1))
    assert shapes[0] == (2,) and len(shapes[1]) == 2
    w = symnet.shared(np.zeros((2, 3)))
    _, s2 = random_draw("normal", st, (w.shape[0], 5), [0.0, 1.0], "float64")
    assert s2.type.shape == (2, 5)


def test_tensor_parameters_broadcast():
    p = T.dvector("p")
    st = _state()
    _, s = random_draw("binomial", st, (2000, 3), [1, p], "int64")
    v = symnet.function([p], s, mode="py")(np.array([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(v.mean(axis=0), [0.1, 0.5, 0.9], atol=0.04)


def test_multinomial_rows():
    st = _state()
    pv = np.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]], dtype="float32")
    _, s = random_draw("multinomial", st, (2, 3), [1, pv], "int64")
    v = symnet.function([], s, mode="py")()
    np.testing.assert_array_equal(v.sum(axis=1), [1, 1])
    np.testing.assert_array_equal(v[1], [0, 0, 1])
    assert v[0, 2] == 0


def test_no_gradient_flows_and_no_constant_folding():
    mu = T.dscalar("mu")
    st = _state()
    _, s = random_draw("normal", st, (3,), [mu, 1.0], "float64")
    g = symnet.grad(T.sum(s) + mu, mu)
    f = symnet.function([mu], g, mode="py", on_unused_input="ignore")
    assert float(f(0.0)) == 1.0
    gz = symnet.grad(T.sum(s), mu, disconnected_inputs="ignore")
    assert float(symnet.function([mu], gz, mode="py", on_unused_input="ignore")(0.0)) == 0.0
    op = s.owner.op
    assert not op.do_constant_folding(s.owner)


def test_build_time_errors():
    st = _state()
    with pytest.raises(ValueError, match="unknown distribution"):
        RandomDraw("cauchy", "float64", 1)
    with pytest.raises(TypeError, match="int64 vector"):
        random_draw("uniform", T.dvector(), (2,), [0.0, 1.0], "float64")
    with pytest.raises(TypeError, match="integer scalars"):
        random_draw("uniform", st, (T.dscalar(),), [0.0, 1.0], "float64")
    with pytest.raises(ValueError, match="negative"):
        random_draw("uniform", st, (-1,), [0.0, 1.0], "float64")
    with pytest.raises(ValueError, match="known"):
        random_draw("uniform", st, T.lvector(), [0.0, 1.0], "float64")
    with pytest.raises(ValueError, match="more than"):
        random_draw("uniform", st, (3,), [T.dmatrix(), 1.0], "float64")
