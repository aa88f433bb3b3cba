"""symnet.typed_list (Theano's theano.typed_list): every op against
Python's list on py and numba, the type's checks and Theano's doc examples."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import typed_list as tl
from symnet.typed_list import TypedListType

MODES = ["py", "numba"]
ITEMS = [[1.0, 2.0, 3.0], [4.0, 5.0], [2.0]]


def _f32(items):
    return [np.asarray(v, dtype="float32") for v in items]


def _run(mode, inputs, output, *values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no fallback warning: every op has its numba form
        f = symnet.function(inputs, output, mode=mode)
    return f(*values)


def _same(got, want):
    assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("mode", MODES)
def test_theano_doc_append_and_scan_over_a_list(mode):
    a = TypedListType(T.fvector)()
    v = T.fvector()
    _same(_run(mode, [a, v], tl.append(a, v), ITEMS[:2], [2]), _f32(ITEMS))
    n = tl.length(a)
    s, _ = symnet.scan(fn=lambda i, lst: lst[i].sum(), non_sequences=[a],
                       sequences=[T.arange(n, dtype="int64")])
    got = _run(mode, [a], s, ITEMS)
    np.testing.assert_array_equal(got, np.array([6.0, 9.0, 2.0], dtype="float32"))


@pytest.mark.parametrize("mode", MODES)
def test_list_ops_match_python_lists(mode):
    a, b = TypedListType(T.fvector)(), TypedListType(T.fvector)()
    v, i = T.fvector(), T.lscalar()
    items, more = _f32(ITEMS), _f32([[7.0], [8.0, 9.0]])
    _same(_run(mode, [a, b], tl.extend(a, b), items, more), items + more)
    _same(_run(mode, [a, b], a.extend(b), items, more), items + more)
    _same(_run(mode, [a, i, v], tl.insert(a, i, v), items, 1, [0.5]),
          items[:1] + [np.float32([0.5])] + items[1:])
    _same(_run(mode, [a], tl.reverse(a), items), items[::-1])
    _same(_run(mode, [a], a[1:], items), items[1:])
    _same(_run(mode, [a], tl.getitem(a, slice(None, None, -1)), items), items[::-1])
    np.testing.assert_array_equal(_run(mode, [a, i], a[i], items, -1), items[-1])
    assert int(_run(mode, [a], tl.length(a), items)) == 3
    # value comparisons, as list.remove / index / count do with ==
    twice = items + [np.float32([4.0, 5.0])]
    _same(_run(mode, [a, v], tl.remove(a, v), twice, [4.0, 5.0]),
          [items[0], items[2], items[1]])
    _same(_run(mode, [a, v], a.remove(v), items, [9.0]), items)   # absent: unchanged, as Theano
    assert int(_run(mode, [a, v], tl.index_(a, v), twice, [2.0])) == 2
    assert int(_run(mode, [a, v], a.ind(v), twice, [4.0, 5.0])) == 1
    assert int(_run(mode, [a, v], tl.count(a, v), twice, [4.0, 5.0])) == 2
    assert int(_run(mode, [a, v], a.count(v), twice, [3.0])) == 0


@pytest.mark.parametrize("mode", MODES)
def test_make_list_copies_and_results_do_not_change_inputs(mode):
    x, y = T.fvector("x"), T.fvector("y")
    xv, yv = np.float32([1, 2]), np.float32([3])
    got = _run(mode, [x, y], tl.make_list([x, y]), xv, yv)
    _same(got, [xv, yv])
    assert not np.shares_memory(got[0], xv)
    # an item taken out and changed in the graph leaves the caller's array alone
    a = TypedListType(T.fvector)()
    items = _f32(ITEMS)
    out = _run(mode, [a], a[0] * 2 + 1, items)
    np.testing.assert_array_equal(out, [3, 5, 7])
    np.testing.assert_array_equal(items[0], ITEMS[0])


@pytest.mark.parametrize("mode", MODES)
def test_errors_at_run_time_name_the_list(mode):
    a, v = TypedListType(T.fvector)("a"), T.fvector()
    f = symnet.function([a], tl.getitem(a, 5), mode=mode)
    with pytest.raises(IndexError, match=r"a\[5\]: index out of range for a list of 2 items"):
        f(ITEMS[:2])
    g = symnet.function([a, v], tl.index_(a, v), mode=mode)
    with pytest.raises(ValueError, match="no item of a equals"):
        g(ITEMS, [9.0])


def test_type_checks_name_expected_and_actual():
    t = TypedListType(T.fvector)
    assert t == TypedListType(T.fvector) and t != TypedListType(T.dvector)
    assert str(t) == "TypedList <TensorType(float32, vector)>"
    assert TypedListType(T.fvector, depth=2).get_depth() == 2
    assert TypedListType(T.fvector, depth=1).ttype == t
    with pytest.raises(TypeError, match="expected a Python list, got ndarray"):
        t.filter(np.zeros((2, 3), dtype="float32"))
    with pytest.raises(TypeError, match="expected a Type"):
        TypedListType("float32")
    with pytest.raises(ValueError, match="depth must be >= 0"):
        TypedListType(T.fvector, depth=-1)
    a = t("a")
    assert (a.ttype, a.dtype, a.ndim) == (T.fvector, "float32", 2)
    with pytest.raises(TypeError, match=r"the items of a have type TensorType\(float32, "
                                        r"vector\), got d of type TensorType\(float64, vector\)"):
        tl.append(a, T.dvector("d"))
    with pytest.raises(TypeError, match="the index must be an integer scalar"):
        a[T.fscalar()]
    with pytest.raises(TypeError, match="expected a typed list"):
        tl.length(T.fvector("x"))
    with pytest.raises(TypeError, match="every item must have the type of the first"):
        tl.make_list([T.fvector(), T.dvector()])
    with pytest.raises(TypeError, match="use typed_list.length"):
        len(a)
    with pytest.raises(TypeError, match="no gradient"):
        symnet.grad(a[0].sum(), a)
