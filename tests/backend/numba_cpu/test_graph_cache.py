"""The graph cache (``numba_cpu/graph_cache.py``, #12 W3 warm): a graph
compiled before is not rewritten nor generated again.  A hit gives the
cold compile's source and results (and py's); a graph differing in a
constant's value, a dtype, a broadcast pattern, a mode flag or an op
parameter misses; a damaged entry warns and is written again; what the key
cannot describe is never cached."""
import os
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import graph_cache
from symnet.compile.mode import Mode
from symnet.graph.basic import Apply
from symnet.graph.op import Op

from .helpers import run_cold


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "1")
    return tmp_path / "cache" / "numba"


def _entries(folder):
    graph_cache.wait()       # entries are written in a thread
    return sorted(p for p in os.listdir(folder) if p.startswith("g_"))


def _mlp(c=0.5, dtype="float32", bias_shape=(None,), axis=None, mode=None):
    """A small training graph: dot, bias, tanh, a constant, a reduction,
    gradients and a shared update; returns (f, the shared weight)."""
    rng = np.random.RandomState(1)
    w = symnet.shared((rng.randn(5, 4) * 0.3).astype(dtype), name="w")
    b = symnet.shared(np.zeros(4, dtype), name="b", static_shape=bias_shape == (4,))
    x = T.matrix("x", dtype=dtype)
    h = T.tanh(T.dot(x, w) + b) * np.asarray(c, dtype)
    loss = T.sum(h ** 2, axis=axis)
    loss = loss if axis is None else T.sum(loss)
    gw, gb = symnet.grad(loss, [w, b])
    f = symnet.function([x], [loss, gb], updates=[(w, w - 0.1 * gw)],
                        mode=mode or Mode("numba", tiered=False))
    graph_cache.wait()       # a miss's entry is written in a thread
    return f, w


def _run(f, w):
    x = np.random.RandomState(2).randn(3, 5).astype(w.get_value().dtype)
    out = f(x)
    return [np.asarray(o) for o in out] + [w.get_value()]


def test_hit_gives_the_cold_source_and_results_and_agrees_with_py(cache_on):
    f_cold, w_cold = _mlp()
    assert f_cold.graph_cache == "miss" and len(_entries(cache_on)) == 1
    f_hit, w_hit = _mlp()
    assert f_hit.graph_cache == "hit"
    assert f_hit.thunk.source == f_cold.thunk.source
    assert f_hit.rewrite_stats == f_cold.rewrite_stats
    assert len(f_hit.fgraph.apply_nodes) == len(f_cold.fgraph.apply_nodes)
    # the rebuilt graph reads this compile's own inputs and shared variables
    assert f_hit.fgraph.inputs[0] is f_hit.input_vars[0]
    assert f_hit.fgraph.inputs[1:] == f_hit.shared_vars
    f_py, w_py = _mlp(mode="py")
    # each from the same initial weight, twice (the second call reads the
    # update the first wrote into this function's own weight)
    for _ in range(2):
        want = _run(f_py, w_py)
        for f, w in ((f_cold, w_cold), (f_hit, w_hit)):
            for a, b in zip(_run(f, w), want):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_same_source_with_the_cache_off(cache_on, monkeypatch):
    f_cold, _ = _mlp()
    f_hit, _ = _mlp()
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "0")
    f_off, _ = _mlp()
    assert f_off.graph_cache is None and f_hit.graph_cache == "hit"
    assert f_off.thunk.source == f_hit.thunk.source


