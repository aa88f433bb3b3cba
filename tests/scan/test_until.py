"""scan with until (Theano's while loop): outputs cut after the first true
condition, states and shared updates as of that step, on every backend."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.scan import scan, until

MODES = ["py", "numba"]


def _powers(limit_value, n_steps, mode):
    limit = T.dscalar("limit")
    out, upd = scan(lambda prev, lim: (prev * 2, until(prev * 2 > lim)),
                    outputs_info=T.constant(1.0, dtype="float64"), non_sequences=limit,
                    n_steps=n_steps)
    assert not upd
    return symnet.function([limit], out, mode=mode)(limit_value)


@pytest.mark.parametrize("mode", MODES)
def test_stops_after_the_first_true_condition(mode):
    np.testing.assert_array_equal(_powers(45.0, 1024, mode), [2, 4, 8, 16, 32, 64])  # Theano's doc
    np.testing.assert_array_equal(_powers(0.5, 10, mode), [2.0])      # true at the first step
    np.testing.assert_array_equal(_powers(1e9, 4, mode), [2, 4, 8, 16])  # never true: all steps


@pytest.mark.parametrize("mode", MODES)
def test_over_a_sequence_with_updates_and_two_outputs(mode):
    x = T.dvector("x")
    count = symnet.shared(np.int64(0), name="count")

    def step(v, acc):
        new = acc + v
        return [new, v * 10], {count: count + 1}, until(new >= 6)
    (acc, tens), upd = scan(step, sequences=x,
                            outputs_info=[T.constant(0.0, dtype="float64"), None])
    f = symnet.function([x], [acc, tens], updates=upd, mode=mode)
    a, t = f(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(a, [1, 3, 6])
    np.testing.assert_array_equal(t, [10, 20, 30])
    assert int(count.get_value()) == 3          # the update ran for the steps run only
    a, _ = f(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(a, [1, 2])
    assert int(count.get_value()) == 5


@pytest.mark.parametrize("mode", MODES)
def test_gradient_flows_through_the_steps_run(mode):
    a = T.dscalar("a")
    out, _ = scan(lambda prev, a: (prev * a, until(prev * a > 10.0)),
                  outputs_info=T.constant(1.0, dtype="float64"), non_sequences=a, n_steps=20)
    f = symnet.function([a], [out, symnet.grad(out.sum(), a)], mode=mode)
    vals, g = f(3.0)
    np.testing.assert_allclose(vals, [3.0, 9.0, 27.0])
    np.testing.assert_allclose(g, 1 + 2 * 3.0 + 3 * 9.0)   # d/da (a + a^2 + a^3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("truncate", [1, 3, 7, 20])
def test_truncate_gradient_counts_back_from_the_last_step_run(mode, truncate):
    # 15 steps requested, 7 run (x = 0..6, stop once x > 5); the gradient of
    # sum(x**2) reaches the last `truncate` of the 7, as in Theano
    x, u = T.dvector("x"), T.lscalar("u")
    r, _ = scan(lambda x, u: (x * x, until(x > u)), sequences=x, non_sequences=u,
                truncate_gradient=truncate)
    f = symnet.function([x, u], [r, symnet.grad(r.sum(), x)], mode=mode)
    seq = np.arange(15.0)
    out, g = f(seq, 5)
    np.testing.assert_allclose(out, seq[:7] ** 2)
    want = 2 * seq * (np.arange(15) < 7) * (np.arange(15) >= 7 - truncate)
    np.testing.assert_allclose(g, want)


@pytest.mark.parametrize("mode", MODES)
def test_truncate_gradient_with_until_and_sequence_taps(mode):
    x, u = T.dvector("x"), T.lscalar("u")
    r, _ = scan(lambda a, b, u: (a * b, until(b > u)), sequences=dict(input=x, taps=[-2, 0]),
                non_sequences=u, truncate_gradient=3)
    g = symnet.function([x, u], symnet.grad(r.sum(), x), mode=mode)(np.arange(15.0), 6)
    # steps t = 2..7 run (b = x[t] stops at 7); the last three, t = 5, 6, 7,
    # send x[t-2] * x[t] back to x[t-2] and x[t]
    np.testing.assert_allclose(g, [0, 0, 0, 5, 6, 10, 4, 5, 0, 0, 0, 0, 0, 0, 0])


def test_errors():
    with pytest.raises(TypeError, match=r"until: the condition must be a scalar"):
        until(T.dvector("v") > 0)
    with pytest.raises(TypeError, match=r"more than one until"):
        scan(lambda p: (p + 1, until(p > 1), until(p > 2)),
             outputs_info=T.constant(0.0, dtype="float64"), n_steps=3)
    with pytest.raises(NotImplementedError, match=r"taps \[-2\] without -1"):
        scan(lambda p: (p + 1, until(p > 1)),
             outputs_info={"initial": T.dvector("x0"), "taps": [-2]}, n_steps=3)
