"""Ctrl-C is never swallowed: finding an interrupt hidden inside an error.

A SIGINT that arrives while a numba kernel (or other C code) runs can make
Python's handler raise KeyboardInterrupt where C code does not expect it;
the call then fails with ``SystemError(... returned a result with an
exception set)`` whose ``__context__`` is the KeyboardInterrupt.  Code that
handles errors with ``except Exception`` (to replay a call, to name a node)
must check ``hidden_interrupt`` first and raise the interrupt instead.
"""

__all__ = ["hidden_interrupt", "reraise_interrupt"]


def hidden_interrupt(exc):
    """The first BaseException that is not an Exception (KeyboardInterrupt,
    SystemExit, ...) in the cause/context chain of ``exc``, or None."""
    stack, seen = [exc], set()
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if not isinstance(e, Exception):
            return e
        stack += [e.__context__, e.__cause__]
    return None


def reraise_interrupt(exc):
    """Raise the interrupt hidden in ``exc`` (see ``hidden_interrupt``), if any."""
    found = hidden_interrupt(exc)
    if found is not None:
        raise found from exc
