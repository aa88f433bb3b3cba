"""The direct convolution (``numba_cpu/conv_direct.py``, loops in
``lib/conv_direct_loops.py``): forward with bias, activation and sign, and
the filter and bias gradients, agree with the py reference ops over
hypothesis-drawn shapes (1-4 input channels, filters up to 7 wide so every
tap grouping runs), strides, dilations, pads and flips; serial and
threaded loops agree; with the routing threshold raised, compiled graphs
(plain and fused convolutions, their gradients) take the direct path and
give the py backend's values, and gradients pass verify_grad."""
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv_direct as direct
from symnet.backend.numba_cpu.conv import _Geometry
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import Conv2d, Conv2dGradWeights, conv2d
from symnet.tensor.ops.conv_fused import ACTS, bias_act, sign_of

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache
from .test_conv_kernels import _fits


@st.composite
def direct_convs(draw):
    """1-4 input channels, filters up to 7x7 (every tap grouping), strides
    and dilations 1-2, every border mode; one group."""
    def ints(lo, hi):
        return draw(st.integers(lo, hi))
    c_in = ints(1, 4)
    x_shape = (ints(1, 3), c_in, ints(1, 12), ints(1, 12))
    w_shape = (ints(1, 3), c_in, ints(1, 7), ints(1, 7))
    kw = dict(border_mode=draw(st.one_of(st.sampled_from(["valid", "full", "half"]),
                                         st.tuples(st.integers(0, 2), st.integers(0, 2)))),
              subsample=(ints(1, 2), ints(1, 2)), filter_dilation=(ints(1, 2), ints(1, 2)),
              filter_flip=draw(st.booleans()))
    return x_shape, w_shape, kw, draw(st.sampled_from(["float32", "float64"]))


def _args(x_shape, w_shape, kw):
    geo = _Geometry(x_shape[2:], w_shape[2:], kw["border_mode"], kw["subsample"],
                    kw["filter_dilation"])
    return geo, kw["filter_flip"]


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=direct_convs(), act=st.sampled_from(ACTS), seed=st.integers(0, 2 ** 16))
def test_direct_kernels_agree_with_the_reference_ops(case, act, seed):
    x_shape, w_shape, kw, dtype = case
    assume(_fits(x_shape, w_shape, kw))
    rng = np.random.default_rng(seed)
    x, w = (rng.normal(size=s).astype(dtype) for s in (x_shape, w_shape))
    b = rng.normal(size=w_shape[0]).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    c = Conv2d(**kw).forward(x, w)
    geo = _args(x_shape, w_shape, kw)
    out, s = direct.direct_conv2d(x, w, b, *geo, dtype, ACTS.index(act), True)
    assert out.dtype == dtype and out.shape == c.shape
    np.testing.assert_allclose(out, bias_act(c, b, act), **tol)
    # the sign may differ only where c + b rounds to 0 differently
    a = c + b[None, :, None, None]
    sure = np.abs(a) > 1e-3
    np.testing.assert_array_equal(s[sure], sign_of(c, b)[sure])
    plain, none = direct.direct_conv2d(x, w, None, *geo, dtype)
    assert none is None
    np.testing.assert_allclose(plain, c, **tol)

    gz = rng.normal(size=c.shape).astype(dtype)
    node = Conv2dGradWeights(**kw).make_node(x, gz, np.array(w_shape))
    store = [[None]]
    node.op.perform(node, [x, gz, np.array(w_shape)], store)
    gw, gb = direct.direct_grad_weights(x, gz, w_shape, *geo, dtype)
    want = store[0][0]
    assert gw.dtype == dtype and gw.shape == w_shape and gb.shape == (w_shape[0],)
    np.testing.assert_allclose(gw, want, **tol)
    np.testing.assert_allclose(gb, gz.sum(axis=(0, 2, 3)), **tol)


@pytest.mark.parametrize("kw", [
    dict(border_mode="valid", subsample=(1, 1), filter_dilation=(1, 1)),
    dict(border_mode=(2, 1), subsample=(2, 1), filter_dilation=(1, 2)),
    dict(border_mode="half", subsample=(1, 2), filter_dilation=(2, 1))])
