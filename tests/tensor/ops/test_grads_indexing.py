"""Gradients of basic indexing: slices, integer indices, symbolic indices,
set_subtensor and inc_subtensor (with broadcasting values)."""
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


index_parts = st.one_of(
    st.builds(slice, st.one_of(st.none(), st.integers(-4, 4)),
              st.one_of(st.none(), st.integers(-4, 4)),
              st.one_of(st.none(), st.sampled_from([1, 2, -1, -2]))),
    st.integers(-3, 2))


@SETTINGS
@given(idx=st.lists(index_parts, min_size=1, max_size=2).map(tuple),
       seed=st.integers(0, 2 ** 16))
def test_basic_slicing(idx, seed):
    x = np.random.RandomState(seed).uniform(-1, 1, (3, 4))
    if x[idx].size == 0:
        idx = idx + (slice(None),) if len(idx) < 2 else (slice(None),)
    check(lambda v: v[idx] ** 2, x)
    # the input also used outside the slice
    check(lambda v: T.sum(v[idx] * 3) + T.sum(v * v), x)


def test_symbolic_indices():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    cost = T.sum(x[i, 1:] ** 2) + T.sum(x[:i] * 2)
    g = symnet.function([x, i], T.grad(cost, x), mode="py")
    xv = np.arange(12.0).reshape(3, 4)
    expect = np.zeros((3, 4))
    expect[1, 1:] = 2 * xv[1, 1:]
    expect[:1] += 2
    np.testing.assert_allclose(g(xv, 1), expect)


@pytest.mark.parametrize("inc", [False, True])
@pytest.mark.parametrize("idx,yshape", [
    ((slice(1, 3),), (2, 4)),        # a block of rows
    ((slice(None), 1), (3,)),        # a column
    ((0,), (4,)),                    # a row
    ((slice(None, None, 2),), (1, 4)),  # broadcasting value
    ((slice(1, 3), slice(0, 2)), ()),   # scalar value broadcast to a block
])
def test_set_and_inc_subtensor(inc, idx, yshape):
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, (3, 4))
    y = rng.uniform(-1, 1, yshape)
    fn = T.inc_subtensor if inc else T.set_subtensor
    check(lambda a, b: fn(a[idx], b) ** 2, x, y)
    check(lambda a, b: fn(a[idx], b * a[idx]), x, y)


def test_set_subtensor_blocks_gradient_to_overwritten_part():
    x, y = T.dvector("x"), T.dvector("y")
    out = T.set_subtensor(x[1:3], y)
    gx, gy = T.grad(T.sum(out * np.arange(1.0, 5.0)), [x, y])
    f = symnet.function([x, y], [gx, gy], mode="py")
    gxv, gyv = f(np.zeros(4), np.zeros(2))
    np.testing.assert_array_equal(gxv, [1, 0, 0, 4])
    np.testing.assert_array_equal(gyv, [2, 3])

