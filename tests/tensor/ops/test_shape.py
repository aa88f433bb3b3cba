"""Shape ops against numpy: reshape (-1, symbolic shapes), flatten, join,
stack, arange, zeros/ones/alloc, tile, repeat, broadcast patterns."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from tests.oracles import backends, check_op, examples, rand


@pytest.mark.parametrize("shape", [(-1,), (6, -1), (-1, 2, 3), (3, 2, 2), (12, 1)])
def test_reshape_constant(shape):
    check_op(lambda x: T.reshape(x, shape), [rand((3, 4))], ref=lambda a: a.reshape(shape),
             grad=True)


def test_reshape_symbolic_shape():
    check_op(lambda x, y: T.reshape(x, (y.shape[0], -1)), [rand((3, 4)), rand((2, 5))],
             ref=lambda a, b: a.reshape(2, -1), grad=True)
    check_op(lambda x, y: x.reshape(y.shape, ndim=2), [rand((3, 4)), rand((6, 2))],
             ref=lambda a, b: a.reshape(b.shape))
    n = T.lscalar("n")
    x = T.matrix("x")
    f = symnet.function([x, n], x.reshape((n, -1)), mode="py")
    assert f(np.zeros((4, 6), x.dtype), 3).shape == (3, 8)


def test_reshape_static_errors():
    x = T.matrix("x", shape=(3, 4))
    assert T.reshape(x, (-1, 6)).type.shape == (2, 6)
    with pytest.raises(ValueError, match="12 elements"):
        T.reshape(x, (5, 2))
    with pytest.raises(ValueError, match="ndim"):
        T.reshape(x, T.lvector("s"))


def test_reshape_runtime_error():
    x = T.matrix("x")
    f = symnet.function([x], x.reshape((5, -1)), mode="py")
    with pytest.raises(ValueError, match="cannot reshape"):
        f(np.zeros((3, 4), x.dtype))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_flatten(ndim):
    check_op(lambda x: T.flatten(x, ndim), [rand((2, 3, 4))],
             ref=lambda a: a.reshape(a.shape[:ndim - 1] + (-1,)), grad=True)
    check_op(lambda x: x.flatten(ndim=ndim), [rand((2, 3, 4))],
             ref=lambda a: a.reshape(a.shape[:ndim - 1] + (-1,)))


def test_flatten_static_shape():
    assert T.flatten(T.tensor4("x", shape=(None, 3, 4, 5)), 2).type.shape == (None, 60)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = {0: [(2, 3), (1, 3), (4, 3)], 1: [(2, 3), (2, 1), (2, 2)],
              -1: [(2, 3), (2, 1), (2, 2)]}[axis]
    arrs = [rand(s, rng=np.random.default_rng(k)) for k, s in enumerate(shapes)]
    check_op(lambda *xs: T.concatenate(list(xs), axis=axis), arrs,
             ref=lambda *a: np.concatenate(a, axis=axis), grad=True)
    check_op(lambda *xs: T.join(axis, *xs), arrs, ref=lambda *a: np.concatenate(a, axis=axis))


def test_join_static_mismatch():
    a, b = T.matrix("a", shape=(2, 3)), T.matrix("b", shape=(2, 4))
    assert T.concatenate([a, b], axis=1).type.shape == (2, 7)
    with pytest.raises(ValueError):
        T.concatenate([a, b], axis=0)


def test_join_and_stack_reject_what_numpy_rejects():
    # an axis out of range raises (IndexError, as in Theano and numpy) instead
    # of wrapping around: join(-3, a, b) of matrices was a join along axis 1
    a, b = T.matrices("a", "b")
    for bad in (lambda: T.join(-3, a, b), lambda: T.join(2, a, b),
                lambda: T.concatenate([a, b], axis=5), lambda: T.join(T.constant(2), a, b),
                lambda: T.stack([a, b], 3), lambda: T.stack([a, b], axis=-4)):
        with pytest.raises(IndexError, match=r"axis -?\d is out of range for [23] dim"):
            bad()
    # 0-d and mixed ranks are type errors, as in Theano
    with pytest.raises(TypeError, match="cannot join 0-d tensors"):
        T.join(0, T.scalar(), T.scalar())
    with pytest.raises(TypeError, match="join: all inputs need 1 dims, a has 2"):
        T.join(0, T.vector(), a)
    with pytest.raises(TypeError, match="join: the axis must be an integer scalar"):
        T.join(T.dscalar("ax"), a, b)
    # a constant axis is folded
    check_op(lambda x, y: T.join(T.constant(-1), x, y), [rand((2, 3)), rand((2, 1))],
             ref=lambda x, y: np.concatenate([x, y], axis=-1))
    assert T.stack([a, b], axis=-3).type.ndim == 3


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_join_axis_given_at_run_time(axis):
    # Theano's Join takes a symbolic axis when the tensors' ndim agree; no
    # axis of the result is then broadcastable (any one may be the joined one)
    shapes = {0: [(2, 3), (1, 3), (4, 3)], 1: [(2, 3), (2, 1), (2, 4)]}[axis % 2]
    arrs = [np.asarray(axis, dtype="int64")] + [
        rand(s, rng=np.random.default_rng(k)) for k, s in enumerate(shapes)]
    check_op(lambda ax, *xs: T.join(ax, *xs), arrs, grad=True,
             ref=lambda ax, *xs: np.concatenate(xs, axis=int(ax)))
    check_op(lambda ax, *xs: T.concatenate(list(xs), axis=ax), arrs,
             ref=lambda ax, *xs: np.concatenate(xs, axis=int(ax)))
    ax, c = T.lscalar("ax"), T.col("c")
    assert T.join(ax, c, c).broadcastable == (False, False)
    assert T.join(0, c, c).broadcastable == (False, True)


def test_join_axis_given_at_run_time_errors():
    ax, a, b = T.lscalar("ax"), T.dmatrix("a"), T.dmatrix("b")
    with pytest.raises(TypeError, match="join: all inputs need 2 dims, v has 1"):
        T.join(ax, a, T.dvector("v"))
    for mode in backends():
        f = symnet.function([ax, a, b], T.join(ax, a, b), mode=mode)
        with pytest.raises(IndexError, match=r"join: axis 2 is out of range for 2 dim"):
            f(2, np.ones((2, 2)), np.ones((2, 2)))
        with pytest.raises(ValueError, match=r"join along axis 0 of shapes \[\(2, 2\), \(2, 3\)\]"):
            f(0, np.ones((2, 2)), np.ones((2, 3)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(axis):
    arrs = [rand((2, 3), rng=np.random.default_rng(k)) for k in range(3)]
    check_op(lambda *xs: T.stack(list(xs), axis=axis), arrs,
             ref=lambda *a: np.stack(a, axis=axis), grad=True)


def test_stack_scalars():
    check_op(lambda a, b: T.stack([a, b, a * b]), [np.float64(2.0), np.float64(3.0)],
             ref=lambda a, b: np.array([a, b, a * b]), grad=True)


@pytest.mark.parametrize("args", [(5,), (2, 9), (2, 9, 3), (9, 2, -2), (3, 3)])
def test_arange_constant(args):
    check_op(lambda: T.arange(*args), [], ref=lambda: np.arange(*args))
    assert T.arange(*args).type.shape == (len(np.arange(*args)),)


def test_arange_symbolic():
    check_op(lambda a, b: T.arange(a, b, 2), [np.int64(1), np.int64(8)],
             ref=lambda a, b: np.arange(a, b, 2))
    check_op(lambda b: T.arange(b), [np.int32(0)], ref=lambda b: np.arange(b))
    check_op(lambda a: T.arange(0.0, a, 0.5, dtype="float64"), [np.float64(2.2)],
             ref=lambda a: np.arange(0.0, a, 0.5))


@pytest.mark.parametrize("start,stop,step", [(0.0, 4.9, 1.0), (5.1, 0.0, -0.5), (1.0, 5.1, 0.5)])
def test_arange_gradient_of_float_start_and_step(start, stop, step):
    # out[i] = start + i * step: d/dstart = sum(gz), d/dstep = sum(i * gz)
    # (it was zero); stop only sets the length. Away from the points where
    # the length changes, finite differences agree.
    pt = [np.asarray(v) for v in (start, stop, step)]
    symnet.gradient.verify_grad(lambda a, b, c: T.arange(a, b, c) ** 2, pt,
                                rng=np.random.default_rng(3))
    a, b, c = T.dscalars("abc")
    g = symnet.grad(T.arange(a, b, c).sum(), [a, c, b], disconnected_inputs="ignore")
    n = len(np.arange(start, stop, step))
    got = symnet.function([a, b, c], g, mode="py")(start, stop, step)
    np.testing.assert_allclose(got, [n, n * (n - 1) / 2, 0.0])


@pytest.mark.parametrize("sa,sb", [((4, 5), (5,)), ((5,), (4, 5)), ((3, 2), (2, 3, 2)),
                                   ((1, 2), (3, 2)), ((3, 2), (1, 2))])
def test_second_broadcasts_both_ways_as_numpy(sa, sb):
    # Theano's second(a, b) is np.broadcast_arrays(a, b)[1]: b may have more
    # dimensions than a, or sizes where a's are broadcastable (fill failed)
    a = rand(sa, rng=np.random.default_rng(1))
    b = rand(sb, "int16", rng=np.random.default_rng(2), low=-9, high=9)
    check_op(T.second, [a, b], ref=lambda x, y: np.broadcast_arrays(x, y)[1].copy())
    check_op(T.fill, [a, b.astype("float64")], ref=lambda x, y: np.broadcast_arrays(x, y)[1].copy(),
             grad=True)


def test_zeros_ones_alloc():
    check_op(lambda x: T.zeros(x.shape), [rand((2, 3))], ref=lambda a: np.zeros_like(a))
    check_op(lambda x: T.ones((x.shape[1], 2), dtype="int32"), [rand((2, 3))],
             ref=lambda a: np.ones((3, 2), "int32"))
    check_op(lambda v, x: T.alloc(v, x.shape[0], 4), [rand((4,)), rand((3, 1))],
             ref=lambda v, a: np.broadcast_to(v, (3, 4)), grad=True)
    check_op(lambda x: [T.zeros_like(x), T.ones_like(x)], [rand((2, 3), "int8")],
             ref=lambda a: [np.zeros_like(a), np.ones_like(a)])
    check_op(lambda x: T.fill(x, 3.0), [rand((2, 3))], ref=lambda a: np.full_like(a, 3.0))
    assert T.zeros((2, 3)).type.shape == (2, 3)


@pytest.mark.parametrize("reps", [(2,), (1, 3), (2, 2), (2, 1, 3)])
def test_tile(reps):
    check_op(lambda x: T.tile(x, reps), [rand((2, 3))], ref=lambda a: np.tile(a, reps),
             grad=True)


def test_tile_symbolic_reps():
    # reps known only at run time (ntm-lasagne tiles its memory by the batch
    # size: T.tile(m, (x.shape[0], 1, 1)))
    check_op(lambda x, y: T.tile(x, (y.shape[0], 1, 2)), [rand((2, 3)), rand((4, 1))],
             ref=lambda a, b: np.tile(a, (4, 1, 2)), grad=True, grad2=True)
    check_op(lambda x, y: T.tile(x, (2, y.shape[1])), [rand((2, 3)), rand((4, 3))],
             ref=lambda a, b: np.tile(a, (2, 3)), grad=True)
    n = T.lscalar("n")
    x = T.vector("x")
    f = symnet.function([x, n], T.tile(x, [n]), mode="py")
    assert f(np.arange(3, dtype=x.dtype), 0).shape == (0,)
    with pytest.raises(TypeError, match="repetition 0 of x must be an integer scalar"):
        T.tile(x, [T.scalar("r")])


def test_tile_with_one_count():
    # an int or an integer scalar repeats the last axis, as np.tile(x, 2)
    check_op(lambda x: T.tile(x, 2), [rand((2, 3))], ref=lambda a: np.tile(a, 2), grad=True)
    check_op(lambda x: T.tile(x, np.int64(3)), [rand((2, 1, 3))], ref=lambda a: np.tile(a, 3))
    n = T.iscalar("n")
    x = T.matrix("x")
    f = symnet.function([x, n], T.tile(x, n), mode="py")
    a = rand((2, 3)).astype(x.dtype)
    np.testing.assert_array_equal(f(a, 3), np.tile(a, 3))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_repeat(axis):
    check_op(lambda x: T.repeat(x, 3, axis=axis), [rand((2, 3))],
             ref=lambda a: np.repeat(a, 3, axis=axis), grad=True)


def test_patternbroadcast_and_friends():
    x = T.matrix("x")
    y = T.patternbroadcast(x, (False, True))
    assert y.broadcastable == (False, True)
    assert T.addbroadcast(x, 0).broadcastable == (True, False)
    assert T.unbroadcast(T.row(), 0).broadcastable == (False, False)
    check_op(lambda v: T.patternbroadcast(v, (False, True)) + T.ones((1, 4)),
             [rand((3, 1))], ref=lambda a: a + np.ones((1, 4)))
    f = symnet.function([x], y, mode="py")
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.zeros((2, 2), x.dtype))
    with pytest.raises(ValueError):
        T.patternbroadcast(T.matrix(shape=(2, 3)), (False, True))


def test_pad_squeeze():
    check_op(lambda x: [T.shape_padleft(x), T.shape_padright(x, 2), T.shape_padaxis(x, 1)],
             [rand((2, 3))], ref=lambda a: [a[None], a[:, :, None, None], a[:, None]])
    check_op(lambda x: T.squeeze(x), [rand((1, 3, 1))], ref=np.squeeze, grad=True)


def test_shape_and_shape_i():
    check_op(lambda x: [T.shape(x), x.shape[1], T.shape_i(x, 0)], [rand((2, 3))],
             ref=lambda a: [np.array(a.shape), np.int64(3), np.int64(2)])
    assert T.shape_i(T.matrix(shape=(5, None)), 0).data == 5


@pytest.mark.parametrize("mode", backends())
@pytest.mark.parametrize("i", [1, 3, -2])
def test_shape_index_beyond_rank_builds_and_fails_when_run(mode, i):
    # Theano built v.shape[i] for any i (its shapes had no static length)
    # and failed only when the value was computed; code checks ranks after.
    x, m = T.vector("x"), T.matrix("m")
    n = x.shape[i]
    assert n.type.dtype == "int64" and n.type.ndim == 0
    f = symnet.function([x, m], [m.sum() * n, x.sum()], mode=mode)  # compiles
    with pytest.raises(IndexError) as exc:
        f(np.zeros(3, x.dtype), np.ones((2, 2), m.dtype))
    msg = str(exc.value)
    assert f"x.shape[{i}] was evaluated" in msg and "x has 1 dimension" in msg
    assert f"no entry {i}" in msg
    # a graph that holds such a size but does not compute it runs
    g = symnet.function([x], [x.sum(), x.shape[-1] + x.shape[0]], mode=mode)
    total, size = g(np.arange(3, dtype=x.dtype))
    assert float(total) == 3.0 and int(size) == 6


def test_shape_index_beyond_rank_of_constant_is_not_folded():
    c = T.constant(np.zeros((2, 3)))
    f = symnet.function([], c.shape[2], mode="py")
    with pytest.raises(IndexError, match=r"shape has no entry 2"):
        f()


def test_shape_index_beyond_rank_lets_a_rank_check_run_first():
    # the pattern of a loss that takes predictions.shape[1] before it checks
    # that targets and predictions have compatible ranks
    def loss(predictions, targets):
        num_classes = predictions.shape[1]
        if targets.ndim != predictions.ndim - 1 and targets.ndim != predictions.ndim:
            raise TypeError(f"rank mismatch: {targets.ndim} vs {predictions.ndim}")
        return num_classes
    with pytest.raises(TypeError, match="rank mismatch"):
        loss(T.vector(), T.tensor3())


def test_index_beyond_a_static_size_still_fails_when_built():
    # only v.shape[i] is let through; other vectors of known size refuse
    v = T.vector("v", shape=(2,))
    with pytest.raises(IndexError, match="out of bounds for axis 0"):
        v[2]
    with pytest.raises(IndexError, match="out of bounds for axis 0"):
        T.stack([v.shape[0]])[1]


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_reshape_hypothesis(shape, data):
    x = rand(tuple(shape))
    perm = data.draw(st.permutations(shape))
    target = list(perm)
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    check_op(lambda v: T.reshape(v, target), [x], ref=lambda a: a.reshape(target))


@pytest.mark.parametrize("like", ["zeros_like", "ones_like"])
def test_like_of_a_static_shape_keeps_its_input_in_the_graph(like):
    # Theano's fill(x, 0): x is an input of the graph even when its shape is
    # known, so it counts as used, givens replace it, and grad finds it
    # disconnected (fill's rule), never "not part of the graph" by accident
    x = T.TensorType("float32", shape=(2, 3))("x")
    y = T.TensorType("float32", shape=(2, 3))("y")
    out = getattr(T, like)(x, dtype="int8")
    assert out.type.shape == (2, 3) and out.dtype == "int8"
    want = np.full((2, 3), like == "ones_like", dtype="int8")
    for mode in ("py", "numba"):
        np.testing.assert_array_equal(
            symnet.function([x], out, mode=mode)(np.ones((2, 3), "float32")), want)
        np.testing.assert_array_equal(
            symnet.function([y], out, givens={x: y * 2}, mode=mode)(np.ones((2, 3), "float32")),
            want)
    with pytest.raises(symnet.gradient.DisconnectedInputError):
        symnet.grad(T.cast(out, "float32").sum(), x)


def test_broadcast_pattern_helpers_reject_axes_out_of_range():
    # addbroadcast(matrix, 2) raised a bare "tuple index out of range";
    # shape_padaxis(matrix, 3) wrapped around to axis 0
    x = T.matrix("x")
    for bad in (lambda: T.addbroadcast(x, 2), lambda: T.unbroadcast(x, -3),
                lambda: T.shape_padaxis(x, 3), lambda: T.shape_padaxis(x, -4)):
        with pytest.raises(ValueError, match=r"axis -?\d is out of range"):
            bad()
    assert T.shape_padaxis(x, -1).type.shape == (None, None, 1)
    assert T.addbroadcast(x, -1).broadcastable == (False, True)
