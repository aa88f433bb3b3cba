"""``PoolConvGradWeights`` (tensor/ops/pool_fused.py), its rewrite
``local_pool_conv_grad_weights`` (tensor/rewriting/pool_fuse.py) and its
numba kernel (``pool_fused.pool_conv_grad_weights``,
``lib/pool_fused_loops.py``): a CNN layer's filter gradient straight from
the pooled output's gradient when nothing else reads the layer's ``gc``.

The kernel called directly agrees with the op's ``perform`` (the py
reference: ``MaxPoolBiasActGrad`` then ``Conv2dGradWeights``) over
hypothesis-drawn shapes, border modes, strides, dilations, flips, windows,
activations and dtypes, serial and on 2 or 3 threads, both on its fused
loop and on the unfused path it takes for few output positions; mismatched
shapes are errors naming them.  In graphs: the rewrite fires on numba (and
on py with the numba rewrites) when only the filters' and bias' gradients
are asked for, not when the input's is too, values agree with py, the
gradients pass verify_grad on both backends, and a small CNN trained for
a few SGD steps on numba ends with the py backend's parameters."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv, pool_fused
from symnet.backend.numba_cpu.lib import pool_fused_loops
from symnet.compile.mode import Mode, get_mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv_fused import NAN_SIGN
from symnet.tensor.ops.conv import Conv2dGradWeights, _padding, conv2d, conv_output_length
from symnet.tensor.ops.pool import MaxPoolArgmax, pool_2d
from symnet.tensor.ops.pool_fused import MaxPoolBiasActGrad, PoolConvGradWeights

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache

FUSED_PY = Mode("py").including("numba")
BORDERS = ["valid", "full", "half", (1, 2)]


def _case(b, c_in, k, size, ksize, border, stride, dil, ws, dtype, seed):
    """``(x, c, idx, gz, s)`` for a conv of ``x`` (b, c_in, *size) by
    ``k`` filters of ``ksize``, its output ``c`` max pooled by ``ws``; None
    when the filters or the windows do not fit."""
    rng = np.random.default_rng(seed)
    out = tuple(conv_output_length(n, kk, p, s_, d) for n, kk, p, s_, d in
                zip(size, ksize, _padding(border, ksize, dil), stride, dil))
    if min(out) < 1 or any(o < w for o, w in zip(out, ws)):
        return None
    x = rng.normal(size=(b, c_in) + size).astype(dtype)
    c = rng.normal(size=(b, k) + out).astype(dtype)
    am = MaxPoolArgmax(ws, True, ws, (0, 0))
    store = [[None], [None]]
    am.perform(am.make_node(c), [c], store)
    gz = rng.normal(size=store[0][0].shape).astype(dtype)
    s = rng.integers(-1, 2, size=c.shape).astype("int8")
    return x, c, store[1][0], gz, s


def _ops(ws, act, border, stride, dil, flip):
    return (MaxPoolBiasActGrad(ws, True, ws, (0, 0), act),
            Conv2dGradWeights(border, stride, flip, dil))


def _reference(x, c, idx, gz, s, shape, ws, act, border, stride, dil, flip):
    op = PoolConvGradWeights(*_ops(ws, act, border, stride, dil, flip))
    store = [[None], [None]]
    op.perform(op.make_node(x, c, idx, gz, s, shape), [x, c, idx, gz, s, shape], store)
    return store[0][0], store[1][0]


@settings(max_examples=examples(25), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(b=st.integers(1, 5), c_in=st.integers(1, 3), k=st.integers(1, 4),
       size=st.tuples(st.integers(4, 12), st.integers(4, 12)),
       ksize=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       border=st.sampled_from(BORDERS), stride=st.sampled_from([(1, 1), (2, 1)]),
       dil=st.sampled_from([(1, 1), (1, 2)]), flip=st.booleans(),
       ws=st.sampled_from([(2, 2), (3, 2)]), act=st.sampled_from(["relu", "max", "linear"]),
       dtype=st.sampled_from(["float32", "float64"]), nt=st.sampled_from([0, 2, 3]),
       fused=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_kernel_agrees_with_perform(b, c_in, k, size, ksize, border, stride, dil, flip, ws,
                                    act, dtype, nt, fused, seed, monkeypatch):
    case = _case(b, c_in, k, size, ksize, border, stride, dil, ws, dtype, seed)
    if case is None:
        return
    x, c, idx, gz, s = case
    shape = np.array((k, c_in) + ksize)
    # the fused loop runs from PER_IMAGE_POSITIONS output positions: 1 sends
    # every drawn shape there, a size above any drawn one none
    monkeypatch.setattr(conv, "PER_IMAGE_POSITIONS", 1 if fused else 10 ** 6)
    monkeypatch.setattr(pool_fused, "_threads", lambda nbytes: nt)
    ran = []
    real = pool_fused_loops.pool_grad_weights_images
    monkeypatch.setattr(pool_fused_loops, "pool_grad_weights_images",
                        lambda *a: ran.append(a[-1]) or real(*a))
    args = (ws, act, border, stride, dil, flip)
    gw, gb = pool_fused.pool_conv_grad_weights(x, c, idx, gz, s, shape, *args, dtype)
    want_gw, want_gb = _reference(x, c, idx, gz, s, shape, *args)
    assert sorted(ran) == (list(range(max(nt, 1))) if fused else [])
    assert gw.dtype == np.dtype(dtype) and gb.dtype == np.dtype(dtype)
    assert gw.shape == tuple(shape) and gb.shape == (k,)
    assert gw.flags.c_contiguous
    tol = 2e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(gw, want_gw, rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, want_gb, rtol=tol, atol=tol)


@settings(max_examples=examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(b=st.integers(1, 4), k=st.integers(1, 4),
       size=st.tuples(st.integers(4, 11), st.integers(4, 11)),
       ws=st.sampled_from([(2, 2), (3, 2)]), act=st.sampled_from(["relu", "max", "linear"]),
       dtype=st.sampled_from(["float32", "float64"]), nt=st.sampled_from([0, 2]),
       seed=st.integers(0, 2 ** 16))
def test_kernels_with_zero_and_nan_signs_agree_with_perform(b, k, size, ws, act, dtype, nt,
                                                            seed, monkeypatch):
    """The sign of a zero and of a NaN convolution output (0 and NAN_SIGN,
    which _case never draws) give the unfused ops' values in both kernels
    of lib/pool_fused_loops.py: the plane pass (``_plane_grad``) makes 0.5x
    and NaN of them where no gradient arrives too, with the bias sums."""
    case = _case(b, 1, k, size, (2, 2), "valid", (1, 1), (1, 1), ws, dtype, seed)
    if case is None:
        return
    x, c, idx, gz, s = case
    rng = np.random.default_rng(seed + 1)
    s = rng.choice(np.array([-1, 0, 1, NAN_SIGN], "int8"), size=s.shape, p=[.4, .1, .4, .1])
    s.flat[0] = NAN_SIGN
    shape = np.array((k, 1, 2, 2))
    monkeypatch.setattr(conv, "PER_IMAGE_POSITIONS", 1)
    monkeypatch.setattr(pool_fused, "_threads", lambda nbytes: nt)
    args = (ws, act, "valid", (1, 1), (1, 1), True)
    gw, gb = pool_fused.pool_conv_grad_weights(x, c, idx, gz, s, shape, *args, dtype)
    want_gw, want_gb = _reference(x, c, idx, gz, s, shape, *args)
    tol = 2e-4 if dtype == "float32" else 1e-10
    assert np.isnan(want_gb).any() == (act == "relu")
    np.testing.assert_allclose(gw, want_gw, rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, want_gb, rtol=tol, atol=tol)
    gc, gb = pool_fused.pool_bias_act_grad(c, idx, gz, s, ws, act, dtype)
    op = MaxPoolBiasActGrad(ws, True, ws, (0, 0), act)
    store = [[None], [None]]
    op.perform(op.make_node(c, idx, gz, s), [c, idx, gz, s], store)
    assert gc.dtype == np.dtype(dtype) and gc.shape == c.shape
    np.testing.assert_array_equal(np.isnan(gc), np.isnan(store[0][0]))
    np.testing.assert_allclose(gc, store[0][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, store[1][0], rtol=tol, atol=tol)


def test_mismatched_shapes_are_named(monkeypatch):
    monkeypatch.setattr(conv, "PER_IMAGE_POSITIONS", 1)
    x, c, idx, gz, s = _case(2, 1, 3, (9, 9), (2, 2), "valid", (1, 1), (1, 1), (2, 2),
                             "float64", 0)
    args = ((2, 2), "relu", "valid", (1, 1), (1, 1), True, "float64")
    with pytest.raises(ValueError, match=r"output of shape \(2, 3, 8, 8\) does not match "
                                         r"input \(2, 1, 9, 9\) and filters \(3, 1, 3, 3\)"):
        pool_fused.pool_conv_grad_weights(x, c, idx, gz, s, (3, 1, 3, 3), *args)
    with pytest.raises(ValueError, match=r"output gradient \(2, 3, 4, 3\)"):
        pool_fused.pool_conv_grad_weights(x, c, idx, gz[..., :3], s, (3, 1, 2, 2), *args)


def _net(wrt):
    """A conv layer (relu), 2x2 max pooling and a dense map; the output and
    the gradients of a loss wrt ``wrt`` (names among x, w, b)."""
    def fn(x, w, b, v):
        h = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
        out = T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), v)
        args = dict(x=x, w=w, b=b)
        return [out] + symnet.grad(T.sum(out * out), [args[n] for n in wrt])
    return fn


def _values(x_shape, w_shape, seed, dtype="float64"):
    rng = np.random.default_rng(seed)
    ho, wo = (n - k + 1 for n, k in zip(x_shape[2:], w_shape[2:]))
    n_out = w_shape[0] * (ho // 2) * (wo // 2)
    return [rng.normal(size=s).astype(dtype) for s in
            (x_shape, w_shape, (w_shape[0],), (n_out, 2))]


def _names(fn, vals, mode):
    sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
    return [type(n.op).__name__ for n in symnet.function(sym, fn(*sym), mode=mode)
            .fgraph.toposort()]


# 17x17 inputs, 2x2 filters: 256 output positions, the fused loop's
# (conv.PER_IMAGE_POSITIONS); 9x9: 64, the unfused path
@pytest.mark.parametrize("x_shape,w_shape", [((3, 2, 17, 17), (3, 2, 2, 2)),
                                             ((2, 1, 9, 9), (2, 1, 2, 2))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rewrite_fires_only_without_the_input_gradient(x_shape, w_shape, dtype):
    use_tmp_cache()
    vals = _values(x_shape, w_shape, sum(x_shape), dtype)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else {}
    for wrt, fused in ((("w", "b"), True), (("w",), True), (("x", "w", "b"), False)):
        fn = _net(wrt)
        check_op(fn, vals, static_shapes=True, modes=[Mode("numba"), FUSED_PY, Mode("py")],
                 **tol)
        for mode in (Mode("numba"), FUSED_PY):
            names = _names(fn, vals, mode)
            assert ("PoolConvGradWeights" in names) == fused, names
            assert ("MaxPoolBiasActGrad" in names) != fused, names
            assert ("Conv2dGradWeights" in names) != fused, names
        # (SYMNET_FORCE_BACKEND=numba makes Mode('py') a numba mode: fused there)
        assert ("PoolConvGradWeights" in _names(fn, vals, Mode("py"))) == \
            (fused and get_mode(Mode("py")).linker == "numba")


def test_gradients_by_finite_differences_on_both_backends():
    use_tmp_cache()
    x, w, b, v = _values((2, 1, 17, 17), (2, 1, 2, 2), 3)

    def loss(ws, bs):
        h = T.nnet.relu(conv2d(T.constant(x), ws) + bs.dimshuffle("x", 0, "x", "x"))
        return T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), T.constant(v))
    for mode in (Mode("numba"), FUSED_PY):
        names = _names(lambda ws, bs: symnet.grad(T.sum(loss(ws, bs)), [ws, bs]), [w, b], mode)
        assert "PoolConvGradWeights" in names, names
        verify_grad(loss, [w, b], rng=np.random.RandomState(1), mode=mode)


def test_cnn_training_steps_match_py():
    """W4's layer shapes, smaller: SGD with momentum for 3 steps on numba and
    on py from the same start; the parameters end equal."""
    use_tmp_cache()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 1, 20, 20)).astype("float32")
    y = rng.integers(0, 4, size=6).astype("int32")
    start = [(rng.normal(size=(4, 1, 5, 5)) * 0.2).astype("float32"),
             np.zeros(4, "float32"),
             (rng.normal(size=(4 * 8 * 8, 4)) * 0.1).astype("float32"),
             np.zeros(4, "float32")]
    ends = {}
    for name, mode in (("numba", Mode("numba", tiered=False)), ("py", Mode("py"))):
        sh = [symnet.shared(p.copy()) for p in start]
        vel = [symnet.shared(np.zeros_like(p)) for p in start]
        X, Y = T.TensorType("float32", shape=(None, 1, 20, 20))("x"), T.ivector("y")
        h = T.nnet.relu(conv2d(X, sh[0]) + sh[1].dimshuffle("x", 0, "x", "x"))
        h = pool_2d(h, (2, 2), ignore_border=True).flatten(2)
        p = T.nnet.softmax(T.dot(h, sh[2]) + sh[3])
        loss = T.mean(T.nnet.categorical_crossentropy(p, Y))
        updates = []
        for s_, v_, g in zip(sh, vel, symnet.grad(loss, sh)):
            nv = 0.9 * v_ - 0.05 * g
            updates += [(v_, nv), (s_, s_ + nv)]
        f = symnet.function([X, Y], loss, updates=updates, mode=mode)
        if name == "numba":
            names = [type(n.op).__name__ for n in f.fgraph.toposort()]
            assert {"PoolConvGradWeights", "Conv2dBiasActPool"} <= set(names), names
        losses = [float(f(x, y)) for _ in range(3)]
        ends[name] = (losses, [s_.get_value() for s_ in sh])
    np.testing.assert_allclose(ends["numba"][0], ends["py"][0], rtol=1e-4)
    for got, want in zip(ends["numba"][1], ends["py"][1]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
