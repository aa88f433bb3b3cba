"""NonlinearityLayer, BiasLayer, ScaleLayer, standardize, ExpressionLayer,
ParametricRectifierLayer and prelu."""
import numpy as np
import pytest

from symnet import nonlinearities
from symnet.layers import (InputLayer, DenseLayer, NonlinearityLayer, BiasLayer, ScaleLayer,
                           standardize, ExpressionLayer, ParametricRectifierLayer, prelu,
                           InverseLayer, RandomizedRectifierLayer, rrelu,
                           get_all_params)

from ._util import run

rng = np.random.RandomState(0)
X = rng.randn(2, 3, 4).astype("float32")


def test_nonlinearity_layer():
    l = NonlinearityLayer(InputLayer((None, 3, 4)))
    np.testing.assert_array_equal(run(l, X), np.maximum(X, 0))
    l2 = NonlinearityLayer(InputLayer((None, 3, 4)), nonlinearities.sigmoid)
    np.testing.assert_allclose(run(l2, X), 1 / (1 + np.exp(-X)), rtol=1e-5)
    l3 = NonlinearityLayer(InputLayer((None, 3, 4)), None)
    np.testing.assert_array_equal(run(l3, X), X)


def test_bias_layer():
    b = rng.randn(3).astype("float32")
    l = BiasLayer(InputLayer((None, 3, 4)), b=b)
    assert l.b.get_value().shape == (3,) and l.params[l.b] == {"trainable"}
    np.testing.assert_allclose(run(l, X), X + b[None, :, None], rtol=1e-6)
    b2 = rng.randn(3, 4).astype("float32")
    l2 = BiasLayer(InputLayer((None, 3, 4)), b=b2, shared_axes=0)
    np.testing.assert_allclose(run(l2, X), X + b2, rtol=1e-6)
    l3 = BiasLayer(InputLayer((None, 3, 4)), b=None)
    assert l3.get_params() == []
    np.testing.assert_array_equal(run(l3, X), X)
    with pytest.raises(ValueError, match="BiasLayer needs specified input sizes"):
        BiasLayer(InputLayer((None, None, 4)))


def test_scale_layer():
    s = rng.randn(4).astype("float32")
    l = ScaleLayer(InputLayer((None, 3, 4)), scales=s, shared_axes=(0, 1))
    np.testing.assert_allclose(run(l, X), X * s, rtol=1e-6)
    assert ScaleLayer(InputLayer((None, 3, 4))).scales.get_value().tolist() == [1, 1, 1]


def test_standardize():
    offset = np.array([1., 2., 3.], "float32")
    scale = np.array([2., 4., 8.], "float32")
    l = standardize(InputLayer((None, 3, 4)), offset, scale)
    ref = (X - offset[None, :, None]) / scale[None, :, None]
    np.testing.assert_allclose(run(l, X), ref, rtol=1e-5, atol=1e-6)
    assert len(get_all_params(l)) == 2
    assert get_all_params(l, trainable=True) == []
    assert get_all_params(l, regularizable=True) == []


def test_expression_layer():
    l_in = InputLayer((None, 3, 4))
    l = ExpressionLayer(l_in, lambda x: x.mean(-1))
    assert l.output_shape == (None, 3, 4)  # None: assumed unchanged
    la = ExpressionLayer(l_in, lambda x: x.mean(-1), output_shape="auto")
    assert la.output_shape == (None, 3)
    np.testing.assert_allclose(run(la, X), X.mean(-1), rtol=1e-5)
    lt = ExpressionLayer(l_in, lambda x: x[:, 0], output_shape=(None, 4))
    assert lt.output_shape == (None, 4)
    lc = ExpressionLayer(l_in, lambda x: x.sum(1), output_shape=lambda s: (s[0], s[2]))
    assert lc.output_shape == (None, 4)
    np.testing.assert_allclose(run(lc, X), X.sum(1), rtol=1e-5)


def test_prelu():
    alpha = rng.rand(3).astype("float32")
    l = ParametricRectifierLayer(InputLayer((None, 3, 4)), alpha=alpha)
    a = alpha[None, :, None]
    np.testing.assert_allclose(run(l, X), np.where(X > 0, X, a * X), rtol=1e-6)
    assert l.params[l.alpha] == {"trainable"}
    lall = ParametricRectifierLayer(InputLayer((None, 3, 4)), shared_axes="all")
    assert lall.alpha.get_value().shape == ()
    np.testing.assert_allclose(run(lall, X), np.where(X > 0, X, 0.25 * X), rtol=1e-6)
    d = DenseLayer(InputLayer((None, 4)), 3)
    p = prelu(d)
    assert isinstance(p, ParametricRectifierLayer) and d.nonlinearity is nonlinearities.identity
    assert p.alpha.get_value().shape == (3,)


def test_inverse_layer_of_dense_is_transpose():
    l_in = InputLayer((None, 4))
    d = DenseLayer(l_in, 3, nonlinearity=None)
    inv = InverseLayer(d, d)
    assert inv.output_shape == (None, 4)
    x = rng.randn(2, 4).astype("float32")
    W, b = d.W.get_value(), d.b.get_value()
    # d's output is fed back through the transposed weights
    np.testing.assert_allclose(run(inv, x), (x @ W + b) @ W.T, rtol=1e-5, atol=1e-5)


def test_randomized_rectifier():
    l = RandomizedRectifierLayer(InputLayer((None, 3, 50)), lower=0.1, upper=0.3)
    x = -np.ones((2, 3, 50), "float32")
    det = run(l, x, deterministic=True)
    np.testing.assert_allclose(det, -0.2 * np.ones_like(x), rtol=1e-6)
    out = run(l, x)
    slopes = -out
    assert (slopes >= 0.1).all() and (slopes <= 0.3).all()
    # one slope per channel: shared over axes 0 and 2
    assert (slopes.min((0, 2)) == slopes.max((0, 2))).all()
    assert not np.allclose(slopes[0, 0, 0], slopes[0, 1, 0])
    np.testing.assert_array_equal(run(l, -x), -x)  # positive part unchanged
    with pytest.raises(ValueError, match="lower <= upper"):
        RandomizedRectifierLayer((None, 3), lower=0.5, upper=0.1)
    d = DenseLayer(InputLayer((None, 4)), 3)
    assert isinstance(rrelu(d), RandomizedRectifierLayer) and d.nonlinearity.__name__ == "linear"
