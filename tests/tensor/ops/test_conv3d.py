"""conv3d against a direct loop over output positions, its two gradient ops
(finite differences to second order through the oracle), and Theano's
AbstractConv3d ops as Lasagne's TransposedConv3DLayer calls them."""
import itertools

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from tests.oracles import check_op, rand


def naive_conv3d(x, w, pad, stride, dil, flip):
    """Cross-correlation (or convolution when ``flip``) by direct loops."""
    if flip:
        w = w[:, :, ::-1, ::-1, ::-1]
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pad))
    k = w.shape[2:]
    outs = [(n - d * (kk - 1) - 1) // s + 1 for n, kk, s, d in zip(x.shape[2:], k, stride, dil)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(outs))
    for pos in itertools.product(*(range(o) for o in outs)):
        sl = tuple(slice(p * s, p * s + d * (kk - 1) + 1, d)
                   for p, s, d, kk in zip(pos, stride, dil, k))
        patch = x[(slice(None), slice(None)) + sl]
        out[(slice(None), slice(None)) + pos] = np.tensordot(patch, w, ([1, 2, 3, 4],
                                                                       [1, 2, 3, 4]))
    return out


CASES = [  # border_mode, padding it means for a (2, 3, 2) kernel, stride, dilation, flip
    ("valid", (0, 0, 0), (1, 1, 1), (1, 1, 1), True),
    ("full", (1, 2, 1), (1, 2, 1), (1, 1, 1), False),
    ("half", (1, 1, 1), (2, 1, 1), (1, 1, 1), True),
    ((1, 0, 2), (1, 0, 2), (1, 1, 2), (1, 2, 1), False),
]


@pytest.mark.parametrize("border_mode, pad, stride, dil, flip", CASES)
def test_conv3d_values_and_gradients(border_mode, pad, stride, dil, flip):
    x = rand((2, 3, 4, 6, 5), rng=np.random.default_rng(0))
    w = rand((2, 3, 2, 3, 2), rng=np.random.default_rng(1))
    if dil != (1, 1, 1):
        pad = tuple(p * d if isinstance(border_mode, str) else p for p, d in zip(pad, dil))

    def fn(a, b):
        return T.nnet.conv3d(a, b, border_mode=border_mode, subsample=stride,
                             filter_dilation=dil, filter_flip=flip)
    check_op(fn, [x, w], ref=lambda a, b: naive_conv3d(a, b, pad, stride, dil, flip),
             grad=True, grad2=border_mode == "valid")


def test_conv3d_static_shape_and_errors():
    x = T.TensorType("float64", shape=(None, 3, 5, 5, 5))("x")
    w = T.TensorType("float64", shape=(4, 3, 3, 3, 3))("w")
    assert T.nnet.conv3d(x, w, subsample=2).type.shape == (None, 4, 2, 2, 2)
    with pytest.raises(ValueError, match="has 2 channels .* expect 3"):
        T.nnet.conv3d(T.TensorType("float64", shape=(1, 2, 5, 5, 5))("y"), w)
    with pytest.raises(TypeError, match="5-D input"):
        T.nnet.conv3d(T.dtensor4("z"), w)
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv3d(x, w, border_mode="wide")


def test_abstract_conv3d_grad_inputs_is_the_transposed_convolution():
    compat.install(lasagne=False)
    try:
        from theano.tensor.nnet import abstract_conv as ac
        x, w, g = T.dtensor5("x"), T.dtensor5("w"), T.dtensor5("g")
        out = ac.AbstractConv3d(subsample=(2, 1, 1), border_mode="half")(x, w)
        gx = symnet.grad((out * g).sum(), x)
        mine = ac.AbstractConv3d_gradInputs(subsample=(2, 1, 1), border_mode="half")(
            w, g, x.shape[2:])
        gw = ac.AbstractConv3d_gradWeights(subsample=(2, 1, 1), border_mode="half")(
            x, g, [3, 1, 3])
        xv = rand((1, 2, 5, 4, 4), rng=np.random.default_rng(2))
        wv = rand((3, 2, 3, 1, 3), rng=np.random.default_rng(3))
        gv = rand((1, 3, 3, 4, 4), rng=np.random.default_rng(4))
        f = symnet.function([x, w, g], [gx, mine, symnet.grad((out * g).sum(), w), gw],
                            mode="py")
        ref_x, got_x, ref_w, got_w = f(xv, wv, gv)
        np.testing.assert_allclose(got_x, ref_x, rtol=1e-10)
        np.testing.assert_allclose(got_w, ref_w, rtol=1e-10)
    finally:
        compat.uninstall()
