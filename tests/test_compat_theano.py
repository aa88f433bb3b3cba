"""The Theano surface of symnet.compat that real Theano/Lasagne code uses at
import time and in its helpers: module attributes, GPU probes, abstract conv
ops, ``theano.scalar``, ``T.xlogx``, ``config.warn``, and Theano's spelling
of a few tensor functions."""
import collections
import importlib

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from symnet.graph.basic import Variable

PY = "py"


@pytest.fixture
def theano():
    compat.install(lasagne=False)
    import theano
    yield theano
    compat.uninstall()


# -- import-time surface ---------------------------------------------------------------

def test_gpuarray_reports_no_pygpu(theano):
    from theano import gpuarray
    from theano.sandbox import gpuarray as sandbox_gpuarray
    assert gpuarray.pygpu_activated is False
    assert sandbox_gpuarray is gpuarray


def test_gpuarray_dnn_reports_no_cudnn(theano):
    from theano.gpuarray import dnn
    assert theano.gpuarray.dnn is dnn
    assert dnn.dnn_present() is False and "cuDNN" in dnn.dnn_present.msg


@pytest.mark.parametrize("stmt", ["import theano.sandbox.cuda",
                                  "import theano.sandbox.cuda.dnn"])
def test_cuda_modules_raise_importerror(theano, stmt):
    with pytest.raises(ImportError, match="needs a GPU build"):
        exec(stmt, {})
    # the from-import spelling that Lasagne's conv tests use fails the same way
    with pytest.raises(ImportError):
        exec("from theano.sandbox import cuda", {})


def test_submodules_are_attributes_without_import(theano):
    import theano.tensor as TT
    # Lasagne reads these without importing them first.
    assert hasattr(TT.nnet.abstract_conv, "AbstractConv2d_gradInputs")
    assert hasattr(TT.nnet.abstract_conv, "AbstractConv3d_gradInputs")
    assert not hasattr(TT.nnet.abstract_conv, "AbstractConv4d")
    assert theano.gof.graph.Variable is Variable
    assert theano.scalar.upcast("int32", "float32") == "float64"
    # theano.scalar.basic holds what theano.scalar star-imported
    assert theano.scalar.basic.upcast("int8", "float32") == "float32"
    assert importlib.import_module("theano.scalar.basic").upcast is theano.scalar.upcast
    assert theano.gpuarray.pygpu_activated is False
    assert TT.xlogx.xlogy0 is importlib.import_module("theano.tensor.xlogx").xlogy0


def test_uninstall_takes_the_attributes_off(theano):
    assert hasattr(symnet.tensor.nnet, "abstract_conv")
    compat.uninstall()
    for mod, attr in [(symnet, "gof"), (symnet, "scalar"), (symnet, "gpuarray"),
                      (symnet.tensor, "xlogx"), (symnet.tensor.nnet, "abstract_conv")]:
        # symnet's own symnet/tensor/nnet/abstract_conv.py stays, if it was imported
        own = getattr(mod, attr, None)
        assert own is None or own.__name__ == f"{mod.__name__}.{attr}", attr
    compat.install(lasagne=False)  # for the fixture's uninstall


def test_symnets_own_abstract_conv_imported_first_does_not_hide_theanos():
    # symnet/tensor/nnet/abstract_conv.py holds only the helpers symnet writes
    # itself; imported before install (a test run that walks symnet's modules,
    # a program importing symnet first) it was the attribute that
    # T.nnet.abstract_conv gave, without AbstractConv2d
    import symnet.tensor.nnet.abstract_conv as own
    compat.install(lasagne=False)
    try:
        import theano.tensor as TT
        assert TT.nnet.abstract_conv.AbstractConv2d is not None
        assert TT.nnet.abstract_conv.bilinear_upsampling is own.bilinear_upsampling
    finally:
        compat.uninstall()
    assert symnet.tensor.nnet.abstract_conv is own


def test_tensor_variable_class(theano):
    import theano.tensor as TT
    assert TT.Variable is Variable
    assert isinstance(TT.vector(), TT.Variable)
    assert isinstance(theano.shared(np.zeros(2)), TT.Variable)
    assert not isinstance(3, TT.Variable)


def test_config_warn_flags(theano):
    assert theano.config.warn.round is False
    theano.config.warn.sum_div_dimshuffle_bug = False
    theano.config.warn.round = False
    assert theano.config.warn.sum_div_dimshuffle_bug is False


