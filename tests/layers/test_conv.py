"""Convolution layers against direct-loop numpy references."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import nonlinearities
from symnet.layers import (InputLayer, Conv1DLayer, Conv2DLayer, Conv3DLayer,
                           TransposedConv2DLayer,
                           Deconv2DLayer, DilatedConv2DLayer, MaxPool2DLayer, DenseLayer,
                           get_output, get_all_params, get_output_shape)
from symnet.layers.conv import conv_output_length, conv_input_length

from ._util import run


def corr2d(x, w, pad=(0, 0), stride=(1, 1), dilation=(1, 1)):
    """Cross-correlation by direct loops: x (B, C, H, W), w (K, C, kh, kw)."""
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    kh, kw = w.shape[2:]
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    oh = (x.shape[2] - eh) // stride[0] + 1
    ow = (x.shape[3] - ew) // stride[1] + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            r, c = i * stride[0], j * stride[1]
            patch = x[:, :, r:r + eh:dilation[0], c:c + ew:dilation[1]]
            out[:, :, i, j] = np.einsum("bcuv,kcuv->bk", patch, w)
    return out


def conv2d_ref(x, w, pad=(0, 0), stride=(1, 1), flip=True):
    return corr2d(x, w[:, :, ::-1, ::-1] if flip else w, pad, stride)


def tconv2d_ref(x, W, stride, crop, out_size, flip_filters):
    """Transposed convolution by scattering: W (C_in, F, kh, kw)."""
    w = W if flip_filters else W[:, :, ::-1, ::-1]
    B, C, H, Wd = x.shape
    kh, kw = W.shape[2:]
    full = np.zeros((B, W.shape[1], out_size[0] + 2 * crop[0] + kh,
                     out_size[1] + 2 * crop[1] + kw))
    for i in range(H):
        for j in range(Wd):
            r, c = i * stride[0], j * stride[1]
            full[:, :, r:r + kh, c:c + kw] += np.einsum("bc,cfuv->bfuv", x[:, :, i, j], w)
    return full[:, :, crop[0]:crop[0] + out_size[0], crop[1]:crop[1] + out_size[1]]


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def test_conv_length_helpers():
    assert conv_output_length(10, 3, 1, "valid") == 8
    assert conv_output_length(10, 3, 1, "full") == 12
    assert conv_output_length(10, 4, 3, "same") == 4
    assert conv_output_length(10, 3, 2, 1) == 5
    assert conv_output_length(None, 3, 2, 1) is None
    assert conv_input_length(8, 3, 1, "valid") == 10
    assert conv_input_length(12, 3, 1, "full") == 10
    assert conv_input_length(5, 3, 2, 1) == 9
    with pytest.raises(ValueError, match="Invalid pad"):
        conv_output_length(10, 3, 1, "bogus")


@pytest.mark.parametrize("pad,stride,flip", [
    (0, 1, True), ("valid", 2, False), ("full", 1, True), ("same", 1, False),
    ((1, 2), (2, 1), True), ("same", 2, True)])
def test_conv2d_values_and_shapes(pad, stride, flip):
    x = rand(2, 3, 7, 8)
    l_in = InputLayer((None, 3, 7, 8))
    l = Conv2DLayer(l_in, 4, (3, 3), stride=stride, pad=pad, flip_filters=flip,
                    b=np.arange(4, dtype="float32") * 0.1, nonlinearity=None)
    assert l.W.get_value().shape == (4, 3, 3, 3)
    out = run(l, x)
    p = {"valid": (0, 0), "full": (2, 2), "same": (1, 1)}.get(pad, pad)
    p = (p, p) if isinstance(p, int) else p
    s = (stride, stride) if isinstance(stride, int) else stride
    ref = conv2d_ref(x, l.W.get_value(), p, s, flip) + 0.1 * np.arange(4)[:, None, None]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert l.output_shape[1:] == out.shape[1:] and l.output_shape[0] is None
    assert get_output_shape(l, (2, 3, 7, 8)) == out.shape
    if pad == "same" and stride == 1:
        assert out.shape[2:] == x.shape[2:]


def test_flip_filters_is_convolution_vs_correlation():
    x = rand(1, 1, 5, 5)
    w = rand(1, 1, 3, 3, seed=1)
    l_in = InputLayer((1, 1, 5, 5))
    conv = Conv2DLayer(l_in, 1, 3, W=w, b=None, nonlinearity=None, flip_filters=True)
    corr = Conv2DLayer(l_in, 1, 3, W=w, b=None, nonlinearity=None, flip_filters=False)
    corr_flipped = Conv2DLayer(l_in, 1, 3, W=w[:, :, ::-1, ::-1].copy(), b=None,
                               nonlinearity=None, flip_filters=False)
    a, b, c = run(conv, x), run(corr, x), run(corr_flipped, x)
    np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
    assert not np.allclose(a, b)
    # element (0, 0) of a correlation is the plain dot product with the window
    np.testing.assert_allclose(b[0, 0, 0, 0], (x[0, 0, :3, :3] * w[0, 0]).sum(), rtol=1e-5)


@pytest.mark.parametrize("fs,stride", [(2, 1), (4, 1), ((2, 3), (2, 2)), (4, 3)])
def test_same_padding_even_filters(fs, stride):
    x = rand(2, 2, 7, 6)
    l = Conv2DLayer(InputLayer((None, 2, 7, 6)), 3, fs, stride=stride, pad="same",
                    nonlinearity=None)
    out = run(l, x)
    fs2 = fs if isinstance(fs, tuple) else (fs, fs)
    s = stride if isinstance(stride, tuple) else (stride, stride)
    assert out.shape == (2, 3, -(-7 // s[0]), -(-6 // s[1]))
    assert l.output_shape == (None,) + out.shape[1:]
    # one more zero before the input than after it: pad f // 2, drop the end
    ref = conv2d_ref(x, l.W.get_value(), (fs2[0] // 2, fs2[1] // 2), s)
    np.testing.assert_allclose(out, ref[:, :, :out.shape[2], :out.shape[3]], rtol=1e-4,
                               atol=1e-4)


def test_same_padding_unknown_spatial_size():
    l_in = InputLayer((None, 1, None, None))
    l = Conv2DLayer(l_in, 2, 4, pad="same", nonlinearity=None)
    assert l.output_shape == (None, 2, None, None)
    out = run(l, rand(1, 1, 5, 6))
    assert out.shape == (1, 2, 5, 6)
    l = Conv2DLayer(l_in, 2, 3, stride=2, pad="same")
    assert run(l, rand(1, 1, 5, 6)).shape == (1, 2, 3, 3)


def test_untie_biases_and_nonlinearity():
    x = rand(2, 1, 5, 5)
    b = rand(2, 3, 3, seed=3)
    l = Conv2DLayer(InputLayer((None, 1, 5, 5)), 2, 3, untie_biases=True, b=b)
    assert l.b.get_value().shape == (2, 3, 3)
    assert l.params[l.b] == {"trainable"} and l.params[l.W] == {"trainable", "regularizable"}
    ref = np.maximum(conv2d_ref(x, l.W.get_value()) + b, 0)
    np.testing.assert_allclose(run(l, x), ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="untie_biases"):
        Conv2DLayer(InputLayer((None, 1, None, 5)), 2, 3, untie_biases=True)


def test_conv2d_errors():
    with pytest.raises(ValueError, match="Expected 4 input dimensions"):
        Conv2DLayer(InputLayer((None, 3, 5)), 2, 3)
    with pytest.raises(ValueError, match="input channels"):
        Conv2DLayer(InputLayer((None, None, 5, 5)), 2, 3)
    with pytest.raises(ValueError, match=r"should be \(2, 3, 3, 3\)"):
        Conv2DLayer(InputLayer((None, 3, 5, 5)), 2, 3, W=np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="iterable with length 2"):
        Conv2DLayer(InputLayer((None, 3, 5, 5)), 2, (3, 3, 3))


def test_conv1d_values():
    x = rand(2, 3, 9)
    for pad, p in (("valid", 0), ("same", 1), ("full", 2), (1, 1)):
        l = Conv1DLayer(InputLayer((None, 3, 9)), 4, 3, stride=2, pad=pad, nonlinearity=None)
        W = l.W.get_value()
        assert W.shape == (4, 3, 3)
        out = run(l, x)
        ref = conv2d_ref(x[:, :, None, :], W[:, :, None, :], (0, p), (1, 2))[:, :, 0]
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
        assert l.output_shape == (None, 4, ref.shape[2])
    l = Conv1DLayer(InputLayer((None, 3, 9)), 2, 4, pad="same", flip_filters=False)
    out = run(l, x)
    ref = corr2d(x[:, :, None, :], l.W.get_value()[:, :, None, :], (0, 2))[:, :, 0, :9]
    np.testing.assert_allclose(out, np.maximum(ref, 0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride,crop,fs,flip,out_size", [
    (1, 0, 3, False, None), (2, 0, 3, False, None), (2, 1, 4, True, None),
    ((2, 3), "full", (3, 2), False, None), (1, "same", 3, False, None),
    (2, 1, 4, False, (9, 9)), (1, "valid", 2, True, None)])
def test_transposed_conv(stride, crop, fs, flip, out_size):
    x = rand(2, 3, 4, 5)
    l = TransposedConv2DLayer(InputLayer((None, 3, 4, 5)), 2, fs, stride=stride, crop=crop,
                              flip_filters=flip, output_size=out_size, nonlinearity=None,
                              b=np.array([0.5, -0.5], "float32"))
    W = l.W.get_value()
    fs2 = fs if isinstance(fs, tuple) else (fs, fs)
    assert W.shape == (3, 2) + fs2
    s = stride if isinstance(stride, tuple) else (stride, stride)
    c = {"valid": (0, 0), "full": (fs2[0] - 1, fs2[1] - 1),
         "same": (fs2[0] // 2, fs2[1] // 2)}.get(crop, crop)
    c = (c, c) if isinstance(c, int) else c
    size = out_size or tuple((n - 1) * st - 2 * cc + f
                             for n, st, cc, f in zip((4, 5), s, c, fs2))
    assert l.output_shape == (None, 2) + size
    out = run(l, x)
    ref = tconv2d_ref(x, W, s, c, size, flip) + np.array([0.5, -0.5])[:, None, None]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert not hasattr(l, "pad") and l.crop is not None


def test_transposed_conv_is_adjoint_of_conv():
    """<conv(x), y> == <x, tconv(y)> with the weights shared, as Lasagne's
    docs suggest (flip_filters inverted)."""
    y = rand(2, 4, 5, 5, seed=1)
    assert Deconv2DLayer is TransposedConv2DLayer
    # 9 and 10 both convolve to 5 with stride 2: output_size picks one
    for n, out_size in ((9, None), (10, 10)):
        x = rand(2, 3, n, n)
        conv = Conv2DLayer(InputLayer((None, 3, n, n)), 4, 3, stride=2, pad=1, b=None,
                           nonlinearity=None)
        tconv = TransposedConv2DLayer(InputLayer((None, 4, 5, 5)), 3, 3, stride=2, crop=1,
                                      W=conv.W, b=None, nonlinearity=None,
                                      flip_filters=not conv.flip_filters,
                                      output_size=out_size)
        assert tconv.output_shape == (None, 3, n, n)
        cy, tx = run(conv, x), run(tconv, y)
        assert cy.shape == y.shape and tx.shape == x.shape
        np.testing.assert_allclose((cy * y).sum(), (x * tx).sum(), rtol=1e-4)


def test_transposed_conv_symbolic_output_size():
    size = T.lvector("size")
    l_in = InputLayer((None, 1, 3, 3))
    l = TransposedConv2DLayer(l_in, 1, 3, stride=2, output_size=size, nonlinearity=None)
    assert l.output_shape == (None, 1, None, None)
    f = symnet.function([l_in.input_var, size], get_output(l), mode="py")
    assert f(rand(1, 1, 3, 3), np.array([8, 7])).shape == (1, 1, 8, 7)


def test_dilated_conv():
    x = rand(2, 3, 9, 10)
    l = DilatedConv2DLayer(InputLayer((None, 3, 9, 10)), 4, (3, 2), dilation=(2, 3),
                           nonlinearity=None, b=None)
    W = l.W.get_value()
    assert W.shape == (3, 4, 3, 2)
    assert l.output_shape == (None, 4, 5, 7)
    ref = corr2d(x, W.transpose(1, 0, 2, 3), dilation=(2, 3))
    np.testing.assert_allclose(run(l, x), ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(NotImplementedError, match="pad"):
        DilatedConv2DLayer(InputLayer((None, 3, 9, 10)), 4, 3, pad=1)
    with pytest.raises(NotImplementedError, match="flip_filters=False"):
        DilatedConv2DLayer(InputLayer((None, 3, 9, 10)), 4, 3, flip_filters=True)


def test_gradients_reach_W_and_b_numerically():
    x = rand(2, 2, 5, 5)
    l_in = InputLayer((None, 2, 5, 5))
    l = Conv2DLayer(l_in, 3, 3, pad=1, stride=2, nonlinearity=nonlinearities.tanh)
    loss = T.sum(get_output(l) ** 2)
    params = get_all_params(l, trainable=True)
    assert params == [l.W, l.b]
    grads = symnet.grad(loss, params)
    f = symnet.function([l_in.input_var], [loss] + grads, mode="py")
    out = f(x)
    for p, g in zip(params, out[1:]):
        assert g.shape == p.get_value().shape and np.abs(g).sum() > 0
        # central difference on one entry
        v = p.get_value()
        idx = (0,) * v.ndim
        eps = 1e-2
        losses = []
        for step in (eps, -eps):
            v2 = v.copy()
            v2[idx] += step
            p.set_value(v2)
            losses.append(f(x)[0])
        p.set_value(v)
        lp, lm = losses
        np.testing.assert_allclose(g[idx], (lp - lm) / (2 * eps), rtol=2e-2, atol=1e-3)


def test_tiny_cnn_trains():
    rng = np.random.RandomState(0)
    x = rng.randn(16, 1, 12, 12).astype("float32")
    y = rng.randint(0, 3, 16).astype("int32")
    l_in = InputLayer((None, 1, 12, 12))
    l = Conv2DLayer(l_in, 4, 5)
    l = MaxPool2DLayer(l, 2)
    assert l.output_shape == (None, 4, 4, 4)
    l_out = DenseLayer(l, 3, nonlinearity=nonlinearities.softmax)
    t = T.ivector("t")
    loss = T.mean(T.nnet.categorical_crossentropy(get_output(l_out), t))
    params = get_all_params(l_out, trainable=True)
    updates = [(p, p - 0.1 * g) for p, g in zip(params, symnet.grad(loss, params))]
    train = symnet.function([l_in.input_var, t], loss, updates=updates, mode="py")
    losses = [float(train(x, y)) for _ in range(8)]
    assert losses[-1] < losses[0] - 0.05, losses


def test_transposed_conv_unknown_input_size():
    x = rand(2, 2, 5, 6)
    l_in = InputLayer((None, 2, None, None))
    l = TransposedConv2DLayer(l_in, 3, 4, stride=2, crop=1, nonlinearity=None, b=None)
    assert l.output_shape == (None, 3, None, None)
    out = run(l, x)
    assert out.shape == (2, 3, 10, 12)
    np.testing.assert_allclose(out, tconv2d_ref(x, l.W.get_value(), (2, 2), (1, 1),
                                                (10, 12), False), rtol=1e-4, atol=1e-4)


def corr3d(x, w, pad, stride):
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pad))
    k = w.shape[2:]
    o = [(x.shape[2 + i] - k[i]) // stride[i] + 1 for i in range(3)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(o))
    for idx in np.ndindex(*o):
        box = tuple(slice(idx[i] * stride[i], idx[i] * stride[i] + k[i]) for i in range(3))
        out[(slice(None), slice(None)) + idx] = np.einsum(
            "bcdhw,kcdhw->bk", x[(slice(None), slice(None)) + box], w)
    return out


@pytest.mark.parametrize("fs,stride,pad,flip", [
    (3, 1, 0, True), ((2, 3, 2), (2, 1, 2), "full", False), (3, 2, "same", True),
    ((2, 2, 3), 1, "same", False), (2, (1, 2, 1), (1, 0, 1), True)])
def test_conv3d(fs, stride, pad, flip):
    x = rand(2, 2, 5, 6, 5)
    l = Conv3DLayer(InputLayer((None, 2, 5, 6, 5)), 3, fs, stride=stride, pad=pad,
                    flip_filters=flip, nonlinearity=None)
    fs3 = fs if isinstance(fs, tuple) else (fs,) * 3
    s = stride if isinstance(stride, tuple) else (stride,) * 3
    W = l.W.get_value()
    assert W.shape == (3, 2) + fs3
    p = {"full": tuple(f - 1 for f in fs3), "same": tuple(f // 2 for f in fs3)}.get(pad, pad)
    p = (p,) * 3 if isinstance(p, int) else p
    ref = corr3d(x, W[:, :, ::-1, ::-1, ::-1] if flip else W, p, s)
    out = run(l, x)
    assert l.output_shape == (None,) + out.shape[1:]
    np.testing.assert_allclose(out, ref[tuple(slice(0, n) for n in out.shape)], rtol=1e-4,
                               atol=1e-4)
    if pad == "same":
        assert out.shape[2:] == tuple(-(-n // st) for n, st in zip((5, 6, 5), s))
    else:
        assert out.shape == ref.shape


@pytest.mark.parametrize("cls,n", [(Conv1DLayer, 1), (Conv2DLayer, 2), (Conv3DLayer, 3)])
def test_grouped_convolution(cls, n):
    # num_groups=3: filters 3k..3k+2 see input channels 2k, 2k+1 only, which
    # is the convolution of each channel group with its filter group
    shape = (2, 6) + (5, 6, 4)[:n]
    x = np.random.RandomState(0).rand(*shape).astype("float32")
    l_in = InputLayer((None,) + shape[1:])
    grouped = cls(l_in, 9, 3, num_groups=3, nonlinearity=None, b=None)
    assert grouped.W.get_value().shape == (9, 2) + (3,) * n
    W = grouped.W.get_value()
    out = run(grouped, x)
    for k in range(3):
        part = cls(InputLayer((None, 2) + shape[2:]), 3, 3, nonlinearity=None, b=None,
                   W=W[3 * k:3 * k + 3])
        np.testing.assert_allclose(out[:, 3 * k:3 * k + 3], run(part, x[:, 2 * k:2 * k + 2]),
                                   rtol=1e-5, atol=1e-5)


def test_grouped_conv3d_layer_is_one_grouped_op_per_convolution():
    """Conv3DLayer(num_groups=2) hands num_groups to a convolution that takes
    it (T.nnet.conv3d: one grouped Conv3d node, no concatenation) and calls
    one without it once per group; all three give the same output."""
    from symnet.graph.traversal import io_toposort
    from symnet.tensor.ops.conv3d import Conv3d
    x = np.random.RandomState(1).rand(2, 4, 5, 4, 6).astype("float32")
    l_in = InputLayer((None, 4, 5, 4, 6))
    default = Conv3DLayer(l_in, 6, (3, 2, 3), pad="same", stride=(1, 2, 1), num_groups=2,
                          nonlinearity=None, b=None)
    W = default.W.get_value()
    assert W.shape == (6, 2, 3, 2, 3)
    op = Conv3DLayer(l_in, 6, (3, 2, 3), pad="same", stride=(1, 2, 1), num_groups=2,
                     nonlinearity=None, b=None, W=W, convolution=T.nnet.conv3d)
    nodes = io_toposort([l_in.input_var], [symnet.layers.get_output(op)])
    convs = [n.op for n in nodes if isinstance(n.op, Conv3d)]
    assert [c.num_groups for c in convs] == [2]
    assert not any(type(n.op).__name__ == "Join" for n in nodes)
    calls = []

    def no_groups(input, filters, input_shape, filter_shape, **kw):
        calls.append(filter_shape)
        return T.nnet.conv3d(input, filters, **kw)
    sliced = Conv3DLayer(l_in, 6, (3, 2, 3), pad="same", stride=(1, 2, 1), num_groups=2,
                         nonlinearity=None, b=None, W=W, convolution=no_groups)
    want = run(default, x)
    assert want.shape == (2, 6, 5, 2, 6)
    for layer in (op, sliced):
        np.testing.assert_allclose(run(layer, x), want, rtol=1e-5, atol=1e-5)
    assert calls == [(3, 2, 3, 2, 3)] * 2


def test_grouped_convolution_errors():
    with pytest.raises(ValueError, match=r"num_groups \(2\) must evenly divide the number "
                                         r"of input channels \(3\)"):
        Conv1DLayer((2, 3, 4), 2, 3, num_groups=2)
    with pytest.raises(ValueError, match=r"num_groups \(2\) must evenly divide the number "
                                         r"of filters \(3\)"):
        Conv1DLayer((2, 4, 4), 3, 3, num_groups=2)
    with pytest.raises(ValueError, match="num_groups must be positive, got -3"):
        Conv1DLayer((2, 3, 4), 1, 3, num_groups=-3)
    with pytest.raises(NotImplementedError, match="does not support grouped convolutions"):
        TransposedConv2DLayer((2, 4, 5, 5), 2, 3, num_groups=2)


def test_numpy_integer_sizes():
    l = Conv2DLayer((2, 3, 8, 8), np.int64(4), np.empty((3, 3)).shape, stride=np.int32(2))
    assert l.filter_size == (3, 3) and l.stride == (2, 2)
    assert all(type(v) is int for v in l.filter_size + l.stride)
    assert l.output_shape == (2, 4, 3, 3)
