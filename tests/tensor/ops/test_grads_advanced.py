"""Gradients of advanced indexing (integer arrays, boolean masks), take,
sort and the cumulative ops."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad


def check(fun, *pts):
    verify_grad(fun, [np.asarray(p) if np.asarray(p).dtype.kind in "iub"
                      else np.asarray(p, dtype="float64") for p in pts], n_tests=1,
                rng=np.random.RandomState(0), mode="py")


RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (4, 3))


def test_integer_vector_index_accumulates_repeats():
    x = T.dvector("x")
    idx = T.lvector("idx")
    g = T.grad(T.sum(x[idx] * np.array([1.0, 2.0, 3.0, 4.0])), x)
    out = symnet.function([x, idx], g, mode="py")(np.zeros(3), np.array([0, 2, 0, 0]))
    np.testing.assert_allclose(out, [1 + 3 + 4, 0, 2])


@pytest.mark.parametrize("idx", [
    (np.array([0, 2, 2, 3]),),
    (slice(None), np.array([2, 0, 2])),
    (np.array([1, 1]), np.array([0, 2])),
    (np.array([[0, 1], [3, 3]]),),
])
def test_integer_array_indices(idx):
    check(lambda v: v[idx] ** 2, X)
    check(lambda v: T.sum(v[idx] * 3) + T.sum(v * v), X)


def test_symbolic_index_and_mask():
    check(lambda v, i: v[i] ** 2, X, np.array([3, 0, 3]))
    mask = X > 0
    check(lambda v: v[T.constant(mask)] ** 2, X)


@pytest.mark.parametrize("set_", [False, True])
def test_advanced_set_and_inc(set_):
    idx = np.array([0, 2])
    y = RNG.uniform(-1, 1, (2, 3))
    fn = T.set_subtensor if set_ else T.inc_subtensor
    check(lambda v, w: fn(v[idx], w) ** 2, X, y)


def test_take_sort_cumulative():
    check(lambda v: T.take(v, np.array([1, 1, 0]), axis=1) ** 2, X)
    check(lambda v: T.sort(v, axis=0) * np.arange(12.0).reshape(4, 3), X)
    check(lambda v: T.cumsum(v, axis=0) ** 2, X)
    check(lambda v: T.cumprod(v, axis=1), X)
