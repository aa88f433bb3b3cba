"""Convolutional layers with Lasagne 0.2's names, parameters and shapes.

All layers work on ``(batch, channels, spatial...)`` inputs and build their
output from the ``conv2d`` ops of ``symnet/tensor/ops/conv.py``; the 1-d
layer runs a 2-d convolution over a dummy axis of size one.

Padding (``pad``) follows Lasagne: an int or tuple of ints, ``'valid'``
(no padding), ``'full'`` (``filter_size - 1`` on each side) or ``'same'``
(output as long as the input, before striding).  For odd filter sizes
``'same'`` pads ``filter_size // 2`` on each side; for even ones it pads
``filter_size // 2`` and drops the last output position, i.e. one more zero
before the input than after it.

Examples
--------
>>> from symnet.layers import InputLayer, Conv2DLayer
>>> l = Conv2DLayer(InputLayer((None, 3, 32, 32)), num_filters=16, filter_size=5)
>>> l.W.get_value().shape, l.output_shape
((16, 3, 5, 5), (None, 16, 28, 28))
"""
import inspect

from .. import init
from .. import nonlinearities
from .. import tensor as T
from ..graph.basic import Variable
from ..tensor.ops.conv import conv2d, conv2d_grad_wrt_inputs
from ..theano_extensions.conv import conv1d_mc0
from ..utils import as_tuple, int_types
from .base import Layer, NdimError, _layer_label, _nonlinearity

__all__ = ["Conv1DLayer", "Conv2DLayer", "Conv3DLayer", "TransposedConv2DLayer",
           "Deconv2DLayer", "TransposedConv3DLayer", "Deconv3DLayer",
           "DilatedConv2DLayer", "conv_output_length", "conv_input_length",
           "BaseConvLayer"]


def _int_tuple(x, n):
    """``as_tuple`` for sizes: numpy integers accepted, Python ints kept."""
    return tuple(int(v) for v in as_tuple(x, n, int_types))


def conv_output_length(input_length, filter_size, stride, pad=0):
    """The length of a convolution's output along one axis.

    Parameters
    ----------
    input_length : int or None
    filter_size : int
    stride : int
    pad : int, 'valid', 'full' or 'same'

    Returns
    -------
    int or None
        None when ``input_length`` is None.

    Examples
    --------
    >>> conv_output_length(32, 5, 1, 'valid'), conv_output_length(32, 5, 2, 'same')
    (28, 16)
    >>> conv_output_length(None, 3, 1, 'full') is None
    True
    """
    if input_length is None:
        return None
    if pad == "valid":
        length = input_length - filter_size + 1
    elif pad == "full":
        length = input_length + filter_size - 1
    elif pad == "same":
        length = input_length
    elif isinstance(pad, int):
        length = input_length + 2 * pad - filter_size + 1
    else:
        raise ValueError(f"Invalid pad: {pad!r} (expected an int, 'valid', 'full' or "
                         f"'same')")
    # ceil(length / stride) in integer arithmetic
    return (length + stride - 1) // stride


