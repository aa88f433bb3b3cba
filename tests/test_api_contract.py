"""The public contract of /work/shared/API.md, paragraph by paragraph.

Each section below tests one paragraph of API.md as a reader of that page
would: every name it lists exists, takes the arguments it names, and
computes what Theano/Lasagne compute (checked against numpy). Compiled
functions use mode='py' except the few tests that check the default mode.
"""
import inspect
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fn(inputs, outputs, **kw):
    kw.setdefault("mode", "py")
    return symnet.function(inputs, outputs, **kw)


def ev(out, inputs=(), *values):
    return fn(list(inputs), out, on_unused_input="ignore")(*values)


# -- Compiler side: config --------------------------------------------------------

def test_config_defaults_and_env():
    code = ("import symnet, symnet.tensor as T;"
            "print(symnet.config.floatX, symnet.config.mode, T.matrix().dtype)")
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("SYMNET_FLOATX", None)
    env.pop("THEANO_FLAGS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["float32", "numba", "float32"]
    env["SYMNET_FLOATX"] = "float64"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["float64", "numba", "float64"]


def test_theano_flags_floatx_after_install():
    code = ("import symnet.compat; symnet.compat.install();"
            "import theano, theano.tensor as T, lasagne;"
            "print(theano.config.floatX, T.fmatrix().dtype, T.matrix().dtype,"
            " lasagne.layers.InputLayer((2, 3)).input_var.dtype,"
            " lasagne.layers.DenseLayer((2, 3), 4).W.dtype)")
    env = dict(os.environ, PYTHONPATH=ROOT, THEANO_FLAGS="floatX=float64,device=cpu")
    env.pop("SYMNET_FLOATX", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["float64", "float32", "float64", "float64", "float64"]


def test_floatx_is_read_at_graph_build_time():
    config.floatX = "float64"
    v, m = T.vector(), T.matrix()
    from symnet import init, layers
    l_in = layers.InputLayer((2, 3))
    W = init.GlorotUniform()((3, 4))
    config.floatX = "float32"
    assert (v.dtype, m.dtype, l_in.input_var.dtype, W.dtype) == ("float64",) * 4
    assert T.vector().dtype == "float32"
    assert (T.bvector() - 0.9).dtype == "float32"
    config.floatX = "float64"
    assert (T.bvector() - 0.9).dtype == "float64"


# -- Compiler side: shared ---------------------------------------------------------

def test_shared_signature_and_values():
    sig = inspect.signature(symnet.shared)
    for name in ("value", "name", "borrow", "broadcastable"):
        assert name in sig.parameters
    assert sig.parameters["name"].default is None
    assert sig.parameters["borrow"].default is False
    a = np.arange(6.0).reshape(2, 3)
    s = symnet.shared(a, name="s")
    assert isinstance(s, symnet.SharedVariable)
    assert s.name == "s" and s.dtype == "float64" and s.type.shape == (2, 3)
    a[0, 0] = 100  # borrow=False copied the value
    assert s.get_value()[0, 0] == 0
    got = s.get_value()
    got[0, 1] = 50  # get_value(borrow=False) returns a copy
    assert s.get_value()[0, 1] == 1
    b = np.ones(3)
    sb = symnet.shared(b, borrow=True)
    assert sb.get_value(borrow=True) is b
    assert sb.get_value() is not b
    s.set_value(np.full((2, 3), 7.0))
    np.testing.assert_array_equal(s.get_value(), np.full((2, 3), 7.0))
    new = np.zeros((2, 3))
    s.set_value(new, borrow=True)
    np.testing.assert_array_equal(s.get_value(), 0)


def test_shared_broadcastable_and_static_shape_false():
    s = symnet.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert s.broadcastable == (True, False)
    d = symnet.shared(np.zeros((2, 3)), name="data", static_shape=False)
    assert d.type.shape == (None, None) and d.broadcastable == (False, False)
    d.set_value(np.ones((5, 4)))
    assert d.get_value().shape == (5, 4)
    x = T.dvector("x")
    f = fn([x], d.sum() + x)
    np.testing.assert_allclose(f(np.zeros(1)), [20.0])


def test_shared_set_value_wrong_shape_raises_naming_variable():
    W = symnet.shared(np.zeros((2, 3)), name="Wparam")
    with pytest.raises(ValueError, match=r"Wparam.*\(2, 3\).*\(3, 3\)") as err:
        W.set_value(np.ones((3, 3)))
    assert "static_shape=False" in str(err.value)
    np.testing.assert_array_equal(W.get_value(), 0)  # nothing mutated
    with pytest.raises(TypeError, match="Wparam"):
        W.set_value(np.ones((2, 3, 1)))


def test_shared_shape_errors_at_build_time_name_both_shapes():
    A = symnet.shared(np.zeros((2, 3)), name="A")
    B = symnet.shared(np.zeros((2, 3)), name="B")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)") as err:
        T.dot(A, B)
    assert "A" in str(err.value) and "B" in str(err.value)
    C = symnet.shared(np.zeros((3, 2)), name="C")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        A + C
    from symnet import layers
    l_in = layers.InputLayer((None, 3))
    w = symnet.shared(np.zeros((4, 5), "float32"), name="wbad")
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(3, 5\)|\(3, 5\).*\(4, 5\)"):
        layers.DenseLayer(l_in, 5, W=w)


# -- Compiler side: function ------------------------------------------------------------

def test_function_signature():
    sig = inspect.signature(symnet.function).parameters
    for name, default in [("outputs", None), ("updates", None), ("givens", None),
                          ("allow_input_downcast", None), ("on_unused_input", "raise"),
                          ("mode", None), ("name", None)]:
        assert sig[name].default == default, name


def test_function_updates_givens_outputs():
    x, y = T.dvectors("x", "y")
    s = symnet.shared(np.array([1.0, 2.0]), name="s")
    f = fn([x], x + s, updates=[(s, s * 2)])
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 3.0])  # uses the old value
    np.testing.assert_array_equal(s.get_value(), [2.0, 4.0])
    f = fn([x], x + s, updates={s: s + x})
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 5.0])
    np.testing.assert_array_equal(s.get_value(), [3.0, 5.0])
    g = fn([y], x * 2, givens={x: y + 1})
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [4.0, 6.0])
    g = fn([y], x * 2, givens=[(x, y + 1)])
    np.testing.assert_array_equal(g(np.array([0.0])), [2.0])
    h = fn([x], [x * 2, x + 1])
    out = h(np.array([1.0, 3.0]))
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[1], [2.0, 4.0])
    h = fn([x], [x * 2])
    assert isinstance(h(np.ones(1)), list)
    u = fn([x], None, updates=[(s, s - x)])
    assert u(np.ones(2)) == []
    np.testing.assert_array_equal(s.get_value(), [2.0, 4.0])
    assert fn([x], x, name="myfn").name == "myfn"
    np.testing.assert_array_equal(fn([x], x * 3)(x=np.ones(1)), [3.0])


