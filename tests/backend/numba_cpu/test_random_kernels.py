"""Random draws in the numba backend: a driver line (not a Python perform)
that draws exactly the numbers of the py backend from the same seed, call
after call, and advances the stream state the same way."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.sandbox.rng_mrg import MRG_RandomStreams
from symnet.tensor.shared_randomstreams import RandomStreams

from .helpers import use_tmp_cache


def _draws(streams_cls, backend):
    """Three calls of a function drawing from every distribution."""
    s = streams_cls(7)
    n = T.lscalar("n")
    p = T.vector("p")
    outs = [s.uniform((n, 3), low=-2.0, high=3.0),
            s.normal((2, n), avg=1.0, std=2.0, dtype="float64"),
            s.binomial((n,), p=0.3),
            s.binomial((4,), n=5, p=p, dtype="float32"),
            s.random_integers((n,), low=-3, high=3),
            s.choice(size=(3,), a=10, replace=False),
            s.multinomial(size=(2,), n=4, pvals=[[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])]
    f = symnet.function([n, p], outs, mode=Mode(backend))
    pv = np.array([0.1, 0.5, 0.9, 0.0], dtype=p.dtype)
    return f, [f(k, pv) for k in (2, 5, 2)]


@pytest.mark.parametrize("cls", [RandomStreams, MRG_RandomStreams])
def test_seeded_draws_equal_across_backends(cls, monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)   # a fallback would raise
    fn, got = _draws(cls, "numba")
    _, want = _draws(cls, "py")
    assert "Python perform" not in fn.source
    assert sum("_draw(" in ln for ln in fn.source.splitlines()) == 7
    for g_call, w_call in zip(got, want):
        for g, w in zip(g_call, w_call):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    # successive calls draw different numbers (the state advanced)
    assert not np.array_equal(got[0][0], got[2][0])


def test_state_advances_as_py(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    states = {}
    for backend in ("numba", "py"):
        s = RandomStreams(3)
        x = s.normal((5,))
        f = symnet.function([], x, mode=Mode(backend))
        f(), f()
        states[backend] = [st.get_value() for st, _ in s.updates()]
    for a, b in zip(states["numba"], states["py"]):
        np.testing.assert_array_equal(a, b)
    assert states["py"] and all(st[1] == 2 for st in states["py"])


def test_dropout_compiles_without_fallback(monkeypatch):
    """A dropout layer's mask is drawn by the compiled function itself."""
    from symnet import layers
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    x = T.matrix("x")
    l_in = layers.InputLayer((None, 6), x)
    drop = layers.DropoutLayer(l_in, p=0.5)
    out = layers.get_output(drop)
    xv = np.ones((4, 6), dtype=x.dtype)
    (state, _), = drop._srng.updates()
    start = state.get_value()
    vals = []
    for b in ("numba", "py"):
        state.set_value(start)          # both draw from the same state
        vals.append(symnet.function([x], out, mode=Mode(b))(xv))
    np.testing.assert_array_equal(vals[0], vals[1])
    assert set(np.unique(vals[0])) <= {0.0, 2.0}


def test_bad_parameters_name_the_draw():
    use_tmp_cache()
    s = RandomStreams(1)
    p = T.vector("p")
    f = symnet.function([p], s.binomial((3,), p=p), mode=Mode("numba"))
    with pytest.raises(ValueError, match="RandomDraw.*binomial.*cannot draw size"):
        f(np.array([0.5, 2.0, 0.1], dtype=p.dtype))


@pytest.mark.parametrize("cls", [RandomStreams, MRG_RandomStreams])
def test_truncated_normal_and_permutation(cls, monkeypatch):
    """MRG's normal(truncate=True) stays within two standard deviations;
    permutation rows permute range(n); both equal across backends."""
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    got = {}
    for backend in ("numba", "py"):
        s = cls(11)
        k = T.lscalar("k")
        outs = [s.normal((400,), avg=1.0, std=0.5, truncate=True, dtype="float64"),
                s.permutation((k, 2), n=6), s.permutation(n=5)]
        f = symnet.function([k], outs, mode=Mode(backend))
        got[backend] = f(3)
        assert backend == "py" or "Python perform" not in f.source
    for a, b in zip(got["numba"], got["py"]):
        np.testing.assert_array_equal(a, b)
    z, perms, one = got["py"]
    assert np.all(np.abs(z - 1.0) <= 1.0) and z.std() > 0.3
    assert perms.shape == (3, 2, 6) and perms.dtype == np.int64
    assert all(sorted(row) == list(range(6)) for row in perms.reshape(-1, 6))
    assert sorted(one) == list(range(5))
