"""The NaN guard: find the first node whose output holds a NaN, an Inf or a huge value.

``Mode(..., nan_guard=True)`` (or ``NanGuardMode(nan_is_error, inf_is_error,
big_is_error)``, also reachable as ``theano.compile.nanguardmode.NanGuardMode``
through ``symnet.compat``) checks every node's outputs after it runs and
raises :class:`NanGuardError` at the first bad value, naming the node, its
op, its inputs' shapes and ranges, and the user line that built it.

The checks run in ``symnet.compile.instrument``: node by node on the py
backend; on numba after each driver step (one kernel, one fused loop, or
one driver line), and a step that produced a bad value is re-run node by
node on py to name the exact node inside a fused loop.  With the guard off
neither backend runs any of this code.
"""
import numpy as np

from ..configdefaults import config
from ..graph.basic import short_str
from .mode import _NAMED, Mode, NanGuard

__all__ = ["NanGuard", "NanGuardMode", "NanGuardError", "BIG", "problem_in", "describe_node",
           "value_summary"]

#: what counts as a huge value with ``big_is_error`` (as in Theano)
BIG = 1e10


class NanGuardError(FloatingPointError, AssertionError):
    """A NaN, Inf or huge value came out of a node; ``.node`` is that node
    (``None`` for a bad function input) and ``.kind`` one of 'NaN', 'Inf', 'big'.

    Also an AssertionError: what Theano's NanGuardMode raised, and what its
    users' code catches."""

    def __init__(self, msg, node=None, kind=None):
        super().__init__(msg)
        self.node = node
        self.kind = kind


def problem_in(value, guard):
    """'NaN', 'Inf' or 'big' when ``value`` breaks ``guard``'s rules, else None."""
    if isinstance(value, (np.ndarray, np.generic)):
        kind = value.dtype.kind
        if kind not in "fc" or value.size == 0:
            return None
        arr = value
    elif isinstance(value, (float, complex)):
        arr = np.asarray(value)
    else:
        return None           # integers, random states, lists: nothing to check
    if guard.nan_is_error and np.isnan(arr).any():
        return "NaN"
    if guard.inf_is_error and np.isinf(arr).any():
        return "Inf"
    if guard.big_is_error and np.nanmax(np.where(np.isinf(arr), 0, np.abs(arr))) > BIG:
        return "big"
    return None


def value_summary(value):
    """'float32 (3, 4) in [-1, 2.5]' (the range ignores NaNs)."""
    if not isinstance(value, (np.ndarray, np.generic, float, int, complex)):
        return type(value).__name__
    arr = np.asarray(value)
    text = f"{arr.dtype} {arr.shape}"
    if arr.size and arr.dtype.kind in "fiub":
        finite = arr[~np.isnan(arr)] if arr.dtype.kind == "f" else arr
        if finite.size:
            text += f" in [{finite.min():.6g}, {finite.max():.6g}]"
        if finite.size < arr.size:
            text += f", {arr.size - finite.size} NaN"
    return text


def describe_node(node, values=None, position=None):
    """Lines naming ``node``: its op and inputs, the inputs' shapes and
    ranges (when ``values`` are given) and the user line that built it."""
    where = f"node {position}: " if position is not None else ""
    names = ", ".join(short_str(v)[:40] for v in node.inputs)
    lines = [f"{where}{node.op.short_name()}({names})  [op class {type(node.op).__name__}]"]
    if values is not None:
        for k, (var, val) in enumerate(zip(node.inputs, values)):
            lines.append(f"  input {k} ({short_str(var)[:40]}): {value_summary(val)}")
    trace = node.tag.get("trace")
    if trace:
        lines.append(f"  built at {trace[0]}:{trace[1]} (in {trace[2]})")
    return lines


def node_problem_error(kind, node, out_index, values, position=None, note=""):
    """The NanGuardError for output ``out_index`` of ``node``."""
    head = f"{kind} in output {out_index} of " if kind != "big" else \
        f"a value above {BIG:g} in output {out_index} of "
    lines = describe_node(node, values, position)
    msg = head + lines[0] + "\n" + "\n".join(lines[1:]) + (f"\n  {note}" if note else "")
    return NanGuardError(msg, node, kind)


def input_problem_error(kind, var, value, index):
    return NanGuardError(f"{kind} in function input {index} ({var}): {value_summary(value)}",
                         None, kind)


class NanGuardMode(Mode):
    """Theano's NanGuardMode: a mode whose every node's outputs are checked.

    Parameters
    ----------
    nan_is_error, inf_is_error, big_is_error : bool
        Which values raise :class:`NanGuardError` (big: ``abs(x) > 1e10``).
        None (Theano's default) means True.
    optimizer, linker : as for :class:`Mode` (``linker`` defaults to
        ``config.mode``'s backend, numba unless set otherwise).
    check_inputs : bool
        Also check the function's arguments and shared values.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.vector('x')
    >>> f = symnet.function([x], T.log(x) + 1, mode=NanGuardMode(linker='py'))
    >>> f(np.array([1.0, -1.0], dtype='float32'))
    Traceback (most recent call last):
        ...
    symnet.compile.nanguardmode.NanGuardError: NaN in output 0 of node 0: log(x)  [op class Elemwise]
    ...
    """

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None,
                 optimizer="default", linker=None, check_inputs=True, **kwargs):
        if linker is None:
            from .mode import get_mode
            # config.mode = 'NanGuardMode' (THEANO_FLAGS) guards the default backend
            linker = "numba" if config.mode == "NanGuardMode" else get_mode(None).linker
        guard = NanGuard(nan_is_error is not False, inf_is_error is not False,
                         big_is_error is not False, check_inputs)
        super().__init__(linker, optimizer if optimizer != "fast_run" else "default",
                         nan_guard=guard, **kwargs)


_NAMED["NanGuardMode"] = lambda: NanGuardMode(True, True, True)
