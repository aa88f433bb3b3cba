"""Function input/output specifications: ``In`` (defaults, state), ``Out``.

An ``In`` with a ``value`` is an optional argument; one with an ``update``
is also a state the compiled function keeps between calls (a private
shared variable: ``f[s]``, ``f[s] = v``, ``f.value[s]``,
``f.container[s].value``).  ``as_in`` turns Theano's shortcut forms of an
input list's items into ``In`` instances.
"""
from ..graph.basic import Variable
from .storage import Storage

__all__ = ["In", "Out", "Param", "as_in"]


class In:
    """An input with an optional default ``value``, ``update`` and ``name``.

    Parameters
    ----------
    variable : Variable
        The graph input this describes.
    name : str, optional
        The keyword the argument can be passed by (default: the variable's
        name, unless ``autoname=False``).
    value : number, array or storage container, optional
        The default value.  With an ``update``, the initial value of a
        state the function keeps; a container (``f.container[s]`` of another
        function) shares that state.
    update : Variable, optional
        The state's new value after each call (computed from the old one).
    mutable : bool
        The function may modify ``value`` itself rather than a copy.
    implicit : bool or None
        True: the caller cannot pass this argument (its value comes from
        its container).  None: True exactly when ``value`` is a container.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x, y = T.scalars('x', 'y')
    >>> f = symnet.function([x, In(y, value=1.0)], x + y)
    >>> float(f(2.0)), float(f(2.0, 3.0)), float(f(2.0, y=5.0))
    (3.0, 5.0, 7.0)

    A running total kept by the function:

    >>> s = T.scalar('s')
    >>> acc = symnet.function([x, In(s, value=0.0, update=s + x)], s + x)
    >>> float(acc(2.0)), float(acc(3.0)), float(acc[s])
    (2.0, 5.0, 5.0)
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 strict=False, allow_downcast=None, autoname=True, implicit=None,
                 borrow=False, shared=False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In: the input must be a symbolic variable, got "
                            f"{type(variable).__name__} {variable!r}")
        if update is not None and not isinstance(update, Variable):
            raise TypeError(f"In({variable}): update must be a symbolic expression, got "
                            f"{type(update).__name__} {update!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In({variable}): name must be a string, got "
                            f"{type(name).__name__} {name!r}")
        if update is not None and getattr(variable, "owns_value", False):
            raise TypeError(f"In({variable}): a shared variable is no input (functions "
                            f"read it themselves); give its update in updates=[...]")
        if update is not None and (
                getattr(update.type, "dtype", None) != getattr(variable.type, "dtype", None)
                or getattr(update.type, "ndim", None) != getattr(variable.type, "ndim", None)):
            raise TypeError(f"In({variable}): the update must have the input's type "
                            f"{variable.type}, got {update} of type {update.type}")
        if update is not None and value is None:
            raise ValueError(f"In({variable}): an input with an update needs a value "
                             f"(its initial state), e.g. In(s, update=..., value=0.0)")
        self.variable = variable
        self.name = variable.name if name is None and autoname else name
        self.value = value
        self.has_default = value is not None
        self.update = update
        self.mutable = mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow
        if implicit is None:
            implicit = isinstance(value, Storage)
        if implicit and value is None:
            raise ValueError(f"In({variable}): implicit=True needs a value (the caller "
                             f"cannot pass one)")
        self.implicit = bool(implicit)

    @property
    def stateful(self):
        """The function keeps this input's value between calls."""
        return self.update is not None or self.implicit

    def __repr__(self):
        return f"In({self.variable}, name={self.name!r})"


def Param(variable, default=None, name=None, mutable=False, strict=False,
          allow_downcast=None, implicit=None, borrow=None):
    """Theano's older spelling of an input with a default value:
    ``Param(x, default=1.0)`` is ``In(x, value=1.0)``.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x, y = T.scalars('x', 'y')
    >>> f = symnet.function([x, Param(y, default=2.0)], x * y)
    >>> float(f(3.0)), float(f(3.0, 4.0))
    (6.0, 12.0)
    """
    return In(variable, name=name, value=default, mutable=mutable, strict=strict,
              allow_downcast=allow_downcast, implicit=implicit, borrow=bool(borrow))


def as_in(item):
    """``item`` of a function's input list as an ``In`` (Theano's shortcuts).

    ``r``; ``(name, r)``; ``(r, value)``; ``((r, update), value)``;
    ``(name, r, value)``; ``(name, (r, update), value)``.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> s, x = T.scalar('s'), T.scalar('x')
    >>> spec = as_in(('total', (s, s + x), 0.0))
    >>> spec.name, spec.value, spec.update is not None
    ('total', 0.0, True)
    """
    if isinstance(item, In):
        return item
    if isinstance(item, Variable):
        return In(item)
    if isinstance(item, (tuple, list)):
        if len(item) == 2 and isinstance(item[0], str):
            return In(item[1], name=item[0])
        name = None
        if len(item) == 3 and isinstance(item[0], str):
            name, item = item[0], item[1:]
        if len(item) == 2:
            head, value = item
            if isinstance(head, (tuple, list)) and len(head) == 2:
                return In(head[0], name=name, value=value, update=head[1])
            if isinstance(head, Variable):
                return In(head, name=name, value=value)
    raise TypeError(f"function input {item!r} is not a variable, an In, or one of "
                    f"(name, r), (r, value), ((r, update), value), (name, r, value), "
                    f"(name, (r, update), value)")


class Out:
    """An output; ``borrow=True`` allows returning internal storage."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow
