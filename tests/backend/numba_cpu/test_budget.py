"""Kernel size budget (symnet/backend/numba_cpu/budget.py): the generator
never emits a loop kernel past ``KERNEL_BUDGET``; a deep chain is a few
distinct small kernels repeated, not one loop growing with the depth; cut
runs compute what numpy computes."""
import re

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import budget
from symnet.backend.numba_cpu.linker import NumbaLinker
from symnet.compile.mode import Mode
from symnet.graph.fg import FunctionGraph
from deep_graphs import chain, wide_sum


def _updates(n):
    ss = [symnet.shared(np.zeros(5, "float32"), name=f"s{i}") for i in range(n)]
    return ss, [s + 1 for s in ss]


def _linker(ins, outs):
    fg = FunctionGraph(ins, outs)
    Mode("numba").rewrite(fg)
    return NumbaLinker(fg, Mode("numba"))     # generates source, compiles nothing


def _size(text):
    """(arguments, scalar statements in the loop, results stored) of a kernel."""
    args = re.search(r"def kernel\((.*)\):", text).group(1)
    n_args = len([a for a in args.split(",") if a.strip()])
    statements = len(re.findall(r"^\s+_s\d+ = ", text, re.M))
    stores = len(re.findall(r"^\s+r\d+\[", text, re.M))
    return n_args, statements, stores


@pytest.mark.parametrize("graph", [lambda: chain(120), lambda: wide_sum(120),
                                   lambda: _updates(80)], ids=["chain", "wide", "updates"])
def test_no_kernel_passes_the_budget(graph):
    linker = _linker(*graph())
    lim = budget.KERNEL_BUDGET
    fused = [t for t in linker.kernel_texts if "# fused:" in t]
    assert fused, "these graphs are made of fused elementwise runs"
    for text in linker.kernel_texts:
        n_args, statements, stores = _size(text)
        assert n_args <= lim["args"], text
        assert stores <= lim["nodes"], text
        # one statement per scalar op, plus one naming each node's result
        assert statements <= lim["ops"] + lim["nodes"], text


def test_deep_chain_is_a_few_kernels_repeated():
    small = _linker(*chain(100))
    deep = _linker(*chain(400))
    # only the pieces at the ends may differ with the depth
    assert len(deep.kernel_texts) <= 8 and \
        len(set(deep.kernel_texts) - set(small.kernel_texts)) <= 2
    # ... each called many times by the driver
    calls = re.findall(r"= (k\d+)\(", deep.driver_source)
    assert len(calls) > 2 * 400 // budget.KERNEL_BUDGET["nodes"]


def test_many_updates_share_kernels():
    linker = _linker(*_updates(300))
    assert len(linker.kernel_texts) <= 3


def test_run_budget_counts():
    x = T.dvector("x")            # float64: exp counts one op (no helper)
    nodes = []
    y = x
    for _ in range(4):
        y = T.exp(y)
        nodes.append(y.owner)
    b = budget.RunBudget({"ops": 3, "nodes": 10, "args": 10})
    for node in nodes[:3]:
        assert b.fits(node)
        b.add(node)
    assert b.ops == 3 and b.nodes == 3 and b.args == {x}
    assert not b.fits(nodes[3])            # a fourth op passes the budget
    assert budget.RunBudget({"ops": 0, "nodes": 0, "args": 0}).fits(nodes[0])


def test_cut_runs_compute_the_same(monkeypatch):
    # a tiny budget cuts the chain into many kernels: values must not change
    monkeypatch.setattr(budget, "KERNEL_BUDGET", {"ops": 8, "nodes": 3, "args": 6})
    ins, outs = chain(12)
    f = symnet.function(ins, outs, mode=Mode("numba", tiered=False))
    assert len(re.findall(r"= k\d+\(", f.thunk.linker.driver_source)) >= 8
    a = np.linspace(-1, 1, 7).astype("float32")
    y = a.astype("float64")
    ys = []
    for _ in range(12):
        ys.append(y)
        y = np.tanh(y) * 0.5 + 0.1
    grad = np.ones_like(y)
    for prev in reversed(ys):
        grad = grad * 0.5 * (1 - np.tanh(prev) ** 2)
    c, g = f(a)
    np.testing.assert_allclose(c, y.sum(), rtol=1e-5)
    np.testing.assert_allclose(g, grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("limits", [{"ops": 2, "nodes": 2, "args": 3},
                                    {"ops": 5, "nodes": 3, "args": 4}])
def test_cut_runs_with_sums_and_broadcasts_match_py(monkeypatch, limits):
    # full sums ride in a run's loop; a tiny budget leaves some of them, and
    # some broadcast inputs, to the next piece or a kernel of their own
    monkeypatch.setattr(budget, "KERNEL_BUDGET", limits)
    x, w = T.matrix("x"), T.vector("w")
    h = T.tanh(x * w + 0.5)
    g = T.exp(-h * h) * w - x
    loss = T.sum(h ** 2) + T.sum(g) * T.sum(T.exp(x))
    outs = [loss, h * g, symnet.grad(loss, w)]
    rng = np.random.RandomState(0)
    args = [rng.randn(5, 3).astype("float32"), rng.randn(3).astype("float32")]
    nb = symnet.function([x, w], outs, mode=Mode("numba", tiered=False))
    assert "# fused:" in nb.source
    ref = symnet.function([x, w], outs, mode=Mode("py"))
    for got, want in zip(nb(*args), ref(*args)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5)


def test_float32_helper_ops_weigh_more():
    from symnet.backend.numba_cpu.elemwise import _F32_HELPERS
    assert budget.HEAVY_OPS == set(_F32_HELPERS)      # the ops with inlined helpers
    x32, x64 = T.fvector("x"), T.dvector("x")
    assert budget.node_ops(T.tanh(x32).owner) == budget.HEAVY_WEIGHT
    assert budget.node_ops(T.tanh(x64).owner) == 1
    assert budget.node_ops((x32 * 2).owner) == 1
    # a fused Composite weighs its program: mul, add (1 each) and tanh
    fg = FunctionGraph([x32], [T.tanh(x32 * np.float32(0.5) + np.float32(0.1))])
    Mode("numba").rewrite(fg)
    (node,) = fg.apply_nodes
    assert len(node.op.scalar_op.program) == 3
    assert budget.node_ops(node) == 2 + budget.HEAVY_WEIGHT


def test_chain_pieces_are_short_and_w2_stays_one_loop():
    # a tanh chain's pieces hold ops // (2 + HEAVY_WEIGHT) links ...
    links = budget.KERNEL_BUDGET["ops"] // (2 + budget.HEAVY_WEIGHT)
    linker = _linker(*chain(30))
    counts = [text.count("_tanh32(") for text in linker.kernel_texts]
    assert max(counts) == links == 3, counts
    # ... while W2's loss and gradient (tanh, exp and plain ops) is one loop
    x = T.fvector("x")
    loss = T.sum(T.tanh(np.float32(0.7) * x + np.float32(0.2)) * T.exp(-x * x))
    linker = _linker([x], [loss, symnet.grad(loss, x)])
    assert len(linker.kernel_texts) == 1
