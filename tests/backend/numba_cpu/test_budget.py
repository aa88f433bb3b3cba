"""Kernel size budget (symnet/backend/numba_cpu/budget.py): the generator
never emits a loop kernel past ``KERNEL_BUDGET``; a deep chain is a few
distinct small kernels repeated, not one loop growing with the depth; cut
runs compute what numpy computes.  The size properties hold under both
emitters: an llvm kernel (``L<n>``) is checked through its own nodes,
arguments, results and IR."""
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

from .emitters import built_by, calls, each_emitter, emitter_mode, ir_body, kernels


def _updates(n):
    ss = [symnet.shared(np.zeros(5, "float32"), name=f"s{i}") for i in range(n)]
    return ss, [s + 1 for s in ss]


def _linker(ins, outs, emitter="numba"):
    fg = FunctionGraph(ins, outs)
    Mode("numba").rewrite(fg)
    return NumbaLinker(fg, emitter_mode(emitter))     # generates source, compiles nothing


def _texts(linker):
    """The numba text of every kernel (an llvm kernel's: its numba
    equivalent, the key identifying it)."""
    return [k.numba_text for k in kernels(linker)]


def _size(text):
    """(arguments, scalar statements in the loop, results stored) of a kernel."""
    args = re.search(r"def kernel\((.*)\):", text).group(1)
    n_args = len([a for a in args.split(",") if a.strip()])
    statements = len(re.findall(r"^\s+_s\d+ = ", text, re.M))
    stores = len(re.findall(r"^\s+r\d+\[", text, re.M))
    return n_args, statements, stores


@pytest.mark.parametrize("graph", [lambda: chain(120), lambda: wide_sum(120),
                                   lambda: _updates(80)], ids=["chain", "wide", "updates"])
@each_emitter
def test_no_kernel_passes_the_budget(graph, emitter):
    linker = _linker(*graph(), emitter)
    lim = budget.KERNEL_BUDGET
    ks = built_by(linker, emitter)
    fused = [k for k in ks if k.title.startswith("fused:")]
    assert fused, "these graphs are made of fused elementwise runs"
    for k in ks:
        n_args, statements, stores = _size(k.numba_text)
        assert n_args <= lim["args"], k.numba_text
        assert stores <= lim["nodes"], k.numba_text
        # one statement per scalar op, plus one naming each node's result
        assert statements <= lim["ops"] + lim["nodes"], k.numba_text
        if k.emitter == "llvm":     # the loop the IR was lowered from
            loop = k.loop
            assert len(loop.args) <= lim["args"] and len(loop.results) <= lim["nodes"]
            assert len(loop.nodes) <= lim["nodes"], loop.title
            assert sum(budget.node_ops(n) for n in loop.nodes) <= lim["ops"], loop.title
            assert len(re.findall(r"^define ", k.text, re.M)) <= 2 + len(budget.HEAVY_OPS), \
                k.text     # the loop nest, its entry point and at most the helpers


@each_emitter
def test_deep_chain_is_a_few_kernels_repeated(emitter):
    small = _linker(*chain(100), emitter)
    deep = _linker(*chain(400), emitter)
    # only the pieces at the ends may differ with the depth
    assert 1 <= len(_texts(deep)) <= 8 and \
        len(set(_texts(deep)) - set(_texts(small))) <= 2
    if emitter == "llvm":     # the same holds for the IR compiled
        deep_ir = {ir_body(k) for k in built_by(deep, "llvm") if k.emitter == "llvm"}
        small_ir = {ir_body(k) for k in built_by(small, "llvm") if k.emitter == "llvm"}
        assert len(deep_ir - small_ir) <= 2
    # ... each called many times by the driver
    assert len(calls(deep.driver_source)) > 2 * 400 // budget.KERNEL_BUDGET["nodes"]


@each_emitter
def test_many_updates_share_kernels(emitter):
    linker = _linker(*_updates(300), emitter)
    assert 1 <= len(built_by(linker, emitter)) <= 3
    assert len(calls(linker.driver_source)) >= 300 // budget.KERNEL_BUDGET["nodes"]


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


@each_emitter
def test_cut_runs_compute_the_same(monkeypatch, emitter):
    # a tiny budget cuts the chain into many kernels: values must not change
    monkeypatch.setattr(budget, "KERNEL_BUDGET", {"ops": 8, "nodes": 3, "args": 6})
    ins, outs = chain(12)
    f = symnet.function(ins, outs, mode=emitter_mode(emitter, tiered=False))
    built_by(f, emitter)
    assert len(calls(f.thunk.linker.driver_source)) >= 8
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
@each_emitter
def test_cut_runs_with_sums_and_broadcasts_match_py(monkeypatch, limits, emitter):
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
    nb = symnet.function([x, w], outs, mode=emitter_mode(emitter, tiered=False))
    assert any(k.title.startswith("fused:") for k in built_by(nb, emitter))
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


def _tanh_calls(k):
    """How many float32 tanh a kernel computes per element, read from what
    its emitter compiles (a numba helper call, an IR call)."""
    if k.emitter == "llvm":
        return len(re.findall(r'call float @"_tanh32"\(', k.text))
    return k.text.count("_tanh32(")


@each_emitter
def test_chain_pieces_are_short_and_w2_stays_one_loop(emitter):
    # a tanh chain's pieces hold ops // (2 + HEAVY_WEIGHT) links ...
    links = budget.KERNEL_BUDGET["ops"] // (2 + budget.HEAVY_WEIGHT)
    linker = _linker(*chain(30), emitter)
    counts = [_tanh_calls(k) for k in built_by(linker, emitter)]
    assert max(counts) == links == 3, counts
    # ... while W2's loss and gradient (tanh, exp and plain ops) is one loop
    x = T.fvector("x")
    loss = T.sum(T.tanh(np.float32(0.7) * x + np.float32(0.2)) * T.exp(-x * x))
    linker = _linker([x], [loss, symnet.grad(loss, x)], emitter)
    assert len(built_by(linker, emitter)) == 1
