"""The numba pooling the 2-D loop kernels decline (``lib/pool_nd.py``):
``pool_3d`` and its gradient, ``DynamicPool``/``DynamicPoolGrad`` (sizes
read at run time) and integer 2-D pooling agree with the py reference over
hypothesis-drawn shapes, windows, strides, pads, modes and
``ignore_border`` both ways; gradients check against finite differences on
both backends; max's gradient goes to the first maximum of a window; none
of them runs a Python perform."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.lib import pool_nd
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.gradient import verify_grad
from symnet.tensor.ops.pool import MODES, pool_2d, pool_3d, pool_output_length

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache


@st.composite
def pools(draw, nd):
    ndim = draw(st.integers(nd, nd + 2))
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(nd))
    lead = tuple(draw(st.integers(1, 3)) for _ in range(ndim - nd))
    ws = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    ignore_border = draw(st.booleans())
    pad = (0,) * nd
    if ignore_border:
        pad = tuple(draw(st.integers(0, w - 1)) for w in ws)
    mode = draw(st.sampled_from(MODES))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    return lead + sizes, dict(ws=ws, stride=stride, ignore_border=ignore_border, pad=pad,
                              mode=mode), dtype


def _fits(shape, kw):
    nd = len(kw["ws"])
    return all(pool_output_length(n, w, s, p, kw["ignore_border"]) > 0
               for n, w, s, p in zip(shape[-nd:], kw["ws"], kw["stride"], kw["pad"]))


def _loss(y, dtype):
    # a weighted sum, so every window's gradient differs
    wts = T.constant(np.linspace(-1.0, 2.0, 64).astype(dtype))
    flat = T.flatten(y)
    return T.sum(y * y) + T.sum(flat[:64] * wts[:flat.shape[0]])


def _no_ties(rng, shape, dtype):
    """Distinct values (a max's gradient is then the same whichever
    maximum of a tie it would go to)."""
    return rng.permutation(np.prod(shape)).reshape(shape).astype(dtype) / 7.0


@settings(max_examples=examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=pools(3), seed=st.integers(0, 2 ** 16))
def test_pool_3d_and_its_gradient_agree_with_py(case, seed):
    shape, kw, dtype = case
    assume(_fits(shape, kw))
    use_tmp_cache()
    xv = _no_ties(np.random.default_rng(seed), shape, dtype)

    def fn(x):
        y = pool_3d(x, **kw)
        return [y, symnet.grad(_loss(y, dtype), x)]
    check_op(fn, [xv])


@settings(max_examples=examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=pools(2), seed=st.integers(0, 2 ** 16))
def test_dynamic_pool_and_its_gradient_agree_with_py(case, seed):
    """The sizes are graph inputs: one compiled function serves every
    window, read at run time."""
    shape, kw, dtype = case
    assume(_fits(shape, kw))
    use_tmp_cache()
    xv = _no_ties(np.random.default_rng(seed), shape, dtype)
    x = T.TensorType(dtype, shape=(None,) * len(shape))("x")
    ws, st_, pd = T.lvector("ws"), T.lvector("st"), T.lvector("pd")
    y = pool_2d(x, ws, ignore_border=kw["ignore_border"], stride=st_, pad=pd,
                mode=kw["mode"])
    outs = [y, symnet.grad(_loss(y, dtype), x)]
    vals = [xv] + [np.array(kw[k], np.int64) for k in ("ws", "stride", "pad")]
    fixed = pool_2d(x, kw["ws"], ignore_border=kw["ignore_border"], stride=kw["stride"],
                    pad=kw["pad"], mode=kw["mode"])
    want = symnet.function([x], [fixed, symnet.grad(_loss(fixed, dtype), x)],
                           mode=Mode("py"))(xv)
    tol = 1e-5 if dtype == "float32" else 1e-10
    for backend in ("numba", "py"):
        got = symnet.function([x, ws, st_, pd], outs, mode=Mode(backend))(*vals)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ignore_border,pad", [(True, (1, 0, 1)), (False, (0, 0, 0))])
def test_pool_3d_gradient_by_finite_differences_on_both_backends(mode, ignore_border, pad):
    use_tmp_cache()
    xv = _no_ties(np.random.default_rng(4), (2, 4, 5, 4), "float64")

    def fn(x):
        return pool_3d(x, (2, 3, 2), ignore_border=ignore_border, stride=(2, 1, 2), pad=pad,
                       mode=mode)
    for backend in ("numba", "py"):
        verify_grad(fn, [xv], rng=np.random.RandomState(1), mode=Mode(backend))


def test_max_gradient_goes_to_the_first_maximum_of_each_window():
    """Ties: the whole gradient of a window goes to its first maximum in
    (depth, row, col) order (Theano's rule), for pool_3d and DynamicPool."""
    use_tmp_cache()
    x = T.tensor3("x", dtype="float64")
    y = pool_3d(x, (2, 2, 2), ignore_border=True)
    xv = np.zeros((2, 2, 2))
    xv[0, 1, 1] = xv[1, 0, 0] = xv[1, 1, 1] = 1.0
    got = symnet.function([x], symnet.grad(T.sum(y * 3), x), mode=Mode("numba"))(xv)
    want = np.zeros((2, 2, 2))
    want[0, 1, 1] = 3.0
    np.testing.assert_array_equal(got, want)

    m, ws = T.dmatrix("m"), T.lvector("ws")
    y2 = pool_2d(m, ws, ignore_border=True)
    got = symnet.function([m, ws], symnet.grad(T.sum(y2), m), mode=Mode("numba"))(
        np.array([[0.0, 2.0], [2.0, 2.0]]), np.array([2, 2]))
    np.testing.assert_array_equal(got, [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("mode", MODES)
def test_integer_pooling_agrees_with_py(mode):
    """The 2-D loop kernels take floats only; integers come here."""
    use_tmp_cache()
    xv = np.random.default_rng(3).integers(-50, 50, size=(2, 5, 7)).astype("int32")
    check_op(lambda x: pool_2d(x, (2, 3), ignore_border=mode != "max", mode=mode,
                               pad=(1, 1) if mode != "max" else (0, 0)), [xv])


def test_no_python_perform(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    x, ws = T.dtensor4("x"), T.lvector("ws")
    outs = [pool_3d(x, (2, 2, 2), ignore_border=False, mode="average_exc_pad"),
            pool_2d(x, ws, ignore_border=True, mode="max")]
    outs.append(symnet.grad(T.sum(outs[0]) + T.sum(outs[1] ** 2), x))
    f = symnet.function([x, ws], outs, mode=Mode("numba"))
    assert "Python perform" not in f.source and "pool_nd" in f.source
    xv = np.random.default_rng(0).normal(size=(2, 3, 5, 4))
    fp = symnet.function([x, ws], outs, mode=Mode("py"))
    for a, b in zip(f(xv, np.array([2, 3])), fp(xv, np.array([2, 3]))):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_bad_sizes_and_shapes_raise_clear_errors():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="pad .* must be smaller than the window"):
        pool_nd.dynamic_pool(x, np.array([2, 2]), np.array([1, 1]), np.array([2, 0]),
                             True, "max")
    with pytest.raises(ValueError, match="need 2 entries each"):
        pool_nd.dynamic_pool(x, np.array([2, 2, 2]), np.array([1, 1]), np.array([0, 0]),
                             True, "max")
    with pytest.raises(ValueError, match=r"do not match the input \(2, 3, 4\)"):
        pool_nd.pool_backward(x, np.zeros((2, 1, 2)), np.zeros((2, 1, 2)), (2, 2), (2, 2),
                              (0, 0), False, "max")
    with pytest.raises(ValueError, match="needs at least 3 dims"):
        pool_nd.pool_forward(np.zeros((3, 3)), (2, 2, 2), (1, 1, 1), (0, 0, 0), True, "sum")


def test_read_only_inputs():
    """Constants and frozen arrays reach the loops read-only."""
    rng = np.random.default_rng(6)
    x, gz = _no_ties(rng, (2, 3, 4, 5), "float64"), rng.normal(size=(2, 2, 2, 3))
    args = ((2, 2, 2), (1, 2, 2), (0, 0, 1), True, "max")
    out = pool_nd.pool_forward(x, *args)
    want = pool_nd.pool_backward(x, out, gz, *args)
    for a in (x, out, gz):
        a.setflags(write=False)
    np.testing.assert_array_equal(pool_nd.pool_forward(x, *args), out)
    np.testing.assert_array_equal(pool_nd.pool_backward(x, out, gz, *args), want)