def test_function_allow_input_downcast():
    fx = T.fvector("fx")
    f = fn([fx], fx * 2)
    with pytest.raises(TypeError, match="fx"):
        f(np.ones(2))  # float64 data into a float32 input
    out = fn([fx], fx * 2, allow_input_downcast=True)(np.array([1.5, 2.0]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3.0, 4.0])
    assert f([1.0, 2.0]).dtype == np.float32  # Python floats are not "data"


def test_function_on_unused_input():
    x, y = T.dvectors("x", "y")
    with pytest.raises(ValueError, match="y"):
        fn([x, y], x * 2)
    with pytest.warns(UserWarning, match="y"):
        f = fn([x, y], x * 2, on_unused_input="warn")
    np.testing.assert_array_equal(f(np.ones(1), np.ones(3)), [2.0])
    f = fn([x, y], x * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(f(np.ones(1), np.ones(3)), [2.0])


@pytest.mark.parametrize("mode", ["py", "numba", None, "mode_object"])
def test_function_modes(mode):
    x = T.dmatrix("x")
    m = symnet.Mode(linker="py") if mode == "mode_object" else mode
    f = symnet.function([x], T.exp(x).sum(axis=1) * 2, mode=m)
    a = np.arange(6.0).reshape(2, 3) / 6
    np.testing.assert_allclose(f(a), np.exp(a).sum(1) * 2)


def test_function_bad_mode_is_value_error():
    x = T.dvector()
    with pytest.raises(ValueError, match="bogus"):
        symnet.function([x], x, mode="bogus")


# -- Compiler side: grad -------------------------------------------------------------

def test_grad_signature_and_kwargs():
    sig = inspect.signature(symnet.grad).parameters
    for name, default in [("consider_constant", None), ("disconnected_inputs", "raise"),
                          ("known_grads", None), ("return_disconnected", "zero")]:
        assert sig[name].default == default
    a, b = T.dscalars("a", "b")
    c = a ** 2 * b
    ga, gb = symnet.grad(c, [a, b])
    np.testing.assert_allclose(ev([ga, gb], [a, b], 3.0, 2.0), [12.0, 9.0])
    assert isinstance(symnet.grad(c, (a, b)), tuple)
    # consider_constant: a * (a*b) with the inner a*b held constant -> a*b
    inner = a * b
    g = symnet.grad(a * inner, a, consider_constant=[inner])
    assert ev(g, [a, b], 3.0, 2.0) == 6.0
    with pytest.raises(ValueError, match="b"):
        symnet.grad(a ** 2, b)
    g = symnet.grad(a ** 2, b, disconnected_inputs="ignore")
    assert ev(g, [a, b], 3.0, 2.0) == 0.0
    with pytest.warns(UserWarning):
        symnet.grad(a ** 2, b, disconnected_inputs="warn")
    ga, gb = symnet.grad(a ** 2, [a, b], disconnected_inputs="ignore",
                         return_disconnected="None")
    assert gb is None and ev(ga, [a], 3.0) == 6.0
    z = a * 3
    g = symnet.grad(None, a, known_grads={z: T.constant(5.0)})
    assert ev(g, [a], 1.0) == 15.0
    g = symnet.grad(a ** 2, a, known_grads={z: T.constant(5.0)})
    assert ev(g, [a], 1.0) == 17.0
    with pytest.raises(TypeError):
        symnet.grad(T.dvector() * 2, a)  # cost must be a scalar


@pytest.mark.perform_fallback
def test_verify_grad_jacobian_hessian_rop_lop():
    from symnet import gradient
    sig = inspect.signature(gradient.verify_grad).parameters
    assert list(sig)[:4] == ["fun", "pt", "n_tests", "rng"]
    for name in ("eps", "abs_tol", "rel_tol"):
        assert sig[name].default is None
    rng = np.random.RandomState(0)
    gradient.verify_grad(lambda v: (T.tanh(v) ** 2).sum(), [rng.rand(3)], rng=rng)
    gradient.verify_grad(lambda u, v: u * v, [rng.rand(2), rng.rand(2)], n_tests=3,
                         rng=rng, eps=1e-6, abs_tol=1e-4, rel_tol=1e-4)

    class BadGrad(symnet.Op):  # forward x**2, gradient claims 3x
        def make_node(self, x):
            return symnet.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0] ** 2

        def L_op(self, inputs, outputs, grads):
            return [grads[0] * 3 * inputs[0]]

    with pytest.raises(ValueError):
        gradient.verify_grad(lambda v: BadGrad()(v).sum(), [rng.rand(3) + 1], rng=rng)

    x = T.dvector("x")
    xv = np.array([1.0, 2.0, -1.5])
    J = gradient.jacobian(x ** 2, x)  # size known only at run time
    np.testing.assert_allclose(ev(J, [x], xv), np.diag(2 * xv))
    H = gradient.hessian((x ** 3).sum(), x)
    np.testing.assert_allclose(ev(H, [x], xv), np.diag(6 * xv))
    xs = T.dvector("xs", shape=(3,))
    np.testing.assert_allclose(ev(T.jacobian(T.exp(xs), xs), [xs], xv), np.diag(np.exp(xv)))
    W, V = T.dmatrices("W", "V")
    v = T.dvector("v")
    Wv = np.array([[1.0, 2.0], [3.0, 4.0]])
    Vv = np.array([[0.5, -1.0], [2.0, 0.0]])
    xv2 = np.array([1.0, -2.0])
    # d(x.W)/dW applied to V is x.V
    np.testing.assert_allclose(ev(gradient.Rop(T.dot(x, W), W, V), [x, W, V], xv2, Wv, Vv),
                               xv2 @ Vv)
    uv = np.array([3.0, 1.0])
    # u^T d(x.W)/dW = outer(x, u)
    np.testing.assert_allclose(ev(gradient.Lop(T.dot(x, W), W, v), [x, W, v], xv2, Wv, uv),
                               np.outer(xv2, uv))
    assert T.Rop is gradient.Rop and T.Lop is gradient.Lop and symnet.Rop is gradient.Rop
    assert T.jacobian is gradient.jacobian and T.hessian is gradient.hessian


def test_clone_replace():
    x, y = T.dvectors("x", "y")
    out = x * 2 + 1
    new = symnet.clone_replace(out, {x: y})
    np.testing.assert_array_equal(ev(new, [y], np.array([1.0, 2.0])), [3.0, 5.0])
    a, b = symnet.clone_replace([x * 2, x + 1], replace={x: y * 10})
    np.testing.assert_array_equal(ev([a, b], [y], np.array([1.0])), [[20.0], [11.0]])
    # the original graph is unchanged
    np.testing.assert_array_equal(ev(out, [x], np.array([1.0])), [3.0])


def test_printing():
    x = T.dvector("x")
    out = T.exp(x) * 2 + 1
    buf = io.StringIO()
    symnet.printing.debugprint(out, file=buf)
    text = buf.getvalue()
    assert "exp" in text and "x" in text and text.count("\n") >= 3
    f = fn([x], out)
    assert "x" in symnet.printing.debugprint(f, file="str")
    s = symnet.printing.pp(out)
    assert isinstance(s, str) and "exp" in s and "x" in s
    assert symnet.pp(out) == s
    src = symnet.printing.pydotprint(out, return_source=True)
    assert "digraph" in src and "exp" in src


