"""Scan semantics that Theano code relies on: ``strict=True`` with
non-sequences the step function uses directly, and random draws inside the
step function (the state advancing once per step)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.ops.random import random_draw
from symnet.tensor.shared_randomstreams import RandomStreams

PY = "py"


def test_strict_accepts_an_expression_of_shared_variables_used_by_closure():
    # Lasagne's LSTM/GRU: the step reads the outer W_stacked (a concatenate
    # of shared variables), which is also passed in non_sequences.
    a = symnet.shared(np.array([[0.5, -1.0], [2.0, 0.25]]), name="a")
    b = symnet.shared(np.array([[1.0], [-0.5]]), name="b")
    stacked = T.concatenate([a, b], axis=1)
    h0 = T.dvector("h0")
    out, _ = symnet.scan(lambda h, *_: T.tanh(T.dot(h, stacked))[:2], outputs_info=h0,
                         non_sequences=[stacked], n_steps=3, strict=True)
    got = symnet.function([h0], out, mode=PY)(np.array([0.3, -0.7]))
    h, want = np.array([0.3, -0.7]), []
    w = np.concatenate([a.get_value(), b.get_value()], axis=1)
    for _ in range(3):
        h = np.tanh(h @ w)[:2]
        want.append(h)
    np.testing.assert_allclose(got, want)


def test_strict_accepts_a_shared_variable_used_directly():
    # Lasagne's CustomRecurrentLayer: hidden_to_hidden.W used by closure and
    # listed in non_sequences (get_all_params).
    w = symnet.shared(np.array([[0.0, 1.0], [1.0, 0.0]]), name="hidden_to_hidden.W")
    x = T.dmatrix("x")
    out, _ = symnet.scan(lambda xt, h, *_: xt + T.dot(h, w), sequences=x,
                         outputs_info=T.zeros((2,), dtype="float64"),
                         non_sequences=[w], strict=True)
    f = symnet.function([x], out, mode=PY)
    xv = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(f(xv), [[1.0, 2.0], [5.0, 5.0]])
    gw = symnet.function([x], symnet.grad(out.sum(), w), mode=PY)(xv)
    eps, num = 1e-6, np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            w0 = w.get_value()
            for sign in (1, -1):
                wv = w0.copy()
                wv[i, j] += sign * eps
                w.set_value(wv)
                num[i, j] += sign * f(xv).sum() / (2 * eps)
            w.set_value(w0)
    np.testing.assert_allclose(gw, num, rtol=1e-6)


def test_strict_still_names_what_is_missing():
    w = symnet.shared(np.ones((2, 2)), name="W_hid")
    h0 = T.dvector("h0")
    # Theano's error type (its scan docs show it), still a ValueError
    with pytest.raises(symnet.compile.MissingInputError,
                       match=r"W_hid, which is not among the non_sequences"):
        symnet.scan(lambda h: T.dot(h, w), outputs_info=h0, n_steps=2, strict=True)


def _state_draw(seed, counter, shape):
    """What a draw from the stream state [seed, counter] gives."""
    st = T.constant(np.array([seed, counter], dtype="int64"))
    return random_draw("uniform", st, shape, [0.0, 1.0], "float64")[1].eval(mode=PY)


def test_random_draws_inside_scan_advance_once_per_step():
    srng = RandomStreams(seed=7)
    x0 = T.dvector("x0")
    steps, upd = symnet.scan(lambda x: x + srng.uniform((3,), dtype="float64"),
                             outputs_info=x0, n_steps=4)
    (state,) = list(upd)  # the draw's state comes back as an update
    seed = int(state.get_value()[0])
    f = symnet.function([x0], steps, updates=upd, mode=PY)
    first = f(np.zeros(3))
    draws = np.diff(np.vstack([np.zeros(3), first]), axis=0)
    for t in range(4):  # step t draws from the state after t draws
        np.testing.assert_allclose(draws[t], _state_draw(seed, t, (3,)), rtol=1e-12)
    assert state.get_value().tolist() == [seed, 4]
    second = f(np.zeros(3))
    np.testing.assert_allclose(np.diff(np.vstack([np.zeros(3), second]), axis=0)[0],
                               _state_draw(seed, 4, (3,)), rtol=1e-12)


def test_random_draws_inside_scan_are_reproducible_from_the_seed():
    def run():
        srng = RandomStreams(seed=3)
        s, upd = symnet.scan(lambda: srng.normal((2,), dtype="float64"), n_steps=3)
        return symnet.function([], s, updates=upd, mode=PY)()
    a, b = run(), run()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])  # a fresh draw each step


def test_strict_is_about_shared_variables_only():
    # A free symbolic variable of the step is passed implicitly, strict or not.
    k = T.dscalar("k")
    h0 = T.dvector("h0")
    out, _ = symnet.scan(lambda h: h * k, outputs_info=h0, n_steps=2, strict=True)
    got = symnet.function([h0, k], out, mode=PY)(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_allclose(got, [[3.0, 6.0], [9.0, 18.0]])


@pytest.mark.parametrize("mode", [PY, "numba"])
def test_step_gets_the_outer_non_sequences(mode):
    # Theano's tutorial computes a Jacobian and a Hessian this way: the step
    # takes grad(y[i], x) where y was built from x outside the step, so the
    # step must be called with the outer variables, not fresh placeholders.
    x = T.dvector("x")
    y = x ** 3
    J, upd = symnet.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                         non_sequences=[y, x])
    gy = T.grad(y.sum(), x)
    H, _ = symnet.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]),
                       non_sequences=[gy, x])
    assert not upd
    xv = np.array([1.0, -2.0, 0.5])
    j, h = symnet.function([x], [J, H], mode=mode)(xv)
    np.testing.assert_allclose(j, np.diag(3 * xv ** 2))
    np.testing.assert_allclose(h, np.diag(6 * xv))


def test_a_draw_passed_as_non_sequence_is_drawn_once_per_call():
    # The step reads the draw, not the stream behind it: one draw for all
    # steps, and the stream advances once per call, not once per step.
    srng = RandomStreams(seed=5)
    u = srng.uniform((2,), dtype="float64")
    out, upd = symnet.scan(lambda k, u: u * k, sequences=T.arange(1, 4, dtype="float64"),
                           non_sequences=[u])
    assert not upd
    got = symnet.function([], out, mode=PY)()
    np.testing.assert_allclose(got, np.outer([1.0, 2.0, 3.0], got[0]))


# -- sequence taps, cut as Theano cuts them ------------------------------------------

@pytest.mark.parametrize("taps, want", [
    ([-1], [0., 1., 2., 3.]),              # as if tap 0 were used: 4 steps, x[t-1]
    ([-2, -1], [0., 1., 2.]),              # returns x[t-2]
    ([1], [1., 2., 3., 4.]),               # x[t+1] at step 0 is x[1]
    (-1, [0., 1., 2., 3.]),                # one tap as a plain int
])
def test_sequence_taps_cut_as_if_tap_zero_were_used(taps, want):
    x = T.dvector('x')
    y, _ = symnet.scan(lambda *a: a[0], sequences=dict(input=x, taps=taps))
    got = symnet.function([x], y, mode=PY)(np.arange(5.0))
    np.testing.assert_array_equal(got, want)


def test_int_tap_of_an_output_and_repeated_taps():
    u, x0 = T.dvectors('u', 'x0')
    out, _ = symnet.scan(lambda u_tm2, x_tm1, x_tm2: u_tm2 + 10 * x_tm1 + 100 * x_tm2,
                         sequences=dict(input=u, taps=-2),
                         outputs_info=dict(initial=x0, taps=[-1, -2]))
    vu, vx0 = np.array([1., 2., 3., 4.]), np.array([5., 6.])
    got = symnet.function([u, x0], out, mode=PY)(vu, vx0)
    want = [vu[0] + 10 * vx0[1] + 100 * vx0[0]]
    want.append(vu[1] + 10 * want[0] + 100 * vx0[1])
    np.testing.assert_allclose(got, want)
    with pytest.raises(ValueError, match="repeat a tap"):
        symnet.scan(lambda a, b: a, sequences=x0, outputs_info=dict(initial=u, taps=[-1, -1]))


@pytest.mark.parametrize("order", ["outputs_first", "updates_first"])
def test_step_returns_outputs_and_a_list_of_update_pairs(order):
    w = symnet.shared(np.float64(1.0), name='w')
    x = T.dvector('x')

    def step(v):
        outs, upd = [v * w], [(w, w + 1)]
        return (outs, upd) if order == "outputs_first" else (upd, outs)
    y, updates = symnet.scan(step, sequences=x)
    assert list(updates) == [w]
    got = symnet.function([x], y, updates=updates, mode=PY)(np.array([1., 1., 1.]))
    np.testing.assert_allclose(got, [1., 2., 3.])
    assert float(w.get_value()) == 4.0


def test_rop_through_scan_matches_finite_differences():
    # Rop's double-vjp differentiates the loop's gradient, whose copies of
    # the forward Scan share its step graph: scan_merge must give them
    # placeholders of their own (it listed one twice before)
    rng = np.random.RandomState(3)
    u, W, eu = T.dmatrix('u'), T.dmatrix('W'), T.dmatrix('eu')
    h0 = T.dvector('h0')
    o, _ = symnet.scan(lambda u_t, h, W: T.tanh(T.dot(W, u_t + h)), sequences=u,
                       outputs_info=h0, non_sequences=W)
    eh, eW = T.dvector('eh'), T.dmatrix('eW')
    rops = [symnet.gradient.Rop(o[-1], wrt, e) for wrt, e in [(u, eu), (h0, eh), (W, eW)]]
    f = symnet.function([u, h0, W, eu, eh, eW], rops, mode=PY)
    fo = symnet.function([u, h0, W], o[-1], mode=PY)
    vals = [rng.uniform(size=s) for s in [(6, 3), (3,), (3, 3)]]
    evs = [rng.uniform(size=v.shape) for v in vals]
    got = f(*vals, *evs)
    eps = 1e-6
    for k in range(3):
        hi = [v + eps * evs[k] if i == k else v for i, v in enumerate(vals)]
        lo = [v - eps * evs[k] if i == k else v for i, v in enumerate(vals)]
        want = (fo(*hi) - fo(*lo)) / (2 * eps)
        np.testing.assert_allclose(got[k], want, rtol=1e-5, atol=1e-8)


def test_scan_over_gradients_of_a_scan():
    # Theano's test_rop reference: a loop whose step takes grad(o[i], u) of
    # a forward loop; the step's graph holds copies of that loop sharing its
    # placeholders, which scan_merge joins (it listed one twice before)
    rng = np.random.RandomState(4)
    u = T.specify_shape(T.dmatrix('u'), (5, 3))
    h0 = T.specify_shape(T.dvector('h0'), (3,))
    W = T.specify_shape(T.dmatrix('W'), (3, 3))
    eu = T.dmatrix('eu')
    o, _ = symnet.scan(lambda u_t, h, W: T.tanh(T.dot(W, u_t + h)), sequences=u,
                       outputs_info=h0, non_sequences=W, name='rnn_fn')
    o = o[-1]
    jv, _ = symnet.scan(lambda i, o, u, h0, W, eu: (symnet.grad(o[i], u) * eu).sum(),
                        sequences=T.arange(o.shape[0]), non_sequences=[o, u, h0, W, eu])
    rop = symnet.gradient.Rop(o, u, eu)
    f = symnet.function([u.owner.inputs[0], h0.owner.inputs[0], W.owner.inputs[0], eu],
                        [jv, rop], mode=PY, on_unused_input='ignore')
    vals = [rng.uniform(size=s) for s in [(5, 3), (3,), (3, 3), (5, 3)]]
    got_jv, got_rop = f(*vals)
    np.testing.assert_allclose(got_jv, got_rop, rtol=1e-10)


def test_test_values_flow_through_scan_and_its_gradient():
    # with compute_test_value on, the step function is built on the step's
    # values (taps, states, non-sequences, shared), and so are the loop's
    # outputs and gradient; a shape error in the step shows at build time
    w = symnet.shared(np.array([[1.0, 2.0], [3.0, 4.0]]), name='w')
    with symnet.change_flags(compute_test_value='raise'):
        x, h0, b = T.dmatrix('x'), T.dvector('h0'), T.dvector('b')
        x.tag.test_value = np.arange(8.0).reshape(4, 2)
        h0.tag.test_value = np.array([0.5, -0.5])
        b.tag.test_value = np.array([1.0, 2.0])
        seen = {}

        def step(x_tm1, x_t, h, b):
            seen['x_tm1'] = x_tm1.tag.test_value.copy()
            return T.tanh(T.dot(h, w) + x_t - x_tm1 + b)
        hs, _ = symnet.scan(step, sequences=dict(input=x, taps=[-1, 0]), outputs_info=h0,
                            non_sequences=b)
        np.testing.assert_array_equal(seen['x_tm1'], [0.0, 1.0])
        h, want = np.array([0.5, -0.5]), []
        xv = np.arange(8.0).reshape(4, 2)
        for t in range(1, 4):
            h = np.tanh(h @ w.get_value() + xv[t] - xv[t - 1] + np.array([1.0, 2.0]))
            want.append(h)
        np.testing.assert_allclose(hs.tag.test_value, want)
        g = symnet.grad(hs.sum(), [x, w])
        assert g[0].tag.test_value.shape == (4, 2) and g[1].tag.test_value.shape == (2, 2)
        with pytest.raises(Exception, match="shape|align|broadcast"):
            symnet.scan(lambda x_t, h: T.dot(x_t, T.ones((3, 3))) + h, sequences=x,
                        outputs_info=h0)
    f = symnet.function([x, h0, b], g, mode=PY)
    got = f(xv, np.array([0.5, -0.5]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(got[0], g[0].tag.test_value)
