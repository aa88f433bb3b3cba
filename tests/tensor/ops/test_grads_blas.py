"""Gradients of dot (every 1-D/2-D combination), outer, tensordot and
batched_dot against finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from tests.oracles import examples

SETTINGS = settings(max_examples=examples(10), deadline=None, derandomize=True)


def check(fun, *pts):
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in pts], n_tests=1,
                rng=np.random.RandomState(0), mode="py")


@pytest.mark.parametrize("xnd,ynd", [(1, 1), (1, 2), (2, 1), (2, 2)])
@SETTINGS
@given(m=st.integers(1, 3), k=st.integers(1, 4), n=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16))
def test_dot(xnd, ynd, m, k, n, seed):
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, (m, k) if xnd == 2 else (k,))
    y = rng.uniform(-1, 1, (k, n) if ynd == 2 else (k,))
    check(T.dot, x, y)
    if x.shape == y.shape[::-1] or (xnd == 1 and ynd == 1):
        check(lambda a: T.dot(a, a.T) if xnd == 2 else T.dot(a, a), x)


def test_dot_with_scalar_and_outer():
    rng = np.random.RandomState(1)
    check(T.dot, rng.uniform(-1, 1, ()), rng.uniform(-1, 1, (2, 3)))
    check(T.outer, rng.uniform(-1, 1, (3,)), rng.uniform(-1, 1, (4,)))
    check(lambda a, b: T.dot(a, b) + 0.0, rng.uniform(-1, 1, (2, 3, 4)),
          rng.uniform(-1, 1, (4, 2)))  # higher rank goes through tensordot


def test_dot_mixed_precision_gradient_dtypes():
    x = T.fmatrix("x")
    y = T.dmatrix("y")
    gx, gy = T.grad(T.sum(T.dot(x, y)), [x, y])
    assert (gx.dtype, gy.dtype) == ("float32", "float64")


@pytest.mark.parametrize("shapes,axes", [
    (((2, 3, 4), (3, 4, 5)), 2),
    (((2, 3, 4), (4, 5)), 1),
    (((2, 3), (3, 2)), [[0, 1], [1, 0]]),
    (((2, 3, 4), (5, 2, 3)), [[0, 1], [1, 2]]),
    (((3,), (3,)), 1),
    (((2, 3), (2, 3)), 0),
])
def test_tensordot(shapes, axes):
    rng = np.random.RandomState(2)
    a, b = (rng.uniform(-1, 1, s) for s in shapes)
    check(lambda u, v: T.tensordot(u, v, axes), a, b)
    check(lambda u: T.tensordot(u, u * 2, [list(range(u.ndim))] * 2), a)


@pytest.mark.parametrize("xs,ys", [((3, 2, 4), (3, 4, 5)), ((3, 4), (3, 4, 5)),
                                   ((3, 2, 4), (3, 4)), ((3, 4), (3, 4)),
                                   ((1, 2, 2), (1, 2, 2))])
def test_batched_dot(xs, ys):
    rng = np.random.RandomState(3)
    check(T.batched_dot, rng.uniform(-1, 1, xs), rng.uniform(-1, 1, ys))


def test_dot_chain_gradient_value():
    a, b, c = T.dmatrices("a", "b", "c")
    cost = T.sum(T.dot(T.dot(a, b), c))
    ga = T.grad(cost, a)
    rng = np.random.RandomState(4)
    av, bv, cv = rng.rand(2, 3), rng.rand(3, 4), rng.rand(4, 2)
    out = symnet.function([a, b, c], ga, mode="py")(av, bv, cv)
    np.testing.assert_allclose(out, np.ones((2, 2)) @ (bv @ cv).T)