def test_pydotprint_dot_file(tmp_path):
    x = T.dvector("x")
    path = tmp_path / "g.dot"
    symnet.printing.pydotprint(fn([x], T.exp(x)), outfile=str(path))
    assert "digraph" in path.read_text()


# -- symnet.tensor names ---------------------------------------------------------------

@pytest.mark.parametrize("kind,ndim", [("scalar", 0), ("vector", 1), ("matrix", 2),
                                       ("tensor3", 3), ("tensor4", 4)])
def test_typed_constructors(kind, ndim):
    config.floatX = "float32"
    prefixes = {"": "float32", "b": "int8", "i": "int32", "l": "int64",
                "f": "float32", "d": "float64"}
    for p, dtype in prefixes.items():
        v = getattr(T, p + kind)("name_" + p)
        assert v.ndim == ndim and v.dtype == dtype and v.name == "name_" + p
        plural = p + ("matrices" if kind == "matrix" else kind + "s")
        a, b = getattr(T, plural)("a", "b")
        assert a.dtype == dtype and a.ndim == ndim and b.name == "b"
    config.floatX = "float64"
    assert getattr(T, kind)().dtype == "float64"


def test_tensortype():
    tt = T.TensorType("float32", (False, True))
    v = tt("v")
    assert v.broadcastable == (False, True) and v.dtype == "float32" and v.name == "v"
    assert v.type == tt and tt() is not v
    f = fn([v], v * 2)
    np.testing.assert_array_equal(f(np.ones((3, 1), "float32")), np.full((3, 1), 2.0))
    with pytest.raises((TypeError, ValueError)):
        f(np.ones((3, 2), "float32"))


def test_tensor_namespace_is_complete():
    names = """exp log log1p expm1 tanh sqrt sqr abs_ sgn maximum minimum clip pow
    switch eq neq lt le gt ge and_ or_ cast floor ceil round sum mean max min prod
    argmax argmin var std dot tensordot batched_dot outer reshape flatten dimshuffle
    shape_padleft shape_padright concatenate stack join arange zeros ones zeros_like
    ones_like alloc fill tile repeat set_subtensor inc_subtensor softplus""".split()
    assert [n for n in names if not callable(getattr(T, n, None))] == []
    nnet = "sigmoid softmax log_softmax relu softplus elu categorical_crossentropy " \
           "binary_crossentropy conv2d conv2d_transpose"
    assert [n for n in nnet.split() if not callable(getattr(T.nnet, n, None))] == []
    sig = inspect.signature(T.signal.pool.pool_2d).parameters
    assert list(sig)[:6] == ["input", "ws", "ignore_border", "stride", "pad", "mode"]


V = np.array([0.5, -1.5, 2.5, 3.7, -0.2])


@pytest.mark.parametrize("name,ref", [
    ("exp", np.exp), ("log", np.log), ("log1p", np.log1p), ("expm1", np.expm1),
    ("tanh", np.tanh), ("sqrt", np.sqrt), ("sqr", np.square), ("abs_", np.abs),
    ("sgn", np.sign), ("floor", np.floor), ("ceil", np.ceil), ("round", np.round),
    ("softplus", lambda a: np.log1p(np.exp(a)))])
def test_unary_elementwise(name, ref):
    x = T.dvector("x")
    data = np.abs(V) if name in ("log", "sqrt", "log1p") else V
    np.testing.assert_allclose(ev(getattr(T, name)(x), [x], data), ref(data), rtol=1e-12)


def test_binary_and_other_elementwise():
    x, y = T.dvectors("x", "y")
    W = np.array([1.0, 2.0, -3.0, 3.7, 0.0])
    cases = [(T.maximum(x, y), np.maximum(V, W)), (T.minimum(x, y), np.minimum(V, W)),
             (T.clip(x, -1, 1), np.clip(V, -1, 1)), (T.pow(x, 2), V ** 2),
             (T.switch(x > 0, x, y), np.where(V > 0, V, W)),
             (T.eq(x, y), V == W), (T.neq(x, y), V != W), (T.lt(x, y), V < W),
             (T.le(x, y), V <= W), (T.gt(x, y), V > W), (T.ge(x, y), V >= W),
             (T.and_(x > 0, y > 0), (V > 0) & (W > 0)),
             (T.or_(x > 0, y > 0), (V > 0) | (W > 0)),
             (T.cast(x, "int32"), V.astype("int32"))]
    outs = ev([c[0] for c in cases], [x, y], V, W)
    for (_, want), got in zip(cases, outs):
        np.testing.assert_array_equal(got, want)
    assert T.cast(x, "int32").dtype == "int32"
    assert T.cast(x, "floatX").dtype == config.floatX
    h = np.array([0.5, 1.5, 2.5, -0.5, -2.5])
    np.testing.assert_array_equal(ev(T.round(x), [x], h), np.round(h))
    np.testing.assert_array_equal(ev(T.round(x, mode="half_away_from_zero"), [x], h),
                                  [1.0, 2.0, 3.0, -1.0, -3.0])


A = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])


@pytest.mark.parametrize("name", "sum mean max min prod argmax argmin var std".split())
@pytest.mark.parametrize("kw", [{}, {"axis": 0}, {"axis": 1}, {"axis": -1},
                                {"axis": (0, 1)}, {"axis": 0, "keepdims": True},
                                {"axis": None, "keepdims": True}])
def test_reductions(name, kw):
    if name.startswith("arg") and isinstance(kw.get("axis"), tuple):
        return  # numpy's argmax takes one axis only
    x = T.dmatrix("x")
    want = getattr(np, name)(A, **kw)
    f_out, m_out = ev([getattr(T, name)(x, **kw), getattr(x, name)(**kw)], [x], A)
    for got in (f_out, m_out):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want)
    assert getattr(T, name)(x, **kw).ndim == np.ndim(want)


def test_linear_algebra():
    x, y = T.dmatrices("x", "y")
    B = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(ev(T.dot(x, y), [x, y], A, B), A @ B)
    np.testing.assert_allclose(ev(T.tensordot(x, y, axes=1), [x, y], A, B), A @ B)
    C = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(ev(T.tensordot(x, y, axes=[[0], [0]]), [x, y], A, C),
                               np.tensordot(A, C, axes=[[0], [0]]))
    a3, b3 = T.dtensor3("a3"), T.dtensor3("b3")
    P, Q = np.random.RandomState(0).rand(4, 2, 3), np.random.RandomState(1).rand(4, 3, 5)
    np.testing.assert_allclose(ev(T.batched_dot(a3, b3), [a3, b3], P, Q), P @ Q)
    u, v = T.dvectors("u", "v")
    np.testing.assert_allclose(ev(T.outer(u, v), [u, v], V, V[:2]), np.outer(V, V[:2]))


