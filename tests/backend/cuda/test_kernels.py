"""Every CUDA kernel family against the py backend (through the shared
oracle), with tiny shapes: the simulator runs each GPU thread in Python."""
import numpy as np
import pytest

import symnet
from symnet import tensor as T
from tests.oracles import check_op, rand

CUDA = ["py", "cuda"]


def test_fused_elementwise_run_is_one_kernel_and_matches_py():
    x, b = T.dmatrix("x"), T.dvector("b")
    y = T.tanh(x * 2 + b.dimshuffle("x", 0)) + T.exp(-x)
    f = symnet.function([x, b], y, mode="cuda")
    assert f.source.count("@cuda.jit") == 1      # one run, one kernel
    check_op(lambda x, b: T.tanh(x * 2 + b.dimshuffle("x", 0)) + T.exp(-x),
             [rand((2, 3)), rand((3,))], modes=CUDA)


@pytest.mark.parametrize("fn", [
    lambda x: T.sqrt(abs(x)) + T.log1p(x * x),
    lambda x: T.maximum(x, 0.1) - T.minimum(x, -0.2),
    lambda x: T.round(x * 3) + T.floor(x * 2) + T.ceil(x) + T.sgn(x),
    lambda x: T.nnet.sigmoid(x) * T.nnet.softplus(x),
    lambda x: T.switch(x > 0, x, 0.5 * x) ** 2,
    lambda x: T.cast(x * 10, "int32") // 3 + T.cast(x * 10, "int32") % 4,
    lambda x: T.clip(x, -0.3, 0.3) / (x + 2),
])
def test_elementwise_math(fn):
    xv = rand((2, 3))
    xv[0, 0] = 0.5    # a tie for round
    check_op(fn, [xv], modes=CUDA)


def test_elementwise_float32_and_scalars():
    check_op(lambda x, s: T.exp(x) * s + 1, [rand((3, 2), "float32"),
                                               np.float32(1.5)], modes=CUDA)


def test_elementwise_nan_rules():
    xv = np.array([[np.nan, 1.0, -np.inf], [2.0, np.inf, 0.0]])
    check_op(lambda x: T.maximum(x, 0) + T.exp(x * 1e3), [xv], modes=CUDA)


def test_elementwise_shape_mismatch_names_the_node():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symnet.function([x, y], x + y, mode="cuda")
    with pytest.raises(ValueError, match="do not match along axis 1"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod", "mean"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
def test_reductions(kind, axis):
    xv = rand((2, 3, 2), "float32")
    check_op(lambda x: getattr(T, kind)(x, axis=axis), [xv], modes=CUDA)


def test_reduction_nan_and_bool_and_int():
    xv = rand((3, 4))
    xv[1, 2] = np.nan
    check_op(lambda x: [T.max(x, axis=1), T.any(x > 0.5, axis=0), T.all(x > -2),
                        T.sum(T.cast(x * 5, "int32"), axis=1)], [xv], modes=CUDA)


def test_max_of_empty_axis_raises():
    x = T.dmatrix("x")
    f = symnet.function([x], T.max(x, axis=1), mode="cuda")
    with pytest.raises(ValueError, match="empty axis"):
        f(np.zeros((2, 0)))


def test_argmax_argmin_ties_and_nan():
    xv = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, np.nan, 5.0, np.nan], [0.0, 0.0, -1.0, -1.0]])
    check_op(lambda x: [T.argmax(x, axis=1), T.argmin(x, axis=0), T.argmax(x)], [xv],
             modes=CUDA)


def test_softmax_log_softmax_and_crossentropy():
    xv = rand((3, 4)) * 5
    y = np.array([2, 0, 3])
    check_op(lambda x: [T.nnet.softmax(x), T.nnet.log_softmax(x)], [xv], modes=CUDA)
    check_op(lambda x, y: T.nnet.categorical_crossentropy(T.nnet.softmax(x), y),
             [xv, y], modes=CUDA)
    check_op(lambda x: T.nnet.softmax(x, axis=0) if _has_axis() else T.nnet.softmax(x),
             [rand((2, 3, 2))] if _has_axis() else [xv], modes=CUDA)