def conv_input_length(output_length, filter_size, stride, pad=0):
    """The smallest input length a convolution maps to ``output_length``.

    This is the output length of the transposed convolution (``pad`` then
    means cropping).

    Parameters
    ----------
    output_length : int or None
    filter_size : int
    stride : int
    pad : int, 'valid', 'full' or 'same'

    Returns
    -------
    int or None

    Examples
    --------
    >>> conv_input_length(28, 5, 1, 'valid'), conv_input_length(16, 3, 2, 'same')
    (32, 31)
    """
    if output_length is None:
        return None
    if pad == "valid":
        pad = 0
    elif pad == "full":
        pad = filter_size - 1
    elif pad == "same":
        pad = filter_size // 2
    if not isinstance(pad, int):
        raise ValueError(f"Invalid pad: {pad!r} (expected an int, 'valid', 'full' or "
                         f"'same')")
    return (output_length - 1) * stride - 2 * pad + filter_size


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1, 1), filter_flip=True, num_groups=1):
    """3-d convolution of ``(batch, channels, depth, rows, cols)`` inputs with
    ``(out_channels, channels / num_groups, depth, rows, cols)`` filters,
    built from one (grouped) 2-d convolution per filter depth tap (depth
    folded into the batch).

    ``border_mode`` is 'valid', 'full', 'half', an int or a triple; the
    filter depth must be known when the graph is built.
    """
    fd = filter_shape[2] if filter_shape is not None else filters.type.shape[2]
    if fd is None:
        raise ValueError(f"conv3d needs a filter depth known at build time, got filters "
                         f"{filters} of shape {filters.type.shape}")
    if isinstance(border_mode, str):
        pd = {"valid": 0, "full": fd - 1, "half": fd // 2}[border_mode]
        hw_mode = border_mode
    else:
        pads = as_tuple(border_mode, 3)
        pd, hw_mode = pads[0], tuple(pads[1:])
    sd = subsample[0]
    if pd:
        zeros = T.zeros([input.shape[0], input.shape[1], pd, input.shape[3],
                         input.shape[4]], dtype=input.dtype)
        input = T.concatenate([zeros, input, zeros], axis=2)
    b, c, depth = input.shape[0], input.shape[1], input.shape[2]
    # every depth slice becomes a batch entry of the 2-d convolutions
    slices = input.dimshuffle(0, 2, 1, 3, 4).reshape(
        [b * depth, c, input.shape[3], input.shape[4]])
    out_depth = (depth - fd) // sd + 1
    out = None
    for u in range(fd):
        tap = fd - 1 - u if filter_flip else u
        y = conv2d(slices, filters[:, :, tap], border_mode=hw_mode,
                   subsample=tuple(subsample[1:]), filter_flip=filter_flip,
                   num_groups=num_groups)
        y = y.reshape([b, depth, y.shape[1], y.shape[2], y.shape[3]])
        # output depth d takes input slice d * sd + u from this tap
        y = y[:, u:u + sd * (out_depth - 1) + 1:sd]
        out = y if out is None else out + y
    return out.dimshuffle(0, 2, 1, 3, 4)


def _check_fits(layer):
    """Positive filter sizes and strides, and a filter no larger than its
    (padded) input where the input size is known: a clear error at build
    time instead of an output of size 0."""
    for what in ("filter_size", "stride"):
        if any(v < 1 for v in getattr(layer, what)):
            raise ValueError(f"{_layer_label(layer)}: {what} must be positive, got "
                             f"{getattr(layer, what)}")
    out = layer.get_output_shape_for(layer.input_shape)[2:]
    for axis, (size, length) in enumerate(zip(layer.input_shape[2:], out)):
        if size is not None and length is not None and length < 1:
            raise ValueError(
                f"{_layer_label(layer)}: the filter (size {layer.filter_size[axis]}) is "
                f"larger than the input (size {size}, pad {layer.pad}) along spatial axis "
                f"{axis}; the output would be empty. Use a smaller filter_size or pad")


def _takes_groups(convolution):
    """Whether ``convolution`` has a ``num_groups`` keyword."""
    try:
        return "num_groups" in inspect.signature(convolution).parameters
    except (TypeError, ValueError):     # no signature to read (a builtin, a C callable)
        return False


def _check_groups(layer, num_groups, num_filters):
    """Validate a grouped convolution's ``num_groups``; return it as an int."""
    if not isinstance(num_groups, int_types) or num_groups <= 0:
        raise ValueError(f"{_layer_label(layer)}: num_groups must be positive, got "
                         f"{num_groups!r}")
    if num_groups != 1 and not layer._groups_supported:
        raise NotImplementedError(f"{_layer_label(layer)} does not support grouped "
                                  f"convolutions (num_groups={num_groups})")
    channels = layer.input_shape[1]
    for what, size in (("input channels", channels), ("filters", num_filters)):
        if size % num_groups:
            raise ValueError(f"{_layer_label(layer)}: num_groups ({num_groups}) must evenly "
                             f"divide the number of {what} ({size})")
    return int(num_groups)


class BaseConvLayer(Layer):
    """The common base of Lasagne's convolutional layers.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, spatial...)``.
    num_filters : int
    filter_size : int or tuple of int
    stride : int or tuple of int
    pad : int, tuple of int, 'valid', 'full' or 'same'
        See the module docstring.
    untie_biases : bool
        One bias per filter and output position (shape
        ``(num_filters,) + output spatial shape``) instead of one per filter.
    W : parameter spec, shape :meth:`get_W_shape`
    b : parameter spec or None
    nonlinearity : callable or None
    flip_filters : bool
        True: a true convolution (filters flipped); False: a correlation.
    n : int or None
        Number of spatial dimensions; by default ``len(input_shape) - 2``.
    num_groups : int
        Grouped convolution: input channels and filters are split into this
        many groups, filter group ``k`` seeing channel group ``k`` only (it
        must divide both counts).

    Subclasses implement :meth:`convolve`.
    """

    _groups_supported = True  # False where convolve ignores num_groups

    def __init__(self, incoming, num_filters, filter_size, stride=1, pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True, n=None,
                 num_groups=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = _nonlinearity(self, nonlinearity)
        ndim = len(self.input_shape)
        if n is None:
            n = ndim - 2
        elif n != ndim - 2:
            raise NdimError(f"Tried to create a {n}D convolution layer ({_layer_label(self)})"
                            f" with input shape {self.input_shape}. Expected {n + 2} input "
                            f"dimensions (batchsize, channels, {n} spatial dimensions).")
        if n < 1:
            raise ValueError(f"{_layer_label(self)} needs an input with at least 3 "
                             f"dimensions (batch, channels, spatial...), got "
                             f"{self.input_shape}")
        self.n = n
        self.num_filters = num_filters
        self.filter_size = _int_tuple(filter_size, n)
        self.flip_filters = flip_filters
        self.stride = _int_tuple(stride, n)
        self.untie_biases = untie_biases
        if pad == "valid":
            self.pad = as_tuple(0, n)
        elif pad in ("full", "same"):
            self.pad = pad
        else:
            self.pad = _int_tuple(pad, n)
        if self.input_shape[1] is None:
            raise ValueError(f"{_layer_label(self)} needs a known number of input "
                             f"channels (axis 1), got input shape {self.input_shape}")
        self.num_groups = _check_groups(self, num_groups, num_filters)
        _check_fits(self)
        self.W = self.add_param(W, self.get_W_shape(), name="W")
        if b is None:
            self.b = None
        else:
            if untie_biases:
                spatial = tuple(self.output_shape[2:])
                if any(s is None for s in spatial):
                    raise ValueError(f"{_layer_label(self)}: untie_biases=True needs known "
                                     f"output sizes, got output shape {self.output_shape}")
                biases_shape = (num_filters,) + spatial
            else:
                biases_shape = (num_filters,)
            self.b = self.add_param(b, biases_shape, name="b", regularizable=False)

    def get_W_shape(self):
        """Shape of the weights: ``(num_filters, num_input_channels // num_groups) +
        filter_size``."""
        return (self.num_filters, self.input_shape[1] // self.num_groups) + self.filter_size

    def get_output_shape_for(self, input_shape):
        pad = self.pad if isinstance(self.pad, tuple) else (self.pad,) * self.n
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(size, f, s, p)
            for size, f, s, p in zip(input_shape[2:], self.filter_size, self.stride, pad))

    def get_output_for(self, input, **kwargs):
        conved = self.convolve(input, **kwargs)
        if self.b is None:
            activation = conved
        elif self.untie_biases:
            activation = conved + T.shape_padleft(self.b, 1)
        else:
            activation = conved + self.b.dimshuffle(("x", 0) + ("x",) * self.n)
        return self.nonlinearity(activation)

    def convolve(self, input, **kwargs):
        """The convolution of ``input`` with ``self.W`` (no bias, no
        nonlinearity)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement convolve")

    # -- helpers for the forward layers ------------------------------------
    def _forward_convolve(self, input):
        """``self.convolution`` (Theano's ``conv2d`` keywords) applied with
        this layer's stride, padding and flipping; the convolve of the
        Conv1D/2D/3D layers."""
        border_mode, crop = self._border_mode()
        g = self.num_groups
        if g > 1 and _takes_groups(self.convolution):
            # one grouped convolution (as Lasagne passes num_groups on)
            conved = self.convolution(input, self.W, self.input_shape, self.get_W_shape(),
                                      subsample=self.stride, border_mode=border_mode,
                                      filter_flip=self.flip_filters, num_groups=g)
            return self._crop_same(conved, input) if crop else conved
        # a convolution without num_groups: one call per group
        cin, fout = self.input_shape[1] // g, self.num_filters // g
        in_shape = self.input_shape[:1] + (cin,) + tuple(self.input_shape[2:])
        # filters [k F/g, (k+1) F/g) see input channels [k C/g, (k+1) C/g)
        parts = [self.convolution(input[:, k * cin:(k + 1) * cin] if g > 1 else input,
                                  self.W[k * fout:(k + 1) * fout] if g > 1 else self.W,
                                  in_shape, (fout,) + self.get_W_shape()[1:],
                                  subsample=self.stride, border_mode=border_mode,
                                  filter_flip=self.flip_filters) for k in range(g)]
        conved = parts[0] if g == 1 else T.concatenate(parts, axis=1)
        return self._crop_same(conved, input) if crop else conved

    def _border_mode(self):
        """The op's border mode for ``self.pad``, and whether the output must
        be cropped afterwards (even filter sizes with 'same')."""
        if self.pad == "same":
            if all(f % 2 == 1 for f in self.filter_size):
                return "half", False
            return tuple(f // 2 for f in self.filter_size), True
        if self.pad == "full":
            return "full", False
        return self.pad, False

    def _crop_same(self, conved, input):
        """Keep the first ceil(n / stride) positions of each spatial axis:
        padding ``f // 2`` on both sides gave one too many for even ``f``."""
        index = [slice(None), slice(None)]
        for k, (f, s) in enumerate(zip(self.filter_size, self.stride)):
            if f % 2 == 1:
                index.append(slice(None))
                continue
            size = self.input_shape[2 + k]
            if size is None:
                size = input.shape[2 + k]
            index.append(slice(None, (size + s - 1) // s))
        return conved[tuple(index)]


class Conv1DLayer(BaseConvLayer):
    """1-d convolution over inputs of shape ``(batch, channels, length)``.

    Parameters are those of :class:`BaseConvLayer` plus ``convolution``, a
    function with Theano's ``conv2d`` keywords applied to 3-d tensors.
    ``W`` has shape ``(num_filters, num_input_channels, filter_size)``.

    Examples
    --------
    >>> from symnet.layers import Conv1DLayer
    >>> Conv1DLayer((None, 2, 10), num_filters=4, filter_size=3, pad='same').output_shape
    (None, 4, 10)
    """

    def __init__(self, incoming, num_filters, filter_size, stride=1, pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True,
                 convolution=conv1d_mc0, num_groups=1, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W,
                         b, nonlinearity, flip_filters, n=1, num_groups=num_groups, **kwargs)
        self.convolution = convolution

    def convolve(self, input, **kwargs):
        return self._forward_convolve(input)


class Conv2DLayer(BaseConvLayer):
    """2-d convolution over inputs of shape ``(batch, channels, rows, cols)``.

    Parameters are those of :class:`BaseConvLayer` plus ``convolution``
    (default :func:`symnet.tensor.nnet.conv2d`).  ``W`` has shape
    ``(num_filters, num_input_channels, filter_rows, filter_cols)``.

    Examples
    --------
    >>> import numpy as np, symnet
    >>> from symnet.layers import InputLayer, Conv2DLayer, get_output
    >>> l_in = InputLayer((None, 1, 4, 4))
    >>> l = Conv2DLayer(l_in, 1, 3, pad='same', W=np.ones((1, 1, 3, 3), 'float32'))
    >>> f = symnet.function([l_in.input_var], get_output(l), mode='py')
    >>> f(np.ones((1, 1, 4, 4), 'float32'))[0, 0, 0]
    array([4., 6., 6., 4.], dtype=float32)
    """

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1), pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True, convolution=conv2d,
                 num_groups=1, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W,
                         b, nonlinearity, flip_filters, n=2, num_groups=num_groups, **kwargs)
        self.convolution = convolution

    def convolve(self, input, **kwargs):
        return self._forward_convolve(input)


class Conv3DLayer(BaseConvLayer):
    """3-d convolution over inputs of shape ``(batch, channels, depth, rows,
    cols)``.

    Parameters are those of :class:`BaseConvLayer` plus ``convolution``
    (default: a 3-d convolution built from 2-d ones, one per filter depth
    tap).  ``W`` has shape ``(num_filters, num_input_channels) + filter_size``.

    Examples
    --------
    >>> from symnet.layers import Conv3DLayer
    >>> Conv3DLayer((None, 2, 5, 6, 7), 4, 3, pad='same').output_shape
    (None, 4, 5, 6, 7)
    """

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1, 1), pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True, convolution=conv3d,
                 num_groups=1, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W,
                         b, nonlinearity, flip_filters, n=3, num_groups=num_groups, **kwargs)
        self.convolution = convolution

    def convolve(self, input, **kwargs):
        return self._forward_convolve(input)


class TransposedConv2DLayer(BaseConvLayer):
    """Transposed 2-d convolution (also called deconvolution or fractionally
    strided convolution): the gradient of a :class:`Conv2DLayer` with respect
    to its input, used as a forward pass.

    Parameters
    ----------
    incoming, num_filters, filter_size, stride, untie_biases, b, nonlinearity
        As for :class:`Conv2DLayer`.
    crop : int, tuple of int, 'valid', 'full' or 'same'
        What the matching forward convolution padded; cropped here.
    W : parameter spec
        Shape ``(num_input_channels, num_filters, rows, cols)``: the first two
        sizes are swapped compared with :class:`Conv2DLayer`, so a forward
        layer's ``W`` can be shared.
    flip_filters : bool
        Default False (a correlation of the upsampled input with ``W``); this
        flag is inverted compared to a normal convolution layer.
    output_size : int, pair of int or symbolic vector, optional
        The output's spatial size; by default the smallest possible.  With a
        stride above one, up to ``stride - 1`` larger sizes are also valid.

    Examples
    --------
    >>> from symnet.layers import TransposedConv2DLayer
    >>> TransposedConv2DLayer((None, 8, 14, 14), 3, 4, stride=2, crop=1).output_shape
    (None, 3, 28, 28)
    """

    _spatial_dims = 2  # TransposedConv3DLayer reuses this constructor with 3
    _groups_supported = False

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1), crop=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=False, output_size=None,
                 **kwargs):
        n = self._spatial_dims
        # output_size must be known before the base class computes shapes
        if output_size is not None and not isinstance(output_size, Variable):
            output_size = _int_tuple(output_size, n)
        self.output_size = output_size
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W,
                         b, nonlinearity, flip_filters, n=n, **kwargs)
        # the base class stored the argument as pad; it means cropping here
        self.crop = self.pad
        del self.pad
        if self.crop == "same" and any(f % 2 == 0 for f in self.filter_size):
            raise NotImplementedError(f"{_layer_label(self)}: crop='same' requires odd "
                                      f"filter sizes, got {self.filter_size}")

    def get_W_shape(self):
        """``(num_input_channels, num_filters) + filter_size``."""
        return (self.input_shape[1], self.num_filters) + self.filter_size

    def get_output_shape_for(self, input_shape):
        if self.output_size is not None:
            size = self.output_size
            if isinstance(size, Variable):
                size = (None, None)
            return (input_shape[0], self.num_filters, size[0], size[1])
        # called from the base constructor the argument is still self.pad
        crop = getattr(self, "crop", getattr(self, "pad", None))
        crop = crop if isinstance(crop, tuple) else (crop,) * self.n
        return (input_shape[0], self.num_filters) + tuple(
            conv_input_length(size, f, s, c)
            for size, f, s, c in zip(input_shape[2:], self.filter_size, self.stride, crop))

    def convolve(self, input, **kwargs):
        border_mode = "half" if self.crop == "same" else self.crop
        if isinstance(self.output_size, Variable):
            size = [self.output_size[0], self.output_size[1]]
        else:
            size = list(self.output_shape[2:])
            if any(s is None for s in size):
                shape = tuple(input.shape[k] for k in range(4))
                size = list(self.get_output_shape_for(shape)[2:])
        shape = [input.shape[0], self.num_filters] + size
        return conv2d_grad_wrt_inputs(input, self.W, shape, border_mode=border_mode,
                                      subsample=self.stride,
                                      filter_flip=not self.flip_filters)