def test_shape_functions():
    x = T.dmatrix("x")
    v = T.dvector("v")
    n = T.lscalar("n")
    outs = ev([T.reshape(x, (3, 2)), T.flatten(x), T.flatten(T.shape_padleft(x), 2),
               x.dimshuffle(1, "x", 0), x.T, T.shape_padleft(x).shape,
               T.shape_padright(x, 2).shape, T.concatenate([x, x], axis=1),
               T.stack([v, v]), T.stack([v, v], axis=1), T.join(0, x, x),
               T.arange(n), T.arange(1, n, 2), T.zeros((2, 3)), T.ones((2,)),
               T.zeros_like(x), T.ones_like(x), T.alloc(2.0, 2, 3), T.fill(x, 5.0),
               T.tile(v, (2,)), T.repeat(v, 2), T.repeat(x, 2, axis=0)],
              [x, v, n], A, V, 6)
    want = [A.reshape(3, 2), A.ravel(), A.reshape(1, 6), A.T[:, None, :], A.T,
            [1, 2, 3], [2, 3, 1, 1], np.concatenate([A, A], 1), np.stack([V, V]),
            np.stack([V, V], 1), np.concatenate([A, A]), np.arange(6),
            np.arange(1, 6, 2), np.zeros((2, 3)), np.ones(2), np.zeros_like(A),
            np.ones_like(A), np.full((2, 3), 2.0), np.full_like(A, 5.0), np.tile(V, 2),
            np.repeat(V, 2), np.repeat(A, 2, axis=0)]
    for i, (got, exp) in enumerate(zip(outs, want)):
        assert np.shape(got) == np.shape(exp), i
        np.testing.assert_allclose(got, exp, err_msg=str(i))
    assert T.zeros((2, 3)).dtype == config.floatX


