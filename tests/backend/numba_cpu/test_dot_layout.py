"""``x @ w.T`` in the numba driver: a few rows in ``x`` run as
``(w @ x.T).T`` (numba_cpu/blas.py), copied to C order by ``tcopy``
(lib/transpose.py); both branches agree with numpy and with the py backend,
whatever consumes the product, and give a C-contiguous result."""
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode

from .helpers import both, use_tmp_cache

RNG = np.random.RandomState(3)


def _f32(*shape):
    return RNG.randn(*shape).astype("float32")


def _swapped(rows, w_rows, inner):
    """The driver's rule (blas._SWAP) for x (rows, inner) @ w.T (inner, w_rows)."""
    return rows * 4 <= w_rows and inner >= 128 and rows <= 32


@pytest.mark.parametrize("rows", [4, 64])   # 4: swapped; 64: plain
def test_product_and_its_consumers_agree_with_py(rows):
    x, w, b = T.fmatrix("x"), T.fmatrix("w"), T.fvector("b")
    prod = T.dot(x, w.T)
    outs = [prod,                            # returned as is
            T.nnet.relu(prod + b),           # an elementwise kernel (wants C order)
            T.dot(prod, w),                  # BLAS again
            T.sum(prod, axis=0)]             # a reduction kernel
    xv, wv, bv = _f32(rows, 130), _f32(40, 130), _f32(40)
    assert _swapped(rows, 40, 130) == (rows == 4)
    fn = both([x, w, b], outs, [xv, wv, bv], rtol=1e-4, atol=1e-4)
    assert "_np.dot(" in fn.thunk.source and ".T, " in fn.thunk.source
    got = fn(xv, wv, bv)
    ref = xv.astype("float64") @ wv.T.astype("float64")
    np.testing.assert_allclose(got[0], ref, rtol=1e-4, atol=1e-4)
    assert got[0].shape == (rows, 40) and got[0].dtype == np.float32
    assert got[0].flags.c_contiguous      # either branch: no copy by the kernels after it
    np.testing.assert_allclose(got[1], np.maximum(ref + bv, 0), rtol=1e-4, atol=1e-4)


def test_one_function_takes_both_branches():
    """The rule is decided per call on the run-time shapes."""
    use_tmp_cache()
    x, w = T.fmatrix("x"), T.fmatrix("w")
    fn = symnet.function([x, w], T.tanh(T.dot(x, w.T)), mode=Mode("numba"))
    wv = _f32(64, 200)
    for rows in (2, 16, 17, 32, 33, 100):
        xv = _f32(rows, 200)
        np.testing.assert_allclose(fn(xv, wv), np.tanh(xv.astype("float64") @ wv.T),
                                   rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 70), w_rows=st.sampled_from([3, 127, 128, 140, 260, 300]),
       inner=st.sampled_from([1, 127, 128, 131]))
def test_either_branch_agrees_with_numpy_around_the_rule(rows, w_rows, inner):
    """Shapes drawn around each bound of the rule (rows against a quarter of
    w's rows and ``SWAP_MAX_ROWS``, the inner size against 128): the rule
    text the driver runs says what ``_swapped`` says, and one compiled
    function gives numpy's product, C-ordered, on either branch."""
    from symnet.backend.numba_cpu import blas
    xv, wv, bv = _f32(rows, inner), _f32(w_rows, inner), _f32(w_rows)
    assert eval(blas._SWAP.format(x="xv", y="wv.T")) == _swapped(rows, w_rows, inner)
    got = _relu_dot()(xv, wv, bv)
    assert got.flags.c_contiguous and got.shape == (rows, w_rows) and got.dtype == np.float32
    np.testing.assert_allclose(got, np.maximum(xv.astype("float64") @ wv.T + bv, 0),
                               rtol=1e-4, atol=1e-4)


@functools.lru_cache(maxsize=None)
def _relu_dot():
    """One function for every drawn shape (compiled on first use)."""
    x, w, b = T.fmatrix("x"), T.fmatrix("w"), T.fvector("b")
    use_tmp_cache()
    return symnet.function([x, w, b], T.nnet.relu(T.dot(x, w.T) + b), mode=Mode("numba"))


def test_mixed_dtypes_cast_after_the_swap():
    use_tmp_cache()
    x, w = T.fmatrix("x"), T.dmatrix("w")
    xv, wv = _f32(3, 150), RNG.randn(20, 150)
    fn = both([x, w], T.dot(x, w.T) * 2, [xv, wv])
    assert fn(xv, wv).dtype == np.float64


def test_mlp_gradient_step_agrees_with_py():
    """The backward pass's ``g @ W.T`` at a small batch (W1's case)."""
    x, y = T.fmatrix("x"), T.ivector("y")
    w1 = symnet.shared(_f32(150, 160) * 0.1, name="w1")
    w2 = symnet.shared(_f32(160, 5) * 0.1, name="w2")
    h = T.nnet.relu(T.dot(x, w1))
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w2)), y))
    gw1, gw2 = symnet.grad(loss, [w1, w2])
    xv, yv = _f32(8, 150), RNG.randint(0, 5, 8).astype("int32")
    fn = both([x, y], [loss, gw1, gw2], [xv, yv], rtol=1e-4, atol=1e-6)
    assert ".T, " in fn.thunk.source   # the gradient's g @ w2.T / ... took the rule


