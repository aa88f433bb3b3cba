"""Every Op's aliasing declarations (``view_map``, ``destroy_map``) are true.

The in-place rewrite and the linkers trust them: an output not in
``view_map`` may be overwritten in place, an input not in ``destroy_map`` is
assumed intact.  This test walks every Op class in symnet, builds each on
sample inputs (``SAMPLES``), runs its ``perform`` and checks that

- an output sharing memory with an input is declared a view of (or as
  destroying) that input,
- an input that ``perform`` modified is declared destroyed,
- an output sharing memory with no input is fresh: a second call returns a
  different buffer (not state the op keeps),
- the declarations name existing inputs and outputs.

An op that cannot be sampled is listed in ``UNSAMPLED`` with the reason; a
new Op class in neither table fails the test.
"""
import importlib
import pkgutil
from functools import partial

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.basic import Constant
from symnet.graph.op import Op
from symnet.graph.traversal import io_toposort
from symnet.gradient import (disconnected_grad, grad_clip, jacobian, zero_grad)
from symnet.tensor.ops.elemwise import SCALAR_OPS, Elemwise
from symnet.tensor.ops.debug import Print
from symnet.compile.ops import as_op
from symnet.tensor.ops.debug import CheckShape
from symnet.tensor.ops.decomp import Eigvalsh, _EigvecshOf
from symnet.tensor.ops.fft import IRFFT
import symnet.tensor.fft  # noqa: F401  (T.fft)
from symnet.tensor.ops.indexing import IncSubtensor

RNG = np.random.default_rng(0)


def _all_op_classes():
    for info in pkgutil.walk_packages(symnet.__path__, "symnet."):
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            if exc.name and not exc.name.startswith("symnet"):
                continue  # an optional dependency (an extra, e.g. mpi4py) is not installed
            raise
    found, stack = set(), [Op]
    while stack:  # explicit stack: the class tree is walked without recursion
        for sub in stack.pop().__subclasses__():
            if sub not in found and sub.__module__.startswith("symnet."):
                found.add(sub)
                stack.append(sub)
    return found


def _name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _m(*shape):
    return RNG.standard_normal(shape)


# -- sample constructions: op class name -> builders of (inputs, outputs, values) ----

def _elemwise():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    return [x, y], [T.exp(x) + y, T.identity(x) if hasattr(T, "identity") else
                    T.elemwise(SCALAR_OPS["identity"], x)], [_m(2, 3), _m(2, 3)]


def _elemwise_inplace():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    return [x, y], [Elemwise(SCALAR_OPS["add"], inplace=0)(x, y)], [_m(2, 3), _m(2, 3)]


def _inc_subtensor(inplace):
    def build():
        x, y = T.dmatrix("x"), T.dvector("y")
        out = T.inc_subtensor(x[1], y)
        if inplace:
            node = out.owner
            out = IncSubtensor(node.op.idx_list, node.op.set_instead_of_inc,
                               inplace=True)(*node.inputs)
        return [x, y], [out], [_m(2, 3), _m(3)]
    return build


def _unary(fn, *shape):
    def build():
        x = T.TensorType("float64", (None,) * len(shape))("x")
        return [x], [fn(x)], [_m(*shape)]
    return build


def _ints(fn):
    def build():
        x = T.lvector("x")
        return [x], [fn(x)], [np.array([3, 0, 2, 2, 1], dtype="int64")]
    return build


def _scan():
    x = T.dvector("x")
    out, _ = symnet.scan(lambda v, acc: acc + v, sequences=[x],
                         outputs_info=[T.constant(0.0, dtype="float64")], mode=Mode("py"))
    return [x], [out], [_m(4)]


def _jacobian():
    x = T.dvector("x")
    return [x], [jacobian(T.exp(x) * 2, x)], [_m(3)]


def _op_from_graph():
    # outputs that are an input, a view of one, and fresh; a shared input
    from symnet.compile.builders import OpFromGraph
    x, y = T.dvectors("x", "y")
    s = symnet.shared(np.ones(3), name="s")
    op = OpFromGraph([x, y], [x, y[::-1], x * y + s])
    a, b = T.dvectors("a", "b")
    return [a, b], op(a, b), [_m(3), _m(3)]


