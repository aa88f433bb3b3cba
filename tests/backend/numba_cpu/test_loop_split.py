"""Large llvm loops split over the pool's threads (``loop_split.py``).

The threshold is set low (``SYMNET_LOOP_SPLIT=<n>``) so small arrays
split; each function is compiled once per setting and the sizes are drawn
around the threshold at call time.  Split results are checked against the
py backend and against the same graph compiled with the split off:
elementwise results equal bit for bit, full sums within the float64
regrouping the module docstring describes, dtypes and shapes equal.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import loop_split
from symnet.compile.mode import Mode

from .helpers import assert_agree
from .llvm_helpers import compile_with, llvm_kernels

MIN = 1000      # the threshold the split functions are compiled with


@pytest.fixture(autouse=True, scope="module")
def two_threads():
    """Two pool threads, whatever this machine has (``SYMNET_NUM_THREADS=2``
    would also turn numba's threaded loops on, and with them the llvm
    emitter off)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(loop_split.threads, "pool_threads", lambda: 2)
    yield
    mp.undo()


def _compile(inputs, outputs, split):
    """The graph under the llvm emitter with ``SYMNET_LOOP_SPLIT=split``."""
    old = os.environ.get(loop_split.ENV)
    os.environ[loop_split.ENV] = str(split)
    try:
        f = compile_with("llvm", inputs, outputs)
    finally:
        if old is None:
            os.environ.pop(loop_split.ENV, None)
        else:
            os.environ[loop_split.ENV] = old
    assert llvm_kernels(f), f.source
    return f


def _py(inputs, outputs):
    forced = os.environ.pop("SYMNET_FORCE_BACKEND", None)
    try:
        return symnet.function(inputs, outputs, mode=Mode("py"), on_unused_input="ignore")
    finally:
        if forced is not None:
            os.environ["SYMNET_FORCE_BACKEND"] = forced


class _Spy:
    """Counts the calls that ran in chunks (``Split.run``) and their chunks."""

    def __init__(self, monkeypatch):
        self.calls, self.chunks = 0, []
        run = loop_split.Split.run
        spy = self

        def counted(split, native, args):
            chunks = split.bounds(args[split.first].shape[0], 2)
            if len(chunks) > 1:      # fewer: the loop runs whole
                spy.calls += 1
                spy.chunks.append(chunks)
            return run(split, native, args)
        monkeypatch.setattr(loop_split.Split, "run", counted)


def _w2_graph():
    x = T.fvector("x")
    loss = T.sum(T.tanh(np.float32(0.7) * x - np.float32(0.2)) * T.exp(-x * x))
    return [x], [loss, symnet.grad(loss, x)]


@pytest.fixture(scope="module")
def w2():
    inputs, outputs = _w2_graph()
    return (_compile(inputs, outputs, MIN), _compile(inputs, outputs, 0),
            _py(inputs, outputs))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.one_of(st.integers(1, 3 * MIN), st.sampled_from([MIN - 1, MIN, MIN + 1, 2 * MIN + 255,
                                                              4097, 70_001])),
       seed=st.integers(0, 2 ** 31 - 1))
def test_w2_loop_split_agrees_with_py_and_unsplit(w2, n, seed, monkeypatch):
    fs, fw, fp = w2
    spy = _Spy(monkeypatch)
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 2
    got, whole, want = fs(x), fw(x), fp(x)
    assert spy.calls == (1 if n >= MIN else 0)
    for lo, hi in (spy.chunks[0] if spy.chunks else [])[1:]:
        assert lo % 256 == 0     # a chunk starts on a block of the float32 partial sums
    # the gradient: the same loop on sub-views, so the same bits
    assert got[1].dtype == whole[1].dtype == np.float32 and got[1].shape == (n,)
    np.testing.assert_array_equal(got[1], whole[1])
    # the sum: float64 partials regrouped by chunk, then rounded once
    assert np.asarray(got[0]).dtype == np.asarray(whole[0]).dtype == np.float32
    np.testing.assert_allclose(got[0], whole[0], rtol=2 ** -23, atol=0)
    assert_agree(got, want, [0, 1], rtol=2e-5, atol=2e-5)


def test_split_sum_is_the_same_every_call(w2, monkeypatch):
    fs, _, _ = w2
    spy = _Spy(monkeypatch)
    x = np.random.default_rng(1).standard_normal(50_001).astype(np.float32) * 3
    first = fs(x)
    for _ in range(5):
        again = fs(x)
        assert np.asarray(again[0]).tobytes() == np.asarray(first[0]).tobytes()
        assert np.array_equal(again[1], first[1])
    assert spy.calls == 6


def _check(inputs, outputs, values, monkeypatch, splits=True, rtol=1e-5):
    """The graph split, unsplit and on py agree; returns the split calls."""
    fs, fw, fp = (_compile(inputs, outputs, MIN), _compile(inputs, outputs, 0),
                  _py(inputs, outputs))
    spy = _Spy(monkeypatch)
    got = fs(*values)
    calls = spy.calls
    whole, want = fw(*values), fp(*values)
    assert spy.calls == calls       # the unsplit function never splits
    assert (calls > 0) == splits, fs.source
    for g, w, p in zip(got, whole, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        if g.ndim:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12 if g.dtype == np.float64 else 2 ** -23)
    assert_agree(got, want, list(range(len(got))), rtol=rtol, atol=1e-5)
    return calls


