"""Theano tensor names symnet answers (round 16, Theano's tensor tests):
DimShuffle's two-argument form, max_and_argmax and argmax over several axes,
x[:] as an indexed variable, ceil_intdiv, cov, is_flat, the inplace module,
the subtensor/elemwise/opt modules and the test helper _allclose."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor import inplace
from symnet.tensor.basic import _allclose
from symnet.tensor.elemwise import DimShuffle, Elemwise
from symnet.tensor.subtensor import (AdvancedSubtensor1, advanced_inc_subtensor,
                                     advanced_set_subtensor)
from symnet.misc.may_share_memory import may_share_memory
from tests.oracles import check_op, rand


def test_dimshuffle_theano_form_checks_the_input_rank():
    x = T.dmatrix("x")
    y = DimShuffle((False, False), [1, "x", 0])(x)
    assert y.type.broadcastable == (False, True, False)
    assert DimShuffle((False, False), [1, 0], False) == DimShuffle([1, 0])
    with pytest.raises(TypeError, match="expected an input with 3 dimensions"):
        DimShuffle((False, False, False), [0, 1])(x)
    with pytest.raises(TypeError, match="DimShuffle"):
        DimShuffle()


@pytest.mark.parametrize("axis", [None, 0, [1], [0, 2], [-1, 0], (1, 2), [0, 1, 2]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_and_argmax_over_axes(axis, keepdims):
    x = rand((3, 4, 5), rng=np.random.default_rng(1))

    def ref(a):
        ax = tuple(range(3)) if axis is None else tuple(np.atleast_1d(axis) % 3)
        keep = [d for d in range(3) if d not in ax]
        moved = np.transpose(a, keep + sorted(ax)).reshape([a.shape[d] for d in keep] + [-1])
        m, i = moved.max(-1), moved.argmax(-1)
        if keepdims:
            m, i = np.expand_dims(m, sorted(ax)), np.expand_dims(i, sorted(ax))
        return [m, i]
    check_op(lambda v: T.max_and_argmax(v, axis=axis, keepdims=keepdims), [x], ref=ref)
    check_op(lambda v: T.argmin(v, axis=axis, keepdims=keepdims), [-x],
             ref=lambda a: ref(-a)[1])


def test_full_slice_is_an_indexed_variable():
    a, y = T.dcol("a"), T.dvector("y")
    f = symnet.function([a, y], [T.set_subtensor(a[:], y), T.inc_subtensor(a[0], y)],
                        mode="py")
    s, i = f(np.array([[1.0], [2.0]]), np.array([5.0]))
    assert s.tolist() == [[5.0], [5.0]] and i.tolist() == [[6.0], [2.0]]
    with pytest.raises(ValueError):
        f(np.array([[1.0], [2.0]]), np.array([5.0, 6.0, 7.0]))
    # the full slice costs nothing once compiled: it is rewritten away
    g = symnet.function([a], a[:] * 2)
    assert not any(type(n.op).__name__ == "Subtensor" for n in g.maker.fgraph.toposort())


def test_value_of_more_dims_than_the_region_is_a_type_error():
    a, v = T.dmatrix("a"), T.dmatrix("v")
    with pytest.raises(TypeError, match="has 2 dims, more than the 1"):
        T.set_subtensor(a[0], v)
    with pytest.raises(TypeError, match="has 2 dims, more than the 1"):
        T.inc_subtensor(T.dvector()[T.lvector()], v)


def test_advanced_inc_and_set_subtensor_call_forms():
    x, i = np.zeros(4), np.array([0, 2, 2])
    check_op(lambda v, j: advanced_inc_subtensor(v, 1.5, j), [x, i],
             ref=lambda v, j: np.add.at(v, j, 1.5) or v)
    check_op(lambda v, j: advanced_set_subtensor(v, 1.5, j), [x, i],
             ref=lambda v, j: np.put(v, j, 1.5) or v)
    assert isinstance(T.dvector()[T.lvector()].owner.op, AdvancedSubtensor1)


def test_subtensor1_call_forms_and_the_tensor_namespace():
    # Theano's theano.tensor has its subtensor module's call forms too
    x, i = rand((4, 3)), np.array([0, 2, 2])
    y = rand((3, 3), rng=np.random.default_rng(1))
    check_op(lambda v, j, w: T.advanced_inc_subtensor1(v, w, j), [x, i, y],
             ref=lambda v, j, w: np.add.at(v, j, w) or v)
    check_op(lambda v, j, w: T.advanced_set_subtensor1(v, w, j), [x, i[:2], y[:2]],
             ref=lambda v, j, w: v.__setitem__(j, w) or v)
    check_op(lambda v, j: T.advanced_subtensor1(v, j), [x, i], ref=lambda v, j: v[j])
    assert T.advanced_inc_subtensor is advanced_inc_subtensor
    assert T.advanced_set_subtensor is advanced_set_subtensor


def test_ceil_intdiv():
    a = np.array([7, -7, 6, 0, 5], dtype="int64")
    b = np.array([2, 2, 3, 4, -2], dtype="int64")
    check_op(T.ceil_intdiv, [a, b], ref=lambda p, q: -(-p // q))


@pytest.mark.parametrize("rowvar", [True, False])
@pytest.mark.parametrize("ddof, bias", [(None, False), (None, True), (2, False)])
def test_cov_against_numpy(rowvar, ddof, bias):
    m = rand((3, 6), rng=np.random.default_rng(2))
    y = rand((2, 6), rng=np.random.default_rng(3))
    if not rowvar:
        m, y = m.T.copy(), y.T.copy()
    check_op(lambda a, b: T.cov(a, b, rowvar=rowvar, bias=bias, ddof=ddof), [m, y],
             ref=lambda a, b: np.cov(a, b, rowvar=rowvar, bias=bias, ddof=ddof), grad=True)


def test_is_flat_and_dtype_lists():
    assert T.is_flat(T.dvector()) and not T.is_flat(T.dmatrix())
    assert T.is_flat(T.dmatrix(), ndim=2) and T.is_flat(T.dmatrix(), outdim=2)
    assert "uint8" in T.integer_dtypes and "bool" in T.discrete_dtypes
    assert set(T.all_dtypes) == set(T.discrete_dtypes) | set(T.continuous_dtypes)
    assert issubclass(T.EmptyConstantError, T.NotScalarConstantError)


def test_inplace_functions_compute_the_same_and_leave_inputs_alone():
    x, y = T.dvectors("x", "y")
    a, b = np.array([0.5, 2.0]), np.array([3.0, -1.0])
    f = symnet.function([x, y], [inplace.add_inplace(x, y), inplace.exp_inplace(x),
                                 inplace.sqr_inplace(y)], mode="py")
    out = f(a, b)
    np.testing.assert_allclose(out[0], a + b)
    np.testing.assert_allclose(out[1], np.exp(a))
    np.testing.assert_allclose(out[2], b * b)
    assert a.tolist() == [0.5, 2.0] and b.tolist() == [3.0, -1.0]
    with pytest.raises(NotImplementedError, match="jv"):
        inplace.jv_inplace(x, y)


def test_elemwise_module_and_allclose():
    assert isinstance(T.exp(T.dvector()).owner.op, Elemwise)
    assert _allclose(np.float32([1.0]), np.float32([1.0 + 5e-6]))
    assert not _allclose(np.float64([1.0]), np.float64([1.0 + 5e-5]))
    assert _allclose(np.float64([1.0]), np.float64([1.1]), rtol=0.2)


def test_may_share_memory():
    a = np.zeros(5)
    assert may_share_memory(a, a[2:]) and not may_share_memory(a, a.copy())
    with pytest.raises(TypeError, match="expected numpy arrays"):
        may_share_memory(a, 3)
    assert may_share_memory(a, 3, raise_other_type=False) is False


def test_numpy_ufuncs_on_variables_build_the_ops():
    x = T.dmatrix("x")
    a = rand((2, 3), rng=np.random.default_rng(4)) + 2.5
    fns = [np.exp, np.log1p, np.arccosh, np.trunc, np.deg2rad, np.square, np.absolute,
           np.sign, np.maximum, np.arctan2]
    outs = [fn(x) if fn.nin == 1 else fn(a, x) for fn in fns]
    f = symnet.function([x], outs + [a + x, a - x, a ** x, a < x], mode="py")
    got = f(a)
    for fn, g in zip(fns, got):
        np.testing.assert_allclose(g, fn(a) if fn.nin == 1 else fn(a, a), err_msg=fn.__name__)
    np.testing.assert_allclose(got[-4:-1], [a + a, a - a, a ** a])
    assert not got[-1].any()
    assert (a == x) is False and (a != x) is True     # identity, as x == a
    with pytest.raises(TypeError):
        np.add.reduce(x)


def test_zero_dim_array_axes():
    x = T.dmatrix("x")
    a = rand((3, 4), rng=np.random.default_rng(6))
    f = symnet.function([x], [x.sum(np.array(1)), x.max([np.array(0), np.array(1)]),
                              T.argmax(x, np.array(0))], mode="py")
    s, m, i = f(a)
    np.testing.assert_allclose(s, a.sum(1))
    assert m == a.max() and i.tolist() == a.argmax(0).tolist()


def test_linker_classes_pick_the_backend():
    from symnet.theano_surface import PerformLinker, CLinker
    assert symnet.Mode(linker=PerformLinker()).linker == "py"
    assert symnet.Mode(linker=CLinker()).linker == "numba"
    assert symnet.config.cxx == ""


def test_six_and_seven_dim_constructors_and_row_col_plurals():
    # the names of Theano's library/tensor/basic.txt
    assert T.tensor7("a").type == T.TensorType(symnet.config.floatX, (None,) * 7)
    assert T.dtensor6.ndim == 6 and T.itensor7.dtype == "int32"
    a, b = T.irows("ab")
    assert (a.name, a.type.broadcastable, a.dtype) == ("a", (True, False), "int32")
    assert [c.type.broadcastable for c in T.fcols(2)] == [(False, True)] * 2
    assert [v.ndim for v in T.tensor6s("x", "y")] == [6, 6]
    assert str(T.dtensor7) == "TensorType(float64, 7D)"


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_imag_and_angle_of_real_tensors(mode):
    x, i = T.fvector("x"), T.ivector("i")
    f = symnet.function([x, i], [T.angle(x), T.imag(x), T.angle(i), T.imag(i)], mode=mode)
    xv, iv = np.float32([-1.5, 2, 0]), np.int32([-3, 4, 0])
    for got, want in zip(f(xv, iv), [np.angle(xv), np.imag(xv), np.angle(iv), np.imag(iv)]):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(TypeError, match="T.angle: symnet computes on real dtypes only"):
        T.angle(T.zvector("z"))


def test_tensor_py_operators_is_the_variables_operator_mixin():
    assert issubclass(T.TensorVariable, T._tensor_py_operators)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_eye_of_sizes_and_offset_given_at_run_time(mode):
    n, m, k = T.iscalar("n"), T.iscalar("m"), T.iscalar("k")
    f = symnet.function([n], T.eye(n), mode=mode)                  # M=None: M=n at run time
    g = symnet.function([n, m, k], T.eye(n, m, k), mode=mode)
    h = symnet.function([n, k], T.eye(n, None, k, dtype="int32"), mode=mode)
    for size in (0, 1, 4):
        np.testing.assert_array_equal(f(size), np.eye(size))
    for args in [(2, 4, 1), (3, 2, -1), (4, 4, 0), (3, 5, 7), (2, 3, -2)]:
        np.testing.assert_array_equal(g(*args), np.eye(*args))
    out = h(3, 1)
    np.testing.assert_array_equal(out, np.eye(3, k=1, dtype="int32"))
    assert out.dtype == np.int32 and f(2).dtype == np.dtype(symnet.config.floatX)


def test_theano_tensor_basic_holds_the_tensor_names():
    # theano.tensor.basic was most of theano.tensor: Theano code and its tests
    # reach T's functions and op classes through that path
    from symnet.tensor import basic
    for name in ("batched_dot", "as_tensor_variable", "constant", "TensorType", "Dot", "dot",
                 "join", "Join", "NotScalarConstantError", "Reshape", "Alloc", "alloc",
                 "transpose", "cast", "flatten", "extract_constant", "batched_tensordot",
                 "DimShuffle", "Rebroadcast", "arange", "mul", "_tensor_py_operators"):
        assert getattr(basic, name) is getattr(T, name), name
    # builtins' names stay Python's inside basic.py (its own code calls them)
    assert not hasattr(basic, "sum") and not hasattr(basic, "max")
    a, b = T.dmatrix("a"), T.dmatrix("b")
    x, y = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
    assert np.allclose(basic.dot(a, b).eval({a: x, b: y}), x @ y)
    assert np.allclose(basic.join(1, a, a).eval({a: x}), np.concatenate([x, x], 1))
