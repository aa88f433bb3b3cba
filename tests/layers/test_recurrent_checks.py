"""What CustomRecurrentLayer and the other recurrent layers accept and
refuse at construction, as Lasagne does: maps of any depth, one input per
map, batch sizes consistent with precompute_input, no truncated gradient
in an unrolled loop, distinct parameter names."""
import numpy as np
import pytest

import symnet
from symnet.layers import (ConcatLayer, CustomRecurrentLayer, DenseLayer, InputLayer,
                           NonlinearityLayer, RecurrentLayer, LSTMLayer, GRULayer, get_output)

B, S, F, U = 2, 3, 4, 5


def deep_map(n_in, n_out, hidden=7, batch=None):
    """Two dense layers n_in -> hidden -> n_out on one InputLayer."""
    l = DenseLayer(InputLayer((batch, n_in)), hidden, nonlinearity=None)
    return DenseLayer(l, n_out, nonlinearity=None)


def test_maps_of_any_depth():
    l_in = InputLayer((B, S, F))
    ih, hh = deep_map(F, U), deep_map(U, U, hidden=9)
    l = CustomRecurrentLayer(l_in, ih, hh, nonlinearity=None)
    assert l.output_shape == (B, S, U)
    x = np.random.RandomState(0).randn(B, S, F).astype("float32")
    out = symnet.function([l_in.input_var], get_output(l), mode="py")(x)

    def apply(net, v):
        W0, b0 = net.input_layer.W.get_value(), net.input_layer.b.get_value()
        return (v @ W0 + b0) @ net.W.get_value() + net.b.get_value()
    h = np.zeros((B, U), "float32")
    for t in range(S):
        h = apply(ih, x[:, t]) + apply(hh, h)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-4, atol=1e-5)


def test_hidden_to_hidden_must_keep_its_shape():
    l_in = InputLayer((B, S, F))
    with pytest.raises(ValueError, match=r"hidden_to_hidden must map its input shape to "
                                         r"itself \(past the batch axis\), got \(None, 6\) "
                                         r"-> \(None, 5\)"):
        CustomRecurrentLayer(l_in, deep_map(F, U), deep_map(U + 1, U))
    with pytest.raises(ValueError, match="must match past the batch axis"):
        CustomRecurrentLayer(l_in, deep_map(F, U + 1), deep_map(U, U))


def test_each_map_has_exactly_one_input_layer():
    l_in = InputLayer((B, S, F))
    two = ConcatLayer([InputLayer((None, U)), InputLayer((None, U))])
    bad_hh = DenseLayer(two, U)
    with pytest.raises(ValueError, match="hidden_to_hidden must have exactly one InputLayer"
                                         r".*got 2"):
        CustomRecurrentLayer(l_in, deep_map(F, U), bad_hh)
    bad_ih = DenseLayer(ConcatLayer([InputLayer((None, 2)), InputLayer((None, 2))]), U)
    with pytest.raises(ValueError, match="input_to_hidden must have exactly one InputLayer"):
        CustomRecurrentLayer(l_in, bad_ih, deep_map(U, U))


def test_batch_size_of_input_to_hidden():
    l_in = InputLayer((B, S, F))
    hh = deep_map(U, U)
    # precompute_input=True: input_to_hidden sees batch * steps rows at once
    CustomRecurrentLayer(l_in, deep_map(F, U, batch=B * S), hh, precompute_input=True)
    with pytest.raises(ValueError, match=r"must have None or 6 = batch_size \* "
                                         r"sequence_length \(precompute_input=True\)"):
        CustomRecurrentLayer(l_in, deep_map(F, U, batch=B), hh, precompute_input=True)
    CustomRecurrentLayer(l_in, deep_map(F, U, batch=B), hh, precompute_input=False)
    with pytest.raises(ValueError, match=r"must have None or 2 = batch_size "
                                         r"\(precompute_input=False\)"):
        CustomRecurrentLayer(l_in, deep_map(F, U, batch=B + 1), hh, precompute_input=False)


@pytest.mark.parametrize("cls", [RecurrentLayer, LSTMLayer, GRULayer])
def test_gradient_steps_cannot_truncate_an_unrolled_loop(cls):
    with pytest.raises(ValueError, match="gradient_steps=3 cannot be used with "
                                         "unroll_scan=True"):
        cls(InputLayer((B, S, F)), U, gradient_steps=3, unroll_scan=True)
    cls(InputLayer((B, S, F)), U, gradient_steps=-1, unroll_scan=True)


def test_recurrent_layer_parameter_names_are_distinct():
    names = [p.name for p in RecurrentLayer(InputLayer((B, S, F)), U).get_params()]
    assert names == ["hid_init", "input_to_hidden.W", "input_to_hidden.b",
                     "hidden_to_hidden.W"]
    named = RecurrentLayer(InputLayer((B, S, F)), U, name="rnn", learn_init=True)
    assert [p.name for p in named.get_params()] == [
        "rnn.hid_init", "rnn.input_to_hidden.W", "rnn.input_to_hidden.b",
        "rnn.hidden_to_hidden.W"]


def test_stub_incoming_for_recurrent_layer():
    class Stub:
        output_shape = (B, S, F)
    l = RecurrentLayer(Stub(), U)
    assert l.output_shape == (B, S, U)
    assert isinstance(NonlinearityLayer(l).input_layer, RecurrentLayer)
