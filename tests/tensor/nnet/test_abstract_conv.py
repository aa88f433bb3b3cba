"""Bilinear upsampling (``theano.tensor.nnet.abstract_conv``): the kernels,
the values Theano's documentation and tests give for a 2x2 image at every
ratio, 1-d and 2-d kernels agreeing, gradients, errors, module path."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet.abstract_conv import (bilinear_kernel_1D, bilinear_kernel_2D,
                                              bilinear_upsampling)
from tests.oracles import check_op, rand


def np_kernel(r):
    return np.array(list(range(1, r + 1)) + list(range(r - 1, 0, -1)), dtype=float)


def np_upsample_2x2(x, r):
    """Theano's expected upsampling of a 2x2 image: linear between the two
    pixels, the border pixels repeated to fill r times the size."""
    k = np.arange(r + 1)
    rows = x[..., :1] * k[::-1] + x[..., 1:] * k
    up = rows[..., :1, :] * k[::-1][:, None] + rows[..., 1:, :] * k[:, None]
    lo = (r - 1) // 2
    hi = r * 2 - (r + 1) - lo
    up = np.pad(up, [(0, 0), (0, 0), (lo, hi), (lo, hi)], mode="edge")
    return up / float(r) ** 2


def test_kernels():
    ratio = T.iscalar("ratio")
    k_sym = symnet.function([ratio], [bilinear_kernel_1D(ratio, normalize=False),
                                      bilinear_kernel_1D(ratio)], mode="py")
    for r in range(2, 10):
        k1, k1n = k_sym(r)
        np.testing.assert_allclose(k1, np_kernel(r))
        np.testing.assert_allclose(k1n, np_kernel(r) / r, rtol=1e-6)
        assert k1.dtype == symnet.config.floatX
        np.testing.assert_allclose(bilinear_kernel_2D(r).eval(mode="py"),
                                   np.outer(np_kernel(r), np_kernel(r)) / r ** 2, rtol=1e-6)


@pytest.mark.parametrize("r", [2, 3, 4, 5, 8, 9])
def test_two_by_two_against_theano_values(r):
    x = np.array([[[[1, 2], [3, 4]]]], dtype=float)
    for one in (True, False):
        check_op(lambda v: bilinear_upsampling(v, r, use_1D_kernel=one), [x],
                 ref=lambda v: np_upsample_2x2(v, r), infer_shape=False)


def test_1d_and_2d_kernels_agree_and_gradient():
    x = rand((2, 3, 4, 5))
    T1 = T.dtensor4("x")
    f = symnet.function([T1], [bilinear_upsampling(T1, 3, batch_size=2, num_input_channels=3),
                               bilinear_upsampling(T1, 3, use_1D_kernel=False)], mode="py")
    a, b = f(x)
    assert a.shape == (2, 3, 12, 15)
    np.testing.assert_allclose(a, b, rtol=1e-6)   # the kernels are floatX, as in Theano
    # upsampling a constant image gives the same constant
    c = bilinear_upsampling(T.constant(np.full((1, 1, 3, 4), 2.5)), 4).eval(mode="py")
    np.testing.assert_allclose(c, 2.5)
    check_op(lambda v: bilinear_upsampling(v, 2), [rand((1, 2, 3, 3))], grad=True,
             infer_shape=False)


def test_errors_and_module_path():
    x = T.tensor4("x")
    with pytest.raises(NotImplementedError, match="frac_ratio"):
        bilinear_upsampling(x, frac_ratio=(1.5, 2))
    with pytest.raises(ValueError, match="positive integer, got 1.5"):
        bilinear_upsampling(x, 1.5)
    with pytest.raises(TypeError, match="4-D"):
        bilinear_upsampling(T.matrix(), 2)
    import symnet.compat
    symnet.compat.install(lasagne=False)
    try:
        from theano.tensor.nnet.abstract_conv import bilinear_upsampling as tb
        assert tb is bilinear_upsampling
    finally:
        symnet.compat.uninstall()


def test_conv_shape_functions_as_theano_documents_them():
    from symnet.tensor.nnet.abstract_conv import (check_conv_gradinputs_shape,
                                                  get_conv_gradinputs_shape,
                                                  get_conv_gradweights_shape,
                                                  get_conv_output_shape)
    img, kern, sub, dil = (3, 2, 12, 9, 7), (4, 2, 5, 6, 4), (1, 2, 1), (2, 1, 1)
    # hand-computed: (n + pads - ((k - 1) * d + 1)) // s + 1 per axis
    assert get_conv_output_shape(img, kern, "valid", sub, dil) == (3, 4, 4, 2, 4)
    assert get_conv_output_shape(img, kern, "half", sub, dil) == (3, 4, 12, 5, 8)
    assert get_conv_output_shape(img, kern, "full", sub, dil) == (3, 4, 20, 7, 10)
    assert get_conv_output_shape(img, kern, (1, 2, 3), sub, dil) == (3, 4, 6, 4, 10)
    assert get_conv_output_shape((None, 2, 12, None), (4, 2, 5, 6), (1, (0, 2)),
                                 (1, 1)) == (None, 4, 10, None)
    for b in ("valid", "full", (0, 2), "half"):
        out = get_conv_output_shape((5, 3, 9, 8), (7, 3, 3, 2), b, (1, 1), (2, 1))
        assert get_conv_gradinputs_shape((7, 3, 3, 2), out, b, (1, 1), (2, 1)) == (5, 3, 9, 8)
        want_k = (7, 3, None, None) if b == "half" else (7, 3, 3, 2)
        assert get_conv_gradweights_shape((5, 3, 9, 8), out, b, (1, 1), (2, 1)) == want_k
        assert check_conv_gradinputs_shape((5, 3, 9, 8), (7, 3, 3, 2), out, b, (1, 1), (2, 1))
        bad = out[:2] + (out[2] + 1, out[3])
        assert not check_conv_gradinputs_shape((5, 3, 9, 8), (7, 3, 3, 2), bad, b, (1, 1),
                                               (2, 1))
    # a stride leaves the image size undetermined
    assert get_conv_gradinputs_shape((7, 3, 3, 3), (5, 7, 4, 4), "valid", (2, 2)) == \
        (5, 3, None, None)
    with pytest.raises(ValueError, match="one padding per spatial axis"):
        get_conv_output_shape((1, 1, 5, 5), (1, 1, 3, 3), (1, 1, 1), (1, 1))