def test_change_flags_sets_and_restores(theano):
    from theano.configparser import change_flags as from_configparser
    assert from_configparser is theano.change_flags
    before = theano.config.floatX
    with theano.change_flags(floatX="float64"):
        assert theano.config.floatX == "float64"
        assert theano.tensor.scalar().dtype == "float64"
    assert theano.config.floatX == before

    @theano.change_flags(**{"unittests.rseed": 12})
    def seed():
        return theano.config.unittests.rseed
    assert seed() == 12 and theano.config.unittests.rseed == 666


@pytest.mark.parametrize("flags, error", [
    (dict(floatX="float64", no_such_flag=1), "no setting 'no_such_flag'"),
    (dict(floatX="float64", mode="no_such_mode"), "config.mode must be one of"),
])
def test_change_flags_sets_nothing_on_a_bad_flag(theano, flags, error):
    before = theano.config.floatX
    with pytest.raises((AttributeError, ValueError), match=error):
        with theano.change_flags(**flags):
            pass
    assert theano.config.floatX == before


def test_theano_compat_python2_names(theano):
    from theano.compat import PY3, OrderedDict, decode, imap, izip
    assert PY3 is True and OrderedDict is collections.OrderedDict
    assert list(izip("ab", imap(len, ["x", "yz"]))) == [("a", 1), ("b", 2)]
    assert decode(b"abc") == "abc" and decode("abc") == "abc"


def test_gof_modules_give_symnets_classes(theano):
    import theano.gof.type
    from theano.gof import Apply, MissingInputError, Op, Type
    from theano.gof.fg import FunctionGraph
    from theano.gof.op import Op as op_op
    from theano.gof.utils import MethodNotDefined
    from symnet.graph import fg, op, type as gtype
    assert Op is op_op is op.Op and Type is gtype.Type is theano.gof.type.Type
    assert FunctionGraph is fg.FunctionGraph and MissingInputError is fg.MissingInputError
    assert Apply is symnet.graph.basic.Apply
    with pytest.raises(MethodNotDefined):
        Op().perform(None, [], [])


def test_scalar_as_scalar_and_gof_type_generic(theano):
    # what extending/using_params.txt imports for its ops
    from theano.gof.type import Generic
    from theano.scalar import as_scalar
    assert Generic is symnet.graph.type.Generic
    assert as_scalar(2.5).ndim == 0 and float(as_scalar(2.5).data) == 2.5
    with pytest.raises(TypeError, match="as_scalar: v has 1 dims"):
        as_scalar(theano.tensor.dvector("v"))


def test_tensor_opt_constant_helpers(theano):
    from theano.tensor.opt import NotScalarConstantError, get_scalar_constant_value
    T = theano.tensor
    assert get_scalar_constant_value(T.constant(3.0) * 2) == 6.0
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(T.dscalar("x"))


@pytest.mark.parametrize("flag, linker, mode_class", [
    ("FAST_RUN", "numba", "Mode"), ("FAST_COMPILE", "py", "Mode"),
    ("DebugMode", None, "DebugMode"), ("DEBUG_MODE", None, "DebugMode"),
    ("NanGuardMode", "numba", "NanGuardMode")])
def test_theano_flags_mode_is_read(theano, monkeypatch, flag, linker, mode_class):
    monkeypatch.setenv("THEANO_FLAGS", f"floatX=float32,mode={flag}")
    monkeypatch.delenv("SYMNET_FORCE_BACKEND", raising=False)
    theano.config.read_theano_flags()
    assert theano.config.mode == flag
    x = theano.tensor.dvector("x")
    f = theano.function([x], x * 2)
    assert type(f.maker.mode).__name__ == mode_class
    assert linker is None or f.maker.mode.linker == linker
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])


def test_theano_flags_unknown_mode_warns_and_keeps_the_mode(theano, monkeypatch):
    monkeypatch.setenv("THEANO_FLAGS", "mode=ProfileMode")
    before = theano.config.mode
    with pytest.warns(RuntimeWarning, match="THEANO_FLAGS mode=ProfileMode: symnet has no "
                                            "such mode"):
        theano.config.read_theano_flags()
    assert theano.config.mode == before


