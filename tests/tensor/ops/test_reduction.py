"""Reductions: axis/keepdims/negative axes against numpy, gradients,
prod with zeros, argmax/argmin, mean/var/std."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.configdefaults import config
from tests.oracles import check_op, examples, rand

AXES = [None, 0, 1, -1, (0, 2), (-1, -3), ()]
KINDS = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce(kind, axis, keepdims):
    x = rand((2, 3, 4), rng=np.random.default_rng(3), low=0.5, high=1.5)
    ref = lambda a: np.asarray(KINDS[kind](a, axis=axis, keepdims=keepdims))  # noqa: E731
    check_op(lambda v: getattr(T, kind)(v, axis=axis, keepdims=keepdims), [x], ref=ref,
             grad=axis in (None, 1, (0, 2)))


@pytest.mark.parametrize("kind", ["any", "all"])
def test_any_all(kind):
    x = rand((3, 4), "bool")
    for axis in (None, 0, -1):
        check_op(lambda v: getattr(T, kind)(v, axis=axis), [x],
                 ref=lambda a: getattr(np, kind)(a, axis=axis))


def test_sum_of_ints_accumulates_in_int64():
    x = rand((3, 4), "int8", low=100, high=120)
    out = check_op(lambda v: T.sum(v, axis=0), [x], ref=lambda a: a.sum(0, dtype="int64"))
    assert out[0].dtype == np.int64


def test_prod_with_zeros_gradient():
    # one zero in a row and two zeros in another: the gradient is exact
    x = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 1.0], [1.0, 2.0, 0.5, 1.5]])
    check_op(lambda v: T.prod(v, axis=1), [x], ref=lambda a: a.prod(1), grad=True)
    check_op(lambda v: T.prod(v), [x[:1]], ref=lambda a: a.prod(), grad=True)


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax(fn, axis, keepdims):
    x = rand((3, 5), rng=np.random.default_rng(7))
    out = check_op(lambda v: getattr(T, fn)(v, axis=axis, keepdims=keepdims), [x],
                   ref=lambda a: getattr(np, fn)(a, axis=axis, keepdims=keepdims))
    assert out[0].dtype == np.int64


def test_argmax_is_not_differentiable():
    import symnet
    x = T.dvector("x")
    g = symnet.grad(T.sum(x * T.argmax(x)), x)
    f = symnet.function([x], g, mode="py")
    np.testing.assert_array_equal(f(np.array([1.0, 3.0, 2.0])), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("axis", [None, 0, (1, 2), -1])
def test_mean_var_std(axis):
    x = rand((2, 3, 4), rng=np.random.default_rng(11))
    check_op(lambda v: T.mean(v, axis=axis), [x], ref=lambda a: a.mean(axis=axis), grad=True)
    check_op(lambda v: T.var(v, axis=axis), [x], ref=lambda a: a.var(axis=axis), grad=True)
    check_op(lambda v: T.std(v, axis=axis, keepdims=True), [x],
             ref=lambda a: a.std(axis=axis, keepdims=True), grad=True)
    check_op(lambda v: T.var(v, axis=axis, ddof=1), [x], ref=lambda a: a.var(axis=axis, ddof=1))


@pytest.mark.parametrize("axis,ddof", [(None, 0), (1, 1), ((0, 2), 2)])
def test_var_corrected_is_the_two_pass_algorithm_not_ddof(axis, ddof):
    # Theano's corrected=True subtracts sum(c)**2 / (N (N - ddof)) from the
    # variance; the divisor stays N - ddof (it used to mean ddof=1 here).
    x = rand((3, 4, 5), rng=np.random.default_rng(12))

    def ref(a):
        c = a - a.mean(axis=axis, keepdims=True)
        n = a.size // c.sum(axis=axis).size
        return (c ** 2).sum(axis=axis) / (n - ddof) - c.sum(axis=axis) ** 2 / (n * (n - ddof))
    check_op(lambda v: T.var(v, axis=axis, ddof=ddof, corrected=True), [x], ref=ref, grad=True)
    check_op(lambda v: T.std(v, axis=axis, ddof=ddof, corrected=True), [x],
             ref=lambda a: np.sqrt(ref(a)))
    assert np.allclose(ref(x), x.var(axis=axis, ddof=ddof))


def test_mean_of_ints_is_floatx():
    x = T.imatrix("x")
    assert T.mean(x).dtype == config.floatX
    assert T.mean(T.fmatrix()).dtype == "float32"


def test_methods_match_functions():
    x = rand((3, 4))
    check_op(lambda v: [v.sum(axis=0), v.max(), v.min(axis=1, keepdims=True),
                        v.mean(axis=-1), v.prod(axis=1), v.argmax(axis=1)], [x],
             ref=lambda a: [a.sum(0), a.max(), a.min(1, keepdims=True), a.mean(-1),
                            a.prod(1), a.argmax(1)])


def test_bad_axis():
    x = T.matrix("x")
    with pytest.raises(ValueError, match="out of range"):
        T.sum(x, axis=2)
    with pytest.raises(ValueError, match="out of range"):
        T.sum(x, axis=-3)
    with pytest.raises(ValueError, match="repeated"):
        T.sum(x, axis=(0, -2))


def test_max_of_empty_axis_raises():
    import symnet
    x = T.matrix("x")
    f = symnet.function([x], T.max(x, axis=0), mode="py")
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((0, 3), config.floatX))


def test_static_shapes():
    x = T.tensor3("x", shape=(2, None, 4))
    assert T.sum(x, axis=1).type.shape == (2, 4)
    assert T.max(x, axis=-1, keepdims=True).type.shape == (2, None, 1)
    assert T.argmax(x, axis=0).type.shape == (None, 4)


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_sum_hypothesis(shape, data):
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), unique_by=lambda a: a % nd,
                              max_size=nd))
    keep = data.draw(st.booleans())
    check_op(lambda v: T.sum(v, axis=tuple(axes), keepdims=keep), [rand(tuple(shape))],
             ref=lambda a: np.sum(a, axis=tuple(axes), keepdims=keep))


def test_float32_sums_accumulate_in_float64_on_every_backend():
    # Theano's default acc_dtype, and the numba kernels' accumulator: the py
    # reference summed in float32 (numpy's pairwise sum gives 0 here), so
    # py and numba disagreed
    x = symnet.shared(np.asarray([1e8, 1, -1e8], dtype="float32"))
    m = T.matrix("m")
    mv = np.tile(np.asarray([[1e8], [1], [-1e8]], "float32"), (1, 2))
    for mode in ("py", "numba"):
        s, mean, cols = symnet.function([m], [x.sum(), x.mean(), m.sum(axis=0)], mode=mode)(mv)
        assert s.dtype == mean.dtype == cols.dtype == np.float32
        assert s == 1.0 and np.isclose(mean, 1 / 3) and cols.tolist() == [1.0, 1.0]


# float16 has no numba kernels (numba has no float16 arithmetic): under CI's
# forced numba backend these graphs run their perform, with the warning
@pytest.mark.perform_fallback
def test_float16_mean_and_wider_dtype_accumulate_without_overflow():
    h = T.vector("h", dtype="float16")
    ones = np.ones(100000, "float16")
    f = symnet.function([h], [h.mean(), T.sum(h, dtype="float32"), T.mean(h, dtype="float32")],
                        mode="py")
    mean, s32, m32 = f(ones)
    assert mean.dtype == np.float16 and mean == 1.0
    assert s32.dtype == np.float32 and s32 == 100000.0 and m32 == 1.0


def test_acc_dtype_argument_accumulates_in_it():
    x = T.bvector("x")
    v = np.full(300, 100, "int8")
    s = T.sum(x, acc_dtype="int16", dtype="int32")
    assert s.dtype == "int32"
    assert symnet.function([x], s, mode="py")(v) == 30000
    p = T.prod(T.vector("y", dtype="float32"), acc_dtype="float64")
    assert p.dtype == "float32"
    assert T.mean(T.fvector(), acc_dtype="float64").dtype == "float32"
