"""function(..., profile=True): per-step and per-op-class times, compile breakdown."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import cli
from symnet.compile.instrument import Instrumented
from symnet.compile.mode import Mode

F32 = "float32"


def _heavy_function(backend):
    """A step dominated by one large matrix product (20 M multiply-adds
    against 10 k elementwise items), so the per-step bookkeeping is small
    next to it even on a busy machine, and even with NUMBA_OPT=0."""
    x, W1, W2 = T.matrix("x"), T.matrix("W1"), T.matrix("W2")
    h = T.tanh(T.dot(x, W1))
    y = T.sum(T.dot(h, W2) ** 2)
    f = symnet.function([x, W1, W2], y, mode=Mode(backend), profile=True, name="heavy")
    rng = np.random.RandomState(0)
    return f, (rng.rand(200, 2000).astype(F32), (rng.rand(2000, 50).astype(F32) - 0.5) / 50,
               rng.rand(50, 50).astype(F32))


@pytest.mark.parametrize("backend", ["py", "numba"])
def test_steps_add_up_to_the_calls(backend):
    f, args = _heavy_function(backend)
    a, w1, w2 = args
    expect = np.sum((np.tanh(a @ w1) @ w2) ** 2)
    f(*args)                # the first call also loads numba kernels
    f.profile.reset()
    for _ in range(5):
        np.testing.assert_allclose(f(*args), expect, rtol=1e-3)
    prof = f.profile
    assert prof.enabled and prof.calls == 5
    assert all(n == 5 for n in prof.step_calls)
    # the steps' times and the calls' times are measured by the profiler on
    # the same clock; only the call's entry and exit are outside every step
    assert 0.8 * prof.call_time <= prof.steps_time <= prof.call_time
    nodes = prof.node_times()
    assert set(nodes) == set(f.fgraph.apply_nodes)
    assert abs(sum(nodes.values()) - prof.steps_time) < 1e-9
    by_class = prof.op_class_times()
    assert "Dot" in by_class and by_class["Dot"][1] == 2
    best = prof.node_times(best=True)
    assert all(0 < best[n] <= nodes[n] / 5 * 1.000001 for n in nodes)


@pytest.mark.parametrize("emitter", ["numba", "llvm"])
def test_summary_text_numba(emitter, monkeypatch):
    monkeypatch.setenv("SYMNET_NUMBA_EMITTER", emitter)
    f, args = _heavy_function("numba")
    f(*args)
    text = f.profile.text()
    assert text.startswith("Function profile of heavy")
    assert "1 call(s)" in text and "Op classes" in text and "Compile:" in text
    if f.thunk.backend == "numba":
        # the kernels are named by their emitter: numba's k<n>, llvm's L<n>
        k = "k" if emitter == "numba" else "L"
        assert "driver line" in text and f"kernel {k}0" in text and "Kernels (" in text
        kernels = f.profile.kernel_times()
        assert kernels and sum(n for _, n in kernels.values()) == \
            sum(1 for step in f.profile.steps if step[2] == "kernel")
        assert all(name.startswith(k) for name in kernels), kernels
        if emitter == "numba":
            assert "numba compile/load" in text and "by the llvm emitter" not in text
        else:
            assert "compile/load (llvm modules, numba kernels)" in text
            n = len(f.thunk.linker.code.llvm_kernels)
            assert f"kernels: {n} distinct ({n} by the llvm emitter: L*)" in text
        assert "codegen" in f.profile
        assert "_step(" in f.source


def test_summary_prints_and_off_by_default(capsys):
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) + 1, mode="py")
    assert not isinstance(f.thunk, Instrumented)
    assert f.profile["rewrite"] >= 0 and f.profile["link"] >= 0
    f.profile.summary()
    out = capsys.readouterr().out
    assert "run times: not collected" in out and "Compile:" in out
    W = T.matrix("W")
    g = symnet.function([W, x], T.dot(W, T.exp(x) * 1), mode="py", profile=True)
    g(np.ones((2, 3), F32), np.ones(3, F32))
    g.profile.summary(top=1)
    out = capsys.readouterr().out
    assert "... 1 more steps" in out
    assert "rewrites applied: " in out
    assert "local_mul_one x1" in g.profile.text()


def test_train_profile_prints_after_first_epoch(tmp_path, capsys):
    args = cli.build_parser().parse_args(
        ["train", "--width", "8", "--epochs", "2", "--mode", "py", "--no-progress",
         "--profile", "--out", str(tmp_path)])
    cli.train(args)
    text = capsys.readouterr().out
    assert text.count("Function profile of train_fn") == 1
    first, second = text.index("epoch 1/2"), text.index("epoch 2/2")
    assert first < text.index("Function profile of train_fn") < second
    assert "Dot" in text and "Compile:" in text
    # 1258 training examples in batches of 32; the first call is left out
    assert f"{1258 // 32 - 1} call(s)" in text
