"""theano.tensor.nnet.corr / corr3d: CorrMM and its gradients correlate
(no filter flip) in Theano's argument forms, against numpy loops and the
gradients of the forward op; ``shape`` left out where it follows."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights
from symnet.tensor.nnet.corr3d import Corr3dMM, Corr3dMM_gradWeights


def corr2d_loops(img, kern, pad=0, stride=1):
    img = np.pad(img, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    b, c, h, w = img.shape
    f, _, kh, kw = kern.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((b, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = img[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("bcxy,fcxy->bf", patch, kern)
    return out


RNG = np.random.default_rng(0)
IMG = RNG.standard_normal((2, 3, 6, 5))
KERN = RNG.standard_normal((4, 3, 3, 2))


@pytest.mark.parametrize("border_mode,pad", [("valid", 0), ("full", None), (1, 1), ((1, 1), 1)])
@pytest.mark.parametrize("mode", ["py", "numba"])
def test_corrmm_correlates_without_flipping(border_mode, pad, mode):
    out = CorrMM(border_mode)(IMG, KERN).eval(mode=mode)
    if pad is None:   # 'full': kernel size - 1 on each side, per axis
        want = corr2d_loops(np.pad(IMG, ((0, 0), (0, 0), (2, 2), (1, 1))), KERN)
    else:
        want = corr2d_loops(IMG, KERN, pad)
    np.testing.assert_allclose(out, want, rtol=1e-10)


def test_corrmm_subsample_and_gradients_match_the_forward_ops():
    x, k = T.dtensor4("x"), T.dtensor4("k")
    fwd = CorrMM("valid", (2, 2))(x, k)
    np.testing.assert_allclose(fwd.eval({x: IMG, k: KERN}, mode="py"),
                               corr2d_loops(IMG, KERN, stride=2), rtol=1e-10)
    top = T.dtensor4("top")
    cost = (fwd * top).sum()
    gx, gk = symnet.grad(cost, [x, k])
    topv = RNG.standard_normal((2, 4, 2, 2))
    gi = CorrMM_gradInputs("valid", (2, 2))(k, top, x.shape[2:])
    gw = CorrMM_gradWeights("valid", (2, 2))(x, top, k.shape[2:])
    f = symnet.function([x, k, top], [gx, gk, gi, gw], mode="py")
    a, b, c, d = f(IMG, KERN, topv)
    np.testing.assert_allclose(c, a, rtol=1e-10)
    np.testing.assert_allclose(d, b, rtol=1e-10)


@pytest.mark.parametrize("border_mode", ["valid", "full"])
def test_gradients_without_shape_follow_from_the_sizes(border_mode):
    x, k = T.dtensor4("x"), T.dtensor4("k")
    out = CorrMM(border_mode)(x, k)
    top = T.dtensor4("top")
    gx, gk = symnet.grad((out * top).sum(), [x, k])
    gi = CorrMM_gradInputs(border_mode)(k, top)
    gw = CorrMM_gradWeights(border_mode)(x, top)
    shape = (2, 4, 4, 4) if border_mode == "valid" else (2, 4, 8, 6)
    f = symnet.function([x, k, top], [gx, gk, gi, gw], mode="py")
    a, b, c, d = f(IMG, KERN, RNG.standard_normal(shape))
    assert c.shape == IMG.shape and d.shape == KERN.shape
    np.testing.assert_allclose(c, a, rtol=1e-10)
    np.testing.assert_allclose(d, b, rtol=1e-10)


def test_shape_needed_with_stride_and_unshared_refused():
    with pytest.raises(ValueError, match=r"CorrMM_gradWeights: shape must be given when "
                                         r"subsample \(\(2, 2\)\)"):
        CorrMM_gradWeights("valid", (2, 2))(T.dtensor4(), T.dtensor4())
    with pytest.raises(NotImplementedError, match="CorrMM: unshared"):
        CorrMM(unshared=True)


def test_corr3d_forward_and_weight_gradient():
    img = RNG.standard_normal((1, 2, 4, 3, 3))
    kern = RNG.standard_normal((3, 2, 2, 2, 1))
    out = Corr3dMM()(img, kern).eval(mode="py")
    want = np.zeros((1, 3, 3, 2, 3))
    for i in range(3):
        for j in range(2):
            for m in range(3):
                want[:, :, i, j, m] = np.einsum("bcxyz,fcxyz->bf",
                                                img[:, :, i:i + 2, j:j + 2, m:m + 1], kern)
    np.testing.assert_allclose(out, want, rtol=1e-10)
    x, k, top = T.dtensor5(), T.dtensor5(), T.dtensor5()
    gk = symnet.grad((Corr3dMM()(x, k) * top).sum(), k)
    gw = Corr3dMM_gradWeights()(x, top)
    topv = RNG.standard_normal(want.shape)
    a, b = symnet.function([x, k, top], [gk, gw], mode="py")(img, kern, topv)
    np.testing.assert_allclose(b, a, rtol=1e-10)
