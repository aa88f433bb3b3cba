"""Gradients of the shape ops: reshape/flatten, concatenate/stack, alloc,
tile, repeat, the broadcast-pattern ops, and the (disconnected) shape."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.gradient import DisconnectedInputError, verify_grad
from tests.oracles import examples

SETTINGS = settings(max_examples=examples(10), deadline=None, derandomize=True)


def check(fun, *pts):
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in pts], n_tests=1,
                rng=np.random.RandomState(0), mode="py")


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2 ** 16))
def test_reshape_flatten(shape, seed):
    x = np.random.RandomState(seed).uniform(-1, 1, shape)
    n = x.size
    check(lambda v: T.reshape(v, (n,)) * T.reshape(v, (n,))[::-1], x)
    check(lambda v: T.tanh(T.reshape(v, (1, n, 1))), x)
    check(lambda v: T.reshape(v, (-1, shape[-1])) ** 2, x)
    check(lambda v: T.flatten(v, 1) ** 3, x)
    if x.ndim >= 2:
        check(lambda v: T.flatten(v, 2) * 2.0, x)
    # symbolic target shape
    check(lambda v: T.reshape(v * 3, v.shape[::-1]), x)


@SETTINGS
@given(sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3), axis=st.integers(0, 1),
       seed=st.integers(0, 2 ** 16))
def test_concatenate(sizes, axis, seed):
    rng = np.random.RandomState(seed)
    parts = [rng.uniform(-1, 1, (s, 2) if axis == 0 else (2, s)) for s in sizes]
    check(lambda *vs: T.concatenate(list(vs), axis=axis) ** 2, *parts)
    # one input used twice
    check(lambda a: T.concatenate([a, a * 2], axis=axis), parts[0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(axis):
    rng = np.random.RandomState(0)
    a, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    check(lambda x, y: T.stack([x, y, x * y], axis=axis) ** 2, a, b)


def test_alloc_and_fill():
    rng = np.random.RandomState(1)
    check(lambda v: T.alloc(v, 3, 4) ** 2, rng.uniform(-1, 1, (4,)))
    check(lambda v: T.alloc(v, 2, 3, 4), rng.uniform(-1, 1, (1, 4)))
    check(lambda v: T.alloc(v, 2, 3) * 3, rng.uniform(-1, 1, ()))
    check(lambda v: T.alloc(v, 2, 3), rng.uniform(-1, 1, (2, 3)))
    check(lambda v: T.zeros_like(v) + v ** 2, rng.uniform(-1, 1, (2, 3)))


@pytest.mark.parametrize("reps", [(2,), (1, 3), (2, 2), (3, 1, 2)])
def test_tile(reps):
    x = np.random.RandomState(2).uniform(-1, 1, (2, 3))
    check(lambda v: T.tile(v, reps) ** 2, x)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("repeats", [1, 3])
def test_repeat(axis, repeats):
    x = np.random.RandomState(3).uniform(-1, 1, (2, 3))
    check(lambda v: T.repeat(v, repeats, axis=axis) ** 2, x)


def test_broadcast_pattern_ops():
    x = np.random.RandomState(4).uniform(-1, 1, (1, 3))
    check(lambda v: T.unbroadcast(v, 0) * 2, x)
    check(lambda v: T.addbroadcast(T.unbroadcast(v, 0), 0).dimshuffle(1) ** 2, x)
    check(lambda v: T.shape_padleft(v) * T.shape_padright(v, 2).dimshuffle(3, 2, 1, 0), x)
    check(lambda v: T.squeeze(v) ** 2, x)


def test_make_vector():
    x, y = T.dscalars("x", "y")
    v = T.make_vector([x, y * 2, x * y])
    gx, gy = T.grad(T.sum(v ** 2), [x, y])
    f = symnet.function([x, y], [gx, gy], mode="py")
    # d/dx (x^2 + 4y^2 + x^2 y^2) = 2x + 2xy^2 ; d/dy = 8y + 2x^2 y
    np.testing.assert_allclose(f(2.0, 3.0), [2 * 2 + 2 * 2 * 9, 8 * 3 + 2 * 4 * 3])


def test_shape_is_disconnected():
    x = T.dvector("x")
    cost = T.cast(x.shape[0], "float64") * 2.0
    with pytest.raises(DisconnectedInputError):
        T.grad(cost, x)
    g = T.grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(symnet.function([x], g, mode="py")(np.ones(3)), 0)
    # a shape used next to the values: only the values count
    cost = T.sum(x) / T.cast(x.shape[0], "float64")
    g = symnet.function([x], T.grad(cost, x), mode="py")
    np.testing.assert_allclose(g(np.ones(4)), np.full(4, 0.25))
