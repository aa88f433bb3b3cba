"""Gradients of the reductions: sum, mean, prod (with zeros), max/min,
var/std, against finite differences and exact values."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from tests.oracles import examples

SETTINGS = settings(max_examples=examples(15), deadline=None, derandomize=True)


def check(fun, *pts):
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in pts], n_tests=1,
                rng=np.random.RandomState(0), mode="py")


@st.composite
def shape_and_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    choice = draw(st.sampled_from(["none", "one", "many", "negative"]))
    if choice == "none":
        axis = None
    elif choice == "one":
        axis = draw(st.integers(0, len(shape) - 1))
    elif choice == "negative":
        axis = -1
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    return shape, axis, draw(st.booleans()), draw(st.integers(0, 2 ** 16))


@pytest.mark.parametrize("kind", ["sum", "mean", "prod", "max", "min", "var", "std"])
@SETTINGS
@given(args=shape_and_axis())
def test_reduction(kind, args):
    shape, axis, keepdims, seed = args
    rng = np.random.RandomState(seed)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    # distinct values so max/min have a unique argmax (smooth around it)
    x = x + np.arange(x.size).reshape(shape) * 1e-2
    n = np.prod(shape) if axis is None else np.prod([shape[a] for a in np.atleast_1d(axis)])
    if kind == "std" and n == 1:
        kind = "var"  # the std of one element sits on sqrt's kink at 0
    fn = getattr(T, kind)
    check(lambda v: fn(v, axis=axis, keepdims=keepdims), x)
    # used twice
    check(lambda v: fn(v * v, axis=axis, keepdims=keepdims) * 2 + T.sum(v), x)


def _grad(cost_fn, x0):
    x = T.TensorType("float64", shape=(None,) * x0.ndim)("x")
    return symnet.function([x], T.grad(cost_fn(x), x), mode="py")(x0)


def test_prod_with_zeros():
    # no zero: prod / x
    np.testing.assert_allclose(_grad(T.prod, np.array([2.0, 3.0, 4.0])), [12, 8, 6])
    # one zero: only the zero entry gets the product of the others
    np.testing.assert_allclose(_grad(T.prod, np.array([2.0, 0.0, 4.0])), [0, 8, 0])
    # two zeros (in a row): every gradient is zero
    np.testing.assert_allclose(_grad(T.prod, np.array([2.0, 0.0, 0.0, 5.0])), [0, 0, 0, 0])
    # along an axis: each row on its own
    x0 = np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [2.0, 3.0, 4.0]])
    g = _grad(lambda v: T.sum(T.prod(v, axis=1) * np.array([1.0, 2.0, 3.0])), x0)
    np.testing.assert_allclose(g, [[0, 3, 0], [0, 0, 0], [36, 24, 18]])
    # and finite differences around a point with one zero
    check(lambda v: T.prod(v, axis=0), np.array([[0.0, 1.5], [2.0, 0.7], [1.1, -1.3]]))


def test_max_min_route_to_argmax():
    x0 = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_allclose(_grad(T.max, x0), [[0, 0, 0], [1, 0, 0]])
    np.testing.assert_allclose(_grad(lambda v: T.sum(T.max(v, axis=1)), x0),
                               [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(_grad(lambda v: T.sum(T.min(v, axis=0)), x0),
                               [[1, 0, 1], [0, 1, 0]])


def test_mean_var_std_values():
    x0 = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    np.testing.assert_allclose(_grad(T.mean, x0), np.full((2, 3), 1 / 6))
    # d var / dx = 2 (x - mean) / n
    g = _grad(lambda v: T.sum(T.var(v, axis=1)), x0)
    np.testing.assert_allclose(g, 2 * (x0 - x0.mean(1, keepdims=True)) / 3)
    g = _grad(lambda v: T.sum(T.std(v, axis=0)), x0)
    std = x0.std(0)
    np.testing.assert_allclose(g, (x0 - x0.mean(0)) / (2 * std))
    check(lambda v: T.var(v, axis=1, ddof=1), x0)


def test_argmax_and_integer_reductions_are_not_errors():
    x = T.dmatrix("x")
    cost = T.sum(x) + T.cast(T.sum(T.argmax(x, axis=1)), "float64")
    g = symnet.function([x], T.grad(cost, x), mode="py")
    np.testing.assert_allclose(g(np.ones((2, 3))), np.ones((2, 3)))
    gz = T.grad(T.cast(T.argmax(x), "float64"), x)
    np.testing.assert_allclose(symnet.function([x], gz, mode="py")(np.ones((2, 2))), 0)
