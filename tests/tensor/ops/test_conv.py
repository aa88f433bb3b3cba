"""conv2d and its gradients against a direct-loop numpy reference."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import Conv2d, conv2d, conv2d_transpose

CASES = [("valid", (1, 1), (1, 1), True), ("full", (2, 1), (1, 1), False),
         ("half", (1, 2), (2, 1), True), ((1, 2), (2, 2), (1, 1), True)]


def reference(x, w, border_mode, subsample, dilation, flip):
    kh, kw = w.shape[2:]
    ph, pw = Conv2d(border_mode, subsample, flip, dilation)._pad((kh, kw))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    wf = w[:, :, ::-1, ::-1] if flip else w
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // subsample[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // subsample[1] + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for c in range(kw):
                    patch = xp[:, :, i * subsample[0] + a * dilation[0],
                               j * subsample[1] + c * dilation[1]]
                    out[:, :, i, j] += patch @ wf[:, :, a, c].T
    return out


@pytest.mark.parametrize("border_mode,subsample,dilation,flip", CASES)
def test_conv2d_forward_and_grad(border_mode, subsample, dilation, flip):
    rng = np.random.RandomState(0)
    x, w = rng.randn(2, 3, 7, 6), rng.randn(4, 3, 3, 2)
    xs, ws = T.dtensor4("x"), T.dtensor4("w")
    y = conv2d(xs, ws, border_mode=border_mode, subsample=subsample,
               filter_dilation=dilation, filter_flip=flip)
    f = symnet.function([xs, ws], [y, T.shape(y)], mode="py")
    out, shp = f(x, w)
    np.testing.assert_allclose(out, reference(x, w, border_mode, subsample, dilation, flip),
                               rtol=1e-10, atol=1e-10)
    assert tuple(shp) == out.shape
    verify_grad(lambda a, b: conv2d(a, b, border_mode=border_mode, subsample=subsample,
                                    filter_dilation=dilation, filter_flip=flip),
                [x, w], rng=rng)


def test_conv2d_static_shapes_and_errors():
    x = T.tensor4("x", shape=(8, 3, 28, 28))
    w = T.tensor4("w", shape=(16, 3, 5, 5))
    assert conv2d(x, w).type.shape == (8, 16, 24, 24)
    assert conv2d(x, w, border_mode="full").type.shape == (8, 16, 32, 32)
    assert conv2d(x, w, border_mode="half", subsample=(2, 2)).type.shape == (8, 16, 14, 14)
    bad = T.tensor4("bad", shape=(16, 4, 5, 5))
    with pytest.raises(ValueError, match="channels"):
        conv2d(x, bad)
    with pytest.raises(TypeError, match="4-D"):
        conv2d(T.matrix("m"), w)


def test_conv2d_transpose_is_gradient_of_conv2d():
    rng = np.random.RandomState(1)
    x, w = rng.randn(2, 3, 6, 6), rng.randn(4, 3, 3, 3)
    xs, ws, gs = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("g")
    y = conv2d(xs, ws, subsample=(2, 2))
    g = rng.randn(2, 4, 2, 2)
    via_grad = symnet.grad(T.sum(y * gs), xs)
    direct = conv2d_transpose(gs, ws, output_shape=(2, 3, 6, 6), input_dilation=(2, 2))
    f = symnet.function([xs, ws, gs], [via_grad, direct], mode="py")
    a, b = f(x, w, g)
    np.testing.assert_allclose(a, b)
    assert direct.type.shape == (None, None, 6, 6) or direct.type.shape[2:] == (6, 6)


def test_conv2d_second_order():
    rng = np.random.RandomState(2)
    verify_grad(lambda a, b: symnet.grad(T.sum(conv2d(a, b) ** 2), b),
                [rng.randn(1, 2, 5, 5), rng.randn(2, 2, 2, 2)], rng=rng)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_half_pads_half_the_dilated_kernel(mode):
    # Theano's 'half': ((k - 1) * d + 1) // 2 on each side; for an even kernel
    # with d > 1 that is less than d * (k // 2): kernel 2 dilated by 2 (3 wide)
    # pads 1, and the output keeps the input's size
    assert Conv2d("half", (1, 1), True, (2, 2))._pad((2, 4)) == (1, 3)
    x = np.random.RandomState(1).randn(1, 1, 5, 6)
    w = np.random.RandomState(2).randn(1, 1, 2, 2)
    out = conv2d(x, w, border_mode="half", filter_dilation=(2, 2), filter_flip=False).eval(
        mode=mode)
    xp = np.pad(x[0, 0], 1)
    want = sum(xp[2 * a:2 * a + 5, 2 * b:2 * b + 6] * w[0, 0, a, b]
               for a in range(2) for b in range(2))
    np.testing.assert_allclose(out[0, 0], want, rtol=1e-10)
