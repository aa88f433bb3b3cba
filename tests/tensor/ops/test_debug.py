"""Print and specify_shape: identities that print or check, on every backend."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.printing import Print
from tests.oracles import check_op, rand


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_print_prints_each_call_and_passes_its_input(mode, capsys):
    x = T.dvector("x")
    f = symnet.function([x], Print("hello world")(x) * 2, mode=mode)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])
    f(np.array([5.0]))
    assert capsys.readouterr().out == "hello world __str__ = [1. 2. 3.]\nhello world __str__ = [5.]\n"
    g = symnet.function([x], Print("v", attrs=("shape", "sum"))(x).sum(), mode=mode)
    assert float(g(np.arange(4.0))) == 6.0
    assert capsys.readouterr().out == "v shape = (4,)\nv sum = 6.0\n"


@pytest.mark.perform_fallback   # a user's global_fn is Python: numba runs perform
def test_print_is_not_folded_and_has_the_identity_gradient(capsys):
    c = T.constant(np.array([1.0, 2.0]))
    f = symnet.function([], Print("c")(c) + 1, mode="py")
    assert capsys.readouterr().out == ""     # compiling printed nothing
    f()
    assert capsys.readouterr().out == "c __str__ = [1. 2.]\n"
    check_op(lambda x: Print("", global_fn=lambda op, v: None)(x) ** 2, [rand((3,))],
             ref=lambda a: a ** 2, grad=True)


@pytest.mark.perform_fallback
@pytest.mark.parametrize("mode", ["py", "numba"])
def test_print_calls_a_global_fn(mode):
    seen = []
    x = T.dmatrix("x")
    op = Print("m", global_fn=lambda op, v: seen.append((op.message, v.shape)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # numba says it runs Print's perform
        f = symnet.function([x], op(x) + 1, mode=mode)
    f(np.zeros((2, 3)))
    assert seen == [("m", (2, 3))]


def test_specify_shape_values_static_shape_and_gradient():
    check_op(lambda x: T.specify_shape(x, (3, 4)) * 2, [rand((3, 4))], ref=lambda a: a * 2,
             grad=True)
    x = T.matrix("x")
    y = T.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    f = symnet.function([x], (T.specify_shape(x, (2, 2)) ** 2).shape, mode="py")
    assert f.fgraph.apply_nodes == set() or all(  # the shape is a constant now
        type(n.op).__name__ != "Shape" for n in f.fgraph.apply_nodes)
    np.testing.assert_array_equal(f(np.zeros((2, 2), x.dtype)), [2, 2])


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_specify_shape_checks_at_run_time(mode):
    x = T.dmatrix("x")
    f = symnet.function([x], T.specify_shape(x, (2, None)) + 1, mode=mode)
    assert f(np.zeros((2, 5))).shape == (2, 5)
    with pytest.raises(AssertionError, match=r"x was declared of shape \(2, None\)"):
        f(np.zeros((3, 5)))


def test_specify_shape_build_errors():
    with pytest.raises(ValueError, match=r"1 sizes for a tensor of 2 dimensions"):
        T.specify_shape(T.matrix("m"), (2,))
    with pytest.raises(ValueError, match=r"axis 1 has static size 4, not 5"):
        T.specify_shape(T.matrix("m", shape=(3, 4)), (3, 5))
    with pytest.raises(TypeError, match=r"size n is not known when the graph is built"):
        T.specify_shape(T.vector("v"), (T.lscalar("n"),))