def test_threaded_direct_loops_agree_with_serial(kw, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 2, 14, 13)).astype("float32")
    w = rng.normal(size=(4, 2, 5, 3)).astype("float32")
    b = rng.normal(size=4).astype("float32")
    args = _args(x.shape, w.shape, dict(kw, filter_flip=True)) + ("float32",)
    serial = direct.direct_conv2d(x, w, b, *args, 1, True)
    gz = rng.normal(size=serial[0].shape).astype("float32")
    gserial = direct.direct_grad_weights(x, gz, w.shape, *args)
    monkeypatch.setattr(direct, "lib_threads", lambda: True)
    monkeypatch.setattr(direct, "THREAD_MIN_BYTES", 0)
    threaded = direct.direct_conv2d(x, w, b, *args, 1, True)
    # the same loops, compiled apart (the threaded copy through numba's
    # parfor pass): with NUMBA_OPT=0 their multiply-adds may round apart
    np.testing.assert_allclose(threaded[0], serial[0], rtol=1e-5, atol=1e-5)
    sure = np.abs(serial[0]) > 1e-4
    np.testing.assert_array_equal(threaded[1][sure], serial[1][sure])
    gthreaded = direct.direct_grad_weights(x, gz, w.shape, *args)
    np.testing.assert_allclose(gthreaded[0], gserial[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gthreaded[1], gserial[1], rtol=1e-5, atol=1e-5)


def test_routed_errors_name_the_shapes(monkeypatch):
    """The checks of the im2col path hold on the direct path too."""
    from symnet.backend.numba_cpu.conv import conv2d_forward, conv2d_grad_weights
    monkeypatch.setattr(direct, "DIRECT_MAX_TAPS", 10 ** 6)
    x, w = np.zeros((2, 3, 8, 8), "float32"), np.zeros((4, 2, 3, 3), "float32")
    args = ("valid", (1, 1), (1, 1), True, "float32")
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\).*\(4, 2, 3, 3\)"):
        conv2d_forward(x, w, *args)
    with pytest.raises(ValueError, match="do not fit"):
        conv2d_forward(x[:, :2, :2, :2], w, *args)
    with pytest.raises(ValueError, match="output gradient of shape"):
        conv2d_grad_weights(x, np.zeros((2, 4, 5, 5), "float32"), (4, 3, 3, 3), *args)


def test_routing_threshold_counts_the_filter_taps(monkeypatch):
    monkeypatch.setattr(direct, "DIRECT_MAX_TAPS", 25)
    assert direct.use_direct((32, 1, 5, 5), 1)
    assert not direct.use_direct((32, 2, 5, 5), 1)      # 50 taps
    assert not direct.use_direct((32, 1, 5, 5), 2)      # grouped: the GEMM path
    monkeypatch.setattr(direct, "DIRECT_MAX_TAPS", 0)
    assert not direct.use_direct((32, 1, 1, 1), 1)


def _w4_like(x, w, b, v):
    """W4's first layer, small: relu(conv + b), 2x2 max pool, a dense map,
    and the gradients wrt w and b (not x: conv1's input gradient)."""
    from symnet.tensor.ops.pool import pool_2d
    h = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
    out = T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), v)
    return [out] + symnet.grad(T.sum(out * out), [w, b])


def _plain(x, w):
    y = conv2d(x, w, border_mode="half", subsample=(2, 1))
    return [y] + symnet.grad(T.sum(y * y), [x, w])


@pytest.mark.parametrize("taps", [0, 10 ** 6])
def test_routed_graphs_agree_with_py_both_ways(taps, monkeypatch):
    """Both sides of the threshold give the py backend's values; above it
    the direct functions ran (forward and filter gradient)."""
    use_tmp_cache()
    monkeypatch.setattr(direct, "DIRECT_MAX_TAPS", taps)
    rng = np.random.default_rng(5)
    vals = [rng.normal(size=s).astype("float32") for s in
            ((3, 1, 12, 12), (4, 1, 5, 5), (4,), (64, 3))]
    calls = {"fwd": 0, "grad": 0}
    fwd, grad = direct.direct_conv2d, direct.direct_grad_weights

    def count(name, fn):
        def wrapped(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapped
    with mock.patch.object(direct, "direct_conv2d", count("fwd", fwd)), \
            mock.patch.object(direct, "direct_grad_weights", count("grad", grad)):
        check_op(_w4_like, vals, static_shapes=True, modes=[Mode("numba"), Mode("py")],
                 rtol=1e-4, atol=1e-4)
        check_op(_plain, vals[:2], static_shapes=True, modes=[Mode("numba"), Mode("py")],
                 rtol=1e-4, atol=1e-4)
    if taps:
        assert calls["fwd"] >= 2 and calls["grad"] >= 2, calls
    else:
        assert calls == {"fwd": 0, "grad": 0}


def test_direct_gradients_by_finite_differences(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(direct, "DIRECT_MAX_TAPS", 10 ** 6)
    rng = np.random.default_rng(2)
    xv, wv = rng.normal(size=(2, 2, 6, 7)), rng.normal(size=(3, 2, 3, 2))
    for kw in (dict(border_mode="valid"), dict(border_mode=(1, 2), subsample=(2, 1),
                                               filter_dilation=(1, 2))):
        verify_grad(lambda x, w: conv2d(x, w, **kw), [xv, wv],
                    rng=np.random.RandomState(1), mode=Mode("numba"))