@pytest.mark.parametrize("batch", [8, 40])    # g @ w1.T swapped; plain (over SWAP_MAX_ROWS)
def test_nesterov_steps_update_every_parameter_as_py_does(batch):
    """Three training steps of a small MLP with Nesterov momentum on each
    side of the row bound: every weight, bias and velocity after each step
    as the py backend computes them."""
    use_tmp_cache()
    rng = np.random.RandomState(batch)
    xv = rng.randn(batch, 150).astype("float32")
    yv = rng.randint(0, 5, batch).astype("int32")
    init = [rng.randn(150, 160) * 0.1, rng.randn(160) * 0.1, rng.randn(160, 200) * 0.1,
            rng.randn(200) * 0.1, rng.randn(200, 5) * 0.1, rng.randn(5) * 0.1]
    fns, shared = [], []
    for mode in ("numba", "py"):
        params = [symnet.shared(v.astype("float32")) for v in init]
        vel = [symnet.shared(np.zeros_like(v, dtype="float32")) for v in init]
        x, y = T.fmatrix("x"), T.ivector("y")
        h = T.nnet.relu(T.dot(x, params[0]) + params[1])
        h = T.nnet.relu(T.dot(h, params[2]) + params[3])
        out = T.nnet.softmax(T.dot(h, params[4]) + params[5])
        loss = T.mean(T.nnet.categorical_crossentropy(out, y))
        ups = []
        for p, v, g in zip(params, vel, symnet.grad(loss, params)):
            nv = 0.9 * v - 0.05 * g
            ups += [(v, nv), (p, p + 0.9 * nv - 0.05 * g)]
        fns.append(symnet.function([x, y], loss, updates=ups, mode=Mode(mode)))
        shared.append(params + vel)
    # the hidden gradient (batch, 200) @ w1.T (200, 160)
    assert _swapped(batch, 160, 200) == (batch == 8)
    assert "_tcopy(_np.dot(" in fns[0].thunk.source
    for _ in range(3):
        losses = [float(fn(xv, yv)) for fn in fns]
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
        for got, want in zip(*shared):
            np.testing.assert_allclose(got.get_value(), want.get_value(), rtol=1e-4, atol=1e-6)
    assert np.abs(shared[0][0].get_value() - init[0]).max() > 1e-4   # the steps moved it


def _product_name(source):
    """The driver name of the swapped product in ``source``."""
    line = next(ln for ln in source.splitlines() if "_tcopy(_np.dot(" in ln)
    return line.split("=")[0].strip()


def test_the_kernel_after_a_swapped_product_takes_it_without_a_copy():
    """W1's relu gradient read the F-ordered product through ``_C`` (a copy
    of the whole product per step); the product is now C-ordered already."""
    x, w, b = T.fmatrix("x"), T.fmatrix("w"), T.fvector("b")
    out = T.nnet.relu(T.dot(x, w.T) + b)
    xv, wv, bv = _f32(4, 130), _f32(40, 130), _f32(40)
    fn = both([x, w, b], out, [xv, wv, bv], rtol=1e-4, atol=1e-4)
    name = _product_name(fn.thunk.source)
    assert f"_C({name})" not in fn.thunk.source
    np.testing.assert_allclose(fn(xv, wv, bv), np.maximum(xv @ wv.T + bv, 0), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("shape", [(500, 64), (7, 3), (1, 9), (9, 1), (0, 5), (5, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_tcopy_is_a_c_ordered_transpose(shape, dtype):
    from symnet.backend.numba_cpu.blas import tcopy
    a = (RNG.randn(*shape) * 100).astype(dtype)
    got = tcopy(a)
    assert got.flags.c_contiguous and got.dtype == a.dtype and got.shape == shape[::-1]
    np.testing.assert_array_equal(got, a.T)
    assert not np.shares_memory(got, a)


def test_swapped_product_inside_the_njit_driver(monkeypatch):
    """The njit driver imports ``tcopy`` and runs the swapped branch too."""
    from symnet.backend.numba_cpu.lib import cblas
    use_tmp_cache()
    monkeypatch.setenv("SYMNET_NUMBA_NJIT_DRIVER", "1")
    x, w, b = T.fmatrix("x"), T.fmatrix("w"), T.fvector("b")
    fn = symnet.function([x, w, b], T.nnet.relu(T.dot(x, w.T) + b), mode=Mode("numba"))
    assert ("def drive(" in fn.source) == cblas.AVAILABLE
    if cblas.AVAILABLE:
        assert "_tcopy(_dot(" in fn.source.split("one njit function")[-1]
    wv, bv = _f32(40, 130), _f32(40)
    for rows in (4, 30):                  # swapped, then plain
        xv = _f32(rows, 130)
        got = fn(xv, wv, bv)
        assert got.flags.c_contiguous
        np.testing.assert_allclose(got, np.maximum(xv.astype("float64") @ wv.T + bv, 0),
                                   rtol=1e-4, atol=1e-4)
