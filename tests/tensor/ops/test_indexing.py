"""Basic indexing against numpy: ints and slices (negative and symbolic
bounds, steps), set_subtensor / inc_subtensor, gradients, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from tests.oracles import check_op, examples, rand

CONST_INDICES = [1, -1, (0, 2), slice(1, None), slice(None, -1), slice(None, None, 2),
                 slice(None, None, -1), slice(-3, -1), (slice(None), 1), (1, slice(2, 0, -1)),
                 slice(10, 20), (slice(-100, 100), slice(None, None, -2))]


@pytest.mark.parametrize("idx", CONST_INDICES, ids=str)
def test_constant_index(idx):
    check_op(lambda x: x[idx], [rand((4, 5))], ref=lambda a: a[idx], grad=True)


def test_static_shapes():
    x = T.matrix("x", shape=(4, 5))
    assert x[1:3].type.shape == (2, 5)
    assert x[::-2, 1].type.shape == (2,)
    assert x[10:].type.shape == (0, 5)
    assert T.matrix("y")[:, 1:3].type.shape == (None, None)
    with pytest.raises(IndexError, match="out of bounds"):
        x[4]
    with pytest.raises(IndexError, match="too many"):
        x[0, 0, 0]


def test_symbolic_bounds():
    i, j = T.lscalar("i"), T.lscalar("j")
    x = T.matrix("x")
    f = symnet.function([x, i, j], [x[i:j], x[i], x[-j:, i], x[::j]], mode="py")
    a = rand((5, 4), x.dtype)
    for vi, vj in [(1, 3), (-3, 2), (0, 5), (2, 1), (-4, 4)]:
        got = f(a, vi, vj)
        want = [a[vi:vj], a[vi], a[-vj:, vi], a[::vj]]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_symbolic_bounds_oracle():
    check_op(lambda x, i: x[i:, :i], [rand((4, 5)), np.int64(2)],
             ref=lambda a, i: a[i:, :i], grad=True)
    check_op(lambda x, i: x[-i], [rand((4, 5)), np.int32(1)], ref=lambda a, i: a[-i])


def test_index_error_at_run_time():
    x, i = T.vector("x"), T.lscalar("i")
    f = symnet.function([x, i], x[i], mode="py")
    with pytest.raises(IndexError, match="shape"):
        f(np.zeros(3, x.dtype), 5)


@pytest.mark.parametrize("idx", [slice(1, 3), 2, (slice(None), -1), slice(None, None, 2)],
                         ids=str)
def test_set_and_inc_subtensor(idx):
    def ref_set(a, b):
        out = a.copy()
        out[idx] = b
        return out

    def ref_inc(a, b):
        out = a.copy()
        out[idx] += b
        return out
    shape = np.zeros((4, 5))[idx].shape
    check_op(lambda x, y: T.set_subtensor(x[idx], y), [rand((4, 5)), rand(shape)],
             ref=ref_set, grad=True)
    check_op(lambda x, y: T.inc_subtensor(x[idx], y), [rand((4, 5)), rand(shape)],
             ref=ref_inc, grad=True)


def test_inc_subtensor_broadcast_value():
    def ref(a, b):
        out = a.copy()
        out[1:3] += b
        return out
    check_op(lambda x, y: T.inc_subtensor(x[1:3], y), [rand((4, 5)), rand((5,))], ref=ref,
             grad=True)
    check_op(lambda x: T.set_subtensor(x[:, 0], 0.0), [rand((3, 2))],
             ref=lambda a: np.concatenate([np.zeros((3, 1)), a[:, 1:]], axis=1))


def test_set_subtensor_symbolic_and_no_mutation():
    x, i = T.vector("x"), T.lscalar("i")
    f = symnet.function([x, i], T.set_subtensor(x[i:], 7.0), mode="py")
    a = np.arange(4, dtype=x.dtype)
    np.testing.assert_array_equal(f(a, 2), [0, 1, 7, 7])
    np.testing.assert_array_equal(a, [0, 1, 2, 3])


def test_set_subtensor_errors():
    x = T.matrix("x", shape=(4, 5))
    with pytest.raises(TypeError, match="indexed variable"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(ValueError, match="does not fit"):
        T.set_subtensor(x[1:3], T.matrix(shape=(3, 5)))
    with pytest.raises(TypeError):
        x[1.5]


def test_set_subtensor_on_shared_update():
    w = symnet.shared(np.zeros(4), name="w")
    f = symnet.function([], [], updates=[(w, T.inc_subtensor(w[1:3], 1.0))], mode="py")
    f()
    f()
    np.testing.assert_array_equal(w.get_value(), [0, 2, 2, 0])


@settings(max_examples=examples(20), deadline=None)
@given(st.integers(1, 6), st.integers(-8, 8) | st.none(), st.integers(-8, 8) | st.none(),
       st.sampled_from([None, 1, 2, -1, -3]))
def test_slices_hypothesis(n, start, stop, step):
    sl = slice(start, stop, step)
    check_op(lambda x: x[sl], [rand((n, 2))], ref=lambda a: a[sl])
    i, j = T.lscalars("i", "j")
    x = T.matrix("x")
    s0 = None if start is None else i
    s1 = None if stop is None else j
    f = symnet.function([x, i, j], x[s0:s1:step], mode="py", on_unused_input="ignore")
    a = rand((n, 2), x.dtype)
    np.testing.assert_array_equal(f(a, start or 0, stop or 0), a[sl])
