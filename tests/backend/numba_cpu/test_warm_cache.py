"""What a warm kernel cache lets a new process skip (#12, W3 warm): the
driver's code object (``cache.cached_code``) and the llvm kernels' IR text
(``llvm.hook.ir_text``).  A hit gives exactly what the cold compile gave,
a changed text misses, a damaged entry is compiled again with a warning,
and a kernel the emitter declines is never cached."""
import os
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.backend.numba_cpu.llvm import hook
from symnet.backend.numba_cpu.llvm.kernel import LoopKernel
from symnet.compile.mode import Mode

from .helpers import assert_agree
from .llvm_helpers import emitter


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "numba"


def _entries(folder, prefix):
    return sorted(p for p in os.listdir(folder) if p.startswith(prefix))


def _counting_compile(monkeypatch):
    calls = []
    real = compile

    def counting(*args):
        calls.append(args[1])
        return real(*args)
    monkeypatch.setattr(cache, "compile", counting, raising=False)
    return calls


def test_cached_code_hit_is_the_cold_code_and_a_changed_text_misses(fresh_cache, monkeypatch):
    src = "def f(x):\n    return x * 2 + 1\n"
    cold = cache.cached_code(src, "<t>")
    assert len(_entries(fresh_cache, "c_")) == 1
    calls = _counting_compile(monkeypatch)
    warm = cache.cached_code(src, "<t>")
    assert calls == []                       # read back, not compiled
    assert warm.co_code == cold.co_code and warm.co_consts == cold.co_consts
    assert warm.co_filename == "<t>"         # tracebacks still find the driver by name
    ns = {}
    exec(warm, ns)
    assert ns["f"](3) == 7
    other = cache.cached_code(src.replace("2", "3"), "<t>")
    assert calls == ["<t>"] and len(_entries(fresh_cache, "c_")) == 2
    ns = {}
    exec(other, ns)
    assert ns["f"](3) == 10
    cache.cached_code(src, "<u>")            # the file name is part of the key
    assert len(_entries(fresh_cache, "c_")) == 3


def test_damaged_cached_code_is_compiled_again_with_a_warning(fresh_cache):
    src = "def f(x):\n    return x - 1\n"
    cache.cached_code(src, "<t>")
    (name,) = _entries(fresh_cache, "c_")
    blob = (fresh_cache / name).read_bytes()
    (fresh_cache / name).write_bytes(blob[:-7])          # truncated
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        code = cache.cached_code(src, "<t>")
    ns = {}
    exec(code, ns)
    assert ns["f"](5) == 4
    assert (fresh_cache / name).read_bytes() == blob     # written again, whole
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.cached_code(src, "<t>")


def _graph():
    x, b = T.fmatrix("x"), T.fvector("b")
    return [x, b], [T.tanh(x * 2 + b), T.sum(T.exp(x) * 3, axis=0)]


def _llvm_function(inputs, outputs):
    with emitter("llvm"):
        return symnet.function(inputs, outputs, mode=Mode("numba", tiered=False))


def _py_function(inputs, outputs):
    forced = os.environ.pop("SYMNET_FORCE_BACKEND", None)   # the real py reference
    try:
        return symnet.function(inputs, outputs, mode=Mode("py"))
    finally:
        if forced is not None:
            os.environ["SYMNET_FORCE_BACKEND"] = forced


def test_warm_compile_reads_ir_and_driver_back_and_agrees_with_cold(fresh_cache, monkeypatch):
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(4, 5)).astype("float32"), rng.normal(size=5).astype("float32")]
    inputs, outputs = _graph()
    cold = _llvm_function(inputs, outputs)
    kernels = cold.thunk.linker.code.llvm_kernels
    assert kernels, cold.source
    ir = {k: v.ir_text for k, v in kernels.items()}
    assert len(_entries(fresh_cache, "ir_")) == len(ir)
    assert len(_entries(fresh_cache, "c_")) == 1

    def lowered_again(self, kname):
        raise AssertionError(f"{kname} lowered again despite a cached IR text")
    monkeypatch.setattr(LoopKernel, "module_text", lowered_again)
    calls = _counting_compile(monkeypatch)
    inputs, outputs = _graph()          # the same graph built again, as a new process does
    warm = _llvm_function(inputs, outputs)
    assert calls == []                  # the driver's code object read back too
    assert {k: v.ir_text for k, v in warm.thunk.linker.code.llvm_kernels.items()} == ir
    assert warm.source == cold.source
    want = _py_function(inputs, outputs)(*vals)
    assert_agree(warm(*vals), want, outputs, rtol=1e-5, atol=1e-6)
    assert_agree(cold(*vals), want, outputs, rtol=1e-5, atol=1e-6)


def test_ir_text_misses_on_a_changed_text_and_recovers_from_damage(fresh_cache, monkeypatch):
    inputs, outputs = _graph()
    f = _llvm_function(inputs, outputs)
    text, kname = next(iter(f.thunk.linker.code.llvm_names.items()))
    kernel = f.thunk.linker.code.llvm_kernels[kname]
    lowered = []
    real = LoopKernel.module_text

    def counting(self, name):
        lowered.append(name)
        return real(self, name)
    monkeypatch.setattr(LoopKernel, "module_text", counting)
    assert hook.ir_text(kernel, kname, text) == kernel.ir_text and lowered == []
    before = set(_entries(fresh_cache, "ir_"))
    changed = text.replace("def kernel(", "def kernel(  ", 1)
    assert hook.ir_text(kernel, kname, changed) == kernel.ir_text
    assert lowered == [kname]                          # a miss: lowered
    (new,) = set(_entries(fresh_cache, "ir_")) - before
    hook.ir_text(kernel, kname, changed)
    assert lowered == [kname]                          # then a hit
    (fresh_cache / new).write_bytes(b"symnet-llvm-ir 1\n" + b"\0" * 32 + b"garbage")
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        assert hook.ir_text(kernel, kname, changed) == kernel.ir_text
    assert lowered == [kname, kname]
    assert (fresh_cache / new).read_bytes().endswith(kernel.ir_text.encode())


def test_a_declined_kernel_is_not_cached(fresh_cache, monkeypatch):
    inputs, outputs = _graph()
    f = _llvm_function(inputs, outputs)
    text, kname = next(iter(f.thunk.linker.code.llvm_names.items()))
    kernel = f.thunk.linker.code.llvm_kernels[kname]

    def declines(self, name):
        raise NotImplementedError("llvm emitter: declined in this test")
    monkeypatch.setattr(LoopKernel, "module_text", declines)
    before = _entries(fresh_cache, "ir_")
    with pytest.raises(NotImplementedError, match="declined in this test"):
        hook.ir_text(kernel, kname, text + "# another kernel\n")
    assert _entries(fresh_cache, "ir_") == before
