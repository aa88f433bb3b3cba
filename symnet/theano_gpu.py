"""Theano's GPU modules on symnet: ``theano.gpuarray`` (and its ``dnn``),
and the old backend's ``theano.sandbox.cuda``, ``.dnn`` and ``.basic_ops``.

symnet has one GPU backend, the CUDA backend (``mode='cuda'``), which
compiles symnet's own ops; it has no cuDNN and no separate GPU types. So
the cuDNN entry points here build symnet's ops, with Theano's argument
forms (``border_mode``, ``subsample``, ``conv_mode`` 'conv'/'cross',
``dilation``, pooling modes and ``pad``, batch-norm modes and ``epsilon``):
``dnn_conv`` is ``T.nnet.conv2d``, ``dnn_pool`` is ``pool_2d`` with
``ignore_border=True``, ``dnn_batch_normalization_train`` is
``T.nnet.bn.batch_normalization_train``. Which device runs them is the
mode's business: with ``THEANO_FLAGS=device=cuda`` the compiled modes are
the CUDA backend (see ``symnet/compile/device.py``).

The transfers (``gpu_from_host``, ``host_from_gpu``, ``gpu_contiguous``)
return their input as a tensor variable: the CUDA backend moves values
itself (shared variables stay on the device, outputs come back as numpy
arrays). ``GpuArrayType``, ``CudaNdarrayType``... are symnet's tensor
classes, so ``isinstance`` checks on them accept every tensor.

``theano.gpuarray`` imports on any machine (as in Theano 1.0), its
``pygpu_activated`` and ``dnn.dnn_present()`` saying whether the GPU is in
use; ``theano.sandbox.cuda`` (and ``lasagne.layers.dnn``) import only while
it is (``symnet.compat`` raises Theano's ImportError otherwise).
"""
import types

from .compile.device import gpu_active, unavailable_reason, use

__all__ = ["dnn_conv", "dnn_conv3d", "dnn_pool", "dnn_batch_normalization_train",
           "dnn_batch_normalization_test", "dnn_gradinput", "dnn_gradweight",
           "dnn_present", "dnn_available", "gpu_contiguous", "host_from_gpu",
           "gpu_from_host", "gpu_alloc_empty", "GpuDnnConvDesc", "GpuDnnConv",
           "GpuDnnConvGradI", "GpuDnnConvGradW", "build_gpuarray", "build_gpuarray_dnn",
           "build_cuda", "build_basic_ops"]

_POOL_MODES = ("max", "average_inc_pad", "average_exc_pad", "sum", "max_deterministic")
_BN_MODES = ("per-activation", "spatial")


class _DnnProbe:
    """Theano's ``dnn_present()`` / ``dnn_available(context_name)``: whether
    the cuDNN entry points run on the GPU (the GPU is in use); ``.msg`` says
    why not, as Theano's does (Lasagne prints it)."""

    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *context_name):
        return gpu_active()

    @property
    def avail(self):
        return gpu_active()

    @property
    def msg(self):
        if gpu_active():
            return None
        return ("symnet has no GPU in use, so no cuDNN (pygpu is not activated): set "
                "THEANO_FLAGS=device=cuda on a machine where symnet's CUDA backend runs "
                f"({unavailable_reason() or 'it runs here'})")

    def __repr__(self):
        return f"<{self.__name__}: {gpu_active()}>"


dnn_present = _DnnProbe("dnn_present")
dnn_available = _DnnProbe("dnn_available")


def _tensor(x):
    from .tensor import as_tensor_variable
    return as_tensor_variable(x)


def gpu_contiguous(x):
    """``x`` as a tensor variable (the CUDA backend's buffers are contiguous)."""
    return _tensor(x)


def host_from_gpu(x):
    """``x`` as a tensor variable: functions return numpy arrays anyway."""
    return _tensor(x)


def gpu_from_host(x):
    """``x`` as a tensor variable: the CUDA backend copies inputs in itself."""
    return _tensor(x)


def as_gpu_variable(x, context_name=None):
    """Theano's ``as_gpuarray_variable`` / ``as_cuda_ndarray_variable``."""
    return _tensor(x)


