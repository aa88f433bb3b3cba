"""A compiled function's arguments: binding a call, and its input values.

``bind`` matches a call's positional and keyword arguments to the
function's inputs (``In`` specs) as Python matches a def's parameters:
positions first, keywords by input name, defaults for the rest; an
implicit input takes no argument.  ``InputValues`` is ``f.value`` and
``f.container``: an input's default or state looked up by position, name
or variable (``f[s]`` is ``f.value[s]``).
"""
import copy
import difflib

import numpy as np

from ..graph.basic import Variable
from .io import as_in
from .storage import HostStorage, Storage

__all__ = ["containers", "bind", "InputValues", "InputAccess", "input_index", "set_input",
           "current_inputs"]


def _vname(v):
    return v.name if v.name is not None else str(v)


def containers(specs, states, allow_input_downcast):
    """One container per input: a state's (its private shared variable's),
    a default value checked against the input's type, or empty (None)."""
    out = []
    for k, spec in enumerate(specs):
        st = states.get(spec.variable)
        if st is not None:
            out.append(st.container)
        elif spec.has_default:
            out.append(HostStorage(_filter(spec, k, spec.value, allow_input_downcast)))
        else:
            out.append(HostStorage(None))
    return out


def _filter(spec, k, value, allow_input_downcast):
    allow = spec.allow_downcast if spec.allow_downcast is not None else allow_input_downcast
    return spec.variable.type.filter_named(value, f"input {k} ({_vname(spec.variable)})",
                                           strict=spec.strict, allow_downcast=allow)


def signature(fn):
    """``x, y, z=42.0, w=0.0 (state)``: what a call may pass."""
    parts = []
    for spec, store, st in zip(fn.specs, fn._containers, fn._states):
        if spec.implicit:
            continue
        text = spec.name or _vname(spec.variable)
        if store.value is not None:
            text += f"={store.value}"
        parts.append(text + (" (state)" if st is not None else ""))
    return ", ".join(parts)


def _unknown_keyword(fn, key):
    named = [s.name for s in fn.specs if s.name and not s.implicit]
    unnamed = sum(1 for s in fn.specs if not s.name and not s.implicit)
    msg = (f"{fn._label()} got an unexpected keyword argument {key!r}: it is not the "
           f"name of an input; its named inputs are ({', '.join(named)})")
    if unnamed:
        msg += (f", and {unnamed} unnamed input{'s' if unnamed > 1 else ''} can only be "
                f"passed by position (give the variable a name to pass it by keyword)")
    close = difflib.get_close_matches(key, named, n=1)
    if close:
        msg += f"; perhaps you meant {close[0]!r}"
    return msg


def bind(fn, args, kwargs):
    """(values of the graph's inputs, [(state container, new value)]).

    A state passed as an argument is returned for the caller to store
    before the call (and restore if the call raises), not stored here.
    """
    positional = fn._positional
    if len(args) > len(positional):
        raise TypeError(f"{fn._label()} takes at most {len(positional)} arguments "
                        f"({signature(fn)}), got {len(args)}")
    given = dict(zip(positional, args))
    for key, val in kwargs.items():
        k = fn._names.get(key)
        if k is None and key in fn._names:
            raise TypeError(f"{fn._label()}: several inputs are named {key!r}, so "
                            f"{key!r} cannot be passed by keyword (pass it by position)")
        if k is None or fn.specs[k].implicit:
            raise TypeError(_unknown_keyword(fn, key))
        if k in given:
            raise TypeError(f"{fn._label()} got multiple values for input {key!r}")
        given[k] = val
    vals, assign = [], []
    trust = fn.trust_input
    for k, spec in enumerate(fn.specs):
        st = fn._states[k]
        if k in given:
            val = given[k]
        elif st is not None:
            continue                        # the state the function keeps
        else:
            val = fn._containers[k].value
            if val is None:
                raise TypeError(f"{fn._label()} is missing a value for input {k} "
                                f"({spec.name or _vname(spec.variable)}), a required "
                                f"input; its arguments are ({signature(fn)})")
        if st is None:
            vals.append(val if trust else _filter(spec, k, val, fn.allow_input_downcast))
        else:   # a copy: the update may be written into the state in place
            val = _filter(spec, k, val, fn.allow_input_downcast)
            assign.append((st.container, np.array(val, copy=True)))
    return vals, assign


def input_index(fn, key):
    """The position of the input ``key`` names (a position, name or variable)."""
    if isinstance(key, Variable):
        for k, v in enumerate(fn._keys):
            if v is key:
                return k
    elif isinstance(key, str):
        if fn._names.get(key) is not None:
            return fn._names[key]
    elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if -len(fn.specs) <= key < len(fn.specs):
            return int(key) % len(fn.specs)
    names = ", ".join(s.name or _vname(s.variable) for s in fn.specs)
    raise KeyError(f"{key!r} is not an input of {fn._label()} (its inputs: {names}; "
                   f"look one up by position, name or variable)")


def set_input(fn, key, value):
    """Store ``value`` (checked against the input's type, copied) as the
    input's state or default."""
    k = input_index(fn, key)
    spec = fn.specs[k]
    val = np.array(_filter(spec, k, value, fn.allow_input_downcast), copy=True)
    fn._containers[k].set(val)


def current_inputs(fn, inputs):
    """``inputs`` (the list ``function`` was given) with each default and
    state at its current value: a copy or a pickle of ``fn`` starts where
    ``fn`` is, as in Theano.  A state shared with another function (its
    value a container) stays shared."""
    out = []
    for item, spec, store in zip(inputs, fn.specs, fn._containers):
        if store.value is None or isinstance(spec.value, Storage):
            out.append(item)
            continue
        new = copy.copy(as_in(item))
        new.value, new.has_default = np.array(store.value, copy=True), True
        out.append(new)
    return out


class InputValues:
    """``f.value`` (``values=True``) or ``f.container``: a dictionary-like
    view of the function's inputs, keyed by position, name or variable."""

    def __init__(self, fn, values):
        self._fn = fn
        self._values = values

    def __getitem__(self, key):
        store = self._fn._containers[input_index(self._fn, key)]
        return store.value if self._values else store

    def __setitem__(self, key, value):
        if not self._values:
            raise TypeError("f.container is read-only: set f.value[key] (or f[key]) "
                            "to change an input's value")
        set_input(self._fn, key, value)

    def __contains__(self, key):
        try:
            input_index(self._fn, key)
        except KeyError:
            return False
        return True

    def __len__(self):
        return len(self._fn.specs)

    def __iter__(self):
        return iter(self._fn._keys)


class InputAccess:
    """What ``Function`` gets from this module: its inputs' defaults and
    states by position, name or variable (Theano's ``f[s]``, ``f[s] = v``,
    ``f.value``, ``f.container``)."""

    def __getitem__(self, key):
        return self._containers[input_index(self, key)].value

    def __setitem__(self, key, value):
        set_input(self, key, value)

    @property
    def value(self):
        """The inputs' current values (defaults, states); assignable."""
        return InputValues(self, True)

    @property
    def container(self):
        """The inputs' containers (``f.container[s].value``)."""
        return InputValues(self, False)
