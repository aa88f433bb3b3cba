"""symnet.gradient: grad's contract and errors, gradient-stopping ops,
known_grads, second order, jacobian/hessian, Lop/Rop, verify_grad and deep
graphs."""
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet import gradient
from symnet.gradient import (DisconnectedInputError, GradientError, NullTypeGradError,
                             verify_grad)
from symnet.graph.basic import Apply
from symnet.graph.op import Op
from symnet.graph.traversal import toposort
from tests.oracles import examples


def fn(inputs, outputs):
    return symnet.function(inputs, outputs, mode="py", on_unused_input="ignore")


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x) / d x by central differences, f's axes first."""
    x = np.array(x, dtype="float64")
    f0 = np.asarray(f(x))
    jac = np.zeros(f0.shape + x.shape)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        jac[(Ellipsis,) + i] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * eps)
    return jac


# -- the contract ---------------------------------------------------------------------

def test_aliases_and_structure():
    assert symnet.grad is gradient.grad and T.grad is gradient.grad
    x, y = T.dscalars("x", "y")
    cost = x * x * y
    g = T.grad(cost, x)
    assert not isinstance(g, (list, tuple))
    gl = T.grad(cost, [x, y])
    gt = T.grad(cost, (x, y))
    assert isinstance(gl, list) and isinstance(gt, tuple) and len(gt) == 2
    np.testing.assert_allclose(fn([x, y], list(gl))(3.0, 2.0), [12.0, 9.0])


def test_gradient_dtypes_follow_wrt():
    x = T.fvector("x")
    assert T.grad(T.sum(x * 2), x).dtype == "float32"
    assert T.grad(T.sum(T.cast(x, "float64") ** 2), x).dtype == "float32"


def test_shared_variable_and_intermediate_wrt():
    w = symnet.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    h = x * w
    cost = T.sum(T.tanh(h))
    gw, gh = T.grad(cost, [w, h])
    f = fn([x], [gw, gh])
    xv = np.array([0.5, -0.25])
    hv = xv * np.array([1.0, 2.0])
    np.testing.assert_allclose(f(xv)[1], 1 - np.tanh(hv) ** 2)
    np.testing.assert_allclose(f(xv)[0], xv * (1 - np.tanh(hv) ** 2))


def test_non_scalar_cost():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="2 dimensions"):
        T.grad(x * 2, x)


def test_disconnected_inputs():
    x, y = T.dvectors("x", "y")
    cost = T.sum(x ** 2)
    with pytest.raises(DisconnectedInputError, match="y"):
        T.grad(cost, [x, y])
    with pytest.warns(UserWarning, match="y"):
        gx, gy = T.grad(cost, [x, y], disconnected_inputs="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = T.grad(cost, [x, y], disconnected_inputs="ignore")
    out = fn([x, y], [gx, gy])(np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0]))
    np.testing.assert_allclose(out[0], [2.0, 4.0])
    np.testing.assert_array_equal(out[1], np.zeros(3))
    assert T.grad(cost, y, disconnected_inputs="ignore", return_disconnected="None") is None
    with pytest.raises(ValueError, match="disconnected_inputs"):
        T.grad(cost, x, disconnected_inputs="bogus")


