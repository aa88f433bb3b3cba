"""Identical kernels are compiled once: two elementwise runs of one graph
with the same source share one kernel (one module, one numba compile, one
cache entry), and a second function of the same graph compiles nothing.
Under both emitters: the llvm emitter's kernels are one ``L<n>`` per
distinct loop, compiled as one module (one object file in the cache)."""
import glob
import os

import numpy as np

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.backend.numba_cpu.llvm import jit

from .emitters import built_by, calls, each_emitter, emitter_mode


def _graph():
    # two identical elementwise runs, kept apart by the dot between them;
    # the constants are this test's own, so no other test compiled them
    # (the dot is an output too, so the second run cannot write into it)
    x, w = T.fmatrix("x"), T.fmatrix("w")
    h1 = T.tanh(x * np.float32(0.3721) + np.float32(0.1234))
    d = T.dot(h1, w)
    return [x, w], [T.tanh(d * np.float32(0.3721) + np.float32(0.1234)), d]


def _reference(x, w):
    h1 = np.tanh(x * 0.3721 + 0.1234)
    return np.tanh((h1 @ w) * 0.3721 + 0.1234)


@each_emitter
def test_identical_runs_compile_one_kernel(tmp_path, monkeypatch, emitter):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path))      # a cold cache
    imported = []
    original = cache._import

    def counting(name, path):
        imported.append(os.path.basename(path))
        return original(name, path)
    monkeypatch.setattr(cache, "_import", counting)

    ins, out = _graph()
    compiled = jit.stats["compiled"]
    f = symnet.function(ins, out, mode=emitter_mode(emitter, tiered=False))
    linker = f.thunk.linker
    ks = built_by(f, emitter)
    tanh_kernels = [k for k in ks if "tanh" in k.title]
    assert len(tanh_kernels) == 1 and tanh_kernels[0].emitter == emitter, ks
    # the driver calls that one kernel for both runs
    assert calls(linker.driver_source).count(tanh_kernels[0].name) == 2, linker.driver_source
    # one module import (= one numba compile on a cold cache) per distinct text
    numba_kernels = [k for k in ks if k.emitter == "numba"]
    kernel_modules = [p for p in imported if p.startswith("k_")]
    assert len(kernel_modules) == len(set(kernel_modules)) == len(numba_kernels)
    assert len(glob.glob(str(tmp_path / "numba" / "k_*.py"))) == len(numba_kernels)
    # the llvm kernels: one module compiled, one object file cached
    llvm_modules = 1 if emitter == "llvm" else 0
    assert jit.stats["compiled"] - compiled == llvm_modules
    assert len(glob.glob(str(tmp_path / "numba" / "o_*.o"))) == llvm_modules

    rng = np.random.RandomState(0)
    x = rng.randn(5, 4).astype("float32")
    w = rng.randn(4, 4).astype("float32")
    got, _ = f(x, w)
    assert got.shape == (5, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(x, w), rtol=1e-5, atol=1e-6)

    # the same graph built again: its kernels are this process's already
    imported.clear()
    compiled = jit.stats["compiled"]
    g = symnet.function(*_graph(), mode=emitter_mode(emitter, tiered=False))
    np.testing.assert_allclose(g(x, w)[0], got, rtol=0, atol=0)
    assert [p for p in imported if p.startswith("k_")] == []
    assert jit.stats["compiled"] == compiled     # llvm: its object file loaded
