"""RandomStreams and MRG_RandomStreams: reproducibility, advancing draws,
independence, statistics, symbolic sizes, dtypes and reseeding."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.sandbox.rng_mrg import MRG_RandomStreams
from symnet.tensor.shared_randomstreams import RandomStreams


def test_same_seed_same_sequence_and_calls_advance():
    outs = []
    for _ in range(2):
        srng = RandomStreams(seed=123)
        f = symnet.function([], srng.uniform((3, 2)), mode="py")
        outs.append([f() for _ in range(3)])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(outs[0][0], outs[0][1])
    assert not np.allclose(outs[0][1], outs[0][2])
    other = symnet.function([], RandomStreams(seed=124).uniform((3, 2)), mode="py")()
    assert not np.allclose(other, outs[0][0])


def test_two_draws_in_one_function_differ():
    srng = RandomStreams(seed=1)
    a, b = srng.normal((100,)), srng.normal((100,))
    va, vb = symnet.function([], [a, b], mode="py")()
    assert not np.allclose(va, vb)
    # the same draw used twice in one graph is one sample
    va1, va2 = symnet.function([], [a, a * 1.0], mode="py")()
    np.testing.assert_allclose(va1, va2)


def test_no_default_updates_does_not_advance():
    srng = RandomStreams(seed=2)
    u = srng.uniform((4,))
    f = symnet.function([], u, mode="py", no_default_updates=True)
    a0 = f()
    np.testing.assert_array_equal(a0, f())
    g = symnet.function([], u, mode="py")
    np.testing.assert_array_equal(g(), a0)  # g draws from the same state, then advances it
    a1 = f()
    assert not np.allclose(a1, a0)
    np.testing.assert_array_equal(g(), a1)


def test_updates_list():
    srng = RandomStreams(seed=2)
    u = srng.uniform((4,))
    n = srng.normal((2,))
    ups = srng.updates()
    assert len(ups) == 2 and ups[0][1].owner.outputs[1] is u and ups[1][1].owner.outputs[1] is n
    for state, new in ups:
        assert state.default_update is new and state.dtype == "int64"


@pytest.mark.parametrize("cls", [RandomStreams, MRG_RandomStreams])
def test_statistics(cls):
    srng = cls(seed=7)
    u = srng.uniform((20000,), low=-1.0, high=3.0)
    n = srng.normal((20000,), avg=2.0, std=0.5)
    b = srng.binomial((20000,), p=0.25)
    vu, vn, vb = symnet.function([], [u, n, b], mode="py")()
    assert vu.min() >= -1 and vu.max() < 3
    assert abs(vu.mean() - 1.0) < 0.05 and abs(vu.std() - 4 / np.sqrt(12)) < 0.05
    assert abs(vn.mean() - 2.0) < 0.02 and abs(vn.std() - 0.5) < 0.02
    assert set(np.unique(vb)) == {0, 1} and abs(vb.mean() - 0.25) < 0.02


def test_dtypes():
    srng = RandomStreams(seed=0)
    assert srng.uniform((2,)).dtype == symnet.config.floatX
    assert srng.normal((2,)).dtype == symnet.config.floatX
    assert srng.binomial((2,)).dtype == "int64"
    assert srng.binomial((2,), p=0.5, dtype="float32").dtype == "float32"
    assert srng.uniform((2,), dtype="float64").dtype == "float64"
    assert srng.random_integers((2,), 0, 5).dtype == "int64"
    symnet.config.floatX = "float64"  # read when the draw is built
    assert srng.normal((2,)).dtype == "float64"
    v = symnet.function([], srng.binomial((3,), dtype="float32"), mode="py")()
    assert v.dtype == np.float32


def test_symbolic_size_like_dropout():
    srng = MRG_RandomStreams(seed=5)
    x = T.fmatrix("x")
    mask = srng.binomial(x.shape, p=0.5, dtype=x.dtype)
    assert mask.type.shape == (None, None) and mask.dtype == "float32"
    out = x * mask
    f = symnet.function([x], out, mode="py")
    v = f(np.ones((30, 40), dtype="float32"))
    assert v.shape == (30, 40) and 0.4 < v.mean() < 0.6
    n = srng.normal((x.shape[0], 3))
    assert n.type.shape == (None, 3)
    assert symnet.function([x], n, mode="py")(np.ones((5, 2), "float32")).shape == (5, 3)
    # int and mixed sizes
    assert srng.uniform(4).type.shape == (4,)
    assert srng.uniform((2, T.constant(3))).type.shape == (2, 3)


def test_tensor_parameters_and_size_none():
    srng = RandomStreams(seed=9)
    p = T.dvector("p")
    b = srng.binomial(size=None, p=p)
    v = symnet.function([p], b, mode="py")(np.array([0.0, 1.0, 1.0]))
    np.testing.assert_array_equal(v, [0, 1, 1])
    lo = T.dvector("lo")
    u = srng.uniform(size=None, low=lo, high=lo + 1)
    vu = symnet.function([lo], u, mode="py")(np.array([10.0, 20.0]))
    assert vu.shape == (2,) and (vu >= [10, 20]).all() and (vu < [11, 21]).all()


def test_ndim_must_match_size():
    srng = RandomStreams(seed=0)
    with pytest.raises(ValueError, match="ndim=3"):
        srng.uniform((2, 2), ndim=3)
    assert srng.uniform((2, 2), ndim=2).ndim == 2


def test_seed_resets_all_states():
    srng = RandomStreams(seed=3)
    u = srng.uniform((5,))
    f = symnet.function([], u, mode="py")
    first = [f(), f()]
    srng.seed(3)
    np.testing.assert_array_equal(f(), first[0])
    np.testing.assert_array_equal(f(), first[1])
    srng.seed(4)
    assert not np.allclose(f(), first[0])


def test_mrg_defaults_and_nstreams():
    a = MRG_RandomStreams()
    b = MRG_RandomStreams(12345)
    va = symnet.function([], a.uniform((3,), nstreams=30), mode="py")()
    vb = symnet.function([], b.uniform((3,)), mode="py")()
    np.testing.assert_array_equal(va, vb)
    pv = np.array([[0.5, 0.5], [1.0, 0.0]], dtype="float32")
    m = symnet.function([], a.multinomial(pvals=pv, dtype="float32"), mode="py")()
    assert m.shape == (2, 2) and m.dtype == np.float32
    np.testing.assert_array_equal(m.sum(axis=1), [1, 1])
    np.testing.assert_array_equal(m[1], [1, 0])
    # MRG's truncate=True: every draw within two standard deviations
    t = symnet.function([], a.normal((500,), avg=3.0, std=2.0, truncate=True,
                                     dtype="float64"), mode="py")()
    assert np.all(np.abs(t - 3.0) <= 4.0) and t.std() > 1.0


def test_random_integers_inclusive():
    srng = RandomStreams(seed=0)
    v = symnet.function([], srng.random_integers((1000,), low=-1, high=1), mode="py")()
    assert set(np.unique(v)) == {-1, 0, 1}


def test_large_and_invalid_seeds():
    big = RandomStreams(seed=2 ** 40)  # larger than RandomState accepts
    v = symnet.function([], big.uniform((3,)), mode="py")()
    assert v.shape == (3,)
    with pytest.raises(ValueError, match="non-negative"):
        RandomStreams(seed=-1)
    # seed=None: works, not reproducible
    a = symnet.function([], RandomStreams().uniform((8,)), mode="py")()
    b = symnet.function([], RandomStreams().uniform((8,)), mode="py")()
    assert not np.allclose(a, b)


def test_mrg_binomial_positional_p_and_rng_attributes():
    srng = MRG_RandomStreams(seed=4)
    b = srng.binomial((4000,), 0.9)  # MRG order: (size, p)
    v = symnet.function([], b, mode="py")()
    assert abs(v.mean() - 0.9) < 0.03 and set(np.unique(v)) == {0, 1}
    u = RandomStreams(seed=4).uniform((2,))
    state, new = u.update
    assert u.rng is state and state.default_update is new


def test_choice():
    srng = RandomStreams(seed=6)
    c = srng.choice((3000,), a=3, p=np.array([0.2, 0.0, 0.8]))
    v = symnet.function([], c, mode="py")()
    assert c.dtype == "int64" and set(np.unique(v)) == {0, 2}
    assert abs((v == 2).mean() - 0.8) < 0.03
    pop = T.dvector("pop")
    d = srng.choice((4,), a=pop, replace=False, dtype="float64")
    vd = symnet.function([pop], d, mode="py")(np.array([5.0, 6.0, 7.0, 8.0]))
    assert sorted(vd.tolist()) == [5.0, 6.0, 7.0, 8.0]
    e = symnet.function([], srng.choice((50,), a=4), mode="py")()
    assert set(np.unique(e)) <= {0, 1, 2, 3} and len(np.unique(e)) > 1


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_draw_rng_reseeds_and_restores_as_theano_tutorial(mode):
    # Theano's tutorial: r = draw.rng.get_value(borrow=True); r.seed(n);
    # draw.rng.set_value(r, borrow=True), and get_state/set_state
    srng = RandomStreams(seed=234)
    u = srng.uniform((2, 2), dtype="float64")
    f = symnet.function([], u, mode=mode)

    def reseed(n):
        r = u.rng.get_value(borrow=True)
        r.seed(n)
        u.rng.set_value(r, borrow=True)
    reseed(89234)
    a = f()
    reseed(89234)
    np.testing.assert_array_equal(f(), a)
    reseed(1)
    assert not np.allclose(f(), a)
    saved = u.rng.get_value().get_state()
    v1, v2 = f(), f()
    r = u.rng.get_value(borrow=True)
    r.set_state(saved)
    u.rng.set_value(r, borrow=True)
    np.testing.assert_array_equal(f(), v1)
    np.testing.assert_array_equal(f(), v2)
    # what functions read stays a plain int64 array
    assert type(u.rng.container.get(borrow=True)) is np.ndarray
    assert u.rng.get_value().tolist()[1] == 3  # one draw after reseed(1), two after restoring


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_choice_with_float32_probabilities_summing_to_one_in_float32(mode):
    # AgentNet's EpsilonGreedyResolver: p = T.stack([eps, 1 - eps]) of a
    # float32 eps = 0.1; divided by its float32 sum, p missed 1 by 2.2e-8,
    # more than NumPy's choice allows (1.5e-8)
    eps = symnet.shared(np.float32(0.1), name="epsilon")
    p = T.stack([eps, 1 - eps])
    assert p.dtype == "float32"
    draw = RandomStreams(3).choice(size=(4000,), a=2, p=p, dtype="uint8")
    f = symnet.function([], draw, mode=mode)
    x = f()
    assert x.dtype == np.uint8 and x.shape == (4000,) and set(np.unique(x)) <= {0, 1}
    assert abs(x.mean() - 0.9) < 0.03  # 4000 draws: std of the mean 0.005
    eps.set_value(np.float32(0.123))
    assert abs(f().mean() - 0.877) < 0.03
