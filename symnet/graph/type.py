"""The Type contract: what a Variable may hold, checked at the graph edge."""

__all__ = ["Type"]


class Type:
    """Base of every variable type.

    A type is a value object: two types that describe the same set of values
    compare equal.  ``filter`` converts (or refuses) a runtime value.
    """

    def filter(self, value, strict=False, allow_downcast=None):
        raise NotImplementedError(f"{type(self).__name__}.filter")

    def make_variable(self, name=None):
        from .basic import Variable
        return Variable(self, name=name)

    def __call__(self, name=None):
        return self.make_variable(name)

    def is_compatible(self, other):
        return self == other