class NoGrad(Op):
    """Doubles its input; declares no gradient."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * 2


@pytest.mark.perform_fallback   # an op defined here, with no kernel
def test_null_gradients_name_the_op():
    x = T.dvector("x")
    with pytest.raises(NullTypeGradError, match="NoGrad"):
        T.grad(T.sum(NoGrad()(x) * 3), x)
    with pytest.raises(NullTypeGradError, match="undefined_grad"):
        T.grad(T.sum(T.exp(gradient.undefined_grad(x))), x)
    # not needed when no wrt is behind it
    y = T.dvector("y")
    g = T.grad(T.sum(NoGrad()(x) * y), y)
    np.testing.assert_allclose(fn([x, y], g)(np.array([1.0, 2.0]), np.zeros(2)), [2.0, 4.0])


class SplitScale(Op):
    """Two outputs (x * s, x - s); the gradient for s is undefined."""

    def make_node(self, x, s):
        x, s = T.as_tensor_variable(x), T.as_tensor_variable(s)
        return Apply(self, [x, s], [x.type(), x.type()])

    def perform(self, node, inputs, out):
        x, s = inputs
        out[0][0], out[1][0] = x * s, x - s

    def L_op(self, inputs, outputs, output_grads):
        x, s = inputs
        ga, gb = output_grads
        return [ga * s + gb, gradient.grad_undefined(self, 1, s, "not written")]


@pytest.mark.perform_fallback   # an op defined here, with no kernel
def test_multi_output_op_and_unneeded_undefined_gradient():
    x, s = T.dvector("x"), T.dscalar("s")
    a, b = SplitScale()(x, s)
    xv = np.array([1.0, 2.0])
    # only one output used: the other's gradient is filled with zeros
    g = T.grad(T.sum(a ** 2), x)
    np.testing.assert_allclose(fn([x, s], g)(xv, 3.0), 2 * xv * 9)
    g = T.grad(T.sum(b ** 2), x)
    np.testing.assert_allclose(fn([x, s], g)(xv, 3.0), 2 * (xv - 3))
    g = T.grad(T.sum(a * b), x)
    np.testing.assert_allclose(fn([x, s], g)(xv, 3.0), 3 * (xv - 3) + 3 * xv)
    # the undefined gradient raises only when it is needed, naming the op
    with pytest.raises(NullTypeGradError, match="SplitScale.*not written"):
        T.grad(T.sum(a), s)
    y = T.dscalar("y")
    a2, _ = SplitScale()(x, y * 2)
    with pytest.raises(NullTypeGradError, match="SplitScale"):
        T.grad(T.sum(a2), y)


# -- stopping and seeding gradients ------------------------------------------------------

def test_consider_constant():
    x = T.dscalar("x")
    y = x * x
    cost = y * x  # x^3 with y constant -> y
    g = T.grad(cost, x, consider_constant=[y])
    assert float(fn([x], g)(3.0)) == 9.0
    # the constant keeps its own gradient (Theano): d cost / d y = x
    assert float(fn([x], T.grad(cost, y, consider_constant=[y]))(3.0)) == 3.0
    # a wrt reachable only through the constant is disconnected
    with pytest.raises(DisconnectedInputError):
        T.grad(T.exp(y), x, consider_constant=[y])


def test_disconnected_zero_grad_and_friends():
    x = T.dscalar("x")
    y = x * x
    g = T.grad(gradient.disconnected_grad(y) * x, x)
    assert float(fn([x], g)(3.0)) == 9.0
    with pytest.raises(DisconnectedInputError):
        T.grad(gradient.disconnected_grad(y), x)
    # zero_grad keeps the input connected: zero, no error
    assert float(fn([x], T.grad(gradient.zero_grad(y), x))(3.0)) == 0.0
    assert float(fn([x], T.grad(gradient.zero_grad(y) * x + y, x))(3.0)) == 9.0 + 6.0
    assert float(fn([x], T.grad(gradient.grad_scale(y, 0.5), x))(3.0)) == 3.0
    gc = T.grad(gradient.grad_clip(y, -1.0, 2.0) * 10, x)
    assert float(fn([x], gc)(3.0)) == 2.0 * 6.0
    with pytest.raises(ValueError, match="lower"):
        gradient.grad_clip(y, 1.0, -1.0)
    # forward values are unchanged
    f = fn([x], [gradient.disconnected_grad(y), gradient.zero_grad(y),
                 gradient.grad_clip(y, -1, 1), gradient.grad_scale(y, 3)])
    np.testing.assert_allclose(f(2.0), [4.0] * 4)


def test_known_grads():
    x = T.dvector("x")
    h = T.tanh(x)
    gh = T.dvector("gh")
    g = T.grad(None, x, known_grads={h: gh})
    xv, ghv = np.array([0.1, -0.5]), np.array([2.0, 3.0])
    np.testing.assert_allclose(fn([x, gh], g)(xv, ghv), ghv * (1 - np.tanh(xv) ** 2))
    # with a cost too: both contributions are summed
    g2 = T.grad(T.sum(h), x, known_grads={h: gh})
    np.testing.assert_allclose(fn([x, gh], g2)(xv, ghv), (ghv + 1) * (1 - np.tanh(xv) ** 2))
    with pytest.raises(ValueError, match="known_grads"):
        T.grad(None, x)


class CountingDouble(Op):
    """2 * x, counting how often its gradient is asked for."""
    calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * 2

    def L_op(self, inputs, outputs, output_grads):
        type(self).calls += 1
        return [output_grads[0] * 2]


@pytest.mark.perform_fallback   # an op defined here, with no kernel
def test_each_node_visited_once_and_contributions_summed_once():
    x = T.dvector("x")
    h = CountingDouble()(x)
    # h used by many consumers, some of them twice
    cost = T.sum(h * h) + T.sum(h) + T.sum(T.exp(h)) + T.sum(h[:1])
    CountingDouble.calls = 0
    g = T.grad(cost, x)
    assert CountingDouble.calls == 1
    xv = np.array([0.1, 0.2])
    hv = 2 * xv
    expect = 2 * (2 * hv + 1 + np.exp(hv) + np.array([1.0, 0.0]))
    np.testing.assert_allclose(fn([x], g)(xv), expect)
    # the gradients reaching h are added once, into one sum tree
    gh = T.grad(cost, h)
    # (the gradient graph holds the cost, as Theano's does: skip its nodes)
    forward = set(toposort([cost]))
    adds = [n for n in toposort([gh]) if str(n.op) == "add" and n not in forward]
    assert len(adds) <= 4


# -- second order, jacobian, hessian, Lop, Rop -----------------------------------------------

def test_second_derivative_of_tanh():
    x = T.dvector("x")
    g = T.grad(T.sum(T.tanh(x)), x)
    gg = T.grad(T.sum(g), x)
    xv = np.array([-1.0, 0.3, 0.9])
    t = np.tanh(xv)
    np.testing.assert_allclose(fn([x], gg)(xv), -2 * t * (1 - t ** 2))
    first = fn([x], g)
    num = np.diag(numeric_jacobian(first, xv))
    np.testing.assert_allclose(fn([x], gg)(xv), num, rtol=1e-6, atol=1e-8)
    verify_grad(lambda v: T.grad(T.sum(T.tanh(v) * v), v), [xv], mode="py")


def test_second_order_of_dot_chain():
    rng = np.random.RandomState(0)
    a, b = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4, 2))

    def first(w):
        return T.grad(T.sum(T.tanh(T.dot(T.dot(w, b), b.T))), w)
    # the gradient of the gradient against finite differences of the gradient
    verify_grad(first, [a], mode="py")
    w = T.dmatrix("w", shape=(3, 4))
    hess = fn([w], gradient.jacobian(first(w), w))(a)
    num = numeric_jacobian(fn([w], first(w)), a)
    np.testing.assert_allclose(hess, num, atol=1e-6)
    np.testing.assert_allclose(hess.reshape(12, 12), hess.reshape(12, 12).T, atol=1e-10)


def test_second_order_softmax_crossentropy():
    nnet = T.nnet
    y = np.array([0, 2])

    def first(v):
        p = nnet.softmax(v)
        cost = T.sum(nnet.categorical_crossentropy(p, T.constant(y)))
        return T.grad(cost, v)
    x0 = np.random.RandomState(1).uniform(-1, 1, (2, 3))
    verify_grad(first, [x0], mode="py")
    # closed form: softmax - onehot
    x = T.dmatrix("x")
    e = np.exp(x0 - x0.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(fn([x], first(x))(x0), sm - np.eye(3)[y], atol=1e-10)


def test_jacobian():
    x = T.dvector("x", shape=(3,))
    expr = T.tanh(x) * x[::-1]
    jac = gradient.jacobian(expr, x)
    xv = np.array([0.2, -0.4, 0.9])
    num = numeric_jacobian(lambda v: np.tanh(v) * v[::-1], xv)
    np.testing.assert_allclose(fn([x], jac)(xv), num, atol=1e-8)
    # a matrix expression and two wrt
    m = T.dmatrix("m", shape=(2, 2))
    e2 = T.dot(m, x[:2]) ** 2
    jm, jx = gradient.jacobian(e2, [m, x])
    mv = np.array([[1.0, 2.0], [3.0, -1.0]])
    f = fn([m, x], [jm, jx])
    out_m, out_x = f(mv, xv)
    np.testing.assert_allclose(out_m, numeric_jacobian(lambda v: (v @ xv[:2]) ** 2, mv),
                               atol=1e-6)
    np.testing.assert_allclose(out_x, numeric_jacobian(lambda v: (mv @ v[:2]) ** 2, xv),
                               atol=1e-6)
    # elements that do not depend on x give zero rows, not an error
    c = T.concatenate([x, T.constant(np.ones(2))])
    np.testing.assert_allclose(fn([x], gradient.jacobian(c, x))(xv),
                               np.vstack([np.eye(3), np.zeros((2, 3))]))
    # scalar expression: the gradient
    np.testing.assert_allclose(fn([x], gradient.jacobian(T.sum(x ** 2), x))(xv), 2 * xv)


def test_jacobian_of_run_time_size():
    # the size is known only when the function runs: one row per element then
    x = T.dvector("x")
    xv = np.array([1.0, -2.0, 0.5])
    got = symnet.function([x], gradient.jacobian(x * 2 + x ** 2, x), mode="py")(xv)
    np.testing.assert_allclose(got, np.diag(2 + 2 * xv))


def test_hessian():
    x = T.dvector("x", shape=(3,))
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    cost = 0.5 * T.dot(x, T.dot(a, x)) + T.sum(T.exp(x))
    xv = np.array([0.1, -0.2, 0.3])
    h = fn([x], gradient.hessian(cost, x))(xv)
    np.testing.assert_allclose(h, a + np.diag(np.exp(xv)), atol=1e-10)
    g = fn([x], T.grad(cost, x))
    np.testing.assert_allclose(h, numeric_jacobian(g, xv), atol=1e-6)
    (h2,) = gradient.hessian(cost, [x])
    np.testing.assert_allclose(fn([x], h2)(xv), h)


def test_lop_and_rop_against_explicit_jacobian():
    x = T.dvector("x", shape=(3,))
    w = T.dmatrix("w", shape=(2, 3))
    y = T.tanh(T.dot(w, x)) * T.sum(x)
    u = T.dvector("u")   # shaped like y
    v = T.dvector("v")   # shaped like x
    vm = T.dmatrix("vm")  # shaped like w
    xv = np.array([0.3, -0.1, 0.5])
    wv = np.random.RandomState(2).uniform(-1, 1, (2, 3))
    uv, vv = np.array([1.5, -2.0]), np.array([0.2, 0.7, -0.4])
    vmv = np.random.RandomState(3).uniform(-1, 1, (2, 3))
    jx = fn([x, w], gradient.jacobian(y, x))(xv, wv)
    jw = fn([x, w], gradient.jacobian(y, w))(xv, wv)
    lop = gradient.Lop(y, x, u)
    np.testing.assert_allclose(fn([x, w, u], lop)(xv, wv, uv), uv @ jx, atol=1e-10)
    lx, lw = gradient.Lop(y, [x, w], u)
    np.testing.assert_allclose(fn([x, w, u], lw)(xv, wv, uv),
                               np.tensordot(uv, jw, 1), atol=1e-10)
    rop = gradient.Rop(y, x, v)
    np.testing.assert_allclose(fn([x, w, v], rop)(xv, wv, vv), jx @ vv, atol=1e-10)
    rop2 = gradient.Rop(y, [x, w], [v, vm])
    np.testing.assert_allclose(fn([x, w, v, vm], rop2)(xv, wv, vv, vmv),
                               jx @ vv + np.tensordot(jw, vmv, 2), atol=1e-10)
    # several outputs at once
    r1, r2 = gradient.Rop([y, T.sum(x * x)], x, v)
    np.testing.assert_allclose(fn([x, w, v], r2)(xv, wv, vv), 2 * xv @ vv)


def test_rop_through_switch_and_grad_clip():
    # ops whose L_op is built with zeros_like(gz) or clip(gz): the helper
    # variable of the double-VJP trick must not leak into the result
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.switch(T.gt(x, 0), x * x, -x) + gradient.grad_clip(x, -1, 1)
    r = gradient.Rop(y, x, v)
    xv, vv = np.array([1.0, -2.0, 3.0]), np.array([1.0, 1.0, 2.0])
    np.testing.assert_allclose(fn([x, v], r)(xv, vv), [3.0, 0.0, 14.0])


# -- verify_grad -----------------------------------------------------------------------------

class WrongGradSquare(Op):
    """x ** 2 whose gradient is wrong at every position > 0 (2x + position)."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] ** 2

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        offset = T.cast(T.arange(x.shape[0]), "float64")
        return [output_grads[0] * (2 * x + 0.1 * offset * offset)]