def _has_axis():
    import inspect
    return "axis" in inspect.signature(T.nnet.softmax).parameters


def test_softmax_crossentropy_fused_op_and_bad_label():
    from symnet.tensor.ops.nnet import SoftmaxCrossentropy
    xv, y = rand((3, 4)) * 4, np.array([1, 3, 0])
    check_op(lambda x, y: SoftmaxCrossentropy()(x, y), [xv, y], modes=CUDA)
    x, yy = T.dmatrix("x"), T.lvector("y")
    f = symnet.function([x, yy], SoftmaxCrossentropy()(x, yy), mode="cuda")
    with pytest.raises(ValueError, match="labels must be in"):
        f(xv, np.array([1, 4, 0]))


def test_subtensor_views_and_inc_subtensor():
    xv = rand((3, 4))
    check_op(lambda x: [x[1:, ::2], x[1], x[2, 3], x[:, 1:3].T], [xv], modes=CUDA)
    check_op(lambda x, y: [T.inc_subtensor(x[1:, :2], y), T.set_subtensor(x[0, 1:], 7.0),
                           T.inc_subtensor(x[2, 3], 1.5)], [xv, rand((2,))], modes=CUDA)


def test_advanced_indexing_with_repeated_indices_accumulates():
    xv, idx = rand((4, 3)), np.array([1, 3, 1, -1, 1])
    rows, cols = np.array([0, 2, 0]), np.array([1, 2, 1])
    check_op(lambda x, i: [x[i], T.inc_subtensor(x[i], 1.0), T.set_subtensor(x[i], 2.0)],
             [xv, idx], modes=CUDA)
    check_op(lambda x, r, c: [x[r, c], T.inc_subtensor(x[r, c], 0.5)],
             [xv, rows, cols], modes=CUDA)
    check_op(lambda v, i: T.inc_subtensor(v[i], 1.0), [rand((5,)), idx], modes=CUDA)


def test_advanced_index_out_of_bounds():
    x, i = T.dmatrix("x"), T.lvector("i")
    f = symnet.function([x, i], x[i], mode="cuda")
    with pytest.raises(IndexError, match="out of bounds"):
        f(np.zeros((2, 2)), np.array([0, 2]))


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)),
                                    ((3,), (3,))])
def test_dot(shapes):
    check_op(T.dot, [rand(shapes[0], "float32"), rand(shapes[1], "float32")], modes=CUDA)


def test_dot_mixed_dtypes_and_transposed_views():
    check_op(lambda a, b: T.dot(a.T, b), [rand((3, 2)), rand((3, 2), "float32")], modes=CUDA)


def test_batched_dot():
    check_op(T.batched_dot, [rand((2, 2, 3)), rand((2, 3, 2))], modes=CUDA)
    check_op(T.batched_dot, [rand((2, 3)), rand((2, 3, 2))], modes=CUDA)


def test_shape_ops():
    xv = rand((2, 3))
    check_op(lambda x: [x.reshape((3, 2)), x.T.reshape((6,)), T.alloc(x[0, 0], 2, 2),
                        x.shape[0] * x.sum(), T.zeros_like(x) + 1], [xv], modes=CUDA)


def test_join():
    check_op(lambda a, b: [T.concatenate([a, b], axis=1), T.concatenate([a, a, b], axis=1)],
             [rand((2, 3)), rand((2, 1), "float32")], modes=CUDA)
    check_op(lambda a, b: T.concatenate([a, b], axis=0), [rand((2, 3)), rand((3, 3))],
             modes=CUDA)


@pytest.mark.parametrize("kw", [dict(), dict(border_mode="full", filter_flip=False),
                                dict(border_mode="half", subsample=(2, 1)),
                                dict(border_mode=(1, 0), filter_dilation=(2, 1))])
def test_conv2d_and_its_gradients(kw):
    from symnet.tensor.nnet import conv2d
    x, w = rand((2, 2, 5, 4)), rand((3, 2, 2, 3))

    def graph(x, w):
        y = conv2d(x, w, **kw)
        loss = (y * y).sum()
        return [y] + T.grad(loss, [x, w])
    check_op(graph, [x, w], modes=CUDA, static_shapes=True)


