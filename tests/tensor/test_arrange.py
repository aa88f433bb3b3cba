"""symnet.tensor.arrange: Theano's split, roll, swapaxes, stacks, tri/tril/
triu, flatnonzero, nonzero_values, inverse_permutation, ptp,
get_vector_length and extract_constant, against numpy on every backend."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from tests.oracles import check_op, rand

A = rand((3, 4), rng=np.random.default_rng(0))


def test_split_values_gradient_and_errors():
    check_op(lambda x: T.split(x, [1, 3], 2, axis=1), [A],
             ref=lambda a: np.split(a, [1], axis=1), grad=True)
    x, sizes = T.dmatrix("x"), T.lvector("sizes")
    f = symnet.function([x, sizes], T.split(x, sizes, 2, axis=0), mode="py")
    top, bottom = f(A, np.array([2, 1]))
    assert top.tolist() == A[:2].tolist() and bottom.tolist() == A[2:].tolist()
    with pytest.raises(ValueError, match="add up to 3, not to the length 4"):
        T.split(T.TensorType("float64", shape=(4,))("v"), [1, 2], 2)
    with pytest.raises(ValueError, match="2 splits but 3 sizes"):
        T.split(x, [1, 1, 1], 2)


@pytest.mark.parametrize("shift", [1, -2, 7])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_roll(shift, axis):
    check_op(lambda x: T.roll(x, shift, axis), [A], ref=lambda a: np.roll(a, shift, axis),
             grad=True)


def test_roll_with_a_symbolic_shift():
    x, s = T.dvector("x"), T.lscalar("s")
    f = symnet.function([x, s], T.roll(x, s), mode="py")
    assert f(np.arange(5.0), -3).tolist() == np.roll(np.arange(5.0), -3).tolist()


def test_swapaxes_stacks_and_ptp():
    b = rand((3, 4), rng=np.random.default_rng(1))
    check_op(lambda x: T.swapaxes(x, 0, 1), [A], ref=lambda a: np.swapaxes(a, 0, 1))
    check_op(T.horizontal_stack, [A, b], ref=lambda p, q: np.hstack([p, q]), grad=True)
    check_op(T.vertical_stack, [A, b], ref=lambda p, q: np.vstack([p, q]))
    check_op(lambda x: T.ptp(x, axis=1), [A], ref=lambda a: np.ptp(a, axis=1))


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tri_tril_triu(k):
    check_op(lambda x: [T.tril(x, k), T.triu(x, k)], [A],
             ref=lambda a: [np.tril(a, k), np.triu(a, k)])
    f = symnet.function([], T.tri(3, 5, k, dtype="int32"), mode="py")
    out = f()
    assert out.dtype == np.int32 and out.tolist() == np.tri(3, 5, k, dtype="int32").tolist()


def test_flatnonzero_and_nonzero_values():
    a = np.array([[0.0, 2.0], [3.0, 0.0]])
    check_op(lambda x: [T.flatnonzero(x), T.nonzero_values(x)], [a],
             ref=lambda v: [np.flatnonzero(v), v[np.nonzero(v)]], infer_shape=False)
    with pytest.raises(ValueError, match="at least one dimension"):
        T.flatnonzero(T.dscalar())


def test_inverse_permutation():
    p = np.array([3, 0, 2, 1])
    check_op(T.inverse_permutation, [p], ref=np.argsort)
    rows = np.array([[2, 0, 1], [1, 2, 0]])
    check_op(T.inverse_permutation, [rows], ref=lambda r: np.argsort(r, axis=1))
    with pytest.raises(TypeError, match="vector or a matrix"):
        T.inverse_permutation(T.ltensor3())


def test_get_vector_length_and_extract_constant():
    assert T.get_vector_length(T.TensorType("float32", shape=(5,))()) == 5
    assert T.get_vector_length(T.stack([T.dscalar(), T.dscalar()])) == 2
    with pytest.raises(ValueError, match="not known"):
        T.get_vector_length(T.dvector("v"))
    assert T.extract_constant(T.constant(3)) == 3
    x = T.dscalar()
    assert T.extract_constant(x) is x


def test_op_class_names():
    x = T.dmatrix()
    assert isinstance(T.join(0, x, x).owner.op, T.Join)
    assert isinstance(T.dot(x, x).owner.op, T.Dot)
    assert isinstance(x.reshape((2, -1)).owner.op, T.Reshape)
    assert T.Tensor is T.TensorType


def test_elementwise_functions_print_as_theano_and_add_is_variadic():
    assert str(T.add) == "Elemwise{add,no_inplace}" and str(T.inv) == "Elemwise{inv,no_inplace}"
    assert str(T.erf) == "Elemwise{erf,no_inplace}" and T.add.__name__ == "add"
    a, b, c = T.dvectors("a", "b", "c")
    f = symnet.function([a, b, c], [T.add(a, b, c), T.mul(a, b, c)], mode="py")
    s, p = f(np.array([1.0]), np.array([2.0]), np.array([4.0]))
    assert s.tolist() == [7.0] and p.tolist() == [8.0]
    with pytest.raises(TypeError, match="takes 2 inputs"):
        T.sub(a, b, c)


# -- theano.tensor.extra_ops compositions ----------------------------------------

from symnet.tensor import extra_ops as E  # noqa: E402


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(side):
    xs = np.array([1.0, 2.0, 2.0, 5.0])
    vs = np.array([[0.0, 2.0], [3.0, 9.0]])
    check_op(lambda x, v: E.searchsorted(x, v, side), [xs, vs],
             ref=lambda x, v: np.searchsorted(x, v, side))
    order = np.array([3, 0, 2, 1])
    check_op(lambda x, v, s: E.searchsorted(x, v, side, sorter=s), [xs[[1, 3, 2, 0]], vs, order],
             ref=lambda x, v, s: np.searchsorted(x, v, side, sorter=s))


@pytest.mark.parametrize("m", [0, 1, 2, 7])
def test_bartlett(m):
    f = symnet.function([k := T.lscalar("k")], E.bartlett(k), mode="py")
    np.testing.assert_allclose(f(m), np.bartlett(m), atol=1e-7)


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3, 5])
def test_fill_diagonal_offset(offset):
    def ref(a, v):
        a = a.copy()
        r, c = np.arange(a.shape[0]), np.arange(a.shape[0]) + offset
        keep = (c >= 0) & (c < a.shape[1])
        a[r[keep], c[keep]] = v
        return a
    check_op(lambda a, v: E.fill_diagonal_offset(a, v, offset), [A, np.float64(7.0)], ref=ref,
             grad=True)


@pytest.mark.parametrize("order", ["C", "F"])
def test_unravel_and_ravel_multi_index(order):
    idx = np.array([0, 5, 11, 7])
    check_op(lambda i: list(E.unravel_index(i, (3, 4), order)), [idx],
             ref=lambda i: list(np.unravel_index(i, (3, 4), order=order)))
    coords = [np.array([0, 2, 4]), np.array([3, -1, 1])]
    for mode in ("wrap", "clip"):
        check_op(lambda r, c: E.ravel_multi_index([r, c], (3, 4), mode, order), coords,
                 ref=lambda r, c: np.ravel_multi_index((r, c), (3, 4), mode=mode, order=order))


def test_unravel_index_of_a_symbolic_shape():
    dims = T.lvector("dims")
    with pytest.raises(ValueError, match="pass ndim="):
        E.unravel_index(T.lvector(), dims)
    i = T.lvector("i")
    f = symnet.function([i, dims], list(E.unravel_index(i, dims, ndim=2)), mode="py")
    got = f(np.array([0, 7, 11]), np.array([3, 4]))
    assert [g.tolist() for g in got] == [list(v) for v in np.unravel_index([0, 7, 11], (3, 4))]


def test_join_op_with_the_axis_as_first_input():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    out = T.Join()(-1, a, b)
    assert isinstance(out.owner.op, T.Join) and out.owner.op.axis == 1
    f = symnet.function([a, b], [out, T.Join(view=0)(T.constant(0), a, b)], mode="py")
    h, v = f(A, A)
    assert h.tolist() == np.hstack([A, A]).tolist() and v.tolist() == np.vstack([A, A]).tolist()
    # an axis known only at run time is Theano's too (RuntimeAxisJoin)
    ax = T.lscalar("ax")
    g = symnet.function([ax, a, b], T.Join()(ax, a, b), mode="py")
    assert g(0, A, A).tolist() == np.vstack([A, A]).tolist()
    assert g(-1, A, A).tolist() == np.hstack([A, A]).tolist()


def test_make_vector_op_defaults_to_int64():
    v = T.MakeVector()(T.lscalar(), 3)
    assert v.dtype == "int64" and v.type.shape == (2,)
