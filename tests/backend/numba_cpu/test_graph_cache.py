"""The graph cache (``numba_cpu/graph_cache.py``, #12 W3 warm): a graph
compiled before is not rewritten nor generated again.  A hit gives the
cold compile's source and results (and py's); a graph differing in a
constant's value, a dtype, a broadcast pattern, a mode flag, an op
parameter, the updates' targets, or a setting the code generator reads
from the process (numpy's BLAS thread count, the thread and loop-split
settings, a config flag) changed in the same process misses; entries are
written at exit or by ``flush``, not during the compile; a damaged entry
warns and is written again; what the key cannot describe is never
cached."""
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


def test_a_test_patching_symnet_compiles_without_the_cache(monkeypatch):
    """conftest: the key cannot see a symnet module's attribute replaced in
    the process, so a test that replaces one runs without the cache."""
    from symnet.backend.numba_cpu import codegen
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "1")
    monkeypatch.setattr(symnet.config, "strict", False)      # config: in the key
    monkeypatch.setattr(graph_cache, "PENDING", 8)
    assert os.environ["SYMNET_GRAPH_CACHE"] == "1"
    monkeypatch.setattr(codegen, "kernel_for", codegen.kernel_for)
    assert os.environ["SYMNET_GRAPH_CACHE"] == "0"


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "1")
    # these tests compare with the py backend and check that py is never
    # cached: under CI's SYMNET_FORCE_BACKEND=numba, mode="py" would be numba
    monkeypatch.delenv("SYMNET_FORCE_BACKEND", raising=False)
    return tmp_path / "cache" / "numba"


def _entries(folder):
    graph_cache.flush()      # a miss's entry is written at exit, or by flush
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
    graph_cache.flush()      # a miss's entry is written at exit, or by flush
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
    graph_cache.flush()
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


def test_a_new_process_hits_a_pool_step_with_a_lazy_tail(tmp_path):
    """W4's shape in small (conv, pool, dense, momentum) on a pool of two
    threads, with a weight gradient computed by the update tail
    (``_pltail``): the hit's driver runs, without the imports a cold
    compile made, and trains as the cold one did."""
    script = '''
import json, numpy as np
from symnet.backend.numba_cpu import step_pool
from symnet.compile.mode import Mode
from tests.backend.numba_cpu.helpers import conv_step
step_pool.LAZY_ROWS = 16        # the same in both processes
losses, params, f = conv_step(Mode("numba", tiered=False))
print(json.dumps([f.graph_cache, "_pltail(" in f.thunk.source, losses,
                  [float(np.sum(p)) for p in params]]))
'''
    cold = run_cold(script, tmp_path, SYMNET_GRAPH_CACHE="1", SYMNET_NUM_THREADS="2")
    warm = run_cold(script, tmp_path, SYMNET_GRAPH_CACHE="1", SYMNET_NUM_THREADS="2")
    assert cold[:2] == ["miss", True] and warm[:2] == ["hit", True]
    assert warm[2:] == cold[2:]


def test_an_entry_is_written_at_flush_not_by_the_compile(cache_on, monkeypatch):
    """Pickling holds the GIL: a miss's entry waits for ``flush`` (at exit)
    or for ``PENDING`` later misses, so the first calls do not share the
    GIL with it."""
    monkeypatch.setattr(graph_cache, "PENDING", 1)
    x = T.fvector("x")

    def compile_(op):        # one line builds each: the key holds user lines
        return symnet.function([x], op(x), mode=Mode("numba", tiered=False))
    f1 = compile_(T.exp)
    assert f1.graph_cache == "miss"
    assert not os.path.isdir(cache_on) or not any(p.startswith("g_") for p in
                                                  os.listdir(cache_on))
    np.testing.assert_allclose(f1(np.ones(2, "float32")), np.exp(np.ones(2, "float32")))
    compile_(T.log)                                      # one more pending: f1's written
    assert len([p for p in os.listdir(cache_on) if p.startswith("g_")]) == 1
    assert len(_entries(cache_on)) == 2                  # flush writes the other
    assert compile_(T.exp).graph_cache == "hit"
    assert compile_(T.log).graph_cache == "hit"