@pytest.mark.parametrize("kw", [dict(ws=(2, 2)), dict(ws=(2, 3), ignore_border=False),
                                dict(ws=(3, 2), stride=(2, 1), pad=(1, 1),
                                     mode="average_exc_pad", ignore_border=True),
                                dict(ws=(2, 2), stride=(1, 1), mode="average_inc_pad",
                                     pad=(1, 0), ignore_border=True),
                                dict(ws=(2, 2), mode="sum", ignore_border=False),
                                dict(ws=(3, 2), stride=(3, 2), pad=(2, 1), ignore_border=False),
                                dict(ws=(3, 2), stride=(2, 3), pad=(1, 1),
                                     mode="average_exc_pad", ignore_border=False)])
def test_pool_and_its_gradient(kw):
    from symnet.tensor.signal.pool import pool_2d
    x = rand((2, 1, 5, 4))
    x[0, 0, 0, :2] = 0.25       # ties in a max window: the first gets the gradient
    x[1, 0, :2, 1] = 3.0

    def graph(x):
        y = pool_2d(x, **kw)
        return [y, T.grad((y * y).sum(), x)]
    check_op(graph, [x], modes=CUDA, static_shapes=True)


def test_pool_3d_falls_back_loudly_and_agrees():
    # the 2-d kernels once pooled the last two axes with the first two window
    # sizes: a silently wrong result; now the host computes it, warning
    from symnet.backend import registry
    from symnet.tensor.signal.pool import pool_3d
    registry._WARNED.discard(("cuda", "Pool"))
    with pytest.warns(RuntimeWarning, match="no kernel for Pool"):
        check_op(lambda x: pool_3d(x, (2, 2, 2), stride=(1, 2, 2), ignore_border=True),
                 [rand((1, 2, 4, 5, 5))], modes=CUDA)


def _conv_on_kernels_agrees(nd, xs, ws, groups, kw, dtype="float64"):
    """Conv{nd}d with ``num_groups=groups`` and both gradients: CUDA kernels
    (SYMNET_STRICT refuses a fallback, the graph keeps the grouped ops) that
    agree with py."""
    from symnet.configdefaults import config
    from symnet.tensor.nnet import conv2d
    from symnet.tensor.ops import conv, conv3d
    from tests.oracles import default_tol
    config.strict = True
    fn, mod = (conv2d, conv) if nd == 2 else (T.nnet.conv3d, conv3d)
    x, w = rand(xs, dtype), rand(ws, dtype, rng=np.random.default_rng(1))

    def graph(x, w):
        y = fn(x, w, num_groups=groups, **kw)
        return [y] + T.grad((y * y).sum(), [x, w])
    xv, wv = T.TensorType(dtype, shape=xs)("x"), T.TensorType(dtype, shape=ws)("w")
    f = symnet.function([xv, wv], graph(xv, wv), mode="cuda")
    assert f.thunk.fallback_nodes == []
    ops = [n.op for n in f.maker.fgraph.toposort()]
    for name in (f"Conv{nd}d", f"Conv{nd}dGradInputs", f"Conv{nd}dGradWeights"):
        assert any(type(op) is getattr(mod, name) and op.num_groups == groups
                   for op in ops), name
    # CUDA first: no buffer of the simulator's can hold py's answers yet
    got = f(x, w)
    want = symnet.function([xv, wv], graph(xv, wv), mode="py")(x, w)
    rtol, atol = default_tol(dtype)
    for name, g, r in zip(["y", "gx", "gw"], got, want):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=name)
    check_op(graph, [x, w], modes=CUDA, static_shapes=True)