@pytest.mark.perform_fallback   # an op defined here, with no kernel
def test_verify_grad_reports_largest_discrepancy():
    pt = np.array([0.5, 1.0, -1.0, 2.0])
    with pytest.raises(GradientError) as info:
        verify_grad(lambda v: T.sum(WrongGradSquare()(v)), [pt], mode="py",
                    rng=np.random.RandomState(0))
    err = info.value
    assert err.err_pos == (3,)  # offset 0.9, the largest
    assert err.arg == 0
    # the cost is projected on a random scalar: compare the ratio
    np.testing.assert_allclose(err.val1 / err.val2, (2 * pt[3] + 0.9) / (2 * pt[3]),
                               rtol=1e-6)
    msg = str(err)
    assert "(3,)" in msg and "symbolic" in msg and "numeric" in msg
    assert verify_grad.E_grad is GradientError


@pytest.mark.perform_fallback   # an op defined here, with no kernel
def test_verify_grad_passes_and_checks_tolerances():
    pt = np.array([0.5, 1.0])
    verify_grad(lambda v: WrongGradSquare()(v), [pt], mode="py", abs_tol=0.2, rel_tol=0.2,
                rng=np.random.RandomState(0))
    # NaN gradients are never within tolerance
    with pytest.raises(GradientError, match="nan"):
        verify_grad(lambda v: T.sqrt(v), [np.array([-1.0, 1.0])], mode="py")
    # integer inputs are passed through, not differentiated
    verify_grad(lambda v, i: v[i] ** 2, [np.array([1.0, 2.0]), np.array(1)], mode="py")


