"""``theano.tensor.nnet.nnet``'s compositions and the ``sigm`` module path:
values against numpy, gradients, Theano's module paths."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet import nnet
from tests.oracles import check_op, rand


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_forms():
    x, b = rand((3, 4)), rand((4,))
    check_op(nnet.softmax_with_bias, [x, b], ref=lambda x, b: np_softmax(x + b), grad=True)
    check_op(nnet.softmax_graph, [x], ref=np_softmax, grad=True)
    check_op(nnet.softmax_op, [x], ref=np_softmax)
    check_op(nnet.logsoftmax_op, [x], ref=lambda x: np.log(np_softmax(x)))
    check_op(nnet.softsign, [x], ref=lambda x: x / (1 + np.abs(x)), grad=True)


def test_crossentropies_with_bias():
    x, b, y = rand((3, 4)), rand((4,)), np.array([0, 3, 1])
    sm = np_softmax(x + b)
    nll = -np.log(sm[np.arange(3), y])
    check_op(lambda x, b, y: list(nnet.crossentropy_softmax_1hot_with_bias(x, b, y)),
             [x, b, y], ref=lambda *a: [nll, sm])
    check_op(lambda x, b, y: list(nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)),
             [x, b, y], ref=lambda *a: [nll, sm, (x + b).argmax(axis=-1)])
    check_op(lambda x, b, y: list(
        nnet.crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y)),
        [x, b, y], ref=lambda *a: [nll, sm.max(axis=-1), (x + b).argmax(axis=-1)])
    sm0 = np_softmax(x)
    check_op(lambda x, y: list(nnet.crossentropy_softmax_max_and_argmax_1hot(x, y)), [x, y],
             ref=lambda *a: [-np.log(sm0[np.arange(3), y]), sm0.max(-1), x.argmax(-1)])


def test_prepend_to_each_row():
    m = rand((3, 2))
    check_op(nnet.prepend_1_to_each_row, [m],
             ref=lambda m: np.hstack([np.ones((3, 1)), m]), grad=True)
    check_op(nnet.prepend_0_to_each_row, [m], ref=lambda m: np.hstack([np.zeros((3, 1)), m]))
    check_op(nnet.prepend_scalar_to_each_row, [np.float64(2.5), m],
             ref=lambda v, m: np.hstack([np.full((3, 1), v), m]), grad=True)
    with pytest.raises(TypeError, match=r"a scalar val and a matrix mat, got .* \(1 dims\)"):
        nnet.prepend_0_to_each_row(T.vector())
    with pytest.raises(TypeError, match=r"a scalar val and a matrix mat, got .* \(1 dims\) and"):
        nnet.prepend_scalar_to_each_row(T.vector(), T.matrix())


def np_h_softmax(x, n_out, n_cls, n_per, W1, b1, W2, b2):
    cls = np_softmax(x @ W1 + b1)
    out = np.concatenate([cls[:, c:c + 1] * np_softmax(x @ W2[c] + b2[c])
                          for c in range(n_cls)], axis=1)
    return out[:, :n_out]


def test_h_softmax():
    bs, n_in, n_out, n_cls, n_per = 4, 3, 7, 3, 3
    W1, b1 = rand((n_in, n_cls)), rand((n_cls,))
    W2, b2 = rand((n_cls, n_in, n_per)), rand((n_cls, n_per))
    x = rand((bs, n_in))
    want = np_h_softmax(x, n_out, n_cls, n_per, W1, b1, W2, b2)
    check_op(lambda *a: nnet.h_softmax(a[0], bs, n_out, n_cls, n_per, *a[1:]),
             [x, W1, b1, W2, b2], ref=lambda *a: want, grad=True)
    y = np.array([0, 6, 4, 2])
    full = np_h_softmax(x, n_cls * n_per, n_cls, n_per, W1, b1, W2, b2)
    check_op(lambda *a: nnet.h_softmax(a[0], bs, n_out, n_cls, n_per, *a[1:5], target=a[5]),
             [x, W1, b1, W2, b2, y], ref=lambda *a: full[np.arange(bs), y])


def test_theano_module_paths():
    import symnet.compat
    symnet.compat.install(lasagne=False)
    try:
        import theano.tensor as TT
        from theano.tensor.nnet.nnet import softsign
        from theano.tensor.nnet.sigm import hard_sigmoid, ultra_fast_sigmoid
        assert softsign is nnet.softsign and hard_sigmoid is TT.nnet.hard_sigmoid
        assert ultra_fast_sigmoid is TT.nnet.ultra_fast_sigmoid
        assert TT.nnet.batch_normalization is TT.nnet.bn.batch_normalization
        assert TT.nnet.softmax_with_bias is nnet.softmax_with_bias
    finally:
        symnet.compat.uninstall()


def test_crossentropy_softmax_1hot_with_bias_dx_is_the_gradient_of_the_cost():
    from symnet.tensor.nnet import crossentropy_softmax_1hot_with_bias_dx
    rng = np.random.default_rng(0)
    x, b = T.dmatrix("x"), T.dvector("b")
    y = np.array([2, 0, 1, 2], dtype="uint8")
    xv, bv, dyv = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    nll, sm, _ = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    want = symnet.grad((nll * dyv).sum(), x)
    got = crossentropy_softmax_1hot_with_bias_dx(dyv, sm, y)
    for mode in ("py", "numba"):
        a, g = symnet.function([x, b], [want, got], mode=mode)(xv, bv)
        np.testing.assert_allclose(g, a, rtol=1e-12)
    with pytest.raises(TypeError, match="y_idx must hold integer class indices"):
        crossentropy_softmax_1hot_with_bias_dx(dyv, sm, T.dvector())


def test_confusion_matrix_counts_label_pairs():
    from symnet.tensor.nnet import confusion_matrix
    a, p = T.dvector("a"), T.dvector("p")
    f = symnet.function([a, p], confusion_matrix(a, p), mode="py")
    actual, pred = np.array([2, 0, 2, 2, 0, 1.]), np.array([0, 0, 2, 2, 0, 2.])
    m, order = f(actual, pred)
    np.testing.assert_array_equal(order, [0, 1, 2])
    np.testing.assert_array_equal(m, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    assert m.dtype == np.int64
    with pytest.raises(ValueError, match="must be vectors, got 2 and 1"):
        confusion_matrix(T.matrix(), p)