class _Transfer:
    """Theano's transfer op classes (``HostFromGpu()(x)``): the variable."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, x):
        return _tensor(x)


class HostFromGpu(_Transfer):
    """``HostFromGpu()(x)``: :func:`host_from_gpu`."""


class GpuFromHost(_Transfer):
    """``GpuFromHost(context_name)(x)``: :func:`gpu_from_host`."""


class GpuContiguous(_Transfer):
    """``GpuContiguous()(x)``: :func:`gpu_contiguous`."""


def gpu_alloc_empty(*shape, **kwargs):
    """Theano's ``gpu_alloc_empty(*shape)`` (also ``GpuAllocEmpty(dtype,
    context)(*shape)``): a tensor of that shape. Its values are meant to be
    overwritten; here they are zeros, so runs are reproducible."""
    from .configdefaults import config
    from .tensor import zeros
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return zeros(shape, dtype=kwargs.get("dtype") or config.floatX)


class GpuAllocEmpty:
    """``GpuAllocEmpty(dtype, context_name)(*shape)``: :func:`gpu_alloc_empty`."""

    def __init__(self, dtype=None, context_name=None):
        self.dtype = dtype

    def __call__(self, *shape):
        return gpu_alloc_empty(*shape, dtype=self.dtype)


# -- convolution -------------------------------------------------------------------

def _conv_args(who, border_mode, subsample, dilation, conv_mode, nd):
    if conv_mode not in ("conv", "cross"):
        raise ValueError(f"{who}: conv_mode must be 'conv' or 'cross', got {conv_mode!r}")
    subsample = tuple(int(s) for s in subsample)
    dilation = tuple(int(d) for d in dilation)
    for name, value in (("subsample", subsample), ("dilation", dilation)):
        if len(value) != nd:
            raise ValueError(f"{who}: {name} must have {nd} entries, got {value}")
    if isinstance(border_mode, int):
        border_mode = (border_mode,) * nd
    if isinstance(border_mode, (tuple, list)):
        border_mode = tuple(int(b) for b in border_mode)
        if len(border_mode) != nd or min(border_mode) < 0:
            raise ValueError(f"{who}: border_mode must be 'valid', 'full', 'half', an "
                             f"integer or {nd} non-negative integers, got {border_mode}")
    elif border_mode not in ("valid", "full", "half"):
        raise ValueError(f"{who}: border_mode must be 'valid', 'full', 'half', an integer "
                         f"or {nd} non-negative integers, got {border_mode!r}")
    return dict(border_mode=border_mode, subsample=subsample, filter_dilation=dilation,
                filter_flip=conv_mode == "conv")


def _check_algo(workmem, algo):
    if workmem is not None and algo is not None:
        raise ValueError("You can't use both algo and workmem")


def dnn_conv(img, kerns, border_mode="valid", subsample=(1, 1), dilation=(1, 1),
             conv_mode="conv", direction_hint=None, workmem=None, algo=None,
             precision=None, num_groups=1):
    """Theano's cuDNN 2-d convolution of ``img`` (batch, channels, rows,
    cols) by ``kerns`` (filters, channels/num_groups, rows, cols):
    ``T.nnet.conv2d`` with ``filter_flip = conv_mode == 'conv'`` (Theano's
    default 'conv' flips the filters; 'cross' is cross-correlation).
    ``direction_hint``, ``workmem``, ``algo`` and ``precision`` choose
    cuDNN algorithms and are accepted (the result does not depend on them).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, w = T.tensor4('x'), T.tensor4('w')
    >>> f = symnet.function([x, w], dnn_conv(x, w, border_mode=1, conv_mode='cross'),
    ...                     mode='py')
    >>> f(np.ones((1, 1, 3, 3), 'float32'), np.ones((1, 1, 3, 3), 'float32'))[0, 0, 0]
    array([4., 6., 4.], dtype=float32)
    """
    from .tensor.ops.conv import conv2d
    _check_algo(workmem, algo)
    args = _conv_args("dnn_conv", border_mode, subsample, dilation, conv_mode, 2)
    return conv2d(img, kerns, num_groups=num_groups, **args)


def dnn_conv3d(img, kerns, border_mode="valid", subsample=(1, 1, 1), dilation=(1, 1, 1),
               conv_mode="conv", direction_hint=None, algo=None, precision=None,
               num_groups=1):
    """Theano's cuDNN 3-d convolution: ``T.nnet.conv3d`` (see :func:`dnn_conv`)."""
    from .tensor.ops.conv3d import conv3d
    args = _conv_args("dnn_conv3d", border_mode, subsample, dilation, conv_mode, 3)
    return conv3d(img, kerns, num_groups=num_groups, **args)


