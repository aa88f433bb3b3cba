"""Tiered execution (symnet/compile/tiered.py): calls run on py while the
numba kernels compile in the background, then on the compiled code, with
the same outputs and shared updates as either backend alone; the mode flag
and SYMNET_TIERED; compile failures; the progress message."""
import io
import re
import threading

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.linker import NumbaLinker
from symnet.compile import tiered
from symnet.compile.mode import Mode
from symnet.compile.tiered import TieredThunk, tiered_enabled, wait_compiled
from symnet.configdefaults import config
from symnet.tensor.shared_randomstreams import RandomStreams


@pytest.fixture
def gate(monkeypatch):
    """Hold every numba compile until the test sets the returned Event;
    compiles still held when the test ends are abandoned."""
    event = threading.Event()
    over = []
    original = NumbaLinker.make_thunk

    def gated(self):
        assert event.wait(120), "the test never opened the gate"
        if over:
            raise RuntimeError("the test ended before this compile")
        return original(self)
    monkeypatch.setattr(NumbaLinker, "make_thunk", gated)
    yield event
    over.append(True)
    event.set()


def _build(mode):
    """A training-like step with an update, a random stream, an in-place
    elementwise op and an in-place IncSubtensor (fresh shared state)."""
    srng = RandomStreams(seed=7)
    w = symnet.shared(np.linspace(-1, 1, 6).astype("float32"), name="w")
    acc = symnet.shared(np.zeros(6, "float32"), name="acc")
    x = T.vector("x")
    noise = srng.uniform((6,))
    h = T.tanh(x * w + noise)
    z = T.inc_subtensor((h * 2.0)[1:4], 1.0)
    loss = T.sum(z ** 2)
    g = symnet.grad(loss, w)
    f = symnet.function([x], [loss, z, noise],
                        updates=[(w, w - 0.1 * g), (acc, acc + z)], mode=mode)
    return f, (w, acc)


def _run(f, shared, n):
    x = np.linspace(0.5, 1.5, 6).astype("float32")
    trace = []
    for _ in range(n):
        outs = f(x)
        trace.append([np.array(o) for o in outs] + [s.get_value() for s in shared])
    return trace


def _assert_same(a, b):
    assert len(a) == len(b)
    for step_a, step_b in zip(a, b):
        # the noise (index 2) is drawn by the same generator on every tier
        np.testing.assert_array_equal(step_a[2], step_b[2])
        for u, v in zip(step_a, step_b):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_allclose(u, v, rtol=2e-5, atol=1e-6)


def test_tiered_switches_between_calls_with_same_results_and_updates(gate):
    f, shared = _build(Mode("numba", tiered=True))
    assert isinstance(f.thunk, TieredThunk)
    # the rewritten graph has in-place nodes, whichever tier runs it
    assert any(n.op.destroy_map for n in f.fgraph.apply_nodes)
    assert "def make_run" in f.source        # generated before any compile
    first = _run(f, shared, 3)
    assert f.tier == "py" and f.thunk.calls == {"py": 3}
    gate.set()
    assert wait_compiled(f, timeout=300)
    second = _run(f, shared, 3)
    # the tier is final: calls go to the compiled thunk directly, and the
    # wrapper counted the switch only
    assert f.tier == "numba" and f.thunk.calls == {"py": 3, "numba": 1}
    assert f._call is f.thunk._compiled

    ref_py, shared_py = _build(Mode("py"))
    _assert_same(first + second, _run(ref_py, shared_py, 6))
    ref_nb, shared_nb = _build(Mode("numba", tiered=False))
    assert not isinstance(ref_nb.thunk, TieredThunk)
    assert ref_nb.tier == "numba"
    _assert_same(first + second, _run(ref_nb, shared_nb, 6))


def test_function_returns_before_the_compile(gate):
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) * 3.0, mode=Mode("numba", tiered=True))
    a = np.arange(4, dtype="float32")
    np.testing.assert_allclose(f(a), np.exp(a) * 3, rtol=1e-6)   # gate still shut
    assert f.tier == "py"
    gate.set()
    assert wait_compiled(f, timeout=300)
    np.testing.assert_allclose(f(a), np.exp(a) * 3, rtol=1e-6)
    assert f.tier == "numba"


