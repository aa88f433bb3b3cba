"""Helpers of the llvm emitter tests: compile a graph with the llvm
emitter (and check it really built llvm kernels) and with py."""
import contextlib
import os
import warnings

import numpy as np

import symnet
from symnet.compile.mode import Mode

from .helpers import assert_agree, use_tmp_cache


@contextlib.contextmanager
def emitter(name):
    """``SYMNET_NUMBA_EMITTER=name`` inside the block."""
    old = os.environ.get("SYMNET_NUMBA_EMITTER")
    os.environ["SYMNET_NUMBA_EMITTER"] = name
    try:
        yield
    finally:
        if old is None:
            del os.environ["SYMNET_NUMBA_EMITTER"]
        else:
            os.environ["SYMNET_NUMBA_EMITTER"] = old


def llvm_kernels(fn):
    """The names of the llvm kernels ``fn`` calls (from ``f.source``)."""
    return [ln.split()[2].split("(")[0] for ln in fn.source.splitlines()
            if ln.startswith("# def L")]


def compile_with(name, inputs, outputs, optimizer="default", **kw):
    """``symnet.function`` on the numba backend with emitter ``name``."""
    use_tmp_cache()
    with emitter(name), warnings.catch_warnings():
        warnings.filterwarnings("error", "the numba backend failed")
        return symnet.function(inputs, outputs, mode=Mode("numba", optimizer, tiered=False),
                               on_unused_input="ignore", **kw)


def against_py(inputs, outputs, values, optimizer="default", rtol=1e-6, atol=0.0,
               must_use_llvm=True):
    """Compile with the llvm emitter and with py, run both on ``values``,
    assert they agree (dtype, shape, values, NaN where py has NaN);
    returns the llvm-emitter function."""
    fl = compile_with("llvm", inputs, outputs, optimizer)
    if must_use_llvm:
        assert llvm_kernels(fl), fl.source
    # the reference is the py backend itself, also where CI forces every
    # "py" mode onto numba (SYMNET_FORCE_BACKEND): the llvm emitter is
    # checked against numpy's semantics, not against numba's kernels
    forced = os.environ.pop("SYMNET_FORCE_BACKEND", None)
    try:
        fp = symnet.function(inputs, outputs, mode=Mode("py", optimizer),
                             on_unused_input="ignore")
    finally:
        if forced is not None:
            os.environ["SYMNET_FORCE_BACKEND"] = forced
    with np.errstate(all="ignore"):
        got, want = fl(*values), fp(*values)
    if not isinstance(outputs, (list, tuple)):
        got, want = [got], [want]
    for g, w in zip(got, want):     # integers and booleans compare exactly
        exact = np.asarray(w).dtype.kind in "biu"
        assert_agree(g, w, None, 0 if exact else rtol, 0 if exact else atol)
    return fl
