"""nnet ops against numpy: softmax, log_softmax, the crossentropies (plain
and fused with softmax), activations; gradients to second order, stability
for large logits, and build-time errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.tensor.ops import nnet as N
from tests.oracles import check_op, rand

MODES = ["py", Mode("py", optimizer=None)]


def np_softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(a, axis=-1):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def labels(n, k, seed=0):
    return np.random.default_rng(seed).integers(0, k, size=n).astype("int64")


# -- softmax / log_softmax ------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0),
                                        ((2, 3, 4), -1), ((2, 3, 4), 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_forward(shape, axis, dtype):
    x = rand(shape, dtype, low=-3, high=3)
    out = check_op(lambda v: T.nnet.softmax(v, axis), [x], ref=lambda a: np_softmax(a, axis),
                   modes=MODES)
    np.testing.assert_allclose(out[0].sum(axis=axis), 1, rtol=1e-5)
    check_op(lambda v: T.nnet.log_softmax(v, axis), [x],
             ref=lambda a: np_log_softmax(a, axis), modes=MODES)


@pytest.mark.parametrize("fn", [N.softmax, N.log_softmax])
@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((2, 3, 4), 0)])
def test_softmax_grads_second_order(fn, shape, axis):
    check_op(lambda v: fn(v, axis), [rand(shape, low=-2, high=2)], modes=MODES,
             grad=True, grad2=True)


def test_softmax_int_input_is_floatx():
    x = T.imatrix("x")
    assert T.nnet.softmax(x).dtype == symnet.config.floatX
    out = T.nnet.softmax(x).eval({x: np.array([[0, 0]], "int32")}, mode="py")
    np.testing.assert_allclose(out, [[0.5, 0.5]])


def test_softmax_errors():
    with pytest.raises(ValueError, match="axis 2"):
        T.nnet.softmax(T.matrix("x"), axis=2)
    with pytest.raises(ValueError, match="out of range"):
        T.nnet.log_softmax(T.scalar("s"))


def test_softmax_static_shape_and_r_op():
    x = T.matrix("x", shape=(3, 4))
    assert T.nnet.softmax(x).type.shape == (3, 4)
    assert T.nnet.log_softmax(x).type.shape == (3, 4)
    # R_op (Jacobian-vector product) against finite differences
    y = T.dmatrix("y")
    v = T.dmatrix("v")
    jv = symnet.gradient.Rop(T.nnet.softmax(y), y, v)
    f = symnet.function([y, v], jv, mode="py")
    a, d = rand((2, 3)), rand((2, 3), rng=np.random.default_rng(1))
    eps = 1e-6
    num = (np_softmax(a + eps * d) - np_softmax(a - eps * d)) / (2 * eps)
    np.testing.assert_allclose(f(a, d), num, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_logits_are_finite(dtype):
    a = np.array([[1000., -1000., 0.], [-1000., -1000., -1000.]], dtype)
    y = np.array([1, 2])
    x, t = T.matrix("x", dtype=dtype), T.lvector("t")
    ce = N.softmax_crossentropy_with_int_labels(x, t)
    outs = [N.softmax(x), N.log_softmax(x), ce, N.softmax_crossentropy_with_onehot(
        x, T.extra_ops.to_one_hot(t, 3, dtype=dtype))]
    grads = [symnet.grad(T.sum(o), x) for o in outs[1:]]
    f = symnet.function([x, t], outs + grads, mode="py")
    res = f(a, y)
    for r in res:
        assert np.all(np.isfinite(r)), r
    np.testing.assert_allclose(res[0], np_softmax(a.astype("float64")), atol=1e-7)
    np.testing.assert_allclose(res[1], [[0, -2000, -1000], [-np.log(3)] * 3], rtol=1e-6)
    np.testing.assert_allclose(res[2], [2000, np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(res[3], res[2], rtol=1e-6)


# -- crossentropies ------------------------------------------------------------------------------

def test_softmax_crossentropy_int_labels():
    x, y = rand((5, 4), low=-3, high=3), labels(5, 4)

    def ref(a, b):
        return -np_log_softmax(a)[np.arange(len(b)), b]
    check_op(N.softmax_crossentropy_with_int_labels, [x, y], ref=ref, modes=MODES,
             grad=True, grad2=True)
    # gradient is softmax(x) - onehot(y), times the output gradient
    xs, ys = T.dmatrix("x"), T.lvector("y")
    g = symnet.grad(T.sum(N.softmax_crossentropy_with_int_labels(xs, ys)), xs)
    got = symnet.function([xs, ys], g, mode="py")(x, y)
    np.testing.assert_allclose(got, np_softmax(x) - np.eye(4)[y], rtol=1e-10)
    nll, sm = N.crossentropy_softmax_1hot(xs, ys)
    r = symnet.function([xs, ys], [nll, sm], mode="py")(x, y)
    np.testing.assert_allclose(r[0], ref(x, y))
    np.testing.assert_allclose(r[1], np_softmax(x))


def test_softmax_crossentropy_hessian_vs_finite_differences():
    x0, y0 = rand((3, 4), low=-2, high=2), labels(3, 4, seed=1)
    w = np.random.default_rng(2).uniform(0.5, 1.5, size=3)
    v0 = rand((3, 4), rng=np.random.default_rng(3))
    x, y, v = T.dmatrix("x"), T.lvector("y"), T.dmatrix("v")
    cost = T.sum(N.softmax_crossentropy_with_int_labels(x, y) * T.constant(w))
    g = symnet.grad(cost, x)
    hv = symnet.grad(T.sum(g * v), x)
    fg = symnet.function([x, y], g, mode="py")
    fhv = symnet.function([x, y, v], hv, mode="py")
    eps = 1e-5
    num = (fg(x0 + eps * v0, y0) - fg(x0 - eps * v0, y0)) / (2 * eps)
    np.testing.assert_allclose(fhv(x0, y0, v0), num, rtol=1e-6, atol=1e-8)
    # and it agrees with the unfused composition's Hessian
    hv2 = symnet.grad(T.sum(symnet.grad(T.sum(
        N.categorical_crossentropy(N.softmax(x), y) * T.constant(w)), x) * v), x)
    np.testing.assert_allclose(symnet.function([x, y, v], hv2, mode="py")(x0, y0, v0),
                               num, rtol=1e-6, atol=1e-8)


def test_softmax_crossentropy_onehot():
    x = rand((4, 3), low=-3, high=3)
    t = np_softmax(rand((4, 3), rng=np.random.default_rng(5)))
    check_op(N.softmax_crossentropy_with_onehot, [x, t], modes=MODES,
             ref=lambda a, b: -(b * np_log_softmax(a)).sum(-1), grad=True)


def test_categorical_crossentropy_int_labels():
    p = np_softmax(rand((5, 4), low=-2, high=2))
    y = labels(5, 4)
    check_op(N.categorical_crossentropy, [p, y], modes=MODES,
             ref=lambda a, b: -np.log(a[np.arange(len(b)), b]), grad=True, grad2=True)
    # the int-label form is the CrossentropyCategorical1Hot op
    out = N.categorical_crossentropy(T.matrix("p"), T.ivector("y"))
    assert isinstance(out.owner.op, N.CrossentropyCategorical1Hot)


def test_categorical_crossentropy_distribution():
    p = np_softmax(rand((5, 4), low=-2, high=2))
    t = np.eye(4)[labels(5, 4)]
    out = check_op(N.categorical_crossentropy, [p, t], modes=MODES,
                   ref=lambda a, b: -(b * np.log(a)).sum(-1), grad=True)
    np.testing.assert_allclose(out[0], -np.log(p[np.arange(5), labels(5, 4)]))
    # float32 stays float32
    assert N.categorical_crossentropy(T.fmatrix(), T.fmatrix()).dtype == "float32"


def test_crossentropy_errors():
    p = T.matrix("p")
    with pytest.raises(TypeError, match="must be a vector"):
        N.crossentropy_categorical_1hot(p, T.lmatrix("y"))
    with pytest.raises(TypeError, match="integer dtype"):
        N.categorical_crossentropy(p, T.vector("y"))
    with pytest.raises(TypeError, match="one less"):
        N.categorical_crossentropy(p, T.tensor3("y"))
    with pytest.raises(TypeError, match="must be a matrix"):
        N.softmax_crossentropy_with_int_labels(T.tensor3("x"), T.lvector("y"))
    pa, ya = T.matrix("pa", shape=(3, 4)), T.lvector("ya", shape=(5,))
    for fn in (N.categorical_crossentropy, N.softmax_crossentropy_with_int_labels):
        with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
            fn(pa, ya)
    with pytest.raises(ValueError, match="broadcast"):
        N.categorical_crossentropy(pa, T.matrix("t", shape=(3, 5)))


def test_crossentropy_runtime_label_errors():
    x, y = T.dmatrix("x"), T.lvector("y")
    for fn in (N.crossentropy_categorical_1hot, N.softmax_crossentropy_with_int_labels):
        f = symnet.function([x, y], fn(x, y), mode="py")
        with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
            f(np.ones((2, 3)) / 3, np.array([0, 3]))
        with pytest.raises(ValueError, match="batch size"):
            f(np.ones((2, 3)) / 3, np.array([0]))


def test_binary_crossentropy():
    o = rand((3, 4), low=0.05, high=0.95)
    t = rand((3, 4), rng=np.random.default_rng(1), low=0, high=1)
    check_op(N.binary_crossentropy, [o, t], modes=MODES,
             ref=lambda a, b: -(b * np.log(a) + (1 - b) * np.log(1 - a)), grad=True)
    assert N.binary_crossentropy(T.fvector(), T.fvector()).dtype == "float32"


def test_sigmoid_binary_crossentropy():
    x = rand((3, 4), low=-4, high=4)
    t = rand((3, 4), rng=np.random.default_rng(1), low=0, high=1)
    s = 1 / (1 + np.exp(-x))
    check_op(N.sigmoid_binary_crossentropy, [x, t], modes=MODES,
             ref=lambda a, b: -(b * np.log(s) + (1 - b) * np.log(1 - s)), grad=True,
             grad2=True)
    xs, ts = T.dvector("x"), T.dvector("t")
    ce = N.sigmoid_binary_crossentropy(xs, ts)
    f = symnet.function([xs, ts], [ce, symnet.grad(T.sum(ce), xs)], mode="py")
    val, g = f(np.array([1000., -1000., 0.]), np.array([0., 0., 0.25]))
    np.testing.assert_allclose(val, [1000., 0., np.log(2)], atol=1e-12)
    # derivative sigmoid(x) - t, also exactly at 0
    np.testing.assert_allclose(g, [1., 0., 0.25])


# -- activations -----------------------------------------------------------------------------------

def test_relu_theano_definition():
    x = T.dvector("x")
    a = np.array([-2., 0., 3.])
    for alpha, want in [(0, [0., 0., 3.]), (0.1, [-0.2, 0., 3.])]:
        out = N.relu(x, alpha)
        g = symnet.grad(T.sum(out), x)
        val, gv = symnet.function([x], [out, g], mode="py")(a)
        np.testing.assert_allclose(val, want)
        # d/dx at 0 is the average of the two slopes: 0.5 * (1 + alpha)
        np.testing.assert_allclose(gv, [alpha, 0.5 * (1 + alpha), 1.])
    al = T.dscalar("al")
    f = symnet.function([x, al], N.relu(x, al), mode="py")
    np.testing.assert_allclose(f(a, 0.5), [-1., 0., 3.])
    assert N.relu(T.fmatrix()).dtype == "float32"


@pytest.mark.parametrize("name,ref", [
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
    ("ultra_fast_sigmoid", lambda a: 1 / (1 + np.exp(-a))),
    ("softplus", lambda a: np.log1p(np.exp(a))),
    ("elu", lambda a: np.where(a > 0, a, np.expm1(a))),
    ("selu", lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a))),
    ("hard_sigmoid", lambda a: np.clip(0.2 * a + 0.5, 0, 1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations(name, ref, dtype):
    x = rand((3, 5), dtype, low=-4, high=4)
    check_op(getattr(T.nnet, name), [x], ref=ref, modes=MODES, grad=(dtype == "float64"))


def test_elu_alpha():
    check_op(lambda v: N.elu(v, 0.5), [rand((4,), low=-2, high=2)],
             ref=lambda a: np.where(a > 0, a, 0.5 * np.expm1(a)), modes=MODES, grad=True)


def test_namespace():
    for name in ["sigmoid", "softmax", "log_softmax", "relu", "softplus", "elu", "selu",
                 "categorical_crossentropy", "binary_crossentropy", "hard_sigmoid",
                 "sigmoid_binary_crossentropy", "softmax_crossentropy_with_int_labels",
                 "Softmax", "LogSoftmax", "SoftmaxCrossentropy",
                 "CrossentropyCategorical1Hot", "crossentropy_softmax_1hot", "logsoftmax"]:
        assert getattr(T.nnet, name) is getattr(N, name)


def test_verify_grad_crossentropy_1hot_wrt_probabilities():
    y = labels(4, 3)
    verify_grad(lambda p: N.crossentropy_categorical_1hot(p, T.constant(y)),
                [np.random.default_rng(0).uniform(0.2, 1, size=(4, 3))], mode="py")
