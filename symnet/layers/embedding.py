"""``EmbeddingLayer``: integer indices to rows of a learned matrix."""
from .. import init
from .base import Layer

__all__ = ["EmbeddingLayer"]


class EmbeddingLayer(Layer):
    """Look up a learned vector for each integer index in the input.

    Parameters
    ----------
    incoming : Layer or tuple
        Integer input of any shape.
    input_size : int
        Number of distinct indices (rows of ``W``).
    output_size : int
        Length of each embedding vector.
    W : parameter spec, shape ``(input_size, output_size)``

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> from symnet.layers import InputLayer, EmbeddingLayer, get_output
    >>> l_in = InputLayer((None, 3), input_var=T.imatrix())
    >>> l = EmbeddingLayer(l_in, input_size=5, output_size=2,
    ...                    W=np.arange(10, dtype='float32').reshape(5, 2))
    >>> l.output_shape
    (None, 3, 2)
    >>> get_output(l, np.array([[0, 4, 1]], 'int32')).eval(mode="py").tolist()
    [[[0.0, 1.0], [8.0, 9.0], [2.0, 3.0]]]
    """

    def __init__(self, incoming, input_size, output_size, W=init.Normal(), **kwargs):
        super().__init__(incoming, **kwargs)
        self.input_size = input_size
        self.output_size = output_size
        self.W = self.add_param(W, (input_size, output_size), name="W")

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape) + (self.output_size,)

    def get_output_for(self, input, **kwargs):
        return self.W[input]
