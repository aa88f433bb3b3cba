"""``Function.__call__``'s paths: the direct one (``trust_input``, nothing
shared, no update), the checked one, shared values without updates, and
updates.  Each must give the values and updates of the general path and
keep its guarantees: arguments checked unless trusted, updates all or
nothing, errors naming the input or the update."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile import tiered
from symnet.compile.mode import Mode
from symnet.compile.tiered import wait_compiled
from tests.compile.test_tiered import gate  # noqa: F401 -- holds compiles back

MODES = ["py", "numba"]


@pytest.mark.parametrize("mode", MODES)
def test_trusted_call_gives_the_checked_calls_values(mode):
    x, y = T.fvector("x"), T.fscalar("y")
    one = symnet.function([x, y], T.exp(x) * y, mode=mode)
    many = symnet.function([x, y], [T.sum(x) * y, x * 2], mode=mode)
    a = np.linspace(-1, 1, 5).astype("float32")
    b = np.array(3.0, "float32")
    want_one = one(a, b)
    want_many = many(a, b)
    one.trust_input = many.trust_input = True
    got_one = one(a, b)
    got_many = many(a, b)
    np.testing.assert_allclose(got_one, np.exp(a) * 3, rtol=1e-6)
    np.testing.assert_array_equal(got_one, want_one)
    assert isinstance(got_many, list) and len(got_many) == 2
    for got, want in zip(got_many, want_many):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.float32
    np.testing.assert_allclose(got_many[0], a.sum() * 3, rtol=1e-6)
    # keywords and a wrong count still go through the argument handling
    np.testing.assert_array_equal(one(x=a, y=b), want_one)
    np.testing.assert_array_equal(one(a, y=b), want_one)
    with pytest.raises(TypeError, match=r"at most 2 arguments \(x, y\), got 3"):
        one(a, b, b)
    with pytest.raises(TypeError, match=r"missing a value for input 1 \(y\)"):
        one(a)


@pytest.mark.parametrize("mode", MODES)
def test_trust_input_off_again_checks_again(mode):
    x = T.fvector("x")
    f = symnet.function([x], x + 1, mode=mode)
    assert f.trust_input is False
    wide = np.array([1.0, 2.0])            # float64 for a float32 input
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(wide)
    f.trust_input = True
    assert f.trust_input is True
    f.trust_input = False
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(wide)
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 3.0])   # a list, converted


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trust", [False, True])
def test_shared_values_without_updates_are_read_at_each_call(mode, trust):
    x = T.fvector("x")
    w = symnet.shared(np.float32(2.0), name="w")
    v = symnet.shared(np.arange(3, dtype="float32"), name="v")
    f = symnet.function([x], T.exp(x) * w + v, mode=mode)
    f.trust_input = trust
    a = np.ones(3, "float32")
    np.testing.assert_allclose(f(a), np.exp(a) * 2 + [0, 1, 2], rtol=1e-6)
    w.set_value(np.float32(-1.0))
    v.set_value(np.full(3, 5.0, "float32"))
    np.testing.assert_allclose(f(a), -np.exp(a) + 5, rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trust", [False, True])
def test_updates_match_the_py_backend(mode, trust):
    def build(m):
        x = T.fmatrix("x")
        w = symnet.shared(np.linspace(-1, 1, 12).reshape(4, 3).astype("float32"), name="w")
        b = symnet.shared(np.zeros(3, "float32"), name="b")
        n = symnet.shared(np.int64(0), name="n")
        loss = T.mean(T.tanh(T.dot(x, w) + b) ** 2)
        gw, gb = symnet.grad(loss, [w, b])
        f = symnet.function([x], loss, mode=m,
                            updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb), (n, n + 1)])
        return f, (w, b, n)

    ref, ref_shared = build("py")
    f, shared = build(mode)
    f.trust_input = trust
    data = np.random.RandomState(0).randn(5, 4).astype("float32")
    for _ in range(3):
        np.testing.assert_allclose(f(data), ref(data), rtol=1e-5)
    for got, want in zip(shared, ref_shared):
        np.testing.assert_allclose(got.get_value(), want.get_value(), rtol=1e-5, atol=1e-7)
        assert got.get_value().dtype == want.get_value().dtype
    assert int(shared[2].get_value()) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trust", [False, True])
def test_an_update_that_fails_writes_nothing(mode, trust):
    a = symnet.shared(np.zeros(3), name="a")
    b = symnet.shared(np.arange(3.0), name="b")
    n = T.lscalar("n")
    f = symnet.function([n], a.sum(), updates=[(a, a + 1), (b, b[:n])], mode=mode)
    f.trust_input = trust
    assert float(f(np.int64(3))) == 0.0
    with pytest.raises(ValueError, match="update of b"):
        f(np.int64(2))
    np.testing.assert_array_equal(a.get_value(), [1, 1, 1])
    np.testing.assert_array_equal(b.get_value(), [0, 1, 2])


@pytest.mark.parametrize("mode", MODES)
def test_momentum_updates_in_place_and_a_failing_step_writes_none_of_them(mode):
    # numba writes w and v in place (the update tail) and hands back the
    # shared arrays themselves, which the commit keeps without its checks
    rng = np.random.RandomState(0)
    w0, v0 = rng.randn(6, 5).astype("float32"), rng.randn(6, 5).astype("float32")
    w = symnet.shared(w0.copy(), name="w")
    v = symnet.shared(v0.copy(), name="v")
    x, y = T.fmatrix("x"), T.fmatrix("y")
    g = x * y                    # an intermediate: the tail may read it
    nv = 0.9 * v - 0.1 * g
    f = symnet.function([x, y], T.sum(w), updates=[(v, nv), (w, w + 0.9 * nv - 0.1 * g)],
                        mode=Mode(mode, tiered=False))
    xv, yv = rng.randn(6, 5).astype("float32"), rng.randn(6, 5).astype("float32")
    gv = xv * yv
    before = w.get_value(borrow=True), v.get_value(borrow=True)
    f(xv, yv)
    if mode == "numba":
        assert w.get_value(borrow=True) is before[0] and v.get_value(borrow=True) is before[1]
    want_v = np.float32(0.9) * v0 - np.float32(0.1) * gv
    want_w = w0 + np.float32(0.9) * want_v - np.float32(0.1) * gv
    np.testing.assert_allclose(v.get_value(), want_v, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(w.get_value(), want_w, rtol=1e-6, atol=1e-6)
    assert w.get_value().dtype == v.get_value().dtype == np.float32
    kept = [s.get_value() for s in (w, v)]
    with pytest.raises(ValueError):
        f(xv, yv[:, :4])         # x * y fails, before any update is written
    for s, k in zip((w, v), kept):
        np.testing.assert_array_equal(s.get_value(), k)
    f(xv, yv)                    # and the next good call takes one more step
    np.testing.assert_allclose(v.get_value(), np.float32(0.9) * kept[1] - np.float32(0.1) * gv,
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_an_output_aliasing_an_input_is_copied_on_the_update_path(mode):
    x = T.fvector("x")
    acc = symnet.shared(np.float32(0), name="acc")
    f = symnet.function([x], [x, T.sum(x)], updates=[(acc, acc + T.sum(x))], mode=mode)
    a = np.arange(3, dtype="float32")
    same, total = f(a)
    assert not np.may_share_memory(same, a)
    same[0] = 99.0                       # the caller's array stays as it was
    assert a[0] == 0.0
    assert float(total) == 3.0 and float(acc.get_value()) == 3.0


def test_a_tiered_function_takes_the_compiled_paths_once_switched(gate):
    x = T.fvector("x")
    w = symnet.shared(np.float32(0), name="w")
    f = symnet.function([x], T.exp(x) + 1, mode=Mode("numba", tiered=True))
    g = symnet.function([x], T.exp(x) * 2, updates=[(w, w + T.sum(x))],
                        mode=Mode("numba", tiered=True))
    f.trust_input = True
    a = np.arange(3, dtype="float32")
    first = f(a)                           # on py: its outputs are checked
    assert f.tier == "py" and f.thunk.fresh_outputs is None and not f._plain
    np.testing.assert_allclose(g(a), np.exp(a) * 2, rtol=1e-6)
    gate.set()
    assert wait_compiled(f, timeout=300) and wait_compiled(g, timeout=300)
    again = f(a)
    assert f.tier == "numba" and f._plain and f._direct   # settled on the fast path
    np.testing.assert_allclose(again, first, rtol=1e-6)
    np.testing.assert_allclose(f(a), np.exp(a) + 1, rtol=1e-6)
    np.testing.assert_allclose(g(a), np.exp(a) * 2, rtol=1e-6)
    assert g.tier == "numba" and not g._plain              # updates: never plain
    assert float(w.get_value()) == 6.0
    f.trust_input = False
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(np.arange(3.0))


def test_a_warm_cache_tiers_until_numba_started(monkeypatch):
    monkeypatch.setenv("SYMNET_TIERED", "auto")
    nb = Mode("numba", emitter="numba")     # numba kernels: they need numba started
    assert tiered.tiered_enabled(nb, 0, numba_started=False)
    assert not tiered.tiered_enabled(nb, 0, numba_started=True)
    assert not tiered.tiered_enabled(Mode("numba", tiered=False), 0, numba_started=False)
    x = T.fvector("x")
    symnet.function([x], T.exp(x) * 5, mode=nb)(np.ones(2, "float32"))  # cached now
    assert tiered.kernels_loaded()
    monkeypatch.setattr(tiered, "kernels_loaded", lambda: False)   # a new process
    f = symnet.function([x], T.exp(x) * 5, mode=nb)
    assert isinstance(f.thunk, tiered.TieredThunk)
    assert wait_compiled(f, timeout=300)
    np.testing.assert_allclose(f(np.ones(2, "float32")), np.exp(1) * 5, rtol=1e-6)
    assert f.tier == "numba"
    monkeypatch.setenv("SYMNET_TIERED", "0")
    assert not isinstance(symnet.function([x], T.exp(x) * 5, mode=nb).thunk,
                          tiered.TieredThunk)


def test_a_warm_llvm_cache_needs_no_numba_start_so_does_not_tier(monkeypatch):
    monkeypatch.setenv("SYMNET_TIERED", "auto")
    mode = Mode("numba", emitter="llvm")
    x = T.fvector("x")
    symnet.function([x], T.exp(x) * 7, mode=mode)(np.ones(2, "float32"))  # cached now
    monkeypatch.setattr(tiered, "kernels_loaded", lambda: False)   # numba not started
    f = symnet.function([x], T.exp(x) * 7, mode=mode)
    assert not isinstance(f.thunk, tiered.TieredThunk)
    assert f.thunk.linker.code.llvm_kernels and not f.thunk.linker.kernel_texts
    np.testing.assert_allclose(f(np.ones(2, "float32")), np.exp(1) * 7, rtol=1e-6)
