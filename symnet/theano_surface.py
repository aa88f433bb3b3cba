"""Theano-only modules and names that :mod:`symnet.compat` serves.

Real Theano programs (and the real Lasagne library) reach for names that
have no place in symnet's own namespaces: ``theano.tensor.nnet.abstract_conv``
op classes called with 2-D output sizes, ``theano.scalar.upcast``,
``theano.tensor.xlogx.xlogy0`` (the GPU modules: :mod:`symnet.theano_gpu`). This
module builds those modules from symnet's own ops; ``symnet.compat`` maps the
Theano module names to them and, on ``install()``, makes them attributes of
their parent modules, as ``import theano`` does (``T.nnet.abstract_conv``
works without importing it first).

Examples
--------
>>> import numpy as np, symnet.compat
>>> symnet.compat.install(lasagne=False)
>>> import theano, theano.tensor as T
>>> theano.scalar.upcast('int32', 'float32')
'float64'
>>> x = T.vector('x')
>>> f = theano.function([x], T.xlogx.xlogx(x), mode='py')
>>> f(np.array([0., 1.], dtype=theano.config.floatX))
array([0., 0.], dtype=float32)
>>> symnet.compat.uninstall()
"""
import types

__all__ = ["build_abstract_conv", "build_scalar", "build_xlogx",
           "graph_inputs", "ATTACHED"]

#: Built modules made attributes of their (aliased) parent on install:
#: ``{theano name: symnet.compat module name}``.
ATTACHED = {
    "theano.gof": "symnet.compat.gof",
    "theano.scalar": "symnet.compat.scalar",
    # Theano's scan docs write theano.scan_module.until(...) after a bare
    # `import theano`
    "theano.scan_module": "symnet.compat.scan_module",
    "theano.gpuarray": "symnet.compat.gpuarray",
    # `from theano.sandbox import gpuarray` imports symnet.sandbox.gpuarray
    # (the import system uses the parent's real name) unless it is an attribute.
    "theano.sandbox.gpuarray": "symnet.compat.gpuarray",
    "theano.tensor.xlogx": "symnet.compat.xlogx",
    "theano.tensor.nnet.abstract_conv": "symnet.compat.abstract_conv",
}


def _module(name, doc, attrs, package=False):
    mod = types.ModuleType(name, doc)
    mod.__dict__.update(attrs)
    if package:
        mod.__path__ = []
    return mod


def graph_inputs(variable_list, blockers=None):
    """``theano.gof.graph.inputs``: the owner-less variables that the given
    outputs depend on; ``variable_list`` may be any iterable of variables
    (Lasagne passes ``reversed(list)``).

    The order is Theano's: a depth-first search that starts from the *last*
    variable of the list (Lasagne reverses its list to get the first one's
    inputs first)."""
    from .graph.traversal import graph_inputs as _inputs
    if hasattr(variable_list, "owner"):
        variable_list = [variable_list]
    return _inputs(list(variable_list)[::-1], blockers)


# -- theano.tensor.nnet.abstract_conv -------------------------------------------

def _no_unshared(who, unshared):
    if unshared:
        raise NotImplementedError(f"{who}: unshared convolutions are not supported "
                                  f"(unshared={unshared})")


