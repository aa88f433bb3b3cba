"""``theano.tensor.signal.conv``: 2-d convolution of plain images (no
channel axis), one image or a stack, with one filter or a stack.

``conv2d(input, filters)`` takes ``([n_images,] rows, cols)`` and
``([n_filters,] rows, cols)`` and returns ``([n_images,] [n_filters,]
rows, cols)``: an axis is there only when the matching argument has it.  It
is a true convolution (the filters flipped), as ``scipy.signal.convolve2d``,
computed by ``nnet.conv2d`` on the images given a channel axis of one.
"""
from ..basic import as_tensor_variable

__all__ = ["conv2d"]


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), **kwargs):
    """Convolve 2-d images with 2-d filters (see the module docstring);
    ``border_mode`` 'valid' or 'full'; ``image_shape``/``filter_shape`` are
    accepted for Theano's signature and checked against the ranks only."""
    from ..ops.conv import conv2d as nnet_conv2d
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    for who, var, shape in (("input", input, image_shape), ("filters", filters, filter_shape)):
        if var.ndim not in (2, 3):
            raise TypeError(f"signal.conv2d: {who} must have 2 or 3 dims ([n,] rows, cols), "
                            f"got {var} with {var.ndim}")
        if shape is not None and len(shape) != var.ndim:
            raise ValueError(f"signal.conv2d: {who} has {var.ndim} dims but its shape "
                             f"{tuple(shape)} has {len(shape)}")
    if border_mode not in ("valid", "full"):
        raise ValueError(f"signal.conv2d: border_mode must be 'valid' or 'full', got "
                         f"{border_mode!r}")
    # (n, 1, rows, cols) images and (k, 1, rows, cols) filters
    images = input.dimshuffle(0, "x", 1, 2) if input.ndim == 3 else \
        input.dimshuffle("x", "x", 0, 1)
    kernels = filters.dimshuffle(0, "x", 1, 2) if filters.ndim == 3 else \
        filters.dimshuffle("x", "x", 0, 1)
    out = nnet_conv2d(images, kernels, border_mode=border_mode, subsample=tuple(subsample),
                      filter_flip=True)
    keep = [0] if input.ndim == 3 else []
    keep += [1] if filters.ndim == 3 else []
    return out.dimshuffle(*keep, 2, 3)
