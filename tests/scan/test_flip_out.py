"""``scan_flip_smaller``: ``dot(M, reshape(G[::-1]))`` (BPTT's reversed
outputs into the input-weight gradient) flips ``M``'s column blocks instead
of copying the reversed ``G``; same values on both backends."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.ops.indexing import Subtensor
from symnet.tensor.ops.shape import Reshape


def _reversed_reshapes(f):
    """Reshapes whose input is a reversed view (numpy copies those)."""
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Reshape)
            and n.inputs[0].owner is not None and isinstance(n.inputs[0].owner.op, Subtensor)
            and n.inputs[0].owner.op.idx_list[0] == slice(None, None, -1)]


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_the_reversal_moves_to_the_smaller_operand(mode):
    g = T.TensorType("float64", shape=(None, None, 6))("g")
    m = T.dmatrix("m")
    r = T.reshape(g[::-1], (g.shape[0] * g.shape[1], 6))
    f = symnet.function([m, g], T.dot(m, r), mode=mode)
    assert _reversed_reshapes(f) == []
    assert f.rewrite_stats.get("scan_flip_smaller", 0) == 1
    rng = np.random.default_rng(0)
    mv, gv = rng.normal(size=(3, 4 * 2)), rng.normal(size=(4, 2, 6))
    np.testing.assert_allclose(f(mv, gv), mv @ gv[::-1].reshape(8, 6), rtol=1e-12)
    with pytest.raises(ValueError):        # M's columns must still match the rows
        f(rng.normal(size=(3, 7)), gv)


def test_left_alone_where_the_reshape_may_not_merge_the_first_axes_or_m_is_bigger():
    g = T.TensorType("float64", shape=(None, None, 6))("g")
    m = T.dmatrix("m")
    s = T.lvector("s")
    other = T.dot(m, T.reshape(g[::-1], (s[0], s[1]), ndim=2))   # last size unknown
    big = T.dot(T.TensorType("float64", shape=(9, None))("mb"),
                T.reshape(g[::-1], (g.shape[0] * g.shape[1], 6)))
    for out, ins in ((other, [m, g, s]), (big, [big.owner.inputs[0], g])):
        f = symnet.function(ins, out, mode="py")
        assert len(_reversed_reshapes(f)) == 1
        assert f.rewrite_stats.get("scan_flip_smaller", 0) == 0


def test_w8_like_lstm_gradient_has_no_reversed_reshape_and_matches_without_the_rewrite():
    from symnet.compile.mode import Mode
    from symnet.layers import InputLayer, LSTMLayer, get_all_params, get_output
    l_in = InputLayer((3, 5, 4))
    layer = LSTMLayer(l_in, 6, only_return_final=True)
    loss = T.sum(get_output(layer) ** 2)
    params = get_all_params(layer, trainable=True)
    grads = symnet.grad(loss, params)
    f = symnet.function([l_in.input_var], grads, mode="numba")
    assert f.rewrite_stats.get("scan_flip_smaller", 0) >= 1
    assert _reversed_reshapes(f) == []
    x = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    want = symnet.function([l_in.input_var], grads,
                           mode=Mode("py", exclude=("scan_flip_smaller",)))(x)
    for a, b in zip(f(x), want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
