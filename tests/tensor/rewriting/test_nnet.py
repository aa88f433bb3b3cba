"""Stabilization rewrites: finite results where the naive formula is not."""
import numpy as np

import symnet
import symnet.tensor as T

from ._helpers import PY, RAW, compare, op_names

rng = np.random.default_rng(3)
X = rng.standard_normal((4, 5))
BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0], [0.0, 1.0, 2.0]])
Y = np.array([1, 0, 2], dtype="int64")


def test_log_softmax():
    x = T.dmatrix("x")
    f = compare([x], T.log(T.nnet.softmax(x)), [X])
    assert op_names(f) == ["LogSoftmax"]
    out = symnet.function([x], T.log(T.nnet.softmax(x)), mode=PY)(BIG)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], [0.0, -2000.0, -1000.0])


def test_softmax_written_with_exp_and_sum():
    # Theano's local_softmax (its Test_softmax_opt): the written-out form is
    # inf / inf = NaN for logits of 1000; keepdims or a DimShuffle, any axis
    x = T.dmatrix("x")
    for p, axis in [(T.exp(x) / T.exp(x).sum(axis=1).dimshuffle(0, "x"), 1),
                    (T.exp(x) / T.exp(x).sum(axis=1, keepdims=True), 1),
                    (T.exp(x) / T.exp(x).sum(axis=0), 0)]:
        f = compare([x], p, [X])
        assert op_names(f) == ["Softmax"]
        out = symnet.function([x], p, mode=PY)(BIG)
        e = np.exp(BIG - BIG.max(axis=axis, keepdims=True))
        np.testing.assert_allclose(out, e / e.sum(axis=axis, keepdims=True), rtol=1e-12)
    # not a softmax: the row sums divide along the last axis
    f = compare([x], T.exp(x[:, :4]) / T.exp(x[:, :4]).sum(axis=1), [X[:4]])
    assert "Softmax" not in op_names(f)


def test_softplus_and_sigmoid_written_out():
    # Theano's softplus/sigmoid rules: log(1 + exp(x)) is inf and its
    # gradient exp(x) * sigmoid(-x) NaN once exp overflows
    x = T.dvector("x")
    v = np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0])
    sp = T.log(1 + T.exp(x))
    f = compare([x], [sp, symnet.grad(sp.sum(), x)], [v[1:4]])
    assert op_names(f) == ["softplus", "sigmoid"]
    value, grad = symnet.function([x], [sp, symnet.grad(sp.sum(), x)], mode=PY)(v)
    np.testing.assert_allclose(value, np.logaddexp(0, v), rtol=1e-12)
    np.testing.assert_allclose(grad, 1 / (1 + np.exp(-np.clip(v, -700, 700))), rtol=1e-12,
                               atol=1e-300)
    f = compare([x], T.exp(x) / (1 + T.exp(x)), [v[1:4]])
    assert op_names(f) == ["sigmoid"]
    # not the logistic: other constants or another exponent stay
    for e in (T.exp(x) / (2 + T.exp(x)), T.exp(x + 1) / (1 + T.exp(x))):
        assert "sigmoid" not in op_names(compare([x], e, [v[1:4]]))
    f = compare([x], T.exp(x) * T.nnet.sigmoid(-x) * 3, [v[1:4]])
    assert "exp" not in op_names(f)


def _ce_softmax_int(x, y):
    return T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)


def test_softmax_crossentropy_is_fused_and_finite():
    x, y = T.dmatrix("x"), T.lvector("y")
    f = compare([x, y], _ce_softmax_int(x, y), [X[:3, :3], Y])
    assert op_names(f) == ["SoftmaxCrossentropy"]
    assert f.rewrite_stats["local_softmax_crossentropy"] == 1
    out = f(BIG, Y)
    np.testing.assert_allclose(out, [2000.0, 2000.0, np.log(np.exp([0, 1, 2]).sum()) - 2])
    raw = symnet.function([x, y], _ce_softmax_int(x, y), mode=RAW)(BIG, Y)
    assert not np.isfinite(raw).all()  # what the rewrite saves us from


def test_softmax_crossentropy_gradient_is_finite_and_right():
    x, y = T.dmatrix("x"), T.lvector("y")
    cost = _ce_softmax_int(x, y).sum()
    g = symnet.grad(cost, x)
    f = symnet.function([x, y], g, mode=PY)
    assert f.rewrite_stats["local_softmax_crossentropy_grad"] == 1
    got = f(BIG, Y)
    e = np.exp(BIG - BIG.max(axis=1, keepdims=True))
    sm = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, sm - np.eye(3)[Y], atol=1e-12)
    # and on ordinary logits it agrees with the unrewritten gradient
    compare([x, y], g, [X[:3, :3], Y], mode=PY)
    # and against finite differences of the (rewritten) cost
    c = symnet.function([x, y], cost, mode=PY)
    x0, eps, num = X[:3, :3], 1e-6, np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            d = np.zeros((3, 3))
            d[i, j] = eps
            num[i, j] = (c(x0 + d, Y) - c(x0 - d, Y)) / (2 * eps)
    np.testing.assert_allclose(f(x0, Y), num, rtol=1e-5, atol=1e-7)


