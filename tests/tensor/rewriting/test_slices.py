"""``local_add_slices_to_join``: the gradient of disjoint slices that cover
an axis (an LSTM's gates) is one concatenation, not zeros plus one
inc_subtensor per slice."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.tensor.ops.indexing import IncSubtensor
from symnet.tensor.ops.shape import Join

rng = np.random.default_rng(2)


def ops(f, cls):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, cls)]


def gate_grad(bounds):
    x = T.TensorType("float64", shape=(None, 8))("x")    # the axis' size is static
    parts = [x[:, a:b] for a, b in bounds]
    cost = sum(T.sum(T.tanh(p) * (k + 1)) for k, p in enumerate(parts))
    return x, symnet.grad(cost, x)


def numpy_gate_grad(xv, bounds):
    g = np.zeros_like(xv)
    for k, (a, b) in enumerate(bounds):
        g[:, a:b] += (k + 1) * (1 - np.tanh(xv[:, a:b]) ** 2)
    return g


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_slices_covering_the_axis_become_one_join(mode):
    bounds = [(4, 6), (0, 2), (2, 4), (6, 8)]     # out of order, as grad emits them
    x, g = gate_grad(bounds)
    f = symnet.function([x], g, mode=Mode(mode))
    assert f.rewrite_stats.get("local_add_slices_to_join") == 1
    assert not ops(f, IncSubtensor) and len(ops(f, Join)) == 1
    xv = rng.normal(size=(3, 8))
    np.testing.assert_allclose(f(xv), numpy_gate_grad(xv, bounds), rtol=1e-12)


@pytest.mark.parametrize("bounds", [[(0, 3), (2, 8)],      # overlap
                                    [(0, 3), (4, 8)],      # gap
                                    [(0, 3), (3, 6)]])     # does not reach the end
def test_slices_that_do_not_tile_the_axis_stay(bounds):
    x, g = gate_grad(bounds)
    f = symnet.function([x], g, mode=Mode("py"))
    assert "local_add_slices_to_join" not in f.rewrite_stats and ops(f, IncSubtensor)
    xv = rng.normal(size=(3, 8))
    np.testing.assert_allclose(f(xv), numpy_gate_grad(xv, bounds), rtol=1e-12)


def two_zeros_sum(shape_a, shape_b):
    """g1, g2 written into slices of zeros shaped like two DIFFERENT
    variables (as the gradient through ``add(a, b)`` allocates them)."""
    a = T.TensorType("float64", shape=shape_a)("a")
    b = T.TensorType("float64", shape=shape_b)("b")
    g1, g2 = T.dmatrix("g1"), T.dmatrix("g2")
    out = T.inc_subtensor(T.zeros_like(a)[:, 0:3], g1) + \
        T.inc_subtensor(T.zeros_like(b)[:, 3:8], g2)
    return [a, b, g1, g2], out


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_zeros_of_equal_static_size_from_two_variables_become_one_join(mode):
    ins, out = two_zeros_sum((None, 8), (None, 8))
    f = symnet.function(ins, out, mode=Mode(mode))
    assert f.rewrite_stats.get("local_add_slices_to_join") == 1
    assert not ops(f, IncSubtensor) and len(ops(f, Join)) == 1
    g1, g2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    av = np.zeros((4, 8))
    np.testing.assert_allclose(f(av, av, g1, g2), np.concatenate([g1, g2], axis=1))
    # zeros of different lengths: the join raises where the sum would
    with pytest.raises(ValueError):
        f(av, np.zeros((5, 8)), g1, rng.normal(size=(5, 5)))


def test_zeros_that_may_broadcast_are_not_joined():
    # (1, 8) zeros broadcast against (n, 8) ones in the sum: no join
    ins, out = two_zeros_sum((1, 8), (None, 8))
    f = symnet.function(ins, out, mode=Mode("py"), on_unused_input="ignore")
    assert "local_add_slices_to_join" not in f.rewrite_stats and ops(f, IncSubtensor)


def test_a_long_sum_of_other_terms_is_given_up_at_once(monkeypatch):
    """The rewrite visits every add of a 400-term sum: each visit looks at a
    few terms (not the whole sum below it), so its work is linear (W9's
    2,000-term sum spent a minute here when every visit walked the sum)."""
    from symnet.tensor.rewriting import slices
    looked = []      # the terms the rewrite looked at, over all its visits
    real = slices.scalar_name
    monkeypatch.setattr(slices, "scalar_name", lambda v: looked.append(v) or real(v))
    x = T.dvector("x")
    n = 400
    y = sum(T.tanh(x * (k + 1.0)) for k in range(n))
    f = symnet.function([x], y, mode=Mode("py"))
    xv = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(f(xv), sum(np.tanh(xv * (k + 1.0)) for k in range(n)))
    assert 0 < len(looked) <= 4 * n, len(looked)
