"""Theano's cuDNN functions (symnet.theano_gpu) and Lasagne's cuDNN layers
(symnet.layers.cudnn) against numpy references and the CPU layers on the py
backend, and THEANO_FLAGS' ``device`` where no GPU can be used (the CUDA
side, under the simulator, is tests/backend/cuda/test_device.py)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import layers as L
from symnet.layers import cudnn
from symnet.theano_gpu import (GpuDnnConvDesc, GpuDnnConvGradI, dnn_batch_normalization_test,
                               dnn_batch_normalization_train, dnn_conv, dnn_conv3d,
                               dnn_pool, gpu_alloc_empty)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(7)


def _f(ins, outs):
    return symnet.function(ins, outs, mode="py")


def _corr2d(x, w, pad, stride=(1, 1), dil=(1, 1)):
    """numpy cross-correlation, (batch, c, h, w) by (f, c, kh, kw)."""
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    kh, kw = (w.shape[2] - 1) * dil[0] + 1, (w.shape[3] - 1) * dil[1] + 1
    oh = (x.shape[2] - kh) // stride[0] + 1
    ow = (x.shape[3] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride[0]:i * stride[0] + kh:dil[0],
                      j * stride[1]:j * stride[1] + kw:dil[1]]
            out[:, :, i, j] = np.einsum("bchw,fchw->bf", patch, w)
    return out


@pytest.mark.parametrize("border_mode, pad", [("valid", (0, 0)), ("full", (2, 1)),
                                              ("half", (1, 1)), (1, (1, 1)),
                                              ((2, 0), (2, 0))])
@pytest.mark.parametrize("conv_mode", ["conv", "cross"])
def test_dnn_conv_border_modes_and_conv_mode(border_mode, pad, conv_mode):
    x = RNG.normal(size=(2, 2, 5, 4))
    w = RNG.normal(size=(3, 2, 3, 2))
    xv, wv = T.dtensor4("x"), T.dtensor4("w")
    got = _f([xv, wv], dnn_conv(xv, wv, border_mode=border_mode, conv_mode=conv_mode))(x, w)
    # 'conv' flips the filters (a true convolution), 'cross' does not
    ref_w = w[:, :, ::-1, ::-1] if conv_mode == "conv" else w
    np.testing.assert_allclose(got, _corr2d(x, ref_w, pad), rtol=1e-10)


def test_dnn_conv_subsample_dilation_and_groups():
    x = RNG.normal(size=(1, 4, 7, 7))
    w = RNG.normal(size=(2, 2, 2, 2))
    xv, wv = T.dtensor4("x"), T.dtensor4("w")
    got = _f([xv, wv], dnn_conv(xv, wv, subsample=(2, 1), dilation=(2, 2),
                                conv_mode="cross", num_groups=2))(x, w)
    want = np.concatenate([_corr2d(x[:, 2 * g:2 * g + 2], w[g:g + 1], (0, 0), (2, 1), (2, 2))
                           for g in range(2)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_dnn_conv_rejects_what_theano_rejects():
    x, w = T.tensor4("x"), T.tensor4("w")
    with pytest.raises(ValueError, match=r"conv_mode must be 'conv' or 'cross', got 'corr'"):
        dnn_conv(x, w, conv_mode="corr")
    with pytest.raises(ValueError, match=r"border_mode must be 'valid', 'full', 'half'.*'same'"):
        dnn_conv(x, w, border_mode="same")
    with pytest.raises(ValueError, match=r"border_mode .* got \(1, 1, 1\)"):
        dnn_conv(x, w, border_mode=(1, 1, 1))
    with pytest.raises(ValueError, match="You can't use both algo and workmem"):
        dnn_conv(x, w, workmem="small", algo="small")


def test_dnn_conv3d_is_conv3d():
    x = RNG.normal(size=(1, 2, 4, 3, 3))
    w = RNG.normal(size=(2, 2, 2, 2, 2))
    xv, wv = T.dtensor5("x"), T.dtensor5("w")
    got = _f([xv, wv], dnn_conv3d(xv, wv, border_mode=1, conv_mode="cross"))(x, w)
    want = _f([xv, wv], T.nnet.conv3d(xv, wv, border_mode=(1, 1, 1), filter_flip=False))(x, w)
    assert got.shape == (1, 2, 5, 4, 4)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dcgan_deconv_is_the_transpose_of_the_convolution():
    # Newmu's DCGAN: GpuDnnConvGradI(kerns, img, out, desc) upsamples img
    # into out's shape; <conv(a), b> == <a, deconv(b)> for every a and b
    kerns = RNG.normal(size=(3, 2, 5, 5))          # (channels of img, of out, ...)
    img = RNG.normal(size=(2, 3, 4, 4))
    a = RNG.normal(size=(2, 2, 8, 8))
    kv, iv = T.dtensor4("k"), T.dtensor4("i")
    out = gpu_alloc_empty(iv.shape[0], kv.shape[1], iv.shape[2] * 2, iv.shape[3] * 2)
    desc = GpuDnnConvDesc(border_mode=(2, 2), subsample=(2, 2), conv_mode="conv")(
        out.shape, kv.shape)
    up = _f([kv, iv], GpuDnnConvGradI()(kv, iv, out, desc))(kerns, img)
    assert up.shape == (2, 2, 8, 8)
    av = T.dtensor4("a")
    down = _f([av, kv], dnn_conv(av, kv, border_mode=(2, 2), subsample=(2, 2)))(a, kerns)
    np.testing.assert_allclose(np.sum(down * img), np.sum(a * up), rtol=1e-10)


def _pool_ref(x, ws, st, pad, mode):
    """numpy pooling of the last two axes, borders ignored."""
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2), constant_values=fill)
    valid = np.pad(np.ones(x.shape[2:]), ((pad[0],) * 2, (pad[1],) * 2))
    oh = (xp.shape[2] - ws[0]) // st[0] + 1
    ow = (xp.shape[3] - ws[1]) // st[1] + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * st[0], i * st[0] + ws[0]), slice(j * st[1], j * st[1] + ws[1])
            win = xp[:, :, rows, cols]
            if mode == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            elif mode == "sum":
                out[:, :, i, j] = win.sum(axis=(2, 3))
            elif mode == "average_inc_pad":
                out[:, :, i, j] = win.sum(axis=(2, 3)) / (ws[0] * ws[1])
            else:
                out[:, :, i, j] = win.sum(axis=(2, 3)) / valid[rows, cols].sum()
    return out


@pytest.mark.parametrize("mode", ["max", "average_inc_pad", "average_exc_pad", "sum",
                                  "max_deterministic"])
def test_dnn_pool_modes_with_stride_and_pad(mode):
    x = RNG.normal(size=(2, 2, 5, 6)) - 3.0    # all negative: a padded max would show 0
    xv = T.dtensor4("x")
    got = _f([xv], dnn_pool(xv, (3, 2), stride=(2, 2), mode=mode, pad=(1, 1)))(x)
    want = _pool_ref(x, (3, 2), (2, 2), (1, 1), mode.replace("_deterministic", ""))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dnn_pool_3d_and_its_errors():
    x = RNG.normal(size=(1, 2, 4, 4, 5))
    xv = T.dtensor5("x")
    got = _f([xv], dnn_pool(xv, (2, 2, 2), mode="average_inc_pad"))(x)
    # stride defaults to 1 (not to the window, as pool_3d's does)
    assert got.shape == (1, 2, 3, 3, 4)
    np.testing.assert_allclose(got[0, 1, 2, 0, 3], x[0, 1, 2:4, 0:2, 3:5].mean(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"mode must be one of max, .* got 'median'"):
        dnn_pool(xv, (2, 2, 2), mode="median")
    with pytest.raises(ValueError, match=r"a 2-d window pools 4-d inputs .* with 5 dims"):
        dnn_pool(xv, (2, 2))
    with pytest.raises(ValueError, match=r"pad must have 3 entries like ws, got \(1, 1\)"):
        dnn_pool(xv, (2, 2, 2), pad=(1, 1))


@pytest.mark.parametrize("mode, axes", [("per-activation", (0,)), ("spatial", (0, 2, 3))])
def test_dnn_batch_normalization_train_and_test(mode, axes):
    x = RNG.normal(2.0, 3.0, size=(4, 3, 2, 2))
    shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape))
    gamma, beta = RNG.normal(size=shape), RNG.normal(size=shape)
    rm, rv = RNG.normal(size=shape), RNG.uniform(1, 2, size=shape)
    xv, gv, bv, mv, vv = (T.TensorType("float64", (False,) * 4)() for _ in range(5))
    outs = dnn_batch_normalization_train(xv, gv, bv, mode, 1e-3, 0.25, mv, vv)
    out, mean, invstd, new_rm, new_rv = _f([xv, gv, bv, mv, vv], list(outs))(
        x, gamma, beta, rm, rv)
    m, v = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    n = np.prod([x.shape[a] for a in axes])
    np.testing.assert_allclose(out, (x - m) * gamma / np.sqrt(v + 1e-3) + beta, atol=1e-10)
    np.testing.assert_allclose(mean, m, rtol=1e-10)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(v + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(new_rm, rm * 0.75 + m * 0.25, rtol=1e-10)
    np.testing.assert_allclose(new_rv, rv * 0.75 + n / (n - 1) * v * 0.25, rtol=1e-10)
    test = _f([xv, gv, bv, mv, vv],
              dnn_batch_normalization_test(xv, gv, bv, mv, vv, mode, 1e-3))(x, gamma, beta,
                                                                            rm, rv)
    np.testing.assert_allclose(test, (x - rm) * gamma / np.sqrt(rv + 1e-3) + beta, atol=1e-10)


def test_dnn_batch_normalization_errors():
    x, g = T.tensor4("x"), T.tensor4("g")
    with pytest.raises(ValueError, match="gamma must be of the same dimensionality as inputs; "
                                         "got 1 instead of 4"):
        dnn_batch_normalization_train(x, T.vector("g"), g)
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5, got 1e-06"):
        dnn_batch_normalization_train(x, g, g, epsilon=1e-6)
    with pytest.raises(ValueError, match="running_mean and running_var must either both"):
        dnn_batch_normalization_train(x, g, g, running_mean=g)
    with pytest.raises(ValueError, match="mode must be 'per-activation' or 'spatial'"):
        dnn_batch_normalization_test(x, g, g, g, g, mode="channel")


# -- Lasagne's cuDNN layers against the CPU layers ----------------------------------------

def _outputs(layer, ref, x, **kwargs):
    """Both networks' outputs for the input ``x`` (each built on its InputLayer)."""
    xv = T.TensorType("float32", (False,) * x.ndim)("x")
    return [_f([xv], L.get_output(lay, xv, **kwargs))(x) for lay in (layer, ref)]


