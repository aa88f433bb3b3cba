"""Functions of ``theano.tensor.nnet.abstract_conv`` written on symnet's
convolutions: bilinear upsampling and its kernels.

``theano.tensor.nnet.abstract_conv`` itself is the module
:mod:`symnet.theano_surface` builds (Theano's op classes called with 2-D
sizes); it takes the names of ``__all__`` from here.

``bilinear_upsampling(x, ratio)`` is Theano's: the image, its border
pixels repeated once on every side, goes through a transposed convolution
of stride ``ratio`` with the triangular kernel ``[1, 2, ..., ratio, ...,
2, 1] / ratio`` (per axis), cropped to ``ratio`` times the input's size.

Examples
--------
>>> import numpy as np
>>> from symnet.tensor.nnet.abstract_conv import bilinear_kernel_1D, bilinear_upsampling
>>> bilinear_kernel_1D(3, normalize=False).eval(mode='py')
array([1., 2., 3., 2., 1.], dtype=float32)
>>> x = np.array([[[[1., 2.], [3., 4.]]]], 'float32')
>>> bilinear_upsampling(x, 2).eval(mode='py')[0, 0]
array([[1. , 1.5, 2. , 2. ],
       [2. , 2.5, 3. , 3. ],
       [3. , 3.5, 4. , 4. ],
       [3. , 3.5, 4. , 4. ]], dtype=float32)
"""
from ...configdefaults import config
from ..basic import as_tensor_variable
from ..ops.conv import conv2d_grad_wrt_inputs
from ..ops.shape import arange, concatenate, reshape

__all__ = ["bilinear_kernel_1D", "bilinear_kernel_2D", "bilinear_upsampling",
           "get_conv_shape_1axis", "get_conv_output_shape", "get_conv_gradweights_shape_1axis",
           "get_conv_gradweights_shape", "get_conv_gradinputs_shape_1axis",
           "get_conv_gradinputs_shape", "check_conv_gradinputs_shape", "imported_scipy_signal"]

#: Theano's abstract_conv used scipy.signal for its Python fallback; symnet's
#: convolutions do not (Theano's tests skip their scipy comparisons on False)
imported_scipy_signal = False


def bilinear_kernel_1D(ratio, normalize=True):
    """``[1, 2, ..., ratio, ..., 2, 1]`` (divided by ``ratio`` if
    ``normalize``), in ``floatX``; ``ratio`` may be symbolic."""
    half = arange(1, ratio + 1, dtype=config.floatX)
    kern = concatenate([half, half[-2::-1]])
    return kern / ratio if normalize else kern


def bilinear_kernel_2D(ratio, normalize=True):
    """The outer product of two :func:`bilinear_kernel_1D` (so divided by
    ``ratio ** 2`` if ``normalize``)."""
    k = bilinear_kernel_1D(ratio, normalize)
    return k.dimshuffle(0, "x") * k.dimshuffle("x", 0)


def _edge_pad(x, axis):
    # the border pixels once more on both sides, so the interpolation at
    # the borders sees the image continued flat
    first = [slice(None)] * 4
    last = [slice(None)] * 4
    first[axis], last[axis] = slice(None, 1), slice(-1, None)
    return concatenate([x[tuple(first)], x, x[tuple(last)]], axis=axis)


