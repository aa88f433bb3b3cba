"""The numba backend's emitter: llvm by default, numba on request (the
environment or the mode, the mode's word winning), a bad name refused."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import llvm
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache


def _emitters(mode):
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x) * 2 + 1, mode=mode)
    np.testing.assert_allclose(f(np.zeros(3)), np.full(3, 3.0))
    lk = f.thunk.linker
    return [lk.emitter_of(k) for k in lk.kernel_names.values()]


@pytest.mark.parametrize("env, mode_word, want", [
    (None, None, "llvm"), ("numba", None, "numba"), ("llvm", None, "llvm"),
    ("numba", "llvm", "llvm"), ("llvm", "numba", "numba"), (None, "numba", "numba")])
def test_which_emitter_builds_the_loop(monkeypatch, env, mode_word, want):
    use_tmp_cache()
    if env is None:
        monkeypatch.delenv("SYMNET_NUMBA_EMITTER", raising=False)
    else:
        monkeypatch.setenv("SYMNET_NUMBA_EMITTER", env)
    assert llvm.DEFAULT == "llvm"
    mode = Mode("numba", None, tiered=False, emitter=mode_word)
    assert _emitters(mode) == [want]
    assert ("emitter=" in repr(mode)) == (mode_word is not None)


def test_a_bad_emitter_name_is_refused(monkeypatch):
    with pytest.raises(ValueError, match=r"must be one of \('numba', 'llvm'\), got 'clang'"):
        Mode("numba", emitter="clang")
    monkeypatch.setenv("SYMNET_NUMBA_EMITTER", "gcc")
    x = T.dvector("x")
    with pytest.raises(ValueError, match="got 'gcc'"):
        symnet.function([x], T.exp(x), mode=Mode("numba", None, tiered=False))


def test_modes_differing_in_emitter_are_different_modes():
    assert Mode("numba", emitter="numba") != Mode("numba", emitter="llvm")
    assert Mode("numba") == Mode("numba")
