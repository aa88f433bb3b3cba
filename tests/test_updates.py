"""symnet.updates: every rule against a numpy implementation of Lasagne's
formulas, run for several steps on a small quadratic problem; returned keys,
state variables and dtypes."""
from collections import OrderedDict

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import updates as U

A = np.array([[1.0, 2.0, 0.5], [3.0, 0.2, 1.5]])  # curvature of the quadratic
B = np.array([[0.3, -0.1, 0.2], [-0.5, 0.4, 0.0]])
W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
V0 = np.array([0.4, -0.2, 0.9])
STEPS = 4


def np_grads(ws):
    w, v = ws
    return [A * w + B, 2 * v]


def loss_expr(w, v):
    return T.sum(0.5 * A.astype(w.dtype) * w ** 2 + B.astype(w.dtype) * w) + T.sum(v ** 2)


# -- numpy references: step(params, grads, state, t) -> params ------------------

def np_sgd(lr):
    def step(ps, gs, st):
        return [p - lr * g for p, g in zip(ps, gs)]
    return step


def np_momentum(lr, mom, nesterov=False):
    def step(ps, gs, st):
        vel = st.setdefault("v", [np.zeros_like(p) for p in ps])
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            upd = p - lr * g
            if nesterov:
                x = mom * vel[i] + upd - p
                vel[i] = x
                out.append(mom * x + upd)
            else:
                x = mom * vel[i] + upd
                vel[i] = x - p
                out.append(x)
        return out
    return step


def np_adagrad(lr, eps):
    def step(ps, gs, st):
        acc = st.setdefault("a", [np.zeros_like(p) for p in ps])
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            acc[i] = acc[i] + g ** 2
            out.append(p - lr * g / np.sqrt(acc[i] + eps))
        return out
    return step


def np_rmsprop(lr, rho, eps):
    def step(ps, gs, st):
        acc = st.setdefault("a", [np.zeros_like(p) for p in ps])
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            acc[i] = rho * acc[i] + (1 - rho) * g ** 2
            out.append(p - lr * g / np.sqrt(acc[i] + eps))
        return out
    return step


def np_adadelta(lr, rho, eps):
    def step(ps, gs, st):
        acc = st.setdefault("a", [np.zeros_like(p) for p in ps])
        dacc = st.setdefault("d", [np.zeros_like(p) for p in ps])
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            acc[i] = rho * acc[i] + (1 - rho) * g ** 2
            upd = g * np.sqrt(dacc[i] + eps) / np.sqrt(acc[i] + eps)
            out.append(p - lr * upd)
            dacc[i] = rho * dacc[i] + (1 - rho) * upd ** 2
        return out
    return step


def np_adam(lr, b1, b2, eps, kind="adam"):
    def step(ps, gs, st):
        m = st.setdefault("m", [np.zeros_like(p) for p in ps])
        v = st.setdefault("v", [np.zeros_like(p) for p in ps])
        vh = st.setdefault("vh", [np.zeros_like(p) for p in ps])
        t = st["t"] = st.get("t", 0) + 1
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            m[i] = b1 * m[i] + (1 - b1) * g
            if kind == "adamax":
                v[i] = np.maximum(b2 * v[i], np.abs(g))
                out.append(p - lr / (1 - b1 ** t) * m[i] / (v[i] + eps))
                continue
            v[i] = b2 * v[i] + (1 - b2) * g ** 2
            a_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            denom = v[i]
            if kind == "amsgrad":
                vh[i] = np.maximum(vh[i], v[i])
                denom = vh[i]
            out.append(p - a_t * m[i] / (np.sqrt(denom) + eps))
        return out
    return step