def test_indexing():
    x = T.dmatrix("x")
    k = T.lvector("k")
    f = fn([x, k], [x[0], x[:, ::-1], x[1:, None, 0], x[..., 1], x[k], x[k, k],
                    x[x > 0], x[-1, -2:]])
    kv = np.array([1, 0, 1])
    got = f(A, kv)
    want = [A[0], A[:, ::-1], A[1:, None, 0], A[..., 1], A[kv], A[kv, kv], A[A > 0],
            A[-1, -2:]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    f = fn([x, k], [T.set_subtensor(x[0], 9.0), T.inc_subtensor(x[:, 1], 1.0),
                    T.inc_subtensor(x[k], 1.0), T.set_subtensor(x[x > 0], 0.0)])
    got = f(A, np.array([0, 0]))
    w0, w1, w2, w3 = A.copy(), A.copy(), A.copy(), A.copy()
    w0[0] = 9.0
    w1[:, 1] += 1
    np.add.at(w2, [0, 0], 1.0)  # repeated indices accumulate
    w3[A > 0] = 0.0
    for g, w in zip(got, [w0, w1, w2, w3]):
        np.testing.assert_array_equal(g, w)


# -- T.nnet and pooling --------------------------------------------------------------

def _softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_nnet_functions():
    x, y = T.dmatrices("x", "y")
    t = T.lvector("t")
    nn = T.nnet
    P = _softmax(A)
    tv = np.array([0, 2])
    S = 1 / (1 + np.exp(-A))
    Tb = (A > 0).astype(float)
    outs = ev([nn.sigmoid(x), nn.softmax(x), nn.log_softmax(x), nn.relu(x),
               nn.relu(x, 0.1), nn.softplus(x), nn.elu(x), nn.elu(x, 0.5)], [x], A)
    want = [S, P, np.log(P), np.maximum(A, 0), np.where(A > 0, A, 0.1 * A),
            np.log1p(np.exp(A)), np.where(A > 0, A, np.expm1(A)),
            np.where(A > 0, A, 0.5 * np.expm1(A))]
    for g, w in zip(outs, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    np.testing.assert_allclose(ev(nn.categorical_crossentropy(x, t), [x, t], P, tv),
                               -np.log(P[[0, 1], tv]))
    np.testing.assert_allclose(ev(nn.categorical_crossentropy(x, y), [x, y], P,
                                  np.eye(3)[tv]), -np.log(P[[0, 1], tv]))
    np.testing.assert_allclose(ev(nn.binary_crossentropy(x, y), [x, y], S, Tb),
                               -(Tb * np.log(S) + (1 - Tb) * np.log(1 - S)))


def _conv_ref(X, W):
    """Theano's conv2d ('valid', filters flipped)."""
    W = W[:, :, ::-1, ::-1]
    H, Wd = X.shape[2] - W.shape[2] + 1, X.shape[3] - W.shape[3] + 1
    out = np.zeros((X.shape[0], W.shape[0], H, Wd))
    for i in range(H):
        for j in range(Wd):
            out[:, :, i, j] = np.einsum("bchw,ochw->bo",
                                        X[:, :, i:i + W.shape[2], j:j + W.shape[3]], W)
    return out


def test_conv2d_and_transpose():
    x, w, y = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("y")
    X = np.random.RandomState(0).randn(2, 3, 5, 5)
    Wv = np.random.RandomState(1).randn(4, 3, 3, 3)
    np.testing.assert_allclose(ev(T.nnet.conv2d(x, w), [x, w], X, Wv), _conv_ref(X, Wv),
                               rtol=1e-10)
    np.testing.assert_allclose(ev(T.nnet.conv2d(x, w, subsample=(2, 2)), [x, w], X, Wv),
                               _conv_ref(X, Wv)[:, :, ::2, ::2], rtol=1e-10)
    Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_allclose(ev(T.nnet.conv2d(x, w, border_mode="half"), [x, w], X, Wv),
                               _conv_ref(Xp, Wv), rtol=1e-10)
    Y = np.random.RandomState(2).randn(2, 4, 3, 3)
    # conv2d_transpose is the gradient of conv2d with respect to its input
    tr = ev(T.nnet.conv2d_transpose(y, w, output_shape=(2, 3, 5, 5)), [y, w], Y, Wv)
    g = ev(symnet.grad((T.nnet.conv2d(x, w) * y).sum(), x), [x, w, y], X, Wv, Y)
    np.testing.assert_allclose(tr, g, rtol=1e-10)


def test_pool_2d_modes():
    pool = T.signal.pool
    x = T.dtensor4("x")
    X = np.random.RandomState(3).randn(1, 2, 5, 5)
    blocks = X[:, :, :4, :4].reshape(1, 2, 2, 2, 2, 2)
    got = ev([pool.pool_2d(x, (2, 2), True, None, (0, 0), "max"),
              pool.pool_2d(x, ws=(2, 2), ignore_border=True, mode="sum"),
              pool.pool_2d(x, ws=(2, 2), ignore_border=True, mode="average_inc_pad"),
              pool.pool_2d(x, ws=(2, 2), ignore_border=False),
              pool.pool_2d(x, ws=(3, 3), stride=(1, 1), ignore_border=True)], [x], X)
    np.testing.assert_allclose(got[0], blocks.max((3, 5)))
    np.testing.assert_allclose(got[1], blocks.sum((3, 5)))
    np.testing.assert_allclose(got[2], blocks.mean((3, 5)))
    assert got[3].shape == (1, 2, 3, 3)
    np.testing.assert_allclose(got[3][..., 2, 2], X[..., 4, 4])
    assert got[4].shape == (1, 2, 3, 3)
    np.testing.assert_allclose(got[4][..., 1, 1], X[..., 1:4, 1:4].max((2, 3)))
    inc, exc = ev([pool.pool_2d(x, ws=(2, 2), ignore_border=True, pad=(1, 1),
                                mode="average_inc_pad"),
                   pool.pool_2d(x, ws=(2, 2), ignore_border=True, pad=(1, 1),
                                mode="average_exc_pad")], [x], X)
    np.testing.assert_allclose(inc[..., 0, 0], X[..., 0, 0] / 4)  # padding counted
    np.testing.assert_allclose(exc[..., 0, 0], X[..., 0, 0])      # padding excluded
    np.testing.assert_allclose(exc[..., 1, 1], X[..., 1:3, 1:3].mean((2, 3)))


# -- random streams --------------------------------------------------------------------

def test_random_streams():
    from symnet.sandbox.rng_mrg import MRG_RandomStreams
    from symnet.tensor.shared_randomstreams import RandomStreams
    for cls in (RandomStreams, MRG_RandomStreams):
        srng = cls(42)
        u = srng.uniform((200,), low=2, high=3)
        n = srng.normal((2000,), avg=1, std=2)
        b = srng.binomial((2000,), p=0.3)
        f = fn([], [u, n, b])
        u1, n1, b1 = f()
        u2 = f()[0]
        assert u1.dtype == config.floatX and n1.dtype == config.floatX
        assert 2 <= u1.min() and u1.max() < 3
        assert not np.array_equal(u1, u2)  # draws advance through the updates
        assert abs(n1.mean() - 1) < 0.2 and abs(n1.std() - 2) < 0.2
        assert set(np.unique(b1)) <= {0, 1} and abs(b1.mean() - 0.3) < 0.05
        again = fn([], cls(42).uniform((200,), low=2, high=3))()
        np.testing.assert_array_equal(again, u1)  # same seed, same draws
        x = T.dmatrix()
        assert fn([x], srng.uniform(x.shape))(A).shape == A.shape


# -- dtype paragraph -----------------------------------------------------------------

def test_dtype_rules():
    config.floatX = "float32"
    assert (T.fmatrix() * 2.0).dtype == "float32"
    assert (T.bvector() - 0.9).dtype == "float32"
    assert T.constant(1).dtype == "int8"
    assert T.constant(300).dtype == "int16"
    assert (T.fvector() * np.float64(2.0)).dtype == "float64"
    assert (T.bvector() * np.ones(3, dtype="float32")).dtype == "float32"
    assert (T.ivector() + T.fvector()).dtype == "float64"
    assert (T.ivector() + 1).dtype == "int32"
    assert (T.ivector() / 2).dtype == "float32"
    x = T.fmatrix()
    assert ev(x * 2.0, [x], np.ones((1, 1), "float32")).dtype == np.float32


# -- Variable operators, methods, attributes ---------------------------------------

def test_variable_operators():
    import operator as op
    x, y = T.dmatrices("x", "y")
    B = np.array([[2.0, 3.0, 1.0], [-1.0, 5.0, 2.0]])
    ops = [op.add, op.sub, op.mul, op.truediv, op.floordiv, op.mod, op.pow, op.lt,
           op.le, op.gt, op.ge]
    got = ev([f(x, y) for f in ops] + [f(2.0, x) for f in ops[:7]] + [-x, abs(x)],
             [x, y], A, B)
    want = [f(A, B) for f in ops] + [f(2.0, A) for f in ops[:7]] + [-A, abs(A)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, equal_nan=True)
    np.testing.assert_allclose(ev(x @ y.T, [x, y], A, B), A @ B.T)
    i, j = T.imatrices("i", "j")
    I = np.array([[1, 2], [3, 4]], "int32")
    J = np.array([[3, 1], [2, 7]], "int32")
    for g, w in zip(ev([~i, i & j, i | j], [i, j], I, J), [~I, I & J, I | J]):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(ev(~(x > 0) | (y > 0), [x, y], A, B), ~(A > 0) | (B > 0))
    # == is Python identity (usable in dicts and sets); T.eq compares elements
    assert (x == x) is True and (x == y) is False and len({x, y, x}) == 2
    np.testing.assert_array_equal(ev(T.eq(x, y), [x, y], A, A), np.ones_like(A, bool))


def test_variable_methods_and_attributes():
    x, y = T.dmatrices("x", "y")
    B = np.arange(6.0).reshape(3, 2)
    got = ev([x.dot(y), x.reshape((3, 2)), x.reshape((-1,)), x.flatten(),
              x.dimshuffle(1, 0), x.dimshuffle((1, "x", 0)).shape, x.astype("int32"),
              x.clip(0, 2), x.sum(axis=0), x.mean(), x.max(axis=1, keepdims=True),
              x.min(), x.prod(axis=1), x.argmax(axis=1), x.var(axis=0), x.std(),
              x.T, x.shape, x.shape[1]], [x, y], A, B)
    want = [A @ B, A.reshape(3, 2), A.ravel(), A.ravel(), A.T, [3, 1, 2],
            A.astype("int32"), A.clip(0, 2), A.sum(0), A.mean(), A.max(1, keepdims=True),
            A.min(), A.prod(1), A.argmax(1), A.var(0), A.std(), A.T, [2, 3], 3]
    for k, (g, w) in enumerate(zip(got, want)):
        assert np.shape(g) == np.shape(w), k
        np.testing.assert_allclose(g, w, err_msg=str(k))
    assert x.astype("float32").dtype == "float32"
    assert x.ndim == 2 and x.dtype == "float64" and x.broadcastable == (False, False)
    assert x.type == T.dmatrix().type and x.name == "x" and x.owner is None
    z = x + y
    assert z.owner is not None and z.owner.inputs == [x, y]
    assert x.T.ndim == 2 and T.dvector().T.ndim == 1


# -- Network side ----------------------------------------------------------------------

def test_network_names_and_signatures():
    from symnet import layers, init, nonlinearities
    names = ["get_output", "get_output_shape", "get_all_layers", "get_all_params",
             "count_params", "get_all_param_values", "set_all_param_values"]
    assert [n for n in names if not callable(getattr(layers, n, None))] == []
    for mod in ("layers", "init", "nonlinearities", "objectives", "updates",
                "regularization", "utils", "random"):
        __import__("symnet." + mod)
    sig = inspect.signature(layers.DenseLayer.__init__).parameters
    assert list(sig)[1:7] == ["incoming", "num_units", "W", "b", "nonlinearity",
                              "num_leading_axes"]
    assert isinstance(sig["W"].default, init.GlorotUniform)
    assert isinstance(sig["b"].default, init.Constant) and sig["b"].default.val == 0.0
    assert sig["nonlinearity"].default is nonlinearities.rectify
    assert sig["num_leading_axes"].default == 1
    sig = inspect.signature(layers.get_all_params).parameters
    assert sig["unwrap_shared"].default is True


def test_parameter_spec_forms_and_tags():
    from symnet import layers
    l_in = layers.InputLayer((None, 4))
    W = symnet.shared(np.ones((4, 3), "float32"), name="W0")
    assert layers.DenseLayer(l_in, 3, W=W).W is W
    arr = np.arange(12, dtype="float32").reshape(4, 3)
    l = layers.DenseLayer(l_in, 3, W=arr)
    np.testing.assert_array_equal(l.W.get_value(), arr)
    arr[0, 0] = 99
    assert l.W.get_value()[0, 0] == 0  # copied
    l = layers.DenseLayer(l_in, 3, W=lambda shape: np.full(shape, 0.5, "float32"))
    np.testing.assert_array_equal(l.W.get_value(), np.full((4, 3), 0.5))
    l = layers.DenseLayer(l_in, 3, b=None)
    assert l.b is None and l.get_params() == [l.W]
    w1 = symnet.shared(np.ones((4, 2), "float32"), name="w1")
    w2 = symnet.shared(np.ones((2, 3), "float32"), name="w2")
    l = layers.DenseLayer(l_in, 3, W=T.dot(w1, w2))
    assert l.get_params() == [w1, w2, l.b]
    assert l.get_params(regularizable=True) == [w1, w2]
    assert l.get_params(trainable=True) == [w1, w2, l.b]
    assert layers.get_all_params(l, regularizable=False) == [l.b]
    x = np.ones((1, 4), "float32")
    out = fn([l_in.input_var], layers.get_output(l))(x)
    np.testing.assert_allclose(out, x @ (np.ones((4, 2)) @ np.ones((2, 3))))
    l2 = layers.DenseLayer(l, 4, W=l.W.T if hasattr(l.W, "T") else None)
    assert l2.get_params() == [w1, w2, l2.b]
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 5\)"):
        layers.DenseLayer(l_in, 5, W=T.dot(w1, w2))


def test_get_output_variants_and_param_values():
    from symnet import layers, nonlinearities
    l_in = layers.InputLayer((None, 4))
    l1 = layers.DenseLayer(l_in, 3)
    l2 = layers.DenseLayer(l1, 2, nonlinearity=nonlinearities.softmax)
    data = np.random.RandomState(0).rand(5, 4).astype("float32")

    def ref(d):
        h = np.maximum(d @ l1.W.get_value() + l1.b.get_value(), 0)
        return _softmax(h @ l2.W.get_value() + l2.b.get_value())

    f = fn([l_in.input_var], layers.get_output(l2))
    np.testing.assert_allclose(f(data), ref(data), rtol=1e-5)
    x = T.matrix("x")
    np.testing.assert_allclose(fn([x], layers.get_output(l2, x))(data), ref(data), rtol=1e-5)
    np.testing.assert_allclose(fn([x], layers.get_output(l2, {l_in: x}))(data), ref(data),
                               rtol=1e-5)
    np.testing.assert_allclose(fn([], layers.get_output(l2, data))(), ref(data), rtol=1e-5)
    h, o = layers.get_output([l1, l2], x, deterministic=True)
    ho = fn([x], [h, o])(data)
    np.testing.assert_allclose(ho[1], ref(data), rtol=1e-5)
    assert layers.get_output_shape(l2) == (None, 2)
    assert layers.get_output_shape(l2, (7, 4)) == (7, 2)
    assert layers.get_output_shape([l1, l2], {l_in: (6, 4)}) == [(6, 3), (6, 2)]
    assert layers.get_all_layers(l2) == [l_in, l1, l2]
    assert layers.get_all_params(l2) == [l1.W, l1.b, l2.W, l2.b]
    assert layers.count_params(l2) == 4 * 3 + 3 + 3 * 2 + 2
    assert layers.count_params(l2, regularizable=True) == 4 * 3 + 3 * 2
    vals = layers.get_all_param_values(l2)
    assert [v.shape for v in vals] == [(4, 3), (3,), (3, 2), (2,)]
    assert [v.shape for v in layers.get_all_param_values(l2, trainable=True,
                                                         regularizable=True)] == \
        [(4, 3), (3, 2)]
    new = [np.full_like(v, k + 1) for k, v in enumerate(vals)]
    layers.set_all_param_values(l2, new)
    np.testing.assert_array_equal(l2.W.get_value(), np.full((3, 2), 3.0))
    bad = [v.copy() for v in new]
    bad[-1] = np.ones(5, "float32")
    with pytest.raises(ValueError):
        layers.set_all_param_values(l2, bad)
    np.testing.assert_array_equal(l1.W.get_value(), new[0])  # nothing mutated
    with pytest.raises(ValueError):
        layers.set_all_param_values(l2, new[:2])


# -- Compatibility shim ----------------------------------------------------------------

@pytest.fixture
def shim():
    import symnet.compat
    symnet.compat.install()
    yield symnet.compat
    symnet.compat.uninstall()


def test_compat_modules(shim):
    import importlib
    pairs = {"theano": "symnet", "theano.tensor": "symnet.tensor",
             "theano.tensor.nnet": "symnet.tensor.nnet",
             "theano.tensor.signal.pool": "symnet.tensor.signal.pool",
             "theano.sandbox.rng_mrg": "symnet.sandbox.rng_mrg",
             "theano.gradient": "symnet.gradient", "theano.printing": "symnet.printing",
             "theano.tensor.shared_randomstreams": "symnet.tensor.shared_randomstreams",
             "lasagne": "symnet", "lasagne.layers": "symnet.layers",
             "lasagne.init": "symnet.init", "lasagne.nonlinearities": "symnet.nonlinearities",
             "lasagne.objectives": "symnet.objectives", "lasagne.updates": "symnet.updates",
             "lasagne.regularization": "symnet.regularization",
             "lasagne.utils": "symnet.utils", "lasagne.random": "symnet.random"}
    for alias, target in pairs.items():
        assert importlib.import_module(alias) is importlib.import_module(target), alias
    import theano
    import theano.tensor as TT
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano.tensor.var import TensorVariable
    import theano.tensor.var  # noqa: F401
    assert isinstance(TT.matrix(), TensorVariable)
    assert callable(TT.var) and TT.var is T.var  # the module did not hide T.var
    x = TT.vector("x")
    f = theano.function([x], theano.grad((x ** 2).sum(), x), mode="py")
    np.testing.assert_allclose(f(np.array([1.0, 2.0], theano.config.floatX)), [2.0, 4.0])
    assert callable(MRG_RandomStreams(1).uniform)


def test_compat_lasagne_false():
    import importlib
    import symnet.compat
    symnet.compat.install(theano=True, lasagne=False)
    try:
        assert importlib.import_module("theano.tensor") is T
        with pytest.raises(ImportError):
            importlib.import_module("lasagne")
    finally:
        symnet.compat.uninstall()


# -- Errors paragraph ----------------------------------------------------------------------

def test_build_errors_type_vs_value():
    with pytest.raises(TypeError):
        symnet.grad(T.dvector() * 2, T.dvector())
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="x"):
        fn([x], x * 2)(np.ones(3))  # wrong ndim
    R = symnet.shared(np.ones((2, 3)), name="R")
    with pytest.raises(ValueError, match=r"R.*\(2, 3\).*\(5,\)"):
        R.reshape((5,))
    from symnet import layers
    with pytest.raises(ValueError, match="DenseLayer"):
        layers.DenseLayer(layers.InputLayer((None, 4)), 3, W=np.ones((5, 3), "float32"))


