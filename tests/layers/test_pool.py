"""Pooling and upscaling layers against direct-loop numpy references.

Also covers ``symnet.tensor.signal.pool`` (the Theano namespace over the
pooling op), whose only own code is ``max_pool_2d_same_size``.
"""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (InputLayer, Pool1DLayer, Pool2DLayer, Pool3DLayer,
                           MaxPool1DLayer, MaxPool2DLayer, MaxPool3DLayer, Upscale1DLayer,
                           Upscale2DLayer, Upscale3DLayer, FeaturePoolLayer, FeatureWTALayer,
                           GlobalPoolLayer, SpatialPyramidPoolingLayer, get_output,
                           get_output_shape)
from symnet.layers.pool import pool_output_length
from symnet.tensor.signal import pool as signal_pool

from ._util import run


def out_len(n, w, s, p, ignore_border):
    """Output length by counting window starts (independent of the formula
    under test): starts step by s over the padded axis; with ignore_border
    a window must fit, without it a window must start inside the data."""
    starts = range(0, n + 2 * p, s)
    if ignore_border:
        return sum(1 for a in starts if a + w <= n + 2 * p)
    # Theano: the last window may be partial, but must not start in the
    # part the previous window already covers entirely
    count = 0
    for a in starts:
        if a >= n:
            break
        count += 1
        if a + w >= n:
            break
    return count


def pool_ref(x, ws, st, pad, ignore_border, mode):
    """Direct loops over output positions of the last two axes."""
    H, W = x.shape[-2:]
    oh = out_len(H, ws[0], st[0], pad[0], ignore_border)
    ow = out_len(W, ws[1], st[1], pad[1], ignore_border)
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            # window in padded coordinates, clipped to the padded canvas
            r0, c0 = i * st[0], j * st[1]
            r1, c1 = min(r0 + ws[0], H + 2 * pad[0]), min(c0 + ws[1], W + 2 * pad[1])
            # the part of it that holds data
            dr0, dr1 = max(r0 - pad[0], 0), min(r1 - pad[0], H)
            dc0, dc1 = max(c0 - pad[1], 0), min(c1 - pad[1], W)
            region = x[..., dr0:dr1, dc0:dc1]
            if mode == "max":
                out[..., i, j] = region.max(axis=(-2, -1))
            elif mode == "sum":
                out[..., i, j] = region.sum(axis=(-2, -1))
            elif mode == "average_inc_pad":
                out[..., i, j] = region.sum(axis=(-2, -1)) / ((r1 - r0) * (c1 - c0))
            else:
                out[..., i, j] = region.mean(axis=(-2, -1))
    return out


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def test_pool_output_length():
    for n in range(1, 12):
        for w in (1, 2, 3):
            for s in (1, 2, 3):
                for p in range(w):
                    if n + 2 * p < w:
                        continue  # no window fits: Lasagne's formula goes negative
                    assert pool_output_length(n, w, s, p, True) == out_len(n, w, s, p, True)
                assert pool_output_length(n, w, s, 0, False) == out_len(n, w, s, 0, False)
    assert pool_output_length(None, 2, 2, 0, True) is None
    with pytest.raises(ValueError, match="ignore_border=False"):
        pool_output_length(5, 2, 2, 1, False)


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws,st,pad,ib", [
    (2, None, (0, 0), True), (3, 2, (1, 1), True), ((2, 3), (1, 2), (1, 0), True),
    (2, None, (0, 0), False), (3, 2, (0, 0), False)])
def test_pool2d(mode, ws, st, pad, ib):
    x = rand(2, 3, 7, 8)
    l = Pool2DLayer(InputLayer((None, 3, 7, 8)), ws, stride=st, pad=pad, ignore_border=ib,
                    mode=mode)
    ws2 = ws if isinstance(ws, tuple) else (ws, ws)
    st2 = ws2 if st is None else (st if isinstance(st, tuple) else (st, st))
    assert l.pool_size == ws2 and l.stride == st2 and l.pad == pad
    out = run(l, x)
    np.testing.assert_allclose(out, pool_ref(x, ws2, st2, pad, ib, mode), rtol=1e-5,
                               atol=1e-5)
    assert l.output_shape == (None,) + out.shape[1:]
    assert get_output_shape(l, x.shape) == out.shape