def _random():
    from symnet.tensor.shared_randomstreams import RandomStreams
    return [], [RandomStreams(seed=1).uniform((2, 3))], []


def _conv(kind, nd=2, groups=1):
    """A conv2d (``nd=2``) or conv3d (``nd=3``) sample: forward, or the
    gradient with respect to the inputs or the weights; ``groups`` input
    channel groups of 2 channels each."""
    def build():
        tensor, conv = (T.dtensor4, T.nnet.conv2d) if nd == 2 else (T.dtensor5, T.nnet.conv3d)
        x, w = tensor("x"), tensor("w")
        out = conv(x, w, num_groups=groups)
        if kind != "fwd":
            out = T.grad(T.sum(out ** 2), x if kind == "inputs" else w)
        if nd == 2:
            return [x, w], [out], [_m(1, 2 * groups, 5, 5), _m(3 * groups, 2, 2, 2)]
        return [x, w], [out], [_m(1, 2 * groups, 3, 3, 3), _m(2 * groups, 2, 2, 2, 2)]
    return build


def _conv_fused(kind, act="relu", flag=False):
    """A fused conv epilogue op (``tensor/ops/conv_fused.py``): the forward
    ``Conv2dBiasAct`` (``flag``: keep the sign) or ``BiasActGrad``
    (``flag``: in place)."""
    from symnet.tensor.ops.conv_fused import BiasActGrad, Conv2dBiasAct

    def build():
        x, w, b = T.dtensor4("x"), T.dtensor4("w"), T.dvector("b")
        if kind == "fwd":
            out = Conv2dBiasAct(act=act, keep_sign=flag)(x, w, b)
            return [x, w, b], list(out) if flag else [out], [_m(2, 2, 5, 5), _m(3, 2, 2, 2), _m(3)]
        g, s = T.dtensor4("g"), T.TensorType("int8", (None,) * 4)("s")
        return [g, s], BiasActGrad(act, inplace=flag)(g, s), \
            [_m(2, 3, 4, 4), RNG.integers(-1, 3, size=(2, 3, 4, 4)).astype("int8")]
    return build


def _pool(grad):
    def build():
        x = T.dtensor4("x")
        out = T.signal.pool.pool_2d(x, ws=(2, 2), ignore_border=True)
        if grad:
            out = T.grad(T.sum(out ** 2), x)
        return [x], [out], [_m(1, 2, 4, 4)]
    return build


def _pool_grad_grad():
    from symnet.tensor.ops.pool import DownsampleFactorMaxGradGrad, Pool
    x, ggx = T.dtensor4("x"), T.dtensor4("ggx")
    args = ((2, 2), True, (1, 1), (1, 0), "max")
    out = DownsampleFactorMaxGradGrad(*args)(x, Pool(*args)(x), ggx)
    return [x, ggx], [out], [_m(1, 2, 4, 4), _m(1, 2, 4, 4)]


def _conv_shape_hint():
    from symnet.tensor.nnet import conv
    x, w = T.dtensor4("x"), T.dtensor4("w")
    out = conv.conv2d(x, w, (1, 2, 4, 4), (3, 2, 2, 2))
    return [x, w], [out], [_m(1, 2, 4, 4), _m(3, 2, 2, 2)]


def _pool_argmax(grad):
    def build():
        from symnet.tensor.ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad
        x, gz = T.dtensor4("x"), T.dtensor4("gz")
        out, idx = MaxPoolArgmax((2, 2), True, (1, 1), (1, 0))(x)
        outs = [MaxPoolArgmaxGrad((2, 2), True, (1, 1), (1, 0))(x, idx, gz)] if grad \
            else [out, idx]
        return [x, gz], outs, [_m(1, 2, 4, 4), _m(1, 2, 5, 3)]
    return build


def _pool_bias_act(act):
    def build():
        from symnet.tensor.ops.pool import MaxPoolArgmax
        from symnet.tensor.ops.pool_fused import MaxPoolBiasActGrad
        x, gz = T.dtensor4("x"), T.dtensor4("gz")
        s = T.TensorType("int8", (None,) * 4)("s")
        idx = MaxPoolArgmax((2, 2), True, (2, 2), (0, 0))(x)[1]
        outs = MaxPoolBiasActGrad((2, 2), True, (2, 2), (0, 0), act)(x, idx, gz, s)
        return [x, gz, s], outs, [_m(2, 3, 5, 4), _m(2, 3, 2, 2),
                                  RNG.integers(-1, 3, size=(2, 3, 5, 4)).astype("int8")]
    return build