Deconv2DLayer = TransposedConv2DLayer


class TransposedConv3DLayer(TransposedConv2DLayer):
    """Transposed 3-d convolution: the gradient of a :class:`Conv3DLayer`
    with respect to its input, used as a forward pass.

    Parameters are those of :class:`TransposedConv2DLayer`, with triples
    for ``filter_size``, ``stride``, ``crop`` and ``output_size``; ``W`` has
    shape ``(num_input_channels, num_filters, depth, rows, cols)``.

    Examples
    --------
    >>> from symnet.layers import TransposedConv3DLayer
    >>> TransposedConv3DLayer((None, 8, 4, 5, 6), 3, 3, stride=2).output_shape
    (None, 3, 9, 11, 13)
    """

    _spatial_dims = 3

    def __init__(self, incoming, num_filters, filter_size, stride=(1, 1, 1), crop=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=False, output_size=None,
                 **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W,
                         b, nonlinearity, flip_filters, output_size, **kwargs)

    def get_output_shape_for(self, input_shape):
        if self.output_size is not None:
            size = self.output_size
            if isinstance(size, Variable):
                size = (None, None, None)
            return (input_shape[0], self.num_filters) + tuple(size)
        return super().get_output_shape_for(input_shape)

    def convolve(self, input, **kwargs):
        from ..gradient import Lop
        border_mode = "half" if self.crop == "same" else self.crop
        if isinstance(self.output_size, Variable):
            size = [self.output_size[k] for k in range(3)]
        else:
            size = list(self.output_shape[2:])
            if any(s is None for s in size):
                shape = tuple(input.shape[k] for k in range(5))
                size = list(self.get_output_shape_for(shape)[2:])
        # The forward 3-d convolution is linear in its input, so its
        # vector-Jacobian product with ``input`` (taken at any point, here
        # zeros of the output's shape) is the transposed convolution.
        z = T.zeros([input.shape[0], self.num_filters] + size, dtype=input.dtype)
        fwd = conv3d(z, self.W, border_mode=border_mode, subsample=self.stride,
                     filter_flip=not self.flip_filters)
        return Lop(fwd, z, input)


