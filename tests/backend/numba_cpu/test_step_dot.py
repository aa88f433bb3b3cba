"""step_dot.py: a scan step's few-row products as small blocked GEMMs where
numpy's BLAS runs one thread; ``np.dot`` itself elsewhere."""
import contextlib

import numpy as np
import pytest

pytest.importorskip("numba")

from symnet.backend.numba_cpu import step_dot, step_pool  # noqa: E402
from symnet.backend.numba_cpu.lib import cblas  # noqa: E402

pytestmark = pytest.mark.skipif(not cblas.AVAILABLE or step_pool._blas() is None,
                                reason="needs numpy's OpenBLAS (its CBLAS gemm, its thread count)")


@contextlib.contextmanager
def blas_threads(n):
    get, put = step_pool._blas()
    before = int(get())
    put(n)
    try:
        yield
    finally:
        put(before)


@pytest.fixture
def counted(monkeypatch):
    """The blocked function, counting its calls."""
    calls = []
    inner = step_dot._blocked()

    def blocked(*args):
        calls.append(args[3:])
        return inner(*args)
    monkeypatch.setattr(step_dot, "_blocked", lambda: blocked)
    return calls


def _pair(rows, inner, cols, dtype="float32", seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(rows, inner).astype(dtype), rng.randn(inner, cols).astype(dtype)


@pytest.mark.parametrize("rows,inner,cols,dtype", [
    (32, 256, 1024, "float32"),     # W8's forward h @ U: one row block a column block
    (32, 1024, 256, "float32"),     # BPTT's delta @ U.T: inner cut into 128-row blocks
    (5, 300, 200, "float64"),       # a partial column block, inner 128 + 128 + 44
    (1, 64, 128, "float32")])       # the smallest product it takes
def test_blocked_at_one_blas_thread(counted, rows, inner, cols, dtype):
    x, w = _pair(rows, inner, cols, dtype)
    want = x.astype("float64") @ w.astype("float64")
    tol = 1e-4 if dtype == "float32" else 1e-10
    with blas_threads(1):
        got = step_dot.dot(x, w)
        out = np.full((rows, cols), np.nan, dtype)
        into = step_dot.dot(x, w, out=out)
    assert len(counted) == 2
    assert counted[0] == (step_dot.BLOCK_COLS, 256 if inner <= 256 else 128, 1, 0)
    assert into is out and got.dtype == np.dtype(dtype) and got.flags.c_contiguous
    for r in (got, out):
        np.testing.assert_allclose(r, want, rtol=tol, atol=tol * np.abs(want).max())


def test_np_dot_itself_on_two_blas_threads(counted):
    x, w = _pair(32, 256, 1024)
    with blas_threads(2):
        got = step_dot.dot(x, w)
        out = np.empty((32, 1024), np.float32)
        step_dot.dot(x, w, out=out)
    assert counted == []
    assert np.array_equal(got, np.dot(x, w)) and np.array_equal(out, got)


@pytest.mark.parametrize("case", [
    "many rows", "short inner", "narrow", "mixed dtypes", "int", "x transposed",
    "w column-strided", "out transposed", "out of another dtype", "shapes not aligned"])
def test_fits_rejects(case):
    x, w = _pair(32, 256, 1024)
    out = None
    if case == "many rows":
        x = np.ones((33, 256), np.float32)
    elif case == "short inner":
        x, w = _pair(32, 63, 1024)
    elif case == "narrow":
        x, w = _pair(32, 256, 127)
    elif case == "mixed dtypes":
        w = w.astype("float64")
    elif case == "int":
        x, w = x.astype("int64"), w.astype("int64")
    elif case == "x transposed":
        x = np.ascontiguousarray(x.T).T
    elif case == "w column-strided":
        w = np.ones((256, 2048), np.float32)[:, ::2]
    elif case == "out transposed":
        out = np.empty((1024, 32), np.float32).T
    elif case == "out of another dtype":
        out = np.empty((32, 1024), np.float64)
    elif case == "shapes not aligned":
        w = np.ones((255, 1024), np.float32)
    assert not step_dot.fits(x, w, out)
    assert step_dot.fits(*_pair(32, 256, 1024))


def test_rejected_products_are_np_dot_at_one_thread(counted):
    x = np.ones((64, 256), np.float32)       # 64 rows: more than MAX_ROWS
    w = np.ones((256, 1024), np.float32)
    with blas_threads(1):
        got = step_dot.dot(x, w)
    assert counted == [] and np.array_equal(got, np.dot(x, w))


def _lstm_step(mode, hidden=128, n_in=8, batch=4, seq=5, seed=3):
    """An LSTM layer's loss and its gradients, a function of ``mode``."""
    import symnet
    import symnet.tensor as T
    from symnet.layers import InputLayer, LSTMLayer, get_all_params, get_output
    np.random.seed(seed)
    l_in = InputLayer((batch, seq, n_in))
    layer = LSTMLayer(l_in, hidden, only_return_final=True)
    y = T.fmatrix("y")
    loss = T.mean((get_output(layer) - y) ** 2)
    params = get_all_params(layer, trainable=True)
    return symnet.function([l_in.input_var, y], [loss] + symnet.grad(loss, params), mode=mode)


def test_lstm_steps_use_it_and_match_py(counted):
    from symnet.compile.mode import Mode
    rng = np.random.RandomState(0)
    x = rng.randn(4, 5, 8).astype("float32")
    y = rng.randn(4, 128).astype("float32")
    f = _lstm_step(Mode("numba", tiered=False))
    ref = _lstm_step("py")(x, y)
    inner = [fn.source for node in f.fgraph.apply_nodes if hasattr(node.op, "_backend_fns")
             for fn in node.op._backend_fns.values()]
    # the forward's h @ U (4x128 @ 128x512) and BPTT's delta @ U.T (4x512 @ 512x128)
    assert len(inner) == 2 and all("_sdot(" in src for src in inner)
    with blas_threads(1):
        got = f(x, y)
    assert sorted(set(counted)) == [(64, 128, 1, 0), (64, 256, 1, 0)]   # 5 steps a loop
    assert len(counted) == 10 and len(got) == len(ref)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-5)
