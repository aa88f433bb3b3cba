"""The numba pooling kernels (``Pool``, ``PoolGrad``) agree with the py
reference over hypothesis-drawn shapes, windows, strides, pads, modes and
``ignore_border`` both ways; gradients check against finite differences
on both backends; a CNN-style graph runs with no Python perform."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode, get_mode
from symnet.configdefaults import config
from symnet.gradient import verify_grad
from symnet.tensor.ops.pool import MODES, pool_2d, pool_output_length

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache


@st.composite
def pools(draw):
    ndim = draw(st.integers(2, 4))
    hw = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    lead = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    ws = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ignore_border = draw(st.booleans())
    # padding both with and without ignore_border
    pad = (draw(st.integers(0, ws[0] - 1)), draw(st.integers(0, ws[1] - 1)))
    mode = draw(st.sampled_from(MODES))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    return lead + hw, dict(ws=ws, stride=stride, ignore_border=ignore_border, pad=pad,
                           mode=mode), dtype


def _fits(shape, kw):
    return all(pool_output_length(n, w, s, p, kw["ignore_border"]) > 0
               for n, w, s, p in zip(shape[-2:], kw["ws"], kw["stride"], kw["pad"]))


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=pools(), seed=st.integers(0, 2 ** 16), ties=st.booleans())
def test_pool_and_its_gradient_agree_with_py(case, seed, ties):
    shape, kw, dtype = case
    assume(_fits(shape, kw))
    use_tmp_cache()
    rng = np.random.default_rng(seed)
    # ties: three distinct values, so most max windows hold tied maxima
    xv = (rng.integers(0, 3, size=shape) if ties else rng.normal(size=shape)).astype(dtype)

    def fn(x):
        y = pool_2d(x, **kw)
        # a weighted sum, so every window's gradient differs
        wts = T.constant(np.linspace(-1.0, 2.0, 64).astype(dtype))
        loss = T.sum(y * y) + T.sum(T.flatten(y)[:64] * wts[:T.flatten(y).shape[0]])
        return [y, symnet.grad(loss, x)]
    check_op(fn, [xv])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ignore_border,pad", [(True, (1, 1)), (False, (0, 0)),
                                               (False, (1, 1))])
def test_pool_gradient_by_finite_differences_on_numba(mode, ignore_border, pad):
    use_tmp_cache()
    xv = np.random.default_rng(4).normal(size=(2, 5, 6))   # distinct: no ties in a max

    def fn(x):
        return pool_2d(x, (3, 2), ignore_border=ignore_border, stride=(2, 1), pad=pad,
                       mode=mode)
    for backend in ("numba", "py"):
        verify_grad(fn, [xv], rng=np.random.RandomState(1), mode=Mode(backend))


def test_max_gradient_goes_to_the_first_tied_maximum_as_py():
    use_tmp_cache()
    x = T.matrix("x", dtype="float64")
    # overlapping windows (stride 1): a position may be the first max of
    # several windows and receives each one's gradient
    y = pool_2d(x, (2, 2), ignore_border=True, stride=(1, 1))
    g = symnet.grad(T.sum(y * T.constant(np.array([[1.0, 2.0], [4.0, 8.0]]))), x)
    xv = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    got = [symnet.function([x], g, mode=Mode(b))(xv) for b in ("numba", "py")]
    np.testing.assert_array_equal(got[0], got[1])
    # windows: (0,0)->x[0,0] w1; (0,1)->x[0,1] w2; (1,0)->x[1,1] w4; (1,1)->x[1,1] w8
    np.testing.assert_array_equal(got[0], [[1.0, 2.0, 0.0], [0.0, 12.0, 0.0],
                                           [0.0, 0.0, 0.0]])


def test_max_pool_with_padding_without_ignore_border_matches_numpy():
    use_tmp_cache()
    x = T.tensor3("x", dtype="float64")
    y = pool_2d(x, (3, 2), ignore_border=False, stride=(3, 2), pad=(2, 1))
    xv = np.random.default_rng(2).normal(size=(2, 4, 4))
    # numpy: pad with -inf, rows 2+4+2=8 -> windows at 0, 3 and 6, but 6 is
    # in the right padding (input rows are 2..5): dropped; columns 1+4+1=6
    # -> windows at 0, 2, 4
    canvas = np.full((2, 8, 6), -np.inf)
    canvas[:, 2:6, 1:5] = xv
    ref = canvas[:, :6].reshape(2, 2, 3, 3, 2).max(axis=(2, 4))
    for b in ("numba", "py"):
        np.testing.assert_array_equal(symnet.function([x], y, mode=Mode(b))(xv), ref)


def test_max_pool_propagates_nan():
    use_tmp_cache()
    x = T.matrix("x", dtype="float64")
    f = symnet.function([x], pool_2d(x, (2, 2), ignore_border=True), mode=Mode("numba"))
    out = f(np.array([[1.0, np.nan, 0.0, 2.0], [3.0, 0.0, 5.0, 1.0]]))
    assert np.isnan(out[0, 0]) and out[0, 1] == 5.0


def test_pooling_network_has_no_python_perform(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)   # a fallback raises
    x = T.tensor4("x", dtype="float32")
    y = pool_2d(pool_2d(x, (2, 2), ignore_border=True, mode="average_exc_pad", pad=(1, 1)),
                (2, 2), ignore_border=False)
    f = symnet.function([x], [y, symnet.grad(T.sum(y), x)], mode=Mode("numba"))
    assert "Python perform" not in f.source
    xv = np.random.default_rng(0).normal(size=(2, 3, 6, 6)).astype("float32")
    fp = symnet.function([x], [y, symnet.grad(T.sum(y), x)], mode=Mode("py"))
    for a, b in zip(f(xv), fp(xv)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- the argmax pair (MaxPoolArgmax / MaxPoolArgmaxGrad) -------------------------------

def _max_pool_fn(kw, dtype):
    def fn(x):
        y = pool_2d(x, mode="max", **kw)
        # NaN windows give no gradient on every backend: the loss skips them
        # (a NaN gz times PoolGrad's 0/1 mask would spread NaN in py only)
        yy = T.switch(T.isnan(y), 0, y)
        wts = T.constant(np.linspace(-1.0, 2.0, 64).astype(dtype))
        loss = T.sum(yy * yy) + T.sum(T.flatten(yy)[:64] * wts[:T.flatten(yy).shape[0]])
        return [y, symnet.grad(loss, x)]
    return fn


def _op_names(f):
    return [type(n.op).__name__ for n in f.fgraph.toposort()]


@settings(max_examples=examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=pools(), seed=st.integers(0, 2 ** 16), data=st.sampled_from(["normal", "ties", "nan"]))
def test_argmax_pair_agrees_with_pool_grad_on_numba_and_py(case, seed, data):
    """numba's rewritten pair, and the pair's py perform, give PoolGrad's
    values exactly: ties (the first maximum), NaN windows, padding,
    ignore_border both ways."""
    shape, kw, dtype = case
    kw.pop("mode")
    assume(_fits(shape, kw))
    use_tmp_cache()
    rng = np.random.default_rng(seed)
    xv = (rng.integers(0, 3, size=shape) if data == "ties" else
          rng.normal(size=shape)).astype(dtype)
    if data == "nan":
        xv.reshape(-1)[rng.integers(0, xv.size, size=max(1, xv.size // 5))] = np.nan
    x = T.TensorType(dtype, shape=(None,) * len(shape))("x")
    outs = _max_pool_fn(kw, dtype)(x)
    py = symnet.function([x], outs, mode=Mode("py"))(xv)
    for mode in (Mode("numba", tiered=False), Mode("py").including("numba")):
        f = symnet.function([x], outs, mode=mode)
        assert {"MaxPoolArgmax", "MaxPoolArgmaxGrad"} <= set(_op_names(f)), mode
        assert "PoolGrad" not in _op_names(f)
        # the same backend with PoolGrad: the same graph around the pair, so
        # the same values to the bit
        ref = symnet.function([x], outs, mode=mode.excluding("local_pool_argmax"))
        assert "PoolGrad" in _op_names(ref)
        got = f(xv)
        for a, b, c in zip(got, ref(xv), py):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_argmax_offsets_are_the_first_maximum_of_each_window():
    from symnet.tensor.ops.pool import MaxPoolArgmax
    use_tmp_cache()
    x = T.matrix("x", dtype="float64")
    # 2x2 windows of a 2x6 input, padded by one column each side: taps count
    # over the padded window; the third window's max is NaN (none: 4)
    y, idx = MaxPoolArgmax((2, 2), True, (2, 2), (0, 1))(x)
    xv = np.array([[1.0, 5.0, 5.0, 2.0, np.nan, 0.0], [0.0, 3.0, 7.0, 7.0, 1.0, 9.0]])
    for b in ("numba", "py"):
        got_y, got_i = symnet.function([x], [y, idx], mode=Mode(b))(xv)
        # windows: cols (pad, 0), (1, 2), (3, 4), (5, pad)
        np.testing.assert_array_equal(got_y, [[1.0, 7.0, np.nan, 9.0]])
        np.testing.assert_array_equal(got_i, [[1, 3, 4, 2]])
        assert got_i.dtype == np.uint8


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_argmax_grad_routes_gradient_bits_exactly(dtype):
    """The tiling-window kernel writes ``gz``'s bits under a mask: subnormal,
    huge and signed-zero gradients reach the first maximum of their window
    unchanged, with ties (integer inputs), the other positions and the
    rows no window covers zero, as on py."""
    from symnet.tensor.ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad
    use_tmp_cache()
    x, gz = T.tensor4("x", dtype=dtype), T.tensor4("gz", dtype=dtype)
    _, idx = MaxPoolArgmax((2, 2), True, (2, 2), (0, 0))(x)
    g = MaxPoolArgmaxGrad((2, 2), True, (2, 2), (0, 0))(x, idx, gz)
    rng = np.random.default_rng(3)
    xv = rng.integers(0, 3, size=(2, 3, 7, 9)).astype(dtype)
    info = np.finfo(dtype)
    gzv = rng.normal(size=(2, 3, 3, 4)).astype(dtype)
    gzv.flat[:5] = [info.smallest_subnormal, -info.smallest_subnormal, info.max, -info.max,
                    -0.0]
    got, want = (symnet.function([x, gz], g, mode=Mode(b))(xv, gzv) for b in ("numba", "py"))
    assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == xv.shape
    np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(got) == np.count_nonzero(gzv)


@pytest.mark.parametrize("argmax", [True, False], ids=["MaxPoolArgmaxGrad", "PoolGrad"])
def test_max_pool_grad_sends_nan_and_inf_to_the_max_only(argmax):
    """A NaN or infinite output gradient reaches its window's first maximum
    and nothing else, on py (whose ``gz * hit`` had made ``inf * 0`` a NaN
    over the whole window) and numba alike; the other windows are unharmed."""
    from symnet.tensor.ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad, Pool, PoolGrad
    use_tmp_cache()
    x, gz = T.tensor4("x", dtype="float64"), T.tensor4("gz", dtype="float64")
    if argmax:
        _, idx = MaxPoolArgmax((2, 2), True, (2, 2), (0, 0))(x)
        g = MaxPoolArgmaxGrad((2, 2), True, (2, 2), (0, 0))(x, idx, gz)
    else:
        out = Pool((2, 2), True, (2, 2), (0, 0), "max")(x)
        g = PoolGrad((2, 2), True, (2, 2), (0, 0), "max")(x, out, gz)
    xv = np.arange(16, dtype="float64").reshape(1, 1, 4, 4)   # each window's max: bottom right
    gzv = np.array([[[[np.nan, np.inf], [-np.inf, 2.0]]]])
    want = np.zeros_like(xv)
    want[0, 0, 1::2, 1::2] = gzv[0, 0]
    for b in ("py", "numba"):
        got = symnet.function([x, gz], g, mode=Mode(b))(xv, gzv)
        np.testing.assert_array_equal(got, want, err_msg=b)


def test_argmax_pair_is_for_numba_only_and_keeps_other_pools():
    use_tmp_cache()
    x = T.tensor4("x", dtype="float32")
    y = pool_2d(x, (2, 2), ignore_border=True)
    avg = pool_2d(x, (2, 2), ignore_border=True, mode="average_inc_pad")
    g = symnet.grad(T.sum(y) + T.sum(avg), x)
    py_names = _op_names(symnet.function([x], g, mode=Mode("py")))
    # (SYMNET_FORCE_BACKEND=numba makes Mode('py') a numba mode: the pair then)
    assert ("MaxPoolArgmax" in py_names) == (get_mode(Mode("py")).linker == "numba")
    names = _op_names(symnet.function([x], g, mode=Mode("numba")))
    # the max pair is rewritten, the average pool keeps its PoolGrad
    assert names.count("MaxPoolArgmax") == 1 and names.count("MaxPoolArgmaxGrad") == 1
    assert names.count("PoolGrad") == 1 and names.count("Pool") == 1
    # switched off by name, the numba graph keeps PoolGrad
    off = Mode("numba").excluding("local_pool_argmax")
    assert "MaxPoolArgmax" not in _op_names(symnet.function([x], g, mode=off))


def test_argmax_grad_rejects_mismatched_offsets():
    from symnet.tensor.ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad
    use_tmp_cache()
    x, gz = T.tensor4("x", dtype="float32"), T.tensor4("gz", dtype="float32")
    _, idx = MaxPoolArgmax((2, 2))(x)
    with pytest.raises(TypeError, match="offsets .* are uint8, expected int32"):
        MaxPoolArgmaxGrad((16, 16))(x, idx, gz)
    g = MaxPoolArgmaxGrad((2, 2))(x, idx, gz)
    xv = np.zeros((1, 1, 4, 4), "float32")
    for b in ("numba", "py"):
        f = symnet.function([x, gz], g, mode=Mode(b))
        with pytest.raises(ValueError, match="max pool gradient"):
            f(xv, np.zeros((1, 1, 3, 2), "float32"))
