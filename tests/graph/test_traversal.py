"""Graph walks: ancestors, toposort order, cloning and clone_replace, and a
100,000-node chain (no recursion anywhere)."""
import gc

import numpy as np

import symnet
import symnet.tensor as T
from symnet.graph.traversal import (ancestors, clone, clone_replace, graph_inputs,
                                    io_toposort, toposort, variables)
from symnet.compile.mode import Mode


def _check_order(order):
    pos = {node: k for k, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None and inp.owner in pos:
                assert pos[inp.owner] < pos[node], f"{inp.owner} after its client {node}"


def test_toposort_dependencies_first():
    x, y = T.dscalars("x", "y")
    a = x + y
    b = a * x
    c = T.exp(a) - b
    order = toposort(c)
    assert len(order) == 4 and order[-1] is c.owner
    _check_order(order)
    assert io_toposort([a], [c]) == [n for n in order if n is not a.owner]


def test_ancestors_and_inputs():
    x, y = T.dscalars("x", "y")
    w = symnet.shared(1.0, name="w")
    z = (x + w) * 2.0
    anc = ancestors(z)
    assert x in anc and w in anc and y not in anc and anc[0] is z
    ins = graph_inputs(z)
    assert set(ins) >= {x, w} and all(v.owner is None for v in ins)
    assert ancestors(z, blockers=[z.owner.inputs[0]])[1] is z.owner.inputs[0]
    assert x in variables([x], [z]) and z in variables([x], [z])


def test_clone_is_a_copy():
    x = T.dvector("x")
    z = T.exp(x) + 1
    (nx,), (nz,) = clone([x], [z])
    assert nx is not x and nz is not z and nz.owner is not z.owner
    assert nx in ancestors(nz) and x not in ancestors(nz)
    f = symnet.function([nx], nz, mode="py")
    np.testing.assert_allclose(f(np.zeros(2)), [2, 2])


def test_clone_replace():
    x, y = T.dscalars("x", "y")
    w = symnet.shared(np.float64(2.0), name="w")
    z = x * w + 1
    z2 = clone_replace(z, {x: y * 3})
    assert x in ancestors(z) and x not in ancestors(z2) and w in ancestors(z2)
    assert float(z2.eval({y: 1.0}, mode="py")) == 7.0
    assert float(z.eval({x: 1.0}, mode="py")) == 3.0  # original untouched
    outs = clone_replace([z, x + 0.5], [(x, y)])
    assert isinstance(outs, list) and len(outs) == 2


def test_clone_replace_share_inputs():
    x, y = T.dscalars("x", "y")
    w = symnet.shared(np.float64(2.0), name="w")
    z = x * w + y
    shared_in = clone_replace(z, {y: T.constant(1.0, dtype="float64")}, share_inputs=True)
    assert x in ancestors(shared_in)
    copied = clone_replace(z, {y: T.constant(1.0, dtype="float64")}, share_inputs=False)
    anc = ancestors(copied)
    # Theano's rule: shared variables are copied too, over the same storage
    assert x not in anc and w not in anc
    new_x = [v for v in anc if v.name == "x"][0]
    new_w = [v for v in anc if v.name == "w"][0]
    assert float(copied.eval({new_x: 2.0}, mode="py")) == 5.0
    w.set_value(np.float64(3.0))
    assert new_w.get_value() == 3.0
    assert float(copied.eval({new_x: 2.0}, mode="py")) == 7.0
    # the replacements are copied as well
    y2 = T.dscalar("y2")
    assert y2 not in ancestors(clone_replace(z, [(y, y2)], share_inputs=False))


def test_clone_of_a_shared_variable_is_an_alias_with_its_own_default_update():
    # Lasagne's BatchNormLayer: theano.clone(mean, share_inputs=False) gets a
    # default_update; a function reading only ``mean`` must not apply it,
    # one using the clone must, and the update must reach ``mean``
    for mode in ("py", "numba"):
        x = T.dvector("x")
        mean = symnet.shared(np.zeros(3), name="mean")
        running = clone_replace(mean, share_inputs=False)
        assert running is not mean and running.name == "mean"
        running.default_update = 0.5 * running + 0.5 * x
        read = symnet.function([x], x - mean, mode=mode)
        train = symnet.function([x], x - mean + 0 * running, mode=mode)
        data = np.array([2.0, 4.0, 6.0])
        np.testing.assert_allclose(read(data), data)
        np.testing.assert_allclose(read(data), data)
        np.testing.assert_allclose(mean.get_value(), np.zeros(3))  # reading updated nothing
        np.testing.assert_allclose(train(data), data)
        np.testing.assert_allclose(mean.get_value(), 0.5 * data)  # the update reached mean
        np.testing.assert_allclose(running.get_value(), 0.5 * data)
        np.testing.assert_allclose(train(data), 0.5 * data)
        np.testing.assert_allclose(mean.get_value(), 0.75 * data)
        mean.set_value(np.ones(3))
        np.testing.assert_allclose(running.get_value(), np.ones(3))


def test_clone_replace_ndim_mismatch():
    import pytest
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="dimensions"):
        clone_replace(x * 2, {x: T.dvector()})


N = 100_000


def test_deep_chain_100k():
    """Builds, toposorts, clones and evaluates without RecursionError."""
    # the cyclic GC would re-scan the huge long-lived graph on every
    # collection: that is GC cost, not what this test is about
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = T.dscalar("x")
        y = x
        for _ in range(N):
            y = y + 1
        _walk_deep(x, y)
    finally:
        if was_enabled:
            gc.enable()


def _walk_deep(x, y):
    order = toposort(y)
    assert len(order) == N and order[0].inputs[0] is x and order[-1] is y.owner
    (nx,), (ny,) = clone([x], [y])
    assert ny is not y and ny.owner.inputs[0].owner is not y.owner.inputs[0].owner
    f = symnet.function([x], y, mode=Mode("py", optimizer=None))
    assert float(f(0.5)) == N + 0.5


def test_deep_chain_clone_replace():
    x, x2 = T.dscalars("x", "x2")
    y = x
    for _ in range(5000):
        y = y * 1.0 + 1
    y2 = clone_replace(y, {x: x2})
    assert x2 in ancestors(y2) and x not in ancestors(y2)
    assert float(y2.eval({x2: 0.0}, mode=Mode("py", optimizer=None))) == 5000.0
