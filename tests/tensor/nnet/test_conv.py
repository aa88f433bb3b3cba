"""``theano.tensor.nnet.conv.conv2d``, the old convolution interface: values
against a numpy loop, gradients, the shape arguments' forms and errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet import conv
from tests.oracles import check_op, rand


def np_conv(x, w, border_mode="valid", subsample=(1, 1)):
    """A true (flipped-filter) convolution by explicit loops."""
    kh, kw = w.shape[2:]
    if border_mode == "full":
        x = np.pad(x, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    wf = w[:, :, ::-1, ::-1]
    for r in range(oh):
        for c in range(ow):
            out[:, :, r, c] = np.einsum("bchw,fchw->bf", x[:, :, r:r + kh, c:c + kw], wf)
    return out[:, :, ::subsample[0], ::subsample[1]]


@pytest.mark.parametrize("border_mode", ["valid", "full"])
@pytest.mark.parametrize("subsample", [(1, 1), (2, 1), (2, 3)])
def test_values_and_gradient(border_mode, subsample):
    x, w = rand((2, 3, 7, 6)), rand((4, 3, 3, 2))
    check_op(lambda a, b: conv.conv2d(a, b, (2, 3, 7, 6), (4, 3, 3, 2), border_mode,
                                      subsample),
             [x, w], ref=lambda a, b: np_conv(a, b, border_mode, subsample),
             grad=subsample == (1, 1))


def test_shape_forms_and_tuning_arguments():
    # constants, constant vectors, None for unknown sizes; ConvOp's tuning
    # arguments change nothing
    x, w = T.dtensor4("x"), T.dtensor4("w")
    xv, wv = rand((3, 2, 7, 5)), rand((5, 2, 2, 3))
    want = np_conv(xv, wv)
    for ishape, fshape in [((T.as_tensor_variable(3), 2, 7, 5), (5, 2, 2, 3)),
                           (T.as_tensor_variable([3, 2, 7, 5]), T.as_tensor_variable((5, 2, 2, 3))),
                           ((None, 2, None, None), None), (None, None)]:
        y = conv.conv2d(x, w, ishape, fshape, unroll_batch=1, unroll_kern=2, unroll_patch=True)
        got = symnet.function([x, w], y, mode="py")(xv, wv)
        np.testing.assert_allclose(got, want, rtol=1e-10)
    y = conv.conv2d(x, w, (3, 2, 7, 5), (5, 2, 2, 3))
    assert y.type.shape == (3, 5, 6, 3)


def test_errors():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(ValueError, match=r"image_shape \[3, 2, 8, 8\] has 2 input channels "
                                         r"but filter_shape \[4, 3, 5, 5\] has 3"):
        conv.conv2d(x, w, (3, 2, 8, 8), (4, 3, 5, 5))
    i = T.iscalar("i")
    with pytest.raises(T.NotScalarConstantError, match="image_shape"):
        conv.conv2d(x, w, (3, 2, 8, i), (4, 2, 5, 5))
    with pytest.raises(TypeError, match="unroll_batches"):
        conv.conv2d(x, w, unroll_batches=2)
    with pytest.raises(TypeError, match="4-D"):
        conv.conv2d(T.dmatrix(), w)
    # the shapes given are checked when the function runs (ValueError, as
    # Theano's ConvOp), on every backend
    for mode in ("py", "numba"):
        f = symnet.function([x, w], conv.conv2d(x, w, (3, 2, 8, 8), (4, 2, 5, 5)), mode=mode)
        with pytest.raises(ValueError, match=r"declared of shape \(3, 2, 8, 8\)"):
            f(rand((2, 2, 8, 8)), rand((4, 2, 5, 5)))
        with pytest.raises(ValueError, match=r"declared of shape \(4, 2, 5, 5\)"):
            f(rand((3, 2, 8, 8)), rand((4, 2, 5, 6)))


def test_theano_module_path():
    import symnet.compat
    symnet.compat.install(lasagne=False)
    try:
        from theano.tensor.nnet import conv as tconv
        import theano.tensor.nnet.conv
        assert tconv is conv and theano.tensor.nnet.conv is conv
        assert tconv.imported_scipy_signal
    finally:
        symnet.compat.uninstall()
