"""The disk cache: a second process loads the compiled code instead of
compiling again, and a corrupt cache file is rebuilt, never a crash: under
both emitters (numba's modules and index files; the llvm emitter's object
file, ``llvm/jit.py``)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.backend.numba_cpu.cache import load_module, module_key, cache_dir
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

SCRIPT = textwrap.dedent("""
    import json, sys, time, numpy as np, symnet, symnet.tensor as T
    from symnet.compile.mode import Mode
    x = T.fmatrix('x')
    mode = Mode('numba', None)
    mode.emitter = sys.argv[1]
    t = time.perf_counter()
    f = symnet.function([x], T.sum(T.tanh(x) * 3, axis=0), mode=mode)
    link = time.perf_counter() - t
    numba_kernels = [k for k in f.thunk.linker.kernels if k.startswith('k')]
    llvm_kernels = [k for k in f.thunk.linker.kernels if k.startswith('L')]
    lazy = sorted(type(f.thunk.linker.kernels[k]).__name__ for k in numba_kernels)
    numba_at_link = 'numba' in sys.modules
    out = f(np.ones((2, 3), 'float32')).tolist()
    # numba's dispatchers (loaded by the first call) count their cache hits
    segs = [f.thunk.linker.kernels[k] for k in numba_kernels]
    hits = sum(sum(s.stats.cache_hits.values()) for s in segs)
    misses = sum(sum(s.stats.cache_misses.values()) for s in segs)
    from symnet.backend.numba_cpu.llvm import jit     # the llvm emitter's modules
    print(json.dumps(dict(hits=hits, misses=misses, link=link, out=out, lazy=lazy,
                          numba_at_link=numba_at_link, numba_kernels=numba_kernels,
                          llvm_kernels=llvm_kernels, llvm=jit.stats,
                          numba_at_end='numba' in sys.modules)))
