"""The order of the in-place update tail (backend/tail_order.py): the
weight-gradient GEMMs only the tail reads run last, smallest first, and the
tail updates the most recently produced gradient first; the values stay
those of py and a call that raises still writes no shared value, with
both emitters."""
import numpy as np
import pytest

from .helpers import assert_raises_changing_nothing, mlp_nesterov, use_tmp_cache
from .llvm_helpers import emitter, llvm_kernels

LR, MOM = np.float32(0.05), np.float32(0.9)
SIZES = (7, 9, 6, 3)     # three layers: 7x9, 9x6, 6x3 weights


def _net(mode, params, extra_grad=False, static_shape=True):
    return mlp_nesterov(mode, params, LR, MOM, static_shape=static_shape, extra_grad=extra_grad)


def _data(seed=0, sizes=SIZES, batch=5, scale=0.4):
    """(params, x, y) of the net with layer widths ``sizes``."""
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0, scale, (a, b)).astype("float32"),
                   rng.normal(0, 0.1, b).astype("float32")]
    return params, rng.normal(size=(batch, sizes[0])).astype("float32"), \
        rng.integers(0, sizes[-1], batch).astype("int32")


def _destroyed(run):
    return {s.name for s in run.into.values()}


@pytest.mark.parametrize("name", ["numba", "llvm"])
def test_largest_gradient_last_and_its_update_first(name):
    use_tmp_cache()
    params, xv, yv = _data()
    with emitter(name):
        fn, shn, veln = _net("numba", params)
    assert bool(llvm_kernels(fn)) == (name == "llvm")
    plan = fn.thunk.linker.plan
    tail, steps = plan.tail, plan.steps
    assert len(tail) == 6 and steps[len(steps) - 6:] == tail
    before = steps[: len(steps) - 6]
    # the steps the tail reads come last, their results growing: db3 (3),
    # dW3 6x3 (18), dW2 9x6 (54), dW1 7x9 (63: x's width is not static, a
    # reshape after its GEMM gives the shape, and that GEMM moved with it)
    in_tail = {n for r in tail for n in r.nodes}
    fed = [s for s in before if not hasattr(s, "nodes") and
           any(c in in_tail for o in s.outputs for c, _ in plan.fgraph.clients[o])]
    assert [s.outputs[0].type.shape for s in fed] == [(3,), (6, 3), (9, 6), (7, 9)]
    assert before[-1] is fed[-1] and before[-2].outputs[0] is fed[-1].inputs[0]
    assert type(before[-2].op).__name__ == "Dot"
    # the tail: p0 (gradient produced last) first, then p2, then p4; the
    # bias updates, whose sums were produced earlier, after them
    order = [_destroyed(r) for r in tail]
    assert order[:3] == [{"p0", "v0"}, {"p2", "v2"}, {"p4", "v4"}]
    assert {frozenset(o) for o in order[3:]} == \
        {frozenset({"p1", "v1"}), frozenset({"p3", "v3"}), frozenset({"p5", "v5"})}
    # the driver calls them in that order
    call = next(ln for ln in fn.source.splitlines() if "_starmap(_call" in ln)
    assert call.count("(k") == 6
    fp, shp, velp = _net("py", params)
    for _ in range(3):
        np.testing.assert_allclose(fn(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(shn + veln, shp + velp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["numba", "llvm"])
def test_a_gradient_also_returned_is_not_moved(name):
    # the first weight's gradient is an output too: its GEMM is not one the
    # tail alone reads, so it stays where the schedule put it
    use_tmp_cache()
    params, xv, yv = _data(1)
    with emitter(name):
        fn, shn, veln = _net("numba", params, extra_grad=True)
    plan = fn.thunk.linker.plan
    before = plan.steps[: len(plan.steps) - len(plan.tail)]
    g0 = plan.fgraph.outputs[1]      # the reshape after dW1's GEMM
    assert g0.type.shape == (7, 9)
    in_tail = {n for r in plan.tail for n in r.nodes}
    fed = [s for s in before if not hasattr(s, "nodes") and
           any(c in in_tail for o in s.outputs for c, _ in plan.fgraph.clients[o])]
    # dW1 (also an output) stays before the moved ones, which keep growing
    assert [s.outputs[0].type.shape for s in fed] == [(7, 9), (3,), (6, 3), (9, 6)]
    assert fed[0].outputs[0] is g0 and before[-1] is fed[-1]
    fp, shp, velp = _net("py", params, extra_grad=True)
    for _ in range(3):
        for a, b in zip(fn(xv, yv), fp(xv, yv)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(shn + veln, shp + velp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["numba", "llvm"])
@pytest.mark.parametrize("bad", [0, 5])
def test_a_failing_call_still_changes_no_shared_value(name, bad):
    # velocity ``bad`` gets another shape: the call raises (the tail's shape
    # check, before any write), and no parameter or velocity has changed,
    # whichever end of the reordered tail its update sits at
    use_tmp_cache()
    params, xv, yv = _data(2)
    with emitter(name):
        f, sh, vel = _net("numba", params, static_shape=False)
    assert f.thunk.linker.plan.tail
    f(xv, yv)
    vel[bad].set_value(np.zeros((2,) + params[bad].shape[1:], "float32"))
    assert_raises_changing_nothing(sh + vel, lambda: f(xv, yv))


# -- threads for the large update loops only (threads.tail_threads) ------------

BIG = (4, 400, 330, 3)     # the 400x330 weight: 132,000 elements >= TAIL_MIN_SIZE


def _big_data(seed=3):
    return _data(seed, BIG, batch=6, scale=0.2)


def _tail_kernels(fn):
    """{destroyed shared names: whether its loop runs threaded}: a threaded
    copy of the kernel (``nb.prange``), or in a split step the serial kernel
    in row blocks over the split's threads (``_ptail``'s last argument)."""
    plan = fn.thunk.linker.plan
    call = next(ln for ln in fn.source.splitlines()
                if "_starmap(_call" in ln or "_ptail(" in ln)
    split = ()
    if "_ptail(" in call:
        split = eval("(" + call.rsplit(", (", 1)[1][:-1])   # the last argument: indices
        call = call.split("_ptail(", 1)[1]
    names = [part.split(",")[0] for part in call.split("((", 1)[1].split("(")]
    out = {}
    for k, (run, kname) in enumerate(zip(plan.tail, names)):
        text = fn.source.split(f"def {kname}(", 1)[1].split("\ndef ", 1)[0]
        out[frozenset(_destroyed(run))] = "nb.prange" in text or k in split
    return out


@pytest.mark.parametrize("name", ["numba", "llvm"])
@pytest.mark.parametrize("env", [{"SYMNET_TAIL_THREADS": "1", "SYMNET_GEMM_SPLIT": "0"},
                                 {"SYMNET_GEMM_SPLIT": "auto"}],
                         ids=["asked", "split step"])
def test_tail_threads_thread_only_the_large_updates(monkeypatch, name, env):
    # asked for (beside two-thread BLAS), or under auto: the 400x330 weight
    # makes the step one whose products are split (gemm_split.chosen), and
    # its large update loop shares the same threads
    from symnet.backend.numba_cpu import gemm_split, threads
    for k in ("SYMNET_TAIL_THREADS", "SYMNET_NUM_THREADS", "SYMNET_GEMM_SPLIT"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    split = env.get("SYMNET_GEMM_SPLIT") == "auto"
    if split and not gemm_split.available():
        pytest.skip("no OpenBLAS thread count to hold (another BLAS): nothing is split")
    use_tmp_cache()
    params, xv, yv = _big_data()
    with emitter(name):
        fn, shn, veln = _net("numba", params, static_shape=True)
    assert ("_gsdot(" in fn.source) == split
    assert ("_ptail(" in fn.source) == split and ("nb.prange" in fn.source) != split
    assert threads.tail_threads(None, split)
    assert static_threshold_holds(params)
    kernels = _tail_kernels(fn)
    assert kernels.pop(frozenset({"p2", "v2"})) is True
    assert not any(kernels.values())
    fp, shp, velp = _net("py", params)
    for _ in range(3):
        np.testing.assert_allclose(fn(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(shn + veln, shp + velp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)


def static_threshold_holds(params):
    """The data has one weight above TAIL_MIN_SIZE and none other."""
    from symnet.backend.numba_cpu.threads import TAIL_MIN_SIZE
    sizes = sorted(p.size for p in params)
    return sizes[-1] >= TAIL_MIN_SIZE > sizes[-2]


@pytest.mark.parametrize("env", [{"SYMNET_GEMM_SPLIT": "0"}, {"SYMNET_TAIL_THREADS": "0"},
                                 {"SYMNET_NUM_THREADS": "1"},
                                 {"SYMNET_TAIL_THREADS": "1", "SYMNET_NUM_THREADS": "1"}])
def test_no_threaded_tail_unless_asked_or_split(monkeypatch, env):
    for k in ("SYMNET_TAIL_THREADS", "SYMNET_NUM_THREADS", "SYMNET_GEMM_SPLIT"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    use_tmp_cache()
    params, xv, yv = _big_data()
    fn, _, _ = _net("numba", params)
    assert not any(_tail_kernels(fn).values())
    assert "prange" not in fn.source


def test_tail_threads_bad_value_is_an_error(monkeypatch):
    from symnet.backend.numba_cpu import threads
    monkeypatch.setenv("SYMNET_TAIL_THREADS", "yes")
    with pytest.raises(ValueError, match="SYMNET_TAIL_THREADS: expected 0 or 1.*'yes'"):
        threads.tail_threads(None)


@pytest.mark.parametrize("name", ["numba", "llvm"])
def test_threaded_tail_failing_call_changes_no_shared_value(monkeypatch, name):
    # a label out of range: the loss kernel raises before the (threaded)
    # tail, nothing is written; the next good call matches py
    monkeypatch.setenv("SYMNET_TAIL_THREADS", "1")
    monkeypatch.delenv("SYMNET_NUM_THREADS", raising=False)
    use_tmp_cache()
    params, xv, yv = _big_data(4)
    with emitter(name):
        f, sh, vel = _net("numba", params)
    assert any(_tail_kernels(f).values())
    fp, shp, velp = _net("py", params)
    np.testing.assert_allclose(f(xv, yv), fp(xv, yv), rtol=1e-5)
    bad = yv.copy()
    bad[2] = BIG[-1] + 5
    assert_raises_changing_nothing(sh + vel, lambda: f(xv, bad), match="label")
    np.testing.assert_allclose(f(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(sh + vel, shp + velp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)
