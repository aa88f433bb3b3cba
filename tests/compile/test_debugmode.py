"""DebugMode: backend vs py per step, destroy/view declarations, output types, rewrites."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.debugmode import (BadDestroyMap, BadOutputType, BadRewrite,
                                      BadThunkOutput, BadViewMap, DebugMode, DebugModeError,
                                      InvalidValueError, mismatch)
from symnet.compile.nanguardmode import NanGuardError
from symnet.graph.basic import Apply
from symnet.graph.op import Op

F32 = "float32"
BACKENDS = ("py", "numba")


class _Double(Op):
    """2 * x, written in several wrong ways (``how``)."""

    __props__ = ("how",)

    def __init__(self, how, destroy_map=None, view_map=None):
        self.how = how
        if destroy_map is not None:
            self.destroy_map = destroy_map
        if view_map is not None:
            self.view_map = view_map

    def make_node(self, x, y=None):
        inputs = [x] if y is None else [x, y]
        return Apply(self, inputs, [x.type()])

    def perform(self, node, inputs, out):
        x = inputs[0]
        if self.how == "overwrite":        # writes into its input
            x *= 2
            out[0][0] = x.copy()
        elif self.how == "overwrite_second":
            inputs[1][...] = 0
            out[0][0] = 2 * x
        elif self.how == "view":           # returns a view of its input
            out[0][0] = x[:]
        elif self.how == "float64":
            out[0][0] = (2 * x).astype("float64")
        else:
            out[0][0] = 2 * x


def _call(op, *extra):
    x = T.vector("x")
    y = op(x * 1.5, *[e * 1.0 for e in extra]) + 1
    f = symnet.function([x] + list(extra), y, mode=DebugMode("py"))
    return f(np.ones(3, F32), *[np.ones(3, F32) for _ in extra])


@pytest.mark.parametrize("backend", BACKENDS)
def test_agreeing_backend_returns_its_results(backend):
    x, W = T.vector("x"), T.matrix("W")
    y = T.tanh(T.dot(W, x)) * 2 + T.exp(x)
    f = symnet.function([W, x], y, mode=DebugMode(backend))
    w = np.arange(9, dtype=F32).reshape(3, 3) / 10
    v = np.array([1, -1, 0.5], F32)
    np.testing.assert_allclose(f(w, v), np.tanh(w @ v) * 2 + np.exp(v), rtol=1e-5)


def test_false_destroy_map_is_caught():
    with pytest.raises(BadDestroyMap) as info:
        _call(_Double("overwrite"))
    assert isinstance(info.value.node.op, _Double)
    assert "overwrote its input 0" in str(info.value) and "destroy_map={}" in str(info.value)
    # declaring the wrong input is caught too
    with pytest.raises(BadDestroyMap) as info:
        _call(_Double("overwrite_second", destroy_map={0: [0]}), T.vector("z"))
    assert "overwrote its input 1" in str(info.value)
    # an honest declaration passes (the input is an intermediate)
    np.testing.assert_allclose(_call(_Double("overwrite", destroy_map={0: [0]})), [4, 4, 4])


def test_undeclared_view_is_caught():
    with pytest.raises(BadViewMap) as info:
        _call(_Double("view"))
    assert "is a view of input 0" in str(info.value)


def test_wrong_output_dtype_is_caught():
    with pytest.raises(BadOutputType) as info:
        _call(_Double("float64"))
    assert "dtype float64, declared float32" in str(info.value)
    assert isinstance(info.value, InvalidValueError)     # Theano's name for it


def test_wrong_driver_line_is_caught(monkeypatch):
    """A numba driver template that adds 1 to every matrix product."""
    from symnet.backend.registry import KERNELS
    from symnet.tensor.ops.blas import Dot

    def wrong(node, ins, outs):
        return [f"{outs[0]} = _np.dot({ins[0]}, {ins[1]}) + 1"], True
    wrong.driver_template = True
    monkeypatch.setitem(KERNELS["numba"], Dot, wrong)
    x, W = T.vector("x"), T.matrix("W")
    f = symnet.function([W, x], T.tanh(T.dot(W, x)), mode=DebugMode("numba"))
    if f.thunk.backend != "numba":
        pytest.skip("numba backend unavailable")
    with pytest.raises(BadThunkOutput) as info:
        f(np.ones((3, 3), F32), np.ones(3, F32))
    assert isinstance(info.value.node.op, Dot)
    assert "_np.dot(i0, i1) + 1" in str(info.value)


def _numba_debug_mode(emitter):
    mode = DebugMode("numba")
    mode.emitter = emitter       # who builds the kernels (numba_cpu/llvm/)
    return mode


@pytest.mark.parametrize("emitter", ["numba", "llvm"])
def test_wrong_compiled_kernel_is_caught(emitter):
    """A fused-loop kernel replaced after compilation by one that is off by 1e-2."""
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) * 2 + 1, mode=_numba_debug_mode(emitter))
    linker = f.thunk.linker
    (kname,) = [k for k in linker.kernel_names.values()]
    assert linker.emitter_of(kname) == emitter
    right = linker.ns[kname]
    linker.ns[kname] = lambda *args: right(*args) + np.float32(1e-2)
    with pytest.raises(BadThunkOutput) as info:
        f(np.ones(4, F32))
    assert f"kernel {kname}" in str(info.value)
    assert info.value.node is f.fgraph.outputs[0].owner
    linker.ns[kname] = right
    np.testing.assert_allclose(f(np.ones(4, F32)), np.exp(1) * 2 + 1, rtol=1e-5)


def test_wrong_rewrite_is_named():
    from symnet.graph.rewriting.db import REGISTRY, register_local
    from symnet.tensor.ops.elemwise import Elemwise

    @register_local("canonicalize", "test_debugmode_wrong", tracks=[Elemwise],
                    scalars=["tanh"], name="test_debugmode_tanh_to_sigmoid", optional=True)
    def wrong(fgraph, node):
        return [T.nnet.sigmoid(node.inputs[0])]
    try:
        x = T.vector("x")
        f = symnet.function([x], T.tanh(x) + 1,
                            mode=DebugMode("py").including("test_debugmode_wrong"))
        with pytest.raises(BadRewrite) as info:
            f(np.array([0.5, 1.0], F32))
        assert "test_debugmode_tanh_to_sigmoid" in str(info.value)
        # without the rewrite the same mode is happy
        g = symnet.function([x], T.tanh(x) + 1, mode=DebugMode("py"))
        np.testing.assert_allclose(g(np.array([0.5], F32)), np.tanh([0.5]) + 1, rtol=1e-6)
    finally:
        REGISTRY.pop("test_debugmode_tanh_to_sigmoid", None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_isfinite_runs_the_guard(backend):
    x = T.vector("x")
    f = symnet.function([x], T.log(x), mode=DebugMode(backend, check_isfinite=True))
    with pytest.raises(NanGuardError) as info:
        f(np.array([-1.0], F32))
    # Theano's DebugMode raised InvalidValueError: both names catch it
    assert isinstance(info.value, InvalidValueError) and isinstance(info.value, DebugModeError)
    assert info.value.kind == "NaN" and "NaN" in str(info.value)
    assert info.value.node is not None and "log" in str(info.value.node.op)
    np.testing.assert_allclose(f(np.array([2.0], F32)), np.log([2.0]), rtol=1e-6)


def test_theano_exception_names():
    import symnet.compat
    symnet.compat.install()
    try:
        from theano.compile.debugmode import (BadDestroyMap as BDM, BadOptimization,
                                              BadThunkOutput as BTO, BadViewMap as BVM,
                                              DebugModeError as DME, InvalidValueError as IVE,
                                              StochasticOrder)
    finally:
        symnet.compat.uninstall()
    assert (BDM, BTO, BVM, DME, IVE) == (BadDestroyMap, BadThunkOutput, BadViewMap,
                                         DebugModeError, InvalidValueError)
    assert issubclass(BadRewrite, BadOptimization) and issubclass(BadOptimization, DME)
    assert issubclass(BadOutputType, IVE) and issubclass(StochasticOrder, DME)
    for cls in (BDM, BTO, BVM, IVE, BadOptimization, StochasticOrder):
        assert issubclass(cls, DME)


def test_named_mode_and_bad_arguments():
    x = T.vector("x")
    f = symnet.function([x], x * 2, mode="DebugMode")
    np.testing.assert_allclose(f(np.array([1.5], F32)), [3.0])
    assert DebugMode(optimizer="fast_run", check_py_code=True).optimizer == "default"
    with pytest.raises(TypeError, match="unexpected arguments"):
        DebugMode(bogus=1)


def test_mismatch_tolerances():
    assert mismatch(np.float32([1, 2]), np.float32([1, 2 + 1e-6]), {"float32": (1e-4, 0)}) is None
    assert "1 of 2 elements differ" in mismatch(np.float32([1, 2]), np.float32([1, 3]),
                                                {"float32": (1e-4, 0)})
    assert mismatch(np.int32([1]), np.int32([2]), {}) == "values differ (1 of 1 elements)"
    assert mismatch(np.zeros(2), np.zeros(3), {}) == "shape (2,) vs (3,)"
    assert mismatch(np.float64([np.nan]), np.float64([np.nan]), {}) is None


@pytest.mark.parametrize("emitter", ["numba", "llvm"])
def test_wrong_dtype_from_a_kernel_is_caught(emitter):
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) * 2 + 1, mode=_numba_debug_mode(emitter))
    linker = f.thunk.linker
    (kname,) = list(linker.kernel_names.values())
    assert linker.emitter_of(kname) == emitter
    right = linker.ns[kname]
    linker.ns[kname] = lambda *args: np.asarray(right(*args), dtype="float64")
    try:
        with pytest.raises(BadOutputType, match=f"numba step 0 \\(kernel {kname}.*dtype float64, "
                                                f"declared float32"):
            f(np.ones(4, F32))
    finally:
        linker.ns[kname] = right


def test_theano_spelling_through_compat():
    import symnet.compat
    symnet.compat.install()
    try:
        import theano
        from theano.compile.debugmode import DebugMode as TheanoDebugMode
        assert TheanoDebugMode is DebugMode and theano.compile.DebugMode is DebugMode
        x = T.vector("x")
        f = theano.function([x], T.exp(x), mode=TheanoDebugMode(optimizer="fast_run"))
        np.testing.assert_allclose(f(np.array([0.0, 1.0], F32)), [1.0, np.e], rtol=1e-6)
    finally:
        symnet.compat.uninstall()


@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_training_step_passes(backend, monkeypatch):
    """A whole Lasagne-style training step (dense layers, softmax, cross-entropy,
    Nesterov updates) runs under DebugMode and returns the plain mode's loss."""
    from symnet import layers, objectives, updates
    from symnet.cli import build_mlp
    from symnet.tensor.ops.elemwise import DimShuffle
    from symnet.tensor.ops.shape import Reshape
    # views these ops return; the op declarations land with the layering work,
    # after which these lines change nothing
    for op in (DimShuffle, Reshape):
        if not op.view_map:
            monkeypatch.setattr(op, "view_map", {0: [0]})
    x, t = T.matrix("x"), T.ivector("t")
    net = build_mlp((None, 64), 10, 16, x)
    loss = objectives.categorical_crossentropy(
        layers.get_output(net, deterministic=True), t).mean()
    params = layers.get_all_params(net, trainable=True)
    step = symnet.function([x, t], loss, mode=DebugMode(backend),
                           updates=updates.nesterov_momentum(loss, params, learning_rate=0.1))
    plain = symnet.function([x, t], loss, mode="py")
    rng = np.random.RandomState(0)
    X, y = rng.rand(32, 64).astype(F32), rng.randint(0, 10, 32).astype("int32")
    before = [p.get_value() for p in params]
    expect = plain(X, y)
    np.testing.assert_allclose(step(X, y), expect, rtol=1e-5)
    assert all(not np.array_equal(b, p.get_value()) for b, p in zip(before, params))