RULES = {
    "sgd": (lambda l, p: U.sgd(l, p, 0.1), np_sgd(0.1), 0),
    "momentum": (lambda l, p: U.momentum(l, p, 0.1, momentum=0.8),
                 np_momentum(0.1, 0.8), 1),
    "nesterov": (lambda l, p: U.nesterov_momentum(l, p, 0.1, momentum=0.8),
                 np_momentum(0.1, 0.8, nesterov=True), 1),
    "adagrad": (lambda l, p: U.adagrad(l, p, 0.5, epsilon=1e-4), np_adagrad(0.5, 1e-4), 1),
    "rmsprop": (lambda l, p: U.rmsprop(l, p, 0.1, rho=0.8, epsilon=1e-4),
                np_rmsprop(0.1, 0.8, 1e-4), 1),
    "adadelta": (lambda l, p: U.adadelta(l, p, 1.0, rho=0.9, epsilon=1e-4),
                 np_adadelta(1.0, 0.9, 1e-4), 2),
    "adam": (lambda l, p: U.adam(l, p, 0.05, beta1=0.8, beta2=0.9, epsilon=1e-6),
             np_adam(0.05, 0.8, 0.9, 1e-6), 2),
    "adamax": (lambda l, p: U.adamax(l, p, 0.05, beta1=0.8, beta2=0.9, epsilon=1e-6),
               np_adam(0.05, 0.8, 0.9, 1e-6, "adamax"), 2),
    "amsgrad": (lambda l, p: U.amsgrad(l, p, 0.05, beta1=0.8, beta2=0.9, epsilon=1e-6),
                np_adam(0.05, 0.8, 0.9, 1e-6, "amsgrad"), 3),
}


