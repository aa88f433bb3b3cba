"""A whole MLP training step (forward, gradients, SGD-momentum updates) on
mode='cuda' equals the py backend's, step after step."""
import numpy as np

import symnet
from symnet import tensor as T
from symnet import updates as U


def _mlp(mode, steps=3):
    rng = np.random.default_rng(1)
    w1 = symnet.shared(rng.normal(0, 0.5, (4, 5)).astype("float32"), name="w1")
    b1 = symnet.shared(np.zeros(5, "float32"), name="b1")
    w2 = symnet.shared(rng.normal(0, 0.5, (5, 3)).astype("float32"), name="w2")
    b2 = symnet.shared(np.zeros(3, "float32"), name="b2")
    x, y = T.fmatrix("x"), T.lvector("y")
    h = T.tanh(T.dot(x, w1) + b1)
    p = T.nnet.softmax(T.dot(h, w2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    acc = T.mean(T.eq(T.argmax(p, axis=1), y))
    params = [w1, b1, w2, b2]
    upd = U.momentum(loss, params, learning_rate=0.1, momentum=0.9)
    train = symnet.function([x, y], [loss, acc], updates=upd, mode=mode)
    xs = rng.normal(size=(6, 4)).astype("float32")
    ys = rng.integers(0, 3, size=6)
    history = [train(xs, ys) for _ in range(steps)]
    return history, [p.get_value() for p in params]


def test_mlp_training_step_on_cuda_equals_py():
    got, got_params = _mlp("cuda")
    want, want_params = _mlp("py")
    for (gl, ga), (wl, wa) in zip(got, want):
        np.testing.assert_allclose(gl, wl, rtol=1e-5)
        assert ga == wa
        assert np.asarray(gl).dtype == np.asarray(wl).dtype
    for g, w in zip(got_params, want_params):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert got[-1][0] < got[0][0]     # it learns


def _cnn(mode, steps=2):
    from symnet.tensor.nnet import conv2d
    from symnet.tensor.signal.pool import pool_2d
    rng = np.random.default_rng(2)
    w = symnet.shared(rng.normal(0, 0.3, (2, 1, 3, 3)), name="w")
    d = symnet.shared(rng.normal(0, 0.3, (8, 3)), name="d")
    x, y = T.dtensor4("x"), T.lvector("y")
    h = pool_2d(T.maximum(conv2d(x, w), 0), ws=(2, 2), ignore_border=True)
    p = T.nnet.softmax(T.dot(h.flatten(2), d))
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    train = symnet.function([x, y], loss, updates=U.sgd(loss, [w, d], 0.5), mode=mode)
    xs, ys = rng.normal(size=(2, 1, 6, 6)), np.array([0, 2])
    return [train(xs, ys) for _ in range(steps)], [w.get_value(), d.get_value()]


def test_cnn_training_step_on_cuda_equals_py():
    got, got_params = _cnn("cuda")
    want, want_params = _cnn("py")
    np.testing.assert_allclose(got, want, rtol=1e-10)
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
