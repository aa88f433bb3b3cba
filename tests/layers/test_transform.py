"""TransformerLayer and TPSTransformerLayer, against numpy references,
with input sizes known when built or only at run time."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (InputLayer, TPSTransformerLayer, TransformerLayer, get_output)
from symnet.layers import special

rng = np.random.RandomState(7)


def np_bilinear(img, sx, sy, out_h, out_w):
    """Sample img (b, c, h, w) at normalised points (b, n) with clamped borders."""
    b, c, h, w = img.shape
    x = (sx + 1) / 2 * (w - 1)
    y = (sy + 1) / 2 * (h - 1)
    x0, y0 = np.floor(x), np.floor(y)
    out = np.zeros((b, sx.shape[1], c))
    x1, y1 = x0 + 1, y0 + 1
    for yy, xx, wgt in ((y0, x0, (x1 - x) * (y1 - y)), (y1, x0, (x1 - x) * (y - y0)),
                        (y0, x1, (x - x0) * (y1 - y)), (y1, x1, (x - x0) * (y - y0))):
        yi = np.clip(yy, 0, h - 1).astype(int)
        xi = np.clip(xx, 0, w - 1).astype(int)
        for k in range(b):
            out[k] += wgt[k][:, None] * img[k][:, yi[k], xi[k]].T
    return out.reshape(b, out_h, out_w, c).transpose(0, 3, 1, 2)


def np_tps(offsets, k, out_h, out_w):
    """Thin-plate spline through a k x k grid of points moved by offsets (b, 2 k^2):
    where each output pixel samples, fitted with np.linalg.solve."""
    axis = np.linspace(-1, 1, k)
    px, py = [a.ravel() for a in np.meshgrid(axis, axis)]
    n = k * k

    def basis(x, y):
        d2 = (x[None] - px[:, None]) ** 2 + (y[None] - py[:, None]) ** 2
        u = np.where(d2 > 0, d2 * np.log(np.where(d2 > 0, d2, 1)), 0)
        return np.vstack([u, np.ones_like(x)[None], x[None], y[None]])
    A = np.zeros((n + 3, n + 3))
    A[:n] = basis(px, py).T
    A[n:, :n] = basis(px, py)[n:]
    gy, gx = [a.ravel() for a in np.meshgrid(np.linspace(-1, 1, out_h),
                                            np.linspace(-1, 1, out_w), indexing="ij")]
    B = basis(gx, gy)
    src = []
    for off in offsets:
        dest = off.reshape(2, n) + np.stack([px, py])
        coef = np.linalg.solve(A, np.concatenate([dest, np.zeros((2, 3))], axis=1).T)
        src.append(coef.T @ B)
    src = np.array(src)
    return src[:, 0], src[:, 1]


def evaluate(layer, img, loc):
    l_in, l_loc = layer.input_layers
    f = symnet.function([l_in.input_var, l_loc.input_var], get_output(layer), mode="py")
    return f(img, loc)


@pytest.mark.parametrize("known", [True, False])
@pytest.mark.parametrize("precompute", ["auto", False])
def test_tps_matches_reference(known, precompute):
    img = rng.rand(2, 3, 9, 11).astype("float32")
    offsets = rng.uniform(-0.3, 0.3, (2, 18)).astype("float32")
    shape = (None, 3, 9, 11) if known else (None, 3, None, None)
    layer = TPSTransformerLayer(InputLayer(shape), InputLayer((None, 18)),
                                downsample_factor=(1, 1.5), control_points=9,
                                precompute_grid=precompute)
    assert layer.precompute_grid == (known and precompute == "auto")
    assert layer.output_shape == (None, 3) + ((9, 7) if known else (None, None))
    got = evaluate(layer, img, offsets)
    sx, sy = np_tps(offsets.astype("float64"), 3, 9, 7)
    np.testing.assert_allclose(got, np_bilinear(img, sx, sy, 9, 7), rtol=1e-4, atol=1e-4)


def test_tps_zero_offsets_is_identity_and_equal_offsets_shift():
    img = rng.rand(2, 1, 6, 7)
    layer = TPSTransformerLayer(InputLayer((None, 1, 6, 7)), InputLayer((None, 32)))
    np.testing.assert_allclose(evaluate(layer, img.astype("float32"),
                                        np.zeros((2, 32), "float32")), img, atol=1e-4)
    # moving every control point by (0.2, -0.4) is the affine shift
    shift = np.concatenate([np.full(16, 0.2), np.full(16, -0.4)])[None].repeat(2, 0)
    affine = TransformerLayer(InputLayer((None, 1, 6, 7)), InputLayer((None, 6)))
    theta = np.array([[1, 0, 0.2, 0, 1, -0.4]] * 2, "float32")
    np.testing.assert_allclose(evaluate(layer, img.astype("float32"), shift.astype("float32")),
                               evaluate(affine, img.astype("float32"), theta), atol=1e-4)


def test_tps_gradient_reaches_the_offsets():
    l_in, l_loc = InputLayer((None, 1, 5, 5)), InputLayer((None, 8))
    out = get_output(TPSTransformerLayer(l_in, l_loc, control_points=4))
    g = symnet.function([l_in.input_var, l_loc.input_var],
                        symnet.grad((out ** 2).sum(), l_loc.input_var), mode="py")
    grad = g(rng.rand(2, 1, 5, 5).astype("float32"),
             rng.uniform(-0.2, 0.2, (2, 8)).astype("float32"))
    assert grad.shape == (2, 8) and np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_tps_errors():
    l_in = InputLayer((None, 3, 8, 8))
    with pytest.raises(ValueError, match=r"must give shape \(batch, 32\), got \(None, 48\)"):
        TPSTransformerLayer(l_in, InputLayer((None, 48)))
    with pytest.raises(ValueError, match=r"control_points must be a perfect square \(the "
                                         r"source points form a square grid\), got 17"):
        TPSTransformerLayer(l_in, InputLayer((None, 34)), control_points=17)
    with pytest.raises(ValueError, match="the input must have 4 dimensions"):
        TPSTransformerLayer(InputLayer((3, 8, 8)), InputLayer((None, 32)))
    with pytest.raises(ValueError, match="the grid can only be precomputed when the input's "
                                         "rows and cols are known"):
        TPSTransformerLayer(InputLayer((None, 3, None, 8)), InputLayer((None, 32)),
                            precompute_grid=True)
    with pytest.raises(ValueError, match="border_mode"):
        TPSTransformerLayer(l_in, InputLayer((None, 32)), border_mode="reflect")


def test_affine_transformer_with_unknown_sizes():
    img = rng.rand(2, 3, 10, 12).astype("float32")
    theta = (np.array([1, 0, 0, 0, 1, 0]) + rng.uniform(-0.3, 0.3, (2, 6))).astype("float32")
    known = TransformerLayer(InputLayer((None, 3, 10, 12)), InputLayer((None, 6)),
                             downsample_factor=(0.7, 2.3))
    unknown = TransformerLayer(InputLayer((None, 3, None, 12)), InputLayer((None, 6)),
                               downsample_factor=(0.7, 2.3))
    assert known.output_shape == (None, 3, 14, 5)
    assert unknown.output_shape == (None, 3, None, 5)
    np.testing.assert_allclose(evaluate(unknown, img, theta), evaluate(known, img, theta),
                               rtol=1e-5, atol=1e-5)
    # Lasagne's module path still finds both layers
    assert special.TransformerLayer is TransformerLayer
    assert special.TPSTransformerLayer is TPSTransformerLayer


def test_randomized_rectifier_takes_numpy_input_and_bounds():
    from symnet.layers import RandomizedRectifierLayer
    x = -np.ones((2, 3, 4), "float32")
    layer = RandomizedRectifierLayer(x.shape, lower=np.float32(0.25), upper=np.float32(0.25))
    np.testing.assert_allclose(layer.get_output_for(x).eval(mode="py"), 0.25 * x)
    out = RandomizedRectifierLayer(x.shape, lower=0.1, upper=0.3).get_output_for(x)
    slopes = -out.eval(mode="py")
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    with pytest.raises(ValueError, match="0 <= lower <= upper"):
        RandomizedRectifierLayer(x.shape, lower=np.array(0.5), upper=np.array(0.2))
