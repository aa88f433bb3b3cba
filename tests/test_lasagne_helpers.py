"""Lasagne's helper behaviours that code written for Lasagne relies on:
compute_norms on numpy and symbolic tensors, get_or_compute_grads
returning its list, regularization's return types, the wording of
errors that Lasagne code checks, StandardizationLayer's axes and the
batch-norm statistics tag."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import regularization, updates, utils
from symnet.compat import equal_computations
from symnet.layers import BatchNormLayer, DenseLayer, InputLayer, StandardizationLayer

rng = np.random.RandomState(5)


@pytest.mark.parametrize("shape,axes,want_axes", [
    ((10,), None, None), ((4, 6), None, (0,)), ((3, 4, 5, 6), None, (1, 2, 3)),
    ((3, 4, 5, 6), (0, 2), (0, 2))])
def test_compute_norms_numpy_and_symbolic(shape, axes, want_axes):
    a = rng.randn(*shape).astype("float32")
    want = np.abs(a) if want_axes is None else np.sqrt((a ** 2).sum(axis=want_axes))
    got = utils.compute_norms(a, norm_axes=axes)
    assert isinstance(got, np.ndarray) and got.dtype == a.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)
    sym = utils.compute_norms(symnet.shared(a), norm_axes=axes)
    assert isinstance(sym, symnet.Variable)
    np.testing.assert_allclose(sym.eval(mode="py"), want, rtol=1e-6)


def test_compute_norms_errors():
    with pytest.raises(RuntimeError, match="compute_norms: Unsupported type list"):
        utils.compute_norms([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="compute_norms: Unsupported tensor dimensionality 6"):
        utils.compute_norms(np.ones((1,) * 6))
    with pytest.raises(ValueError, match="norm_constraint: Unsupported tensor "
                                         "dimensionality 1; must specify `norm_axes`"):
        updates.norm_constraint(T.dvector(), 1.0)


def test_get_or_compute_grads_returns_given_list():
    a, b = symnet.shared(1.0), symnet.shared(2.0)
    grads = updates.get_or_compute_grads(a * b, [a, b])
    assert updates.get_or_compute_grads(grads, [a, b]) is grads
    as_list = updates.get_or_compute_grads(tuple(grads), [a, b])
    assert isinstance(as_list, list) and as_list == grads
    with pytest.raises(ValueError, match="got 1 gradients for 2 parameters"):
        updates.get_or_compute_grads(grads[:1], [a, b])


def test_regularization_return_types():
    A, B = T.dvector("A"), T.dmatrix("B")
    empty = regularization.apply_penalty([], regularization.l2)
    assert empty == 0 and isinstance(empty, int)
    assert regularization.regularize_layer_params_weighted({}, regularization.l2) == 0
    # a sum of the per-tensor penalties, the same graph as Python's sum
    both = regularization.apply_penalty([A, B], regularization.l2)
    assert equal_computations([both], [sum([regularization.l2(A), regularization.l2(B)])])
    l1 = DenseLayer(InputLayer((None, 3)), 4)
    l2 = DenseLayer(l1, 2)
    weighted = regularization.regularize_layer_params_weighted(
        {l1: 0.1, l2: 0.5}, regularization.l2)
    want = 0.1 * (l1.W.get_value() ** 2).sum() + 0.5 * (l2.W.get_value() ** 2).sum()
    np.testing.assert_allclose(weighted.eval(mode="py"), want, rtol=1e-5)


def test_as_tuple_names_the_types():
    with pytest.raises(TypeError, match=r"an iterable of int, got 'asdf' instead \(need 4 "
                                        r"of them\)"):
        utils.as_tuple("asdf", 4, utils.int_types)
    with pytest.raises(TypeError, match="iterable of int or float, got"):
        utils.as_tuple("asdf", 4, (int, float))
    with pytest.raises(ValueError, match="length 4"):
        utils.as_tuple([1, 2, 3], 4)


@pytest.mark.parametrize("shape,axes,want", [
    ((5, 10), "auto", (1,)), ((5, 10, 7), "auto", (2,)), ((5, 4, 3, 3), "spatial", (2, 3)),
    ((5, 4, 3, 3), "features", (1, 2, 3)), ((5, 4, 3), 1, (1,)), ((5, 4, 3), (0, 2), (0, 2))])
def test_standardization_axes(shape, axes, want):
    x = (rng.randn(*shape) + rng.randn(*((1, shape[1]) + (1,) * (len(shape) - 2)))) \
        .astype("float32")
    layer = StandardizationLayer(shape, axes=axes)
    assert layer.axes == want
    ref = (x - x.mean(want, keepdims=True)) / np.sqrt(x.var(want, keepdims=True) + 1e-4)
    got = layer.get_output_for(T.constant(x)).eval(mode="py")
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_standardization_without_axes_warns_and_gives_zeros():
    with pytest.warns(UserWarning, match="no axes to standardize over"):
        layer = StandardizationLayer((5, 10), axes="spatial")
    out = layer.get_output_for(T.constant(np.ones((5, 10), "float32"))).eval(mode="py")
    np.testing.assert_array_equal(out, np.zeros((5, 10)))
    with pytest.raises(ValueError, match="axes must be 'auto', 'spatial', 'features'"):
        StandardizationLayer((5, 10), axes="channels")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StandardizationLayer((5, 10))  # 'auto' on 2-d input: over the features


def test_batch_norm_statistics_are_tagged():
    layer = BatchNormLayer((20, 30, 40))
    assert len(layer.get_params()) == 4
    assert [p.name for p in layer.get_params(batch_norm_stat=True)] == ["mean", "inv_std"]
    assert [p.name for p in layer.get_params(trainable=True)] == ["beta", "gamma"]
