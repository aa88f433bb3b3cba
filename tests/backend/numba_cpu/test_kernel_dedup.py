"""Identical kernels are compiled once: two elementwise runs of one graph
with the same source share one kernel (one module, one numba compile, one
cache entry), and a second function of the same graph compiles nothing."""
import glob
import os
import re

import numpy as np

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.compile.mode import Mode


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


def test_identical_runs_compile_one_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path))      # a cold cache
    imported = []
    original = cache._import

    def counting(name, path):
        imported.append(os.path.basename(path))
        return original(name, path)
    monkeypatch.setattr(cache, "_import", counting)

    ins, out = _graph()
    f = symnet.function(ins, out, mode=Mode("numba", tiered=False))
    linker = f.thunk.linker
    tanh_kernels = [k for t, k in linker.kernel_texts.items() if "_tanh32(" in t]
    assert len(tanh_kernels) == 1, linker.kernel_texts
    # the driver calls that one kernel for both runs
    calls = re.findall(rf"= {tanh_kernels[0]}\(", linker.driver_source)
    assert len(calls) == 2, linker.driver_source
    # one module import (= one numba compile on a cold cache) per distinct text
    kernel_modules = [p for p in imported if p.startswith("k_")]
    assert len(kernel_modules) == len(set(kernel_modules)) == len(linker.kernel_texts)
    assert len(glob.glob(str(tmp_path / "numba" / "k_*.py"))) == len(linker.kernel_texts)

    rng = np.random.RandomState(0)
    x = rng.randn(5, 4).astype("float32")
    w = rng.randn(4, 4).astype("float32")
    got, _ = f(x, w)
    assert got.shape == (5, 4) and got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(x, w), rtol=1e-5, atol=1e-6)

    # the same graph built again: its kernels are this process's already
    imported.clear()
    g = symnet.function(*_graph(), mode=Mode("numba", tiered=False))
    np.testing.assert_allclose(g(x, w)[0], got, rtol=0, atol=0)
    assert [p for p in imported if p.startswith("k_")] == []
