"""Function input/output specifications (``In`` with defaults, ``Out``)."""

__all__ = ["In", "Out"]


class In:
    """An input with an optional default ``value`` and keyword ``name``.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x, y = T.scalars('x', 'y')
    >>> f = symnet.function([x, In(y, value=1.0)], x + y)
    >>> float(f(2.0)), float(f(2.0, 3.0)), float(f(2.0, y=5.0))
    (3.0, 5.0, 7.0)
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 strict=False, allow_downcast=None, borrow=False, implicit=False):
        self.variable = variable
        self.name = name if name is not None else variable.name
        self.value = value
        self.has_default = value is not None
        self.update = update
        self.mutable = mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow
        self.implicit = implicit


class Out:
    """An output; ``borrow=True`` allows returning internal storage."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow
