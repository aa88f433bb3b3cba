"""Graph shapes that once made compiles slow (issue 13), built for tests of
the kernel budget and of linear rewriting: deep chains, wide sums."""
import symnet
import symnet.tensor as T

__all__ = ["chain", "wide_sum"]


def chain(depth):
    """``y = tanh(y) * 0.5 + 0.1``, ``depth`` links deep, and its gradient
    (about ten nodes a link): ``([x], [cost, dcost/dx])``."""
    x = T.vector("x")
    y = x
    for _ in range(depth):
        y = T.tanh(y) * 0.5 + 0.1
    c = T.sum(y)
    return [x], [c, symnet.grad(c, x)]


def wide_sum(terms):
    """A Python ``sum()`` of ``tanh(x * c)`` terms and its gradient."""
    x = T.vector("x")
    y = sum(T.tanh(x * float(i + 1)) for i in range(terms))
    c = T.sum(y)
    return [x], [c, symnet.grad(c, x)]