@pytest.mark.parametrize("rows,cols", [(1, 2_000), (7, 333), (40, 64), (1_001, 3)])
def test_2d_loop_split_by_rows_with_broadcast_inputs(rows, cols, monkeypatch):
    x, r, c = T.fmatrix("x"), T.frow("r"), T.fcol("c")
    y = T.exp(x * r) - c
    rng = np.random.default_rng(rows)
    vals = [rng.standard_normal((rows, cols)).astype(np.float32),
            rng.standard_normal((1, cols)).astype(np.float32),
            rng.standard_normal((rows, 1)).astype(np.float32)]
    # one row cannot be cut along axis 0: the loop runs whole
    _check([x, r, c], [y, T.sum(y), T.mean(T.tanh(x))], vals, monkeypatch,
           splits=rows > 1)


def test_sums_over_the_split_axis_and_another(monkeypatch):
    x = T.fmatrix("x")
    rng = np.random.default_rng(3)
    v = rng.standard_normal((300, 40)).astype(np.float32)
    # a column sum (over axis 0, the split axis) fused into the loop keeps
    # it whole; sums over axis 1, maxima and a mean are kernels of their own
    e = T.exp(x * 0.5)
    _check([x], [T.sum(e, axis=0), T.sum(e, axis=1), T.max(e, axis=0), T.max(e), e, T.mean(e)],
           [v], monkeypatch, splits=False)
    # without the column sum the loop (its full sum fused in) splits by rows
    _check([x], [T.sum(e, axis=1), T.max(e, axis=1), e, T.mean(e), T.sum(e)], [v], monkeypatch)


def test_float64_and_integer_sums_and_products(monkeypatch):
    x, i = T.dvector("x"), T.lvector("i")
    rng = np.random.default_rng(4)
    xv = rng.standard_normal(5_003)
    iv = rng.integers(-2 ** 40, 2 ** 40, 5_003)
    calls = _check([x, i], [T.sum(T.tanh(x) * 3), T.prod(1 + T.tanh(x) * 1e-3),
                            T.sum(i * 3 + 1), T.tanh(x)], [xv, iv], monkeypatch)
    assert calls >= 1


def test_error_in_a_chunk_raises_naming_the_node(w2, monkeypatch):
    fs, _, _ = w2
    chunk = loop_split._chunk

    def failing(native, calls, t):
        if t == 1:
            raise MemoryError("chunk 1 could not run")
        chunk(native, calls, t)
    monkeypatch.setattr(loop_split, "_chunk", failing)
    x = np.linspace(-2, 2, 5 * MIN, dtype=np.float32)
    with pytest.raises(Exception) as info:
        fs(x)
    assert "chunk 1 could not run" in str(info.value)
    assert "tanh" in str(info.value)        # the node the loop computes
    monkeypatch.setattr(loop_split, "_chunk", chunk)
    assert np.isfinite(fs(x)[0])


def test_off_switch_and_one_thread(monkeypatch):
    monkeypatch.setenv(loop_split.ENV, "0")
    assert loop_split.min_size(2) == loop_split.sys.maxsize
    monkeypatch.setenv(loop_split.ENV, "1")
    monkeypatch.setattr(loop_split.threads, "pool_threads", lambda: 1)
    assert loop_split.min_size(2) == loop_split.sys.maxsize
    monkeypatch.setattr(loop_split.threads, "pool_threads", lambda: 2)
    assert loop_split.min_size(2) == loop_split.MIN_SIZE // 2
    assert loop_split.min_size(0) == loop_split.LIGHT_MIN_SIZE
    monkeypatch.setenv(loop_split.ENV, "5000")
    assert loop_split.min_size(0) == 5000
    monkeypatch.setenv(loop_split.ENV, "fast")
    with pytest.raises(ValueError, match="SYMNET_LOOP_SPLIT"):
        loop_split.min_size(1)


def test_off_switch_compiles_functions_that_never_split(w2, monkeypatch):
    fs, fw, _ = w2
    spy = _Spy(monkeypatch)
    fw(np.ones(10 * MIN, np.float32))
    assert spy.calls == 0
    # the wrapper of a function compiled with the split off has no split
    # branch; the other's shows its threshold (f.source)
    assert "_split.run(" not in fw.source
    assert f"if _n0 >= {MIN}:" in fs.source and "_L0_split.run(" in fs.source


def test_bounds_cover_the_axis_in_aligned_chunks():
    s = loop_split.Split([True], [], 256)
    for n in (1, 255, 256, 257, 1000, 99_999):
        for nt in (2, 3, 4):
            b = s.bounds(n, nt)
            assert b[0][0] == 0 and b[-1][1] == n
            assert all(lo < hi for lo, hi in b)
            assert all(b[k][1] == b[k + 1][0] for k in range(len(b) - 1))
            assert all(lo % 256 == 0 for lo, _ in b)