def _pool_conv_grad():
    from symnet.tensor.ops.conv import Conv2dGradWeights
    from symnet.tensor.ops.pool import MaxPoolArgmax
    from symnet.tensor.ops.pool_fused import MaxPoolBiasActGrad, PoolConvGradWeights
    x, c, gz = T.dtensor4("x"), T.dtensor4("c"), T.dtensor4("gz")
    s = T.TensorType("int8", (None,) * 4)("s")
    idx = MaxPoolArgmax((2, 2), True, (2, 2), (0, 0))(c)[1]
    outs = PoolConvGradWeights(MaxPoolBiasActGrad((2, 2), True, (2, 2), (0, 0), "relu"),
                               Conv2dGradWeights())(x, c, idx, gz, s, (3, 2, 2, 3))
    return [x, c, gz, s], outs, [_m(2, 2, 5, 6), _m(2, 3, 4, 4), _m(2, 3, 2, 2),
                                 RNG.integers(-1, 2, size=(2, 3, 4, 4)).astype("int8")]


def _conv_pool(keep):
    def build():
        from symnet.tensor.ops.conv_fused import Conv2dBiasAct
        from symnet.tensor.ops.pool import MaxPoolArgmax
        from symnet.tensor.ops.pool_fused import Conv2dBiasActPool
        x, w, b = T.dtensor4("x"), T.dtensor4("w"), T.dvector("b")
        outs = Conv2dBiasActPool(Conv2dBiasAct(act="relu", keep_sign=keep),
                                 MaxPoolArgmax((2, 2), True, (2, 2), (0, 0)))(x, w, b)
        return [x, w, b], outs, [_m(2, 2, 6, 5), _m(3, 2, 2, 2), _m(3)]
    return build


def _dynamic_pool(grad):
    def build():
        x, k = T.dtensor4("x"), T.lscalar("k")
        out = T.signal.pool.pool_2d(x, ws=(k, k), ignore_border=True)
        if grad:
            out = T.grad(T.sum(out ** 2), x)
        return [x, k], [out], [_m(1, 2, 4, 4), np.array(2, dtype="int64")]
    return build


def _linalg(solve):
    def build():
        a, b = T.dmatrix("a"), T.dmatrix("b")
        out = T.slinalg.solve(a, b) if solve else T.nlinalg.matrix_inverse(a)
        return [a, b], [out], [_m(3, 3) + 3 * np.eye(3), _m(3, 2)]
    return build


def _spd(fn):
    def build():
        a, b = T.dmatrix("a"), T.dmatrix("b")
        m = _m(3, 3)
        return [a, b], [fn(a, b)], [m @ m.T + 3 * np.eye(3), 4 * np.eye(3)]
    return build


def _decomp(outputs):
    def build():
        a = T.dmatrix("a")
        return [a], outputs(a), [_m(3, 3) + 3 * np.eye(3)]
    return build


def _labels(fn):
    def build():
        x, y = T.dmatrix("x"), T.lvector("y")
        return [x, y], [fn(x, y)], [np.abs(_m(3, 4)) + 0.1, np.array([0, 3, 1])]
    return build


def _xent_with_grad(gz_ndim):
    def build():
        from symnet.tensor.ops.nnet import SoftmaxCrossentropyWithGrad
        x, y = T.dmatrix("x"), T.lvector("y")
        gz = T.dvector("gz") if gz_ndim else T.dscalar("gz")
        return [x, y, gz], SoftmaxCrossentropyWithGrad()(x, y, gz), \
            [_m(3, 4), np.array([0, 3, 1]), _m(3) if gz_ndim else np.array(0.5)]
    return build


def _runtime_axis_join():
    ax, x = T.lscalar("ax"), T.dmatrix("x")
    return [ax, x], [T.join(ax, x, x * 2)], [np.array(1), _m(2, 3)]


def _make_vector():
    a, b = T.dscalar("a"), T.dscalar("b")
    return [a, b], [T.stack([a, b])], [np.array(1.0), np.array(2.0)]


