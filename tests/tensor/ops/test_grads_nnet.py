"""Gradients of the neural-network ops (softmax, log_softmax, the
crossentropies, relu/elu/softplus) against finite differences, to second
order for softmax-crossentropy."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad

nnet = T.nnet


def check(fun, *pts):
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in pts], n_tests=2,
                rng=np.random.RandomState(0), mode="py")


RNG = np.random.RandomState(0)
X = RNG.uniform(-2, 2, (3, 4))


@pytest.mark.parametrize("shape", [(4,), (3, 4), (1, 4)])
def test_softmax_log_softmax(shape):
    x = RNG.uniform(-2, 2, shape)
    check(nnet.softmax, x)
    check(nnet.log_softmax, x)
    check(lambda v: nnet.softmax(v) * v, x)  # input used twice


def test_softmax_axis():
    check(lambda v: nnet.softmax(v, axis=0), X)
    check(lambda v: nnet.log_softmax(v, axis=0), X)


def test_crossentropies():
    labels = np.array([0, 3, 1])
    onehot = np.eye(4)[labels]
    check(lambda v: nnet.categorical_crossentropy(nnet.softmax(v), T.constant(labels)), X)
    check(lambda v: nnet.categorical_crossentropy(nnet.softmax(v), T.constant(onehot)), X)
    # gradient with respect to the (soft) targets too
    check(lambda v, t: nnet.categorical_crossentropy(nnet.softmax(v), t), X,
          nnet_softmax_np(X[::-1]))
    p = RNG.uniform(0.1, 0.9, (3, 4))
    t = RNG.uniform(0, 1, (3, 4))
    check(nnet.binary_crossentropy, p, t)
    check(lambda v: nnet.binary_crossentropy(nnet.sigmoid(v), T.constant(t)), X)


def nnet_softmax_np(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_softmax_crossentropy_second_order():
    labels = T.constant(np.array([2, 0, 1]))

    def first(v):
        cost = T.mean(nnet.categorical_crossentropy(nnet.softmax(v), labels))
        return T.grad(cost, v)
    check(first, X)
    x = T.dmatrix("x")
    g = symnet.function([x], first(x), mode="py")(X)
    np.testing.assert_allclose(g, (nnet_softmax_np(X) - np.eye(4)[[2, 0, 1]]) / 3, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "elu", "softplus", "sigmoid"])
def test_activations(name):
    x = RNG.uniform(0.1, 2, (3, 4)) * RNG.choice([-1, 1], (3, 4))
    check(getattr(nnet, name), x)


def test_leaky_relu():
    x = RNG.uniform(0.1, 2, (3, 4)) * RNG.choice([-1, 1], (3, 4))
    check(lambda v: nnet.relu(v, 0.1), x)


def test_relu_at_zero_is_half():
    x = T.dvector("x")
    g = symnet.function([x], T.grad(T.sum(nnet.relu(x)), x), mode="py")
    np.testing.assert_array_equal(g(np.array([0.0, -1.0, 1.0])), [0.5, 0.0, 1.0])
