"""Every code example of the founding documents, with ``lasagne`` and
``theano`` read as ``symnet`` (seeds/lasagne-layers-guide.txt and
seeds/expressions-as-layer-parameters.txt)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import layers
from symnet.init import GlorotUniform, Normal
from symnet.layers import InputLayer, DenseLayer, get_all_params, count_params
from symnet.utils import floatX


def compile_(inputs, outputs, **kw):
    return symnet.function(inputs, outputs, mode="py", **kw)


# -- lasagne-layers-guide.txt ----------------------------------------------

@pytest.fixture
def mlp():
    l_in = layers.InputLayer((100, 50))
    l_hidden = layers.DenseLayer(l_in, num_units=200)
    l_out = layers.DenseLayer(l_hidden, num_units=10, nonlinearity=T.nnet.softmax)
    return l_in, l_hidden, l_out


def test_guide_mlp_and_propagation(mlp):
    l_in, l_hidden, l_out = mlp
    assert l_hidden.nonlinearity.__name__ == "rectify"  # the default
    data = np.random.RandomState(0).randn(100, 50).astype("float32")
    y = layers.get_output(l_out)
    f = compile_([l_in.input_var], layers.get_output(l_out))
    out = f(data)
    assert out.shape == (100, 10)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)
    x = T.matrix("x")
    y = layers.get_output(l_out, x)
    f2 = compile_([x], y)
    np.testing.assert_allclose(f2(data), out, rtol=1e-6)
    y = layers.get_output(l_out, deterministic=True)
    np.testing.assert_allclose(compile_([l_in.input_var], y)(data), out, rtol=1e-6)


def test_guide_naming_and_initialization(mlp):
    l_in = mlp[0]
    l_hidden = layers.DenseLayer(l_in, num_units=200, name="hidden_layer")
    assert l_hidden.name == "hidden_layer" and l_hidden.W.name == "hidden_layer.W"
    l = layers.DenseLayer(l_in, num_units=100, W=symnet.init.Normal(0.01))
    assert abs(l.W.get_value().std() - 0.01) < 0.002
    W = symnet.shared(np.random.normal(0, 0.01, (50, 100)))
    l = layers.DenseLayer(l_in, num_units=100, W=W)
    assert l.W is W
    W_init = np.random.normal(0, 0.01, (50, 100))
    l = layers.DenseLayer(l_in, num_units=100, W=W_init)
    np.testing.assert_array_equal(l.W.get_value(), W_init)

    def init_W(shape):
        return np.random.normal(0, 0.01, shape)
    l = layers.DenseLayer(l_in, num_units=100, W=init_W)
    assert l.W.get_value().shape == (50, 100)
    l = layers.DenseLayer(l_in, num_units=100, b=None)
    assert l.b is None and l.get_params() == [l.W]
    l1 = layers.DenseLayer(l_in, num_units=100)
    l2 = layers.DenseLayer(l_in, num_units=100, W=l1.W)
    assert l2.W is l1.W and l2.b is not l1.b


def test_guide_two_inputs_dict():
    l_in1, l_in2 = layers.InputLayer((None, 3)), layers.InputLayer((None, 4))
    l_out = layers.DenseLayer(layers.ConcatLayer([l_in1, l_in2]), 2, nonlinearity=None)
    x1 = T.matrix("x1")
    x2 = T.matrix("x2")
    y = layers.get_output(l_out, {l_in1: x1, l_in2: x2})
    a, b = np.ones((5, 3), "float32"), np.ones((5, 4), "float32")
    ref = np.concatenate([a, b], 1) @ l_out.W.get_value()
    np.testing.assert_allclose(compile_([x1, x2], y)(a, b), ref, rtol=1e-5)


def test_guide_multiple_outputs_share_one_pass():
    l_in = layers.InputLayer((None, 200))
    l_drop = layers.DropoutLayer(l_in, p=0.5)
    l_out1 = layers.NonlinearityLayer(l_drop, None)
    l_out2 = layers.ExpressionLayer(l_drop, lambda v: 2 * v)
    y1, y2 = layers.get_output([l_out1, l_out2])
    o1, o2 = compile_([l_in.input_var], [y1, y2])(np.ones((3, 200), "float32"))
    np.testing.assert_array_equal(2 * o1, o2)  # the same dropout mask
    y1 = layers.get_output(l_out1)
    y2 = layers.get_output(l_out2)
    o1, o2 = compile_([l_in.input_var], [y1, y2])(np.ones((3, 200), "float32"))
    assert not np.array_equal(2 * o1, o2)  # separate calls: separate samples


# -- expressions-as-layer-parameters.txt -----------------------------------

batch_size = 64


@pytest.fixture
def l1():
    return InputLayer((batch_size, 784))


def _data():
    rng = np.random.RandomState(42)
    return rng.rand(batch_size, 784).astype("float32")


def test_default_and_weight_sharing(l1):
    l2 = DenseLayer(l1, num_units=500)
    assert l2.output_shape == (64, 500)
    l3 = DenseLayer(l1, num_units=500, W=l2.W)
    assert l3.W is l2.W
    assert get_all_params([l2, l3]) == [l2.W, l2.b, l3.b]


def test_tied_autoencoder(l1):
    l2 = DenseLayer(l1, num_units=500)
    l3 = DenseLayer(l2, num_units=784, W=l2.W.T)
    assert l3.output_shape == (64, 784)
    assert get_all_params(l3) == [l2.W, l2.b, l3.b]
    assert l3.get_params(unwrap_shared=False)[0] is l3.W
    assert get_all_params(l3, unwrap_shared=False) == [l2.W, l2.b, l3.W, l3.b]
    assert count_params(l3) == 784 * 500 + 500 + 784
    x = _data()
    out = compile_([l1.input_var], layers.get_output(l3))(x)
    W = l2.W.get_value()
    h = np.maximum(x @ W + l2.b.get_value(), 0)
    np.testing.assert_allclose(out, np.maximum(h @ W.T, 0), rtol=1e-4, atol=1e-4)
    # the gradient of the decoder reaches the encoder's shared W
    loss = T.sqr(layers.get_output(l3) - l1.input_var).mean()
    g = symnet.grad(loss, l2.W)
    assert compile_([l1.input_var], g)(x).shape == (784, 500)


def test_tied_wrong_shape_is_a_build_time_error(l1):
    l2 = DenseLayer(l1, num_units=500)
    with pytest.raises(ValueError, match=r"\(500, 784\)"):
        DenseLayer(l2, num_units=784, W=l2.W)


def _sgd_lowers_loss(l1, out_layer, steps=3, lr=0.05):
    x = _data()
    target = x[:, :out_layer.output_shape[1]]
    loss = T.sqr(layers.get_output(out_layer) - target).mean()
    params = get_all_params(out_layer, trainable=True)
    grads = symnet.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    train = compile_([l1.input_var], loss, updates=updates)
    losses = [float(train(x)) for _ in range(steps)]
    assert losses[-1] < losses[0], losses
    return params


def test_factorized_weights(l1):
    w_init = GlorotUniform()
    w1 = symnet.shared(floatX(w_init((784, 100))))
    w2 = symnet.shared(floatX(w_init((100, 500))))
    l2 = DenseLayer(l1, num_units=500, W=T.dot(w1, w2))
    assert get_all_params(l2) == [w1, w2, l2.b]
    assert count_params(l2) == 128400 + 500
    assert count_params(l2, regularizable=True) == 128400
    old = w1.get_value()
    _sgd_lowers_loss(l1, l2)
    assert not np.array_equal(w1.get_value(), old)  # trained through the product
    l2_a = DenseLayer(l1, num_units=100, b=None, nonlinearity=None)
    l2 = DenseLayer(l2_a, num_units=500)
    assert count_params(l2) == 128400 + 500


def test_positive_weights(l1):
    w = symnet.shared(floatX(Normal(0.01, mean=-10)((784, 500))))
    l2 = DenseLayer(l1, num_units=500, W=T.exp(w))
    assert get_all_params(l2) == [w, l2.b]
    W = compile_([], l2.W)()
    assert (W > 0).all()
    np.testing.assert_allclose(W, np.exp(w.get_value()), rtol=1e-5)
    l2s = DenseLayer(l1, num_units=500, W=T.softplus(w))
    assert (compile_([], l2s.W)() > 0).all()
    g = symnet.grad(layers.get_output(l2).sum(), w)
    assert np.abs(compile_([l1.input_var], g)(_data())).sum() > 0


def test_positive_semidefinite_weights(l1):
    w_init = GlorotUniform()
    l2 = DenseLayer(l1, num_units=500)
    w = symnet.shared(floatX(w_init((500, 500))))
    w_psd = T.dot(w, w.T)
    l3 = DenseLayer(l2, num_units=500, W=w_psd)
    assert get_all_params(l3) == [l2.W, l2.b, w, l3.b]
    W = compile_([], l3.W)().astype("float64")
    np.testing.assert_allclose(W, W.T, atol=1e-6)
    assert np.linalg.eigvalsh(W).min() >= -1e-5
    params = _sgd_lowers_loss(l1, l3)
    assert w in params
