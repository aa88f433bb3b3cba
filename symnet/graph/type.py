"""The Type contract: what a Variable may hold, checked at the graph edge."""

__all__ = ["Type", "Generic", "generic"]


class Type:
    """Base of every variable type.

    A type is a value object: two types that describe the same set of values
    compare equal.  ``filter`` converts (or refuses) a runtime value.
    """

    def filter(self, value, strict=False, allow_downcast=None):
        raise NotImplementedError(f"{type(self).__name__}.filter")

    def filter_named(self, value, name, strict=False, allow_downcast=None):
        """``filter`` with the error naming ``name`` (the variable, the
        input); what compile/ calls. A type whose ``filter`` takes the
        standard arguments only (a user's type, as Theano's docs write
        them) gets its message prefixed with the name."""
        try:
            return self.filter(value, strict=strict, allow_downcast=allow_downcast)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc

    def make_variable(self, name=None):
        from .basic import Variable
        return Variable(self, name=name)

    def __call__(self, name=None):
        return self.make_variable(name)

    def is_compatible(self, other):
        return self == other

    # -- hooks the graph layer calls; the layers above implement them ------------
    # (graph/ must not import tensor/: a type speaks for its own values)

    #: whether constant folding may replace an output of this type by a constant
    can_fold = False

    def folded_constant(self, value):
        """A Constant of this type's family holding ``value``, the result of
        constant folding an output of this type; None to leave it unfolded."""
        return None

    def as_variable(self, value):
        """A Variable for the plain value ``value`` given where a variable of
        this type is expected (e.g. a ``clone_replace`` replacement)."""
        raise TypeError(f"cannot use the value {value!r} in place of a variable of "
                        f"type {self}: pass a Variable")


class Generic(Type):
    """Any Python object (a file name, a dict, a list): Theano's ``Generic``.

    Values pass through unchanged; ops that take them (``T.load``'s path)
    check them when they run.

    Examples
    --------
    >>> from symnet.graph.basic import Variable
    >>> path = Variable(Generic(), name='path')
    >>> path.type.filter('weights.npy')
    'weights.npy'
    """

    def filter(self, value, strict=False, allow_downcast=None, name=None):
        return value

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "Generic"

    __repr__ = __str__


#: the one instance programs use (``theano.gof.generic``)
generic = Generic()
