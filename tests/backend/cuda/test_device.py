"""THEANO_FLAGS=device=cuda/gpu with the CUDA backend usable (a GPU or the
simulator): the compiled modes compile for 'cuda', Theano's GPU-only
modules import, and a network of Lasagne's cuDNN layers trains on 'cuda'
as on py."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symnet
from symnet import compat
from symnet import layers as L
from symnet import tensor as T
from symnet import updates as U
from symnet.compile import device
from symnet.compile.mode import get_mode
from symnet.configdefaults import change_flags
from symnet.layers import cudnn
from symnet.theano_gpu import dnn_conv3d, dnn_pool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

PROBE = """
    import symnet.compat; symnet.compat.install()
    import theano
    from theano.compile.mode import get_mode
    from theano import gpuarray
    from theano.sandbox import cuda
    import theano.sandbox.cuda.dnn, theano.sandbox.cuda.basic_ops
    from lasagne.layers import dnn
    import lasagne.layers.dnn
    print(theano.config.device, theano.config.mode, get_mode('FAST_RUN').linker,
          gpuarray.pygpu_activated, gpuarray.dnn.dnn_present(), cuda.cuda_enabled,
          cuda.dnn.dnn_available(), dnn.Conv2DDNNLayer.__module__)
"""


def _probe(flags):
    env = {k: v for k, v in os.environ.items() if k not in ("SYMNET_MODE", "SYMNET_STRICT")}
    env.update(PYTHONPATH=ROOT, THEANO_FLAGS=flags)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize("flags, want", [
    ("device=cuda,floatX=float32", ["cuda", "cuda", "cuda"]),
    # the old backend's name; FAST_RUN (THEANO_FLAGS mode) also runs on the GPU
    ("device=gpu0,mode=FAST_RUN", ["gpu0", "cuda", "cuda"])])
def test_device_flag_makes_cuda_the_default_and_gpu_modules_import(flags, want):
    got = _probe(flags)
    assert got[:3] == want
    assert got[3:] == ["True"] * 4 + ["symnet.layers.cudnn"]


@pytest.fixture
def gpu():
    assert not device.gpu_active()
    old = symnet.config.mode
    try:
        assert device.use("cuda") is True
        yield old
    finally:
        compat.uninstall()
        device._reset()


def test_use_switches_the_compiled_modes_and_the_imports(gpu):
    assert device.gpu_active() and symnet.config.device == "cuda"
    # the compiled default moves to the GPU; py (the reference) stays
    assert symnet.config.mode == ("cuda" if gpu in ("numba", "FAST_RUN") else gpu)
    assert get_mode("FAST_RUN").linker == "cuda"
    compat.install()
    from theano.sandbox import cuda
    import lasagne.layers.dnn
    assert cuda.cuda_enabled is True and lasagne.layers.dnn is cudnn
    compat.uninstall()
    device._reset()
    assert get_mode("FAST_RUN").linker == "numba"
    compat.install()
    with pytest.raises(ImportError, match="needs a GPU build"):
        import theano.sandbox.cuda  # noqa: F401
    with pytest.raises(ImportError):
        from lasagne.layers import dnn  # noqa: F401


def _dnn_net(mode, steps=2):
    rng = np.random.default_rng(3)

    def w(*shape):
        return rng.normal(0, 0.4, shape).astype("float32")
    l_in = L.InputLayer((None, 1, 6, 6))
    h = cudnn.batch_norm_dnn(cudnn.Conv2DDNNLayer(l_in, 2, 3, pad="same", W=w(2, 1, 3, 3)))
    h = cudnn.MaxPool2DDNNLayer(h, 2)
    h = cudnn.Pool2DDNNLayer(h, 2, stride=1, pad=1, mode="average_exc_pad")
    out = L.DenseLayer(h, 3, W=w(32, 3), nonlinearity=symnet.nonlinearities.softmax)
    x, y = T.ftensor4("x"), T.ivector("y")
    loss = T.nnet.categorical_crossentropy(L.get_output(out, x), y).mean()
    params = L.get_all_params(out, trainable=True)
    train = symnet.function([x, y], loss, updates=U.momentum(loss, params, 0.1), mode=mode)
    test = symnet.function([x], L.get_output(out, x, deterministic=True), mode=mode)
    xs = rng.normal(size=(3, 1, 6, 6)).astype("float32")
    ys = np.array([0, 2, 1], "int32")
    losses = [float(train(xs, ys)) for _ in range(steps)]
    return losses, test(xs), [p.get_value() for p in L.get_all_params(out)]


def test_cudnn_layers_train_on_cuda_as_on_py():
    with change_flags(strict=True):     # every op on a CUDA kernel, none on the host
        got_losses, got_out, got_params = _dnn_net("cuda")
    want_losses, want_out, want_params = _dnn_net("py")
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-5, atol=1e-6)
    for g, w in zip(got_params, want_params):    # the running averages too
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_dnn_conv3d_and_pool3d_on_cuda_as_on_py():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 2, 3, 4, 4))
    k = rng.normal(size=(2, 2, 2, 2, 2))
    xv, kv = T.dtensor5("x"), T.dtensor5("k")
    for mode in ("average_inc_pad", "max"):
        y = dnn_pool(dnn_conv3d(xv, kv, border_mode=1, conv_mode="conv"), (2, 2, 2),
                     stride=(1, 2, 2), mode=mode)
        outs = [y, symnet.grad((y ** 2).sum(), kv)]
        with change_flags(strict=True):
            got = symnet.function([xv, kv], outs, mode="cuda")(x, k)
        want = symnet.function([xv, kv], outs, mode="py")(x, k)
        assert got[0].shape == (1, 2, 3, 2, 2)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10)
