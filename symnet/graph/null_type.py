"""NullType and DisconnectedType: the types of a gradient that does not
exist, or does not flow.

An op's ``grad``/``L_op`` may return ``NullType(why)()`` for an input whose
gradient is undefined (Theano's way; ``grad_undefined`` is symnet's).
``symnet.grad`` raises ``NullTypeGradError`` with the reason only when that
gradient is needed. A NullType variable holds no value: it can never reach
a compiled function.
"""
from .type import Type

__all__ = ["NullType", "DisconnectedType"]


class _NoValueType(Type):
    """A type whose variables only carry a message through ``grad``: every
    instance is the same type, and no value fits it."""

    why = "it holds no value"

    def filter(self, value, strict=False, allow_downcast=None):
        raise ValueError(f"a {self} variable holds no value ({self.why}); got {value!r}")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return type(self).__name__

    __repr__ = __str__


class DisconnectedType(_NoValueType):
    """The type of a gradient that is disconnected: an op's ``grad`` may
    return ``DisconnectedType()()`` for an input no output depends on, and
    ``known_grads={v: DisconnectedType()()}`` says that nothing flows back
    from ``v``; ``grad`` treats both as no path at all."""

    why = "a disconnected gradient"


class NullType(_NoValueType):
    """The type of an undefined gradient; ``why_null`` says why.

    Examples
    --------
    >>> from symnet.graph.null_type import NullType
    >>> v = NullType("no gradient through argmax")()
    >>> v.type.why_null
    'no gradient through argmax'
    >>> NullType() == NullType("other reason")
    True
    """

    def __init__(self, why_null="(no explanation given)"):
        self.why_null = why_null

    @property
    def why(self):
        return self.why_null
