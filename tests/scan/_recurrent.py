"""A Lasagne recurrent layer's loss and parameter gradients, for the scan
rewrite tests that compare a graph with and without one rewrite."""
import numpy as np

import symnet
import symnet.tensor as T

KINDS = ["lstm", "lstm_masked_backwards", "lstm_truncated", "gru"]


def layer_case(kind, hidden, rng):
    """(inputs, [loss, *grads], argument values) for ``kind`` (one of KINDS):
    batch 3, 5 steps, 4 inputs; a mask of lengths 5, 3, 4 where masked."""
    ins, loss, params, args = layer_loss(kind, hidden, rng)
    return ins, [loss] + symnet.grad(loss, params), args


def layer_loss(kind, hidden, rng):
    """(inputs, loss, trainable params, argument values): ``layer_case``
    before the gradients, for tests that take them more than once."""
    from symnet.layers import GRULayer, InputLayer, LSTMLayer, get_all_params, get_output
    l_in, l_mask = InputLayer((3, 5, 4)), InputLayer((3, 5))
    opts = {}
    if kind in ("lstm_masked_backwards", "gru"):
        opts["mask_input"] = l_mask
    if kind == "lstm_masked_backwards":
        opts["backwards"] = True
    if kind == "lstm_truncated":
        opts["gradient_steps"] = 2
    net = (GRULayer if kind == "gru" else LSTMLayer)(l_in, hidden, **opts)
    loss = T.sum(get_output(net)[:, -1] ** 2)
    ins = [l_in.input_var] + ([l_mask.input_var] if "mask_input" in opts else [])
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = (np.arange(5)[None, :] < np.array([5, 3, 4])[:, None]).astype("float32")
    return ins, loss, get_all_params(net, trainable=True), \
        [x] + ([mask] if "mask_input" in opts else [])


def assert_same(f, ref, args, rtol, atol):
    """``f`` and ``ref`` give the same shapes, dtypes and values on ``args``."""
    for got, want in zip(f(*args), ref(*args)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def with_and_without(kind, mode, switch_off, seed):
    """(f, ref, args): ``kind``'s loss and gradients compiled in ``mode``,
    then again, from the same layer, after ``switch_off()`` (a change to how
    the gradient is built, switched off for ``ref``)."""
    from symnet.compile.mode import Mode
    ins, loss, params, args = layer_loss(kind, 6, np.random.default_rng(seed))
    f = symnet.function(ins, [loss] + symnet.grad(loss, params), mode=Mode(mode))
    switch_off()
    ref = symnet.function(ins, [loss] + symnet.grad(loss, params), mode=Mode(mode))
    return f, ref, args