def _shape_list(shape, nd):
    if isinstance(shape, (tuple, list)):
        return list(shape)
    return [shape[i] for i in range(nd)]


def dnn_gradinput(kerns, topgrad, img_shp, border_mode="valid", subsample=(1, 1),
                  dilation=(1, 1), conv_mode="conv", precision=None, algo=None,
                  num_groups=1):
    """The gradient of :func:`dnn_conv` with respect to its input, an input
    of shape ``img_shp`` (also how a transposed convolution is built)."""
    from .tensor.ops.conv import Conv2dGradInputs
    a = _conv_args("dnn_gradinput", border_mode, subsample, dilation, conv_mode, 2)
    return Conv2dGradInputs(a["border_mode"], a["subsample"], a["filter_flip"],
                            a["filter_dilation"], num_groups)(
        kerns, topgrad, _shape_list(img_shp, 4))


def dnn_gradweight(img, topgrad, kerns_shp, border_mode="valid", subsample=(1, 1),
                   dilation=(1, 1), conv_mode="conv", precision=None, algo=None,
                   num_groups=1):
    """The gradient of :func:`dnn_conv` with respect to filters of shape
    ``kerns_shp``."""
    from .tensor.ops.conv import Conv2dGradWeights
    a = _conv_args("dnn_gradweight", border_mode, subsample, dilation, conv_mode, 2)
    return Conv2dGradWeights(a["border_mode"], a["subsample"], a["filter_flip"],
                             a["filter_dilation"], num_groups)(
        img, topgrad, _shape_list(kerns_shp, 4))


class GpuDnnConvDesc:
    """Theano's convolution descriptor: ``GpuDnnConvDesc(border_mode,
    subsample, conv_mode=...)(kern_shape)`` (the old backend also passed
    the image shape first) gives the settings the ``GpuDnnConv*`` classes
    read."""

    def __init__(self, border_mode, subsample=(1, 1), dilation=None, conv_mode="conv",
                 precision=None, num_groups=1, **kwargs):
        nd = len(tuple(subsample))
        self.settings = dict(border_mode=border_mode, subsample=tuple(subsample),
                             dilation=tuple(dilation or (1,) * nd), conv_mode=conv_mode)
        self.num_groups = num_groups
        _conv_args("GpuDnnConvDesc", border_mode, subsample, self.settings["dilation"],
                   conv_mode, nd)

    def __call__(self, *shapes):
        return self


def _blend(result, output, alpha, beta):
    # cuDNN's alpha * result + beta * output
    if alpha is not None and alpha != 1:
        result = result * alpha
    if beta is not None and beta != 0:
        result = result + _tensor(output) * beta
    return result


class GpuDnnConv:
    """``GpuDnnConv()(img, kerns, output, desc, alpha=1, beta=0)``: the
    convolution ``desc`` describes (``alpha * conv + beta * output``)."""

    def __init__(self, algo=None, inplace=False, num_groups=1, **kwargs):
        self.num_groups = num_groups

    def __call__(self, img, kerns, output, desc, alpha=None, beta=None):
        return _blend(dnn_conv(img, kerns, num_groups=self.num_groups, **desc.settings),
                      output, alpha, beta)


class GpuDnnConvGradI(GpuDnnConv):
    """``GpuDnnConvGradI()(kerns, topgrad, output, desc)``: the input
    gradient, of ``output``'s shape (Newmu's DCGAN deconvolves with it)."""

    def __call__(self, kerns, topgrad, output, desc, alpha=None, beta=None):
        out = _tensor(output)
        grad = dnn_gradinput(kerns, topgrad, out.shape, num_groups=self.num_groups,
                             **desc.settings)
        return _blend(grad, out, alpha, beta)


class GpuDnnConvGradW(GpuDnnConv):
    """``GpuDnnConvGradW()(img, topgrad, output, desc)``: the filter
    gradient, of ``output``'s shape."""

    def __call__(self, img, topgrad, output, desc, alpha=None, beta=None):
        out = _tensor(output)
        grad = dnn_gradweight(img, topgrad, out.shape, num_groups=self.num_groups,
                              **desc.settings)
        return _blend(grad, out, alpha, beta)


# -- pooling, batch normalization -----------------------------------------------------

