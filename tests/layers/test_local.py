"""LocallyConnected2DLayer: unshared-weight 2-d convolution, 'same' padding."""
import numpy as np
import pytest

import symnet
from symnet.layers import InputLayer, LocallyConnected2DLayer, get_output

from ._util import run

rng = np.random.RandomState(3)


def np_local(x, W, flip, channelwise):
    """Reference by definition: out[b, f, i, j] = sum over taps and channels."""
    if channelwise:
        W = np.stack([np.eye(x.shape[1])[f][:, None, None, None, None] * W[f]
                      for f in range(W.shape[0])])  # (F, C, fr, fc, H, W) block-diagonal
    B, C, H, Wd = x.shape
    F, _, fr, fc = W.shape[:4]
    out = np.zeros((B, F, H, Wd))
    for i in range(H):
        for j in range(Wd):
            for a in range(fr):
                for b in range(fc):
                    r, c = i + a - fr // 2, j + b - fc // 2
                    if 0 <= r < H and 0 <= c < Wd:
                        wa, wb = (fr - 1 - a, fc - 1 - b) if flip else (a, b)
                        out[:, :, i, j] += x[:, :, r, c] @ W[:, :, wa, wb, i, j].T
    return out


@pytest.mark.parametrize("filter_size", [(3, 3), (3, 5), (2, 3)])
@pytest.mark.parametrize("flip", [True, False])
@pytest.mark.parametrize("channelwise", [True, False])
def test_output_matches_definition(filter_size, flip, channelwise):
    x = rng.rand(2, 3, 5, 6).astype("float32")
    shape = (3,) + (() if channelwise else (3,)) + filter_size + (5, 6)
    W = rng.randn(*shape).astype("float32")
    b = rng.randn(3).astype("float32")
    layer = LocallyConnected2DLayer(InputLayer((None, 3, 5, 6)), 3, filter_size, W=W, b=b,
                                    flip_filters=flip, channelwise=channelwise,
                                    nonlinearity=None)
    assert layer.output_shape == (None, 3, 5, 6)
    assert layer.W.get_value().shape == shape
    ref = np_local(x, W, flip, channelwise) + b[None, :, None, None]
    np.testing.assert_allclose(run(layer, x), ref, rtol=1e-4, atol=1e-4)


def test_untied_biases_and_gradient():
    l_in = InputLayer((2, 2, 4, 4))
    layer = LocallyConnected2DLayer(l_in, 3, 3, untie_biases=True, nonlinearity=None)
    assert layer.b.get_value().shape == (3, 4, 4)
    cost = (get_output(layer) ** 2).sum()
    g = symnet.function([l_in.input_var], symnet.grad(cost, layer.b), mode="py")
    x = rng.rand(2, 2, 4, 4).astype("float32")
    out = symnet.function([l_in.input_var], get_output(layer), mode="py")(x)
    np.testing.assert_allclose(g(x), 2 * out.sum(axis=0), rtol=1e-5)


def test_unsupported_and_invalid_settings():
    l_in = InputLayer((10, 2, 4, 4))
    for pad in ("valid", "full", 1):
        with pytest.raises(NotImplementedError, match="requires pad='same'"):
            LocallyConnected2DLayer(l_in, 2, 3, pad=pad)
    with pytest.raises(NotImplementedError, match=r"requires stride=1 / \(1, 1\), got "
                                                  r"stride=2"):
        LocallyConnected2DLayer(l_in, 2, 3, stride=2)
    with pytest.raises(ValueError, match="num_filters and the number of input channels "
                                         "should match, got num_filters=4 and 2"):
        LocallyConnected2DLayer(l_in, 4, 3, channelwise=True)
    with pytest.raises(ValueError, match=r"requires a fixed input shape \(except for the "
                                         r"batch size\), got \(10, 2, None, 4\)"):
        LocallyConnected2DLayer(InputLayer((10, 2, None, 4)), 2, 3)
    with pytest.raises(ValueError, match="expected a 4-d input"):
        LocallyConnected2DLayer(InputLayer((10, 2, 4)), 2, 3)
