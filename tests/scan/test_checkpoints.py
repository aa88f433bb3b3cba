"""scan_checkpoints: scan's results and gradients, Theano's restrictions."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_same_results_and_gradient_as_scan(mode):
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    h0 = T.dvector("h0")

    def step(xt, h, w):
        return T.tanh(T.dot(h, w) + xt)
    ck, _ = symnet.scan_checkpoints(step, sequences=[x], outputs_info=[h0],
                                    non_sequences=[w], save_every_N=3)
    plain, _ = symnet.scan(step, sequences=[x], outputs_info=[h0], non_sequences=[w])
    cost_ck, cost = (ck ** 2).sum(), (plain ** 2).sum()
    f = symnet.function([x, w, h0], [ck, symnet.grad(cost_ck, w)], mode=mode)
    g = symnet.function([x, w, h0], [plain, symnet.grad(cost, w)], mode="py")
    rng = np.random.default_rng(0)
    args = rng.normal(size=(7, 4)), rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)
    for a, b in zip(f(*args), g(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_theanos_restrictions():
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    with pytest.raises(ValueError, match="save_every_N must be a positive int"):
        symnet.scan_checkpoints(lambda a, h: a + h, [x], [h0], save_every_N=0)
    with pytest.raises(ValueError, match="sequences are read at tap 0 only"):
        symnet.scan_checkpoints(lambda a, b, h: a + h, [dict(input=x, taps=[-1, 0])], [h0])
    with pytest.raises(ValueError, match="fed back at tap -1 only"):
        symnet.scan_checkpoints(lambda a, h: a + h, [x], [dict(initial=x, taps=[-2])])
