"""symnet.function: argument checking, In defaults, updates (simultaneous,
atomic), givens, unused/missing inputs, default updates, error messages."""
import os
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import In, Out
from symnet.compile.function import MissingInputError, UnusedInputError
from symnet.configdefaults import config

PY = "py"


def f32(*shape):
    return np.ones(shape, "float32")


def test_single_output_vs_list():
    x = T.fvector("x")
    f1 = symnet.function([x], x * 2, mode=PY)
    fl = symnet.function([x], [x * 2], mode=PY)
    f2 = symnet.function([x], [x * 2, x + 1], mode=PY)
    assert isinstance(f1(f32(2)), np.ndarray)
    assert isinstance(fl(f32(2)), list) and len(fl(f32(2))) == 1
    a, b = f2(f32(2))
    np.testing.assert_array_equal(a, [2, 2])
    np.testing.assert_array_equal(b, [2, 2])
    assert symnet.function([x], [], mode=PY, on_unused_input="ignore")(f32(2)) == []


def test_argument_count_errors_name_inputs():
    x, y = T.fvector("x"), T.fvector("y")
    f = symnet.function([x, y], x + y, mode=PY)
    with pytest.raises(TypeError, match=r"at most 2 arguments \(x, y\), got 3"):
        f(f32(1), f32(1), f32(1))
    with pytest.raises(TypeError, match=r"missing a value for input 1 \(y\)"):
        f(f32(1))
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(f32(1), z=f32(1))
    with pytest.raises(TypeError, match="multiple values for input 'x'"):
        f(f32(1), f32(1), x=f32(1))


def test_ndim_dtype_shape_errors_name_input():
    x = T.fmatrix("x")
    s = T.fvector("s", shape=(3,))
    f = symnet.function([x, s], x + s, mode=PY)
    with pytest.raises(TypeError, match=r"input 0 \(x\).*expected 2.*got 1"):
        f(f32(3), f32(3))
    with pytest.raises(TypeError, match=r"float64.*float32.*input 0 \(x\).*allow_input_downcast"):
        f(np.ones((2, 3)), f32(3))
    with pytest.raises(ValueError, match=r"input 1 \(s\).*expected \(3,\), got \(4,\)"):
        f(f32(2, 3), f32(4))
    with pytest.raises(TypeError, match="input 0"):
        f("hello", f32(3))


def test_allow_input_downcast():
    x = T.fvector("x")
    f = symnet.function([x], x * 2, mode=PY, allow_input_downcast=True)
    out = f(np.array([1.5, 2.5]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3, 5])
    g = symnet.function([x], x * 2, mode=PY)
    np.testing.assert_array_equal(g([1.0, 2.0]), [2, 4])  # Python floats to floatX are fine
    i = T.bvector("i")
    h = symnet.function([i], i + 1, mode=PY)
    with pytest.raises(TypeError):
        h(np.array([1, 2], "int64"))
    np.testing.assert_array_equal(h(np.array([1, 2], "int8")), [2, 3])
    s = T.fscalar("s")
    k = symnet.function([s], s * 2, mode=PY)
    assert float(k(1.5)) == 3.0


def test_in_defaults_and_keywords():
    x, y, z = T.fscalars("x", "y", "z")
    f = symnet.function([x, In(y, value=1.0), In(z, value=2.0, name="zz")], x + y * z,
                        mode=PY)
    assert float(f(1.0)) == 3.0
    assert float(f(1.0, 2.0)) == 5.0
    assert float(f(1.0, zz=3.0)) == 4.0
    assert float(f(x=1.0, y=0.0)) == 1.0
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(1.0, z=3.0)


def test_updates_are_simultaneous():
    a = symnet.shared(np.float64(1.0), name="a")
    b = symnet.shared(np.float64(2.0), name="b")
    swap = symnet.function([], [], updates=[(a, b), (b, a)], mode=PY)
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (2.0, 1.0)
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (1.0, 2.0)


def test_outputs_see_old_values_and_are_copies():
    w = symnet.shared(np.zeros(2), name="w")
    f = symnet.function([], w, updates=[(w, w + 1)], mode=PY)
    out = f()
    np.testing.assert_array_equal(out, [0, 0])
    np.testing.assert_array_equal(w.get_value(), [1, 1])
    out[:] = 5  # the output must not alias the shared storage
    np.testing.assert_array_equal(w.get_value(), [1, 1])


