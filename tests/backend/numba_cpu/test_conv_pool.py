"""``Conv2dBiasActPool`` (tensor/ops/pool_fused.py), its rewrite
``local_conv_bias_act_pool`` (tensor/rewriting/pool_fuse.py) and its numba
kernel (``conv_fused.conv2d_bias_act_pool``: each image max pooled right
after its convolution in ``lib/conv_par.py``'s per-image loop, else one
pass of ``lib/pool_fused_loops.max_pool_argmax_image`` afterwards).

The kernel called directly agrees with the op's ``perform`` (the py
reference: ``Conv2dBiasAct`` then ``MaxPoolArgmax``) over hypothesis-drawn
shapes, border modes, strides, dilations, flips, windows, activations,
signs kept or not, dtypes and NaN inputs, on 2 or 3 threads of the
per-image layout and serially; its pooled output and offsets are exactly
those of ``MaxPoolArgmax`` on its own convolution output (ties and NaN
included).  In graphs: the rewrite fires on numba (and on py with the
numba rewrites) for windows that tile the output, not for overlapping
ones, and values and gradients agree with py."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv_fused as nfused
from symnet.compile.mode import Mode, get_mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import _padding, conv2d, conv_output_length
from symnet.tensor.ops.conv_fused import Conv2dBiasAct
from symnet.tensor.ops.pool import MaxPoolArgmax, argmax_dtype, pool_2d
from symnet.tensor.ops.pool_fused import Conv2dBiasActPool

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache
from .test_conv_threads_images import _image_threads

FUSED_PY = Mode("py").including("numba")


def _perform(op, inputs, n_out):
    store = [[None] for _ in range(n_out)]
    op.perform(op.make_node(*inputs), inputs, store)
    return [s[0] for s in store]


@settings(max_examples=examples(25), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(b=st.integers(1, 5), c_in=st.integers(1, 3), k=st.integers(1, 4),
       size=st.tuples(st.integers(4, 12), st.integers(4, 12)),
       ksize=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       border=st.sampled_from(["valid", "full", "half", (1, 2)]),
       stride=st.sampled_from([(1, 1), (2, 1)]), dil=st.sampled_from([(1, 1), (1, 2)]),
       flip=st.booleans(), ws=st.sampled_from([(2, 2), (3, 2)]),
       act=st.sampled_from(["relu", "max", "linear"]), keep=st.booleans(),
       dtype=st.sampled_from(["float32", "float64"]), nt=st.sampled_from([0, 2, 3]),
       data=st.sampled_from(["normal", "ties", "nan"]), shape_only=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_kernel_agrees_with_perform(b, c_in, k, size, ksize, border, stride, dil, flip, ws,
                                    act, keep, dtype, nt, data, shape_only, seed, monkeypatch):
    out = tuple(conv_output_length(n, kk, p, s_, d) for n, kk, p, s_, d in
                zip(size, ksize, _padding(border, ksize, dil), stride, dil))
    if min(out) < 1:
        return
    rng = np.random.default_rng(seed)
    x = (rng.integers(-1, 2, size=(b, c_in) + size) if data == "ties"
         else rng.normal(size=(b, c_in) + size)).astype(dtype)
    if data == "nan":
        x[0, 0, size[0] // 2, size[1] // 2] = np.nan
    w = (rng.integers(-1, 2, size=(k, c_in) + ksize) if data == "ties"
         else rng.normal(size=(k, c_in) + ksize)).astype(dtype)
    bias = rng.normal(size=k).astype(dtype)
    ran = _image_threads(monkeypatch, nt)
    got = nfused.conv2d_bias_act_pool(x, w, bias, border, stride, dil, flip, dtype, 1, act,
                                      keep, ws, argmax_dtype(ws))
    if shape_only:
        # the convolution output's values are undefined (the per-image
        # threads never write it): every other output is exactly the one
        # made with it, its own shape and dtype kept
        only = nfused.conv2d_bias_act_pool(x, w, bias, border, stride, dil, flip, dtype, 1,
                                           act, keep, ws, argmax_dtype(ws), shape_only=True)
        assert len(only) == len(got)
        assert only[0].shape == got[0].shape and only[0].dtype == got[0].dtype
        for g, v in zip(got[1:], only[1:]):
            assert g.dtype == v.dtype
            np.testing.assert_array_equal(v, g)
        assert ran.count("forward_image_chunks") == 2 * nt
    conv = Conv2dBiasAct(border, stride, flip, dil, 1, act, keep)
    pool = MaxPoolArgmax(ws, True, ws, (0, 0))
    want = _perform(Conv2dBiasActPool(conv, pool), [x, w, bias], 4 if keep else 3)
    assert ran.count("forward_image_chunks") == nt * (2 if shape_only else 1)
    assert len(got) == len(want)
    for g, v in zip(got, want):
        assert g.shape == v.shape and g.dtype == v.dtype
    tol = 2e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(got[0], want[0], rtol=tol, atol=tol)
    if keep:     # the sign of a value that rounds to 0 may differ: compare elsewhere
        clear = np.abs(want[0]) > tol
        np.testing.assert_array_equal(got[1][clear], want[1][clear])
    # the pooled output and offsets: exactly MaxPoolArgmax's of the
    # kernel's own convolution output (rounding may move a near tie)
    pooled, idx = _perform(pool, [got[0]], 2)
    np.testing.assert_array_equal(got[-2], pooled)
    np.testing.assert_array_equal(got[-1], idx)
    np.testing.assert_allclose(got[-2], want[-2], rtol=tol, atol=tol)


@pytest.mark.parametrize("nt", [0, 2])
def test_grouped_convolution_pools_after(nt, monkeypatch):
    """A grouped convolution (its groups one after another) is pooled in
    one pass afterwards: the same values as the op's perform."""
    _image_threads(monkeypatch, nt)
    rng = np.random.default_rng(nt)
    x, w, bias = rng.normal(size=(3, 4, 9, 8)), rng.normal(size=(6, 2, 2, 3)), \
        rng.normal(size=6)
    got = nfused.conv2d_bias_act_pool(x, w, bias, "valid", (1, 1), (1, 1), True, "float64", 2,
                                      "relu", True, (2, 2), "uint8")
    conv = Conv2dBiasAct("valid", (1, 1), True, (1, 1), 2, "relu", True)
    want = _perform(Conv2dBiasActPool(conv, MaxPoolArgmax((2, 2), True, (2, 2), (0, 0))),
                    [x, w, bias], 4)
    for g, v in zip(got, want):
        assert g.shape == v.shape and g.dtype == v.dtype
        np.testing.assert_allclose(g, v, rtol=1e-10, atol=1e-10)


