"""Function inputs: defaults, states kept between calls (In with an update),
Theano's shortcut tuples, keyword arguments and access by f[key].

Written from the behaviour of Theano's doc/library/compile/io.txt; every
test runs on the py reference backend and on numba.
"""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.io import In, as_in

BACKENDS = ["py", "numba"]


@pytest.mark.parametrize("mode", BACKENDS)
def test_state_updates_and_overrides(mode):
    u, x, s = T.scalars("u", "x", "s")
    inc = symnet.function([u, In(x, value=3), In(s, update=s + x * u, value=10.0)], [],
                          mode=mode)
    assert inc(5) == []
    assert float(inc[s]) == 25.0                    # 10 + 3*5
    inc(3, 4)                                       # x overridden for one call
    assert float(inc[s]) == 37.0
    assert float(inc[x]) == 3.0
    inc(3, 4, 7)                                    # s set to 7, then updated
    assert float(inc[s]) == 19.0
    inc[s] = 10
    assert isinstance(inc[s], np.ndarray) and inc[s].dtype == s.dtype
    assert float(inc[s]) == 10.0
    inc(1, s=0.5)
    assert float(inc[s]) == 3.5


@pytest.mark.parametrize("mode", BACKENDS)
def test_value_and_container_views(mode):
    a, b, c = T.scalars("xys")
    fn = symnet.function([a, b, ((c, c + a + b), 10.0)], [], mode=mode)
    assert fn["s"] is fn.value[c] is fn.container[c].value is fn.value[2]
    fn(1, 2)
    assert float(fn["s"]) == 13.0
    fn.value[c] = 99.0
    fn(1, 0)
    assert float(fn.container["s"].value) == 100.0
    assert c in fn.value and "nope" not in fn.value
    with pytest.raises(KeyError, match="'nope' is not an input .*inputs: x, y, s"):
        fn["nope"]
    with pytest.raises(TypeError, match="read-only"):
        fn.container[c] = 1.0


@pytest.mark.parametrize("mode", BACKENDS)
def test_shortcuts_keywords_and_errors(mode):
    x, y, z, w = T.scalar(), T.scalar("y"), T.scalar("z"), T.scalar("w")
    fn = symnet.function([x, y, In(z, value=42), ((w, w + x), 0)], x + y + z, mode=mode)
    with pytest.raises(TypeError, match=r"missing a value for input 1 \(y\), a required input.*"
                                        r"y, z=42.0, w=0.0 \(state\)"):
        fn(1)
    assert float(fn["w"]) == 0.0                    # the failed call changed nothing
    assert float(fn(1, 2)) == 45.0 and float(fn["w"]) == 1.0
    assert float(fn(1, y=2)) == 45.0 and float(fn["w"]) == 2.0
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'x'.*named inputs "
                                        r"are \(y, z, w\), and 1 unnamed input"):
        fn(x=1, y=2)
    with pytest.raises(TypeError, match="perhaps you meant 'y'"):
        fn(1, yy=2)
    assert float(fn(1, 2, 3)) == 6.0
    assert float(fn(1, z=3, y=2)) == 6.0 and float(fn["w"]) == 4.0
    assert float(fn(1, 2, w=400)) == 45.0 and float(fn["w"]) == 401.0
    with pytest.raises(TypeError, match="takes at most 4 arguments"):
        fn(1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match="multiple values for input 'y'"):
        fn(1, 2, y=3)


@pytest.mark.parametrize("mode", BACKENDS)
def test_failed_call_leaves_state_untouched(mode):
    x = T.vector("x")
    s = T.vector("s")
    fx = x.dtype
    fn = symnet.function([x, In(s, value=np.zeros(3, fx), update=s + x)], T.sum(s * x),
                         mode=mode)
    fn(np.ones(3, fx))
    with pytest.raises(ValueError):
        fn(np.ones(4, fx), np.full(3, 5.0, fx))   # x of the wrong size: the graph raises
    np.testing.assert_array_equal(fn[s], np.ones(3))   # neither 5s nor updated
    given = np.full(3, 2.0, fx)
    fn(np.ones(3, fx), given)
    np.testing.assert_array_equal(given, np.full(3, 2.0))   # the caller's array untouched
    np.testing.assert_array_equal(fn[s], np.full(3, 3.0))


@pytest.mark.parametrize("mode", BACKENDS)
def test_shared_container_between_functions(mode):
    x, s = T.scalars("x", "s")
    f = symnet.function([x, In(s, value=0.0, update=s + x)], s, mode=mode)
    g = symnet.function([x, In(s, value=f.container[s], update=s * x)], s, mode=mode)
    f(2.0)
    assert float(g(10.0)) == 2.0                # reads f's state, implicit
    assert float(f[s]) == 20.0                  # g's update written to the same state
    with pytest.raises(TypeError, match="takes at most 1 arguments"):
        g(1.0, 2.0)                             # an implicit input takes no argument


def test_mutable_default_is_used_in_place():
    x, s = T.vector("x"), T.vector("s")
    init = np.zeros(2, x.dtype)
    f = symnet.function([x, In(s, value=init, update=s + x, mutable=True)], [], mode="py")
    g = symnet.function([x, In(s, value=init, update=s + x)], [], mode="py")
    g(np.ones(2, x.dtype))
    np.testing.assert_array_equal(init, [0.0, 0.0])    # a copy unless mutable
    assert f[s] is init


