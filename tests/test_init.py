"""Tests for symnet.init: Lasagne's initializers, statistics and errors."""
import numpy as np
import pytest

from symnet import init
from symnet.configdefaults import config
from symnet.random import get_rng, set_rng


@pytest.fixture(autouse=True)
def seeded():
    old = get_rng()
    set_rng(np.random.RandomState(1234))
    yield
    set_rng(old)


@pytest.fixture
def floatX64():
    old = config.floatX
    config.floatX = "float64"
    yield
    config.floatX = old


ALL = [
    init.Normal(), init.Uniform(), init.GlorotNormal(), init.GlorotUniform(),
    init.HeNormal(), init.HeUniform(), init.Constant(), init.Sparse(),
    init.Orthogonal(), init.Glorot(init.Normal), init.He(init.Uniform),
]


def test_base_class():
    with pytest.raises(NotImplementedError):
        init.Initializer()((2, 2))

    class Ones(init.Initializer):
        def sample(self, shape):
            return np.ones(shape)

    np.testing.assert_array_equal(Ones()((2, 3)), np.ones((2, 3)))


@pytest.mark.parametrize("ini", ALL, ids=lambda i: type(i).__name__)
def test_shape_and_default_dtype(ini):
    out = ini((20, 30))
    assert isinstance(out, np.ndarray)
    assert out.shape == (20, 30)
    assert out.dtype == np.dtype(config.floatX)


@pytest.mark.parametrize("ini", ALL, ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("dtype", ["float64", "float16", "float32"])
def test_dtype_follows_floatX_at_call_time(ini, dtype):
    old = config.floatX
    try:
        config.floatX = dtype
        assert ini((6, 8)).dtype == np.dtype(dtype)
    finally:
        config.floatX = old
    assert ini((6, 8)).dtype == np.dtype(old)


def test_normal_statistics(floatX64):
    W = init.Normal(std=0.5, mean=2.0)((500, 400))
    assert W.mean() == pytest.approx(2.0, abs=0.005)
    assert W.std() == pytest.approx(0.5, rel=0.01)
    W = init.Normal()((500, 400))
    assert W.mean() == pytest.approx(0.0, abs=1e-4)
    assert W.std() == pytest.approx(0.01, rel=0.01)


def test_normal_int_and_4d_shapes():
    assert init.Normal()(7).shape == (7,)
    assert init.Normal()((2, 3, 4, 5)).shape == (2, 3, 4, 5)


def test_uniform_float_range(floatX64):
    W = init.Uniform(0.3)((400, 500))
    assert W.min() >= -0.3 and W.max() < 0.3
    assert W.min() < -0.299 and W.max() > 0.299
    assert W.mean() == pytest.approx(0.0, abs=0.003)
    assert init.Uniform().range == (-0.01, 0.01)


def test_uniform_tuple_range(floatX64):
    W = init.Uniform((1.0, 4.0))((400, 500))
    assert W.min() >= 1.0 and W.max() < 4.0
    assert W.mean() == pytest.approx(2.5, abs=0.01)
    assert init.Uniform([1.0, 4.0]).range == (1.0, 4.0)


def test_uniform_std_overrides_range(floatX64):
    u = init.Uniform(range=100.0, std=0.2, mean=1.0)
    assert u.range == pytest.approx((1.0 - np.sqrt(3) * 0.2, 1.0 + np.sqrt(3) * 0.2))
    W = u((400, 500))
    assert W.mean() == pytest.approx(1.0, abs=0.003)
    assert W.std() == pytest.approx(0.2, rel=0.01)


def test_uniform_bad_range():
    with pytest.raises(ValueError, match="pair"):
        init.Uniform((1.0, 2.0, 3.0))


def test_constant():
    np.testing.assert_array_equal(init.Constant()((3, 2)), np.zeros((3, 2)))
    W = init.Constant(-2.5)((4, 1, 2))
    assert W.shape == (4, 1, 2) and np.all(W == -2.5)
    assert init.Constant(1.0)(5).shape == (5,)


# Expected std for Glorot: gain * sqrt(2 / ((n1 + n2) * receptive_field)).
@pytest.mark.parametrize("shape, c01b, fans", [
    ((300, 500), False, (300, 500, 1)),
    ((40, 30, 5, 5), False, (40, 30, 25)),
    ((30, 3, 4, 50), True, (30, 50, 12)),
    ((8, 10, 3, 3, 3), False, (8, 10, 27)),
])
@pytest.mark.parametrize("gain", [1.0, "relu", 0.5])
def test_glorot_normal_std(floatX64, shape, c01b, fans, gain):
    n1, n2, rf = fans
    g = np.sqrt(2) if gain == "relu" else gain
    expected = g * np.sqrt(2.0 / ((n1 + n2) * rf))
    W = init.GlorotNormal(gain=gain, c01b=c01b)(shape)
    assert W.shape == shape
    assert W.std() == pytest.approx(expected, rel=0.03)
    assert abs(W.mean()) < 0.05 * expected


def test_glorot_uniform_bound(floatX64):
    # Lasagne's note: gain='relu' with Uniform gives a = sqrt(12 / (fan_in + fan_out)).
    W = init.GlorotUniform("relu")((300, 500))
    a = np.sqrt(12.0 / 800)
    assert np.abs(W).max() <= a
    assert np.abs(W).max() > 0.99 * a
    assert W.std() == pytest.approx(np.sqrt(2) * np.sqrt(2.0 / 800), rel=0.02)


def test_glorot_passes_std_to_initializer():
    seen = {}

    class Spy(init.Initializer):
        def __init__(self, std):
            seen["std"] = std

        def sample(self, shape):
            return np.zeros(shape)

    init.Glorot(Spy, gain=2.0)((10, 20, 3))
    assert seen["std"] == pytest.approx(2.0 * np.sqrt(2.0 / (30 * 3)))
    init.He(Spy, gain=3.0)((10, 20, 3))
    assert seen["std"] == pytest.approx(3.0 * np.sqrt(1.0 / 60))


def test_gain_relu_is_sqrt2():
    for cls in (init.GlorotNormal, init.GlorotUniform, init.HeNormal, init.HeUniform):
        assert cls(gain="relu").gain == pytest.approx(np.sqrt(2))
    assert init.Orthogonal("relu").gain == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="relu"):
        init.GlorotUniform(gain="tanh")