def bilinear_upsampling(input, ratio=None, frac_ratio=None, batch_size=None,
                        num_input_channels=None, use_1D_kernel=True):
    """Upsample the images of ``input`` (batch, channels, rows, cols) by the
    integer ``ratio`` with bilinear interpolation.

    Parameters
    ----------
    input : 4-D tensor
    ratio : int
        The output has ``ratio`` times as many rows and columns.
    frac_ratio : not supported
        Theano's fractional ratios; raises NotImplementedError.
    batch_size, num_input_channels : int, optional
        Hints of Theano's (the sizes are read from ``input`` when absent).
    use_1D_kernel : bool
        Two 1-d passes (rows, then columns) or one 2-d pass: the same values.

    Returns
    -------
    4-D tensor (batch, channels, rows * ratio, cols * ratio)
    """
    if frac_ratio is not None:
        raise NotImplementedError("bilinear_upsampling: frac_ratio (fractional ratios) is "
                                  "not supported; give an integer ratio")
    if ratio is None or int(ratio) != ratio or ratio < 1:
        raise ValueError(f"bilinear_upsampling: ratio must be a positive integer, got "
                         f"{ratio!r}")
    r = int(ratio)
    x = as_tensor_variable(input)
    if x.ndim != 4:
        raise TypeError(f"bilinear_upsampling: input must be 4-D (batch, channels, rows, "
                        f"cols), got {x} with {x.ndim} dims")
    b = x.shape[0] if batch_size is None else batch_size
    c = x.shape[1] if num_input_channels is None else num_input_channels
    h, w = x.shape[2], x.shape[3]
    # one image per (batch, channel) pair, each a 1-channel convolution
    x = _edge_pad(_edge_pad(reshape(x, (-1, 1, h, w)), 2), 3)
    n = x.shape[0]
    # the padding that makes a stride-r convolution of an (h * r)-row input
    # give the h + 2 padded rows: the transposed convolution then maps them
    # back onto exactly h * r rows
    pad = 2 * r - (r - 1) // 2 - 1
    if use_1D_kernel:
        k = bilinear_kernel_1D(r)
        x = conv2d_grad_wrt_inputs(x, k.dimshuffle("x", "x", 0, "x"), (n, 1, h * r, w + 2),
                                   border_mode=(pad, 0), subsample=(r, 1))
        x = conv2d_grad_wrt_inputs(x, k.dimshuffle("x", "x", "x", 0), (n, 1, h * r, w * r),
                                   border_mode=(0, pad), subsample=(1, r))
    else:
        k = bilinear_kernel_2D(r).dimshuffle("x", "x", 0, 1)
        x = conv2d_grad_wrt_inputs(x, k, (n, 1, h * r, w * r), border_mode=(pad, pad),
                                   subsample=(r, r))
    return reshape(x, (b, c, h * r, w * r))


# -- shape arithmetic (Theano's get_conv_*_shape, plain Python on ints/None) ----

def _pads(border_mode, dil_kern):
    """(before, after) padding of one axis: border_mode is 'valid', 'half',
    'full', an int or an (int, int) pair; None where the kernel size is."""
    if isinstance(border_mode, str):
        if dil_kern is None:
            return None
        one = {"valid": 0, "half": dil_kern // 2, "full": dil_kern - 1}.get(border_mode)
        if one is None:
            raise ValueError(f"border_mode must be 'valid', 'half', 'full', an int or a "
                             f"pair of ints per axis, got {border_mode!r}")
        return one, one
    if isinstance(border_mode, (tuple, list)):
        return int(border_mode[0]), int(border_mode[1])
    return int(border_mode), int(border_mode)


def _axis_modes(border_mode, nd):
    if isinstance(border_mode, str):
        return [border_mode] * nd
    if isinstance(border_mode, int):
        return [border_mode] * nd
    if len(border_mode) != nd:
        raise ValueError(f"border_mode {border_mode!r} must give one padding per spatial "
                         f"axis ({nd})")
    return list(border_mode)


def _dilated(k, dilation):
    return None if k is None else (k - 1) * dilation + 1


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample, dilation=1):
    """The output size of a convolution along one axis (None when the image
    or kernel size is None).

    Examples
    --------
    >>> get_conv_shape_1axis(12, 5, 'valid', 1, 2), get_conv_shape_1axis(9, 6, (1, 2), 2)
    (4, 4)
    """
    if image_shape is None or kernel_shape is None:
        return None
    dil_kern = _dilated(kernel_shape, dilation)
    before, after = _pads(border_mode, dil_kern)
    return (image_shape + before + after - dil_kern) // subsample + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample,
                          filter_dilation=None):
    """The output shape ``(batch, filters, *spatial)`` of an N-d convolution
    of images ``image_shape`` with kernels ``kernel_shape`` (their last N
    entries are the kernel sizes, so an unshared kernel's shape works too);
    None where a size is unknown.

    Examples
    --------
    >>> get_conv_output_shape((3, 2, 12, 9, 7), (4, 2, 5, 6, 4), 'half', (1, 2, 1), (2, 1, 1))
    (3, 4, 12, 5, 8)
    """
    nd = len(subsample)
    dil = tuple(filter_dilation) if filter_dilation is not None else (1,) * nd
    modes = _axis_modes(border_mode, nd)
    spatial = tuple(get_conv_shape_1axis(i, k, b, s, d) for i, k, b, s, d in
                    zip(image_shape[2:], kernel_shape[-nd:], modes, subsample, dil))
    return (image_shape[0], kernel_shape[0]) + spatial