def _advanced_inc():
    x, y = T.dvector("x"), T.dvector("y")
    return [x, y], [T.inc_subtensor(x[T.constant(np.array([0, 2, 0]))], y)], [_m(4), _m(3)]


def _ifelse(lazy):
    def build():
        from symnet.graph.fg import FunctionGraph
        from symnet.tensor.ops.ifelse import ifelse
        from symnet.tensor.rewriting.ifelse import lazify
        x = T.dmatrix("x")
        outs = [ifelse(T.sum(x) > 0, x, x.T.T * 2), ifelse(T.sum(x) < 0, T.exp(x), x)]
        if lazy:      # the split function() makes: branches as inner graphs
            fg = FunctionGraph([x], outs)
            assert lazify(fg) == 2
            outs = fg.outputs
        return [x], outs, [np.abs(_m(2, 3))]
    return build


def _grad_ops():
    x = T.dvector("x")
    return [x], [zero_grad(x), disconnected_grad(x) * 1, grad_clip(x, -1, 1)], [_m(3)]


def _no_rule(shape):
    return None


def _choose():
    i, x = T.lvector("i"), T.dmatrix("x")
    return [i, x], [T.choose(i, x)], [np.array([1, 0, 1]), _m(2, 3)]


def _choose_list():
    i, x, y = T.lvector("i"), T.dvector("x"), T.dvector("y")
    return [i, x, y], [T.choose(i, [x, y])], [np.array([1, 0, 1]), _m(3), _m(3)]


def _sparse_block(op_class, inplace):
    """SparseBlockGemv/Outer: 2 examples, windows of 2 and 1 over 3 and 2
    blocks of sizes 4 and 5 (the first example names input block 2 twice)."""
    from symnet.tensor.ops import blocksparse
    op = getattr(blocksparse, op_class)(inplace)
    ii, oi = T.lmatrix("iIdx"), T.lmatrix("oIdx")
    idx = [np.array([[2, 2], [0, 1]]), np.array([[1], [0]])]
    if op_class == "SparseBlockGemv":
        o, W, h = T.dtensor3("o"), T.dtensor4("W"), T.dtensor3("h")
        return [o, W, h, ii, oi], [op(o, W, h, ii, oi)], \
            [_m(2, 1, 5), _m(3, 2, 4, 5), _m(2, 2, 4)] + idx
    o, x, y = T.dtensor4("o"), T.dtensor3("x"), T.dtensor3("y")
    return [o, x, y, ii, oi], [op(o, x, y, ii, oi)], [_m(3, 2, 4, 5), _m(2, 2, 4), _m(2, 1, 5)] + idx


def _unique():
    x = T.dvector("x")
    return [x], T.extra_ops.unique(x, return_index=True, return_inverse=True,
                                   return_counts=True), [np.array([3.0, 1.0, 3.0, 2.0])]


def _lstsq():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    return [a, b], T.nlinalg.lstsq()(a, b, -1), [_m(4, 3), _m(4, 2)]


SAMPLES = {
    "symnet.tensor.ops.elemwise.Elemwise": [_elemwise, _elemwise_inplace],
    "symnet.tensor.ops.elemwise.DimShuffle": [_unary(lambda x: x.T, 2, 3),
                                              _unary(lambda x: x.dimshuffle("x", 0), 3)],
    "symnet.tensor.ops.reduction.Reduce": [_unary(T.sum, 2, 3), _unary(lambda x: T.max(x, 0), 2, 3)],
    "symnet.tensor.ops.reduction.Argmax": [_unary(lambda x: T.argmax(x, 1), 2, 3)],
    "symnet.tensor.ops.shape.Shape": [_unary(T.shape, 2, 3)],
    "symnet.tensor.ops.shape.Shape_i": [_unary(lambda x: T.shape_i(x, 1), 2, 3)],
    "symnet.tensor.ops.shape.MakeVector": [_make_vector],
    "symnet.tensor.ops.shape.Reshape": [_unary(lambda x: T.reshape(x, (3, 2)), 2, 3),
                                        _unary(lambda x: T.reshape(x.T, (6,)), 2, 3)],
    "symnet.tensor.ops.shape.Alloc": [_unary(lambda x: T.alloc(x, 4, 3), 3)],
    "symnet.tensor.ops.shape.Join": [_unary(lambda x: T.concatenate([x, x * 2]), 2, 3)],
    "symnet.tensor.ops.shape.RuntimeAxisJoin": [_runtime_axis_join],
    "symnet.tensor.ops.shape.ARange": [_ints(lambda x: T.arange(T.shape_i(x, 0)))],
    "symnet.tensor.ops.shape.Rebroadcast": [_unary(lambda x: T.addbroadcast(x, 0), 1, 3)],
    "symnet.tensor.ops.debug.Print": [_unary(lambda x: Print("", global_fn=lambda op, v: None)(x),
                                             2, 3)],
    "symnet.compile.ops.FromFunctionOp": [
        _unary(as_op([T.dmatrix], [T.dmatrix])(lambda m: m[::-1]), 2, 3),
        _unary(as_op([T.dmatrix], [T.dvector])(lambda m: m[:, 0]), 2, 3)],
    "symnet.tensor.ops.ifelse.IfElse": [_ifelse(False)],
    "symnet.tensor.ops.ifelse.LazyIfElse": [_ifelse(True)],
    "symnet.tensor.ops.debug.SpecifyShape": [_unary(lambda x: T.specify_shape(x, (2, 3)), 2, 3)],
    "symnet.tensor.ops.shape.Tile": [_unary(lambda x: T.tile(x, (2, 1)), 2, 3)],
    "symnet.tensor.ops.shape.Repeat": [_unary(lambda x: T.repeat(x, 2, axis=0), 2, 3)],
    "symnet.tensor.ops.indexing.Subtensor": [_unary(lambda x: x[1:, ::2], 3, 4),
                                             _unary(lambda x: x[1, 2], 3, 4)],
    "symnet.tensor.ops.indexing.IncSubtensor": [_inc_subtensor(False), _inc_subtensor(True)],
    "symnet.tensor.ops.advanced.AdvancedSubtensor": [
        _unary(lambda x: x[T.constant(np.array([2, 0, 2]))], 3, 4),
        _unary(lambda x: x[x > 0], 3, 4)],
    "symnet.tensor.ops.advanced.AdvancedIncSubtensor": [_advanced_inc],
    "symnet.tensor.ops.advanced.Nonzero": [_unary(lambda x: T.nonzero(x, return_matrix=True), 3, 4)],
    "symnet.tensor.ops.advanced.Sort": [_unary(T.sort, 3, 4)],
    "symnet.tensor.ops.advanced.ArgSort": [_unary(T.argsort, 3, 4)],
    "symnet.tensor.ops.advanced.CumOp": [_unary(lambda x: T.cumsum(x, 1), 3, 4),
                                         _unary(lambda x: T.cumprod(x, 0), 3, 4)],
    "symnet.tensor.ops.advanced.BinCount": [_ints(T.extra_ops.bincount)],
    "symnet.tensor.ops.blas.Dot": [_unary(lambda x: T.dot(x, x.T), 2, 3)],
    "symnet.tensor.ops.blas.BatchedDot": [
        _unary(lambda x: T.batched_dot(x, x.dimshuffle(0, 2, 1)), 2, 3, 4)],
    "symnet.tensor.ops.nnet.Softmax": [_unary(T.nnet.softmax, 3, 4)],
    "symnet.tensor.ops.nnet.LogSoftmax": [_unary(T.nnet.log_softmax, 3, 4)],
    "symnet.tensor.ops.nnet.CrossentropyCategorical1Hot": [
        _labels(T.nnet.crossentropy_categorical_1hot)],
    "symnet.tensor.ops.nnet.SoftmaxCrossentropy": [
        _labels(T.nnet.softmax_crossentropy_with_int_labels)],
    "symnet.tensor.ops.nnet.SoftmaxCrossentropyWithGrad": [_xent_with_grad(0), _xent_with_grad(1)],
    "symnet.tensor.ops.conv.Conv2d": [_conv("fwd")],
    "symnet.tensor.ops.conv.Conv2dGradInputs": [_conv("inputs")],
    "symnet.tensor.ops.conv.Conv2dGradWeights": [_conv("weights")],
    "symnet.tensor.ops.conv_fused.Conv2dBiasAct": [_conv_fused("fwd"),
                                                   _conv_fused("fwd", "max", True)],
    "symnet.tensor.ops.conv_fused.BiasActGrad": [_conv_fused("grad"),
                                                 _conv_fused("grad", "linear", True)],
    "symnet.tensor.ops.pool.Pool": [_pool(False)],
    "symnet.tensor.ops.pool.DownsampleFactorMaxGradGrad": [_pool_grad_grad],
    "symnet.tensor.nnet.conv._ShapeHint": [_conv_shape_hint],
    "symnet.tensor.ops.pool.PoolGrad": [_pool(True)],
    "symnet.tensor.ops.pool.MaxPoolArgmax": [_pool_argmax(False)],
    "symnet.tensor.ops.pool.MaxPoolArgmaxGrad": [_pool_argmax(True)],
    "symnet.tensor.ops.pool_fused.MaxPoolBiasActGrad": [_pool_bias_act("relu"),
                                                        _pool_bias_act("max")],
    "symnet.tensor.ops.pool_fused.PoolConvGradWeights": [_pool_conv_grad],
    "symnet.tensor.ops.pool_fused.Conv2dBiasActPool": [_conv_pool(True), _conv_pool(False)],
    "symnet.tensor.ops.conv3d.Conv3d": [_conv("fwd", nd=3),
                                        _conv("fwd", nd=3, groups=2)],
    "symnet.tensor.ops.conv3d.Conv3dGradInputs": [_conv("inputs", nd=3),
                                                  _conv("inputs", nd=3, groups=2)],
    "symnet.tensor.ops.conv3d.Conv3dGradWeights": [_conv("weights", nd=3),
                                                   _conv("weights", nd=3, groups=2)],
    "symnet.tensor.ops.pool.DynamicPool": [_dynamic_pool(False)],
    "symnet.tensor.ops.pool.DynamicPoolGrad": [_dynamic_pool(True)],
    "symnet.tensor.ops.linalg.MatrixInverse": [_linalg(False)],
    "symnet.tensor.ops.linalg.Solve": [_linalg(True)],
    "symnet.tensor.ops.fft.RFFT": [_unary(T.fft.rfft, 2, 3)],
    "symnet.tensor.ops.fft.IRFFT": [
        _unary(lambda x: T.fft.irfft(x.dimshuffle(0, 1, "x") * [1.0, 0.5]), 2, 3),
        _unary(lambda x: IRFFT(None)(x.dimshuffle(0, 1, "x") * [1.0, 0.5], 5), 2, 3)],
    "symnet.tensor.ops.decomp.Cholesky": [_spd(lambda a, b: T.slinalg.cholesky(a + 0 * b)),
                                          _spd(lambda a, b: T.slinalg.cholesky(a, lower=False)
                                               + 0 * b)],
    "symnet.tensor.ops.decomp.Eigvalsh": [_spd(T.slinalg.eigvalsh)],
    "symnet.tensor.ops.decomp._EigvecshOf": [
        _spd(lambda a, b: _EigvecshOf(Eigvalsh())(a, b))],
    "symnet.tensor.ops.linalg.Det": [_decomp(lambda a: [T.nlinalg.det(a)])],
    "symnet.tensor.ops.linalg.Eigh": [_decomp(lambda a: T.nlinalg.eigh(a + a.T))],
    "symnet.tensor.ops.linalg.SVD": [_decomp(lambda a: T.nlinalg.svd(a)),
                                     _decomp(lambda a: [T.nlinalg.svd(a, 0, 0)])],
    "symnet.tensor.ops.linalg.QRFull": [_decomp(lambda a: T.nlinalg.qr(a)),
                                        _decomp(lambda a: [T.nlinalg.qr(a, "r")])],
    "symnet.tensor.ops.linalg.MatrixPinv": [_decomp(lambda a: [T.nlinalg.pinv(a)])],
    "symnet.tensor.ops.random.RandomDraw": [_random],
    "symnet.tensor.ops.choose.Choose": [_choose],
    "symnet.tensor.ops.choose.ChooseList": [_choose_list],
    **{f"symnet.tensor.ops.blocksparse.{name}": [partial(_sparse_block, name, False),
                                                 partial(_sparse_block, name, True)]
       for name in ("SparseBlockGemv", "SparseBlockOuter")},
    "symnet.tensor.ops.unique.Unique": [_unique],
    "symnet.tensor.ops.linalg.Eig": [_decomp(lambda a: T.nlinalg.eig(a))],
    "symnet.tensor.ops.linalg.Lstsq": [_lstsq],
    "symnet.tensor.ops.debug.CheckShape": [_unary(lambda x: CheckShape(_no_rule)(x), 2, 3)],
    "symnet.scan.op.Scan": [_scan],
    "symnet.gradient._JacobianOp": [_jacobian],
    "symnet.gradient._GradOp": [_grad_ops],
    "symnet.compile.builders.OpFromGraph": [_op_from_graph],
}

UNSAMPLED = {
    "symnet.tensor.ops.conv._ConvBase": "abstract base of the Conv2d ops (no make_node)",
    "symnet.tensor.ops.pool._PoolBase": "abstract base of Pool and PoolGrad (no make_node)",
    "symnet.tensor.ops.pool._ArgmaxBase": "abstract base of the max-pool argmax "
                                                 "pair (no make_node)",
    "symnet.tensor.ops.conv3d._Conv3dBase": "abstract base of the Conv3d ops (no make_node)",
    "symnet.tensor.ops.shape.ShapeBeyondRank": "its perform only raises (x.shape[i] past "
                                               "x's rank): no output to check",
    "symnet.tensor.ops.io.LoadFromDisk": "its only input is a file name (Generic): no array "
                                         "it could alias; tests/test_compat_theano_misc.py "
                                         "checks what it reads",
    "symnet.tensor.raw_random.RandomFunction": "its state input is a numpy RandomState (a "
                                               "Python object, not an array); "
                                               "tests/tensor/test_raw_random.py checks the "
                                               "state it returns and the one it was given",
    **{f"symnet.typed_list.basic.{c}": "typed_list values are Python lists, not arrays: "
                                          "test_typed_list_ops_leave_their_input_list_alone "
                                          "checks the ops that build a list"
       for c in ("Append", "Count", "Extend", "GetItem", "Index", "Insert", "Length",
                 "MakeList", "Remove", "Reverse", "_Copying", "_ListOp", "_Search")},
}


def test_every_op_class_is_sampled_or_listed():
    names = {_name(c) for c in _all_op_classes()}
    missing = sorted(names - set(SAMPLES) - set(UNSAMPLED))
    assert missing == [], (
        f"new Op classes {missing}: add sample constructions to SAMPLES in "
        f"{__file__} (or list them in UNSAMPLED with the reason)")
    stale = sorted((set(SAMPLES) | set(UNSAMPLED)) - names)
    assert stale == [], f"SAMPLES/UNSAMPLED name ops that no longer exist: {stale}"
    assert not set(SAMPLES) & set(UNSAMPLED)


def _nodes_of(cls_name, outputs):
    return [n for n in io_toposort([], outputs) if _name(type(n.op)) == cls_name]


def _input_values(node, inputs, values):
    """The runtime values of ``node``'s inputs, computed on the py backend
    without rewrites (so the node's inputs are exactly those it was built on)."""
    if all(isinstance(v, Constant) for v in node.inputs):
        return [v.data.copy() for v in node.inputs]
    fn = symnet.function(inputs, list(node.inputs), mode=Mode("py", optimizer=None),
                         on_unused_input="ignore")
    return [np.array(v, copy=True) for v in fn(*values)]


def _perform(node, vals):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, vals, storage)
    return [cell[0] for cell in storage]


def _shares(a, b):
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.size > 0 \
        and b.size > 0 and np.shares_memory(a, b)