def _in(*shape):
    return L.InputLayer(shape)


def test_conv_layers_compute_the_cpu_layers_without_flipping():
    x = RNG.normal(size=(2, 3, 6, 5)).astype("float32")
    conv = cudnn.Conv2DDNNLayer(_in(None, 3, 6, 5), 4, 3, stride=(2, 1), pad="same")
    assert conv.flip_filters is False         # Lasagne's default for cuDNN layers
    ref = L.Conv2DLayer(_in(None, 3, 6, 5), 4, 3, stride=(2, 1), pad="same", flip_filters=False,
                        W=conv.W, b=conv.b)
    got, want = _outputs(conv, ref, x)
    assert got.shape == (2, 4, 3, 5) == (2,) + conv.output_shape[1:]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    x3 = RNG.normal(size=(1, 2, 4, 4, 3)).astype("float32")
    conv3 = cudnn.Conv3DDNNLayer(_in(None, 2, 4, 4, 3), 2, 2, pad="full", flip_filters=True)
    ref3 = L.Conv3DLayer(_in(None, 2, 4, 4, 3), 2, 2, pad="full", W=conv3.W, b=conv3.b)
    got, want = _outputs(conv3, ref3, x3)
    assert got.shape == (1, 2, 5, 5, 4) == (1,) + conv3.output_shape[1:]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_pool_layers_compute_the_cpu_layers():
    x = RNG.normal(size=(2, 2, 7, 6)).astype("float32")
    for layer, ref in [
            (cudnn.MaxPool2DDNNLayer(_in(None, 2, 7, 6), 3, stride=2, pad=1),
             L.MaxPool2DLayer(_in(None, 2, 7, 6), 3, stride=2, pad=1)),
            (cudnn.Pool2DDNNLayer(_in(None, 2, 7, 6), 2, mode="average_exc_pad", pad=(1, 0)),
             L.Pool2DLayer(_in(None, 2, 7, 6), 2, mode="average_exc_pad", pad=(1, 0))),
            (cudnn.SpatialPyramidPoolingDNNLayer(_in(None, 2, 7, 6), [3, 1]),
             L.SpatialPyramidPoolingLayer(_in(None, 2, 7, 6), [3, 1]))]:
        got, want = _outputs(layer, ref, x)
        assert got.shape == (2,) + layer.output_shape[1:]
        np.testing.assert_allclose(got, want, rtol=1e-6)
    x3 = RNG.normal(size=(1, 2, 4, 5, 4)).astype("float32")
    got, want = _outputs(cudnn.MaxPool3DDNNLayer(_in(None, 2, 4, 5, 4), 2),
                         L.MaxPool3DLayer(_in(None, 2, 4, 5, 4), 2), x3)
    assert got.shape == (1, 2, 2, 2, 2)
    np.testing.assert_allclose(got, want)
    with pytest.raises(NotImplementedError, match="Pool2DDNNLayer .* does not support "
                                                  "ignore_border=False"):
        cudnn.Pool2DDNNLayer(_in(None, 2, 7, 6), 2, ignore_border=False)


