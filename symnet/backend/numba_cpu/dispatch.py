"""The numba backend's side of the registry: what family modules import.

A family module (``elemwise.py``, ``shape.py``, ... named after
``symnet/tensor/ops/<family>.py``) registers its implementations with
``register_kernel('numba', Op)`` (a kernel: source of one compiled
function) or ``driver_op(Op)`` (a driver template: numpy lines in the
driver).  This module imports neither the linker nor the code generator, so
a family module never imports the linker and the linker imports the
families without a cycle.  ``load_families`` finds the family modules by
name (one per op family that has one): nothing is listed by hand.  The
linker imports only the families of a graph's ops (``load_families_for``):
all sixteen take about 0.1 s to import, a fifth of a warm compile of W3's
tanh chain, which needs four.

``FALLBACK_FAMILIES`` / ``FALLBACK_OPS`` name what deliberately runs its
``perform`` (with the fallback warning): no kernel is written for them yet.
"""
import importlib
import importlib.util
import pkgutil
import sys

from ..registry import register_kernel

__all__ = ["driver_op", "load_families", "load_families_for", "FALLBACK_FAMILIES",
           "FALLBACK_OPS"]

# Families whose ops run their ``perform`` in the driver (with the fallback
# warning): none left
FALLBACK_FAMILIES = ()
# single ops of other families that run their ``perform``
FALLBACK_OPS = ()
# implementation modules for ops outside tensor/ops (symnet.scan's Scan, the
# ops of symnet/gradient.py, symnet.typed_list's)
OTHER_FAMILIES = ("scan", "gradient", "typed_list")

_LOADED = []


def driver_op(*op_classes, njit=False, objects=False):
    """Decorator: register a *driver template* for ``op_classes``: numpy
    lines run by the driver instead of a compiled kernel.  It is the numba
    backend's implementation of the op (registered under ``'numba'``),
    marked so that the linker calls it as a template:
    ``template(node, ins, outs) -> (lines, contiguous)``, ``contiguous``
    being True, False, ``"input"`` (as its first input) or ``"scalar"`` (a
    numpy scalar, not an array).  ``njit=True``
    says its lines are numba code too (see ``njit_driver.py``); a function
    ``njit(node) -> bool`` says so for some nodes only.  ``objects=True``:
    it also takes inputs that are not tensors (a Generic file name)."""
    def deco(fn):
        fn.driver_template = True
        fn.objects_ok = objects
        fn.njit_ok = njit if callable(njit) else bool(njit)
        return register_kernel("numba", *op_classes)(fn)
    return deco


def method_driver(op_class, method, contiguous=False, objects=False):
    """Register, as ``op_class``'s driver template, one line calling the
    node's op's own ``method`` (its perform's work) on the input arrays:
    for ops whose whole job is one numpy call with data-dependent sizes or
    Python objects (``np.unique``, a RandomState draw).  ``method`` returns
    the list of outputs."""
    def template(node, ins, outs, writer):
        op = writer.object_const(node.op)
        return [f"{', '.join(outs)}, = {op}.{method}({', '.join(ins)})"], contiguous
    template.takes_writer = True
    template.__name__ = f"{op_class.__name__.lower()}_{method}_driver"
    return driver_op(op_class, objects=objects)(template)


def family_names():
    """The names of the family modules of this package (imports none)."""
    from ...tensor import ops
    names = [info.name for info in pkgutil.iter_modules(ops.__path__)
             if not info.name.startswith("_")
             and importlib.util.find_spec(f"{__package__}.{info.name}") is not None]
    return names + list(OTHER_FAMILIES)


def load_families():
    """Import every family module of this package (``numba_cpu/<family>.py``
    for each ``tensor/ops/<family>.py``) so that its kernels register.
    Returns their names."""
    if _LOADED:
        return _LOADED[0]
    names = family_names()
    for name in names:
        importlib.import_module(f"{__package__}.{name}")
    _LOADED.append(tuple(names))
    return _LOADED[0]


def _family_of(cls):
    """The family name of an op class: its module's under ``tensor/ops``, or
    one of ``OTHER_FAMILIES`` (None for a class defined elsewhere)."""
    module = cls.__module__
    if module.startswith(_OPS):
        return module[len(_OPS):].split(".", 1)[0]
    top = module.split(".")[1:2]
    return top[0] if module.startswith("symnet.") and top[0] in OTHER_FAMILIES else None


_OPS = "symnet.tensor.ops."


def load_families_for(op_classes):
    """Import the family modules of ``op_classes`` and of their bases (the
    kernels of an op family register in the backend module of the same
    name); every family when some class has no kernel then (an op defined
    elsewhere, or a family with none: its fallback is decided as before)."""
    from ..registry import kernel_for
    classes = set(op_classes)
    if _LOADED:
        return
    for fam in {_family_of(c) for cls in classes for c in cls.__mro__} - {None}:
        full = f"{__package__}.{fam}"
        if full not in sys.modules and importlib.util.find_spec(full) is not None:
            importlib.import_module(full)
    if any(kernel_for("numba", cls) is None for cls in classes):
        load_families()