def test_update_errors_at_build_time():
    w = symnet.shared(np.zeros(3, "float32"), name="w")
    with pytest.raises(TypeError, match="same type.*w"):
        symnet.function([], [], updates=[(w, w * 2.5 + np.float64(1))], mode=PY)
    with pytest.raises(ValueError, match="update of w"):
        symnet.function([], [], updates=[(w, T.concatenate([w, w]))], mode=PY)
    with pytest.raises(TypeError, match="shared variable"):
        symnet.function([], [], updates=[(T.fvector(), w)], mode=PY)
    with pytest.raises(ValueError, match="two updates"):
        symnet.function([], [], updates=[(w, w), (w, w)], mode=PY)


def test_atomic_when_an_update_has_the_wrong_shape():
    a = symnet.shared(np.zeros(3), name="a")
    b = symnet.shared(np.arange(3.0), name="b")
    n = T.lscalar("n")
    f = symnet.function([n], [], updates=[(a, a + 1), (b, b[:n])], mode=PY)
    f(3)
    with pytest.raises(ValueError, match="update of b"):
        f(2)
    np.testing.assert_array_equal(a.get_value(), [1, 1, 1])
    np.testing.assert_array_equal(b.get_value(), [0, 1, 2])


def test_atomic_when_a_node_raises():
    a = symnet.shared(np.zeros(3), name="a")
    x = T.dmatrix("x")
    f = symnet.function([x], T.dot(x, a), updates=[(a, a + 1)], mode=PY)
    with pytest.raises(ValueError):
        f(np.ones((2, 4)))
    np.testing.assert_array_equal(a.get_value(), [0, 0, 0])


def test_runtime_error_names_op_shapes_and_user_line():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    z = x + y  # THIS LINE
    line = [i for i, text in enumerate(open(__file__), 1) if "# THIS LINE" in text][0]
    f = symnet.function([x, y], z, mode=PY)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 3)))
    msg = str(info.value)
    assert "add" in msg and "(2, 3)" in msg and "(4, 3)" in msg
    assert f"{os.path.basename(__file__)}:{line}" in msg


def test_givens():
    x, y = T.dscalars("x", "y")
    w = symnet.shared(np.float64(3.0), name="w")
    f = symnet.function([y], x * w, givens={x: y + 1}, mode=PY)
    assert float(f(1.0)) == 6.0
    data = symnet.shared(np.arange(6.0), name="data")
    i = T.lscalar("i")
    v = T.dvector("v")
    g = symnet.function([i], T.sum(v), givens=[(v, data[i * 2:(i + 1) * 2])], mode=PY)
    assert float(g(1)) == 5.0
    with pytest.raises(TypeError, match="givens"):
        symnet.function([y], x * 2, givens={x: T.dvector()}, mode=PY)