""")


def _run(cache, emitter):
    env = dict(os.environ, SYMNET_CACHE_DIR=cache, PYTHONPATH=ROOT)
    env.pop("NUMBA_CACHE_DIR", None)  # CI sets it; numba's index must sit beside the module
    env.pop("NUMBA_OPT", None)        # CI's numba run sets it: check numba's default
    res = subprocess.run([sys.executable, "-c", SCRIPT, emitter], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    import json
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_second_process_loads_from_cache(tmp_path):
    first = _run(str(tmp_path), "numba")
    second = _run(str(tmp_path), "numba")
    assert first["out"] == second["out"] == [np.float32(3 * np.tanh(1) * 2)] * 3 or \
        np.allclose(first["out"], 6 * np.tanh(1))
    assert first["hits"] == 0 and first["numba_at_link"]      # compiled at function()
    assert first["numba_kernels"] and not first["llvm_kernels"]
    assert "_LazyKernel" not in first["lazy"]
    assert second["hits"] >= 1 and second["misses"] == 0
    # the second process built the function without importing numba at all:
    # its kernels were loaded from the cache on the first call
    assert not second["numba_at_link"] and set(second["lazy"]) == {"_LazyKernel"}
    pyc = tmp_path / "numba" / "__pycache__"
    assert any(p.suffix == ".nbi" for p in pyc.iterdir())   # numba's index files


def test_second_process_loads_the_llvm_kernels_from_cache(tmp_path):
    first = _run(str(tmp_path), "llvm")
    second = _run(str(tmp_path), "llvm")
    np.testing.assert_allclose(first["out"], [6 * np.tanh(1)] * 3, rtol=1e-6)
    assert first["out"] == second["out"]
    # the graph is one llvm kernel: one module compiled, then loaded
    assert first["llvm_kernels"] == second["llvm_kernels"] == ["L0"]
    assert not first["numba_kernels"] and not second["numba_kernels"]
    assert first["llvm"] == {"compiled": 1, "loaded": 0}
    assert second["llvm"] == {"compiled": 0, "loaded": 1}
    # numba is never started for a graph of llvm kernels only
    assert not first["numba_at_end"] and not second["numba_at_end"]
    assert len(list((tmp_path / "numba").glob("o_*.o"))) == 1


def test_corrupt_cache_file_is_rebuilt():
    from .emitters import emitter_mode
    use_tmp_cache()
    x = T.dvector("x")
    mode = emitter_mode("numba", optimizer=None)     # numba's module files
    f = symnet.function([x], T.exp(x) - 1, mode=mode)
    (path,) = [p for p in f.thunk.linker.paths if "np.exp" in open(p).read()]
    with open(path, "w") as fh:     # truncated garbage
        fh.write("def kernel(:\n")
    cache._LOADED.clear()           # as if in a new process
    g = symnet.function([x], T.exp(x) - 1, mode=mode)
    assert path in g.thunk.linker.paths
    np.testing.assert_allclose(g(np.zeros(2)), [0.0, 0.0])
    with open(path) as fh:
        assert fh.readline().startswith("# symnet-numba-module")
    # a valid header over a damaged body is caught by the body hash too
    text = open(path).read()
    with open(path, "w") as fh:
        fh.write(text.replace("np.exp", "np.log"))
    cache._LOADED.clear()
    h = symnet.function([x], T.exp(x) - 1, mode=mode)
    np.testing.assert_allclose(h(np.zeros(2)), [0.0, 0.0])


def test_corrupt_llvm_object_file_is_rebuilt(tmp_path, monkeypatch):
    from symnet.backend.numba_cpu.llvm import jit
    from .emitters import built_by, emitter_mode
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path))     # one object file
    x = T.dvector("x")
    mode = emitter_mode("llvm", optimizer=None, tiered=False)
    f = symnet.function([x], T.exp(x) - 1, mode=mode)
    assert [k.name for k in built_by(f, "llvm")] == ["L0"]
    (path,) = (tmp_path / "numba").glob("o_*.o")
    good = path.read_bytes()
    assert good.startswith(jit._HEAD)
    damaged = [b"\x7fELF garbage",                        # truncated garbage
               good[:-40] + bytes(40)]                     # a valid head over a damaged body
    for blob in damaged:
        path.write_bytes(blob)
        compiled = jit.stats["compiled"]
        jit._ENGINES.clear()            # as if in a new process
        with pytest.warns(RuntimeWarning, match=f"cached kernel {path} could not be loaded"):
            g = symnet.function([x], T.exp(x) - 1, mode=mode)
        assert jit.stats["compiled"] == compiled + 1
        np.testing.assert_allclose(g(np.array([0.0, 1.0])), [0.0, np.e - 1], rtol=1e-15)
        assert path.read_bytes() == good      # written again, whole


def test_key_depends_on_source_and_files_are_atomic():
    use_tmp_cache()
    assert module_key("a = 1\n") != module_key("a = 2\n")
    mod, path, key = load_module("VALUE = 42\n")
    assert mod.VALUE == 42 and os.path.dirname(path) == cache_dir()
    assert not [p for p in os.listdir(cache_dir()) if p.startswith(".tmp_")]


def test_identical_kernels_are_shared_across_graphs():
    # the same op on the same types compiles once: a second graph whose nodes
    # sit at other positions, with other neighbours, loads no new kernel file
    use_tmp_cache()
    mode = Mode("numba", optimizer=None)
    x, y = T.fmatrix("x"), T.fmatrix("y")
    f = symnet.function([x], T.sum(T.exp(x), axis=1), mode=mode)
    before = set(os.listdir(cache_dir()))
    g = symnet.function([x, y], [T.dot(x, y), T.sum(T.exp(T.dot(x, y)), axis=1)], mode=mode)
    # only the new graph's compiled driver (``c_*.code``, one per graph) is new
    added = set(os.listdir(cache_dir())) - before
    assert len(added) == 1 and next(iter(added)).startswith("c_")
    assert len(g.thunk.linker.kernels) == 2 and "np.dot" in g.source
    xv = np.random.default_rng(0).normal(size=(3, 3)).astype("float32")
    np.testing.assert_allclose(g(xv, xv)[1], np.exp(xv @ xv).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(f(xv), np.exp(xv).sum(axis=1), rtol=1e-5)
