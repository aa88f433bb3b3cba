"""``InputLayer``: where data enters a network.

It holds the symbolic variable that stands for the network's input; every
other layer reaches it by following ``input_layer`` links.
"""
from collections import OrderedDict

from ..configdefaults import config
from ..graph.basic import Variable
from .base import Layer, NdimError, _check_kwargs

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """A layer holding the symbolic input variable of a network.

    Parameters
    ----------
    shape : tuple
        The input's shape; None (or a symbolic size) for sizes only known
        when the network runs, typically the batch size.
    input_var : Variable, optional
        The variable to use; by default a new one of dtype
        ``config.floatX`` whose axes of size 1 broadcast.
    name : str, optional

    Raises
    ------
    ValueError
        For a non-positive size, or an ``input_var`` of another ndim.

    Examples
    --------
    >>> from symnet.layers import InputLayer
    >>> l_in = InputLayer((None, 1, 28, 28))
    >>> l_in.output_shape, l_in.input_var.ndim, l_in.input_var.broadcastable
    ((None, 1, 28, 28), 4, (False, True, False, False))
    """

    def __init__(self, shape, input_var=None, name=None, **kwargs):
        _check_kwargs(self, kwargs)
        try:
            self.shape = tuple(shape)
        except TypeError:
            raise TypeError(f"InputLayer: shape must be a tuple, got {shape!r}") from None
        if any(d is not None and not isinstance(d, Variable) and d <= 0
               for d in self.shape):
            raise ValueError(f"Cannot create InputLayer with a non-positive shape "
                             f"dimension: shape={self.shape}")
        ndim = len(self.shape)
        if input_var is None:
            from ..tensor.type import TensorType
            # Only size-1 axes are fixed, as Lasagne fixes only the broadcastable
            # pattern: the batch size may change between calls.
            bcast = tuple(s == 1 for s in self.shape)
            var_name = f"{name}.input" if name is not None else "input"
            input_var = TensorType(config.floatX, bcast).make_variable(name=var_name)
        elif not isinstance(input_var, Variable):
            raise TypeError(f"InputLayer: input_var must be a symbolic variable, got "
                            f"{type(input_var).__name__}")
        elif input_var.ndim != ndim:
            raise NdimError(f"InputLayer: shape {self.shape} has {ndim} dimensions, but "
                            f"variable {input_var} has {input_var.ndim}")
        self.input_var = input_var
        self.name = name
        self.params = OrderedDict()
        # no input_shape / input_layer, as Lasagne's InputLayer: programs walk
        # a network with `while hasattr(layer, "input_layer")` (sknn)

    @Layer.output_shape.getter
    def output_shape(self):
        return self.shape
