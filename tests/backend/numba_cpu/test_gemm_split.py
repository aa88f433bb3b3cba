"""Opt-in split GEMMs (``SYMNET_GEMM_SPLIT=1``, numba_cpu/gemm_split.py):
``pdot`` equals numpy's product; a training step agrees with the serial
path; numpy's BLAS thread count is back after every call, also one that
raised."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import gemm_split, step_pool
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache

RNG = np.random.RandomState(5)
pytestmark = pytest.mark.skipif(not gemm_split.available(),
                                reason="no OpenBLAS thread count to hold (another BLAS)")


def _blas_threads():
    return step_pool._blas()[0]()


@pytest.mark.parametrize("a_shape, b_shape", [
    ((64, 784), (784, 500)),     # split by columns (W1's forward product)
    ((784, 64), (64, 500)),      # split by rows (a weight gradient)
    ((500, 64), (64, 33)),       # rows, an odd size
    ((3, 1000), (1000, 1001)),   # columns, fewer columns than a half's block
    ((8, 8), (8, 8)),            # below MIN_MACS: numpy's own call
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pdot_equals_numpy(a_shape, b_shape, dtype):
    a, b = RNG.randn(*a_shape).astype(dtype), RNG.randn(*b_shape).astype(dtype)
    want = a.astype("float64") @ b.astype("float64")
    tol = 1e-4 if dtype == "float32" else 1e-10
    for x, y in ((a, b), (np.asfortranarray(a), b), (a.T.copy().T, b.T.copy().T)):
        got = gemm_split.pdot(x, y)
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape
        assert got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)


def test_pdot_of_other_operands_is_numpys():
    a, b = RNG.randn(40, 300).astype("float32"), RNG.randn(300, 200)
    np.testing.assert_array_equal(gemm_split.pdot(a, b), np.dot(a, b))   # mixed dtypes
    v = RNG.randn(300)
    np.testing.assert_array_equal(gemm_split.pdot(b.T, v), np.dot(b.T, v))
    with pytest.raises(ValueError, match="not aligned"):
        gemm_split.pdot(RNG.randn(300, 301), RNG.randn(300, 300))


def _mlp(split, monkeypatch, w_init):
    monkeypatch.setenv(gemm_split.ENV, "1" if split else "0")
    x, y = T.fmatrix("x"), T.ivector("y")
    w1 = symnet.shared(w_init[0].copy(), name="w1")
    w2 = symnet.shared(w_init[1].copy(), name="w2")
    h = T.nnet.relu(T.dot(x, w1))
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w2)), y))
    g1, g2 = symnet.grad(loss, [w1, w2])
    f = symnet.function([x, y], loss, updates=[(w1, w1 - 0.1 * g1), (w2, w2 - 0.1 * g2)],
                        mode=Mode("numba"))
    return f, w1, w2


def test_training_step_agrees_with_the_serial_path(monkeypatch):
    use_tmp_cache()
    w_init = [RNG.randn(300, 400).astype("float32") * 0.05,
              RNG.randn(400, 10).astype("float32") * 0.05]
    xv, yv = RNG.randn(64, 300).astype("float32"), RNG.randint(0, 10, 64).astype("int32")
    fs, ws1, ws2 = _mlp(True, monkeypatch, w_init)
    fp, wp1, wp2 = _mlp(False, monkeypatch, w_init)
    assert "_gsdot(" in fs.source and "_gsdot(" not in fp.source
    before = _blas_threads()
    for _ in range(3):
        np.testing.assert_allclose(fs(xv, yv), fp(xv, yv), rtol=1e-5)
        assert _blas_threads() == before
    np.testing.assert_allclose(ws1.get_value(), wp1.get_value(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ws2.get_value(), wp2.get_value(), rtol=1e-4, atol=1e-6)


def test_blas_threads_restored_after_an_error(monkeypatch):
    use_tmp_cache()
    w_init = [RNG.randn(300, 400).astype("float32"), RNG.randn(400, 10).astype("float32")]
    f, w1, _ = _mlp(True, monkeypatch, w_init)
    put = step_pool._blas()[1]
    seen, start = [], _blas_threads()
    put(2)
    try:
        xv = RNG.randn(64, 300).astype("float32")
        with pytest.raises(Exception, match="label|range|out of"):
            f(xv, np.full(64, 99, "int32"))          # labels out of range: the step raises
        seen.append(_blas_threads())
        np.testing.assert_array_equal(w1.get_value(), w_init[0])   # nothing written
        f(xv, RNG.randint(0, 10, 64).astype("int32"))
        seen.append(_blas_threads())
    finally:
        put(start)
    assert seen == [2, 2]


def test_the_split_runs_at_one_blas_thread(monkeypatch):
    """``hold_blas``: one BLAS thread inside the call, the count before after it."""
    put = step_pool._blas()[1]
    inside, start = [], _blas_threads()
    held = gemm_split.hold_blas(lambda: inside.append(_blas_threads()))
    put(2)
    try:
        held()
        assert inside == [1] and _blas_threads() == 2

        def boom():
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            gemm_split.hold_blas(boom)()
        assert _blas_threads() == 2
    finally:
        put(start)


def test_bad_setting_is_an_error(monkeypatch):
    monkeypatch.setenv(gemm_split.ENV, "yes")
    with pytest.raises(ValueError, match="SYMNET_GEMM_SPLIT"):
        gemm_split.requested()
