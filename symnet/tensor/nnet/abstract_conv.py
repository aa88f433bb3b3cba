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

__all__ = ["bilinear_kernel_1D", "bilinear_kernel_2D", "bilinear_upsampling"]


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
