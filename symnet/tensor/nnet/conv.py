"""``theano.tensor.nnet.conv``: the old (pre-0.9) 2-D convolution interface.

Programs written for Theano 0.6-0.8, among them the deeplearning.net LeNet
tutorial, import ``from theano.tensor.nnet import conv`` and call
``conv.conv2d(input, filters, image_shape=..., filter_shape=...)``. It is
the same convolution as :func:`symnet.tensor.nnet.conv2d` (filters are
flipped: a true convolution), with the old argument names; the shapes given
are checked when the function runs, as Theano's ``ConvOp`` did.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.nnet import conv
>>> x, w = T.tensor4('x'), T.tensor4('w')
>>> y = conv.conv2d(x, w, image_shape=(1, 1, 3, 3), filter_shape=(1, 1, 2, 2))
>>> y.eval({x: np.arange(9, dtype='float32').reshape(1, 1, 3, 3),
...         w: np.array([[[[1, 0], [0, 0]]]], dtype='float32')}, mode='py')[0, 0]
array([[4., 5.],
       [7., 8.]], dtype=float32)
"""
from ...graph.basic import Constant, Variable
from ..basic import NotScalarConstantError, get_scalar_constant_value
from ..ops.conv import conv2d as _conv2d
from ..ops.debug import SpecifyShape

__all__ = ["conv2d"]

# ConvOp's tuning knobs (loop unrolling, OpenMP, C code version): they
# change how Theano's C code ran, never the result, so they are accepted
# and have nothing to do here.
_CONVOP_TUNING = ("unroll_batch", "unroll_kern", "unroll_patch", "verbose", "version",
                  "openmp", "direction_hint", "imshp_logical", "kshp_logical",
                  "kshp_logical_top_aligned")


class _ShapeHint(SpecifyShape):
    """``specify_shape`` raising ValueError, as Theano's ConvOp did when the
    data did not have the image_shape/filter_shape it was given."""

    error = ValueError


def _constant_shape(shape, what):
    """``shape`` as a list of int or None; every given size must be a
    constant known when the graph is built."""
    if shape is None:
        return None
    if isinstance(shape, Constant):
        shape = shape.data.tolist()
    elif isinstance(shape, Variable):
        if shape.ndim != 1:
            raise TypeError(f"conv2d: {what} must be a sequence of 4 sizes, got {shape} "
                            f"({shape.ndim} dims)")
        shape = [shape[i] for i in range(4)]
    sizes = []
    for s in shape:
        if s is None:
            sizes.append(None)
            continue
        try:
            v = get_scalar_constant_value(s)
        except NotScalarConstantError:
            raise NotScalarConstantError(
                f"conv2d: every size of {what} must be a constant (or None); got {s} in "
                f"{what}={list(shape)}") from None
        if v.dtype.kind not in "iu":
            raise TypeError(f"conv2d: {what} sizes must be integers, got {s} ({v.dtype})")
        sizes.append(int(v))
    if len(sizes) != 4:
        raise ValueError(f"conv2d: {what} must give 4 sizes, got {sizes}")
    return sizes


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), **kargs):
    """Convolve a batch of images with a bank of filters (Theano 0.8's
    ``theano.tensor.nnet.conv.conv2d``).

    Parameters
    ----------
    input : 4-D tensor
        (batch size, input channels, rows, columns).
    filters : 4-D tensor
        (output channels, input channels, filter rows, filter columns).
    image_shape, filter_shape : sequence of 4 ints (or None), optional
        Shapes of ``input`` and ``filters``, each size a constant or None
        (unknown). The function checks them when it runs.
    border_mode : {'valid', 'full'}
        'valid': only where the filter fits inside the image; 'full':
        wherever they overlap (zero padding of filter size - 1).
    subsample : pair of int
        Strides of the output.
    **kargs
        ConvOp's tuning arguments (``unroll_batch``, ``unroll_kern``,
        ``unroll_patch``, ``openmp``, ``verbose``, ``version``): accepted,
        without effect on the result.

    Returns
    -------
    4-D tensor (batch size, output channels, output rows, output columns)

    Raises
    ------
    NotScalarConstantError
        A size in ``image_shape``/``filter_shape`` is not a constant.
    ValueError
        ``image_shape[1] != filter_shape[1]``, or the filters do not fit.
    """
    unknown = sorted(set(kargs) - set(_CONVOP_TUNING))
    if unknown:
        raise TypeError(f"conv2d() got unexpected keyword argument(s) {unknown}; it "
                        f"accepts image_shape, filter_shape, border_mode, subsample and "
                        f"ConvOp's tuning arguments {list(_CONVOP_TUNING)}")
    image_shape = _constant_shape(image_shape, "image_shape")
    filter_shape = _constant_shape(filter_shape, "filter_shape")
    if image_shape and filter_shape and None not in (image_shape[1], filter_shape[1]) \
            and image_shape[1] != filter_shape[1]:
        raise ValueError(f"conv2d: image_shape {image_shape} has {image_shape[1]} input "
                         f"channels but filter_shape {filter_shape} has {filter_shape[1]}")
    if image_shape is not None:
        input = _ShapeHint(image_shape)(input)
    if filter_shape is not None:
        filters = _ShapeHint(filter_shape)(filters)
    return _conv2d(input, filters, border_mode=border_mode, subsample=tuple(subsample))

#: Theano's flag for "the Python implementation of ConvOp can run" (it
#: needed scipy.signal); symnet's convolution always can.
imported_scipy_signal = True