def test_d3viz_writes_symnets_graph_page(theano, tmp_path):
    import theano.d3viz as d3v
    from theano.d3viz.d3viz import d3viz
    import theano.d3viz.d3viz   # noqa: F401  (the package's d3viz stays the function)
    assert d3viz is d3v.d3viz and callable(d3v.d3viz)
    x = theano.tensor.dmatrix("x")
    f = theano.function([x], theano.tensor.nnet.softmax(x))
    out = d3v.d3viz(f, str(tmp_path / "mlp.html"))
    page = (tmp_path / "mlp.html").read_text()
    assert out == str(tmp_path / "mlp.html") and "<html" in page.lower() and "softmax" in page.lower()


def test_gof_graph_inputs_takes_any_iterable_in_theanos_order(theano):
    x, y, z = (theano.shared(np.float32(0), name=n) for n in "xyz")
    inputs = theano.gof.graph.inputs
    # Theano's depth-first search starts from the last variable given;
    # Lasagne's collect_shared_vars passes reversed(list) to get x, y, z.
    assert inputs(reversed([x, y, z])) == [x, y, z]
    assert inputs(iter([x + y])) == [x, y]
    assert inputs((x + y) + z) == [x, y, z]
    assert inputs(x + (y + z)) == [x, y, z]


def test_xlogx_and_xlogy0_values_and_gradient(theano):
    import theano.tensor as TT
    x, y = TT.dvectors("xy")
    xv = np.array([0.0, 0.5, 2.0])
    yv = np.array([0.0, 3.0, 0.25])
    f = theano.function([x, y], [TT.xlogx.xlogx(x), TT.xlogx.xlogy0(x, y),
                                 theano.grad(TT.xlogx.xlogy0(x, y).sum(), [x, y])[1]],
                        mode=PY)
    a, b, gy = f(xv, yv)
    np.testing.assert_allclose(a, [0.0, 0.5 * np.log(0.5), 2 * np.log(2)])
    np.testing.assert_allclose(b, [0.0, 0.5 * np.log(3), 2 * np.log(0.25)])
    np.testing.assert_allclose(gy, [0.0, 0.5 / 3, 2 / 0.25])  # finite where x == 0


# -- abstract conv ops -----------------------------------------------------------------

def _conv_case():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    return x, w


@pytest.mark.parametrize("border_mode, subsample", [("valid", (1, 1)), ("half", (2, 1)),
                                                    ((1, 2), (1, 2))])
def test_abstract_conv_grad_ops_are_the_conv_gradients(theano, border_mode, subsample):
    from theano.tensor.nnet import abstract_conv as ac
    xv, wv = _conv_case()
    x, w = T.dtensor4("x"), T.dtensor4("w")
    out = ac.AbstractConv2d(border_mode=border_mode, subsample=subsample)(x, w)
    g = T.dtensor4("g")
    cost = (out * g).sum()
    gx, gw = symnet.grad(cost, [x, w])
    mine_x = ac.AbstractConv2d_gradInputs(
        imshp=xv.shape, kshp=wv.shape, border_mode=border_mode, subsample=subsample)(
        w, g, x.shape[2:])
    mine_w = ac.AbstractConv2d_gradWeights(border_mode=border_mode, subsample=subsample)(
        x, g, [3, 2])
    shape = ac.get_conv_output_shape(xv.shape, wv.shape, border_mode, subsample)
    gv = np.random.default_rng(1).standard_normal(shape)
    f = symnet.function([x, w, g], [gx, gw, mine_x, mine_w], mode=PY)
    ref_x, ref_w, got_x, got_w = f(xv, wv, gv)
    assert got_x.shape == xv.shape and got_w.shape == wv.shape
    np.testing.assert_allclose(got_x, ref_x, rtol=1e-10)
    np.testing.assert_allclose(got_w, ref_w, rtol=1e-10)
    assert mine_w.type.shape[2:] == (3, 2)


def test_get_conv_output_shape_with_unknown_sizes(theano):
    from theano.tensor.nnet import abstract_conv as ac
    assert ac.get_conv_output_shape((None, 3, 9, 9), (5, 3, 3, 3), "full", (2, 2)) == \
        (None, 5, 6, 6)
    assert ac.get_conv_output_shape((1, 3, None, 9), (5, 3, 3, 3), "valid", (1, 1)) == \
        (1, 5, None, 7)


def test_abstract_conv_rejects_unshared(theano):
    from theano.tensor.nnet import abstract_conv as ac
    with pytest.raises(NotImplementedError, match="unshared convolutions .*unshared=True"):
        ac.AbstractConv2d_gradInputs(unshared=True)