def test_batch_norm_dnn_computes_batch_norm():
    x = RNG.normal(1.0, 2.0, size=(4, 3, 2, 2)).astype("float32")
    W = RNG.normal(size=(3, 3, 1, 1)).astype("float32")
    got = cudnn.batch_norm_dnn(cudnn.Conv2DDNNLayer(_in(None, 3, 2, 2), 3, 1, W=W, name="c"))
    want = L.batch_norm(L.Conv2DLayer(_in(None, 3, 2, 2), 3, 1, W=W, flip_filters=False))
    assert type(got).__name__ == "NonlinearityLayer" and got.name == "c_bn_nonlin"
    assert isinstance(got.input_layer, cudnn.BatchNormDNNLayer)
    assert got.input_layer.input_layer.b is None     # beta replaces the bias
    for deterministic in (False, True):
        a, b = _outputs(got, want, x, deterministic=deterministic)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"BatchNormDNNLayer .* only supports normalization "
                                         r"across the first axis.*got axes=\(0, 2\)"):
        cudnn.BatchNormDNNLayer(_in(None, 3, 2, 2), axes=(0, 2))


# -- THEANO_FLAGS device where the CUDA backend cannot run -----------------------------------

def _run(code, flags, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("NUMBA_ENABLE_CUDASIM", "SYMNET_STRICT", "SYMNET_MODE")}
    # no GPU and no simulator: the CUDA backend is unavailable even on a GPU machine
    full.update(PYTHONPATH=ROOT, THEANO_FLAGS=flags, NUMBA_DISABLE_CUDA="1", **env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=full)


