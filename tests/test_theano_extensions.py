"""``symnet.theano_extensions`` (Lasagne's ``lasagne.theano_extensions``):
the 1-d convolutions and ``padding.pad``, checked against numpy."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.theano_extensions import conv, padding

rng = np.random.RandomState(42)
ALL = ["conv1d_sc", "conv1d_mc0", "conv1d_mc1", "conv1d_unstrided", "conv1d_sd", "conv1d_md"]
PADDED = ["conv1d_sc", "conv1d_mc0", "conv1d_mc1"]


def np_conv1d(x, w, pad=0, stride=1, flip=True):
    """Reference: (batch, channels, n) * (filters, channels, k), zero padding."""
    x = np.pad(x, [(0, 0), (0, 0), (pad, pad)])
    if flip:
        w = w[:, :, ::-1]
    k = w.shape[2]
    n_out = x.shape[2] - k + 1
    out = np.zeros((x.shape[0], w.shape[0], n_out))
    for t in range(n_out):
        out[:, :, t] = np.einsum("bck,fck->bf", x[:, :, t:t + k], w)
    return out[:, :, ::stride]


def run(impl, x, w, **kwargs):
    X, W = T.tensor3("X"), T.tensor3("W")
    y = getattr(conv, impl)(X, W, x.shape, w.shape, **kwargs)
    return symnet.function([X, W], y, mode="py")(x, w)


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("stride", [1, 2])
def test_valid_convolution_matches_numpy(impl, flip, stride):
    x = rng.randn(2, 3, 11).astype("float32")
    w = rng.randn(4, 3, 4).astype("float32")
    out = run(impl, x, w, subsample=(stride,), filter_flip=flip)
    np.testing.assert_allclose(out, np_conv1d(x, w, stride=stride, flip=flip),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", PADDED)
@pytest.mark.parametrize("mode,pad", [("full", 2), ("half", 1), (2, 2), ((1,), 1)])
def test_border_modes(impl, mode, pad):
    x = rng.randn(2, 3, 9).astype("float32")
    w = rng.randn(2, 3, 3).astype("float32")
    np.testing.assert_allclose(run(impl, x, w, border_mode=mode), np_conv1d(x, w, pad=pad),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", ["conv1d_mc0", "conv1d_mc1"])
def test_shapes_may_be_omitted(impl):
    X, W = T.tensor3("X"), T.tensor3("W")
    x, w = rng.randn(1, 2, 8).astype("float32"), rng.randn(3, 2, 3).astype("float32")
    f = symnet.function([X, W], getattr(conv, impl)(X, W, None, None), mode="py")
    np.testing.assert_allclose(f(x, w), np_conv1d(x, w), rtol=1e-4, atol=1e-4)


def test_single_channel_full_needs_filter_length():
    X, W = T.tensor3("X"), T.tensor3("W")
    with pytest.raises(ValueError, match="conv1d_sc: the filter length is needed here"):
        conv.conv1d_sc(X, W, None, None, border_mode="full")


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("mode", [None, "same", 1.5])
def test_invalid_border_mode(impl, mode):
    X, W = T.tensor3("X"), T.tensor3("W")
    with pytest.raises(ValueError, match=f"{impl}: (invalid|unsupported) border_mode"):
        getattr(conv, impl)(X, W, (1, 1, 10), (2, 1, 3), border_mode=mode)


@pytest.mark.parametrize("impl", ["conv1d_unstrided", "conv1d_sd", "conv1d_md"])
def test_folded_variants_refuse_what_lasagne_refuses(impl):
    X, W = T.tensor3("X"), T.tensor3("W")
    with pytest.raises(ValueError, match=r"the filter length \(3\) is not a multiple of the "
                                         r"stride \(2\)"):
        getattr(conv, impl)(X, W, (1, 1, 10), (2, 1, 3), subsample=(2,))
    with pytest.raises(ValueError, match="only 'valid' is supported"):
        getattr(conv, impl)(X, W, (1, 1, 10), (2, 1, 3), border_mode="full")


def test_gradient_through_conv1d_matches_finite_differences():
    X, W = T.dtensor3("X"), T.dtensor3("W")
    cost = (conv.conv1d_mc1(X, W, border_mode=1, subsample=(2,)) ** 2).sum()
    g = symnet.function([X, W], symnet.grad(cost, W), mode="py")
    c = symnet.function([X, W], cost, mode="py")
    x, w = rng.randn(1, 2, 7), rng.randn(2, 2, 3)
    eps, num = 1e-6, np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        wp, wm = w.copy(), w.copy()
        wp[idx] += eps
        wm[idx] -= eps
        num[idx] = (c(x, wp) - c(x, wm)) / (2 * eps)
    np.testing.assert_allclose(g(x, w), num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_ndim", [1, 2])
@pytest.mark.parametrize("width", [3, [(1, 2), (0, 3)], [1, 2]])
@pytest.mark.parametrize("val", [0, 7])
def test_pad(batch_ndim, width, val):
    x = rng.randn(2, 3, 4, 5).astype("float32")
    X = T.tensor4("X")
    n = 4 - batch_ndim
    if isinstance(width, int):
        pads = [(width, width)] * n
    else:
        pads = [w if isinstance(w, tuple) else (w, w) for w in width]
        pads = pads + [(0, 0)] * (n - len(pads))  # fewer widths pad the first axes only
    out = padding.pad(X, width, val, batch_ndim).eval({X: x}, mode="py")
    ref = np.pad(x, [(0, 0)] * batch_ndim + pads, constant_values=val)
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == x.dtype


def test_pad_too_many_widths():
    with pytest.raises(ValueError, match=r"gives 3 axes, but only 2 axes can be padded"):
        padding.pad(T.tensor3("x"), [1, 1, 1], batch_ndim=1)