def get_conv_gradweights_shape_1axis(image_shape, top_shape, border_mode, subsample,
                                     dilation):
    """The kernel size along one axis that maps ``image_shape`` to
    ``top_shape``: None when it is not determined (a stride above 1,
    'half', an unknown size)."""
    if None in (image_shape, top_shape) or subsample != 1 or border_mode == "half":
        return None
    if border_mode == "full":
        dil_kern = top_shape - image_shape + 1
    else:
        before, after = _pads(border_mode, 0)
        dil_kern = image_shape + before + after - top_shape + 1
    return (dil_kern - 1) // dilation + 1


def get_conv_gradweights_shape(image_shape, top_shape, border_mode, subsample,
                               filter_dilation=None):
    """The kernel shape ``(filters, channels, *sizes)`` of the convolution
    mapping ``image_shape`` to ``top_shape`` (None where not determined)."""
    nd = len(subsample)
    dil = tuple(filter_dilation) if filter_dilation is not None else (1,) * nd
    modes = _axis_modes(border_mode, nd)
    sizes = tuple(get_conv_gradweights_shape_1axis(i, t, b, s, d) for i, t, b, s, d in
                  zip(image_shape[2:], top_shape[2:], modes, subsample, dil))
    return (top_shape[1], image_shape[1]) + sizes


def get_conv_gradinputs_shape_1axis(kernel_shape, top_shape, border_mode, subsample,
                                    dilation):
    """The image size along one axis that a kernel maps to ``top_shape``:
    None when it is not determined (a stride above 1 leaves it ambiguous,
    or a size is unknown)."""
    if None in (kernel_shape, top_shape) or subsample != 1:
        return None
    dil_kern = _dilated(kernel_shape, dilation)
    before, after = _pads(border_mode, dil_kern)
    return top_shape + dil_kern - 1 - before - after


def get_conv_gradinputs_shape(kernel_shape, top_shape, border_mode, subsample,
                              filter_dilation=None):
    """The image shape ``(batch, channels, *sizes)`` that kernels of
    ``kernel_shape`` map to ``top_shape`` (None where not determined)."""
    nd = len(subsample)
    dil = tuple(filter_dilation) if filter_dilation is not None else (1,) * nd
    modes = _axis_modes(border_mode, nd)
    sizes = tuple(get_conv_gradinputs_shape_1axis(k, t, b, s, d) for k, t, b, s, d in
                  zip(kernel_shape[-nd:], top_shape[2:], modes, subsample, dil))
    return (top_shape[0], kernel_shape[-nd - 1]) + sizes


def check_conv_gradinputs_shape(image_shape, kernel_shape, output_shape, border_mode,
                                subsample, filter_dilation=None):
    """Whether ``output_shape`` (None entries match anything) is the output
    shape of convolving ``image_shape`` with ``kernel_shape``: with a stride
    several image sizes give one output size, so a transposed convolution
    asked for ``image_shape`` checks its output gradient's shape this way.

    Examples
    --------
    >>> check_conv_gradinputs_shape((1, 1, 7, 7), (1, 1, 3, 3), (None, 1, 3, 3), 'valid', (2, 2))
    True
    >>> check_conv_gradinputs_shape((1, 1, 7, 7), (1, 1, 3, 3), (1, 1, 4, 3), 'valid', (2, 2))
    False
    """
    want = get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample,
                                 filter_dilation)
    return all(g is None or w is None or int(g) == int(w) for g, w in zip(output_shape, want))
