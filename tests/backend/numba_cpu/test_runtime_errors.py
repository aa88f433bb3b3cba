"""A numba kernel failing at run time: an error naming the node, never a
silent replay on the py backend (the replay is an explicit, warned
debugging option), and Ctrl-C is never swallowed; the same for a kernel
built by either emitter (numba's ``k<n>``, the llvm emitter's ``L<n>``)."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import linker as numba_linker
from symnet.backend.py.linker import PyLinker
from symnet.compile.mode import Mode
from symnet.configdefaults import config

from .helpers import use_tmp_cache

NB = Mode("numba", optimizer=None)


@pytest.fixture(params=["numba", "llvm"])
def emitter(request):
    return request.param


def _graph(emitter="numba"):
    """exp(x) then a sum of it reversed: two kernels (the reversal, a view in
    the driver, keeps the sum out of exp's loop), one patched to fail."""
    use_tmp_cache()
    x = T.dvector("x")
    y = T.exp(x)
    f = symnet.function([x], [T.sum(y[::-1]), y],
                        mode=Mode("numba", optimizer=None, emitter=emitter))
    return f, x


def _break(f, kname, exc):
    def bad(*args):
        raise exc
    f.thunk.linker.ns[kname] = bad


def _no_replay(monkeypatch):
    def replay(self, *args):
        raise AssertionError("the call was replayed on the py backend")
    monkeypatch.setattr(PyLinker, "__call__", replay)


def _kernel_of(f, op_word):
    """The local name of the kernel whose node's op mentions ``op_word``."""
    for text, kname in f.thunk.linker.kernel_names.items():
        if op_word in text.splitlines()[2]:
            return kname
    raise AssertionError(f"no kernel for {op_word} in {f.source}")


def test_failing_kernel_raises_naming_the_node(monkeypatch, emitter):
    monkeypatch.delenv("SYMNET_NUMBA_REPLAY", raising=False)
    f, _ = _graph(emitter)
    xv = np.arange(3.0)
    np.testing.assert_allclose(f(xv)[0], np.exp(xv).sum())
    _break(f, _kernel_of(f, "Sum"), ValueError("bad things in the kernel"))
    _no_replay(monkeypatch)
    with pytest.raises(ValueError) as info:
        f(xv)
    msg = str(info.value)
    assert "bad things in the kernel" in msg
    assert "while running node Sum" in msg and "input shapes [(3,)]" in msg
    assert "test_runtime_errors.py" in msg        # the user line that built it
    assert isinstance(info.value.__cause__, ValueError)


def test_failure_names_the_failing_node_not_a_neighbour(monkeypatch, emitter):
    monkeypatch.delenv("SYMNET_NUMBA_REPLAY", raising=False)
    f, _ = _graph(emitter)
    kname = _kernel_of(f, "exp")
    assert f.thunk.linker.emitter_of(kname) == emitter
    _break(f, kname, FloatingPointError("exp broke"))
    _no_replay(monkeypatch)
    with pytest.raises(FloatingPointError, match=r"exp broke\n  while running node exp"):
        f(np.arange(3.0))


def test_a_failed_call_changes_no_shared_value(monkeypatch, emitter):
    monkeypatch.delenv("SYMNET_NUMBA_REPLAY", raising=False)
    use_tmp_cache()
    x = T.dvector("x")
    w = symnet.shared(np.ones(3), name="w")
    f = symnet.function([x], T.sum(T.exp(x * w)), updates=[(w, w * 2)],
                        mode=Mode("numba", optimizer=None, emitter=emitter))
    for kname in f.thunk.linker.kernel_names.values():
        _break(f, kname, RuntimeError("kernel failed"))
    _no_replay(monkeypatch)
    with pytest.raises(RuntimeError, match="kernel failed"):
        f(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


def test_replay_is_an_explicit_option_and_warns(monkeypatch, emitter):
    f, _ = _graph(emitter)
    xv = np.arange(3.0)
    _break(f, _kernel_of(f, "Sum"), ValueError("numba-side problem"))
    monkeypatch.setenv("SYMNET_NUMBA_REPLAY", "1")
    monkeypatch.setattr(config, "strict", False)
    with pytest.warns(RuntimeWarning, match="replayed on the py backend"):
        total, y = f(xv)
    np.testing.assert_allclose(total, np.exp(xv).sum())
    np.testing.assert_allclose(y, np.exp(xv))
    # SYMNET_STRICT refuses the replay: the error is raised
    monkeypatch.setattr(config, "strict", True)
    with pytest.raises(ValueError, match="numba-side problem"):
        f(xv)


def test_replay_through_the_mode_attribute(monkeypatch, emitter):
    monkeypatch.delenv("SYMNET_NUMBA_REPLAY", raising=False)
    monkeypatch.setattr(config, "strict", False)
    use_tmp_cache()
    x = T.dvector("x")
    mode = Mode("numba", optimizer=None, emitter=emitter)
    mode.replay_on_error = True
    f = symnet.function([x], T.exp(x), mode=mode)
    for kname in f.thunk.linker.kernel_names.values():
        _break(f, kname, ValueError("numba-side problem"))
    with pytest.warns(RuntimeWarning, match="failed at node exp"):
        np.testing.assert_allclose(f(np.zeros(2)), np.ones(2))


@pytest.mark.parametrize("wrap", [False, True])
def test_keyboard_interrupt_is_never_caught_or_replayed(monkeypatch, wrap, emitter):
    monkeypatch.setenv("SYMNET_NUMBA_REPLAY", "1")   # even with the replay asked for
    f, _ = _graph(emitter)
    if wrap:
        # how numba reports a Ctrl-C inside a kernel
        err = SystemError("<numba kernel> returned a result with an exception set")
        err.__context__ = KeyboardInterrupt()
    else:
        err = KeyboardInterrupt()
    _break(f, _kernel_of(f, "Sum"), err)
    _no_replay(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyboardInterrupt):
            f(np.arange(3.0))


def test_a_real_shape_mismatch_names_the_node(monkeypatch, emitter):
    """Not a patched kernel: the kernel's own shape check fails at run time."""
    monkeypatch.delenv("SYMNET_NUMBA_REPLAY", raising=False)
    use_tmp_cache()
    x, y = T.dvector("x"), T.dvector("y")
    f = symnet.function([x, y], T.exp(x) * y,
                        mode=Mode("numba", optimizer=None, emitter=emitter))
    (kname,) = [k for k in f.thunk.linker.kernel_names.values()
                if f.thunk.linker.emitter_of(k) == emitter]
    np.testing.assert_allclose(f(np.zeros(3), np.ones(3)), np.ones(3))
    _no_replay(monkeypatch)
    with pytest.raises(ValueError) as info:
        f(np.zeros(3), np.ones(4))
    msg = str(info.value)
    # the multiplication, not exp, with the shapes of both its inputs: the
    # fused loop's members are re-run on py to find the one that fails
    assert "input shapes (3,), (4,) do not match along axis 0" in msg, msg
    assert "while running node mul(exp.0, y) with input shapes [(3,), (4,)]" in msg, msg


def test_interrupt_finds_the_cause_chain():
    from symnet._interrupt import hidden_interrupt
    ki = KeyboardInterrupt()
    outer = SystemError("x")
    outer.__cause__ = ki
    assert hidden_interrupt(outer) is ki
    assert hidden_interrupt(ValueError("no")) is None


def test_a_fallback_perform_error_is_named_once(monkeypatch):
    from symnet.graph.basic import Apply
    from symnet.graph.op import Op

    class Boom(Op):
        """No numba kernel: runs its perform in the driver."""
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            raise ValueError("boom")
    monkeypatch.setattr(config, "strict", False)
    use_tmp_cache()
    x = T.dvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the fallback warning
        f = symnet.function([x], Boom()(T.exp(x)) * 2, mode=NB)
    _no_replay(monkeypatch)
    with pytest.raises(ValueError) as info:
        f(np.zeros(2))
    msg = str(info.value)
    assert msg.startswith("boom\n") and msg.count("while running node") == 1
    assert "Boom" in msg and "input shapes [(2,)]" in msg