def test_as_in_shortcuts_and_bad_items():
    r, up = T.scalar("r"), T.scalar("up")
    assert as_in(("n", r)).name == "n"
    spec = as_in((r, 2.0))
    assert (spec.name, spec.value, spec.update) == ("r", 2.0, None)
    spec = as_in(("n", (r, up), 1.0))
    assert (spec.name, spec.value, spec.update) == ("n", 1.0, up)
    assert In(r, autoname=False).name is None
    with pytest.raises(TypeError, match="not a variable, an In"):
        as_in((r, up, 1.0, 2.0))
    with pytest.raises(ValueError, match="an input with an update needs a value"):
        In(r, update=up)
    with pytest.raises(TypeError, match="function input 0 must be a symbolic variable"):
        symnet.function([np.zeros(2)], r)
    with pytest.raises(ValueError, match="listed twice"):
        symnet.function([r, (r, 1.0)], r, mode="py")


def test_update_of_the_wrong_type_is_refused():
    s, v = T.scalar("s"), T.vector("v")
    with pytest.raises(TypeError):
        symnet.function([v, In(s, value=0.0, update=v)], [], mode="py")


def test_shared_names_are_no_keyword():
    a, b = T.scalar("a"), T.scalar("a")
    f = symnet.function([a, b], a - b, mode="py")
    assert float(f(3.0, 1.0)) == 2.0
    with pytest.raises(TypeError, match="several inputs are named 'a'"):
        f(1.0, a=2.0)


def test_copy_and_pickle_start_from_the_current_state():
    import pickle
    x, s, z = T.scalar("x"), T.scalar("s"), T.scalar("z")
    f = symnet.function([x, In(z, value=1.0), In(s, value=0.0, update=s + x * z)], s,
                        mode="py")
    f(2.0)
    f[z] = 3.0
    g = pickle.loads(pickle.dumps(f))
    c = f.copy()
    # the unpickled function has variables of its own: look up by name
    assert float(g["s"]) == float(c[s]) == 2.0 and float(g["z"]) == 3.0
    g(1.0)
    c(10.0)
    assert (float(g["s"]), float(c[s]), float(f[s])) == (5.0, 32.0, 2.0)   # states apart


@pytest.mark.parametrize("mode", BACKENDS)
def test_param_is_theanos_in_with_a_default(mode):
    x, y = T.dscalars("x", "y")
    f = symnet.function([x, symnet.Param(y, default=2.0, name="scale")], x * y, mode=mode)
    assert float(f(3.0)) == 6.0 and float(f(3.0, 4.0)) == 12.0 and float(f(3.0, scale=5.0)) == 15.0
    with pytest.raises(TypeError, match="missing a value for input 0"):
        symnet.function([x, symnet.Param(y)], x * y, mode=mode)(y=1.0)


def test_in_update_checks_come_first():
    # Theano's order: a shared variable or an update of another type is a
    # TypeError, before the missing initial value
    import numpy as np
    import symnet
    a = symnet.shared(1.0)
    with pytest.raises(TypeError, match="shared variable is no input"):
        In(a, update=a + 1)
    x, v = T.dscalar('x'), T.dvector('v')
    with pytest.raises(TypeError, match="update must have the input's type"):
        In(x, update=v, value=0.0)
    with pytest.raises(TypeError, match="update must have the input's type"):
        In(x, update=T.cast(x, 'float32'), value=0.0)


def test_allow_downcast_false_wants_python_floats_exact():
    import symnet
    a, b, c = T.fscalars('a', 'b', 'c')
    f = symnet.function([In(a, allow_downcast=True), In(b, allow_downcast=False),
                         In(c, allow_downcast=None)], a + b + c, mode='py')
    assert float(f(0, 0, 0)) == 0.0
    assert abs(float(f(0.1, 0, 0)) - 0.1) < 1e-7
    assert float(f(0, 0.5, 0)) == 0.5                 # exact in float32: fine
    with pytest.raises(TypeError, match="without loss"):
        f(0, 0.1, 0)
    assert abs(float(f(0, 0, 0.1)) - 0.1) < 1e-7      # None: a float to floatX


def test_in_name_must_be_a_string():
    a = T.dscalar('a')
    for bad in ([], (), {'x'}, T.dscalar()):
        with pytest.raises(TypeError, match="name must be a string"):
            In(a, name=bad)


@pytest.mark.parametrize("mode", BACKENDS)
def test_in_with_a_default_and_theanos_other_arguments(mode):
    # Theano programs pass In(x, value=..., name=..., mutable=..., borrow=...);
    # the default fills a missing argument, the In's name is the keyword
    x, y = T.dscalar("x"), T.dscalar("y")
    f = symnet.function([x, In(y, value=2.0)], x * y, mode=mode)
    assert float(f(3.0)) == 6.0 and float(f(3.0, 5.0)) == 15.0
    assert float(f(3.0, y=4.0)) == 12.0 and float(f(x=1.5)) == 3.0
    g = symnet.function([x, In(y, value=2.0, name="scale", mutable=False, borrow=True)],
                        x * y, mode=mode)
    assert float(g(3.0)) == 6.0 and float(g(3.0, scale=4.0)) == 12.0
    assert float(g(3.0)) == 6.0                     # a keyword value does not stick
    v = T.dvector("v")
    h = symnet.function([In(v, value=np.array([1.0, 2.0]), borrow=True)], v.sum() * 2,
                        mode=mode)
    assert float(h()) == 6.0 and float(h(np.array([4.0]))) == 8.0
