"""The fused loop of a plan ``Run`` (numba_cpu/fused.py) and the threading
policy (numba_cpu/threads.py): values against the py backend on sizes that
are not whole blocks or chunks, empty and non-contiguous inputs, serial and
threaded copies of the loop; the serial loop under both emitters (numba
text, llvm IR)."""
import re

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.elemwise import PARALLEL_MIN_SIZE
from symnet.backend.numba_cpu.fused import FUSED_SUM_BLOCK, PARALLEL_CHUNK
from symnet.compile.mode import Mode

from .emitters import EMITTERS, built_by, emitter_mode
from .helpers import use_tmp_cache

SERIAL = Mode("numba")
THREADED = Mode("numba", parallel=True)
# the serial loop under each emitter; threaded loops are numba's (prange)
LOOPS = {**{f"serial-{e}": emitter_mode(e) for e in EMITTERS}, "threaded": THREADED}


def _emitter(which):
    return "numba" if which == "threaded" else which.split("-")[1]


def _w2():
    """W2 of the bench: a loss and its gradient, one loop with a sum."""
    x = T.fvector("x")
    a, b = T.fscalars("a", "b")
    loss = T.sum(T.tanh(a * x + b) * T.exp(-x * x))
    return [x, a, b], [loss, symnet.grad(loss, x)]


def _w2_reference(xv, a, b):
    x64 = xv.astype("float64")
    t, e = np.tanh(a * x64 + b), np.exp(-x64 * x64)
    return np.sum(t * e), (1 - t * t) * a * e - 2 * x64 * t * e


@pytest.fixture(scope="module")
def w2_functions():
    use_tmp_cache()
    ins, outs = _w2()
    return {m: symnet.function(ins, outs, mode=mode)
            for m, mode in (*LOOPS.items(), ("py", "py"))}


@pytest.mark.parametrize("n", [0, 1, FUSED_SUM_BLOCK - 1, FUSED_SUM_BLOCK + 1, 100_003,
                               PARALLEL_MIN_SIZE + PARALLEL_CHUNK // 2 + 7])
@pytest.mark.parametrize("which", list(LOOPS))
def test_loss_and_gradient_in_one_loop_agree_with_py(w2_functions, which, n):
    f, ref = w2_functions[which], w2_functions["py"]
    assert len(built_by(f, _emitter(which))) == 1       # one kernel: one pass over x
    xv = np.random.default_rng(n).normal(size=n).astype("float32")
    a, b = np.float32(0.7), np.float32(-0.2)
    loss, grad = f(xv, a, b)
    want_loss, want_grad = _w2_reference(xv, a, b)
    assert loss.dtype == np.float32 and loss.shape == ()
    assert grad.dtype == np.float32 and grad.shape == (n,)
    np.testing.assert_allclose(loss, want_loss, rtol=3e-6, atol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=2e-5, atol=2e-6)
    py_loss, py_grad = ref(xv, a, b)
    np.testing.assert_allclose(grad, py_grad, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(loss, py_loss, rtol=3e-6, atol=1e-6)


def test_the_threaded_copy_splits_the_domain_and_the_serial_one_counts_from_zero(w2_functions):
    ser, par = w2_functions["serial-numba"].source, w2_functions["threaded"].source
    assert "prange" not in ser and "nb.prange(" in par and "parallel=True" in par
    assert f">= {PARALLEL_MIN_SIZE}:" in par
    # every element loop runs from 0 over a view of its block: an index
    # starting elsewhere makes numba's wraparound check defeat vectorization
    assert re.search(r"for _j\d+ in range\(_b\d+ - _b\d+\):", ser)
    assert not re.search(r"for _j\d+ in range\(_b\d+, ", ser + par)


def test_non_contiguous_input(w2_functions):
    base = np.random.default_rng(3).normal(size=2 * 70_001).astype("float32")
    xv = base[::2]
    for which in LOOPS:
        loss, grad = w2_functions[which](xv, np.float32(0.3), np.float32(0.1))
        want_loss, want_grad = _w2_reference(xv, 0.3, 0.1)
        np.testing.assert_allclose(loss, want_loss, rtol=3e-6)
        np.testing.assert_allclose(grad, want_grad, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("shape", [(0, 7), (3, 1), (5, 300), (PARALLEL_MIN_SIZE // 200 + 3, 201)])
def test_two_d_run_with_broadcast_rows_and_columns_and_two_accumulators(shape):
    use_tmp_cache()
    x = T.fmatrix("x")
    row = T.TensorType("float32", shape=(1, None))("row")
    col = T.TensorType("float32", shape=(None, 1))("col")
    y = T.exp(x * row) * col + x
    outs = [y, T.sum(y * y)]
    if np.prod(shape) < 5000:
        # a product of many float32 factors near 1 drifts with each cos's
        # rounding (differently in numba and numpy): small domains only
        outs.append(T.prod(T.cos(x * 1e-3)))
    rng = np.random.default_rng(sum(shape))
    xv = rng.normal(size=shape).astype("float32")
    rv = rng.normal(size=(1, shape[1])).astype("float32")
    cv = rng.normal(size=(shape[0], 1)).astype("float32")
    want = symnet.function([x, row, col], outs, mode="py")(xv, rv, cv)
    for which, mode in LOOPS.items():
        f = symnet.function([x, row, col], outs, mode=mode)
        assert len(built_by(f, _emitter(which))) == 1, which
        got = f(xv, rv, cv)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=3e-5, atol=1e-5)
    with pytest.raises(ValueError, match="do not match along axis 1"):
        f(xv, np.ones((1, shape[1] + 1), "float32"), cv)


def test_symnet_num_threads_overrides_the_mode(monkeypatch):
    import numba
    use_tmp_cache()
    ins, outs = _w2()
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    assert "prange" not in symnet.function(ins, outs, mode=THREADED).source
    monkeypatch.setenv("SYMNET_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    f = symnet.function(ins, outs, mode=SERIAL)
    assert ("nb.prange(" in f.source) == (numba.config.NUMBA_NUM_THREADS > 1)
    for bad in ("0", "two", "-3"):
        monkeypatch.setenv("SYMNET_NUM_THREADS", bad)
        with pytest.raises(ValueError, match=f"SYMNET_NUM_THREADS: expected a positive "
                                             f"integer.*got '{bad}'"):
            symnet.function(ins, outs, mode=SERIAL)


def test_symnet_num_threads_other_than_numbas_count_is_reported(monkeypatch):
    import numba
    from symnet.backend.numba_cpu import threads
    use_tmp_cache()
    n = numba.config.NUMBA_NUM_THREADS + 1
    monkeypatch.setenv("SYMNET_NUM_THREADS", str(n))
    monkeypatch.setattr(threads, "_WARNED", set())
    with pytest.warns(RuntimeWarning, match=f"SYMNET_NUM_THREADS={n}: threaded loops run "
                                            f"on numba's"):
        threads.policy(SERIAL)