@pytest.mark.parametrize("mode", ["py", None])
def test_runtime_error_names_node_and_user_line(mode):
    x, y = T.dmatrices("lhs", "rhs")
    out = T.dot(x, y)  # THIS LINE BUILT THE DOT
    line = inspect.currentframe().f_lineno - 1
    f = symnet.function([x, y], out, mode=mode)
    with pytest.raises(ValueError) as err:
        f(np.ones((2, 3)), np.ones((2, 3)))
    msg = str(err.value)
    assert "Dot" in msg and "lhs" in msg and "rhs" in msg
    assert f"{os.path.basename(__file__)}:{line}" in msg


def test_nothing_mutated_when_a_call_raises():
    acc = symnet.shared(np.zeros(3), name="acc")
    other = symnet.shared(np.zeros(3), name="other")
    v = T.dvector("v")
    f = fn([v], v.sum(), updates=[(other, other + 1), (acc, acc + v)])
    with pytest.raises(ValueError):
        f(np.ones(4))
    np.testing.assert_array_equal(acc.get_value(), 0)
    np.testing.assert_array_equal(other.get_value(), 0)
    f(np.ones(3))
    np.testing.assert_array_equal(acc.get_value(), 1)
    np.testing.assert_array_equal(other.get_value(), 1)


# -- Network side: Lasagne's public names --------------------------------------------

