"""Mode names: no silent substitution.

Theano's linker names run on numba and say so once; DebugMode and
NanGuardMode are symnet's own (compile/debugmode.py, nanguardmode.py);
unknown names are errors naming the choices.
"""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile import mode as mode_mod
from symnet.compile.mode import LINKERS, Mode, ModeWarning, get_mode
from symnet.configdefaults import config


@pytest.fixture(autouse=True)
def _fresh_announcements(monkeypatch):
    monkeypatch.setattr(mode_mod, "_ANNOUNCED", set())
    monkeypatch.delenv("SYMNET_FORCE_BACKEND", raising=False)


@pytest.mark.parametrize("name", ["c", "cvm", "vm", "c|py", "cvm_nogc"])
def test_theano_linkers_run_on_numba_and_warn_once(name):
    with pytest.warns(ModeWarning, match=f"linker '{name}'.*numba backend"):
        m = Mode(linker=name)
    assert m.linker == "numba"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Mode(linker=name).linker == "numba"     # said once only


def test_theano_debug_modes_are_the_real_ones():
    from symnet.compile.debugmode import DebugMode
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no "runs as something else" notice
        assert isinstance(get_mode("DebugMode"), DebugMode)
        guard = get_mode("NanGuardMode").nan_guard
    assert guard and guard.nan_is_error and guard.inf_is_error


def test_unknown_linker_is_an_error():
    with pytest.raises(ValueError, match=r"unknown linker 'nmuba'; expected one of "
                                         r"\('py', 'numba', 'cuda'\)"):
        Mode(linker="nmuba")
    assert LINKERS == ("py", "numba", "cuda")


def test_unknown_mode_name_is_an_error():
    with pytest.raises(ValueError, match="unknown mode 'PY'"):
        get_mode("PY")


def test_forced_backend_must_be_a_linker(monkeypatch):
    monkeypatch.setenv("SYMNET_FORCE_BACKEND", "gpu")
    with pytest.raises(ValueError, match="unknown linker 'gpu'"):
        get_mode("py")


def test_native_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("py", "numba", "fast_compile", "FAST_COMPILE", "FAST_RUN"):
            get_mode(name)
        Mode("py", optimizer=None)


def test_rewrites_that_cannot_be_imported_are_an_error(monkeypatch):
    """Not a function compiled without any rewrite."""
    import sys
    monkeypatch.setitem(sys.modules, "symnet.graph.rewriting", None)
    x = T.dvector("x")
    with pytest.raises(ImportError, match="symnet.graph.rewriting"):
        symnet.function([x], x * 1, mode=Mode("py"))


def test_theano_predefined_modes_and_debug_mode_name():
    import symnet.tensor as T
    from symnet.compile import mode as mode_mod
    from symnet.compile.debugmode import DebugMode
    assert mode_mod.FAST_RUN.linker == "numba" and mode_mod.FAST_COMPILE.linker == "py"
    assert mode_mod.FAST_COMPILE.optimizer == "fast_compile"
    assert isinstance(mode_mod.get_mode("DEBUG_MODE"), DebugMode)
    x = T.dscalar('x')
    f = symnet.function([x], {'2x': 2 * x}, mode="DEBUG_MODE")
    assert f(3.0) == {'2x': 6.0}
    assert symnet.config.on_opt_error == "raise"