def dnn_pool(img, ws, stride=None, mode="max", pad=None):
    """Theano's cuDNN pooling over the last 2 or 3 axes (``len(ws)``) of a
    4-d or 5-d ``img``, borders ignored: ``pool_2d``/``pool_3d`` with
    ``ignore_border=True``, but ``stride`` defaults to 1 (Theano's
    default here), not to the window. ``mode``: 'max', 'average_inc_pad',
    'average_exc_pad', 'sum' or 'max_deterministic' (max). Padding never
    wins a max.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.tensor4('x')
    >>> f = symnet.function([x], dnn_pool(x, (2, 2), (2, 2), 'average_inc_pad'), mode='py')
    >>> f(np.arange(16, dtype='float32').reshape(1, 1, 4, 4))[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    from .tensor.ops.pool import pool_2d, pool_3d_by_2d
    img = _tensor(img)
    if mode == "average":
        mode = "average_inc_pad"
    if mode not in _POOL_MODES:
        raise ValueError(f"dnn_pool: mode must be one of {', '.join(_POOL_MODES)}, got "
                         f"{mode!r}")
    if mode == "max_deterministic":
        mode = "max"
    nd = len(ws)
    if nd not in (2, 3):
        raise ValueError(f"dnn_pool: ws must have 2 or 3 entries, got {tuple(ws)}")
    if img.ndim != nd + 2:
        raise ValueError(f"dnn_pool: a {nd}-d window pools {nd + 2}-d inputs (batch, "
                         f"channels and {nd} pooled axes), got {img} with {img.ndim} dims")
    stride = (1,) * nd if stride is None else stride
    pad = (0,) * nd if pad is None else pad
    for name, value in (("stride", stride), ("pad", pad)):
        if len(value) != nd:
            raise ValueError(f"dnn_pool: {name} must have {nd} entries like ws, got "
                             f"{tuple(value)}")
    if nd == 3:
        # as two 2-d poolings, which the CUDA backend has kernels for
        return pool_3d_by_2d(img, tuple(ws), tuple(stride), tuple(pad), True, mode)
    return pool_2d(img, ws=tuple(ws), stride=tuple(stride), pad=tuple(pad), ignore_border=True,
                   mode=mode)


def _bn_checks(who, mode, epsilon, ndim, named):
    if mode not in _BN_MODES:
        raise ValueError(f"{who}: mode must be 'per-activation' or 'spatial', got {mode!r}")
    for name, var in named:
        if var is not None and var.ndim != ndim:
            raise ValueError(f"{who}: {name} must be of the same dimensionality as inputs; "
                             f"got {var.ndim} instead of {ndim}")
    if epsilon < 1e-5:
        raise ValueError(f"{who}: epsilon must be at least 1e-5, got {epsilon}")


def dnn_batch_normalization_train(inputs, gamma, beta, mode="per-activation", epsilon=1e-4,
                                  running_average_factor=0.1, running_mean=None,
                                  running_var=None):
    """Theano's cuDNN batch normalization with the batch's statistics:
    ``T.nnet.bn.batch_normalization_train`` with ``gamma``, ``beta`` (and
    the running averages) of ``inputs``' number of dims, size 1 on the
    normalized axes (axis 0 for 'per-activation', all but axis 1 for
    'spatial').

    Returns ``out, mean, invstd`` (then ``new_running_mean,
    new_running_var`` when both running averages are given).
    """
    from .tensor.nnet.bn import batch_normalization_train
    who = "dnn_batch_normalization_train"
    inputs, gamma, beta = _tensor(inputs), _tensor(gamma), _tensor(beta)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{who}: running_mean and running_var must either both be given "
                         f"or both be None")
    if running_mean is not None:
        running_mean, running_var = _tensor(running_mean), _tensor(running_var)
    _bn_checks(who, mode, epsilon, inputs.ndim,
               (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                ("running_var", running_var)))
    return batch_normalization_train(inputs, gamma, beta, axes=mode, epsilon=epsilon,
                                     running_average_factor=running_average_factor,
                                     running_mean=running_mean, running_var=running_var)


def dnn_batch_normalization_test(inputs, gamma, beta, mean, var, mode="per-activation",
                                 epsilon=1e-4):
    """Theano's cuDNN batch normalization with given statistics:
    ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta`` (parameters as
    in :func:`dnn_batch_normalization_train`)."""
    from .tensor.nnet.bn import batch_normalization_test
    who = "dnn_batch_normalization_test"
    inputs, gamma, beta, mean, var = (_tensor(v) for v in (inputs, gamma, beta, mean, var))
    _bn_checks(who, mode, epsilon, inputs.ndim,
               (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)))
    return batch_normalization_test(inputs, gamma, beta, mean, var, axes=mode,
                                    epsilon=epsilon)


# -- the modules ----------------------------------------------------------------------

_DNN_NAMES = ("dnn_conv", "dnn_conv3d", "dnn_pool", "dnn_batch_normalization_train",
              "dnn_batch_normalization_test", "dnn_gradinput", "dnn_gradweight",
              "dnn_present", "dnn_available", "GpuDnnConvDesc", "GpuDnnConv",
              "GpuDnnConvGradI", "GpuDnnConvGradW", "gpu_contiguous")


def _module(name, doc, attrs, active_flag=None, package=False):
    mod = types.ModuleType(name, doc)
    mod.__dict__.update(attrs)
    if package:
        mod.__path__ = []
    if active_flag is not None:
        # read at each access: use() can turn the GPU on after the import
        def __getattr__(attr):
            if attr == active_flag:
                return gpu_active()
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        mod.__getattr__ = __getattr__
    return mod


def _names(names):
    g = globals()
    return {n: g[n] for n in names}


def _backend_module(name, doc, flag, prefix, dnn, basic_ops, **extra):
    """``theano.gpuarray`` or ``theano.sandbox.cuda``: the same names under
    each backend's prefix (``GpuArrayType``, ``CudaNdarrayType``...)."""
    from .compile.sharedvalue import TensorSharedVariable
    from .tensor.type import TensorType
    from .tensor.variable import TensorConstant, TensorVariable
    classes = dict(Type=TensorType, Variable=TensorVariable, Constant=TensorConstant,
                   SharedVariable=TensorSharedVariable)
    attrs = {prefix + k: v for k, v in classes.items()}
    attrs.update(dnn=dnn, basic_ops=basic_ops, use=use, host_from_gpu=host_from_gpu,
                 gpu_from_host=gpu_from_host, HostFromGpu=HostFromGpu,
                 GpuFromHost=GpuFromHost, **extra)
    return _module(name, doc, attrs, active_flag=flag, package=True)


