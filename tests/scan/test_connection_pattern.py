"""Scan's connection pattern follows its step and recurrence: the gradient
to an initial state no used output depends on is disconnected (Theano's
test_grad_connectivity_matrix), the others flow as before; ifelse's
branches likewise."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import DisconnectedInputError


def three_states():
    def step(x_tm1, y_tm1, z_tm1):
        return x_tm1 ** 2, y_tm1, x_tm1 + 1
    x0, y0, z0 = T.dvector("x0"), T.dvector("y0"), T.dvector("z0")
    (x, y, z), _ = symnet.scan(step, outputs_info=[x0, y0, z0], n_steps=4)
    return (x0, y0, z0), (x, y, z)


def test_pattern_follows_step_and_recurrence():
    (x0, y0, z0), (x, y, z) = three_states()
    node = x.owner
    # inputs: n_steps, the three initial buffers; z reads x's state, so x0
    assert node.op.connection_pattern(node) == [
        [False, False, False], [True, False, True], [False, True, False],
        [False, False, False]]


def test_disconnected_initial_states_raise_and_connected_ones_flow():
    (x0, y0, z0), (x, y, z) = three_states()
    cost = (x + y + z).sum()
    with pytest.raises(DisconnectedInputError, match="z0 is not part of"):
        symnet.grad(cost, z0)
    with pytest.raises(DisconnectedInputError, match="y0 is not part of"):
        symnet.grad(x.sum(), y0)
    assert symnet.grad(x.sum(), y0, disconnected_inputs="ignore") is not None
    gx, gy = symnet.grad(cost, [x0, y0])
    # (the forward loop still needs z0's value)
    f = symnet.function([x0, y0, z0], [gx, gy], mode="py")
    a = np.array([0.5, -0.3])
    got_x, got_y = f(a, np.zeros(2), np.zeros(2))
    # x_k = a ** (2 ** k), z_k = x_{k-1} + 1: d/da of sum_k x_k + sum_{k<4} x_k
    want = sum(2 ** k * a ** (2 ** k - 1) for k in range(1, 5)) + \
        sum(2 ** k * a ** (2 ** k - 1) for k in range(0, 4))
    np.testing.assert_allclose(got_x, want, rtol=1e-12)
    np.testing.assert_allclose(got_y, [4.0, 4.0])


def test_ifelse_branch_outputs_are_connected_to_their_own_inputs():
    from symnet.tensor.ops.ifelse import ifelse
    c, a, b, a2, b2 = T.bscalar("c"), T.dscalar("a"), T.dscalar("b"), T.dscalar("a2"), \
        T.dscalar("b2")
    o0, o1 = ifelse(c, [a, b], [a2, b2])
    with pytest.raises(DisconnectedInputError, match="b is not part of"):
        symnet.grad(o0 * 2, b)
    g = symnet.function([c, a, b, a2, b2], symnet.grad(o0 * 2, [a, a2]), mode="py")
    assert [float(v) for v in g(1, 0.0, 0.0, 0.0, 0.0)] == [2.0, 0.0]