LASAGNE_NAMES = {
    "layers": """Layer MergeLayer InputLayer DenseLayer NINLayer Conv1DLayer Conv2DLayer
        Conv3DLayer TransposedConv2DLayer Deconv2DLayer DilatedConv2DLayer
        TransposedConv3DLayer Deconv3DLayer MaxPool1DLayer MaxPool2DLayer
        MaxPool3DLayer Pool1DLayer Pool2DLayer Pool3DLayer Upscale1DLayer Upscale2DLayer
        Upscale3DLayer GlobalPoolLayer FeaturePoolLayer FeatureWTALayer
        SpatialPyramidPoolingLayer CustomRecurrentLayer RecurrentLayer LSTMLayer GRULayer
        Gate DropoutLayer dropout dropout_channels spatial_dropout dropout_locations
        GaussianNoiseLayer ReshapeLayer reshape FlattenLayer flatten DimshuffleLayer
        dimshuffle PadLayer pad SliceLayer ConcatLayer concat ElemwiseMergeLayer
        ElemwiseSumLayer EmbeddingLayer NonlinearityLayer BiasLayer ScaleLayer standardize
        ExpressionLayer InverseLayer TransformerLayer ParametricRectifierLayer prelu
        RandomizedRectifierLayer rrelu LocalResponseNormalization2DLayer BatchNormLayer
        batch_norm StandardizationLayer instance_norm layer_norm get_output
        get_output_shape get_all_layers get_all_params count_params get_all_param_values
        set_all_param_values""",
    "nonlinearities": """sigmoid softmax tanh ScaledTanH ScaledTanh rectify LeakyRectify
        leaky_rectify very_leaky_rectify elu SELU selu softplus linear identity""",
    "objectives": """binary_crossentropy categorical_crossentropy squared_error
        binary_hinge_loss multiclass_hinge_loss huber_loss binary_accuracy
        categorical_accuracy aggregate""",
    "updates": """sgd momentum nesterov_momentum adagrad rmsprop adadelta adam adamax
        amsgrad apply_momentum apply_nesterov_momentum norm_constraint
        total_norm_constraint get_or_compute_grads""",
    "regularization": """apply_penalty regularize_layer_params
        regularize_layer_params_weighted regularize_network_params l1 l2""",
    "utils": """floatX shared_empty as_theano_expression collect_shared_vars one_hot
        unique as_tuple compute_norms create_param unroll_scan""",
    "random": "get_rng set_rng",
    "init": """Initializer Constant Normal Uniform Glorot GlorotNormal GlorotUniform He
        HeNormal HeUniform Orthogonal Sparse""",
}


@pytest.mark.parametrize("module", sorted(LASAGNE_NAMES))
def test_lasagne_public_names(module):
    import importlib
    mod = importlib.import_module("symnet." + module)
    missing = [n for n in LASAGNE_NAMES[module].split() if not hasattr(mod, n)]
    assert missing == []


def test_huber_loss_values():
    from symnet.objectives import huber_loss
    p, t = T.dvectors("p", "t")
    pv, tv = np.array([0.5, -2.0, 3.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.5])
    d = np.abs(tv - pv)
    want = np.where(d <= 1, 0.5 * d ** 2, d - 0.5)
    np.testing.assert_allclose(ev(huber_loss(p, t), [p, t], pv, tv), want)
    want2 = np.where(d <= 2, 0.5 * d ** 2, 2 * (d - 1))
    np.testing.assert_allclose(ev(huber_loss(p, t, delta=2), [p, t], pv, tv), want2)


def test_standardization_instance_and_layer_norm():
    from symnet import layers
    l_in = layers.InputLayer((None, 2, 3, 3))
    X = np.random.RandomState(0).rand(2, 2, 3, 3).astype("float32")
    s = layers.StandardizationLayer(l_in)  # axes='auto': per example and channel
    f = layers.StandardizationLayer(l_in, axes="features", epsilon=0.0)
    got_s, got_f = fn([l_in.input_var], [layers.get_output(s), layers.get_output(f)])(X)
    ref_s = (X - X.mean((2, 3), keepdims=True)) / np.sqrt(X.var((2, 3), keepdims=True) + 1e-4)
    ref_f = (X - X.mean((1, 2, 3), keepdims=True)) / X.std((1, 2, 3), keepdims=True)
    np.testing.assert_allclose(got_s, ref_s, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_f, ref_f, rtol=1e-4, atol=1e-5)
    conv = layers.Conv2DLayer(l_in, 4, 2, name="c")
    top = layers.instance_norm(conv)
    assert isinstance(top, layers.NonlinearityLayer) and conv.b is None
    assert [(p.name, p.get_value().shape) for p in layers.get_all_params(top)] == \
        [("c.W", (4, 2, 2, 2)), ("c_in_scale.scales", (4,)), ("c_in_bias.b", (4,))]
    dense = layers.DenseLayer(layers.InputLayer((None, 5)), 3)
    top = layers.layer_norm(dense)
    assert [p.get_value().shape for p in layers.get_all_params(top)] == \
        [(5, 3), (3,), (3,)]