# -- deep graphs ---------------------------------------------------------------------------

def test_ten_thousand_ops_without_recursion():
    limit = sys.getrecursionlimit()
    x = T.dscalar("x")
    y = x
    for i in range(10000):
        y = T.tanh(y) if i % 2 else y * 0.9999
    assert len(toposort([y])) == 10000
    g = T.grad(y, x)
    assert sys.getrecursionlimit() == limit
    assert len(toposort([g])) > 20000
    # the gradient of a gradient of a deep chain too
    z = x
    for i in range(400):
        z = T.tanh(z) if i % 2 else z * 0.9999
    gg = T.grad(T.grad(z, x), x)
    assert sys.getrecursionlimit() == limit
    assert len(toposort([gg])) > 800


def _chain(layers):
    x = T.dvector("x")
    params = []
    y = x
    for i in range(layers):
        w, b = T.dvector(f"w{i}"), T.dvector(f"b{i}")
        params += [w, b]
        y = T.tanh(y * w + b)
    return x, params, T.sum(y)


def test_gradient_graph_is_linear_in_depth():
    sizes = {}
    for layers in (500, 1000):
        x, params, cost = _chain(layers)
        grads = T.grad(cost, params)
        sizes[layers] = len(toposort(grads))
        assert sizes[layers] < 40 * layers
    assert 1.8 < sizes[1000] / sizes[500] < 2.2


