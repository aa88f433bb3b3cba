"""The llvm emitter: elementwise kernels as LLVM IR, compiled without numba.

The default emitter of the numba backend (``DEFAULT``; ``Mode(emitter=...)``
or ``SYMNET_NUMBA_EMITTER`` chooses, the mode's word winning;
``SYMNET_NUMBA_EMITTER=numba`` / ``Mode('numba', emitter='numba')`` has
numba build every kernel).  Under it the numba backend's code generator
hands each elementwise kernel (a plan ``Run`` with its full sums and
column sums, or a single ``Elemwise`` node) to this package first:

* ``lower.py``: the element expressions of ``backend/scalar.py`` (the one
  semantics table) lowered to IR;
* ``fastmath32.py``: the float32 exp/tanh/sigmoid of ``lib/fastmath32.py``
  as IR;
* ``kernel.py``: the loop nest of one kernel and its Python wrapper;
* ``jit.py``: the llvm kernels of one graph compiled in a few modules of
  bounded size (``budget.MODULE_BUDGET``; O3, host CPU), their object
  code cached on disk with the numba kernel cache's checks.

A kernel the emitter cannot express (an op outside the subset, complex
numbers, a 0-d loop, a threaded loop, the plan's in-place update tail,
whose kernels run from one C-level loop) is compiled by numba exactly as
under the numba emitter; ``f.profile``, ``f.source`` and ``python -m
symnet.where`` say which emitter built which kernel.  The njit driver
(``SYMNET_NUMBA_NJIT_DRIVER=1``) calls numba kernels only, so it keeps the
numba emitter.  A graph whose kernels are
all llvm ones never starts numba (numba's first compile in a process costs
0.2-0.4 s: more than JAX's whole W3 compile, issue #13).
"""
import os

__all__ = ["requested", "chosen", "check_emitter", "EMITTERS", "DEFAULT"]

EMITTERS = ("numba", "llvm")
DEFAULT = "llvm"


def check_emitter(choice):
    """``choice`` if it names an emitter, else a ValueError saying which do."""
    if choice not in EMITTERS:
        raise ValueError(f"SYMNET_NUMBA_EMITTER / Mode.emitter must be one of {EMITTERS}, "
                         f"got {choice!r}")
    return choice


def chosen(mode):
    """The emitter ``mode`` (``Mode(emitter=...)``) or ``SYMNET_NUMBA_EMITTER``
    asks for (the mode's word wins), else ``DEFAULT``."""
    return check_emitter(getattr(mode, "emitter", None)
                         or os.environ.get("SYMNET_NUMBA_EMITTER") or DEFAULT)


def requested(mode):
    """Whether the llvm emitter is asked for (``chosen``)."""
    return chosen(mode) == "llvm"