def test_grouped_abstract_conv2d_grad_ops_are_the_conv_gradients(theano):
    """num_groups=2: filters (4, 2, ...) over 4 input channels; the gradient
    ops give the input's 4 channels and the filters' 2."""
    from theano.tensor.nnet import abstract_conv as ac
    rng = np.random.default_rng(3)
    xv, wv = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((4, 2, 3, 2))
    gv = rng.standard_normal((2, 4, 3, 6))   # half: pads (1, 1)
    x, w, g = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("g")
    kw = dict(border_mode="half", subsample=(2, 1), num_groups=2)
    out = ac.AbstractConv2d(**kw)(x, w)
    gx, gw = symnet.grad((out * g).sum(), [x, w])
    mine_x = ac.AbstractConv2d_gradInputs(**kw)(w, g, x.shape[2:])
    mine_w = ac.AbstractConv2d_gradWeights(**kw)(x, g, [3, 2])
    f = symnet.function([x, w, g], [out, gx, gw, mine_x, mine_w], mode=PY)
    y, ref_x, ref_w, got_x, got_w = f(xv, wv, gv)
    assert y.shape == gv.shape and got_x.shape == xv.shape and got_w.shape == wv.shape
    np.testing.assert_allclose(got_x, ref_x, rtol=1e-10)
    np.testing.assert_allclose(got_w, ref_w, rtol=1e-10)
    # group 1 of the output is group 1's convolution alone
    y1 = symnet.function([x, w], ac.AbstractConv2d(border_mode="half", subsample=(2, 1))(
        x, w), mode=PY)(xv[:, 2:], wv[2:])
    np.testing.assert_allclose(y[:, 2:], y1, rtol=1e-12)
    with pytest.raises(ValueError, match="num_groups must be a positive integer"):
        ac.AbstractConv2d_gradWeights(num_groups=0)(x, g, [3, 2])


# -- Theano's spelling of tensor functions ---------------------------------------------

def test_plural_constructors_one_variable_per_letter():
    p, t = T.matrices("pt")
    assert (p.name, t.name, p.ndim) == ("p", "t", 2)
    assert [v.name for v in T.vectors("a, b")] == ["a", "b"]
    assert [v.name for v in T.scalars("x y")] == ["x", "y"]
    assert [v.name for v in T.ivectors("ab")] == ["a", "b"]


def test_stack_of_arguments_and_of_a_list():
    a, b = T.dscalars("ab")
    f = symnet.function([a, b], [T.stack(a, b, a), T.stack([a, b]), T.stack([a, b], 0)],
                        mode=PY)
    for out, want in zip(f(1.0, 2.0), ([1.0, 2.0, 1.0], [1.0, 2.0], [1.0, 2.0])):
        np.testing.assert_array_equal(out, want)
    m = T.dmatrix("m")
    assert T.stack([m, m], 1).type.ndim == 3
    with pytest.raises(TypeError, match="positional"):
        T.stack([a], 0, 1)


def test_list_of_slices_indexes_like_a_tuple():
    m = T.dmatrix("m")
    mv = np.arange(12.0).reshape(3, 4)
    out = m[[slice(None), slice(-2, None)]].eval({m: mv}, mode=PY)
    np.testing.assert_array_equal(out, mv[:, -2:])
    # a list of integers is still an advanced index
    np.testing.assert_array_equal(m[[0, 2]].eval({m: mv}, mode=PY), mv[[0, 2]])


def test_relu_of_numpy_is_numpy():
    a = np.array([-2.0, 0.0, 3.0], dtype="float32")
    out = T.nnet.relu(a)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.0, 0.0, 3.0])
    np.testing.assert_allclose(T.nnet.relu(a, 0.1), [-0.2, 0.0, 3.0], rtol=1e-6)