def test_deep_chain_gradient_values():
    x, params, cost = _chain(50)
    grads = T.grad(cost, [x] + params[:2])
    rng = np.random.RandomState(0)
    vals = [rng.uniform(0.5, 1.0, 3) for _ in params]
    xv = rng.uniform(-1, 1, 3)
    f = fn([x] + params, grads)
    gx = f(xv, *vals)[0]
    fc = fn([x] + params, cost)
    num = numeric_jacobian(lambda v: fc(v, *vals), xv)
    np.testing.assert_allclose(gx, num, rtol=1e-5, atol=1e-8)


# -- random expressions ------------------------------------------------------------------

UNARY_SAFE = [T.tanh, T.sin, T.sigmoid, lambda v: T.exp(T.tanh(v)), T.sqr,
              lambda v: T.log1p(T.sqr(v)), T.arctan]
BINARY_SAFE = [T.add, T.sub, T.mul, lambda a, b: a / (1.5 + T.tanh(b)),
               lambda a, b: a * T.sum(b)]


@settings(max_examples=examples(20), deadline=None, derandomize=True)
@given(program=st.lists(st.tuples(st.booleans(), st.integers(0, 100), st.integers(0, 100),
                                  st.integers(0, 100)), min_size=1, max_size=8))
def test_random_expressions_against_finite_differences(program):
    """Random DAGs over two inputs, reusing earlier values (several
    consumers per variable), the input row broadcasting against the matrix."""
    def build(x, r):
        vals = [x, r]
        for binary, op, i, j in program:
            a = vals[i % len(vals)]
            if binary:
                vals.append(BINARY_SAFE[op % len(BINARY_SAFE)](a, vals[j % len(vals)]))
            else:
                vals.append(UNARY_SAFE[op % len(UNARY_SAFE)](a))
        return vals[-1] + vals[-2] if len(vals) > 2 else vals[-1]
    rng = np.random.RandomState(len(program))
    verify_grad(build, [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (1, 3))],
                mode="py", rng=rng)