def test_maxpool_layers_and_1d():
    x = rand(2, 3, 9)
    l = MaxPool1DLayer(InputLayer((None, 3, 9)), 2)
    assert l.mode == "max" and l.output_shape == (None, 3, 4)
    ref = pool_ref(x[..., None], (2, 1), (2, 1), (0, 0), True, "max")[..., 0]
    np.testing.assert_allclose(run(l, x), ref)
    l = Pool1DLayer(InputLayer((None, 3, 9)), 3, stride=2, pad=1, mode="average_exc_pad")
    ref = pool_ref(x[..., None], (3, 1), (2, 1), (1, 0), True, "average_exc_pad")[..., 0]
    out = run(l, x)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert l.output_shape == (None, 3, 5) == (None,) + out.shape[1:]
    l = MaxPool1DLayer(InputLayer((None, 3, 9)), 2, ignore_border=False)
    assert l.output_shape == (None, 3, 5) and run(l, x).shape == (2, 3, 5)
    l = MaxPool2DLayer(InputLayer((None, 3, 9, 9)), 3, stride=2)
    assert l.output_shape == (None, 3, 4, 4) and l.mode == "max"
    with pytest.raises(ValueError, match="Expected 4 input dimensions"):
        MaxPool2DLayer(InputLayer((None, 9, 9)), 2)
    with pytest.raises(ValueError, match="Expected 3 input dimensions"):
        Pool1DLayer(InputLayer((None, 3, 9, 9)), 2)


def test_maxpool_gradient_routes_to_max():
    x = rand(1, 1, 4, 4)
    l_in = InputLayer((None, 1, 4, 4))
    out = get_output(MaxPool2DLayer(l_in, 2), l_in.input_var)
    g = symnet.grad(out.sum(), l_in.input_var)
    gx = symnet.function([l_in.input_var], g, mode="py")(x)
    ref = np.zeros_like(x)
    for i in range(2):
        for j in range(2):
            win = x[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            r, c = np.unravel_index(win.argmax(), win.shape)
            ref[0, 0, 2 * i + r, 2 * j + c] = 1
    np.testing.assert_array_equal(gx, ref)


@pytest.mark.parametrize("cls,shape,factor", [
    (Upscale1DLayer, (2, 3, 4), 3), (Upscale2DLayer, (2, 3, 4, 5), (2, 3)),
    (Upscale2DLayer, (2, 3, 4, 5), 1), (Upscale3DLayer, (1, 2, 2, 3, 2), (1, 2, 3))])
@pytest.mark.parametrize("mode", ["repeat", "dilate"])
def test_upscale(cls, shape, factor, mode):
    x = rand(*shape)
    n = len(shape) - 2
    f = factor if isinstance(factor, tuple) else (factor,) * n
    l = cls(InputLayer((None,) + shape[1:]), factor, mode=mode)
    out = run(l, x)
    if mode == "repeat":
        ref = x
        for k, s in enumerate(f):
            ref = np.repeat(ref, s, axis=2 + k)
    else:
        ref = np.zeros(shape[:2] + tuple(n_ * s for n_, s in zip(shape[2:], f)), "float32")
        ref[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in f)] = x
    np.testing.assert_array_equal(out, ref)
    assert l.output_shape == (None,) + ref.shape[1:]


def test_upscale_errors_and_unknown_sizes():
    with pytest.raises(ValueError, match="Scale factor must be >= 1"):
        Upscale2DLayer((None, 1, 2, 2), 0)
    with pytest.raises(ValueError, match="Mode must be"):
        Upscale1DLayer((None, 1, 2), 2, mode="nearest")
    l = Upscale2DLayer(InputLayer((None, 1, None, 3)), 2, mode="dilate")
    assert l.output_shape == (None, 1, None, 6)
    assert run(l, rand(2, 1, 3, 3)).shape == (2, 1, 6, 6)