def test_mode_flag_and_environment(monkeypatch):
    monkeypatch.setenv("SYMNET_TIERED", "auto")
    n = tiered.AUTO_MIN_NEW_KERNELS
    assert tiered_enabled(Mode("numba"), n) and not tiered_enabled(Mode("numba"), n - 1)
    assert tiered_enabled(Mode("numba", tiered=True), 0)
    assert not tiered_enabled(Mode("numba", tiered=False), 100)
    monkeypatch.setenv("SYMNET_TIERED", "0")
    assert not tiered_enabled(Mode("numba"), 100)
    assert tiered_enabled(Mode("numba", tiered=True), 0)    # the mode wins
    monkeypatch.setenv("SYMNET_TIERED", "1")
    assert tiered_enabled(Mode("numba"), 0)
    monkeypatch.setenv("SYMNET_TIERED", "sometimes")
    with pytest.raises(ValueError, match="SYMNET_TIERED must be 0, 1 or auto, got "
                                         "'sometimes'"):
        tiered_enabled(Mode("numba"), 0)
    m = Mode("numba", tiered=False)
    assert m.including("unsafe").tiered is False and m.excluding("merge").tiered is False
    assert m != Mode("numba") and "tiered=False" in repr(m)


def test_py_mode_is_never_tiered(monkeypatch):
    monkeypatch.delenv("SYMNET_FORCE_BACKEND", raising=False)   # CI's numba run
    x = T.vector("x")
    f = symnet.function([x], x + 1, mode=Mode("py", tiered=True))
    assert not isinstance(f.thunk, TieredThunk) and f.tier == "py"


def _failing_compile(self):
    raise RuntimeError("kernel compiler exploded")


def test_compile_failure_warns_and_stays_on_py(monkeypatch):
    monkeypatch.setattr(NumbaLinker, "make_thunk", _failing_compile)
    x = T.vector("x")
    f = symnet.function([x], T.tanh(x), mode=Mode("numba", tiered=True))
    f.thunk._done.wait(60)
    a = np.linspace(-2, 2, 5).astype("float32")
    with pytest.warns(RuntimeWarning, match="kernel compiler exploded.*keeps running "
                                            "on the py backend"):
        out = f(a)
    np.testing.assert_allclose(out, np.tanh(a), rtol=1e-6)
    assert f.tier == "py" and not wait_compiled(f, timeout=1)
    np.testing.assert_allclose(f(a), np.tanh(a), rtol=1e-6)
    assert f._call is f.thunk and f.thunk.calls == {"py": 2}   # still the wrapper, on py


def test_compile_failure_raises_under_strict(monkeypatch):
    monkeypatch.setattr(NumbaLinker, "make_thunk", _failing_compile)
    config.strict = True
    x = T.vector("x")
    f = symnet.function([x], T.tanh(x), mode=Mode("numba", tiered=True))
    f.thunk._done.wait(60)
    with pytest.raises(RuntimeError, match="kernel compiler exploded"):
        f(np.zeros(3, "float32"))


@pytest.mark.parametrize("emitter", ["numba", "llvm"])
def test_slow_compile_says_so_once(monkeypatch, capsys, emitter):
    said = threading.Event()
    original_say = tiered.Progress._say

    def say(self):
        original_say(self)
        said.set()
    monkeypatch.setattr(tiered.Progress, "_say", say)
    original = NumbaLinker.make_thunk

    def slow(self):            # a compile that outlasts PROGRESS_AFTER_S
        assert said.wait(60)
        return original(self)
    monkeypatch.setattr(NumbaLinker, "make_thunk", slow)
    monkeypatch.setattr(tiered, "PROGRESS_AFTER_S", 0.05)
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) + 1.0, mode=Mode("numba", tiered=False, emitter=emitter),
                        name="slowpoke")
    err = capsys.readouterr().err
    assert len(re.findall("still compiling", err)) == 1, err
    by = ", 1 by the llvm emitter" if emitter == "llvm" else ""
    assert re.search(rf"still compiling 1 kernel \((0|1) from the cache{by}\) for "
                     r"function 'slowpoke'", err), err
    np.testing.assert_allclose(f(np.ones(2, "float32")), np.e + 1, rtol=1e-6)