def test_jacobian_and_hessian_keep_the_form_of_wrt():
    # Theano's format_as: a tuple gives a tuple, a list a list, one variable one
    x, z = T.dvectors('x', 'z')
    y = x * 2 + z
    for wrt, kind in [((x,), tuple), ([x], list), ((x, z), tuple)]:
        J = symnet.gradient.jacobian(y, wrt)
        assert type(J) is kind and len(J) == len(wrt)
    J = symnet.gradient.jacobian(y, x)
    np.testing.assert_allclose(J.eval({x: np.ones(3), z: np.ones(3)}), 2 * np.eye(3))
    H = symnet.gradient.hessian((x ** 2).sum(), (x,))
    assert type(H) is tuple
    np.testing.assert_allclose(H[0].eval({x: np.arange(3.0)}), 2 * np.eye(3))


def test_grad_names_as_theano():
    # Theano names (dcost/dx) only when both have names (its printing docs show '')
    x = T.dscalar("x")
    y = x ** 2
    assert symnet.grad(y, x).name is None
    y.name = "c"
    assert symnet.grad(y, x).name == "(dc/dx)"
    assert symnet.grad(y, x, add_names=False).name is None
    assert symnet.grad((x * 3).sum(), [x])[0].name is None


def test_zero_gradient_of_an_integer_input_is_floatx():
    # Theano's rule: a gradient is never an integer; an integer input that
    # reaches the cost only through non-differentiable paths gets floatX zeros
    x, z = T.fscalar("x"), T.lscalar("z")
    gx, gz = symnet.grad(x * 2 + z, [x, z])
    assert gx.dtype == "float32" and gz.dtype == symnet.config.floatX
    assert gz.eval({z: np.int64(3)}) == 0
    i = T.ivector("i")
    gi = symnet.grad(T.sum(T.gt(i, 0) * 2.0), i)     # through a comparison only
    assert gi.dtype == symnet.config.floatX
    np.testing.assert_array_equal(gi.eval({i: np.array([1, 2], "int32")}), [0, 0])
    w = T.lvector("w")
    assert symnet.grad(x, w, disconnected_inputs="ignore").dtype == symnet.config.floatX


def test_known_grads_scalar_is_the_gradient_everywhere():
    # Theano accepts a scalar known gradient for a tensor: that value at
    # every element (what ops' gradients broadcast it to)
    x = T.dvector("x")
    y = T.exp(x)
    g = symnet.grad(None, x, known_grads={y: T.constant(2.0, dtype="float64")})
    xv = np.array([0.0, 1.0, -1.0])
    np.testing.assert_allclose(g.eval({x: xv}), 2.0 * np.exp(xv))
    with pytest.raises(ValueError, match="known_grads: the gradient given for .* has 1"):
        symnet.grad(None, x, known_grads={T.outer(x, x): T.dvector()})


def test_undefined_gradient_of_an_output_no_wrt_reaches_is_not_needed():
    # Theano's test_disconnected_nan: x reaches f but not g (the op's
    # connection_pattern), so the undefined gradient sent to g never matters
    from symnet.graph.basic import Apply
    from symnet.graph.null_type import NullType
    from symnet.graph.op import Op

    class Op1(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type(), T.dscalar()])

        def connection_pattern(self, node):
            return [[True, False]]

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0]
            output_storage[1][0] = np.float64(0.0)

        def grad(self, inputs, output_grads):
            return [2 * output_grads[0]]

    class Op2(Op):
        __props__ = ()

        def make_node(self, f, g):
            return Apply(self, [f, g], [T.dscalar()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = np.float64(inputs[0].sum() + inputs[1])

        def grad(self, inputs, output_grads):
            return [T.ones_like(inputs[0]), NullType("no gradient for g")()]

    x = T.dvector("x")
    f, g = Op1()(x)
    gx = symnet.grad(Op2()(f, g), x)
    np.testing.assert_array_equal(gx.eval({x: np.array([1.0, 5.0])}, mode="py"), [2.0, 2.0])
    # an output that x does reach still raises
    with pytest.raises(NullTypeGradError, match="no gradient for g"):
        symnet.grad(Op2()(f, T.sum(f)), x)
