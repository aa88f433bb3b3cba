"""Lasagne's cuDNN layers (``lasagne.layers.dnn``) on symnet's ops.

(This file is not ``layers/dnn.py``: ``from lasagne.layers import dnn``
would find it even without a GPU, where Lasagne raises ImportError.)

Lasagne wrote these on Theano's cuDNN functions; here they are written on
symnet's (:mod:`symnet.theano_gpu`: ``dnn_conv`` is ``T.nnet.conv2d``,
``dnn_pool`` is ``pool_2d``), so each computes what its CPU counterpart
computes, on whichever backend compiles the function: with
``THEANO_FLAGS=device=cuda`` that is the CUDA backend. Through
``symnet.compat`` (``import lasagne.layers.dnn``) the module imports only
while a GPU device is in use, raising Lasagne's ImportError otherwise, so
programs that try it and fall back to the CPU layers keep doing so.

What differs from the CPU layers is Lasagne's: the convolutions default
to ``flip_filters=False`` (cuDNN's cross-correlation, like Caffe's
weights), the pooling layers ignore borders (``ignore_border=False`` is
NotImplementedError) and :class:`BatchNormDNNLayer` normalizes over axis 0
or over all but axis 1 only.

Examples
--------
>>> from symnet.layers import InputLayer
>>> from symnet.layers.cudnn import Conv2DDNNLayer, MaxPool2DDNNLayer
>>> l = MaxPool2DDNNLayer(Conv2DDNNLayer(InputLayer((None, 3, 8, 8)), 4, 3, pad=1), 2)
>>> l.output_shape, l.input_layer.flip_filters
((None, 4, 4, 4), False)
"""
from .. import init
from .. import nonlinearities
from ..theano_gpu import dnn_conv, dnn_conv3d, dnn_pool
from .base import _layer_label
from .conv import BaseConvLayer
from .normalization import BatchNormLayer, _normalize_layer
from .pool import Pool2DLayer, Pool3DLayer, SpatialPyramidPoolingLayer

__all__ = ["Pool2DDNNLayer", "MaxPool2DDNNLayer", "Pool3DDNNLayer", "MaxPool3DDNNLayer",
           "Conv2DDNNLayer", "Conv3DDNNLayer", "SpatialPyramidPoolingDNNLayer",
           "BatchNormDNNLayer", "batch_norm_dnn"]


def _no_partial_windows(layer, ignore_border):
    if not ignore_border:
        raise NotImplementedError(f"{type(layer).__name__} ({_layer_label(layer)}) does not "
                                  f"support ignore_border=False")


class Pool2DDNNLayer(Pool2DLayer):
    """2-d pooling with cuDNN's rules: :class:`Pool2DLayer` with
    ``ignore_border=True`` only; ``mode`` 'max', 'average_inc_pad' or
    'average_exc_pad'."""

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, pool_size, stride, pad, True, mode, **kwargs)
        _no_partial_windows(self, ignore_border)

    def get_output_for(self, input, **kwargs):
        return dnn_pool(input, self.pool_size, self.stride, self.mode, self.pad)


class MaxPool2DDNNLayer(Pool2DDNNLayer):
    """:class:`Pool2DDNNLayer` with ``mode='max'``."""

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class Pool3DDNNLayer(Pool3DLayer):
    """3-d pooling with cuDNN's rules (see :class:`Pool2DDNNLayer`)."""

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0, 0), ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, pool_size, stride, pad, True, mode, **kwargs)
        _no_partial_windows(self, ignore_border)

    get_output_for = Pool2DDNNLayer.get_output_for


class MaxPool3DDNNLayer(Pool3DDNNLayer):
    """:class:`Pool3DDNNLayer` with ``mode='max'``."""

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0, 0), ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


def _border_mode(layer):
    # Lasagne's 'same' is half the filter size on each side (odd sizes)
    if layer.pad == "same":
        return tuple(s // 2 for s in layer.filter_size)
    return layer.pad


class Conv2DDNNLayer(BaseConvLayer):
    """2-d convolution through :func:`~symnet.theano_gpu.dnn_conv`:
    :class:`~symnet.layers.Conv2DLayer`'s parameters, but ``flip_filters``
    defaults to False (cross-correlation) and there is no ``convolution``."""

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1), pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=False, num_groups=1,
                 **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, n=2, num_groups=num_groups, **kwargs)

    def convolve(self, input, **kwargs):
        return dnn_conv(input, self.W, border_mode=_border_mode(self), subsample=self.stride,
                        conv_mode="conv" if self.flip_filters else "cross",
                        num_groups=self.num_groups)


class Conv3DDNNLayer(BaseConvLayer):
    """3-d convolution through :func:`~symnet.theano_gpu.dnn_conv3d` (see
    :class:`Conv2DDNNLayer`)."""

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1, 1), pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=False, num_groups=1,
                 **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, n=3, num_groups=num_groups, **kwargs)

    def convolve(self, input, **kwargs):
        return dnn_conv3d(input, self.W, border_mode=_border_mode(self),
                          subsample=self.stride,
                          conv_mode="conv" if self.flip_filters else "cross",
                          num_groups=self.num_groups)


class SpatialPyramidPoolingDNNLayer(SpatialPyramidPoolingLayer):
    """:class:`~symnet.layers.SpatialPyramidPoolingLayer` with its 'fast'
    windows (``ceil(n / p)`` every ``floor(n / p)``), which are cuDNN's."""

    def __init__(self, incoming, pool_dims=[4, 2, 1], mode="max", **kwargs):
        super().__init__(incoming, pool_dims, mode, implementation="fast", **kwargs)


class BatchNormDNNLayer(BatchNormLayer):
    """:class:`~symnet.layers.BatchNormLayer` over axis 0 or over all axes
    but 1 (the two cuDNN modes); other ``axes`` are a ValueError."""

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1,
                 beta=init.Constant(0), gamma=init.Constant(1), mean=init.Constant(0),
                 inv_std=init.Constant(1), **kwargs):
        super().__init__(incoming, axes, epsilon, alpha, beta, gamma, mean, inv_std,
                         **kwargs)
        all_but_second = (0,) + tuple(range(2, len(self.input_shape)))
        if self.axes not in ((0,), all_but_second):
            raise ValueError(f"BatchNormDNNLayer ({_layer_label(self)}) only supports "
                             f"normalization across the first axis, or across all but the "
                             f"second axis, got axes={axes!r}")


def batch_norm_dnn(layer, **kwargs):
    """:func:`~symnet.layers.batch_norm` with a :class:`BatchNormDNNLayer`."""
    return _normalize_layer(layer, BatchNormDNNLayer, kwargs)