class _AbstractConv:
    """A Theano abstract-conv op: remembers its settings; calling it applies
    symnet's conv op of the same meaning. ``imshp``/``kshp`` are hints that
    symnet does not need (shapes are inferred).  ``num_groups`` is the ops'
    (grouped convolution: filters of shape (out, in / num_groups, ...))."""

    def __init__(self, imshp=None, kshp=None, border_mode="valid", subsample=(1, 1),
                 filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
        _no_unshared(type(self).__name__, unshared)
        self.imshp, self.kshp = imshp, kshp
        self.args = (border_mode, subsample, filter_flip, filter_dilation, num_groups)

    nd = 2

    def _full_shape(self, first, second, shape):
        # Theano passes only the spatial sizes; symnet's ops take them all.
        from .tensor import as_tensor_variable
        if hasattr(shape, "owner"):
            shape = as_tensor_variable(shape)
            if shape.ndim != 1:
                raise TypeError(f"{type(self).__name__}: shape must be a vector of "
                                f"{self.nd} sizes, got {shape} ({shape.ndim} dims)")
        sizes = [shape[i] for i in range(self.nd)]
        return [first, second] + sizes


class AbstractConv2d(_AbstractConv):
    """``AbstractConv2d(...)(img, kern)``: the forward 2-D convolution."""

    def __call__(self, img, kern):
        from .tensor.ops.conv import Conv2d
        return Conv2d(*self.args)(img, kern)


class AbstractConv2d_gradInputs(_AbstractConv):
    """``AbstractConv2d_gradInputs(...)(kern, topgrad, shape)``: the gradient
    of a convolution with respect to its input (a transposed convolution);
    ``shape`` is the input's two spatial sizes."""

    def __call__(self, kern, topgrad, shape):
        from .tensor import as_tensor_variable
        from .tensor.ops.conv import Conv2dGradInputs
        kern, topgrad = as_tensor_variable(kern), as_tensor_variable(topgrad)
        op = Conv2dGradInputs(*self.args)   # validates num_groups first
        full = self._full_shape(topgrad.shape[0], kern.shape[1] * op.num_groups, shape)
        return op(kern, topgrad, full)


class AbstractConv2d_gradWeights(_AbstractConv):
    """``AbstractConv2d_gradWeights(...)(img, topgrad, shape)``: the gradient
    of a convolution with respect to its filters; ``shape`` is the filters'
    two spatial sizes."""

    def __call__(self, img, topgrad, shape):
        from .tensor import as_tensor_variable
        from .tensor.ops.conv import Conv2dGradWeights
        img, topgrad = as_tensor_variable(img), as_tensor_variable(topgrad)
        op = Conv2dGradWeights(*self.args)   # validates num_groups first
        full = self._full_shape(topgrad.shape[1], img.shape[1] // op.num_groups, shape)
        return op(img, topgrad, full)


class _AbstractConv3(_AbstractConv):
    nd = 3

    def __init__(self, imshp=None, kshp=None, border_mode="valid", subsample=(1, 1, 1),
                 filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1, unshared=False):
        super().__init__(imshp, kshp, border_mode, subsample, filter_flip, filter_dilation,
                         num_groups, unshared)


class AbstractConv3d(_AbstractConv3):
    """``AbstractConv3d(...)(img, kern)``: the forward 3-D convolution."""

    def __call__(self, img, kern):
        from .tensor.ops.conv3d import Conv3d
        return Conv3d(*self.args)(img, kern)


class AbstractConv3d_gradInputs(_AbstractConv3):
    """``AbstractConv3d_gradInputs(...)(kern, topgrad, shape)``: the 3-D
    transposed convolution; ``shape`` is the input's three spatial sizes."""

    def __call__(self, kern, topgrad, shape):
        from .tensor import as_tensor_variable
        from .tensor.ops.conv3d import Conv3dGradInputs
        kern, topgrad = as_tensor_variable(kern), as_tensor_variable(topgrad)
        op = Conv3dGradInputs(*self.args)   # validates num_groups first
        full = self._full_shape(topgrad.shape[0], kern.shape[1] * op.num_groups, shape)
        return op(kern, topgrad, full)


class AbstractConv3d_gradWeights(_AbstractConv3):
    """``AbstractConv3d_gradWeights(...)(img, topgrad, shape)``: the gradient
    of a 3-D convolution with respect to its filters."""

    def __call__(self, img, topgrad, shape):
        from .tensor import as_tensor_variable
        from .tensor.ops.conv3d import Conv3dGradWeights
        img, topgrad = as_tensor_variable(img), as_tensor_variable(topgrad)
        op = Conv3dGradWeights(*self.args)   # validates num_groups first
        full = self._full_shape(topgrad.shape[1], img.shape[1] // op.num_groups, shape)
        return op(img, topgrad, full)


def build_abstract_conv():
    from .tensor import nnet
    attrs = dict(AbstractConv2d=AbstractConv2d,
                 AbstractConv2d_gradInputs=AbstractConv2d_gradInputs,
                 AbstractConv2d_gradWeights=AbstractConv2d_gradWeights,
                 AbstractConv3d=AbstractConv3d,
                 AbstractConv3d_gradInputs=AbstractConv3d_gradInputs,
                 AbstractConv3d_gradWeights=AbstractConv3d_gradWeights)
    # Only names symnet has: a script probing for one it lacks gets the usual
    # AttributeError.
    for name in ("conv2d", "conv2d_transpose", "conv2d_grad_wrt_inputs", "conv3d"):
        if hasattr(nnet, name):
            attrs[name] = getattr(nnet, name)
    # Theano's abstract_conv functions that symnet writes in its own file
    from .tensor.nnet import abstract_conv
    attrs.update((name, getattr(abstract_conv, name)) for name in abstract_conv.__all__)
    return _module("symnet.compat.abstract_conv",
                   "``theano.tensor.nnet.abstract_conv`` names that symnet has.", attrs)


# -- theano.scalar, theano.tensor.xlogx ------------------------------------------

def build_scalar():
    from .tensor.type import upcast
    mod = _module("symnet.compat.scalar",
                  "``theano.scalar``: dtype helpers (symnet has no scalar types).",
                  dict(upcast=upcast, **_scalar_ops(), as_scalar=as_scalar))
    mod.basic = mod   # theano.scalar.basic, whose names theano.scalar star-imported
    return mod


def as_scalar(x, name=None):
    """``theano.scalar.as_scalar``: symnet has no scalar types, so a 0-d
    tensor variable (a number, or a 0-d variable as it is)."""
    from . import tensor as T
    v = T.as_tensor_variable(x, name=name)
    if v.ndim != 0:
        raise TypeError(f"as_scalar: {v} has {v.ndim} dims (type {v.type}); "
                        f"a scalar has none")
    return v


def xlogx(x):
    """``x * log(x)``, taken as 0 where ``x == 0``."""
    from . import tensor as T
    x = T.as_tensor_variable(x)
    return T.switch(T.eq(x, 0), 0, x * T.log(T.switch(T.eq(x, 0), 1, x)))


def xlogy0(x, y):
    """``x * log(y)``, taken as 0 where ``x == 0`` (whatever ``y`` is)."""
    from . import tensor as T
    x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
    # log of 1 where x is 0, so that neither value nor gradient sees log(0).
    return T.switch(T.eq(x, 0), 0, x * T.log(T.switch(T.eq(x, 0), 1, y)))


def d3viz(fct, outfile, copy_deps=True, *args, **kwargs):
    """Theano's ``d3viz``: an interactive HTML page of ``fct``'s graph, here
    symnet's viewer (:func:`symnet.viz.viz`: one self-contained file, its
    rewrite stages and compiled code too).  ``copy_deps`` is accepted: the
    page needs no other file."""
    from .viz import viz
    return viz(fct, outfile)


def build_d3viz():
    names = dict(d3viz=d3viz, d3write=d3viz)
    # its submodule (compat.PRELOADED puts it in sys.modules on install)
    sub = _module("symnet.compat.d3viz.d3viz", "``theano.d3viz.d3viz``.", names)
    return _module("symnet.compat.d3viz", "``theano.d3viz``: symnet's HTML graph viewer.",
                   dict(names, d3viz_module=sub), package=True)


def build_xlogx():
    return _module("symnet.compat.xlogx", "``theano.tensor.xlogx``.",
                   dict(xlogx=xlogx, xlogy0=xlogy0))


# -- theano.gof's linker classes (r16-tt) -----------------------------------------

class _Linker:
    """A Theano linker class: ``theano.Mode(linker=gof.PerformLinker())``
    picks the symnet backend of the same role (``mode_linker``). Theano's
    linker API itself (``accept``, ``make_function``) is not provided."""

    mode_linker = "numba"

    def __init__(self, *args, **kwargs):
        pass

    def __repr__(self):
        return f"{type(self).__name__}() (symnet linker {self.mode_linker!r})"


class PerformLinker(_Linker):
    """Theano's Python linker: symnet's py backend (each op's ``perform``)."""

    mode_linker = "py"


class CLinker(_Linker):
    """Theano's C linker: symnet's compiled (numba) backend."""


class OpWiseCLinker(_Linker):
    """Theano's per-op C linker: symnet's compiled (numba) backend."""


LINKERS = {"PerformLinker": PerformLinker, "CLinker": CLinker, "OpWiseCLinker": OpWiseCLinker}


def _scalar_ops():
    """``theano.scalar.add``, ``.exp``...: symnet's scalar ops (what
    ``Elemwise`` applies), so ``T.Elemwise(theano.scalar.add)`` works."""
    from .tensor.ops.elemwise import SCALAR_OPS
    ops = dict(SCALAR_OPS)
    ops.update(abs_=SCALAR_OPS["abs"], inv=SCALAR_OPS["reciprocal"])
    # theano.scalar's type groups, as dtype names (symnet has no scalar types;
    # code uses them as str(t) or to build tensors of those dtypes)
    from .tensor import (int_dtypes, uint_dtypes, float_dtypes, complex_dtypes,
                         integer_dtypes, discrete_dtypes, continuous_dtypes, all_dtypes)
    ops.update(int_types=tuple(int_dtypes), uint_types=tuple(uint_dtypes),
               float_types=tuple(float_dtypes), complex_types=tuple(complex_dtypes),
               integer_types=tuple(integer_dtypes), discrete_types=tuple(discrete_dtypes),
               continuous_types=tuple(continuous_dtypes), all_types=tuple(all_dtypes))
    return ops