def build_gpuarray(dnn, basic_ops):
    """``theano.gpuarray``: importable on any machine, as in Theano 1.0."""
    from .compile.sharedvalue import shared
    return _backend_module(
        "symnet.compat.gpuarray",
        "``theano.gpuarray``: ``pygpu_activated`` says whether the GPU is in use "
        "(THEANO_FLAGS=device=cuda where symnet's CUDA backend runs).",
        "pygpu_activated", "GpuArray", dnn, basic_ops, gpuarray_shared_constructor=shared,
        as_gpuarray_variable=as_gpu_variable)


def build_cuda(dnn, basic_ops):
    """The old backend's ``theano.sandbox.cuda`` (imported only while the
    GPU is in use)."""
    from .compile.sharedvalue import shared
    return _backend_module(
        "symnet.compat.cuda",
        "``theano.sandbox.cuda``: the old GPU backend's names on symnet's CUDA backend.",
        "cuda_enabled", "CudaNdarray", dnn, basic_ops, cuda_available=True,
        float32_shared_constructor=shared, shared_constructor=shared)


def build_basic_ops(name):
    """``theano.sandbox.cuda.basic_ops`` / ``theano.gpuarray.basic_ops``."""
    return _module(name, "Theano's GPU transfers: each gives its input as a tensor.",
                   dict(_names(("gpu_contiguous", "host_from_gpu", "gpu_from_host",
                                "gpu_alloc_empty", "HostFromGpu", "GpuFromHost",
                                "GpuContiguous", "GpuAllocEmpty")),
                        as_cuda_ndarray_variable=as_gpu_variable,
                        as_gpuarray_variable=as_gpu_variable))


def build_gpuarray_dnn(name="symnet.compat.gpuarray.dnn"):
    """``theano.gpuarray.dnn`` and ``theano.sandbox.cuda.dnn``."""
    return _module(name, "Theano's cuDNN functions as symnet's ops (symnet.theano_gpu).",
                   _names(_DNN_NAMES))
