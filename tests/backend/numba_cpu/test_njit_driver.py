"""The opt-in njit driver (``SYMNET_NUMBA_NJIT_DRIVER=1``): the whole graph
as one njit function where every node allows it, agreeing with py; other
graphs keep the Python driver; errors still name the node."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import njit_driver
from symnet.backend.numba_cpu.linker import KernelRuntimeError
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache


@pytest.fixture
def njit_on(monkeypatch):
    use_tmp_cache()
    monkeypatch.setenv("SYMNET_NUMBA_NJIT_DRIVER", "1")


def _loss_graph():
    x, y = T.dmatrix("x"), T.lvector("y")
    w = symnet.shared(np.linspace(0.5, 1.5, 3), name="w")
    p = T.nnet.softmax(x * w + 1)
    loss = T.mean(T.nnet.categorical_crossentropy(p, y))
    return [x, y], [loss, T.max(x, axis=0), T.sum(T.exp(x))], [(w, w * 0.5)], w


def test_whole_graph_runs_as_one_njit_function_and_agrees_with_py(njit_on):
    inputs, outs, updates, w = _loss_graph()
    f = symnet.function(inputs, outs, updates=updates, mode=Mode("numba"))
    assert "def drive(" in f.source
    xv = np.random.default_rng(0).normal(size=(4, 3))
    yv = np.array([0, 1, 2, 0])
    got = f(xv, yv)
    np.testing.assert_allclose(w.get_value(), np.linspace(0.5, 1.5, 3) * 0.5)
    w.set_value(np.linspace(0.5, 1.5, 3))
    g = symnet.function(inputs, outs, updates=updates, mode=Mode("py"))
    want = g(xv, yv)
    for a, b in zip(got, want):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert f.thunk.linker.njit_compile_s >= 0.0


def test_runtime_error_inside_the_njit_driver_names_the_node(njit_on):
    x, y = T.dvector("x"), T.dvector("y")
    f = symnet.function([x, y], T.exp(x) + y, mode=Mode("numba", optimizer=None))
    assert "def drive(" in f.source
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), [2.0, 2.0])
    with pytest.raises(ValueError, match="while running node add"):
        f(np.zeros(2), np.ones(3))


def test_matrix_products_run_inside_the_njit_driver_through_cblas(njit_on):
    from symnet.backend.numba_cpu.lib import cblas
    x, w = T.fmatrix("x"), T.fmatrix("w")
    # a transposed operand and column slices: strided views handed to the GEMM
    f = symnet.function([x, w], T.tanh(T.dot(x, w.T)) + T.dot(x[:, 1:3], w[:, 1:3].T),
                        mode=Mode("numba"))
    assert ("def drive(" in f.source) == cblas.AVAILABLE
    if cblas.AVAILABLE:
        assert "_dot(" in f.source.split("one njit function")[-1]
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(3, 5)).astype("f4"), rng.normal(size=(4, 5)).astype("f4")
    got = f(xv, wv)
    assert got.dtype == np.float32
    want = np.tanh(xv @ wv.T) + xv[:, 1:3] @ wv[:, 1:3].T
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_graphs_with_a_vector_dot_keep_the_python_driver(njit_on):
    x = T.dvector("x")
    f = symnet.function([x], T.tanh(T.dot(x, x)), mode=Mode("numba"))
    assert "def drive(" not in f.source
    np.testing.assert_allclose(f(np.ones(2)), np.tanh(2.0))


def test_a_failure_of_the_njit_driver_alone_is_an_error_not_a_fallback(njit_on):
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x), mode=Mode("numba", optimizer=None))
    linker = f.thunk.linker

    def bad_drive(*args):
        raise ValueError("driver-only problem")

    def python_run(*args):           # the kernels themselves are fine
        return [np.exp(args[0])]
    run = njit_driver.make_run(linker, bad_drive, python_run)
    with pytest.raises(KernelRuntimeError, match="driver-only problem"):
        run(np.zeros(2))


def test_a_driver_numba_cannot_compile_keeps_the_python_driver_loudly(njit_on, monkeypatch):
    from numba.core.errors import TypingError
    from symnet.configdefaults import config
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x), mode=Mode("numba", optimizer=None))
    calls = []

    def bad_drive(*args):
        calls.append(1)
        raise TypingError("cannot type this")

    def python_run(*args):
        return [np.exp(args[0])]
    monkeypatch.setattr(config, "strict", False)
    run = njit_driver.make_run(f.thunk.linker, bad_drive, python_run)
    with pytest.warns(RuntimeWarning, match="keeps the Python driver"):
        np.testing.assert_allclose(run(np.zeros(2))[0], np.ones(2))
    np.testing.assert_allclose(run(np.ones(2))[0], np.exp(np.ones(2)))
    assert len(calls) == 1                 # not tried again
    monkeypatch.setattr(config, "strict", True)
    run = njit_driver.make_run(f.thunk.linker, bad_drive, python_run)
    with pytest.raises(TypingError):
        run(np.zeros(2))
