"""The one dispatch table: which backend runs an op, and how.

``kernel_for(backend, op_class)`` finds the kernel a backend registered for
an op class (walking the class's MRO, so a subclass inherits its parent's
kernel).  A backend without a kernel for an op must say so loudly: it warns
once with the op's name and falls back to ``Op.perform``; with
``SYMNET_STRICT=1`` (``config.strict``) the fallback is an error instead.
"""
import warnings

from ..configdefaults import config

__all__ = ["register_kernel", "kernel_for", "register_linker", "linker_for",
           "MissingKernelError", "warn_fallback", "KERNELS", "LINKERS"]

KERNELS = {}   # backend name -> {op class: kernel}
LINKERS = {}   # backend name -> linker factory (a callable taking fgraph, mode)
_WARNED = set()


class MissingKernelError(NotImplementedError):
    """A backend has no kernel for an op and strict mode forbids falling back."""


def register_kernel(backend, *op_classes):
    """Decorator: ``@register_kernel('numba', Dot)`` registers a kernel."""
    def deco(fn):
        table = KERNELS.setdefault(backend, {})
        for cls in op_classes:
            table[cls] = fn
        return fn
    return deco


def kernel_for(backend, op_class):
    """The kernel ``backend`` registered for ``op_class`` (or a base), else None."""
    table = KERNELS.get(backend, {})
    for cls in op_class.__mro__:
        if cls in table:
            return table[cls]
    return None


def warn_fallback(backend, op):
    """Announce (once per op class) that ``op`` runs through ``perform``."""
    if config.strict:
        raise MissingKernelError(
            f"the {backend} backend has no kernel for {op} (SYMNET_STRICT is set)")
    key = (backend, type(op).__name__)
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(f"the {backend} backend has no kernel for {type(op).__name__}; "
                      f"it runs through its Python perform() (slower)",
                      RuntimeWarning, stacklevel=3)


def register_linker(name, factory):
    LINKERS[name] = factory


def linker_for(name):
    if name not in LINKERS:
        _load(name)
    try:
        return LINKERS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; available: {sorted(LINKERS)}") from None


def _load(name):
    import importlib
    modules = {"py": "symnet.backend.py.linker",
               "numba": "symnet.backend.numba_cpu.linker",
               "cuda": "symnet.backend.cuda.linker"}
    if name in modules:
        try:
            importlib.import_module(modules[name])
        except ImportError as exc:
            raise ValueError(
                f"the {name!r} backend is not available here ({exc}); use mode='numba' "
                f"or mode='py'") from None
