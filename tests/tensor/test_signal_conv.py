"""theano.tensor.signal.conv.conv2d: plain 2-d images and filters, every
combination of single and stacked, 'valid' and 'full', subsampling, against
a direct numpy convolution (filters flipped, as scipy.signal.convolve2d)."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.tensor.signal import conv
from tests.oracles import check_op, rand


def convolve2d(img, ker, mode):
    """Direct 2-d convolution of one image with one filter."""
    kr, kc = ker.shape
    if mode == "full":
        img = np.pad(img, ((kr - 1, kr - 1), (kc - 1, kc - 1)))
    flipped = ker[::-1, ::-1]
    rows, cols = img.shape[0] - kr + 1, img.shape[1] - kc + 1
    return np.array([[np.sum(img[i:i + kr, j:j + kc] * flipped) for j in range(cols)]
                     for i in range(rows)])


def reference(images, filters, mode, subsample):
    imgs = images if images.ndim == 3 else images[None]
    kers = filters if filters.ndim == 3 else filters[None]
    out = np.array([[convolve2d(i, k, mode)[::subsample[0], ::subsample[1]] for k in kers]
                    for i in imgs])
    if filters.ndim == 2:
        out = out[:, 0]
    if images.ndim == 2:
        out = out[0]
    return out


@pytest.mark.parametrize("img_ndim, ker_ndim", [(3, 3), (2, 3), (3, 2), (2, 2)])
@pytest.mark.parametrize("mode, subsample", [("valid", (1, 1)), ("full", (1, 1)),
                                             ("valid", (2, 1))])
def test_values_and_gradient(img_ndim, ker_ndim, mode, subsample):
    rng = np.random.default_rng(0)
    images = rand((2, 6, 5)[3 - img_ndim:], "float64", rng=rng)
    filters = rand((3, 3, 2)[3 - ker_ndim:], "float64", rng=rng)
    check_op(lambda x, w: conv.conv2d(x, w, border_mode=mode, subsample=subsample),
             [images, filters], ref=lambda x, w: reference(x, w, mode, subsample), grad=True)


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="signal.conv2d: input must have 2 or 3 dims"):
        conv.conv2d(T.tensor4("x"), T.dmatrix("w"))
    with pytest.raises(ValueError, match="filters has 2 dims but its shape"):
        conv.conv2d(T.dmatrix("x"), T.dmatrix("w"), filter_shape=(1, 3, 3))
    with pytest.raises(ValueError, match="border_mode must be 'valid' or 'full'"):
        conv.conv2d(T.dmatrix("x"), T.dmatrix("w"), border_mode="half")


def test_theano_path(theano_shim):
    from theano.tensor.signal import conv as theano_conv
    from theano.tensor.signal.conv import conv2d
    assert theano_conv is conv and conv2d is conv.conv2d