def _net(wrt, ws=(2, 2), stride=None):
    """A conv layer (relu), max pooling and a dense map: the output and the
    gradients of a loss wrt ``wrt`` (names among x, w, b)."""
    def fn(x, w, b, v):
        h = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
        out = T.dot(pool_2d(h, ws, ignore_border=True, stride=stride).flatten(2), v)
        args = dict(x=x, w=w, b=b)
        return [out] + symnet.grad(T.sum(out * out), [args[n] for n in wrt])
    return fn


def _names(fn, vals, mode):
    sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
    return [type(n.op).__name__ for n in symnet.function(sym, fn(*sym), mode=mode)
            .fgraph.toposort()]


# 17x17 inputs, 2x2 filters: 256 output positions, the per-image layout
# (its threads where the pool has two); 9x9: 64, the per-chunk layout
@pytest.mark.parametrize("x_shape", [(3, 2, 17, 17), (2, 1, 9, 9)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rewrite_fires_for_tiling_windows_and_values_agree(x_shape, dtype):
    use_tmp_cache()
    rng = np.random.default_rng(sum(x_shape))
    w_shape = (3, x_shape[1], 2, 2)
    n_out = 3 * ((x_shape[2] - 1) // 2) ** 2
    vals = [rng.normal(size=s).astype(dtype) for s in
            (x_shape, w_shape, (3,), (n_out, 2))]
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else {}
    for wrt in (("w", "b"), ("x", "w", "b")):
        check_op(_net(wrt), vals, static_shapes=True,
                 modes=[Mode("numba"), FUSED_PY, Mode("py")], **tol)
        for mode in (Mode("numba"), FUSED_PY):
            names = _names(_net(wrt), vals, mode)
            assert "Conv2dBiasActPool" in names, names
            assert "MaxPoolArgmax" not in names and "Conv2dBiasAct" not in names, names
        # (SYMNET_FORCE_BACKEND=numba makes Mode('py') a numba mode: fused there)
        assert ("Conv2dBiasActPool" in _names(_net(wrt), vals, Mode("py"))) == \
            (get_mode(Mode("py")).linker == "numba")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shape_only_where_only_the_pooling_gradients_read_the_output(dtype, monkeypatch):
    """``local_conv_pool_shape_only``: the fused op is marked shape_only
    when the pooling gradients alone read its convolution output (with the
    input's gradient too), not when the graph also reads the activations
    (their sum) or returns them; values agree with py either way, on the
    per-image threads too."""
    use_tmp_cache()
    _image_threads(monkeypatch, 2)
    rng = np.random.default_rng(7)
    vals = [rng.normal(size=s).astype(dtype) for s in
            ((3, 1, 17, 17), (3, 1, 2, 2), (3,), (3 * 8 * 8, 2))]

    def net(wrt, extra):
        def fn(x, w, b, v):
            h = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
            out = T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), v)
            args = dict(x=x, w=w, b=b)
            grads = symnet.grad(T.sum(out * out), [args[n] for n in wrt])
            return [out] + grads + ([] if extra is None else [extra(h)])
        return fn
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else {}
    for wrt, extra, want in ((("w", "b"), None, True), (("x", "w", "b"), None, True),
                             (("w", "b"), T.sum, False), (("w", "b"), lambda h: h, False)):
        fn = net(wrt, extra)
        check_op(fn, vals, static_shapes=True, modes=[Mode("numba"), FUSED_PY, Mode("py")],
                 **tol)
        for mode in (Mode("numba"), FUSED_PY):
            sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
            ops = [n.op for n in symnet.function(sym, fn(*sym), mode=mode).fgraph.toposort()
                   if isinstance(n.op, Conv2dBiasActPool)]
            assert [op.shape_only for op in ops] == [want], (wrt, extra, ops)


def test_rewrite_stays_off_for_overlapping_windows():
    use_tmp_cache()
    rng = np.random.default_rng(3)
    vals = [rng.normal(size=s) for s in ((2, 1, 9, 9), (2, 1, 2, 2), (2,), (2 * 7 * 7, 2))]
    fn = _net(("w", "b"), stride=(1, 1))
    names = _names(fn, vals, Mode("numba"))
    assert "Conv2dBiasActPool" not in names and "MaxPoolArgmax" in names, names
    check_op(fn, vals, static_shapes=True, modes=[Mode("numba"), Mode("py")])


def test_gradients_by_finite_differences_on_both_backends():
    use_tmp_cache()
    rng = np.random.default_rng(4)
    x, v = rng.normal(size=(2, 1, 17, 17)), rng.normal(size=(2 * 8 * 8, 2))

    def loss(x_, ws, bs):
        h = T.nnet.relu(conv2d(x_, ws) + bs.dimshuffle("x", 0, "x", "x"))
        return T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), T.constant(v))
    w, b = rng.normal(size=(2, 1, 2, 2)), rng.normal(size=2)
    for mode in (Mode("numba"), FUSED_PY):
        sym = [T.dtensor4(), T.dtensor4(), T.dvector()]
        # (a forward alone keeps its plain Pool: the pair is made for a gradient)
        f = symnet.function(sym, symnet.grad(T.sum(loss(*sym)), sym), mode=mode)
        assert "Conv2dBiasActPool" in [type(n.op).__name__ for n in f.fgraph.toposort()]
        verify_grad(loss, [x, w, b], rng=np.random.RandomState(2), mode=mode)
