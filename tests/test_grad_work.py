"""``grad``'s work grows linearly with the graph (#13): W3's chain of
``tanh(dot(h, W) + b)`` layers at 50, 200 and 800 layers, its counters
(``symnet.gradient.work``), the nodes its graph walks return and the nodes
it builds, counted, not timed."""
import collections

import numpy as np
import pytest

import symnet
import symnet.gradient as gradient
import symnet.tensor as T
from symnet.graph.traversal import io_toposort


def _chain(layers):
    rng = np.random.RandomState(0)
    h = y = T.fmatrix("y")
    params = []
    for _ in range(layers):
        w = symnet.shared((rng.randn(4, 4) * 0.1).astype("float32"))
        b = symnet.shared(np.zeros(4, "float32"))
        params += [w, b]
        h = T.tanh(T.dot(h, w) + b)
    return y, T.sum(h), params


@pytest.fixture
def walked(monkeypatch):
    """Nodes returned by every graph walk ``grad`` makes."""
    seen = collections.Counter()

    def counting(name, fn):
        def walk(*args, **kwargs):
            out = fn(*args, **kwargs)
            out = list(out)
            seen[name] += len(out)
            return out
        return walk
    for name in ("io_toposort", "ancestors"):
        if hasattr(gradient, name):
            monkeypatch.setattr(gradient, name, counting(name, getattr(gradient, name)))
    return seen


def _grad_work(layers, walked):
    y, cost, params = _chain(layers)
    forward = len(io_toposort([], [cost]))
    before, walks_before = collections.Counter(gradient.work), collections.Counter(walked)
    grads = gradient.grad(cost, params)
    done = collections.Counter(gradient.work)
    done.subtract(before)
    done.update({f"walk_{k}": v - walks_before[k] for k, v in walked.items()})
    done["nodes_built"] = len(io_toposort([], grads)) - forward
    assert len(grads) == 2 * layers and all(g is not None for g in grads)
    return done


def test_grad_work_is_linear(walked):
    sizes = (50, 200, 800)
    works = [_grad_work(n, walked) for n in sizes]
    names = ("nodes", "visits", "l_op_calls", "terms", "nodes_built",
             "walk_io_toposort")
    for name in names:
        per_layer = [w[name] / n for w, n in zip(works, sizes)]
        assert per_layer[0] > 0, (name, works[0])
        # linear: the per-layer work of the biggest chain within 5 % of the
        # smallest's (a walk per node would make it 16 times as much)
        assert per_layer[-1] <= 1.05 * per_layer[0], (name, per_layer)


def test_grad_counters_count_this_walk():
    """Each counter grows by what one ``grad`` did: one L_op per node on
    the path (3 per layer: tanh, add, dot; plus the sum), every node of the
    order visited three times."""
    y, cost, params = _chain(3)
    before = collections.Counter(gradient.work)
    gradient.grad(cost, params)
    done = collections.Counter(gradient.work)
    done.subtract(before)
    order = io_toposort([], [cost])
    assert done["nodes"] >= len(order)
    assert done["visits"] == 3 * done["nodes"]
    assert done["l_op_calls"] >= 3 * 3 + 1


@pytest.mark.parametrize("was_on", [True, False])
def test_grad_pauses_gc_and_restores_it(monkeypatch, was_on):
    """The collector is off while ``grad`` builds the gradient graph, and
    as it was before afterwards, also when an L_op raises."""
    import gc
    y, cost, params = _chain(2)
    seen = []
    original = gradient._backprop

    def spying(*args):
        seen.append(gc.isenabled())
        if len(seen) > 1:
            raise RuntimeError("an L_op failed")
        return original(*args)
    monkeypatch.setattr(gradient, "_backprop", spying)
    (gc.enable if was_on else gc.disable)()
    try:
        gradient.grad(cost, params)
        assert seen == [False] and gc.isenabled() is was_on
        with pytest.raises(RuntimeError, match="an L_op failed"):
            gradient.grad(cost, params)
        assert seen == [False, False] and gc.isenabled() is was_on
    finally:
        gc.enable()