@pytest.mark.parametrize("change", [
    dict(c=0.25),                                  # a constant's value
    dict(dtype="float64"),                         # a dtype
    dict(bias_shape=(4,)),                         # a broadcast pattern / static shape
    dict(mode=Mode("numba", tiered=False, parallel=True)),             # a mode flag
    dict(mode=Mode("numba", tiered=False).excluding("local_mul_one")),  # a rewrite off
    dict(axis=1),                                  # an op parameter
])
def test_a_graph_differing_in_one_thing_misses(cache_on, change):
    f0, _ = _mlp()
    assert f0.graph_cache == "miss"
    f1, w1 = _mlp(**change)
    assert f1.graph_cache == "miss"
    assert len(_entries(cache_on)) == 2
    f_py, w_py = _mlp(**dict(change, mode="py"))
    for a, b in zip(_run(f1, w1), _run(f_py, w_py)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_updates_written_to_other_shared_variables_miss(cache_on):
    """The same expressions and inputs, the updates' targets swapped."""
    x = T.fvector("x")
    a = symnet.shared(np.ones(3, "float32"), name="a")
    b = symnet.shared(np.full(3, 2, "float32"), name="b")
    mode = Mode("numba", tiered=False)
    f1 = symnet.function([x], T.sum(x), updates=[(a, a + b * x), (b, a * x)], mode=mode)
    f2 = symnet.function([x], T.sum(x), updates=[(b, a + b * x), (a, a * x)], mode=mode)
    graph_cache.wait()
    assert (f1.graph_cache, f2.graph_cache) == ("miss", "miss")
    f2(np.full(3, 3, "float32"))
    np.testing.assert_allclose(b.get_value(), [7, 7, 7])     # 1 + 2 * 3
    np.testing.assert_allclose(a.get_value(), [3, 3, 3])     # 1 * 3
    f1(np.ones(3, "float32"))
    np.testing.assert_allclose(a.get_value(), [10, 10, 10])  # 3 + 7 * 1
    np.testing.assert_allclose(b.get_value(), [3, 3, 3])     # 3 * 1


def test_a_damaged_entry_warns_and_is_written_again(cache_on):
    _mlp()
    (name,) = _entries(cache_on)
    blob = (cache_on / name).read_bytes()
    (cache_on / name).write_bytes(blob[:-100])           # truncated
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        f, w = _mlp()
    assert f.graph_cache == "miss"
    f_py, w_py = _mlp(mode="py")
    for a, b in zip(_run(f, w), _run(f_py, w_py)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # written again, whole (not the same bytes: sets pickle in id order)
    assert _entries(cache_on) == [name] and len((cache_on / name).read_bytes()) > len(blob) - 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _mlp()[0].graph_cache == "hit"


class _Twice(Op):
    """An op defined outside symnet: its code is not in the key."""

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] * 2


@pytest.mark.perform_fallback
def test_an_op_defined_outside_symnet_is_not_cached(cache_on):
    x = T.vector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # its perform fallback warns
        f = symnet.function([x], _Twice()(x) + 1, mode=Mode("numba", tiered=False))
    assert f.graph_cache is None
    assert not os.path.isdir(cache_on) or _entries(cache_on) == []
    np.testing.assert_allclose(f(np.ones(3, "float32")), [3, 3, 3])


def test_not_used_with_profile_or_py(cache_on):
    x = T.vector("x")
    assert symnet.function([x], T.exp(x), mode="py").graph_cache is None
    f = symnet.function([x], T.exp(x), mode=Mode("numba", tiered=False), profile=True)
    assert f.graph_cache is None


def test_a_new_process_hits_and_gives_the_same_source(tmp_path):
    script = '''
import json, numpy as np, symnet, symnet.tensor as T
from symnet.backend.numba_cpu import graph_cache
from symnet.compile.mode import Mode
rng = np.random.RandomState(0)
y = T.fmatrix("y"); h = y; ps = []
for i in range(6):
    w = symnet.shared((rng.randn(8, 8) * 0.3).astype("float32"))
    b = symnet.shared(np.zeros(8, "float32"))
    ps += [w, b]; h = T.tanh(T.dot(h, w) + b)
f = symnet.function([y], symnet.grad(T.sum(h), ps), mode=Mode("numba", tiered=False))
out = f(np.ones((3, 8), "float32"))
print(json.dumps([f.graph_cache, f.thunk.source, [float(np.sum(o)) for o in out]]))
'''
    cold = run_cold(script, tmp_path, SYMNET_GRAPH_CACHE="1")
    warm = run_cold(script, tmp_path, SYMNET_GRAPH_CACHE="1")
    assert cold[0] == "miss" and warm[0] == "hit"
    assert warm[1] == cold[1]
    assert warm[2] == cold[2]