Deconv3DLayer = TransposedConv3DLayer


class DilatedConv2DLayer(BaseConvLayer):
    """2-d dilated (atrous) convolution: filter taps ``dilation`` apart.

    Parameters
    ----------
    incoming, num_filters, filter_size, untie_biases, b, nonlinearity
        As for :class:`Conv2DLayer`.
    dilation : int or pair of int
    pad : 0, (0, 0) or 'valid'
        Only unpadded convolutions are supported (add a PadLayer otherwise).
    W : parameter spec
        Shape ``(num_input_channels, num_filters, rows, cols)`` as in Lasagne
        (swapped compared with :class:`Conv2DLayer`).
    flip_filters : bool
        Must be False (a correlation).

    Examples
    --------
    >>> from symnet.layers import DilatedConv2DLayer
    >>> l = DilatedConv2DLayer((None, 3, 20, 20), 5, 3, dilation=2)
    >>> l.W.get_value().shape, l.output_shape
    ((3, 5, 3, 3), (None, 5, 16, 16))
    """

    _groups_supported = False

    def __init__(self, incoming, num_filters, filter_size, dilation=(1, 1), pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=False, **kwargs):
        self.dilation = _int_tuple(dilation, 2)
        super().__init__(incoming, num_filters, filter_size, 1, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, n=2, **kwargs)
        del self.stride
        if self.pad != (0, 0):
            raise NotImplementedError(f"{_layer_label(self)} requires pad=0 / (0,0) / "
                                      f"'valid', but got {pad!r}. For a padded dilated "
                                      f"convolution, add a PadLayer.")
        if self.flip_filters:
            raise NotImplementedError(f"{_layer_label(self)} requires flip_filters=False.")

    def get_W_shape(self):
        """``(num_input_channels, num_filters) + filter_size``."""
        return (self.input_shape[1], self.num_filters) + self.filter_size

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(size, (f - 1) * d + 1, 1, 0)
            for size, f, d in zip(input_shape[2:], self.filter_size, self.dilation))

    def convolve(self, input, **kwargs):
        return conv2d(input, self.W.dimshuffle(1, 0, 2, 3), border_mode="valid",
                      filter_flip=False, filter_dilation=self.dilation)