@pytest.mark.parametrize("setting", [
    ("env", "SYMNET_LOOP_SPLIT", "0"),        # the loop split's threshold (loop_split.py)
    ("env", "SYMNET_NUM_THREADS", "1"),       # symnet's threads (threads.py)
    ("env", "SYMNET_GEMM_SPLIT", "1"),        # products split over the threads
    ("config", "strict", True),               # a config flag
])
def test_a_setting_changed_in_the_process_misses(cache_on, monkeypatch, setting):
    kind, name, value = setting
    f0, _ = _mlp()
    assert f0.graph_cache == "miss" and _mlp()[0].graph_cache == "hit"
    if kind == "env":
        monkeypatch.setenv(name, value)
    else:
        monkeypatch.setattr(symnet.config, name, value)
    f1, w1 = _mlp()
    assert f1.graph_cache == "miss"
    assert len(_entries(cache_on)) == 2
    assert _mlp()[0].graph_cache == "hit"
    f_py, w_py = _mlp(mode="py")
    for a, b in zip(_run(f1, w1), _run(f_py, w_py)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_blas_thread_count_changed_in_the_process_misses(cache_on, monkeypatch):
    """Under ``SYMNET_GEMM_SPLIT=auto`` a large dense training step is split
    where numpy's BLAS runs two threads or more: the entry records the count
    it was compiled under, and a hit needs the same (``threadpoolctl`` may
    change it in the process, beyond the environment in the key)."""
    from symnet.backend.numba_cpu import gemm_split, step_pool
    from .test_gemm_split import _clear_env, _step
    if not gemm_split.available() or step_pool.blas_count() is None:
        pytest.skip("no OpenBLAS thread count to set (another BLAS)")
    if graph_cache._cpus() < 2:
        pytest.skip("one CPU: the split is never chosen")
    _clear_env(monkeypatch, "auto")
    get, put = step_pool._blas()
    start = get()
    try:
        put(2)
        f2, _, _ = _step("numba")
        graph_cache.flush()
        assert f2.graph_cache == "miss" and "_gsdot(" in f2.source
        assert _step("numba")[0].graph_cache == "hit"
        put(1)
        f1, sh, args = _step("numba")
        graph_cache.flush()
        assert f1.graph_cache == "miss" and "_gsdot(" not in f1.source
        hit1 = _step("numba")[0]
        assert hit1.graph_cache == "hit" and hit1.source == f1.source
        put(2)
        again = _step("numba")[0]
        assert again.graph_cache == "miss" and again.source == f2.source
        fp, shp, _ = _step("py")
        np.testing.assert_allclose(f1(*args), fp(*args), rtol=1e-5)
        for a, b in zip(sh, shp):
            np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)
    finally:
        put(start)


@pytest.mark.perform_fallback
def test_a_hit_warns_of_a_perform_fallback_as_the_cold_compile_does(cache_on, monkeypatch):
    """A hit skips the code generator, which says when a node runs through
    ``perform``: the linker says it again from the cached plan."""
    from symnet.backend import registry
    from symnet.backend.numba_cpu import codegen
    from symnet.tensor.ops.advanced import Sort
    real = codegen.kernel_for
    # Sort as an op without a numba kernel (not in the key: the patch lasts
    # for both compiles)
    monkeypatch.setattr(codegen, "kernel_for",
                        lambda b, cls: None if cls is Sort else real(b, cls))
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "1")    # conftest turned it off for the patch
    x = T.dvector("x")

    def compile_():
        registry._WARNED.discard(("numba", "Sort"))     # it warns once per process
        with pytest.warns(RuntimeWarning, match="no kernel for Sort"):
            return symnet.function([x], T.sort(x) * 2, mode=Mode("numba", tiered=False))
    cold = compile_()
    assert cold.graph_cache == "miss" and len(_entries(cache_on)) == 1
    hit = compile_()
    assert hit.graph_cache == "hit" and "Python perform" in hit.source
    np.testing.assert_allclose(hit(np.array([3.0, 1, 2])), [2, 4, 6])


def test_a_compile_that_warned_is_not_written(cache_on, monkeypatch):
    """A hit would skip the rewrite or emitter that warned: such a graph is
    compiled each time, its warning given each time."""
    from symnet.compile.mode import Mode as M
    real = M.rewrite

    def warning_rewrite(self, fgraph, **kw):
        warnings.warn("a rewrite's warning", UserWarning)
        return real(self, fgraph, **kw)
    monkeypatch.setattr(M, "rewrite", warning_rewrite)
    monkeypatch.setenv("SYMNET_GRAPH_CACHE", "1")    # conftest turned it off for the patch
    x = T.fvector("x")
    for _ in range(2):
        with pytest.warns(UserWarning, match="a rewrite's warning"):
            f = symnet.function([x], T.exp(x) + 1, mode=Mode("numba", tiered=False))
        assert f.graph_cache == "miss"
        assert not os.path.isdir(cache_on) or _entries(cache_on) == []
    np.testing.assert_allclose(f(np.zeros(2, "float32")), [2, 2])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_does_not_write_its_parents_entries(cache_on):
    x = T.fvector("x")
    f = symnet.function([x], T.exp(x) * 2, mode=Mode("numba", tiered=False))
    assert f.graph_cache == "miss"
    pid = os.fork()
    if pid == 0:         # the child: its copy of the pending entry is not its own
        try:
            graph_cache.flush()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert not os.path.isdir(cache_on) or not any(p.startswith("g_")
                                                  for p in os.listdir(cache_on))
    assert len(_entries(cache_on)) == 1           # the parent's flush writes it


def test_a_folder_removed_before_the_write_is_left_alone(cache_on):
    """A temporary cache folder (a test's) may be removed before exit, when
    the pending entries are written: nothing to keep, nothing to say."""
    import shutil
    x = T.fvector("x")
    f = symnet.function([x], T.exp(x) - 3, mode=Mode("numba", tiered=False))
    assert f.graph_cache == "miss"
    shutil.rmtree(cache_on)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph_cache.flush()
    assert not os.path.exists(cache_on)
