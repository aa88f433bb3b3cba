"""theano.tensor.raw_random: draws from an explicit RandomState variable give
numpy's RandomState numbers, thread the state through (new_state, sample),
never touch the given state, and agree on py and numba."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile import In
from symnet.tensor import raw_random as R

MODES = ["py", "numba"]


def _stateful(post, out, seed, mode, inputs=()):
    rng = post.owner.inputs[0]
    return symnet.function(list(inputs) + [In(rng, value=np.random.RandomState(seed),
                                              update=post, mutable=True)],
                           out, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, args, numpy_call", [
    ("uniform", dict(low=-2.0, high=3.0), lambda r: r.uniform(-2.0, 3.0, (4, 3))),
    ("normal", dict(avg=1.0, std=2.0), lambda r: r.normal(1.0, 2.0, (4, 3))),
    ("binomial", dict(n=5, p=0.3), lambda r: r.binomial(5, 0.3, (4, 3))),
    ("poisson", dict(lam=2.5), lambda r: r.poisson(2.5, (4, 3))),
    ("choice", dict(a=10, replace=True), lambda r: r.choice(10, (4, 3), True)),
    ("random_integers", dict(low=-3, high=3),
     lambda r: np.array([[r.randint(-3, 4) for _ in range(3)] for _ in range(4)])),
])
def test_draws_are_numpys_and_the_state_advances(mode, name, args, numpy_call):
    rng = R.random_state_type()
    post, out = getattr(R, name)(rng, (4, 3), **args)
    f = _stateful(post, out, 11, mode)
    ref = np.random.RandomState(11)
    for _ in range(2):
        np.testing.assert_allclose(f(), numpy_call(ref), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_given_state_is_left_untouched_and_new_state_returned(mode):
    rng = R.random_state_type()
    post, out = R.uniform(rng, (3,))
    f = symnet.function([rng], [post, out], mode=mode)
    given = np.random.RandomState(4)
    new, a = f(given)
    assert rng.type.values_eq(given, np.random.RandomState(4))
    _, b = f(new)
    ref = np.random.RandomState(4)
    np.testing.assert_allclose(a, ref.uniform(size=3), rtol=1e-6)
    np.testing.assert_allclose(b, ref.uniform(size=3), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_permutation_and_multinomial_add_a_dimension(mode):
    rng = R.random_state_type()
    post, perm = R.permutation(rng, (2,), n=5)
    assert perm.ndim == 2
    f = _stateful(post, perm, 3, mode)
    ref = np.random.RandomState(3)
    np.testing.assert_array_equal(f(), [ref.permutation(5), ref.permutation(5)])
    pv = T.dmatrix("pv")
    post, counts = R.multinomial(rng, n=10, pvals=pv)
    g = _stateful(post, counts, 5, mode, [pv])
    pvals = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    ref = np.random.RandomState(5)
    np.testing.assert_array_equal(g(pvals), [ref.multinomial(10, p) for p in pvals])


@pytest.mark.parametrize("mode", MODES)
def test_parameters_broadcast_and_size_from_parameters(mode):
    rng = R.random_state_type()
    low, high = T.lvector("low"), T.lvector("high")
    post, out = R.random_integers(rng, low=low, high=high)
    f = _stateful(post, out, 8, mode, [low, high])
    ref = np.random.RandomState(8)
    got = f([100, 200, 300], [110, 220, 330])
    np.testing.assert_array_equal(got, [ref.randint(100, 111), ref.randint(200, 221),
                                        ref.randint(300, 331)])
    post, sized = R.random_integers(rng, (3,), low=low, high=high)
    g = _stateful(post, sized, 8, mode, [low, high])
    with pytest.raises(ValueError, match=r"shape \(2,\) does not broadcast to the size \(3,\)"):
        g([1, 2], [3, 4])


def test_types_and_errors():
    rng = R.random_state_type()
    post, out = R.uniform(rng, (2, 1), dtype="float64")
    assert out.type.broadcastable == (False, True) and out.dtype == "float64"
    assert post.type == R.random_state_type
    _, u32 = R.uniform(rng, (2,))
    assert u32.dtype == symnet.config.floatX
    with pytest.raises(ValueError, match="ndim should be equal to len"):
        R.uniform(rng, (4,), ndim=2)
    with pytest.raises(TypeError, match="cannot be inferred without a size"):
        R.poisson(rng, size=None, ndim=2)
    with pytest.raises(TypeError, match="expected a numpy.random.RandomState, got int"):
        symnet.function([rng], out, mode="py")(3)
    with pytest.raises(symnet.gradient.NullTypeGradError):
        x = T.dscalar()
        symnet.grad(R.normal(rng, (2,), avg=x)[1].sum(), x)


def test_inplace_op_declares_the_state_destroyed_but_reads_right():
    rng = R.random_state_type()
    rf = R.RandomFunction("uniform", T.dvector)
    rf_in = R.RandomFunction("uniform", T.dvector, inplace=True)
    assert rf.destroy_map == {} and rf_in.destroy_map == {0: [0]}
    post2, out2 = rf(rng, (4,), -2.0, 2.0)
    post4, out4 = rf_in(rng, (4,), -4.0, 4.0)
    f = symnet.function([In(rng, value=np.random.RandomState(1), update=post4,
                            mutable=True)], [out2, out4], mode="py")
    a2, a4 = f()
    np.testing.assert_allclose(2 * a2, a4)
    b2, b4 = f()
    assert not np.allclose(a4, b4)