def check_declarations(node, vals):
    """The problems found comparing ``node.op``'s declarations with what its
    perform does on ``vals`` (a list of strings; empty when all is true)."""
    op = node.op
    view_map, destroy_map = op.view_map, op.destroy_map
    problems = []
    for decl_name, decl in (("view_map", view_map), ("destroy_map", destroy_map)):
        if not isinstance(decl, dict):
            problems.append(f"{decl_name} is {type(decl).__name__}, not a dict")
            continue
        for j, ins in decl.items():
            if not 0 <= j < len(node.outputs) or any(not 0 <= i < len(vals) for i in ins):
                problems.append(f"{decl_name} {decl} names a missing input or output")
    if problems:
        return problems
    pristine = [np.array(v, copy=True) for v in vals]
    outs = _perform(node, vals)
    for j, out in enumerate(outs):
        declared = set(view_map.get(j, ())) | set(destroy_map.get(j, ()))
        for i, inp in enumerate(vals):
            if _shares(out, inp) and i not in declared:
                problems.append(f"output {j} shares memory with input {i}, but "
                                f"view_map/destroy_map do not say so")
    destroyed = {i for ins in destroy_map.values() for i in ins}
    for i, (before, after) in enumerate(zip(pristine, vals)):
        changed = before.shape != np.shape(after) or not np.array_equal(
            before, after, equal_nan=before.dtype.kind in "fc")
        if changed and i not in destroyed:
            problems.append(f"perform modified input {i}, but destroy_map does not say so")
    # fresh outputs are fresh: a second call does not hand back the same buffer
    again = _perform(node, [np.array(v, copy=True) for v in pristine])
    for j, (a, b) in enumerate(zip(outs, again)):
        if j not in view_map and j not in destroy_map and _shares(a, b):
            problems.append(f"output {j} is not a view of an input, yet two calls "
                            f"return the same buffer (state kept by the op?)")
    return problems


def _cases():
    for cls_name, builders in sorted(SAMPLES.items()):
        for k, build in enumerate(builders):
            yield pytest.param(cls_name, build, id=f"{cls_name.rsplit('.', 1)[1]}-{k}")


@pytest.mark.parametrize("cls_name, build", list(_cases()))
def test_declarations_match_perform(cls_name, build):
    inputs, outputs, values = build()
    nodes = _nodes_of(cls_name, outputs)
    assert nodes, f"the sample for {cls_name} builds no node of that op"
    for node in nodes:
        vals = _input_values(node, inputs, values)
        assert check_declarations(node, vals) == [], f"{node.op} on {node}"


# -- the checker itself finds false declarations ---------------------------------------

class _LyingView(Op):
    """Returns its input itself but declares nothing."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return symnet.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0][::2]


class _LyingDestroy(_LyingView):
    """Overwrites its input but declares nothing."""

    def perform(self, node, inputs, output_storage):
        inputs[0] *= 2
        output_storage[0][0] = inputs[0].copy()


class _KeepsState(_LyingView):
    """Returns a buffer it keeps between calls."""

    def perform(self, node, inputs, output_storage):
        if not hasattr(self, "buf"):
            self.buf = np.empty_like(inputs[0])
        self.buf[...] = inputs[0]
        output_storage[0][0] = self.buf


@pytest.mark.parametrize("op, message", [
    (_LyingView(), "output 0 shares memory with input 0"),
    (_LyingDestroy(), "perform modified input 0"),
    (_KeepsState(), "two calls return the same buffer"),
])
def test_checker_catches_false_declarations(op, message):
    node = op.make_node(T.dvector("x"))
    problems = check_declarations(node, [_m(4)])
    assert len(problems) == 1 and message in problems[0], problems


def test_checker_accepts_true_declarations():
    class Honest(_LyingView):
        view_map = {0: [0]}
    node = Honest().make_node(T.dvector("x"))
    assert check_declarations(node, [_m(4)]) == []
    Honest.view_map = {0: [1]}
    assert "names a missing input" in check_declarations(node, [_m(4)])[0]


def test_typed_list_ops_leave_their_input_list_alone():
    # typed_list ops declare no destroy_map (their inputs are Python lists,
    # outside check_declarations' reach): the list given is not changed
    from symnet import typed_list as tl
    from symnet.typed_list import TypedListType
    a, b = TypedListType(T.dvector)(), TypedListType(T.dvector)()
    v, i = T.dvector("v"), T.lscalar("i")
    items = [np.array([1.0, 2.0]), np.array([3.0])]
    for out, args in [(tl.append(a, v), [a, v]), (tl.extend(a, b), [a, b]),
                      (tl.insert(a, i, v), [a, i, v]), (tl.remove(a, v), [a, v]),
                      (tl.reverse(a), [a])]:
        given = list(items)
        values = {a: given, b: [np.array([5.0])], v: np.array([3.0]), i: np.array(0)}
        got = symnet.function(args, out, mode="py")(*[values[x] for x in args])
        assert got is not given
        assert len(given) == 2 and all(g is w for g, w in zip(given, items)), str(out.owner.op)
