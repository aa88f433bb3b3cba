"""``MaxPoolBiasActGrad``'s numba loop (``pool_fused.pool_bias_act_grad``,
``lib/pool_fused_loops.py``) called directly: serial and split over 2 or 3
threads (an odd number of images), it agrees with the op's ``perform`` (the
py reference: ``MaxPoolArgmaxGrad`` then ``BiasActGrad``) for every
activation, 2x2 and other tiling windows, sizes the windows do not cover
and NaN signs; a mismatched gradient is an error naming the shapes; small
gradients stay on one thread."""
import numpy as np
import pytest

from symnet.backend.numba_cpu import pool_fused
from symnet.backend.numba_cpu.lib import pool_fused_loops
from symnet.tensor.ops.pool import MaxPoolArgmax
from symnet.tensor.ops.pool_fused import MaxPoolBiasActGrad


def _case(shape, ws, dtype, seed, nan=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    am = MaxPoolArgmax(ws, True, ws, (0, 0))
    store = [[None], [None]]
    am.perform(am.make_node(x), [x], store)
    pooled, idx = store[0][0], store[1][0]
    gz = rng.normal(size=pooled.shape).astype(dtype)
    s = rng.integers(-1, 2, size=shape).astype("int8")
    if nan:
        s[0, 0, 0, 0] = 2                                   # NAN_SIGN
    return x, idx, gz, s


def _reference(x, idx, gz, s, ws, act):
    op = MaxPoolBiasActGrad(ws, True, ws, (0, 0), act)
    store = [[None], [None]]
    op.perform(op.make_node(x, idx, gz, s), [x, idx, gz, s], store)
    return store[0][0], store[1][0]


@pytest.mark.parametrize("nt", [0, 2, 3])
@pytest.mark.parametrize("act", ["relu", "max", "linear"])
@pytest.mark.parametrize("shape,ws", [((5, 3, 8, 6), (2, 2)), ((7, 2, 9, 7), (2, 2)),
                                      ((3, 4, 7, 8), (3, 2))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loop_agrees_with_perform(nt, act, shape, ws, dtype, monkeypatch):
    monkeypatch.setattr(pool_fused, "_threads", lambda nbytes: nt)
    ran = []
    real = pool_fused_loops.pool_bias_act_grad_images
    monkeypatch.setattr(pool_fused_loops, "pool_bias_act_grad_images",
                        lambda *a: ran.append(a[-1]) or real(*a))
    x, idx, gz, s = _case(shape, ws, dtype, sum(shape) + nt, nan=(act != "linear"))
    gc, gb = pool_fused.pool_bias_act_grad(x, idx, gz, s, ws, act, dtype)
    want_gc, want_gb = _reference(x, idx, gz, s, ws, act)
    assert sorted(ran) == list(range(max(nt, 1)))           # every thread ran once
    assert gc.dtype == np.dtype(dtype) and gb.dtype == np.dtype(dtype)
    assert gc.shape == x.shape and gb.shape == (shape[1],)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(gc, want_gc, rtol=tol, atol=tol)
    np.testing.assert_allclose(gb, want_gb, rtol=tol, atol=tol)
    if act == "relu":                                       # a NaN sign: NaN, as unfused
        assert np.isnan(gc[0, 0, 0, 0]) and np.isnan(gb[0])


def test_mismatched_gradient_names_the_shapes():
    x, idx, gz, s = _case((2, 3, 6, 6), (2, 2), "float64", 0)
    with pytest.raises(ValueError, match=r"output gradient \(2, 3, 2, 3\).*input \(2, 3, 6, 6\)"):
        pool_fused.pool_bias_act_grad(x, idx, gz[:, :, :2], s, (2, 2), "relu", "float64")
    with pytest.raises(ValueError, match=r"sign \(2, 3, 6, 5\)"):
        pool_fused.pool_bias_act_grad(x, idx, gz, s[..., :5], (2, 2), "relu", "float64")


def test_threads_policy_by_size(monkeypatch):
    """Below ``MIN_BYTES`` of gradient one thread; above, the step's pool
    (``SYMNET_NUM_THREADS`` here), unless it has one thread."""
    monkeypatch.setenv("SYMNET_NUM_THREADS", "2")
    assert pool_fused._threads(pool_fused.MIN_BYTES - 1) == 0
    assert pool_fused._threads(pool_fused.MIN_BYTES) == 2
    monkeypatch.setenv("SYMNET_NUM_THREADS", "3")
    assert pool_fused._threads(pool_fused.MIN_BYTES) == 3
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    assert pool_fused._threads(pool_fused.MIN_BYTES) == 0



@pytest.mark.parametrize("nt", [0, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ws", [(2, 2), (3, 2)])
def test_gradient_bits_route_exactly(nt, dtype, ws, monkeypatch):
    """The loop scatters ``gz`` as bits under a mask: subnormal, huge and
    signed-zero gradients reach the position the offset names unchanged
    and every other position is zero, exactly as the reference (linear
    activation: the pooling gradient itself)."""
    monkeypatch.setattr(pool_fused, "_threads", lambda nbytes: nt)
    x, idx, gz, s = _case((3, 2, 7, 9), ws, dtype, 11)
    info = np.finfo(dtype)
    gz.flat[:5] = [info.smallest_subnormal, -info.smallest_subnormal, info.max, -info.max, -0.0]
    gc, gb = pool_fused.pool_bias_act_grad(x, idx, gz, s, ws, "linear", dtype)
    want_gc, _ = _reference(x, idx, gz, s, ws, "linear")
    np.testing.assert_array_equal(gc, want_gc)
    assert np.count_nonzero(gc) == np.count_nonzero(gz)
