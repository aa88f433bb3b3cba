"""The one dispatch table, and the contract between ``function()`` and a backend.

Kernels
-------
``kernel_for(backend, op_class)`` finds the kernel a backend registered for
an op class (walking the class's MRO, so a subclass inherits its parent's
kernel).  A backend without a kernel for an op must say so loudly: it warns
once with the op's name and falls back to ``Op.perform``; with
``SYMNET_STRICT=1`` (``config.strict``) the fallback is an error instead.

Linkers and the thunk protocol
------------------------------
A backend registers a *linker factory* with ``register_linker(name,
factory)``.  ``function()`` rewrites the graph and calls
``factory(fgraph, mode)``; the factory builds the backend-neutral plan
(``backend/plan.py``), generates and compiles whatever it needs, and returns
a *thunk*: a callable meeting the ``Thunk`` protocol below.  That is the
whole contract; ``Function`` (``compile/function.py``) relies on nothing
else.

Inputs
    ``thunk(*inputs, *shared)``: positional values in ``fgraph.inputs``
    order, i.e. the function's explicit inputs (already checked against
    their types by ``Function``, or vouched for with ``trust_input``), then
    the current value of each shared variable, read from its storage
    container (``shared.container.value``, see ``compile/storage.py``).  A
    container holds what the backend works on: a numpy array for ``py`` and
    ``numba`` (``HostStorage``); a CUDA backend supplies containers holding
    device memory, whose ``get``/``set`` (behind ``get_value``/
    ``set_value``) transfer to and from the host.
Outputs
    A list with one value per ``fgraph.outputs``: the function's outputs,
    then the new value of each updated shared variable, in update order
    (``fgraph.n_updates``, set by ``function()``, says how many: a device
    backend returns those as device arrays for its storage to keep).
Updates
    The thunk never writes a shared container, nor the buffer of an input
    or a constant (the plan's ``protected`` set: in-place kernels write
    only into intermediates).  The one exception is the plan's ``tail``
    (``backend/update_tail.py``): an update may be written into its own
    shared value's buffer, as the call's last steps, after every shape is
    checked, so that a thunk that raises has written none of them; it then
    returns that buffer as the update's new value.
    ``Function`` commits the updates after every output of the call is
    computed, all at once: if the thunk raises, no shared value changes
    (all or nothing).
Errors
    A failing node raises its error naming the node, its input shapes and
    the user line that built it (``py.linker.node_error``), keeping the
    exception type.  No result is returned from another backend in its
    place unless the user asked for it as a debugging option (and then with
    a warning).  KeyboardInterrupt is never caught.
``fresh_outputs``
    ``None`` or a tuple of bools, one per ``fgraph.outputs``: True promises
    that the returned buffer is shared with no input, shared value,
    constant or other output (``plan.fresh_outputs``), so ``Function`` skips
    its aliasing check and copy.  False or None: ``Function`` checks.
``source``
    The backend's generated source as text (a standalone module for
    numba: ``f.source``, ``symnet.export``), or None where it generates none.
"""
from typing import Optional, Protocol, Sequence, runtime_checkable

import warnings

from ..configdefaults import config

__all__ = ["register_kernel", "kernel_for", "register_linker", "linker_for",
           "MissingKernelError", "warn_fallback", "KERNELS", "LINKERS", "Thunk", "check_thunk"]

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
            f"the {backend} backend has no kernel for "
            f"{getattr(op, 'short_name', op.__str__)()} (SYMNET_STRICT is set)")
    key = (backend, type(op).__name__)
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(f"the {backend} backend has no kernel for {type(op).__name__}; "
                      f"it runs through its Python perform() (slower)",
                      RuntimeWarning, stacklevel=3)


@runtime_checkable
class Thunk(Protocol):
    """What a linker factory returns (see the module docstring)."""

    fresh_outputs: Optional[Sequence[bool]]
    source: Optional[str]

    def __call__(self, *values) -> list:
        """``thunk(*inputs, *shared) -> [outputs..., updates...]``."""


def check_thunk(thunk, fgraph, backend):
    """``thunk`` if it meets the protocol for ``fgraph``, else a TypeError
    naming the backend and what is wrong."""
    if not callable(thunk):
        raise TypeError(f"the {backend!r} linker returned {type(thunk).__name__}, "
                        f"not a callable thunk")
    fresh = getattr(thunk, "fresh_outputs", None)
    if fresh is not None and len(fresh) != len(fgraph.outputs):
        raise TypeError(f"the {backend!r} linker's fresh_outputs has {len(fresh)} "
                        f"entries for {len(fgraph.outputs)} graph outputs")
    # (a tiered thunk writes its source in its compile thread: not asked here)
    source = None if getattr(thunk, "source_later", False) else getattr(thunk, "source", None)
    if source is not None and not isinstance(source, str):
        raise TypeError(f"the {backend!r} linker's source must be text, got "
                        f"{type(source).__name__}")
    return thunk


def register_linker(name, factory):
    """Register ``factory(fgraph, mode) -> Thunk`` as backend ``name``."""
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
