"""scan, map, reduce, foldl, foldr against numpy loops (py backend)."""
from collections import OrderedDict

import numpy as np
import pytest

import symnet
import symnet.tensor as T

MODE = "py"


def fn_(inputs, outputs, **kw):
    return symnet.function(inputs, outputs, mode=MODE, **kw)


def test_cumulative_sum():
    x = T.dmatrix("x")
    s, upd = symnet.scan(lambda v, acc: acc + v, sequences=x,
                         outputs_info=T.zeros_like(x[0]))
    assert not upd
    xv = np.random.RandomState(0).randn(5, 3)
    np.testing.assert_allclose(fn_([x], s)(xv), np.cumsum(xv, axis=0))


def test_power_with_n_steps_and_non_sequence():
    a, k = T.dvector("a"), T.iscalar("k")
    res, _ = symnet.scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a),
                         non_sequences=a, n_steps=k)
    f = fn_([a, k], res)
    av = np.array([1.0, 2.0, 3.0])
    out = f(av, 4)
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out, np.stack([av ** p for p in range(1, 5)]))


def test_static_length_from_constant_n_steps():
    a = T.dvector("a")
    res, _ = symnet.scan(lambda p: p * 2, outputs_info=a, n_steps=3)
    assert res.type.shape[0] == 3
    np.testing.assert_allclose(fn_([a], res)(np.array([1.0])), [[2.0], [4.0], [8.0]])


def test_fibonacci_two_taps():
    x0 = T.lvector("x0")
    fib, _ = symnet.scan(lambda x2, x1: x1 + x2,
                         outputs_info={"initial": x0, "taps": [-2, -1]}, n_steps=8)
    out = fn_([x0], fib)(np.array([0, 1]))
    ref = [0, 1]
    for _ in range(8):
        ref.append(ref[-1] + ref[-2])
    np.testing.assert_array_equal(out, ref[2:])


def test_sequence_taps():
    x = T.dvector("x")
    y, _ = symnet.scan(lambda a, b: b - a, sequences={"input": x, "taps": [0, 2]})
    xv = np.arange(6.0) ** 2
    np.testing.assert_allclose(fn_([x], y)(xv), xv[2:] - xv[:-2])


def test_go_backwards():
    x = T.dvector("x")
    s, _ = symnet.scan(lambda v, acc: acc * 0.5 + v, sequences=x,
                       outputs_info=T.constant(np.float64(0)), go_backwards=True)
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    acc, ref = 0.0, []
    for v in xv[::-1]:
        acc = acc * 0.5 + v
        ref.append(acc)
    np.testing.assert_allclose(fn_([x], s)(xv), ref)


def test_nit_sot_and_several_outputs():
    x = T.dvector("x")
    (sq, run), _ = symnet.scan(lambda v, acc: [v ** 2, acc + v ** 2], sequences=x,
                               outputs_info=[None, T.constant(np.float64(0))])
    xv = np.array([1.0, -2.0, 3.0])
    a, b = fn_([x], [sq, run])(xv)
    np.testing.assert_allclose(a, xv ** 2)
    np.testing.assert_allclose(b, np.cumsum(xv ** 2))


def test_shared_variable_inside_fn_is_implicit_non_sequence():
    w = symnet.shared(np.array([[1.0, 2.0], [0.5, -1.0]]), name="w")
    h0 = T.dvector("h0")
    h, _ = symnet.scan(lambda h: T.tanh(T.dot(h, w)), outputs_info=h0, n_steps=3)
    f = fn_([h0], h)
    ref, hv = [], np.array([0.3, -0.2])
    for _ in range(3):
        hv = np.tanh(hv @ w.get_value())
        ref.append(hv)
    np.testing.assert_allclose(f(np.array([0.3, -0.2])), ref)
    w.set_value(np.eye(2))  # the compiled loop reads the current value
    np.testing.assert_allclose(f(np.array([0.3, -0.2]))[-1],
                               np.tanh(np.tanh(np.tanh([0.3, -0.2]))))


def test_free_variable_of_outer_graph():
    x, c = T.dvector("x"), T.dscalar("c")
    y, _ = symnet.map(lambda v: v * c, x)
    np.testing.assert_allclose(fn_([x, c], y)(np.array([1.0, 2.0]), 3.0), [3.0, 6.0])


def test_updates_returned_by_fn():
    count = symnet.shared(np.float64(0.0), name="count")
    x = T.dvector("x")

    def step(v):
        return v + count, OrderedDict([(count, count + 1)])
    y, upd = symnet.scan(step, sequences=x)
    assert list(upd) == [count]
    f = fn_([x], y, updates=upd)
    np.testing.assert_allclose(f(np.array([10.0, 10.0, 10.0])), [10.0, 11.0, 12.0])
    assert float(count.get_value()) == 3.0


def test_reduce_foldl_foldr_map():
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, 3.0])
    zero = T.constant(np.float64(0))
    r, _ = symnet.reduce(lambda v, acc: acc * 2 + v, x, zero)
    l, _ = symnet.foldl(lambda v, acc: acc * 2 + v, x, zero)
    rr, _ = symnet.foldr(lambda v, acc: acc * 2 + v, x, zero)
    m, _ = symnet.map(lambda v: v + 1, x)
    out = fn_([x], [r, l, rr, m])(xv)
    assert float(out[0]) == float(out[1]) == 11.0  # ((1)*2+2)*2+3
    assert float(out[2]) == 17.0                   # ((3)*2+2)*2+1
    np.testing.assert_allclose(out[3], xv + 1)


def test_return_list():
    x = T.dvector("x")
    y, _ = symnet.scan(lambda v: v, sequences=x, return_list=True)
    assert isinstance(y, list) and len(y) == 1


def test_errors():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="n_steps"):
        symnet.scan(lambda h: h, outputs_info=x)
    with pytest.raises(TypeError, match="same dtype"):
        symnet.scan(lambda v, h: T.cast(h + v, "float32"), sequences=x,
                    outputs_info=T.constant(np.float64(0)))
    with pytest.raises(ValueError, match="outputs_info has 2 entries"):
        symnet.scan(lambda v, a, b: a + v, sequences=x, outputs_info=[x[0], x[0]])


def test_runtime_sequence_too_short():
    x, k = T.dvector("x"), T.lscalar("k")
    y, _ = symnet.scan(lambda v: v * 2, sequences=x, n_steps=k)
    f = fn_([x, k], y)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0]), 2), [2.0, 4.0])
    with pytest.raises(ValueError, match="has 3 steps"):
        f(np.array([1.0, 2.0, 3.0]), 5)


def test_static_shape_conflict_with_initial_state():
    v3 = T.TensorType("float64", shape=(3,))("v3")
    with pytest.raises(ValueError, match="keep its state's shape"):
        symnet.scan(lambda h, v: h + v, outputs_info=T.zeros((1,), dtype="float64"),
                    non_sequences=v3, n_steps=2)


def test_nested_scan():
    x = T.dmatrix("x")

    def row_sum(row):
        s, _ = symnet.scan(lambda v, acc: acc + v, sequences=row,
                           outputs_info=T.constant(np.float64(0)))
        return s[-1]
    y, _ = symnet.map(row_sum, x)
    xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(fn_([x], y)(xv), xv.sum(axis=1))
    g = symnet.grad(T.sum(y ** 2), x)
    np.testing.assert_allclose(fn_([x], g)(xv), 2 * xv.sum(axis=1, keepdims=True)
                               * np.ones_like(xv))
