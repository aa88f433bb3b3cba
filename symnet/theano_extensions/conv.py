"""1-d convolutions with Lasagne's names (``lasagne.theano_extensions.conv``).

Every function convolves a ``(batch, channels, length)`` input with
``(filters, channels, filter_length)`` filters into a
``(batch, filters, output_length)`` result, with Theano's ``conv2d``
keywords: ``border_mode`` ('valid', 'full', 'half', an int or a 1-tuple of
padding), ``subsample`` (a 1-tuple stride) and ``filter_flip``.

Lasagne offers several implementations that differ only in speed on
Theano's backends; here they all run symnet's ``conv2d`` op with a dummy
axis, and keep Lasagne's restrictions (``conv1d_unstrided``, ``conv1d_sd``
and ``conv1d_md`` take only 'valid' and strides dividing the filter
length), so code choosing one by name gets the same values and errors.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> x, w = T.tensor3('x'), T.tensor3('w')
>>> y = conv1d_mc0(x, w, border_mode='full')
>>> y.eval({x: np.ones((1, 1, 3), 'float32'), w: np.ones((1, 1, 2), 'float32')},
...        mode='py')
array([[[1., 2., 2., 1.]]], dtype=float32)
"""
from ..tensor.ops.conv import conv2d

__all__ = ["conv1d_sc", "conv1d_mc0", "conv1d_mc1", "conv1d_unstrided", "conv1d_sd",
           "conv1d_md"]

_STRING_MODES = ("valid", "full", "half")


def _time_pad(border_mode, where):
    """The border mode as a string or an int of padding on the time axis."""
    if isinstance(border_mode, str):
        if border_mode not in _STRING_MODES:
            raise ValueError(f"{where}: invalid border_mode {border_mode!r}; expected one of "
                             f"{_STRING_MODES}, an int or a 1-tuple of ints")
        return border_mode
    if isinstance(border_mode, (tuple, list)) and len(border_mode) == 1:
        border_mode = border_mode[0]
    if isinstance(border_mode, bool) or not isinstance(border_mode, int):
        raise ValueError(f"{where}: invalid border_mode {border_mode!r}; expected one of "
                         f"{_STRING_MODES}, an int or a 1-tuple of ints")
    return border_mode


def _stride(subsample, where):
    try:
        (stride,) = subsample
    except (TypeError, ValueError):
        raise ValueError(f"{where}: subsample must be a 1-tuple, got {subsample!r}") from None
    return int(stride)


def _filter_length(filters, filter_shape, where):
    length = filter_shape[-1] if filter_shape is not None else filters.type.shape[-1]
    if length is None:
        raise ValueError(f"{where}: the filter length is needed here; pass filter_shape")
    return int(length)


def _conv(input, filters, border_mode, stride, filter_flip, dummy_first, num_groups=1):
    # A dummy axis of size 1 next to the time axis turns the 1-d convolution
    # into a 2-d one; string border modes pad nothing along the dummy axis
    # (its filter size is 1), so they pass through unchanged.
    if dummy_first:
        pattern, sub = (0, 1, "x", 2), (1, stride)
        mode = border_mode if isinstance(border_mode, str) else (0, border_mode)
    else:
        pattern, sub = (0, 1, 2, "x"), (stride, 1)
        mode = border_mode if isinstance(border_mode, str) else (border_mode, 0)
    out = conv2d(input.dimshuffle(*pattern), filters.dimshuffle(*pattern), border_mode=mode,
                 subsample=sub, filter_flip=filter_flip, num_groups=num_groups)
    return out[:, :, 0, :] if dummy_first else out[:, :, :, 0]


def conv1d_mc0(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
               subsample=(1,), filter_flip=True, num_groups=1):
    """1-d convolution as a 2-d one with a dummy axis before the time axis.

    Parameters
    ----------
    input : tensor3 ``(batch, channels, length)``
    filters : tensor3 ``(filters, channels, filter_length)``
    image_shape, filter_shape : tuple, optional
        Static shapes (only the filter length is ever needed, see
        :func:`conv1d_sc`).
    border_mode : 'valid', 'full', 'half', int or (int,)
    subsample : (int,)
    filter_flip : bool
        True convolves (flips the filters), False correlates.
    num_groups : int
        Grouped convolution: channels and filters split into this many
        groups (filters of shape ``(filters, channels / num_groups,
        filter_length)``), as ``conv2d``'s.

    Returns
    -------
    tensor3 ``(batch, filters, output_length)``
    """
    where = "conv1d_mc0"
    return _conv(input, filters, _time_pad(border_mode, where), _stride(subsample, where),
                 filter_flip, dummy_first=True, num_groups=num_groups)


def conv1d_mc1(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
               subsample=(1,), filter_flip=True):
    """1-d convolution as a 2-d one with a dummy axis after the time axis.

    Same parameters and result as :func:`conv1d_mc0`.
    """
    where = "conv1d_mc1"
    return _conv(input, filters, _time_pad(border_mode, where), _stride(subsample, where),
                 filter_flip, dummy_first=False)


def conv1d_sc(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
              subsample=(1,), filter_flip=True):
    """1-d convolution treating the channels as the rows of one 2-d image.

    The channel axis is covered whole (a 'valid' convolution over it), so
    border modes apply to the time axis only: 'full' and 'half' need the
    filter length, from ``filter_shape`` or the filters' static shape.
    Same parameters and result as :func:`conv1d_mc0`.
    """
    where = "conv1d_sc"
    pad = _time_pad(border_mode, where)
    stride = _stride(subsample, where)
    if pad != "valid":
        if isinstance(pad, str):
            k = _filter_length(filters, filter_shape, where)
            pad = k - 1 if pad == "full" else k // 2
        pad = (0, pad)
    filters = filters.dimshuffle(0, "x", 1, 2)
    if filter_flip:
        # conv2d flips the channel axis too (it is a spatial axis here):
        # flip it beforehand so that channel c still meets filter channel c
        filters = filters[:, :, ::-1, :]
    out = conv2d(input.dimshuffle(0, "x", 1, 2), filters, border_mode=pad,
                 subsample=(1, stride), filter_flip=filter_flip)
    return out[:, :, 0, :]


def _folded(where):
    # Lasagne's conv1d_unstrided/sd/md fold the stride into the filters,
    # which only works for 'valid' convolutions with a filter length that
    # is a multiple of the stride; the same arguments are refused here.
    def conv(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
             subsample=(1,), filter_flip=True):
        if border_mode not in ("valid", 0, (0,)):
            raise ValueError(f"{where}: unsupported border_mode {border_mode!r}; only "
                             f"'valid' is supported (use conv1d_mc0 for padding)")
        stride = _stride(subsample, where)
        if stride != 1:
            k = _filter_length(filters, filter_shape, where)
            if k % stride:
                raise ValueError(f"{where}: the filter length ({k}) is not a multiple of "
                                 f"the stride ({stride}); use conv1d_mc0 for this stride")
        return _conv(input, filters, "valid", stride, filter_flip, dummy_first=True)
    conv.__name__ = conv.__qualname__ = where
    conv.__doc__ = (f"1-d 'valid' convolution (Lasagne's ``{where}``).\n\n"
                    f"Same parameters and result as :func:`conv1d_mc0`, with Lasagne's "
                    f"restrictions: ``border_mode`` must be 'valid' and a stride must "
                    f"divide the filter length, else ValueError.\n")
    return conv


conv1d_unstrided = _folded("conv1d_unstrided")
conv1d_sd = _folded("conv1d_sd")
conv1d_md = _folded("conv1d_md")
