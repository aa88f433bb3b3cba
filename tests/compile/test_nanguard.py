"""The NaN guard names the node that made the first NaN/Inf/huge value, on py and numba."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.instrument import Instrumented
from symnet.compile.mode import Mode
from symnet.compile.nanguardmode import NanGuardError, NanGuardMode

BACKENDS = ("py", "numba")
F32 = "float32"


def _line_of(marker):
    """The line number in this file of the line containing ``marker``."""
    with open(__file__) as f:
        for k, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return k
    raise AssertionError(marker)


def _scalar(node):
    return node.op.scalar_op.name


@pytest.mark.parametrize("backend", BACKENDS)
def test_log_of_negative_names_the_log_node(backend):
    x = T.vector("x")
    y = T.log(x) * 2 + 1  # MARK-log
    f = symnet.function([x], y, mode=Mode(backend, nan_guard=True))
    np.testing.assert_allclose(f(np.array([1, 2], F32)), np.log([1, 2]) * 2 + 1, rtol=1e-6)
    with pytest.raises(NanGuardError) as info:
        f(np.array([1, -1], F32))
    err = info.value
    assert err.kind == "NaN"
    assert isinstance(err, AssertionError)  # Theano's type, which its users catch
    assert _scalar(err.node) == "log"
    msg = str(err)
    assert msg.startswith("NaN in output 0 of node")
    assert f"{__file__}:{_line_of('MARK-log')}" in msg
    assert "input 0 (x): float32 (2,) in [-1, 1]" in msg


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_by_zero_in_a_fused_elemwise_names_the_division(backend):
    a, b = T.vectors("a", "b")
    q = (a * b) / (a + b)  # MARK-div
    y = T.exp(T.tanh(a * b) + q) * 3
    f = symnet.function([a, b], y, mode=Mode(backend, nan_guard=True))
    # the rewrites fused everything into one node
    assert len(f.fgraph.apply_nodes) == 1
    ok = np.array([1, 2, 3], F32)
    np.testing.assert_allclose(f(ok, ok), np.exp(np.tanh(ok * ok) + ok * ok / (ok + ok)) * 3,
                               rtol=1e-5)
    bad = np.array([1, 0, 2], F32)
    with pytest.raises(NanGuardError) as info:
        f(bad, bad)
    assert _scalar(info.value.node) == "true_div"
    assert f"{__file__}:{_line_of('MARK-div')}" in str(info.value)
    assert "part of the fused node Composite" in str(info.value)


def test_numba_fused_loop_is_rerun_node_by_node():
    """Without rewrites, the numba backend still computes consecutive
    elementwise nodes in one loop; the guard finds the division inside it."""
    a, b = T.vectors("a", "b")
    num = a * b
    q = num / (a + b)  # MARK-loop
    y = T.exp(q) + num
    f = symnet.function([a, b], y, mode=Mode("numba", optimizer=None, nan_guard=True))
    if isinstance(f.thunk, Instrumented) and f.thunk.backend == "numba":
        assert any(len(step[0]) > 1 for step in f.thunk.steps), f.source
    bad = np.array([0, 1], F32)
    with pytest.raises(NanGuardError) as info:
        f(bad, bad)
    node = info.value.node
    assert _scalar(node) == "true_div"
    assert node.outputs[0] is f.fgraph.outputs[0].owner.inputs[0].owner.inputs[0]
    assert f"{__file__}:{_line_of('MARK-loop')}" in str(info.value)
    if f.thunk.backend == "numba":
        assert "found by re-running on py after numba step" in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inf_and_big_values(backend):
    x = T.vector("x")
    f = symnet.function([x], T.exp(x), mode=Mode(backend, nan_guard=True))
    with pytest.raises(NanGuardError) as info:
        f(np.array([1, 100], F32))
    assert info.value.kind == "Inf" and _scalar(info.value.node) == "exp"
    g = symnet.function([x], x * 1e11, mode=NanGuardMode(True, True, True, linker=backend))
    with pytest.raises(NanGuardError) as info:
        g(np.array([1, 2], F32))
    assert info.value.kind == "big" and "above 1e+10" in str(info.value)
    # big values pass when big_is_error is False
    h = symnet.function([x], x * 1e11, mode=NanGuardMode(True, True, False, linker=backend))
    np.testing.assert_allclose(h(np.array([1, 2], F32)), [1e11, 2e11], rtol=1e-6)


def test_inputs_are_checked_by_nanguardmode():
    x = T.vector("x")
    f = symnet.function([x], x + 1, mode=NanGuardMode(linker="py"))
    with pytest.raises(NanGuardError) as info:
        f(np.array([np.nan, 1], F32))
    assert info.value.node is None
    assert "function input 0 (x)" in str(info.value)


def test_guard_off_adds_nothing():
    x = T.vector("x")
    f = symnet.function([x], T.log(x), mode="py")
    assert not isinstance(f.thunk, Instrumented)
    g = symnet.function([x], T.log(x), mode="numba")
    assert not isinstance(g.thunk, Instrumented)
    assert "_step(" not in g.source
    # no guard: a NaN is just a value
    assert np.isnan(g(np.array([-1.0], F32))[0])


def test_named_mode_and_compat_shim():
    import symnet.compat
    x = T.vector("x")
    f = symnet.function([x], T.sqrt(x), mode="NanGuardMode")
    with pytest.raises(NanGuardError):
        f(np.array([-4.0], F32))
    symnet.compat.install()
    try:
        from theano.compile.nanguardmode import NanGuardMode as TheanoNanGuardMode
        mode = TheanoNanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=False)
        g = symnet.function([x], T.sqrt(x), mode=mode)
        np.testing.assert_allclose(g(np.array([4.0], F32)), [2.0])
        with pytest.raises(NanGuardError) as info:
            g(np.array([-4.0], F32))
        assert _scalar(info.value.node) == "sqrt"
    finally:
        symnet.compat.uninstall()
