"""The llvm emitter's modules (``llvm/jit.py``): a graph's distinct kernels
are compiled in modules of at most ``budget.MODULE_BUDGET`` IR
instructions, each cached on its own, so LLVM's optimizer time per module
stays bounded however many distinct kernels a graph has."""
import collections

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import budget
from symnet.backend.numba_cpu.llvm import jit
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache

LLVM = Mode("numba", None, tiered=False, emitter="llvm")


def _modules(f):
    """{module key: [(kernel name, IR instructions)]} of ``f``'s llvm kernels."""
    lk = f.thunk.linker
    out = collections.defaultdict(list)
    for kname, k in lk.code.llvm_kernels.items():
        out[lk.kernels[kname].llvm_module].append((kname, jit.ir_size(k.ir_text)))
    return out


def _many_kernels():
    """Five distinct kernels: each reversal (a view in the driver) ends a loop."""
    x = T.dvector("x")
    y, outs = x, []
    for op in (T.exp, T.tanh, T.sin, T.cos, T.sqrt):
        y = op(y[::-1]) * 0.5
        outs.append(y)
    return x, outs


def _numpy(xv):
    y, outs = xv, []
    for op in (np.exp, np.tanh, np.sin, np.cos, np.sqrt):
        y = op(y[::-1]) * 0.5
        outs.append(y)
    return outs


def test_a_small_budget_splits_the_kernels_into_modules_cached_one_by_one(monkeypatch):
    use_tmp_cache()
    x, outs = _many_kernels()
    f = symnet.function([x], outs, mode=LLVM)
    sizes = [jit.ir_size(k.ir_text) for k in f.thunk.linker.code.llvm_kernels.values()]
    assert len(sizes) == 5, f.source
    # a budget that holds about two kernels
    monkeypatch.setattr(budget, "MODULE_BUDGET", 2 * max(sizes))
    jit._ENGINES.clear()
    before = dict(jit.stats)
    f = symnet.function([x], outs, mode=LLVM)
    mods = _modules(f)
    assert len(mods) == 3, mods
    for members in mods.values():
        assert sum(n for _, n in members) <= budget.MODULE_BUDGET, members
    assert jit.stats["compiled"] - before["compiled"] == 3
    xv = np.linspace(0.1, 1.0, 7)
    for got, want in zip(f(xv), _numpy(xv)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # a new process (no engines) loads every module from the disk cache
    jit._ENGINES.clear()
    before = dict(jit.stats)
    g = symnet.function([x], outs, mode=LLVM)
    assert jit.stats["loaded"] - before["loaded"] == 3
    assert jit.stats["compiled"] == before["compiled"]
    assert jit.cached_modules(g.thunk.linker.code.llvm_kernels) == (3, 3)
    for got, want in zip(g(xv), _numpy(xv)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_kernel_larger_than_the_budget_is_a_module_of_its_own(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(budget, "MODULE_BUDGET", 1)
    jit._ENGINES.clear()
    x, outs = _many_kernels()
    f = symnet.function([x], outs, mode=LLVM)
    assert sorted(len(m) for m in _modules(f).values()) == [1] * 5
    xv = np.linspace(0.1, 1.0, 4)
    for got, want in zip(f(xv), _numpy(xv)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def _w9(case, n):
    x = T.fvector("x")
    if case == "chain":
        y = x
        for _ in range(n):
            y = T.tanh(y) * np.float32(0.5) + np.float32(0.1)
        c = T.sum(y)
        return [x], [c, symnet.grad(c, x)], []
    if case == "wide":
        c = T.sum(sum(T.tanh(x * np.float32((i + 1) / n)) for i in range(n)))
        return [x], [c, symnet.grad(c, x)], []
    ss = [symnet.shared(np.zeros(8, "float32")) for _ in range(n)]
    return [], [], [(s, s + np.float32(1)) for s in ss]


@pytest.mark.parametrize("case,n", [("chain", 300), ("wide", 300), ("updates", 60)])
def test_no_module_passes_its_budget(case, n):
    """W9's graph shapes (smaller): every module within MODULE_BUDGET."""
    use_tmp_cache()
    ins, outs, upd = _w9(case, n)
    f = symnet.function(ins, outs, updates=upd,
                        mode=Mode("numba", tiered=False, emitter="llvm"))
    mods = _modules(f)
    if case != "updates":
        assert mods, f.source
    for members in mods.values():
        assert sum(size for _, size in members) <= budget.MODULE_BUDGET, members