@pytest.mark.parametrize("xs, ws, groups, kw, dtype", [
    ((2, 4, 5, 4), (4, 2, 2, 3), 2, dict(border_mode="half"), "float64"),
    ((1, 6, 6, 5), (6, 2, 3, 2), 3, dict(border_mode="full", filter_flip=False), "float64"),
    ((2, 4, 7, 6), (8, 1, 3, 2), 4, dict(subsample=(2, 1)), "float64"),   # depthwise, x2
    ((2, 4, 6, 7), (2, 2, 2, 2), 2, dict(border_mode=(1, 2), subsample=(1, 2),
                                         filter_dilation=(2, 1)), "float64"),
    ((1, 6, 7, 5), (4, 3, 2, 3), 2, dict(border_mode="half", filter_dilation=(1, 2),
                                         filter_flip=False), "float64"),
    ((2, 4, 4, 4), (4, 2, 2, 2), 2, dict(), "float32"),
])
def test_grouped_conv2d_and_its_gradients_run_on_kernels(xs, ws, groups, kw, dtype):
    _conv_on_kernels_agrees(2, xs, ws, groups, kw, dtype)


@pytest.mark.parametrize("xs, ws, groups, kw, dtype", [
    ((2, 2, 4, 3, 3), (3, 2, 2, 2, 1), 1, dict(), "float64"),
    ((1, 4, 4, 5, 3), (4, 2, 2, 3, 2), 2, dict(border_mode="half"), "float64"),
    ((2, 3, 5, 4, 4), (6, 1, 2, 1, 2), 3, dict(border_mode="full", filter_flip=False,
                                               subsample=(2, 1, 1)), "float64"),
    ((1, 4, 5, 5, 4), (2, 2, 2, 2, 2), 2, dict(border_mode=(1, 0, 2), subsample=(1, 2, 1),
                                               filter_dilation=(2, 1, 1)), "float64"),
    ((1, 2, 3, 4, 3), (2, 1, 2, 2, 2), 2, dict(border_mode="half"), "float32"),
])
def test_conv3d_and_its_gradients_run_on_kernels(xs, ws, groups, kw, dtype):
    _conv_on_kernels_agrees(3, xs, ws, groups, kw, dtype)


@pytest.mark.parametrize("nd", [2, 3])
def test_grouped_conv_channel_mismatch_names_the_shapes(nd):
    from symnet.tensor.nnet import conv2d
    fn = conv2d if nd == 2 else T.nnet.conv3d
    x, w = (T.TensorType("float64", shape=(None,) * (2 + nd))(n) for n in "xw")
    f = symnet.function([x, w], fn(x, w, num_groups=2), mode="cuda")
    with pytest.raises(ValueError, match=rf"conv{nd}d: input has 6 channels, filters expect 2 "
                                         r".*\(4, 2, 2, 2.* per group of num_groups=2"):
        f(np.zeros((1, 6) + (4,) * nd), np.zeros((4, 2) + (2,) * nd))


def test_reversed_slices_fall_back_loudly_and_agree():
    from symnet.backend import registry
    registry._WARNED.discard(("cuda", "Subtensor"))
    with pytest.warns(RuntimeWarning, match="no kernel for Subtensor"):
        check_op(lambda x: x[::-1, 1:] * 2, [rand((3, 4))], modes=CUDA)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_and_bool_elementwise(dtype):
    a = rand((2, 3), dtype, low=0, high=9)
    b = rand((2, 3), dtype, low=1, high=9)
    if dtype == "bool":
        check_op(lambda a, b: [T.and_(a, b), T.or_(a, b), T.xor(a, b), T.invert(a),
                               T.eq(a, b)], [a, b], modes=CUDA)
    else:
        check_op(lambda a, b: [a + b * 3, a // b, a % b, T.maximum(a, b), a / b,
                               T.sum(a * b, axis=0)], [a, b], modes=CUDA)


def test_full_sum_inside_a_run_and_its_members():
    x = T.dmatrix("x")
    f = symnet.function([x], [T.exp(x) * 2, (T.exp(x) * 2).sum()], mode="cuda")
    xv = rand((3, 2))
    got = f(xv)
    np.testing.assert_allclose(got[0], np.exp(xv) * 2)
    np.testing.assert_allclose(got[1], (np.exp(xv) * 2).sum())


def test_concurrent_calls_of_one_function():
    import threading
    x = T.dvector("x")
    f = symnet.function([x], T.tanh(x).sum() * 2, mode="cuda")
    vals = [np.full(4, k / 10) for k in range(4)]
    out = [None] * 4

    def call(k):
        out[k] = f(vals[k])
    threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(out, [np.tanh(v).sum() * 2 for v in vals])
