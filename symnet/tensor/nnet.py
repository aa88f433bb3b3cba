"""``theano.tensor.nnet``: activations, softmax, crossentropies, conv."""
from .ops.nnet import *  # noqa: F401,F403
from .ops.elemwise import SCALAR_OPS as _S, elemwise as _elemwise


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise."""
    return _elemwise(_S["sigmoid"], x)