@pytest.mark.parametrize("fn, ref", [
    (T.nnet.softmax, lambda a: np.exp(a) / np.exp(a).sum()),
    (T.nnet.log_softmax, lambda a: a - np.log(np.exp(a).sum())),
])
def test_softmax_of_a_vector_is_a_row(fn, ref):
    v = T.dvector("v")
    av = np.array([0.5, -1.0, 2.0])
    out = fn(v)
    assert out.ndim == 2 and out.type.shape[0] == 1
    got = out.eval({v: av}, mode=PY)
    assert got.shape == (1, 3)
    np.testing.assert_allclose(got[0], ref(av))
    # an explicit axis keeps the vector
    assert fn(v, axis=-1).ndim == 1


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_repeat_by_a_symbolic_count(axis):
    # Lasagne's TransformerLayer repeats by a size computed from the input shape.
    x, n = T.dmatrix("x"), T.lscalar("n")
    xv = np.arange(6.0).reshape(2, 3)
    out = T.repeat(x, n, axis=axis)
    gx = symnet.grad((out * out).sum(), x)
    got, g = symnet.function([x, n], [out, gx], mode=PY)(xv, 3)
    np.testing.assert_array_equal(got, np.repeat(xv, 3, axis=axis))
    np.testing.assert_allclose(g, 3 * 2 * xv)  # each element used 3 times
    with pytest.raises(TypeError, match="integer scalar"):
        T.repeat(x, T.dscalar("r"))


# -- module paths of functions, pfunc, gradients and scan (r16-tc) ------------------

def test_compile_pfunc_is_a_function_and_a_module(theano):
    import theano.compile
    from theano.compile.pfunc import rebuild_collect_shared
    from theano.compile import pfunc
    assert callable(pfunc) and theano.compile.pfunc is pfunc
    assert rebuild_collect_shared is symnet.compile.rebuild_collect_shared
    x = theano.tensor.dscalar()
    assert float(pfunc([x], x + 1, mode=PY)(1.0)) == 2.0
    assert theano.compile.config is symnet.config


def test_theano_module_paths_of_tc(theano):
    from theano.gof.null_type import NullType
    from theano.gof import MissingInputError
    from theano.gof.op import Op as GofOp
    assert GofOp is symnet.Op and theano.gof.op.Op is symnet.Op
    from theano.gradient import DisconnectedType
    from theano.updates import OrderedUpdates
    from theano.scan_module.scan_op import Scan
    from theano.tensor import Tensor, TensorType
    import theano.scalar.sharedvar
    from theano.compat import exc_message
    assert NullType is symnet.graph.null_type.NullType
    assert MissingInputError is theano.gof.fg.MissingInputError
    assert DisconnectedType is symnet.gradient.DisconnectedType
    assert OrderedUpdates is symnet.compile.updates.OrderedUpdates
    from symnet.scan.op import Scan as symnet_scan
    assert Scan is symnet_scan and Tensor is TensorType
    s = theano.scalar.sharedvar.shared(1)
    assert s.ndim == 0 and int(s.get_value()) == 1
    with pytest.raises(TypeError, match="scalar value"):
        theano.scalar.sharedvar.shared([1, 2])
    assert exc_message(ValueError("boom")) == "boom"
    assert theano.config.cxx == "" and theano.config.cycle_detection == "regular"
    a = theano._asarray([1, 2], dtype="int32")
    assert a.dtype == np.int32 and a.tolist() == [1, 2]


def test_tensor_sharedvar_is_an_attribute_after_import_theano():
    compat.install(lasagne=False)
    try:
        import theano
        assert theano.tensor.sharedvar.SharedVariable is symnet.compile.SharedVariable
    finally:
        compat.uninstall()
    assert not hasattr(symnet.tensor, "sharedvar")


def test_compile_function_module_is_theanos_home_of_function_and_its_errors():
    # Theano 1.0 programs catch theano.compile.function_module.UnusedInputError
    compat.install(lasagne=False)
    try:
        import theano
        from theano.compile.function_module import UnusedInputError
        from symnet.compile.function import Function
        assert theano.compile.function_module.Function is Function
        x, y = theano.tensor.scalars("x", "y")
        with pytest.raises(UnusedInputError, match="y"):
            theano.function([x, y], x * 2)
        assert callable(theano.compile.function)  # the function, not a module
    finally:
        compat.uninstall()
    assert not hasattr(symnet.compile, "function_module")


def test_theano_pprint_is_exported_at_the_top(theano):
    # ebenolson/pydata2015's "Theano Basics" notebook prints a graph with
    # theano.pprint(y); Theano exports it from theano.printing
    import theano.tensor as TT
    x = TT.scalar("x")
    assert theano.pprint is theano.printing.pprint
    assert theano.pprint(x ** 2 + 1) == "((x ** TensorConstant{2}) + TensorConstant{1})"
