"""The rewrite engine's work grows linearly with the graph: node visits,
rewrites tried and applied (counted, not timed) on chains of about 1k, 10k
and 30k nodes; the size-source walks of shape rewrites and of the numba
run grouping; ``profile=True`` reports the time of every pass."""
import collections

import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.fg import FunctionGraph
from deep_graphs import chain, wide_sum
from symnet.tensor.rewriting import shape as shape_rw

COUNTERS = ("node_visits", "rewrite_attempts", "rewrites_applied", "replacements",
            "nodes_pruned")


def _work(build, n):
    fg = FunctionGraph(*build(n))
    size = len(fg.apply_nodes)
    work = collections.Counter()
    Mode("py").rewrite(fg, work=work)
    return size, work


def _assert_linear(per_node):
    """Per-node work of the biggest graph within 10 % of the smallest's."""
    (n0, w0), *rest = per_node
    for name in COUNTERS:
        base = w0[name] / n0
        assert base > 0, name
        for n, w in rest:
            assert w[name] / n <= 1.1 * base, (name, n0, w0[name], n, w[name])


def test_chain_work_is_linear():
    sizes = [_work(chain, d) for d in (100, 1000, 3000)]
    assert [s for s, _ in sizes][-1] > 29_000
    _assert_linear(sizes)


def test_wide_sum_work_is_linear():
    _assert_linear([_work(wide_sum, t) for t in (100, 1000)])


@pytest.fixture
def trace_steps(monkeypatch):
    """Count the steps of every ``_size_source`` walk."""
    steps = []
    original = shape_rw._trace_size

    def counting(x, j, memo, path):
        found = original(x, j, memo, path)
        steps.append(len(path))
        return found
    monkeypatch.setattr(shape_rw, "_trace_size", counting)
    return steps


def test_size_walks_are_linear(trace_steps):
    # the wide sum's gradient seeds (Alloc) make local_elemwise_alloc ask
    # the size of every partial sum: without the memo, each walks the chain
    totals = []
    for terms in (100, 1000):
        trace_steps.clear()
        fg = FunctionGraph(*wide_sum(terms))
        Mode("numba").rewrite(fg)
        from symnet.backend.numba_cpu.linker import NumbaLinker
        NumbaLinker(fg, Mode("numba"))      # groups runs by their size sources
        totals.append(sum(trace_steps))
    assert totals[0] > 0
    assert totals[1] <= 1.2 * 10 * totals[0], totals


def test_size_source_memo_answers_like_the_walk():
    x = T.vector("x")
    y = x
    for _ in range(50):
        y = T.exp(y) + 1.0
    memo = {}
    nodes = FunctionGraph([x], [y], clone=False).toposort()
    for node in nodes:
        v = node.outputs[0]
        if v.type.shape[0] is not None:
            continue       # the broadcast constants: a static size
        assert shape_rw._size_source(v, 0, memo) == shape_rw._size_source(v, 0) == (x, 0)


def test_profile_reports_every_pass():
    f = symnet.function(*chain(10), mode="py", profile=True)
    names = [name for name, _, _ in f.rewrite_passes]
    if f.mode.linker == "numba":     # SYMNET_FORCE_BACKEND=numba: its optional passes too
        assert names == ["simplify", "fuse_elemwise", "conv_epilogue", "scan_dot_swapped",
                         "scan_join_transposed", "cleanup", "inplace_elemwise", "conv_epilogue_inplace"]
    else:
        assert names == ["simplify", "fuse_elemwise", "cleanup", "inplace_elemwise"]
    for name, seconds, done in f.rewrite_passes:
        assert seconds >= 0 and done["node_visits"] > 0
        assert f"pass {name}: " in f.profile_report
    assert f.rewrite_work["node_visits"] == sum(d["node_visits"]
                                                for _, _, d in f.rewrite_passes)
    assert f.rewrite_work["rewrites_applied"] >= f.rewrite_stats["constant_folding"]
