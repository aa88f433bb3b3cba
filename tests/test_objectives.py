"""symnet.objectives against numpy references (int labels, one-hot, top_k)."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import objectives as O

RNG = np.random.RandomState(42)


def _probs(n, k, dtype="float64"):
    e = np.exp(RNG.randn(n, k))
    return (e / e.sum(axis=1, keepdims=True)).astype(dtype)


def run(inputs, out, *vals):
    return symnet.function(inputs, out, mode="py")(*vals)


def test_binary_crossentropy():
    p, t = T.dmatrix("p"), T.dmatrix("t")
    pv = RNG.uniform(0.05, 0.95, (4, 3))
    tv = (RNG.rand(4, 3) > 0.5).astype("float64")
    got = run([p, t], O.binary_crossentropy(p, t), pv, tv)
    np.testing.assert_allclose(got, -(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)))


def test_binary_crossentropy_aligns_column_predictions():
    p = T.TensorType("float64", shape=(None, 1))("p")
    t = T.dvector("t")
    loss = O.binary_crossentropy(p, t)
    assert loss.ndim == 2 and loss.broadcastable == (False, True)
    pv = np.array([[0.2], [0.7], [0.9]])
    tv = np.array([0.0, 1.0, 1.0])
    got = run([p, t], loss, pv, tv)
    np.testing.assert_allclose(got[:, 0], -(tv * np.log(pv[:, 0]) +
                                            (1 - tv) * np.log(1 - pv[:, 0])))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_categorical_crossentropy_int_labels_and_one_hot(dtype):
    p = T.matrix("p", dtype=dtype)
    pv = _probs(5, 4, dtype)
    labels = np.array([0, 3, 1, 1, 2], dtype="int32")
    want = -np.log(pv[np.arange(5), labels].astype("float64"))
    t = T.ivector("t")
    loss = O.categorical_crossentropy(p, t)
    assert loss.ndim == 1 and loss.dtype == dtype
    got = run([p, t], loss, pv, labels)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    onehot = T.matrix("oh", dtype=dtype)
    ohv = np.eye(4, dtype=dtype)[labels]
    got = run([p, onehot], O.categorical_crossentropy(p, onehot), pv, ohv)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # soft targets
    soft = _probs(5, 4, dtype)
    got = run([p, onehot], O.categorical_crossentropy(p, onehot), pv, soft)
    np.testing.assert_allclose(got, -(soft * np.log(pv)).sum(axis=1), rtol=1e-5)


def test_categorical_crossentropy_gradient():
    p = T.dmatrix("p")
    t = T.ivector("t")
    labels = np.array([2, 0, 1], dtype="int32")
    pv = _probs(3, 3)
    g = symnet.grad(T.sum(O.categorical_crossentropy(p, t)), p)
    got = run([p, t], g, pv, labels)
    want = np.zeros_like(pv)
    want[np.arange(3), labels] = -1 / pv[np.arange(3), labels]
    np.testing.assert_allclose(got, want)


def test_squared_error():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    av, bv = RNG.randn(3, 2), RNG.randn(3, 2)
    np.testing.assert_allclose(run([a, b], O.squared_error(a, b), av, bv), (av - bv) ** 2)
    fa = T.fmatrix("fa")
    assert O.squared_error(fa, fa * 2).dtype == "float32"


@pytest.mark.parametrize("mode", ["mean", "sum", "normalized_sum"])
def test_aggregate(mode):
    loss, w = T.dvector("loss"), T.dvector("w")
    lv, wv = RNG.rand(6), RNG.rand(6)
    got = run([loss, w], O.aggregate(loss, w, mode=mode), lv, wv)
    want = {"mean": (lv * wv).mean(), "sum": (lv * wv).sum(),
            "normalized_sum": (lv * wv).sum() / wv.sum()}[mode]
    np.testing.assert_allclose(got, want)
    if mode != "normalized_sum":
        got = run([loss], O.aggregate(loss, mode=mode), lv)
        np.testing.assert_allclose(got, getattr(lv, mode)())


def test_aggregate_errors():
    loss = T.dvector("loss")
    with pytest.raises(ValueError, match="require weights"):
        O.aggregate(loss, mode="normalized_sum")
    with pytest.raises(ValueError, match="'median'"):
        O.aggregate(loss, mode="median")


def test_binary_hinge_loss():
    p, t = T.dvector("p"), T.dvector("t")
    pv = np.array([2.0, -0.5, 0.3, -3.0])
    tv = np.array([1.0, 1.0, 0.0, 0.0])
    got = run([p, t], O.binary_hinge_loss(p, t, log_odds=True), pv, tv)
    np.testing.assert_allclose(got, np.maximum(0, 1 - pv * (2 * tv - 1)))
    got = run([p, t], O.binary_hinge_loss(p, t, delta=0.5, log_odds=True, binary=False),
              pv, 2 * tv - 1)
    np.testing.assert_allclose(got, np.maximum(0, 0.5 - pv * (2 * tv - 1)))
    probs = np.array([0.9, 0.3, 0.6, 0.1])
    got = run([p, t], O.binary_hinge_loss(p, t, log_odds=False), probs, tv)
    np.testing.assert_allclose(got, np.maximum(0, 1 - np.log(probs / (1 - probs)) *
                                               (2 * tv - 1)))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        O.binary_hinge_loss(p, t)
    assert any(issubclass(r.category, FutureWarning) for r in rec)


def _np_multiclass_hinge(pv, labels, delta):
    n = len(labels)
    correct = pv[np.arange(n), labels]
    masked = pv.copy()
    masked[np.arange(n), labels] = -np.inf
    return np.maximum(0, masked.max(axis=1) - correct + delta)


def test_multiclass_hinge_loss_int_and_one_hot():
    p = T.dmatrix("p")
    pv = RNG.randn(5, 4)
    labels = np.array([0, 3, 1, 1, 2], dtype="int32")
    t = T.ivector("t")
    got = run([p, t], O.multiclass_hinge_loss(p, t), pv, labels)
    np.testing.assert_allclose(got, _np_multiclass_hinge(pv, labels, 1))
    oh = T.dmatrix("oh")
    got = run([p, oh], O.multiclass_hinge_loss(p, oh, delta=0.3), pv, np.eye(4)[labels])
    np.testing.assert_allclose(got, _np_multiclass_hinge(pv, labels, 0.3))
    with pytest.raises(TypeError, match="ndim"):
        O.multiclass_hinge_loss(p, T.dtensor3())


def test_multiclass_hinge_loss_gradient():
    p, t = T.dmatrix("p"), T.ivector("t")
    pv = np.array([[1.0, 0.5, -0.2], [0.1, 0.3, 2.0]])
    labels = np.array([0, 1], dtype="int32")
    g = symnet.grad(T.sum(O.multiclass_hinge_loss(p, t)), p)
    got = run([p, t], g, pv, labels)
    # row 0: hinge 0.5 - 1 + 1 > 0 -> +1 on class 1, -1 on class 0
    np.testing.assert_allclose(got, [[-1.0, 1.0, 0.0], [0.0, -1.0, 1.0]])


def test_binary_accuracy():
    p, t = T.fvector("p"), T.fvector("t")
    pv = np.array([0.9, 0.2, 0.5, 0.4], dtype="float32")
    tv = np.array([1, 0, 0, 1], dtype="float32")
    acc = O.binary_accuracy(p, t)
    assert acc.dtype == symnet.config.floatX
    np.testing.assert_allclose(run([p, t], acc, pv, tv), [1, 1, 0, 0])
    got = run([p, t], O.binary_accuracy(p, t, threshold=0.3), pv, tv)
    np.testing.assert_allclose(got, [1, 1, 0, 1])
    assert O.binary_accuracy(p, t).mean().dtype == "float32"


@pytest.mark.parametrize("top_k", [1, 2, 3])
def test_categorical_accuracy_top_k(top_k):
    p = T.fmatrix("p")
    pv = RNG.rand(8, 5).astype("float32")
    labels = RNG.randint(0, 5, 8).astype("int32")
    ranks = np.argsort(-pv, axis=1)
    want = np.array([labels[i] in ranks[i, :top_k] for i in range(8)], dtype="float64")
    t = T.ivector("t")
    acc = O.categorical_accuracy(p, t, top_k=top_k)
    assert acc.dtype == symnet.config.floatX
    np.testing.assert_allclose(run([p, t], acc, pv, labels), want)
    oh = T.fmatrix("oh")
    got = run([p, oh], O.categorical_accuracy(p, oh, top_k=top_k), pv,
              np.eye(5, dtype="float32")[labels])
    np.testing.assert_allclose(got, want)


def test_categorical_accuracy_bad_targets():
    with pytest.raises(TypeError, match="ndim"):
        O.categorical_accuracy(T.fmatrix(), T.ftensor3() if hasattr(T, "ftensor3")
                               else T.tensor("float32", ndim=3))


def test_fallbacks_without_nnet_crossentropies(monkeypatch):
    monkeypatch.delattr(T.nnet, "categorical_crossentropy", raising=False)
    monkeypatch.delattr(T.nnet, "binary_crossentropy", raising=False)
    p = T.fmatrix("p")
    pv = _probs(4, 3, "float32")
    labels = np.array([2, 0, 1, 1], dtype="int32")
    want = -np.log(pv[np.arange(4), labels].astype("float64"))
    t = T.ivector("t")
    loss = O.categorical_crossentropy(p, t)
    assert loss.dtype == "float32"
    np.testing.assert_allclose(run([p, t], loss, pv, labels), want, rtol=1e-5)
    oh = T.fmatrix("oh")
    got = run([p, oh], O.categorical_crossentropy(p, oh), pv,
              np.eye(3, dtype="float32")[labels])
    np.testing.assert_allclose(got, want, rtol=1e-5)
    with pytest.raises(TypeError, match="class indices"):
        O.categorical_crossentropy(p, T.ftensor3() if hasattr(T, "ftensor3")
                                   else T.tensor("float32", ndim=3))
    tv = (pv > 0.3).astype("float32")
    got = run([p, oh], O.binary_crossentropy(p, oh), pv, tv)
    np.testing.assert_allclose(got, -(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)), rtol=1e-5)


def test_lasagne_wording_in_errors():
    # Lasagne's words ("require weights", "rank mismatch") stay inside the
    # more specific messages, for code that checks them.
    with pytest.raises(ValueError, match="require weights; got weights=None"):
        O.aggregate(T.dmatrix(), mode="normalized_sum")
    for fn in (O.multiclass_hinge_loss, O.categorical_accuracy):
        with pytest.raises(TypeError, match=r"rank mismatch between targets and predictions:"
                                            r" targets must have ndim 1 \(one-hot\) or 0 "
                                            r"\(class indices\) for predictions of ndim 1, "
                                            r"got 2"):
            fn(T.dvector(), T.dmatrix())


def test_multiclass_hinge_loss_takes_int8_labels():
    p, t = T.dmatrix("p"), T.bvector("t")
    pv = np.random.RandomState(1).rand(6, 4)
    labels = np.array([0, 3, 1, 1, 2, 3], dtype="int8")
    got = run([p, t], O.multiclass_hinge_loss(p, t), pv, labels)
    np.testing.assert_allclose(got, _np_multiclass_hinge(pv, labels, 1))