def test_train_prints_the_tier_of_each_epoch(gate, monkeypatch, tmp_path):
    from symnet import cli
    monkeypatch.setenv("SYMNET_TIERED", "1")
    args = cli.build_parser().parse_args(["train", "--epochs", "2", "--width", "8",
                                          "--no-progress", "--out", str(tmp_path)])
    out = io.StringIO()
    cli.train(args, out=out)
    epochs = [ln for ln in out.getvalue().splitlines() if ln.startswith("epoch")]
    assert len(epochs) == 2 and all(ln.endswith(" s, py)") for ln in epochs), epochs


def test_describe_tiers():
    class Fake:
        tier = "numba"

        class thunk:
            calls = {"py": 12, "numba": 3}
    before = tiered.tier_counts(Fake)
    assert tiered.describe_tiers(Fake, before) == "numba"
    Fake.thunk.calls = {"py": 14, "numba": 10}
    assert tiered.describe_tiers(Fake, before) == "py for 2 steps, then numba"


def test_first_call_runs_before_the_compile_starts(monkeypatch):
    # the compile thread (GIL-bound numba work) waits for the first call
    monkeypatch.setattr(tiered, "START_GRACE_S", 60.0)
    started = threading.Event()
    original = NumbaLinker.make_thunk

    def recording(self):
        started.set()
        return original(self)
    monkeypatch.setattr(NumbaLinker, "make_thunk", recording)
    x = T.vector("x")
    f = symnet.function([x], T.tanh(x) * 2.0, mode=Mode("numba", tiered=True))
    # plan and source are written in the compile thread, not by function()
    assert f.thunk._linker is None
    seen = []
    py = f.thunk._py

    def first(*args):
        seen.append(started.is_set())
        return py(*args)
    f.thunk._py = first
    a = np.linspace(-1, 1, 5).astype("float32")
    np.testing.assert_allclose(f(a), np.tanh(a) * 2, rtol=1e-6)
    assert seen == [False] and f.tier == "py"
    assert started.wait(300)             # the first call's end started it
    assert wait_compiled(f, timeout=300)
    np.testing.assert_allclose(f(a), np.tanh(a) * 2, rtol=1e-6)
    assert f.tier == "numba" and f.thunk.calls == {"py": 1, "numba": 1}


def test_compile_starts_after_the_grace_without_calls(monkeypatch):
    monkeypatch.setattr(tiered, "START_GRACE_S", 0.05)
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) - 1.0, mode=Mode("numba", tiered=True))
    assert "def make_run" in f.source      # written on demand
    assert f.thunk._done.wait(300) and f.tier == "numba"    # no call, no wait_compiled
    a = np.arange(3, dtype="float32")
    np.testing.assert_allclose(f(a), np.exp(a) - 1, rtol=1e-6)
    assert f.thunk.calls == {"numba": 1}


def test_calls_skip_the_wrapper_once_the_compiled_tier_ran(gate):
    x = T.fscalar("x")
    f = symnet.function([x], [x + 1, x * 2], mode=Mode("numba", tiered=True))
    v = np.array(1.5, "float32")

    def check(outs):
        assert [o.dtype for o in outs] == ["float32", "float32"]
        assert [o.shape for o in outs] == [(), ()]
        assert [float(o) for o in outs] == [2.5, 3.0]
    check(f(v))                               # py: the gate is shut
    assert f._call is f.thunk and f.tier == "py"
    gate.set()
    assert wait_compiled(f, timeout=300)
    assert f._call is f.thunk                 # until a call sees the compile ended
    check(f(v))                               # the switch
    assert f._call is f.thunk._compiled and f.thunk.calls == {"py": 1, "numba": 1}
    for trust in (False, True, False):
        f.trust_input = trust
        check(f(v))
        check(f(x=v))
        assert f._call is f.thunk._compiled and f.tier == "numba"
    assert f.thunk.calls == {"py": 1, "numba": 1}    # no longer counted
    with pytest.raises(TypeError, match="takes at most 1 arguments"):
        f(v, v)