def test_on_unused_input():
    x, y = T.dscalars("x", "y")
    with pytest.raises(UnusedInputError, match="y"):
        symnet.function([x, y], x * 2, mode=PY)
    with pytest.warns(UserWarning, match="y"):
        symnet.function([x, y], x * 2, mode=PY, on_unused_input="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = symnet.function([x, y], x * 2, mode=PY, on_unused_input="ignore")
    assert float(f(1.0, 5.0)) == 2.0
    with pytest.raises(ValueError, match="on_unused_input"):
        symnet.function([x], x, on_unused_input="bogus")


def test_missing_input():
    x, y = T.dscalars("x", "y")
    with pytest.raises(MissingInputError, match=r"variable y .*\['x'\]"):
        symnet.function([x], x + y, mode=PY)


def test_input_list_errors():
    x = T.dscalar("x")
    w = symnet.shared(1.0)
    with pytest.raises(TypeError, match="must be a list"):
        symnet.function(x, x)
    with pytest.raises(TypeError, match="shared"):
        symnet.function([w], w)
    with pytest.raises(UnusedInputError):  # x * 2 is cut off; x itself is needed
        symnet.function([x * 2], x)
    with pytest.raises(ValueError, match="twice"):
        symnet.function([x, x], x)


def test_default_update_and_no_default_updates():
    c = symnet.shared(np.float64(0.0), name="c")
    c.default_update = c + 1
    f = symnet.function([], c * 10, mode=PY)
    assert float(f()) == 0.0 and float(f()) == 10.0
    assert float(c.get_value()) == 2.0
    g = symnet.function([], c * 10, mode=PY, no_default_updates=True)
    g()
    assert float(c.get_value()) == 2.0
    h = symnet.function([], c * 10, mode=PY, no_default_updates=[c])
    h()
    assert float(c.get_value()) == 2.0
    # an explicit update wins over the default one
    k = symnet.function([], c, updates=[(c, c - 5)], mode=PY)
    k()
    assert float(c.get_value()) == -3.0


def test_out_borrow_and_shared_read_in_place():
    w = symnet.shared(np.arange(3.0), name="w")
    f = symnet.function([], Out(w * 1, borrow=True), mode=PY)
    np.testing.assert_array_equal(f(), [0, 1, 2])
    w.set_value(np.ones(3))
    np.testing.assert_array_equal(f(), [1, 1, 1])


def test_inputs_not_modified():
    x = T.dvector("x")
    f = symnet.function([x], T.set_subtensor(x[:1], 5.0), mode=PY)
    a = np.zeros(3)
    f(a)
    np.testing.assert_array_equal(a, [0, 0, 0])


def test_floatx_reassignment_at_run_time():
    config.floatX = "float64"
    x = T.vector("x")
    f = symnet.function([x], x * 0.1, mode=PY)
    assert f(np.ones(2)).dtype == np.float64
    config.floatX = "float32"
    y = T.vector("y")
    assert symnet.function([y], y * 0.1, mode=PY)(f32(2)).dtype == np.float32


def test_variable_eval():
    x, y = T.dscalars("x", "y")
    z = x * y + 1
    assert float(z.eval({x: 2.0, y: 3.0}, mode=PY)) == 7.0
    assert float(z.eval({x: 1.0, y: 1.0}, mode=PY)) == 2.0
    w = symnet.shared(np.arange(3.0))
    np.testing.assert_array_equal((w * 2).eval(mode=PY), [0, 2, 4])
    assert float(T.constant(3.0).eval(mode=PY)) == 3.0
    with pytest.raises(MissingInputError):
        z.eval({x: 2.0}, mode=PY)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_outputs_never_alias_inputs_shared_or_each_other(mode):
    x = T.dmatrix("x")
    w = symnet.shared(np.arange(6.0).reshape(2, 3), name="w")
    y = x * 2
    f = symnet.function([x], [x, x.T, y, y, y.T, w, w[0], T.exp(x)], mode=mode)
    a = np.ones((2, 3))
    outs = f(a)
    for k, o in enumerate(outs):
        o[...] = -k - 1          # writing into one result ...
    np.testing.assert_array_equal(a, np.ones((2, 3)))   # ... never reaches the input,
    np.testing.assert_array_equal(w.get_value(), np.arange(6.0).reshape(2, 3))
    assert outs[2][0, 0] == -3 and outs[3][0, 0] == -4  # nor another output
    assert outs[4][0, 0] == -5


def test_fresh_outputs_of_the_numba_linker():
    x = T.dmatrix("x")
    y = T.exp(x)
    f = symnet.function([x], [y, x, y.T, T.sum(x), y * 2, y * 2], mode="numba")
    # the kernels' own results, except where two outputs share one buffer
    assert f.thunk.fresh_outputs == (False, False, False, True, False, False)
    g = symnet.function([x], [T.exp(x), T.sum(x)], mode="numba")
    assert g.thunk.fresh_outputs == (True, True) and g._plain


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_trust_input_skips_the_argument_checks(mode):
    x = T.fvector("x")
    f = symnet.function([x], x + 1, mode=mode)
    with pytest.raises(TypeError, match="input 0"):
        f(np.array([1.0, 2.0]))        # float64: refused without trust_input
    f.trust_input = True
    got = f(np.array([1.0, 2.0], dtype="float32"))
    np.testing.assert_array_equal(got, [2.0, 3.0])
    assert got.dtype == np.float32
    with pytest.raises(TypeError):
        f()                            # still a Python call: arity is checked


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_trust_input_value_of_another_rank_is_a_type_error(mode):
    # Theano's FAQ ("faster" example) passes a (1,) array for a scalar with
    # trust_input = True, which Theano's C code read anyway; unchecked
    # here too, the call fails with a TypeError on every backend
    x = T.dscalar("x")
    f = symnet.function([x], x + 1.0, mode=mode)
    f.trust_input = True
    with pytest.raises(TypeError):
        f(np.array([10.0]))
    if mode == "py":
        with pytest.raises(TypeError, match=r"input 0 \(x\) has type .*float64.* but its "
                                            r"value has 1 dims .*trust_input=True"):
            f(np.array([10.0]))


def test_intermediate_input_cuts_the_graph():
    # Theano's rule: an input computed from others is taken as given there.
    x = T.dscalar("x")
    y = T.exp(x) * 2
    y.name = "y"
    f = symnet.function([y], y + 1, mode=PY)
    assert float(f(3.0)) == 4.0
    assert float(y.eval({y: 5.0}, mode=PY)) == 5.0
    g = symnet.function([x, y], x + y, mode=PY)  # y no longer depends on x here
    assert float(g(1.0, 10.0)) == 11.0
    assert float((y * x).eval({x: 2.0}, mode=PY)) == pytest.approx(4 * np.exp(2.0))


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_an_intermediate_input_is_not_bound_by_inferred_sizes(mode):
    # Lasagne's test_recurrent_bck gives an output of inferred type (?, ?, 2)
    # a (2, 3, 4) value: Theano's types had no sizes, so only rank, dtype
    # and broadcastable axes bind it; the nodes after the cut follow its size.
    x = T.matrix("x")
    w = symnet.shared(np.ones((4, 2), dtype=symnet.config.floatX), name="w")
    y = T.dot(x, w)
    assert y.type.shape == (None, 2)
    z = (2 * y).sum(axis=1)
    value = np.arange(12, dtype=symnet.config.floatX).reshape(2, 6)
    f = symnet.function([y], [y, z], mode=mode)
    got_y, got_z = f(value)
    np.testing.assert_array_equal(got_y, value)
    np.testing.assert_allclose(got_z, 2 * value.sum(axis=1))
    with pytest.raises(TypeError, match="expected 2"):
        f(np.ones((2, 3, 4), dtype=symnet.config.floatX))
    b = T.addbroadcast(T.matrix("b"), 1)       # a declared broadcastable axis binds
    with pytest.raises(ValueError, match="axis 1 should have size 1"):
        symnet.function([b], b + 1, mode=mode)(np.ones((2, 3), dtype=symnet.config.floatX))



# -- outputs given as a dict (Theano's output_keys) -----------------------------------

def test_dict_outputs_return_a_dict():
    import pickle
    x, y = T.dscalars('x', 'y')
    f = symnet.function([x, y], {'b': x * y, 'a': x + y, '1': x}, mode='py')
    assert f(2.0, 4.0) == {'1': 2.0, 'a': 6.0, 'b': 8.0}
    assert f(2.0, y=4.0) == f(x=2.0, y=4.0) == f(2.0, 4.0)
    assert f.output_keys == ['1', 'a', 'b'] and f.outputs[0] is x
    g = pickle.loads(pickle.dumps(f))
    assert g(1.0, 3.0) == {'1': 1.0, 'a': 4.0, 'b': 3.0}
    assert f.copy()(1.0, 1.0) == {'1': 1.0, 'a': 2.0, 'b': 1.0}
    # a dict of results feeds another function's keyword arguments
    a, b = T.dscalars('a', 'b')
    h = symnet.function([a, b], a * 10 + b, mode='py')
    assert float(h(**{k: v for k, v in f(5.0, 7.0).items() if k != '1'})) == 155.0
    with pytest.raises(TypeError, match="must be strings, got float 1.0"):
        symnet.function([x], {1.0: x, 'a': x ** 2}, mode='py')


def test_dict_outputs_with_a_stateful_input():
    x = T.dscalar('x')
    acc = T.dscalar('acc')
    f = symnet.function([x, symnet.In(acc, value=0.0, update=acc + x)],
                        {'total': acc + x, 'x2': 2 * x}, mode='py')
    assert f(1.0) == {'total': 1.0, 'x2': 2.0}
    assert f(2.0) == {'total': 3.0, 'x2': 4.0}
