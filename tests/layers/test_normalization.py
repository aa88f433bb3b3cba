"""BatchNormLayer and batch_norm."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (InputLayer, DenseLayer, BatchNormLayer, batch_norm,
                           NonlinearityLayer, ScaleLayer, get_output, get_all_params)

rng = np.random.RandomState(0)


def test_shapes_and_params():
    l = BatchNormLayer(InputLayer((None, 3, 4, 5)))
    assert l.axes == (0, 2, 3) and l.output_shape == (None, 3, 4, 5)
    assert [p.get_value().shape for p in l.get_params()] == [(3,)] * 4
    assert l.get_params(trainable=True) == [l.beta, l.gamma]
    assert l.get_params(regularizable=True) == [l.gamma]
    l2 = BatchNormLayer(InputLayer((None, 3, 4)), axes=(0, 1))
    assert l2.mean.get_value().shape == (4,)
    with pytest.raises(ValueError, match="needs specified input sizes"):
        BatchNormLayer(InputLayer((None, None, 4)))


def test_training_output_and_running_averages():
    x = T.tensor4("x")
    l = BatchNormLayer(InputLayer((None, 3, 4, 5), input_var=x), alpha=0.1,
                       beta=rng.randn(3).astype("float32"),
                       gamma=rng.rand(3).astype("float32") + 0.5)
    data = (rng.randn(6, 3, 4, 5) * 2 + 1).astype("float32")
    train = symnet.function([x], get_output(l), mode="py")
    out = train(data)
    mean = data.mean((0, 2, 3))
    inv_std = 1 / np.sqrt(data.var((0, 2, 3)) + 1e-4)
    pat = (None, slice(None), None, None)
    beta, gamma = l.beta.get_value(), l.gamma.get_value()
    ref = (data - mean[pat]) * (gamma * inv_std)[pat] + beta[pat]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    # the call moved the running averages 10% towards the batch statistics
    np.testing.assert_allclose(l.mean.get_value(), 0.1 * mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(l.inv_std.get_value(), 0.9 + 0.1 * inv_std, rtol=1e-4)
    train(data)
    np.testing.assert_allclose(l.mean.get_value(), 0.19 * mean, rtol=1e-4, atol=1e-6)

    # deterministic output uses the running averages and updates nothing
    test = symnet.function([x], get_output(l, deterministic=True), mode="py")
    m, s = l.mean.get_value(), l.inv_std.get_value()
    out_t = test(data)
    ref_t = (data - m[pat]) * (gamma * s)[pat] + beta[pat]
    np.testing.assert_allclose(out_t, ref_t, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(l.mean.get_value(), m)


def test_use_averages_flags():
    x = T.matrix("x")
    l = BatchNormLayer(InputLayer((None, 2), input_var=x), beta=None, gamma=None)
    data = np.array([[1., 2.], [3., 6.]], "float32")
    f = symnet.function([x], get_output(l, batch_norm_update_averages=False), mode="py")
    out = f(data)
    np.testing.assert_allclose(out, (data - data.mean(0)) / np.sqrt(data.var(0) + 1e-4),
                               rtol=1e-4)
    assert l.mean.get_value().tolist() == [0, 0]


def test_batch_norm_helper():
    d = DenseLayer(InputLayer((None, 4)), 3, name="d")
    l = batch_norm(d)
    assert isinstance(l, NonlinearityLayer) and l.name == "d_bn_nonlin"
    bn = l.input_layer
    assert isinstance(bn, BatchNormLayer) and bn.name == "d_bn"
    assert d.b is None and d.nonlinearity.__name__ == "linear"
    assert [p.name for p in get_all_params(l)] == ["d.W", "d_bn.beta", "d_bn.gamma",
                                                   "d_bn.mean", "d_bn.inv_std"]
    # nonlinearity=None is stored as the identity, which is moved like any other
    l2 = batch_norm(DenseLayer(InputLayer((None, 4)), 3, nonlinearity=None), name="bn")
    assert l2.name == "bn_nonlin" and l2.input_layer.name == "bn"
    l3 = batch_norm(ScaleLayer(InputLayer((None, 4))))
    assert isinstance(l3, BatchNormLayer) and l3.name is None


def test_local_response_normalization():
    from symnet.layers import LocalResponseNormalization2DLayer
    x = T.tensor4("x")
    l = LocalResponseNormalization2DLayer(InputLayer((None, 6, 3, 3), input_var=x),
                                          alpha=0.1, k=1.5, beta=0.75, n=3)
    data = rng.randn(2, 6, 3, 3).astype("float32")
    out = symnet.function([x], get_output(l), mode="py")(data)
    sq = np.pad(data ** 2, [(0, 0), (1, 1), (0, 0), (0, 0)])
    scale = 1.5 + 0.1 * sum(sq[:, i:i + 6] for i in range(3))
    np.testing.assert_allclose(out, data / scale ** 0.75, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="odd"):
        LocalResponseNormalization2DLayer((None, 6, 3, 3), n=4)
