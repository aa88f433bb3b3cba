"""Advanced indexing against numpy (integer arrays, boolean masks, mixed
with slices, None and Ellipsis), set/inc with repeated indices, and take,
nonzero, sort, argsort, cumsum, cumprod, bincount and the extra_ops
compositions; gradients against finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.tensor.ops import advanced as A
from symnet.tensor.ops.indexing import Subtensor
from tests.oracles import check_op, examples, rand

MODES = ["py", Mode("py", optimizer=None)]
I = np.array  # noqa: E741


def ops_in(out):
    return {type(n.op) for n in io_toposort([], [out])}


# -- reading ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,idx", [
    ((5,), (I([0, 4, 0, -1]),)),
    ((5,), (I([[1, 2], [3, 3]]),)),
    ((3, 4), (I([0, 2, 2]),)),
    ((3, 4), (slice(None), I([3, 0, 0]))),
    ((3, 4), (I([0, 1]), I([3, 3]))),
    ((3, 4), (I([[0], [2]]), I([1, 3]))),            # broadcasting index arrays
    ((2, 3, 4), (I([1, 0]), slice(None), I([0, 3]))),  # not adjacent: goes first
    ((2, 3, 4), (slice(1, None), I([0, 2, 2]), I([1]))),
    ((2, 3, 4), (slice(None, None, -1), I([[0, 1]]))),
])
def test_int_array_indexing(shape, idx):
    x = rand(shape)
    arrays = [i.astype("int64") for i in idx if not isinstance(i, slice)]

    def rebuild(ix):  # the index with its arrays replaced by ``ix``
        it = iter(ix)
        return tuple(i if isinstance(i, slice) else next(it) for i in idx)
    # index arrays as symbolic inputs
    check_op(lambda v, *ix: v[rebuild(ix)], [x] + arrays,
             ref=lambda a, *ix: a[rebuild(ix)], modes=MODES, grad=True)
    # index arrays as constants (mixed with slices), static shape known
    out = check_op(lambda v: v[idx], [x], ref=lambda a: a[idx], modes=MODES, grad=True,
                   static_shapes=True)
    assert T.TensorType("float64", shape=shape)("x")[idx].type.shape == out[0].shape


def test_symbolic_index_vector_and_ints():
    x, i = T.dmatrix("x"), T.lvector("i")
    a, ia = rand((4, 5)), I([3, 0, 3])
    outs = [x[i], x[i, 2], x[1, i], x[i, 1:3], x[:, i], x[..., i], x[i, None]]
    f = symnet.function([x, i], outs, mode="py")
    want = [a[ia], a[ia, 2], a[1, ia], a[ia, 1:3], a[:, ia], a[..., ia], a[ia, None]]
    for g, w in zip(f(a, ia), want):
        np.testing.assert_array_equal(g, w)
    assert x[i].type.shape == (None, None)
    assert T.dmatrix("y", shape=(4, 5))[[1, 2, 3]].type.shape == (3, 5)


@pytest.mark.parametrize("shape,mask_shape,where", [
    ((6,), (6,), 0), ((3, 4), (3, 4), 0), ((3, 4), (3,), 0), ((3, 4), (4,), 1),
    ((2, 3, 4), (3, 4), 1)])
def test_bool_mask(shape, mask_shape, where):
    x = rand(shape)
    m = rand(mask_shape, "bool", rng=np.random.default_rng(4))
    head = (slice(None),) * where
    check_op(lambda v, mk: v[head + (mk,)], [x, m], ref=lambda a, mk: a[head + (mk,)],
             modes=MODES, grad=True)


def test_mask_from_comparison():
    x = T.dvector("x")
    a = I([1., -2., 3., 0.])
    f = symnet.function([x], [x[x > 0], T.set_subtensor(x[x < 0], 0.)], mode="py")
    r = f(a)
    np.testing.assert_array_equal(r[0], [1., 3.])
    np.testing.assert_array_equal(r[1], [1., 0., 3., 0.])
    mask = T.constant(I([True, False, True, True]))
    assert x[mask].type.shape == (3,)


def test_none_and_ellipsis_lower_to_basic_ops():
    x = T.dtensor3("x")
    a = rand((2, 3, 4))
    cases = [(x[None], a[None]), (x[..., 0], a[..., 0]), (x[:, None, 1], a[:, None, 1]),
             (x[0, ..., None], a[0, ..., None]), (x[...], a[...]),
             (x[None, 1:, ..., ::2, None], a[None, 1:, ..., ::2, None])]
    for out, want in cases:
        assert A.AdvancedSubtensor not in ops_in(out)
        np.testing.assert_array_equal(out.eval({x: a}, mode="py"), want)
    assert x[None].type.shape == (1, None, None, None)
    assert isinstance(x[..., 0].owner.op, Subtensor)
    # a basic index written with Ellipsis still supports set_subtensor
    np.testing.assert_array_equal(
        T.set_subtensor(x[..., 0], 5.).eval({x: a}, mode="py")[..., 0], 5.)
    check_op(lambda v: v[None, ..., 1], [a], ref=lambda v: v[None, ..., 1], modes=MODES,
             grad=True)


def test_indexing_errors():
    x = T.dmatrix("x", shape=(3, 4))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1"):
        x[:, [0, 5]]
    with pytest.raises(IndexError, match="out of bounds for axis 0"):
        x[[-4]]
    with pytest.raises(IndexError, match="boolean index"):
        x[T.constant(np.ones(4, bool))]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], [0], [0]]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(TypeError, match="integers or booleans"):
        x[T.dvector("f")]
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[[0, 1], [0, 1, 2]]
    v, i = T.dvector("v"), T.lvector("i")
    g = symnet.function([v, i], v[i], mode="py")
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        g(np.zeros(3), I([3]))


def test_empty_list_index():
    x = T.dvector("x")
    assert x[[]].eval({x: np.ones(3)}, mode="py").shape == (0,)


# -- writing ------------------------------------------------------------------------------------------

def test_inc_subtensor_repeated_indices_accumulate():
    x = T.dvector("x")
    out = T.inc_subtensor(x[[0, 0, 1]], 1.0)
    np.testing.assert_array_equal(out.eval({x: np.zeros(4)}, mode="py"), [2., 1., 0., 0.])
    y = T.dvector("y")
    out = T.inc_subtensor(x[[2, 2, 2]], y)
    np.testing.assert_array_equal(
        symnet.function([x, y], out, mode="py")(np.zeros(3), I([1., 2., 4.])), [0, 0, 7])
    # 2-d with a None in the index and a mask
    m = T.dmatrix("m")
    a = np.zeros((3, 4))
    got = T.inc_subtensor(m[:, None, [0, 0, 3]], 1.).eval({m: a}, mode="py")
    want = a.copy()
    np.add.at(want, (slice(None), I([0, 0, 3])), 1.)
    np.testing.assert_array_equal(got, want)
    got = T.inc_subtensor(m[m > -1], 2.).eval({m: a}, mode="py")
    np.testing.assert_array_equal(got, a + 2)


def test_set_subtensor_index_vector():
    x, i, y = T.dvector("x"), T.lvector("i"), T.dvector("y")
    f = symnet.function([x, i, y], T.set_subtensor(x[i], y), mode="py")
    a = np.zeros(5)
    np.testing.assert_array_equal(f(a, I([4, 1]), I([7., 8.])), [0, 8, 0, 0, 7])
    np.testing.assert_array_equal(a, 0)  # input untouched
    m = T.dmatrix("m")
    got = T.set_subtensor(m[[0, 2], [1, 1]], 9.).eval({m: np.zeros((3, 2))}, mode="py")
    np.testing.assert_array_equal(got, [[0, 9], [0, 0], [0, 9]])


def test_inc_set_errors():
    x = T.dvector("x", shape=(5,))
    with pytest.raises(ValueError, match="does not fit"):
        T.set_subtensor(x[[0, 1]], T.dvector("y", shape=(3,)))
    # too many dimensions is a type error (API.md; Theano raises TypeError too)
    with pytest.raises(TypeError, match="more than"):
        T.inc_subtensor(x[[0, 1]], T.dmatrix("y"))


@pytest.mark.parametrize("set_", [False, True])
def test_inc_set_grads(set_):
    # set with repeated indices keeps only one write: its y-gradient is not defined
    idx = I([0, 2, 2]) if not set_ else I([2, 0])
    fn = T.set_subtensor if set_ else T.inc_subtensor
    n = len(idx)
    check_op(lambda x, y: fn(x[idx], y), [rand((4, 3)), rand((n, 3), rng=np.random.default_rng(1))],
             modes=MODES, grad=True, grad2=True)
    # y broadcast into the region: its gradient sums
    check_op(lambda x, y: fn(x[:, idx], y), [rand((4, 3)), rand((4, 1), rng=np.random.default_rng(2))],
             modes=MODES, grad=True)


def test_subtensor_grad_accumulates_repeated_indices():
    x = T.dvector("x")
    g = symnet.grad(T.sum(x[[0, 0, 0, 2]]), x)
    np.testing.assert_array_equal(g.eval({x: np.zeros(4)}, mode="py"), [3, 0, 1, 0])
    m = T.dmatrix("m")
    g = symnet.grad(T.sum(m[m > 0] ** 2), m)
    a = I([[1., -1.], [2., 0.]])
    np.testing.assert_array_equal(g.eval({m: a}, mode="py"), [[2, 0], [4, 0]])


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.integers(-4, 3), min_size=1, max_size=6), st.integers(0, 1))
def test_random_int_indices_match_numpy(idx, axis):
    a = rand((4, 4))
    head = (slice(None),) * axis
    ix = I(idx)
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = symnet.function([x, y], [x[head + (ix,)], T.inc_subtensor(x[head + (ix,)], y)],
                        mode="py")
    region = a[head + (ix,)]
    yv = np.arange(region.size, dtype="float64").reshape(region.shape)
    want = a.copy()
    np.add.at(want, head + (ix,), yv)
    got = f(a, yv)
    np.testing.assert_array_equal(got[0], region)
    np.testing.assert_array_equal(got[1], want)


# -- take, nonzero, sort, cum ops ----------------------------------------------------------------

@pytest.mark.parametrize("axis,mode", [(None, "raise"), (0, "raise"), (1, "raise"),
                                       (-1, "wrap"), (0, "clip")])
def test_take(axis, mode):
    idx = I([[0, 2], [5, 1]]) if mode != "raise" else I([[0, 2], [1, 1]])
    check_op(lambda v, i: T.take(v, i, axis=axis, mode=mode), [rand((3, 3)), idx],
             ref=lambda a, i: np.take(a, i, axis=axis, mode=mode), modes=MODES, grad=True)
    with pytest.raises(ValueError, match="mode"):
        T.take(T.dvector(), [0], mode="bad")


def test_take_scalar_index():
    x = T.dmatrix("x")
    a = rand((3, 4))
    np.testing.assert_array_equal(T.take(x, 2, axis=1).eval({x: a}, mode="py"), a[:, 2])


def test_nonzero():
    a = I([[0., 1., 0.], [2., 0., 3.]])
    check_op(lambda v: list(T.nonzero(v)), [a], ref=lambda v: list(np.nonzero(v)),
             modes=MODES)
    check_op(lambda v: T.nonzero(v, return_matrix=True), [a],
             ref=lambda v: np.array(np.nonzero(v)), modes=MODES)
    assert T.nonzero(T.dvector())[0].dtype == "int64"


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_sort_argsort(axis):
    a = rand((4, 5))
    check_op(lambda v: T.sort(v, axis), [a], ref=lambda v: np.sort(v, axis=axis),
             modes=MODES, grad=True, grad2=True)
    check_op(lambda v: T.argsort(v, axis), [a], ref=lambda v: np.argsort(v, axis=axis),
             modes=MODES)


@pytest.mark.parametrize("fn,ref", [(T.cumsum, np.cumsum), (T.cumprod, np.cumprod)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cum_ops(fn, ref, axis):
    a = rand((3, 4), low=0.5, high=1.5)
    check_op(lambda v: fn(v, axis), [a], ref=lambda v: ref(v, axis=axis), modes=MODES,
             grad=True, grad2=True)
    assert fn(T.ivector()).dtype == np.cumsum(np.zeros(1, "int32")).dtype


def test_cumsum_grad_is_reversed_cumsum():
    x = T.dvector("x")
    g = symnet.grad(T.sum(T.cumsum(x) * T.constant(I([1., 2., 3.]))), x)
    np.testing.assert_allclose(g.eval({x: np.zeros(3)}, mode="py"), [6., 5., 3.])


def test_bincount():
    x, w = T.lvector("x"), T.dvector("w")
    a, wa = I([0, 3, 3, 1]), I([0.5, 1., 2., 4.])
    check_op(lambda v: T.extra_ops.bincount(v), [a], ref=np.bincount, modes=MODES)
    check_op(lambda v, ww: T.extra_ops.bincount(v, ww, minlength=6), [a, wa],
             ref=lambda v, ww: np.bincount(v, ww, minlength=6), modes=MODES)
    f = symnet.function([x], T.extra_ops.bincount(x), mode="py")
    with pytest.raises(ValueError, match="negative"):
        f(I([1, -1]))
    with pytest.raises(TypeError, match="integer vector"):
        T.extra_ops.bincount(w)


# -- extra_ops compositions -------------------------------------------------------------------------

def test_to_one_hot():
    y = T.lvector("y")
    out = T.extra_ops.to_one_hot(y, 4)
    assert out.dtype == symnet.config.floatX
    np.testing.assert_array_equal(out.eval({y: I([3, 0])}, mode="py"), np.eye(4)[[3, 0]])
    with pytest.raises(TypeError, match="integer vector"):
        T.extra_ops.to_one_hot(T.dvector(), 3)


@pytest.mark.parametrize("n,axis", [(1, -1), (2, 0), (1, 1)])
def test_diff(n, axis):
    check_op(lambda v: T.extra_ops.diff(v, n, axis), [rand((4, 5))],
             ref=lambda v: np.diff(v, n, axis), modes=MODES, grad=True)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (3, 3, 3)])
def test_fill_diagonal(shape):
    def ref(a, v):
        out = a.copy()
        np.fill_diagonal(out, v)
        return out
    check_op(T.extra_ops.fill_diagonal, [rand(shape), I(2.5)], ref=ref, modes=MODES,
             grad=True)


def test_compress_squeeze_repeat():
    cond = I([True, False, True])
    check_op(lambda v: T.extra_ops.compress(cond, v, axis=1), [rand((2, 3))],
             ref=lambda v: np.compress(cond, v, axis=1), modes=MODES, grad=True)
    x = T.TensorType("float64", shape=(3, 1))("x")
    assert T.extra_ops.squeeze(x).type.shape == (3,)
    v = T.dvector("v")
    np.testing.assert_array_equal(
        T.extra_ops.repeat(v, 2).eval({v: I([1., 2.])}, mode="py"), [1., 1., 2., 2.])


def test_cumop_op_form_flattens_without_axis_and_takes_negative_axes():
    # Theano's CumOp(axis=None, mode='add') called as an op
    from symnet.tensor.ops.advanced import CumOp
    a = rand((3, 4, 2), rng=np.random.default_rng(0))
    check_op(lambda x: CumOp()(x), [a], ref=np.cumsum, grad=True)
    check_op(lambda x: CumOp(mode="mul")(x), [a + 2], ref=np.cumprod)
    check_op(lambda x: CumOp(axis=-2, mode="mul")(x), [a + 2],
             ref=lambda v: np.cumprod(v, axis=-2), grad=True)
    assert CumOp(-1)(T.tensor3()).owner.op == CumOp(2)
    with pytest.raises(ValueError, match="axis -4 is out of range"):
        CumOp(-4)(T.tensor3())


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_bincount_of_a_negative_value_raises_also_as_an_assertion(mode):
    # Theano's bincount(..., assert_nonneg=True) raised AssertionError; a
    # negative value is a ValueError naming it here, and that AssertionError
    from symnet.tensor.ops.advanced import NegativeCountError
    v = T.lvector("v")
    f = symnet.function([v], T.extra_ops.bincount(v, assert_nonneg=True), mode=mode)
    for err in (ValueError, AssertionError, NegativeCountError):
        with pytest.raises(err, match="bincount: input has negative value -1"):
            f(np.array([2, -1, 0]))
    np.testing.assert_array_equal(f(np.array([2, 0, 2])), [1, 0, 2])
