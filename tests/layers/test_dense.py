"""DenseLayer and NINLayer against numpy."""
import numpy as np
import pytest

import symnet
from symnet import init, nonlinearities
from symnet.layers import InputLayer, DenseLayer, NINLayer, get_output_shape

from ._util import run


def test_dense_values_and_shapes():
    rng = np.random.RandomState(0)
    l_in = InputLayer((None, 3, 4))
    l = DenseLayer(l_in, 5)
    assert l.output_shape == (None, 5)
    assert l.W.get_value().shape == (12, 5) and l.b.get_value().shape == (5,)
    assert l.W.name == "W" and l.params[l.b] == {"trainable"}
    x = rng.randn(2, 3, 4).astype("float32")
    out = run(l, x)
    W, b = l.W.get_value(), l.b.get_value()
    np.testing.assert_allclose(out, np.maximum(x.reshape(2, 12) @ W + b, 0), rtol=1e-5,
                               atol=1e-6)
    assert out.dtype == np.float32
    assert get_output_shape(l, (7, 3, 4)) == (7, 5)


def test_dense_num_leading_axes_and_identity():
    rng = np.random.RandomState(1)
    l = DenseLayer(InputLayer((None, 6, 4, 2)), 3, num_leading_axes=2, nonlinearity=None,
                   b=None)
    assert l.output_shape == (None, 6, 3) and l.b is None
    assert l.W.get_value().shape == (8, 3)
    x = rng.randn(2, 6, 4, 2).astype("float32")
    np.testing.assert_allclose(run(l, x), x.reshape(2, 6, 8) @ l.W.get_value(), rtol=1e-5,
                               atol=1e-6)
    l2 = DenseLayer(InputLayer((None, 6, 4)), 3, num_leading_axes=-1)
    assert l2.output_shape == (None, 6, 3)


def test_dense_errors():
    with pytest.raises(ValueError, match="requires a fixed input shape"):
        DenseLayer(InputLayer((None, None)), 3)
    with pytest.raises(ValueError, match="num_leading_axes=2"):
        DenseLayer(InputLayer((None, 4)), 3, num_leading_axes=2)
    with pytest.raises(ValueError, match="num_leading_axes=-3"):
        DenseLayer(InputLayer((None, 4)), 3, num_leading_axes=-3)
    with pytest.raises(ValueError, match=r"DenseLayer 'd'.*d.W.*\(5, 3\), should be \(4, 3\)"):
        DenseLayer(InputLayer((None, 4)), 3, W=np.ones((5, 3)), name="d")


def test_dense_param_specs():
    l_in = InputLayer((None, 4))
    W = symnet.shared(np.ones((4, 3), "float32"))
    assert DenseLayer(l_in, 3, W=W).W is W
    arr = np.random.RandomState(0).randn(4, 3)
    l = DenseLayer(l_in, 3, W=arr)
    np.testing.assert_array_equal(l.W.get_value(), arr)
    l = DenseLayer(l_in, 3, W=init.Constant(2.0), b=lambda shp: np.arange(3.0))
    np.testing.assert_array_equal(l.W.get_value(), np.full((4, 3), 2.0))
    np.testing.assert_array_equal(l.b.get_value(), np.arange(3.0))


def test_dense_nonlinearity():
    l = DenseLayer(InputLayer((None, 2)), 2, W=np.eye(2, dtype="float32"),
                   nonlinearity=nonlinearities.tanh)
    x = np.array([[1.0, -2.0]], "float32")
    np.testing.assert_allclose(run(l, x), np.tanh(x), rtol=1e-6)


def test_nin_layer():
    rng = np.random.RandomState(2)
    l = NINLayer(InputLayer((None, 3, 4, 5)), 6, nonlinearity=None)
    assert l.output_shape == (None, 6, 4, 5)
    l.b.set_value(rng.randn(6).astype("float32"))
    x = rng.randn(2, 3, 4, 5).astype("float32")
    W, b = l.W.get_value(), l.b.get_value()
    ref = np.einsum("bcij,cu->buij", x, W) + b[None, :, None, None]
    np.testing.assert_allclose(run(l, x), ref, rtol=1e-5, atol=1e-5)
    lu = NINLayer(InputLayer((None, 3, 4, 5)), 2, untie_biases=True,
                  b=rng.randn(2, 4, 5).astype("float32"))
    assert lu.b.get_value().shape == (2, 4, 5)
    ref = np.maximum(np.einsum("bcij,cu->buij", x, lu.W.get_value()) + lu.b.get_value(), 0)
    np.testing.assert_allclose(run(lu, x), ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="channels"):
        NINLayer(InputLayer((None, None, 4)), 2)