def test_onehot_crossentropy_of_softmax_is_finite():
    x, t = T.dmatrix("x"), T.dmatrix("t")
    ce = T.nnet.categorical_crossentropy(T.nnet.softmax(x), t)
    f = compare([x, t], ce, [X[:3, :3], np.eye(3)], mode=PY)
    out = f(BIG, np.eye(3)[Y])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:2], [2000.0, 2000.0])


def test_log_sigmoid_forms():
    x = T.dvector("x")
    f = compare([x], [T.log(T.nnet.sigmoid(x)), T.log(1 - T.nnet.sigmoid(x))], [X[0]])
    assert "log" not in op_names(f) and "softplus" in op_names(f)
    # 1 - sigmoid(x) becomes sigmoid(-x) first, so both logs meet the same rule
    assert f.rewrite_stats["local_1m_sigmoid"] == 1
    assert f.rewrite_stats["local_log_sigmoid"] == 2
    big = np.array([-800.0, 800.0])
    a, b = symnet.function([x], [T.log(T.nnet.sigmoid(x)), T.log(1 - T.nnet.sigmoid(x))],
                           mode=PY)(big)
    np.testing.assert_allclose(a, [-800.0, 0.0])
    np.testing.assert_allclose(b, [0.0, -800.0])


def test_log1m_sigmoid_alone():
    x = T.dvector("x")
    f = symnet.function([x], T.log(1 - T.nnet.sigmoid(x)), mode=PY.excluding("local_1m_sigmoid"))
    assert f.rewrite_stats["local_log1m_sigmoid"] == 1
    np.testing.assert_allclose(f(np.array([-800.0, 800.0])), [0.0, -800.0])


def test_logistic_written_with_exp():
    # Theano's tutorial writes p = 1 / (1 + exp(-z)) and the cross-entropy
    # with log(p) and log(1 - p); its gradient must stay finite once p
    # rounds to 1 (z > 37 in float64), as it did on Theano.
    z, y = T.dvector("z"), T.dvector("y")
    p = 1 / (1 + T.exp(-z))
    xent = (-y * T.log(p) - (1 - y) * T.log(1 - p)).sum()
    outs = [p, xent, T.grad(xent, z), 1 / (1 + T.exp(z))]
    f = compare([z, y], outs, [X[0], (X[1] > 0).astype("float64")])
    zv, yv = np.array([-3.0, 0.5, 40.0, 60.0]), np.array([1.0, 0.0, 0.0, 1.0])
    assert f.rewrite_stats["local_inv_1_plus_exp"] == 2
    sig = 1 / (1 + np.exp(-zv))
    pv, xv, gv, qv = f(zv, yv)
    np.testing.assert_allclose(pv, sig)
    np.testing.assert_allclose(qv, 1 / (1 + np.exp(zv)), rtol=1e-12)
    assert qv[2] > 0  # exp(-40), where 1 - p is 0
    # log(1 + exp(-z)) + (1 - y) * z, without the rounding of 1 - p
    np.testing.assert_allclose(xv, (np.logaddexp(0, -zv) + (1 - yv) * zv).sum())
    np.testing.assert_allclose(gv, np.where(yv == 1, -1 / (1 + np.exp(zv)), sig))  # sig - y
    raw = symnet.function([z, y], outs[2], mode=RAW)(zv, yv)
    assert not np.isfinite(raw).all()  # what the rewrites save us from


def test_log1p_and_expm1():
    x = T.dvector("x")
    f = compare([x], [T.log(1 + x), T.log(x + 1), T.exp(x) - 1], [np.abs(X[0])])
    assert sorted(op_names(f)) == ["expm1", "log1p"]  # the two log1p merged
    tiny = np.array([1e-20])
    a, b = symnet.function([x], [T.log(1 + x), T.exp(x) - 1], mode=PY)(tiny)
    np.testing.assert_allclose(a, 1e-20)
    np.testing.assert_allclose(b, 1e-20)


def test_excluding_a_stabilization():
    x = T.dmatrix("x")
    f = symnet.function([x], T.log(T.nnet.softmax(x)),
                        mode=PY.excluding("local_log_softmax"))
    assert "LogSoftmax" not in op_names(f)
    f = symnet.function([x], T.log(T.nnet.softmax(x)), mode=PY.excluding("stabilize"))
    assert "LogSoftmax" not in op_names(f)


def test_onehot_crossentropy_gradient_is_finite_and_right():
    x, t = T.dmatrix("x"), T.dmatrix("t")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), t).sum()
    g = symnet.grad(cost, x)
    f = symnet.function([x, t], g, mode=PY)
    assert f.rewrite_stats["local_log_softmax_grad"] == 1
    e = np.exp(BIG - BIG.max(axis=1, keepdims=True))
    sm = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(f(BIG, np.eye(3)[Y]), sm - np.eye(3)[Y], atol=1e-12)
    compare([x, t], g, [X[:3, :3], rng.uniform(0, 1, (3, 3))], mode=PY)