def _params(dtype):
    return [symnet.shared(W0.astype(dtype), name="W"), symnet.shared(V0.astype(dtype), name="v")]


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_matches_numpy_over_steps(name):
    make, ref, _ = RULES[name]
    symnet.config.floatX = "float64"  # Adam's step counter is floatX (restored by conftest)
    w, v = _params("float64")
    upd = make(loss_expr(w, v), [w, v])
    f = symnet.function([], loss_expr(w, v), updates=upd, mode="py")
    ps, st = [W0.copy(), V0.copy()], {}
    for _ in range(STEPS):
        f()
        ps = ref(ps, np_grads(ps), st)
        np.testing.assert_allclose(w.get_value(), ps[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(v.get_value(), ps[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(RULES))
def test_ordered_dict_keys_and_state(name):
    make, _, n_state = RULES[name]
    w, v = _params("float64")
    upd = make(loss_expr(w, v), [w, v])
    assert isinstance(upd, OrderedDict)
    has_t = name in ("adam", "adamax", "amsgrad")
    assert len(upd) == 2 * (1 + n_state) + has_t
    keys = list(upd)
    assert w in keys and v in keys
    for k in keys:
        if k is w or k is v:
            continue
        assert isinstance(k, symnet.SharedVariable)
        if has_t and k is keys[-1]:
            assert k.get_value().shape == () and float(k.get_value()) == 0.0
            assert k.dtype == symnet.config.floatX
            continue
        val = k.get_value()
        assert val.shape in (W0.shape, V0.shape) and not val.any()
    if has_t:  # Lasagne adds the step counter last
        assert keys[-1] is not w and keys[-1] is not v
    # each parameter's state variables have its shape and type
    for k in keys:
        if k.ndim == 2:
            assert k.type == w.type
        elif k.ndim == 1:
            assert k.type == v.type


def test_stateful_keys_follow_lasagne_order():
    w, v = _params("float64")
    upd = U.adam(loss_expr(w, v), [w, v])
    keys = list(upd)
    assert keys[2] is w and keys[5] is v and len(keys) == 7
    upd = U.adagrad(loss_expr(w, v), [w, v])
    keys = list(upd)
    assert keys[1] is w and keys[3] is v
    upd = U.momentum(loss_expr(w, v), [w, v], 0.1)
    keys = list(upd)
    assert keys[0] is w and keys[1] is v  # apply_momentum keeps sgd's order


@pytest.mark.parametrize("hp", [float, np.float32, np.float64], ids=["py", "np32", "np64"])
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adadelta", "adam", "adamax", "amsgrad"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_updates_keep_param_dtype(name, hp, dtype):
    w, v = _params(dtype)
    loss = loss_expr(w, v)
    lr = hp(0.01)
    fns = {
        "sgd": lambda: U.sgd(loss, [w, v], lr),
        "momentum": lambda: U.momentum(loss, [w, v], lr, hp(0.9)),
        "nesterov": lambda: U.nesterov_momentum(loss, [w, v], lr, hp(0.9)),
        "adagrad": lambda: U.adagrad(loss, [w, v], lr, hp(1e-6)),
        "rmsprop": lambda: U.rmsprop(loss, [w, v], lr, hp(0.9), hp(1e-6)),
        "adadelta": lambda: U.adadelta(loss, [w, v], lr, hp(0.95), hp(1e-6)),
        "adam": lambda: U.adam(loss, [w, v], lr, hp(0.9), hp(0.999), hp(1e-8)),
        "adamax": lambda: U.adamax(loss, [w, v], lr, hp(0.9), hp(0.999), hp(1e-8)),
        "amsgrad": lambda: U.amsgrad(loss, [w, v], lr, hp(0.9), hp(0.999), hp(1e-8)),
    }
    upd = fns[name]()
    for k, e in upd.items():
        assert e.dtype == k.dtype, (k, e.dtype, k.dtype)
        if k.ndim:
            assert k.dtype == dtype
    f = symnet.function([], loss, updates=upd, mode="py")
    f()
    f()
    assert w.get_value().dtype == dtype
    assert np.isfinite(w.get_value()).all() and not np.allclose(w.get_value(), W0)


def test_symbolic_learning_rate_and_given_grads():
    w, v = _params("float64")
    lr = T.dscalar("lr")
    gw, gv = T.dmatrix("gw"), T.dvector("gv")
    upd = U.sgd([gw, gv], [w, v], lr)
    f = symnet.function([gw, gv, lr], [], updates=upd, mode="py")
    f(np.ones_like(W0), np.ones_like(V0), 0.5)
    np.testing.assert_allclose(w.get_value(), W0 - 0.5)
    np.testing.assert_allclose(v.get_value(), V0 - 0.5)


def test_get_or_compute_grads_errors():
    w, v = _params("float64")
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="shared variables only.*x"):
        U.get_or_compute_grads(T.sum(x), [w, x])
    with pytest.raises(ValueError, match="2 parameters"):
        U.get_or_compute_grads([T.dmatrix()], [w, v])
    g = U.get_or_compute_grads(loss_expr(w, v), [w, v])
    vals = symnet.function([], g, mode="py")()
    for got, want in zip(vals, np_grads([W0, V0])):
        np.testing.assert_allclose(got, want)


def test_apply_momentum_subset_of_params():
    w, v = _params("float64")
    upd = U.sgd(loss_expr(w, v), [w, v], 0.1)
    out = U.apply_momentum(upd, [w], momentum=0.5)
    assert len(out) == 3 and len(upd) == 2  # input not modified
    assert out[v] is upd[v]


def test_norm_constraint_matches_numpy():
    rng = np.random.RandomState(0)
    for shape, axes in [((4, 3), (0,)), ((3, 2, 2, 2), (1, 2, 3)), ((5, 2, 3), (1, 2))]:
        x = T.tensor("float64", shape=(None,) * len(shape))
        val = rng.randn(*shape) * 2
        got = symnet.function([x], U.norm_constraint(x, 1.5), mode="py")(val)
        norms = np.sqrt((val ** 2).sum(axis=axes, keepdims=True))
        want = val * (np.clip(norms, 0, 1.5) / (1e-7 + norms))
        np.testing.assert_allclose(got, want, rtol=1e-12)
    x = T.dmatrix("x")
    val = rng.randn(4, 3)
    got = symnet.function([x], U.norm_constraint(x, 0.5, norm_axes=(1,)), mode="py")(val)
    norms = np.sqrt((val ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got, val * np.clip(norms, 0, 0.5) / (1e-7 + norms))
    with pytest.raises(ValueError, match="norm_axes"):
        U.norm_constraint(T.dvector(), 1.0)
    assert U.norm_constraint(T.fmatrix(), 1.0).dtype == "float32"
    assert U.norm_constraint(T.fmatrix(), np.float64(1.0)).dtype == "float32"


def test_total_norm_constraint_matches_numpy():
    rng = np.random.RandomState(1)
    a, b = T.dmatrix("a"), T.dvector("b")
    va, vb = rng.randn(3, 2), rng.randn(4)
    scaled, norm = U.total_norm_constraint([a, b], 1.0, return_norm=True)
    out = symnet.function([a, b], scaled + [norm], mode="py")(va, vb)
    total = np.sqrt((va ** 2).sum() + (vb ** 2).sum())
    mult = min(total, 1.0) / (1e-7 + total)
    np.testing.assert_allclose(out[0], va * mult)
    np.testing.assert_allclose(out[1], vb * mult)
    np.testing.assert_allclose(out[2], total)
    big = U.total_norm_constraint([a, b], 100.0)
    assert len(big) == 2
    out = symnet.function([a, b], big, mode="py")(va, vb)
    np.testing.assert_allclose(out[0], va, rtol=1e-6)
    fa = T.fmatrix()
    assert U.total_norm_constraint([fa], 1.0)[0].dtype == "float32"
