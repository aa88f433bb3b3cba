"""The py reference interpreter: order, constants, error reporting."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.py.linker import PyLinker, node_error
from symnet.backend.registry import LINKERS, linker_for
from symnet.graph.fg import FunctionGraph


def test_registered():
    assert linker_for("py") is PyLinker and LINKERS["py"] is PyLinker
    with pytest.raises(ValueError, match="unknown backend"):
        linker_for("nope")


def test_runs_graph_directly():
    x = T.dvector("x")
    z = T.exp(x) * 2 + T.constant(np.arange(3.0))
    fg = FunctionGraph([x], [z, x])
    thunk = PyLinker(fg)
    out, same = thunk(np.zeros(3))
    np.testing.assert_allclose(out, [2, 3, 4])
    np.testing.assert_array_equal(same, np.zeros(3))


def test_constant_output():
    fg = FunctionGraph([], [T.constant(np.float64(4.0))])
    assert float(PyLinker(fg)()[0]) == 4.0


def test_error_keeps_type_and_names_node():
    x = T.dvector("x")
    i = T.lscalar("i")
    f = symnet.function([x, i], x[i], mode="py")
    with pytest.raises(IndexError) as info:
        f(np.zeros(2), 7)
    msg = str(info.value)
    assert "Subtensor" in msg and "[(2,), ()]" in msg and "test_linker.py" in msg
    assert isinstance(info.value.__cause__, IndexError)


def test_node_error_fallback_type():
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)
    x = T.dscalar("x")
    node = (x + 1).owner
    err = node_error(Odd(1, 2), node, [np.zeros(()), np.zeros(())])
    assert isinstance(err, RuntimeError) and "add" in str(err)


def test_no_floating_point_warnings_escape():
    import warnings
    x = T.dvector("x")
    f = symnet.function([x], T.log(x), mode="py")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(np.array([0.0, -1.0]))
    assert np.isneginf(out[0]) and np.isnan(out[1])
