"""Neural-network ops: softmax, log_softmax, crossentropies, and the
elementwise compositions relu, elu, softplus."""
from .elemwise import SCALAR_OPS, elemwise

__all__ = ["softplus"]


def softplus(x):
    """``log(1 + exp(x))``, computed stably."""
    return elemwise(SCALAR_OPS["softplus"], x)