def test_device_cuda_without_a_gpu_warns_and_stays_on_the_cpu():
    proc = _run("""
        import warnings
        warnings.simplefilter("always")
        import symnet.compat
        with warnings.catch_warnings(record=True) as caught:
            symnet.compat.install()
        print([w.category.__name__ for w in caught])
        import theano
        from theano.compile.mode import get_mode
        print(theano.config.device, theano.config.mode, get_mode("FAST_RUN").linker)
        from theano import gpuarray
        print(gpuarray.pygpu_activated, gpuarray.dnn.dnn_present())
        for name in ("lasagne.layers.dnn", "theano.sandbox.cuda"):
            try:
                __import__(name)
            except ImportError as e:
                print("ImportError", name)
        try:
            from lasagne.layers import dnn
        except ImportError:
            print("ImportError from-import")
    """, "device=cuda0,floatX=float32")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "['GpuUnavailableWarning']"
    assert lines[1:3] == ["cuda0 numba numba", "False False"]
    assert lines[3:] == ["ImportError lasagne.layers.dnn", "ImportError theano.sandbox.cuda",
                         "ImportError from-import"]


def test_device_gpu_without_a_gpu_says_why_and_how():
    proc = _run("import symnet.compat; symnet.compat.install()", "device=gpu")
    assert proc.returncode == 0, proc.stderr
    assert "GpuUnavailableWarning: device=gpu: symnet's CUDA backend is not available here" \
        in proc.stderr
    assert "NUMBA_DISABLE_CUDA=1" in proc.stderr            # why
    assert "NUMBA_ENABLE_CUDASIM=1" in proc.stderr          # what to do without a GPU


@pytest.mark.parametrize("flags, env", [("device=cuda,force_device=True", {}),
                                        ("device=cuda", {"SYMNET_STRICT": "1"})])
def test_forced_device_without_a_gpu_is_an_error(flags, env):
    proc = _run("import symnet.compat; symnet.compat.install()", flags, **env)
    assert proc.returncode == 1
    assert "OSError: You forced the use of gpu device cuda, but CUDA initialization " \
           "failed with error:" in proc.stderr


def test_device_opencl_and_unknown_devices():
    proc = _run("import symnet.compat; symnet.compat.install()", "device=opencl0:0")
    assert proc.returncode == 0 and "symnet has no OpenCL backend" in proc.stderr
    proc = _run("import symnet.compat; symnet.compat.install()", "device=tpu")
    assert proc.returncode == 1
    assert 'ValueError: Invalid value ("tpu") for configuration variable "device". Valid ' \
           'options start with one of "cpu", "opencl", "cuda" or "gpu".' in proc.stderr
