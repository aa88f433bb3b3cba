"""Ops from Python functions (``as_op``) and ops declared by ``itypes`` and
``otypes`` without a make_node: Theano's two short ways to write an op."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.ops import FromFunctionOp, as_op
from symnet.graph.op import NullTypeGradError, Op

BACKENDS = ["py", "numba"]
# ops whose only implementation is a Python function: numba's driver calls it
pytestmark = [pytest.mark.perform_fallback,
              pytest.mark.filterwarnings("ignore:the numba backend has no kernel")]


@as_op(itypes=[T.dmatrix], otypes=[T.dvector])
def row_medians(m):
    return np.median(m, axis=1)


@as_op(itypes=[T.dvector, T.dvector], otypes=[T.dvector, T.dscalar])
def sorted_and_dot(a, b):
    return np.sort(a), a @ b


class DoubleOp(Op):
    __props__ = ()
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] * 2


@pytest.mark.parametrize("mode", BACKENDS)
def test_values_against_numpy(mode):
    m, a, b = T.dmatrix("m"), T.dvector("a"), T.dvector("b")
    s, d = sorted_and_dot(a, b)
    f = symnet.function([m, a, b], [row_medians(m), DoubleOp()(m).sum(), s, d * 2], mode=mode)
    rng = np.random.default_rng(0)
    mv, av, bv = rng.normal(size=(3, 5)), rng.normal(size=4), rng.normal(size=4)
    med, dsum, srt, dot2 = f(mv, av, bv)
    np.testing.assert_allclose(med, np.median(mv, axis=1))
    np.testing.assert_allclose(dsum, 2 * mv.sum())
    np.testing.assert_array_equal(srt, np.sort(av))
    np.testing.assert_allclose(dot2, 2 * (av @ bv))
    assert med.dtype == np.float64 and med.shape == (3,)


def test_str_names_the_function_and_equal_ops_merge():
    assert str(row_medians) == "FromFunctionOp{row_medians}"
    assert isinstance(row_medians, FromFunctionOp)
    m = T.dmatrix("m")
    assert row_medians(m).owner.op == row_medians
    assert DoubleOp() == DoubleOp()


def test_input_type_checked_against_itypes():
    with pytest.raises(TypeError, match=r"DoubleOp: input 0 \(f\) has type TensorType\(float32, matrix\), expected TensorType\(float64, matrix\)"):
        DoubleOp()(T.fmatrix("f"))
    with pytest.raises(TypeError, match="expected 1 inputs"):
        DoubleOp()(T.dmatrix(), T.dmatrix())


def test_plain_values_become_constants():
    out = DoubleOp()(np.ones((2, 2)))
    np.testing.assert_array_equal(out.eval(), 2 * np.ones((2, 2)))


def test_no_make_node_and_no_itypes_is_an_error():
    class Bare(Op):
        pass
    with pytest.raises(NotImplementedError, match="Bare.make_node .or set itypes and otypes"):
        Bare()(T.dvector())


def test_no_gradient():
    m = T.dmatrix("m")
    with pytest.raises(NullTypeGradError, match="FromFunctionOp{row_medians}"):
        symnet.grad(row_medians(m).sum(), m)


def test_wrong_number_of_results_names_the_op():
    @as_op(itypes=[T.dvector], otypes=[T.dvector, T.dvector])
    def one(a):
        return a
    a = T.dvector("a")
    f = symnet.function([a], one(a), mode="py")
    with pytest.raises(ValueError, match=r"FromFunctionOp{one}: the function returned 1 values for 2"):
        f(np.ones(3))


def test_infer_shape_gives_the_shape_without_running_the_function():
    calls = []

    def shape(node, input_shapes):
        return [(input_shapes[0][0],)]

    @as_op(itypes=[T.dmatrix], otypes=[T.dvector], infer_shape=shape)
    def first_column(m):
        calls.append(1)
        return m[:, 0]

    m = T.dmatrix("m")
    out = first_column(m)
    assert out.owner.op.infer_shape(out.owner, [(7, 3)]) == [(7,)]
    np.testing.assert_array_equal(out.eval({m: np.arange(6.0).reshape(3, 2)}), [0.0, 2.0, 4.0])
    assert calls == [1]
    np.testing.assert_array_equal(out.shape.eval({m: np.ones((5, 2))}), [5])
    assert calls == [1]   # the shape came from infer_shape, not from running it
    with pytest.raises(TypeError, match="infer_shape must be callable"):
        as_op([T.dvector], [T.dvector], infer_shape=3)


def test_theano_paths(theano_shim):
    from theano.compile.ops import as_op as shim_as_op
    from theano.compile import as_op as compile_as_op
    assert shim_as_op is as_op and compile_as_op is as_op


@pytest.mark.parametrize("mode", BACKENDS)
def test_a_result_that_is_a_view_of_an_input_is_copied(mode):
    ident = as_op([T.dvector], [T.dvector])(lambda a: a[::-1])
    a = T.dvector("a")
    f = symnet.function([a], ident(a), mode=mode)
    x = np.arange(3.0)
    out = f(x)
    np.testing.assert_array_equal(out, [2.0, 1.0, 0.0])
    out[0] = 99.0
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
