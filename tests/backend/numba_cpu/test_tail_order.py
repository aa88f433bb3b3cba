"""The order of the in-place update tail (backend/tail_order.py): the
weight-gradient GEMMs only the tail reads run last, smallest first, and the
tail updates the most recently produced gradient first; the values stay
those of py and a call that raises still writes no shared value, with
both emitters."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache
from .llvm_helpers import emitter, llvm_kernels

LR, MOM = np.float32(0.05), np.float32(0.9)
SIZES = (7, 9, 6, 3)     # three layers: 7x9, 9x6, 6x3 weights


def _net(mode, params, extra_grad=False, static_shape=True):
    """A three-layer relu net with Nesterov momentum (W1 in small); returns
    (f, shared params, velocities).  ``extra_grad``: the first weight's
    gradient is also an output of the function."""
    sh = [symnet.shared(p.copy(), name=f"p{k}") for k, p in enumerate(params)]
    vel = [symnet.shared(np.zeros_like(p), name=f"v{k}", static_shape=static_shape)
           for k, p in enumerate(params)]
    x, y = T.fmatrix("x"), T.ivector("y")
    h = x
    for i in range(3):
        h = T.dot(h, sh[2 * i]) + sh[2 * i + 1]
        if i < 2:
            h = T.nnet.relu(h)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(h), y))
    grads = symnet.grad(loss, sh)
    updates = []
    for p, v, g in zip(sh, vel, grads):
        nv = MOM * v - LR * g
        updates += [(v, nv), (p, p + MOM * nv - LR * g)]
    outs = [loss, grads[0]] if extra_grad else loss
    m = Mode(mode, tiered=False) if mode == "numba" else Mode(mode)
    return symnet.function([x, y], outs, updates=updates, mode=m), sh, vel


def _data(seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        params += [rng.normal(0, 0.4, (a, b)).astype("float32"),
                   rng.normal(0, 0.1, b).astype("float32")]
    return params, rng.normal(size=(5, SIZES[0])).astype("float32"), \
        rng.integers(0, SIZES[-1], 5).astype("int32")


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
    before = [s.get_value() for s in sh + vel]
    with pytest.raises(ValueError):
        f(xv, yv)
    for s, b in zip(sh + vel, before):
        np.testing.assert_array_equal(s.get_value(), b)
