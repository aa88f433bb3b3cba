"""A kernel's one compiled version, and its entry point for Python callers.

Every kernel of ``codegen`` is a numba dispatcher compiled with one
explicit signature.  Calling the dispatcher types each argument and looks
the signature up (about 0.3 us of a 0.5 us call of a scalar kernel here);
the compiled version's ``entry_point`` is the builtin function the
dispatcher calls in the end.  It converts scalars as the dispatcher does,
but unboxes an array without checking its dtype, rank or order (a wrong
one is read as if it had the declared type), so the driver calls a kernel
through it only where it knows every array argument's type
(``codegen._Writer.register``).  ``kernel_ref.KernelRef`` takes the
native address of the same version for njit callers.

Nothing here imports numba: it runs on dispatchers already loaded.
"""

__all__ = ["compiled_version", "entry_point"]


def compiled_version(dispatcher, args=None):
    """The compile result of ``dispatcher`` for the argument types ``args``
    (None: its only signature; an error where it has several)."""
    if args is None:
        sigs = dispatcher.nopython_signatures
        if len(sigs) != 1:
            raise ValueError(f"{dispatcher}: a kernel called without numba's dispatch "
                             f"needs exactly one compiled signature, it has {len(sigs)}")
        args = sigs[0].args
    return dispatcher.overloads[tuple(args)]


def entry_point(dispatcher):
    """The builtin function running ``dispatcher``'s one compiled version."""
    return compiled_version(dispatcher).entry_point