def test_feature_pool_and_wta():
    x = rand(2, 6, 5)
    l = FeaturePoolLayer(InputLayer((None, 6, 5)), 3)
    assert l.output_shape == (None, 2, 5)
    np.testing.assert_array_equal(run(l, x), x.reshape(2, 2, 3, 5).max(axis=2))
    l = FeaturePoolLayer(InputLayer((None, 6, 4)), 2, axis=-1, pool_function=T.mean)
    assert l.output_shape == (None, 6, 2)
    np.testing.assert_allclose(run(l, x[:, :, :4]), x[:, :, :4].reshape(2, 6, 2, 2).mean(-1),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="not a multiple of the pool size"):
        FeaturePoolLayer(InputLayer((None, 7)), 2)
    l = FeatureWTALayer(InputLayer((None, 6, 5)), 3)
    assert l.output_shape == (None, 6, 5)
    g = x.reshape(2, 2, 3, 5)
    ref = (g * (g == g.max(axis=2, keepdims=True))).reshape(x.shape)
    np.testing.assert_array_equal(run(l, x), ref)
    with pytest.raises(ValueError, match="not a multiple"):
        FeatureWTALayer(InputLayer((None, 5)), 2)


def test_global_pool():
    x = rand(2, 3, 4, 5)
    l = GlobalPoolLayer(InputLayer((None, 3, 4, 5)))
    assert l.output_shape == (None, 3)
    np.testing.assert_allclose(run(l, x), x.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    l = GlobalPoolLayer(InputLayer((None, 3, None)), pool_function=T.max)
    np.testing.assert_array_equal(run(l, x[:, :, 0]), x[:, :, 0].max(axis=2))


def test_spatial_pyramid_pooling():
    x = rand(2, 3, 7, 9)
    l = SpatialPyramidPoolingLayer(InputLayer((None, 3, 7, 9)), [3, 2, 1],
                                   implementation="kaiming")
    assert l.output_shape == (None, 3, 14)
    out = run(l, x)
    refs = []
    for p in (3, 2, 1):
        for i in range(p):
            for j in range(p):
                r0, r1 = int(np.floor(i * 7 / p)), int(np.ceil((i + 1) * 7 / p))
                c0, c1 = int(np.floor(j * 9 / p)), int(np.ceil((j + 1) * 9 / p))
                refs.append(x[:, :, r0:r1, c0:c1].max(axis=(2, 3)))
    np.testing.assert_array_equal(out, np.stack(refs, axis=2))
    # 'fast': one pooling per level with window ceil(n/p) and stride floor(n/p)
    x = rand(2, 3, 8, 8)
    l = SpatialPyramidPoolingLayer(InputLayer((None, 3, 8, 8)), [4, 2, 1],
                                   mode="average_exc_pad")
    out = run(l, x)
    assert out.shape == (2, 3, 21) and l.output_shape == (None, 3, 21)
    ref = np.concatenate([x.reshape(2, 3, p, 8 // p, p, 8 // p).mean(axis=(3, 5))
                          .reshape(2, 3, p * p) for p in (4, 2, 1)], axis=2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("implementation", ["fast", "kaiming"])
@pytest.mark.parametrize("mode", ["max", "average_exc_pad", "sum"])
def test_spatial_pyramid_pooling_unknown_sizes(implementation, mode):
    # Spatial sizes known only at run time give the same bins as known ones.
    x = rand(2, 3, 17, 13)
    known = SpatialPyramidPoolingLayer(InputLayer((None, 3, 17, 13)), [3, 2, 1], mode=mode,
                                       implementation=implementation)
    unknown = SpatialPyramidPoolingLayer(InputLayer((None, None, None, None)), [3, 2, 1],
                                         mode=mode, implementation=implementation)
    assert unknown.output_shape == (None, None, 14)
    out = run(unknown, x)
    assert out.shape == (2, 3, 14)
    np.testing.assert_allclose(out, run(known, x), rtol=1e-5, atol=1e-5)


def test_spatial_pyramid_pooling_errors():
    with pytest.raises(ValueError, match=r"SpatialPyramidPoolingLayer: Expected 4 input "
                                         r"dimensions, got input shape \(10, 20, 30\)"):
        SpatialPyramidPoolingLayer((10, 20, 30))
    with pytest.raises(ValueError, match="Mode must be either 'max', 'average_inc_pad' or "
                                         "'average_exc_pad'. Got 'median'"):
        SpatialPyramidPoolingLayer((None, 3, 8, 8), mode="median")


def test_signal_pool_namespace():
    x = T.tensor4("x")
    xv = rand(1, 2, 5, 4)
    assert signal_pool.pool_2d is symnet.tensor.ops.pool.pool_2d
    # Theano's op form (settings first, window when called); made with a
    # window first it is the op itself
    assert type(signal_pool.Pool((2, 2))) is symnet.tensor.ops.pool.Pool
    assert isinstance(signal_pool.Pool(True)(x, (2, 2)).owner.op, signal_pool.Pool)
    f = symnet.function([x], signal_pool.max_pool_2d_same_size(x, (2, 2)), mode="py")
    out = f(xv)
    ref = np.zeros_like(xv)
    for i in range(2):
        for j in range(2):
            win = xv[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            ref[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2] = win * (
                win == win.max(axis=(2, 3), keepdims=True))
    np.testing.assert_array_equal(out, ref)


def pool3d_ref(x, ws, st, pad, ib, mode):
    """Direct loops over 3-d boxes (window clipped as in pool_ref)."""
    n = x.shape[2:]
    o = [out_len(n[k], ws[k], st[k], pad[k], ib) for k in range(3)]
    out = np.zeros(x.shape[:2] + tuple(o))
    for idx in np.ndindex(*o):
        lo = [idx[k] * st[k] for k in range(3)]
        hi = [min(lo[k] + ws[k], n[k] + 2 * pad[k]) for k in range(3)]
        box = tuple(slice(max(lo[k] - pad[k], 0), min(hi[k] - pad[k], n[k]))
                    for k in range(3))
        region = x[(slice(None), slice(None)) + box]
        if mode == "max":
            v = region.max(axis=(2, 3, 4))
        elif mode == "sum":
            v = region.sum(axis=(2, 3, 4))
        elif mode == "average_inc_pad":
            v = region.sum(axis=(2, 3, 4)) / np.prod([h - l for l, h in zip(lo, hi)])
        else:
            v = region.mean(axis=(2, 3, 4))
        out[(slice(None), slice(None)) + idx] = v
    return out


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws,st,pad,ib", [
    (2, None, (0, 0, 0), True), ((3, 2, 2), (2, 1, 2), (1, 0, 1), True),
    ((2, 3, 2), None, (0, 0, 0), False)])
def test_pool3d(mode, ws, st, pad, ib):
    x = rand(2, 2, 5, 6, 7)
    l = Pool3DLayer(InputLayer((None, 2, 5, 6, 7)), ws, stride=st, pad=pad,
                    ignore_border=ib, mode=mode)
    ws3 = ws if isinstance(ws, tuple) else (ws,) * 3
    st3 = ws3 if st is None else st
    out = run(l, x)
    np.testing.assert_allclose(out, pool3d_ref(x, ws3, st3, pad, ib, mode), rtol=1e-5,
                               atol=1e-5)
    assert l.output_shape == (None,) + out.shape[1:]
    assert MaxPool3DLayer((None, 2, 5, 6, 7), ws, st, pad, ib).output_shape == l.output_shape
    with pytest.raises(ValueError, match="Expected 5 input dimensions"):
        Pool3DLayer(InputLayer((None, 2, 5, 6)), 2)
