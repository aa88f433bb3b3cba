"""The compiler hook: eval, Scan and the jacobian op compile through the
function symnet.compile registers, not by importing symnet.compile."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph import compiler


@pytest.fixture
def counting(monkeypatch):
    calls = []

    def function(inputs, outputs, **kwargs):
        calls.append(kwargs.get("name"))
        return symnet.function(inputs, outputs, **kwargs)
    monkeypatch.setattr(compiler, "_COMPILER", {"function": function})
    return calls


def test_symnet_registers_its_function():
    assert compiler.get_compiler() is symnet.function


def test_without_a_compiler_the_error_names_the_caller(monkeypatch):
    monkeypatch.setattr(compiler, "_COMPILER", {})
    x = T.dvector("x")
    with pytest.raises(RuntimeError, match=r"\.eval\(\) needs a function compiler, and "
                                           r"none is registered: import symnet"):
        (x * 2).eval({x: np.ones(2)})


def test_eval_compiles_through_the_hook(counting):
    x = T.dvector("x")
    np.testing.assert_allclose((x * 2).eval({x: np.arange(3.0)}), [0.0, 2.0, 4.0])
    assert len(counting) == 1


def test_scan_compiles_its_inner_graph_through_the_hook(counting):
    x = T.dvector("x")
    out, _ = symnet.scan(lambda v, acc: acc + v, sequences=[x],
                         outputs_info=[T.constant(0.0, dtype="float64")], mode=Mode("py"))
    f = symnet.function([x], out, mode="py")     # the outer graph: not through the hook
    xv = np.arange(1.0, 5.0)
    np.testing.assert_allclose(f(xv), np.cumsum(xv))
    assert len(counting) == 1 and counting[0].startswith("Scan")


def test_jacobian_op_compiles_its_inner_graph_through_the_hook(counting):
    x = T.dvector("x")              # run-time sized: the jacobian op, not unrolled rows
    f = symnet.function([x], T.jacobian(T.exp(x) * 2, x), mode="py")
    xv = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(f(xv), np.diag(2 * np.exp(xv)))
    assert len(counting) == 1