def test_transposed_conv3d_is_the_adjoint_of_conv3d():
    from symnet import layers
    from symnet.layers.conv import conv3d
    l_in = layers.InputLayer((2, 3, 3, 4, 3))
    l = layers.TransposedConv3DLayer(l_in, 2, 3, stride=2, crop=1, nonlinearity=None,
                                     b=None)
    assert layers.Deconv3DLayer is layers.TransposedConv3DLayer
    assert l.W.get_value().shape == (3, 2, 3, 3, 3)
    assert l.output_shape == (2, 2, 5, 7, 5)
    rng = np.random.RandomState(0)
    Y = rng.rand(2, 3, 3, 4, 3).astype("float32")
    out = fn([l_in.input_var], layers.get_output(l))(Y)
    assert out.shape == l.output_shape
    Z = rng.rand(*out.shape).astype("float32")
    z = T.TensorType("float32", (False,) * 5)("z")
    fwd = fn([z], conv3d(z, l.W, border_mode=1, subsample=(2, 2, 2), filter_flip=True))(Z)
    # <conv(Z), Y> == <Z, conv^T(Y)>
    np.testing.assert_allclose((fwd * Y).sum(), (Z * out).sum(), rtol=1e-4)


def test_unroll_scan_matches_a_loop():
    from symnet.utils import unroll_scan
    x = T.dmatrix("x")
    w = T.dscalar("w")
    h0 = T.dvector("h0")
    outs = unroll_scan(lambda xt, h, w_: T.tanh(xt + w_ * h), [x], [h0], [w], 3)
    X = np.random.RandomState(1).rand(3, 2)
    got = ev(outs[0], [x, h0, w], X, np.zeros(2), 0.5)
    h, want = np.zeros(2), []
    for t in range(3):
        h = np.tanh(X[t] + 0.5 * h)
        want.append(h)
    np.testing.assert_allclose(got, want)
    back = unroll_scan(lambda xt, h: h + xt, [x], [h0], [], 3, go_backwards=True)
    np.testing.assert_allclose(ev(back[0], [x, h0], X, np.zeros(2)), np.cumsum(X[::-1], 0))


def test_param_spec_errors_are_both_type_and_value_errors():
    # API.md: TypeError for wrong types/ndims; Lasagne raised ValueError there
    from symnet import layers
    l_in = layers.InputLayer((None, 4))
    for bad in (T.vector(), "not a spec", lambda shape: "bad"):
        for cls in (TypeError, ValueError):
            with pytest.raises(cls, match="W"):
                layers.DenseLayer(l_in, 3, W=bad)


def _transform_ref(img, theta, out_hw, border):
    """numpy spatial transformer (affine, bilinear) for one-example checks."""
    b, c, h, w = img.shape
    oh, ow = out_hw
    xs = np.linspace(-1, 1, ow)
    ys = np.linspace(-1, 1, oh)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel(), np.ones(oh * ow)])
    out = np.zeros((b, c, oh, ow))

    def idx(v, size):
        if border == "nearest":
            return np.clip(v, 0, size - 1)
        if border == "wrap":
            return np.mod(v, size)
        period = max(2 * (size - 1), 1)
        v = np.mod(v, period)
        return np.clip(np.where(v > size - 1, period - v, v), 0, size - 1)

    for k in range(b):
        src = theta[k].reshape(2, 3) @ grid
        x = (src[0] + 1) / 2 * (w - 1)
        y = (src[1] + 1) / 2 * (h - 1)
        x0, y0 = np.floor(x), np.floor(y)
        vals = 0
        for yy, xx, wt in ((y0, x0, (x0 + 1 - x) * (y0 + 1 - y)),
                           (y0 + 1, x0, (x0 + 1 - x) * (y - y0)),
                           (y0, x0 + 1, (x - x0) * (y0 + 1 - y)),
                           (y0 + 1, x0 + 1, (x - x0) * (y - y0))):
            vals = vals + wt * img[k][:, idx(yy, h).astype(int), idx(xx, w).astype(int)]
        out[k] = vals.reshape(c, oh, ow)
    return out


@pytest.mark.parametrize("border", ["nearest", "mirror", "wrap"])
def test_transformer_layer_matches_numpy(border):
    from symnet import layers
    l_in = layers.InputLayer((None, 2, 5, 6))
    theta_in = layers.InputLayer((None, 6))
    l_t = layers.TransformerLayer(l_in, theta_in, downsample_factor=(1, 2),
                                  border_mode=border)
    assert l_t.output_shape == (None, 2, 5, 3)
    rng = np.random.RandomState(0)
    img = rng.rand(3, 2, 5, 6).astype("float32")
    theta = (np.array([1, 0, 0, 0, 1, 0]) + rng.uniform(-0.6, 0.6, (3, 6))).astype("float32")
    out = layers.get_output(l_t)
    got = fn([l_in.input_var, theta_in.input_var], out)(img, theta)
    np.testing.assert_allclose(got, _transform_ref(img, theta, (5, 3), border),
                               rtol=1e-4, atol=1e-5)
    g = fn([l_in.input_var, theta_in.input_var],
           symnet.grad(out.sum(), theta_in.input_var))(img, theta)
    assert g.shape == (3, 6) and np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="6"):
        layers.TransformerLayer(l_in, layers.InputLayer((None, 5)))


def test_grad_has_the_type_of_its_shared_variable():
    x = T.matrix("x")  # batch size unknown
    W = symnet.shared(np.ones((4, 3), config.floatX), name="W")
    b = symnet.shared(np.zeros(3, config.floatX), name="b")
    gW, gb = symnet.grad(T.tanh(T.dot(x, W) + b).sum(), [W, b])
    assert gW.type == W.type and gb.type == b.type
    xv = np.random.RandomState(0).rand(5, 4).astype(config.floatX)
    got = fn([x], gW)(xv)
    want = xv.T @ (1 - np.tanh(xv @ np.ones((4, 3))) ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_more_theano_variable_methods():
    x = T.dmatrix("x")
    k = T.lvector("k")
    M = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0], [0.5, 2.0, 1.0]])
    outs = fn([x, k], [x.cumprod(axis=1), x.swapaxes(0, 1), x.take(k, axis=1), x.fill(3.0),
                       x.diagonal(), x.trace(), x.ptp(axis=0), x.round("half_away_from_zero"),
                       x.conj(), x.real, x.imag])(M, np.array([2, 0]))
    want = [M.cumprod(1), M.T, M[:, [2, 0]], np.full_like(M, 3), np.diag(M), np.trace(M),
            np.ptp(M, 0), np.sign(M) * np.floor(np.abs(M) + 0.5), M, M, 0 * M]
    for g, w in zip(outs, want):
        np.testing.assert_allclose(g, w)
    y = T.dmatrix("y")
    with pytest.raises(TypeError):
        bool(x < y)  # a < b < c is not supported
    assert bool(x)
