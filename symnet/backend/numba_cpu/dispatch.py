"""The numba backend's side of the registry: what family modules import.

A family module (``elemwise.py``, ``shape.py``, ... named after
``symnet/tensor/ops/<family>.py``) registers its implementations with
``register_kernel('numba', Op)`` (a kernel: source of one compiled
function) or ``driver_op(Op)`` (a driver template: numpy lines in the
driver).  This module imports neither the linker nor the code generator, so
a family module never imports the linker and the linker imports the
families without a cycle.  ``load_families`` finds the family modules by
name (one per op family that has one): nothing is listed by hand.

``FALLBACK_FAMILIES`` / ``FALLBACK_OPS`` name what deliberately runs its
``perform`` (with the fallback warning): no kernel is written for them yet.
"""
import importlib
import importlib.util
import pkgutil

from ..registry import register_kernel

__all__ = ["driver_op", "load_families", "FALLBACK_FAMILIES", "FALLBACK_OPS"]

# Families whose ops run their ``perform`` in the driver (with the fallback
# warning): none left
FALLBACK_FAMILIES = ()
# single ops of other families that run their ``perform``
FALLBACK_OPS = ()
# implementation modules for ops outside tensor/ops (symnet.scan's Scan, the
# ops of symnet/gradient.py)
OTHER_FAMILIES = ("scan", "gradient")

_LOADED = []


def driver_op(*op_classes, njit=False):
    """Decorator: register a *driver template* for ``op_classes``: numpy
    lines run by the driver instead of a compiled kernel.  It is the numba
    backend's implementation of the op (registered under ``'numba'``),
    marked so that the linker calls it as a template:
    ``template(node, ins, outs) -> (lines, contiguous)``, ``contiguous``
    being True, False, ``"input"`` (as its first input) or ``"scalar"`` (a
    numpy scalar, not an array).  ``njit=True``
    says its lines are numba code too (see ``njit_driver.py``); a function
    ``njit(node) -> bool`` says so for some nodes only."""
    def deco(fn):
        fn.driver_template = True
        fn.njit_ok = njit if callable(njit) else bool(njit)
        return register_kernel("numba", *op_classes)(fn)
    return deco


def load_families():
    """Import every family module of this package (``numba_cpu/<family>.py``
    for each ``tensor/ops/<family>.py``) so that its kernels register.
    Returns their names."""
    if _LOADED:
        return _LOADED[0]
    from ...tensor import ops
    names = []
    for info in pkgutil.iter_modules(ops.__path__):
        if info.name.startswith("_"):
            continue
        full = f"{__package__}.{info.name}"
        if importlib.util.find_spec(full) is not None:
            importlib.import_module(full)
            names.append(info.name)
    for name in OTHER_FAMILIES:
        importlib.import_module(f"{__package__}.{name}")
        names.append(name)
    _LOADED.append(tuple(names))
    return _LOADED[0]
