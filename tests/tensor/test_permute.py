"""theano.tensor.permute_row_elements: values against NumPy for each way
x and the permutations y broadcast, the inverse, the gradient against
finite differences, and the errors (pydata2015's custom layer notebook
shuffles pooling strides with it)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T

MODES = ["py", "numba"]


def reference(x, y, inverse=False):
    """out[..., i] = x[..., y[..., i]] (inverse: out[..., y[..., i]] = x[..., i])."""
    if inverse:
        y = np.argsort(y, axis=-1)
    lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    xb = np.broadcast_to(x, lead + x.shape[-1:])
    yb = np.broadcast_to(y, lead + y.shape[-1:])
    return np.take_along_axis(xb, yb, axis=-1)


def perms(rng, shape):
    return np.argsort(rng.rand(*shape), axis=-1).astype("int32")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("inverse", [0, 1])
@pytest.mark.parametrize("xshape,yshape", [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (3, 4)),
                                            ((4,), (2, 4)), ((2, 3, 4), (3, 4)),
                                            ((1, 4), (3, 4)), ((2, 1, 4), (3, 4))])
def test_values_match_numpy(mode, inverse, xshape, yshape):
    rng = np.random.RandomState(0)
    xv, yv = rng.rand(*xshape), perms(rng, yshape)
    x = T.TensorType("float64", (False,) * len(xshape))("x")
    y = T.TensorType("int32", (False,) * len(yshape))("y")
    f = symnet.function([x, y], T.permute_row_elements(x, y, inverse), mode=mode)
    got, want = f(xv, yv), reference(xv, yv, bool(inverse))
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


def test_inverse_undoes_the_permutation():
    x, p = T.dmatrix("x"), T.ivector("p")
    back = T.permute_row_elements(T.permute_row_elements(x, p), p, inverse=True)
    xv = np.random.RandomState(1).rand(3, 5)
    pv = np.array([3, 0, 4, 1, 2], dtype="int32")
    np.testing.assert_array_equal(symnet.function([x, p], back, mode="py")(xv, pv), xv)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_matches_finite_differences(mode):
    rng = np.random.RandomState(2)
    xv, yv, wv = rng.rand(3, 4), perms(rng, (3, 4)), rng.rand(3, 4)
    x, y = T.dmatrix("x"), T.imatrix("y")
    cost = (T.permute_row_elements(x, y) * wv).sum() + (T.permute_row_elements(x, y[0], 1) ** 2).sum()
    g = symnet.function([x, y], symnet.grad(cost, x), mode=mode)(xv, yv)
    cf = symnet.function([x, y], cost, mode="py")
    eps, num = 1e-6, np.zeros_like(xv)
    for i in np.ndindex(xv.shape):
        d = np.zeros_like(xv)
        d[i] = eps
        num[i] = (cf(xv + d, yv) - cf(xv - d, yv)) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_random_permutation_shuffles_a_shared_vector():
    # the notebook's theano_shuffled: permute_row_elements(v.T, srng.permutation(n=n)).T
    from symnet.tensor.shared_randomstreams import RandomStreams
    v = symnet.shared(np.array([2, 2, 1, 1, 1]))
    out = T.permute_row_elements(v.T, RandomStreams(3).permutation(n=v.shape[0])).T
    got = symnet.function([], out, mode="py")()
    assert got.dtype == v.dtype and sorted(got.tolist()) == [1, 1, 1, 2, 2]


def test_errors_name_the_argument():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="permutations y=p must be integers, got dtype float64"):
        T.permute_row_elements(x, T.dvector("p"))
    with pytest.raises(TypeError, match="at least one dimension"):
        T.permute_row_elements(T.dscalar("s"), T.ivector("p"))