@pytest.mark.parametrize("shape, c01b, fan_in", [
    ((400, 300), False, 400),
    ((64, 20, 5, 5), False, 500),
    ((10, 6, 5, 32), True, 300),
    ((7, 3, 4, 5, 6), False, 360),
])
@pytest.mark.parametrize("gain", [1.0, "relu"])
def test_he_normal_std(floatX64, shape, c01b, fan_in, gain):
    g = np.sqrt(2) if gain == "relu" else gain
    W = init.HeNormal(gain=gain, c01b=c01b)(shape)
    assert W.shape == shape
    assert W.std() == pytest.approx(g * np.sqrt(1.0 / fan_in), rel=0.03)


def test_he_uniform_bound(floatX64):
    W = init.HeUniform()((400, 300))
    a = np.sqrt(3.0 / 400)
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.99 * a


@pytest.mark.parametrize("cls", [init.GlorotNormal, init.GlorotUniform,
                                 init.HeNormal, init.HeUniform])
@pytest.mark.parametrize("shape", [(5,), 5, ()])
def test_fan_initializers_need_two_axes(cls, shape):
    with pytest.raises(RuntimeError, match="only works with shapes of length >= 2"):
        cls()(shape)


@pytest.mark.parametrize("cls", [init.GlorotNormal, init.GlorotUniform,
                                 init.HeNormal, init.HeUniform])
@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 4), (2, 3, 4, 5, 6)])
def test_c01b_needs_four_axes(cls, shape):
    with pytest.raises(RuntimeError, match="c01b is True, only shapes of length 4"):
        cls(c01b=True)(shape)


def test_sparse_exact_nonzeros_per_column(floatX64):
    W = init.Sparse(sparsity=0.2, std=0.5)((250, 40))
    np.testing.assert_array_equal((W != 0).sum(axis=0), np.full(40, 50))
    nz = W[W != 0]
    assert nz.std() == pytest.approx(0.5, rel=0.05)
    assert abs(nz.mean()) < 0.05


def test_sparse_defaults_and_rounding_down():
    W = init.Sparse()((35, 7))  # int(0.1 * 35) == 3
    np.testing.assert_array_equal((W != 0).sum(axis=0), np.full(7, 3))
    assert np.all(init.Sparse(sparsity=0.0)((10, 3)) == 0)
    assert np.all(init.Sparse(sparsity=1.0)((10, 3)) != 0)


def test_sparse_rows_vary_between_columns():
    W = init.Sparse(sparsity=0.1)((100, 20))
    patterns = {tuple(np.flatnonzero(W[:, k])) for k in range(20)}
    assert len(patterns) > 1


@pytest.mark.parametrize("shape", [(10,), (4, 5, 6), 10])
def test_sparse_only_2d(shape):
    with pytest.raises(NotImplementedError, match="length 2"):
        init.Sparse()(shape)


def test_sparse_bad_sparsity():
    with pytest.raises(ValueError, match="sparsity"):
        init.Sparse(sparsity=1.5)


def _flat(W):
    return W.reshape(W.shape[0], -1).astype(np.float64)


@pytest.mark.parametrize("shape", [(10, 10), (6, 15), (20, 3, 3, 3), (5, 2, 4)])
@pytest.mark.parametrize("gain", [1.0, "relu", 0.7])
def test_orthogonal_rows_orthonormal(shape, gain):
    g = np.sqrt(2) if gain == "relu" else gain
    W = init.Orthogonal(gain)(shape)
    assert W.shape == shape
    F = _flat(W)
    np.testing.assert_allclose(F @ F.T, g ** 2 * np.eye(shape[0]), atol=1e-5)


@pytest.mark.parametrize("shape", [(15, 6), (50, 2, 3)])
def test_orthogonal_tall_has_orthonormal_columns(shape):
    W = init.Orthogonal(2.0)(shape)
    F = _flat(W)
    np.testing.assert_allclose(F.T @ F, 4.0 * np.eye(F.shape[1]), atol=1e-5)


@pytest.mark.parametrize("shape", [(5,), 5, ()])
def test_orthogonal_needs_two_axes(shape):
    with pytest.raises(RuntimeError, match="length 2 or more"):
        init.Orthogonal()(shape)


def test_same_seed_same_draws():
    for ini in ALL:
        set_rng(np.random.RandomState(5))
        a = ini((9, 12))
        set_rng(np.random.RandomState(5))
        b = ini((9, 12))
        np.testing.assert_array_equal(a, b)


def test_draws_match_lasagne_recipe(floatX64):
    # Same generator calls, in the same order, as Lasagne: seeded models
    # built with Lasagne and with symnet start from the same weights.
    set_rng(np.random.RandomState(0))
    W = init.GlorotUniform()((4, 6))
    a = np.sqrt(6.0 / 10)
    expected = np.random.RandomState(0).uniform(low=-a, high=a, size=(4, 6))
    np.testing.assert_allclose(W, expected)
